import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { alphabetOf, analyseSms, decodeSms, encodeSms, isGsm7, MAX_PARTS_LIMIT, SMS_LIMITS, SmsTooLongError, type DecodedSms } from "./encoding.ts";

const ARABIC_WORD = "معاملة"; // 6 letters
const arabic = (n: number): string => {
  let s = "";
  while (s.length < n) s += ARABIC_WORD + " ";
  return s.slice(0, n);
};
const EMOJI = "😀"; // one code point, two UTF-16 units

/** Decodes every part and joins them in seq order, checking the UDH on the way. */
function reassemble(parts: Buffer[], dataCoding: number, reference: number): string {
  const decoded: DecodedSms[] = parts.map((p) => decodeSms(p, dataCoding, parts.length > 1));
  if (parts.length > 1) {
    decoded.forEach((d, i) => assert.deepEqual(d.udh, { reference, total: parts.length, seq: i + 1, referenceBits: 8 }));
  } else {
    assert.equal(decoded[0]!.udh, undefined);
  }
  return decoded.map((d) => d.text).join("");
}

describe("analyseSms", () => {
  const cases: Array<{ name: string; text: string; expect: ReturnType<typeof analyseSms> }> = [
    { name: "empty", text: "", expect: { encoding: "GSM7", characters: 0, units: 0, partCount: 1 } },
    { name: "160 GSM chars fit one part", text: "a".repeat(160), expect: { encoding: "GSM7", characters: 160, units: 160, partCount: 1 } },
    { name: "161 GSM chars need two", text: "a".repeat(161), expect: { encoding: "GSM7", characters: 161, units: 161, partCount: 2 } },
    { name: "306 GSM chars in two parts", text: "b".repeat(306), expect: { encoding: "GSM7", characters: 306, units: 306, partCount: 2 } },
    { name: "307 GSM chars in three", text: "b".repeat(307), expect: { encoding: "GSM7", characters: 307, units: 307, partCount: 3 } },
    { name: "extension chars count two", text: "€[]{}", expect: { encoding: "GSM7", characters: 5, units: 10, partCount: 1 } },
    { name: "80 euro signs = 160 septets", text: "€".repeat(80), expect: { encoding: "GSM7", characters: 80, units: 160, partCount: 1 } },
    { name: "159 + one extension char = 161", text: "a".repeat(159) + "^", expect: { encoding: "GSM7", characters: 160, units: 161, partCount: 2 } },
    {
      name: "escape pair never split (152 + € + 1)",
      // 152 septets, then € would straddle 153/154: it moves to part 2.
      text: "a".repeat(152) + "€" + "a".repeat(10),
      expect: { encoding: "GSM7", characters: 163, units: 164, partCount: 2 },
    },
    {
      name: "escape pair pushes a third part",
      // 152 + €(2) -> part 1 holds 152; part 2 gets € + 151 = 153; one 'a' left.
      text: "a".repeat(152) + "€" + "a".repeat(152),
      expect: { encoding: "GSM7", characters: 305, units: 306, partCount: 3 },
    },
    { name: "Latin accents in GSM table", text: "Café à Zürich ñ", expect: { encoding: "GSM7", characters: 15, units: 15, partCount: 1 } },
    { name: "accent outside GSM forces UCS2", text: "ê", expect: { encoding: "UCS2", characters: 1, units: 1, partCount: 1 } },
    { name: "Arabic 70 in one part", text: arabic(70), expect: { encoding: "UCS2", characters: 70, units: 70, partCount: 1 } },
    { name: "Arabic 71 in two parts", text: arabic(71), expect: { encoding: "UCS2", characters: 71, units: 71, partCount: 2 } },
    { name: "Arabic 134 in two parts", text: arabic(134), expect: { encoding: "UCS2", characters: 134, units: 134, partCount: 2 } },
    { name: "Arabic 135 in three parts", text: arabic(135), expect: { encoding: "UCS2", characters: 135, units: 135, partCount: 3 } },
    { name: "Arabic 300 in five parts", text: arabic(300), expect: { encoding: "UCS2", characters: 300, units: 300, partCount: 5 } },
    { name: "Arabic-Indic digits are UCS2", text: "١٢٣", expect: { encoding: "UCS2", characters: 3, units: 3, partCount: 1 } },
    { name: "emoji counts two units", text: EMOJI, expect: { encoding: "UCS2", characters: 1, units: 2, partCount: 1 } },
    { name: "35 emoji = 70 units, one part", text: EMOJI.repeat(35), expect: { encoding: "UCS2", characters: 35, units: 70, partCount: 1 } },
    {
      name: "surrogate pair never split (66 + emoji + 1)",
      text: "ع".repeat(66) + EMOJI + "ع",
      expect: { encoding: "UCS2", characters: 68, units: 69, partCount: 1 },
    },
    {
      name: "surrogate pair at boundary moves to next part",
      text: "ع".repeat(66) + EMOJI + "ع".repeat(10),
      expect: { encoding: "UCS2", characters: 77, units: 78, partCount: 2 },
    },
  ];
  for (const c of cases) {
    it(c.name, () => assert.deepEqual(analyseSms(c.text), c.expect));
  }

  it("ESC itself is not a GSM character", () => assert.equal(isGsm7("\u001b"), false));
});

describe("encodeSms / decodeSms round trip", () => {
  const cases: Array<{ name: string; text: string; encoding: "GSM7" | "UCS2"; dataCoding: 0 | 8; parts: number; sizes?: number[] }> = [
    { name: "short GSM", text: "Hello @ $ £ _ !", encoding: "GSM7", dataCoding: 0, parts: 1 },
    { name: "GSM 160", text: "x".repeat(160), encoding: "GSM7", dataCoding: 0, parts: 1, sizes: [160] },
    { name: "GSM 161", text: "x".repeat(161), encoding: "GSM7", dataCoding: 0, parts: 2, sizes: [6 + 153, 6 + 8] },
    { name: "GSM extension", text: "Price: 5€ [ok] {x} ~|^\\", encoding: "GSM7", dataCoding: 0, parts: 1 },
    { name: "GSM escape at boundary", text: "a".repeat(152) + "€" + "a".repeat(10), encoding: "GSM7", dataCoding: 0, parts: 2, sizes: [6 + 152, 6 + 12] },
    { name: "Arabic 70", text: arabic(70), encoding: "UCS2", dataCoding: 8, parts: 1, sizes: [140] },
    { name: "Arabic 71", text: arabic(71), encoding: "UCS2", dataCoding: 8, parts: 2, sizes: [6 + 134, 6 + 8] },
    { name: "Arabic 300", text: arabic(300), encoding: "UCS2", dataCoding: 8, parts: 5, sizes: [140, 140, 140, 140, 6 + 32 * 2] },
    {
      name: "emoji at boundary",
      text: "ع".repeat(66) + EMOJI + "ع".repeat(10),
      encoding: "UCS2",
      dataCoding: 8,
      parts: 2,
      sizes: [6 + 66 * 2, 6 + 12 * 2],
    },
    { name: "mixed Arabic/Latin", text: "Transaction 123 معاملة", encoding: "UCS2", dataCoding: 8, parts: 1 },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const ref = 0xa7;
      const sms = encodeSms(c.text, { maxParts: 10, reference: ref });
      assert.equal(sms.encoding, c.encoding);
      assert.equal(sms.dataCoding, c.dataCoding);
      assert.equal(sms.partCount, c.parts);
      assert.equal(sms.parts.length, c.parts);
      if (c.sizes) assert.deepEqual(sms.parts.map((p) => p.length), c.sizes);
      assert.equal(reassemble(sms.parts, sms.dataCoding, ref), c.text);
    });
  }

  it("300-char Arabic text: exactly 5 UCS-2 parts with UDH 05 00 03 ref 05 seq, exact reassembly", () => {
    const text = arabic(300);
    const sms = encodeSms(text, { maxParts: 5, reference: 42 });
    assert.equal(sms.partCount, 5);
    assert.equal(sms.characters, 300);
    sms.parts.forEach((p, i) => {
      assert.deepEqual([...p.subarray(0, 6)], [0x05, 0x00, 0x03, 42, 5, i + 1]);
      assert.ok(p.length - 6 <= 134);
    });
    assert.equal(reassemble(sms.parts, 8, 42), text);
    // The reassembly does not depend on arrival order when sorted by seq.
    const shuffled = [...sms.parts].reverse().map((p) => decodeSms(p, 8, true));
    shuffled.sort((a, b) => a.udh!.seq - b.udh!.seq);
    assert.equal(shuffled.map((d) => d.text).join(""), text);
  });

  it("emoji straddling a boundary stays whole in the next part", () => {
    const text = "ع".repeat(66) + EMOJI + "ع".repeat(10);
    const sms = encodeSms(text, { maxParts: 3, reference: 1 });
    const first = decodeSms(sms.parts[0]!, 8, true).text;
    const second = decodeSms(sms.parts[1]!, 8, true).text;
    assert.equal(first, "ع".repeat(66));
    assert.ok(second.startsWith(EMOJI));
  });

  it("GSM bytes are the unpacked default-alphabet values", () => {
    const sms = encodeSms("@A€", { maxParts: 1, reference: 0 });
    assert.deepEqual([...sms.parts[0]!], [0x00, 0x41, 0x1b, 0x65]);
  });

  it("UCS2 bytes are UTF-16BE", () => {
    const sms = encodeSms("ع😀", { maxParts: 1, reference: 0 });
    assert.deepEqual([...sms.parts[0]!], [0x06, 0x39, 0xd8, 0x3d, 0xde, 0x00]);
  });

  it("throws SmsTooLongError above maxParts", () => {
    assert.throws(
      () => encodeSms(arabic(300), { maxParts: 4, reference: 0 }),
      (e: unknown) => e instanceof SmsTooLongError && e.code === "SMS_TOO_LONG" && e.partCount === 5 && e.maxParts === 4 && !e.retryable,
    );
    assert.doesNotThrow(() => encodeSms(arabic(300), { maxParts: 5, reference: 0 }));
  });

  it("rejects a bad reference or maxParts", () => {
    assert.throws(() => encodeSms("x", { maxParts: 1, reference: 256 }), RangeError);
    assert.throws(() => encodeSms("x", { maxParts: 0, reference: 1 }), RangeError);
  });
});

describe("decodeSms", () => {
  const cases: Array<{ name: string; payload: number[]; dc: number; udhi: boolean; text: string; udh?: object; alphabet?: string }> = [
    {
      name: "16-bit reference IE",
      payload: [0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02, 0x00, 0x48, 0x00, 0x69],
      dc: 8,
      udhi: true,
      text: "Hi",
      udh: { reference: 0x1234, total: 3, seq: 2, referenceBits: 16 },
    },
    {
      name: "other IEs before the concat IE are skipped",
      payload: [0x0b, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0, 0x00, 0x03, 0x07, 0x02, 0x01, 0x41],
      dc: 0,
      udhi: true,
      text: "A",
      udh: { reference: 7, total: 2, seq: 1, referenceBits: 8 },
    },
    { name: "invalid seq 0 ignored", payload: [0x05, 0x00, 0x03, 0x01, 0x02, 0x00, 0x41], dc: 0, udhi: true, text: "A" },
    { name: "GSM escape sequences", payload: [0x1b, 0x65, 0x1b, 0x3c, 0x1b, 0x3e], dc: 0, udhi: false, text: "€[]" },
    { name: "dangling escape dropped", payload: [0x41, 0x1b], dc: 0, udhi: false, text: "A" },
    { name: "IA5 / ASCII", payload: [...Buffer.from("id:1 @")], dc: 1, udhi: false, text: "id:1 @", alphabet: "ASCII" },
    { name: "Latin-1", payload: [0xe9, 0x74, 0xe9], dc: 3, udhi: false, text: "été", alphabet: "LATIN1" },
    { name: "dc 0 with octets above 0x7F read as Latin-1", payload: [0x63, 0x61, 0x66, 0xe9], dc: 0, udhi: false, text: "café", alphabet: "LATIN1" },
    { name: "UCS2 odd trailing byte ignored", payload: [0x06, 0x39, 0x06], dc: 8, udhi: false, text: "ع" },
    { name: "GSM DCS class group 0xF0 = GSM7", payload: [0x00], dc: 0xf0, udhi: false, text: "@", alphabet: "GSM7" },
    { name: "GSM DCS group 0x18 = UCS2", payload: [0x00, 0x41], dc: 0x18, udhi: false, text: "A", alphabet: "UCS2" },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const d = decodeSms(Buffer.from(c.payload), c.dc, c.udhi);
      assert.equal(d.text, c.text);
      assert.deepEqual(d.udh, c.udh);
      if (c.alphabet) assert.equal(d.alphabet, c.alphabet);
    });
  }

  it("data_coding 0 may be configured as Latin-1", () => {
    assert.equal(decodeSms(Buffer.from("@$", "latin1"), 0, false, { defaultAlphabet: "LATIN1" }).text, "@$");
    assert.equal(decodeSms(Buffer.from([0x00, 0x02]), 0, false).text, "@$");
  });

  it("alphabetOf table", () => {
    const table: Array<[number, string]> = [
      [0, "GSM7"], [1, "ASCII"], [2, "BINARY"], [3, "LATIN1"], [4, "BINARY"], [6, "CYRILLIC"], [7, "HEBREW"], [8, "UCS2"],
      [0x11, "GSM7"], [0x15, "BINARY"], [0x19, "UCS2"], [0xf1, "GSM7"], [0xf5, "BINARY"], [0xe0, "UCS2"], [0xc0, "GSM7"],
    ];
    for (const [dc, alphabet] of table) assert.equal(alphabetOf(dc), alphabet, `dc 0x${dc.toString(16)}`);
  });

  it("every GSM basic and extension character round-trips", () => {
    const all =
      "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà\f^{}\\[~]|€";
    assert.equal(isGsm7(all), true);
    const sms = encodeSms(all, { maxParts: 3, reference: 5 });
    assert.equal(sms.encoding, "GSM7");
    assert.equal(reassemble(sms.parts, 0, 5), all);
  });
});

describe("splitting and reassembly (fast-check)", () => {
  const GSM_CHARS = [..."@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCZÄÖÑÜ§¿aqzäöñüà"];
  const EXTENSION = [..."\f^{}\\[~]|€"];
  const OTHERS = [..."معاملةرقم١٢٣ê", EMOJI, "👍🏽", "𝕏"];
  const textOf = (chars: string[]) => fc.array(fc.constantFrom(...chars), { maxLength: 420 }).map((cs) => cs.join(""));
  // GSM-only texts (with extension characters around the 153-septet boundaries) and texts that need UCS-2.
  const texts = fc.oneof(textOf([...GSM_CHARS, ...EXTENSION]), textOf([...GSM_CHARS, ...EXTENSION, ...OTHERS]), textOf(["ع", EMOJI, "a"]));
  const RUNS = { numRuns: 200 };
  const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

  /** Units a part's data holds, and what its first character costs. */
  const unitsOf = (data: Buffer, gsm: boolean) => (gsm ? data.length : data.length / 2);
  const firstCost = (data: Buffer, gsm: boolean) => (gsm ? (data[0] === 0x1b ? 2 : 1) : (data.readUInt16BE(0) & 0xfc00) === 0xd800 ? 2 : 1);

  it("the parts, decoded and joined by seq, give the text back; UDH references consistent", () => {
    fc.assert(
      fc.property(texts, fc.integer({ min: 0, max: 255 }), (text, reference) => {
        const sms = encodeSms(text, { maxParts: MAX_PARTS_LIMIT, reference });
        assert.equal(sms.encoding, isGsm7(text) ? "GSM7" : "UCS2");
        assert.equal(sms.parts.length, sms.partCount);
        assert.equal(reassemble(sms.parts, sms.dataCoding, reference), text);
        // Each part stands alone: no surrogate pair or escape pair cut in two.
        for (const p of sms.parts) assert.doesNotMatch(decodeSms(p, sms.dataCoding, sms.partCount > 1).text, LONE_SURROGATE);
      }),
      RUNS,
    );
  });

  it("each part within its limit, and no fewer parts would do", () => {
    fc.assert(
      fc.property(texts, (text) => {
        const sms = encodeSms(text, { maxParts: MAX_PARTS_LIMIT, reference: 0 });
        const gsm = sms.encoding === "GSM7";
        const limits = SMS_LIMITS[sms.encoding];
        const data = sms.parts.map((p) => (sms.partCount > 1 ? p.subarray(6) : p));
        const units = data.map((d) => unitsOf(d, gsm));
        assert.equal(analyseSms(text).units, units.reduce((a, b) => a + b, 0));
        if (sms.partCount === 1) {
          assert.ok(units[0]! <= limits.single);
          return;
        }
        assert.ok(units.reduce((a, b) => a + b, 0) > limits.single, "would have fitted in one part");
        for (const [i, u] of units.entries()) {
          assert.ok(u <= limits.multi && sms.parts[i]!.length <= 6 + (gsm ? 153 : 134));
          assert.ok(u > 0, "an empty part");
          // Greedy: a part ends only where the next character no longer fits, so no split uses fewer parts.
          if (i + 1 < units.length) assert.ok(u + firstCost(data[i + 1]!, gsm) > limits.multi, `part ${i + 1} ends early`);
        }
        assert.equal(analyseSms(text).partCount, sms.partCount);
      }),
      RUNS,
    );
  });

  it("refused exactly when it needs more parts than allowed", () => {
    fc.assert(
      fc.property(texts, fc.integer({ min: 1, max: 8 }), (text, maxParts) => {
        const needed = analyseSms(text).partCount;
        if (needed > maxParts) assert.throws(() => encodeSms(text, { maxParts, reference: 1 }), SmsTooLongError);
        else assert.equal(encodeSms(text, { maxParts, reference: 1 }).partCount, needed);
      }),
      RUNS,
    );
  });
});

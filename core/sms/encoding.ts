/**
 * SMS text encoding: GSM 03.38 (7-bit default alphabet) or UCS-2, segmentation into
 * concatenated parts with a UDH, and the reverse for what an SMSC hands us.
 *
 * Pure functions, no I/O. Over SMPP with data_coding 0 the GSM alphabet travels
 * UNPACKED (one septet value per octet); the SMSC packs it for the air interface.
 * That is why a concatenated GSM part is 153 septets: 160 minus the 6-octet UDH
 * (48 bits, padded to 49 = 7 septets).
 */

export type SmsEncoding = "GSM7" | "UCS2";

/** Single-part and per-part (concatenated) capacities, in encoding units. */
export const SMS_LIMITS = {
  GSM7: { single: 160, multi: 153 },
  UCS2: { single: 70, multi: 67 },
} as const;

/** The SMPP data_coding we send for each encoding. */
export const DATA_CODING = { GSM7: 0, UCS2: 8 } as const;

/** The hard ceiling of a concatenated message: total and seq are single octets. */
export const MAX_PARTS_LIMIT = 255;

const ESC = 0x1b;

/** GSM 03.38 default alphabet, indexed by septet value (0x1B is the escape, never a character). */
const GSM_BASIC =
  "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u001bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
  "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/** GSM 03.38 extension table: character -> septet sent after ESC. Each costs two septets. */
const GSM_EXTENSION: ReadonlyArray<readonly [string, number]> = [
  ["\f", 0x0a],
  ["^", 0x14],
  ["{", 0x28],
  ["}", 0x29],
  ["\\", 0x2f],
  ["[", 0x3c],
  ["~", 0x3d],
  ["]", 0x3e],
  ["|", 0x40],
  ["€", 0x65],
];

if (GSM_BASIC.length !== 128) throw new Error(`GSM table must have 128 entries, has ${GSM_BASIC.length}`);

const BASIC_ENCODE = new Map<string, number>();
for (let i = 0; i < GSM_BASIC.length; i++) if (i !== ESC) BASIC_ENCODE.set(GSM_BASIC[i]!, i);
const EXT_ENCODE = new Map<string, number>(GSM_EXTENSION);
const EXT_DECODE = new Map<number, string>(GSM_EXTENSION.map(([c, v]) => [v, c]));

/** Septets a character costs in GSM-7: 1, 2 (extension table), or undefined (not GSM). */
function gsmCost(ch: string): 1 | 2 | undefined {
  if (BASIC_ENCODE.has(ch)) return 1;
  if (EXT_ENCODE.has(ch)) return 2;
  return undefined;
}

/** Whether every character of `text` is in the GSM 03.38 default alphabet or its extension table. */
export function isGsm7(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (gsmCost(text[i]!) === undefined) return false;
  return true;
}

export interface SmsAnalysis {
  encoding: SmsEncoding;
  /** Characters as a person counts them (Unicode code points). */
  characters: number;
  /** What the limits count: septets for GSM7 (extension characters count 2), UTF-16 code units for UCS2. */
  units: number;
  partCount: number;
}

interface Segmentation extends SmsAnalysis {
  segments: string[];
}

/**
 * Splits text into the strings each part carries. A part boundary never falls inside
 * a GSM escape pair or a UTF-16 surrogate pair, so a part can hold one unit less than
 * the nominal 153/67; partCount is the real count, not units / perPart.
 */
function segment(text: string): Segmentation {
  const gsm = isGsm7(text);
  const encoding: SmsEncoding = gsm ? "GSM7" : "UCS2";
  const limits = SMS_LIMITS[encoding];
  // Iterating a string yields code points: a surrogate pair stays together.
  const chars = Array.from(text);
  const cost = (ch: string): number => (gsm ? gsmCost(ch)! : ch.length);
  let units = 0;
  for (const ch of chars) units += cost(ch);
  if (units <= limits.single) {
    return { encoding, characters: chars.length, units, partCount: 1, segments: [text] };
  }
  const segments: string[] = [];
  let current = "";
  let currentUnits = 0;
  for (const ch of chars) {
    const c = cost(ch);
    if (currentUnits + c > limits.multi) {
      segments.push(current);
      current = "";
      currentUnits = 0;
    }
    current += ch;
    currentUnits += c;
  }
  if (current) segments.push(current);
  return { encoding, characters: chars.length, units, partCount: segments.length, segments };
}

/**
 * How a text would be sent: encoding, size and number of parts.
 *
 * @example
 *   analyseSms("Hello")        // { encoding: "GSM7", characters: 5, units: 5, partCount: 1 }
 *   analyseSms("مرحبا".repeat(15)) // { encoding: "UCS2", characters: 75, units: 75, partCount: 2 }
 */
export function analyseSms(text: string): SmsAnalysis {
  const { encoding, characters, units, partCount } = segment(text);
  return { encoding, characters, units, partCount };
}

/** Thrown when a text needs more parts than allowed. Not retryable: the text must change. */
export class SmsTooLongError extends Error {
  readonly code = "SMS_TOO_LONG";
  readonly retryable = false;
  constructor(
    readonly partCount: number,
    readonly maxParts: number,
    readonly encoding: SmsEncoding,
  ) {
    super(`SMS needs ${partCount} ${encoding} parts, more than the allowed ${maxParts}`);
    this.name = "SmsTooLongError";
  }
}

export interface EncodedSms {
  encoding: SmsEncoding;
  dataCoding: 0 | 8;
  partCount: number;
  characters: number;
  /** Each the complete short_message of one submit_sm: [UDH] + data. */
  parts: Buffer[];
}

function encodeGsm(text: string): Buffer {
  const out: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const basic = BASIC_ENCODE.get(ch);
    if (basic !== undefined) out.push(basic);
    else out.push(ESC, EXT_ENCODE.get(ch)!);
  }
  return Buffer.from(out);
}

function encodeUcs2(text: string): Buffer {
  // Written unit by unit: a lone surrogate is kept as is rather than replaced.
  const buf = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) buf.writeUInt16BE(text.charCodeAt(i), i * 2);
  return buf;
}

/**
 * Encodes a text into SMPP short_message payloads.
 *
 * Multipart messages carry the 8-bit-reference concatenation UDH `05 00 03 ref total seq`
 * and must be sent with esm_class 0x40 (UDHI). GSM7 data is unpacked septets (data_coding 0),
 * UCS2 is UTF-16BE (data_coding 8).
 *
 * @throws SmsTooLongError when the text needs more than `maxParts` parts.
 * @example
 *   const sms = encodeSms("رقم معاملتك 1234", { maxParts: 5, reference: 17 });
 *   // sms.dataCoding === 8, sms.parts.length === 1
 */
export function encodeSms(text: string, options: { maxParts: number; reference: number }): EncodedSms {
  const { maxParts, reference } = options;
  if (!Number.isInteger(maxParts) || maxParts < 1 || maxParts > MAX_PARTS_LIMIT) {
    throw new RangeError(`maxParts must be an integer 1..${MAX_PARTS_LIMIT}, got ${maxParts}`);
  }
  if (!Number.isInteger(reference) || reference < 0 || reference > 255) {
    throw new RangeError(`reference must be an integer 0..255, got ${reference}`);
  }
  const seg = segment(text);
  if (seg.partCount > maxParts) throw new SmsTooLongError(seg.partCount, maxParts, seg.encoding);
  const encode = seg.encoding === "GSM7" ? encodeGsm : encodeUcs2;
  const total = seg.partCount;
  const parts = seg.segments.map((s, i) => {
    const data = encode(s);
    return total === 1 ? data : Buffer.concat([Buffer.from([0x05, 0x00, 0x03, reference, total, i + 1]), data]);
  });
  return { encoding: seg.encoding, dataCoding: DATA_CODING[seg.encoding], partCount: total, characters: seg.characters, parts };
}

/** Concatenation info from a UDH (IE 0x00, 8-bit reference, or IE 0x08, 16-bit reference). */
export interface ConcatInfo {
  reference: number;
  total: number;
  seq: number;
  referenceBits: 8 | 16;
}

/** How the data of a payload was interpreted. */
export type DecodedAlphabet = "GSM7" | "UCS2" | "LATIN1" | "ASCII" | "BINARY" | "CYRILLIC" | "HEBREW";

export interface DecodedSms {
  text: string;
  /** Present only when the payload had a valid concatenation IE. */
  udh?: ConcatInfo;
  alphabet: DecodedAlphabet;
  /** The raw user data header including its length octet, when hasUdh. */
  udhBytes?: Buffer;
}

export interface DecodeOptions {
  /**
   * What data_coding 0 ("SMSC default alphabet") means on this link. Most SMSCs use
   * GSM 03.38 unpacked; some use Latin-1. Default "GSM7". Either way, a payload with
   * an octet above 0x7F cannot be unpacked GSM and is read as Latin-1.
   */
  defaultAlphabet?: "GSM7" | "LATIN1";
}

function decodeGsm(data: Buffer): string {
  let out = "";
  for (let i = 0; i < data.length; i++) {
    const b = data[i]! & 0x7f;
    if (b === ESC) {
      if (i + 1 >= data.length) break; // dangling escape: nothing to show
      const next = data[++i]! & 0x7f;
      // 03.38: an unknown extension code shows the default-alphabet character.
      out += EXT_DECODE.get(next) ?? (next === ESC ? " " : GSM_BASIC[next]!);
    } else {
      out += GSM_BASIC[b]!;
    }
  }
  return out;
}

function decodeUcs2(data: Buffer): string {
  const even = data.length - (data.length % 2);
  let out = "";
  for (let i = 0; i < even; i += 2) out += String.fromCharCode(data.readUInt16BE(i));
  return out;
}

function decodeWith(label: string, data: Buffer): string {
  try {
    return new TextDecoder(label).decode(data);
  } catch {
    return data.toString("latin1");
  }
}

/** Which alphabet an SMPP data_coding (SMPP 3.4 table, or a GSM 03.38 DCS group) denotes. */
export function alphabetOf(dataCoding: number, defaultAlphabet: "GSM7" | "LATIN1" = "GSM7"): DecodedAlphabet {
  const dc = dataCoding & 0xff;
  switch (dc) {
    case 0x00:
      return defaultAlphabet;
    case 0x01:
      return "ASCII";
    case 0x03:
      return "LATIN1";
    case 0x06:
      return "CYRILLIC";
    case 0x07:
      return "HEBREW";
    case 0x08:
      return "UCS2";
    case 0x02:
    case 0x04:
      return "BINARY";
  }
  if (dc <= 0x0f) return "LATIN1"; // JIS, pictogram, Kanji, KS C 5601: shown octet for octet
  if (dc <= 0x3f) {
    // GSM 03.38 general data coding group; bit 5 = compressed.
    if (dc & 0x20) return "BINARY";
    return (["GSM7", "BINARY", "UCS2", "GSM7"] as const)[(dc >> 2) & 0x03];
  }
  if (dc >= 0xc0 && dc <= 0xdf) return "GSM7"; // message waiting indication, GSM alphabet
  if (dc >= 0xe0 && dc <= 0xef) return "UCS2"; // message waiting indication, UCS2
  if (dc >= 0xf0) return dc & 0x04 ? "BINARY" : "GSM7"; // data coding / message class
  return "LATIN1";
}

function parseUdh(header: Buffer): ConcatInfo | undefined {
  let concat: ConcatInfo | undefined;
  let i = 0;
  while (i + 2 <= header.length) {
    const iei = header[i]!;
    const len = header[i + 1]!;
    const start = i + 2;
    if (start + len > header.length) break; // truncated IE
    const v = header.subarray(start, start + len);
    if (iei === 0x00 && len === 3) concat = { reference: v[0]!, total: v[1]!, seq: v[2]!, referenceBits: 8 };
    else if (iei === 0x08 && len === 4) concat = { reference: v.readUInt16BE(0), total: v[2]!, seq: v[3]!, referenceBits: 16 };
    i = start + len;
  }
  // 23.040: total 0 or seq outside 1..total means the IE must be ignored.
  if (concat && (concat.total === 0 || concat.seq === 0 || concat.seq > concat.total)) return undefined;
  return concat;
}

/**
 * Decodes one short_message (or message_payload) as an SMSC or ESME sends it.
 *
 * @param hasUdh esm_class & 0x40 (UDHI): the payload starts with a user data header.
 * @example
 *   decodeSms(Buffer.from([5, 0, 3, 9, 2, 1, 0x00, 0x41]), 8, true)
 *   // { text: "A", udh: { reference: 9, total: 2, seq: 1, referenceBits: 8 }, alphabet: "UCS2", ... }
 */
export function decodeSms(payload: Buffer, dataCoding: number, hasUdh: boolean, options: DecodeOptions = {}): DecodedSms {
  let data = payload;
  let udh: ConcatInfo | undefined;
  let udhBytes: Buffer | undefined;
  if (hasUdh && payload.length > 0) {
    const end = Math.min(payload.length, 1 + payload[0]!);
    udhBytes = payload.subarray(0, end);
    udh = parseUdh(payload.subarray(1, end));
    data = payload.subarray(end);
  }
  let alphabet = alphabetOf(dataCoding, options.defaultAlphabet);
  if (alphabet === "GSM7" && (dataCoding & 0xff) === 0 && data.some((b) => b > 0x7f)) alphabet = "LATIN1";
  let text: string;
  switch (alphabet) {
    case "GSM7":
      text = decodeGsm(data);
      break;
    case "UCS2":
      text = decodeUcs2(data);
      break;
    case "CYRILLIC":
      text = decodeWith("iso-8859-5", data);
      break;
    case "HEBREW":
      text = decodeWith("iso-8859-8", data);
      break;
    default:
      text = data.toString("latin1");
  }
  const out: DecodedSms = { text, alphabet };
  if (udh) out.udh = udh;
  if (udhBytes) out.udhBytes = udhBytes;
  return out;
}

// sms: reading MOs, the reply texts, and who gets an answer, table-driven.
import { test } from "node:test";
import assert from "node:assert/strict";
import plugin, { answerMo, languageOf, moKey, parseMo, toShortCode, type SmsConfig } from "./index.ts";
import { loadFixture, testContext } from "../testing.ts";
import { findTransactionNumber } from "../../core/text/normalize.ts";
import { normalizeDigits } from "../../core/text/digits.ts";
import { showIsolates as shown } from "../../core/text/bidi.ts";
import type { InquiryAnswer, MobileOriginated } from "../contract.ts";

const answers = loadFixture<Record<string, InquiryAnswer>>("sms", "answers.json");
const config: SmsConfig = { shortCode: "74747" };
const mo = (text: string, from = "966551234567", extra: Partial<MobileOriginated> = {}): MobileOriginated => ({ from, to: "74747", text, receivedAt: new Date("2026-12-05T10:00:10Z"), ...extra });

test("parseMo: numbers in any digits with stray words, help, nothing", () => {
  const table = loadFixture<Array<{ text: string; intent: unknown; lang: string }>>("sms", "mo.json");
  for (const row of table) assert.deepEqual(parseMo(row.text, findTransactionNumber, normalizeDigits), { intent: row.intent, lang: row.lang }, row.text);
});

test("language and short code", () => {
  const langs: Array<[string, string]> = [["123", "ar"], ["abc 1", "en"], ["ابc", "ar"], ["", "ar"]];
  for (const [text, lang] of langs) assert.equal(languageOf(text), lang, text);
  const codes: Array<[string, boolean]> = [["74747", true], ["+74747", true], ["96674747", true], ["", true], ["88888", false]];
  for (const [to, ok] of codes) assert.equal(toShortCode(to, "74747"), ok, to);
  assert.equal(toShortCode("anything", "TAQIB"), true);
});

test("moKey: the same MO within the minute is the same key; another text or sender is not", () => {
  const a = moKey(mo("123"));
  assert.equal(moKey(mo("123", "966551234567", { receivedAt: new Date("2026-12-05T10:00:50Z") })), a);
  assert.notEqual(moKey(mo("124")), a);
  assert.notEqual(moKey(mo("123", "966551234568")), a);
  assert.notEqual(moKey(mo("123", "966551234567", { receivedAt: new Date("2026-12-05T10:01:10Z") })), a);
});

test("replies: each outcome in each language", async () => {
  const table: Array<[string, string, string]> = [
    ["issued-detail", "144500123", "المعاملة رقم ⟨144500123⟩ صدرت برقم ⟨4812077⟩ في ⟨1448/06/23⟩هـ إلى وزارة الداخلية، بانتظار الرد."],
    ["issued-detail", "Status 144500123", "Transaction No. 144500123 was issued under outgoing No. 4812077 dated 23/06/1448 AH to Ministry of Interior: awaiting reply."],
    ["issued-coarse", "144500123", "المعاملة رقم ⟨144500123⟩ صدرت بتاريخ ⟨1448/06/23⟩هـ.\nتظهر التفاصيل عند الإرسال من الجوال المسجل في المعاملة."],
    ["closed-detail", "777", "المعاملة رقم ⟨777⟩ انتهت إجراءاتها بتاريخ ⟨1448/07/13⟩هـ."],
    ["under-study", "556", "المعاملة رقم ⟨556⟩ قيد الدراسة.\nتظهر التفاصيل عند الإرسال من الجوال المسجل في المعاملة."],
    ["registered", "no 555", "Transaction No. 555 is registered and will be referred to the competent department.\nDetails are sent only to the mobile registered with the transaction."],
    ["not-found", "999", "لم نجد معاملة بالرقم ⟨999⟩. تأكدوا من الرقم وأعيدوا الإرسال."],
    ["malformed", "1".repeat(25), "رقم المعاملة غير صحيح. أرسلوا رقم المعاملة كما ورد في رسالة التسجيل، مثل ⟨1445-00123⟩."],
    ["limited", "1", "عدد رسائل الاستعلام كبير، يرجى المحاولة بعد دقيقتين."],
    ["unavailable", "check 1", "The service is temporarily unavailable; please try again shortly."],
  ];
  for (const [name, text, expected] of table) {
    const ctx = testContext("sms", config, { answer: () => answers[name]! });
    const reply = await answerMo(mo(text), ctx);
    assert.equal(shown(reply?.text ?? ""), expected, `${name}: ${text}`);
    assert.equal(reply?.to, "+966551234567");
  }
});

test("the sender is the identity and the proof; help and chatter are rate-limited too", async () => {
  const ctx = testContext("sms", config, { answer: () => answers["issued-coarse"]! });
  await answerMo(mo("رقم ١٢٣", "0551234567"), ctx);
  assert.deepEqual(ctx.questions, [{ number: "123", identities: [{ kind: "mobile", value: "+966551234567" }], mobile: "+966551234567" }]);
  const help = await answerMo(mo("مساعدة"), ctx);
  assert.equal(shown(help?.text ?? ""), "للاستعلام عن معاملتكم أرسلوا رقم المعاملة إلى ⟨74747⟩، مثل: ⟨1445-00123⟩\nتصلكم التفاصيل عند الإرسال من الجوال المسجل في المعاملة.");
  assert.equal((await answerMo(mo("help"), ctx))?.lang, "en");
  assert.match((await answerMo(mo("السلام عليكم"), ctx))!.text, /لم نجد رقم معاملة في رسالتكم/);
  const limited = testContext("sms", config, { limited: true });
  assert.match((await answerMo(mo("مساعدة"), limited))!.text, /يرجى المحاولة بعد/);
  assert.equal(await answerMo(mo("مساعدة"), testContext("sms", config, { limited: "repeated" })), undefined);
});

test("no reply: a repeated refusal, an address that cannot be answered, an MO to another number", async () => {
  const repeated = testContext("sms", config, { answer: () => ({ outcome: "rate-limited", retryAfterMs: 1000, repeated: true }) });
  assert.equal(await answerMo(mo("123"), repeated), undefined);
  const ctx = testContext("sms", config, { answer: () => answers["not-found"]! });
  assert.equal(await answerMo(mo("123", "TAQIB"), ctx), undefined);
  assert.equal((await answerMo(mo("123", "447700900123"), ctx))?.to, "+447700900123");
  await plugin.onMobileOriginated!(mo("123", "966551234567", { to: "88888" }), ctx);
  assert.equal(ctx.sms.length, 0);
  await plugin.onMobileOriginated!(mo("123"), ctx);
  assert.deepEqual(ctx.sms, [{ to: "+966551234567", text: "لم نجد معاملة بالرقم \u2066999\u2069. تأكدوا من الرقم وأعيدوا الإرسال.", lang: "ar", key: moKey(mo("123")) }]);
});

test("every fixture answer renders in both languages, within 3 SMS parts", async () => {
  for (const [name, answer] of Object.entries(answers)) {
    for (const text of ["١٢٣", "no 123"]) {
      const reply = await answerMo(mo(text), testContext("sms", config, { answer: () => answer }));
      if (name === "limited" || answer.outcome !== "rate-limited") assert.ok(reply && reply.text.length > 10, `${name}: ${text}`);
      // UCS-2: 67 characters per part of a long message.
      assert.ok(!reply || reply.text.length <= 3 * 67, `${name}: ${reply?.text.length} characters`);
    }
  }
});

test("STOP and START keywords, alone, in Arabic or English", () => {
  const read = (t: string) => parseMo(t, findTransactionNumber, normalizeDigits).intent.kind;
  for (const t of ["إيقاف", "ايقاف", " STOP ", "stop."]) assert.equal(read(t), "stop", t);
  for (const t of ["تشغيل", "Start"]) assert.equal(read(t), "start", t);
  assert.notEqual(read("please stop calling"), "stop", "inside a sentence it is no instruction");
});

test("the same STOP delivered twice is confirmed in the same words (one reply, by its key); another STOP says it was stopped already", async () => {
  const ctx = testContext("sms", config, {});
  const first = await answerMo(mo("إيقاف"), ctx);
  const again = await answerMo(mo("إيقاف"), ctx);
  assert.match(first!.text, /^تم إيقاف/);
  assert.equal(again!.text, first!.text);
  const later = await answerMo(mo("إيقاف", "966551234567", { receivedAt: new Date("2026-12-05T10:05:00Z") }), ctx);
  assert.match(later!.text, /موقوفة من قبل/);
});

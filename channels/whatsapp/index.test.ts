// whatsapp: notification parsing, signatures, the handshake and the replies, table-driven.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import plugin, { intentOf, languageOf, parseNotification, replyTo, validHubSignature, type WhatsAppConfig } from "./index.ts";
import { fixtureText, loadFixture, request, testContext } from "../testing.ts";
import { normalizeDigits } from "../../core/text/digits.ts";
import { showIsolates as shown } from "../../core/text/bidi.ts";
import type { InquiryAnswer } from "../contract.ts";

const answers = loadFixture<Record<string, InquiryAnswer>>("whatsapp", "answers.json");
const config: WhatsAppConfig = { verifyToken: "verify-me", appSecret: "app-secret" };
const ctx = (answer?: InquiryAnswer, c: WhatsAppConfig = config) => testContext("whatsapp", c, answer ? { answer: () => answer } : {});
const sign = (body: string, secret = config.appSecret!) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
const route = (method: string) => plugin.routes!.find((r) => r.method === method)!;

test("parseNotification: text messages only, from valid senders", () => {
  assert.deepEqual(parseNotification(loadFixture("whatsapp", "text-message.json")), [
    { id: "wamid.HBgMOTY2NTUxMjM0NTY3FQIAEhgUM0EwMDAwMDAwMDAwMDAwMDAwMDEA", from: "966551234567", text: "رقم المعاملة ١٤٤٥-٠٠١٢٣" },
  ]);
  assert.deepEqual(parseNotification(loadFixture("whatsapp", "status-update.json")), []);
  assert.deepEqual(parseNotification(loadFixture("whatsapp", "mixed-messages.json")), [
    { id: "wamid.image1", from: "966551234567", text: undefined },
    { id: "wamid.text2", from: "447700900123", text: "help" },
  ]);
  for (const junk of [null, 1, "x", {}, { object: "page", entry: [] }, { object: "whatsapp_business_account", entry: {} }, { object: "whatsapp_business_account", entry: [null, { changes: [null] }] }]) {
    assert.deepEqual(parseNotification(junk), [], JSON.stringify(junk));
  }
});

test("intent and language", () => {
  const table: Array<[string | undefined, object, string]> = [
    ["رقم المعاملة ١٤٤٥-٠٠١٢٣", { kind: "inquiry", raw: "1445-00123" }, "ar"],
    ["144500123", { kind: "inquiry", raw: "144500123" }, "ar"],
    ["رقم 1445\u200f00123", { kind: "inquiry", raw: "144500123" }, "ar"],
    ["status 1445 00123", { kind: "inquiry", raw: "1445 00123" }, "en"],
    ["مساعدة", { kind: "help" }, "ar"],
    ["Help!", { kind: "help" }, "en"],
    ["السلام عليكم", { kind: "help" }, "ar"],
    ["where is my file", { kind: "unknown" }, "en"],
    [undefined, { kind: "unknown" }, "ar"],
  ];
  for (const [text, intent, lang] of table) {
    assert.deepEqual(intentOf(text, normalizeDigits), intent, String(text));
    assert.equal(languageOf(text ?? ""), lang, String(text));
  }
});

test("X-Hub-Signature-256", () => {
  const body = fixtureText("whatsapp", "text-message.json");
  const table: Array<[string | undefined, string, boolean]> = [
    [sign(body), body, true],
    [sign(body).toUpperCase().replace("SHA256=", "sha256="), body, true],
    [sign(body), body + " ", false],
    [sign(body, "other"), body, false],
    [sign(body).slice(7), body, false],
    ["sha256=", body, false],
    [undefined, body, false],
  ];
  for (const [header, b, ok] of table) assert.equal(validHubSignature(config.appSecret!, header, b), ok, String(header));
});

test("handshake: the challenge with the right token, 403 or 400 otherwise", async () => {
  const table: Array<[string, number, string | RegExp, WhatsAppConfig?]> = [
    ["?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444", 200, "1158201444"],
    ["?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", 403, /token mismatch/],
    ["?hub.mode=unsubscribe&hub.verify_token=verify-me&hub.challenge=1", 403, /token mismatch/],
    ["?hub.mode=subscribe&hub.challenge=1", 400, /required/],
    ["", 400, /required/],
    ["?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1", 403, /token mismatch/, {}],
  ];
  for (const [q, status, body, c] of table) {
    const r = await route("GET").handler(request("GET", `/channels/whatsapp/webhook${q}`), ctx(undefined, c ?? config));
    assert.equal(r.status, status, q);
    if (typeof body === "string") assert.equal(r.body, body);
    else assert.match(r.body, body);
  }
});

test("replies: the sender is the proof and the identity; each outcome", async () => {
  const table: Array<[string, string | undefined, string]> = [
    ["issued-detail", "١٤٤٥٠٠١٢٣", "*المعاملة رقم ⟨144500123⟩*\nصدرت بتاريخ ⟨1448/06/23⟩هـ.\nصادر رقم ⟨4812077⟩ بتاريخ ⟨1448/06/23⟩هـ إلى وزارة الداخلية، بانتظار الرد."],
    ["issued-coarse", "144500123 please", "*Transaction No. 144500123*\nIssued on 23/06/1448 AH.\nDetails are given only to the number registered with the transaction."],
    ["not-found", "999", "لم نجد معاملة بالرقم ⟨999⟩. تأكدوا من الرقم وأعيدوا الإرسال."],
    ["limited", "1", "عدد رسائل الاستعلام كبير، يرجى المحاولة بعد دقيقتين."],
    ["issued-coarse", "مساعدة", "أهلًا بكم في خدمة الاستعلام عن المعاملات. أرسلوا رقم المعاملة كما ورد في رسالة التسجيل، مثل: ⟨1445-00123⟩"],
    ["issued-coarse", undefined, "لم نجد رقم معاملة في رسالتكم. أرسلوا رقم المعاملة نصًا، مثل: ⟨1445-00123⟩"],
  ];
  for (const [name, text, expected] of table) {
    const c = ctx(answers[name]);
    const reply = await replyTo({ id: "wamid.1", from: "966551234567", text }, c);
    assert.equal(shown(reply?.text ?? ""), expected, `${name}: ${text}`);
  }
  const c = ctx(answers["issued-coarse"]);
  await replyTo({ id: "w", from: "966551234567", text: "123" }, c);
  assert.deepEqual(c.questions, [{ number: "123", identities: [{ kind: "mobile", value: "+966551234567" }], mobile: "+966551234567" }]);
  const repeated = ctx({ outcome: "rate-limited", retryAfterMs: 1, repeated: true });
  assert.equal(await replyTo({ id: "w", from: "966551234567", text: "123" }, repeated), undefined);
  for (const [name, answer] of Object.entries(answers)) {
    for (const text of ["١", "no 1"]) assert.ok(((await replyTo({ id: "w", from: "966500000000", text }, ctx(answer)))?.text.length ?? 99) > 10, name);
  }
});

test("notifications: signed ones are answered through the outbox, once per message id; bad ones refused", async () => {
  const body = fixtureText("whatsapp", "text-message.json");
  const post = (b: string, headers: Record<string, string> = {}) => request("POST", "/channels/whatsapp/webhook", { body: b, headers: { "content-type": "application/json", ...headers } });
  const c = ctx(answers["issued-detail"]);
  const ok = await route("POST").handler(post(body, { "x-hub-signature-256": sign(body) }), c);
  assert.equal(ok.status, 200);
  assert.equal(ok.body, "EVENT_RECEIVED");
  assert.equal(c.outgoing.length, 1);
  assert.deepEqual({ ...c.outgoing[0], text: undefined }, { to: "966551234567", lang: "ar", key: "wamid.HBgMOTY2NTUxMjM0NTY3FQIAEhgUM0EwMDAwMDAwMDAwMDAwMDAwMDEA", text: undefined });
  assert.match(c.outgoing[0]!.text, /صادر رقم \u20664812077\u2069/);
  assert.equal((await route("POST").handler(post(body), c)).status, 403);
  assert.equal((await route("POST").handler(post(body, { "x-hub-signature-256": sign(body, "nope") }), c)).status, 403);
  assert.equal((await route("POST").handler(post("{not json", { "x-hub-signature-256": sign("{not json") }), c)).status, 400);
  const status = fixtureText("whatsapp", "status-update.json");
  assert.equal((await route("POST").handler(post(status, { "x-hub-signature-256": sign(status) }), c)).status, 200);
  assert.equal(c.outgoing.length, 1);
  // Without a secret (development), unsigned notifications are accepted.
  const dev = ctx(answers["issued-detail"], { verifyToken: "v" });
  assert.equal((await route("POST").handler(post(body), dev)).status, 200);
  assert.equal(dev.outgoing.length, 1);
});

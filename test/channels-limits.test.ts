// Enumeration: 1,000 inquiries for random numbers from one identity are cut off by the rate
// limit on every HTTP channel; a real number mixed in is never revealed in detail without
// proof; guessing the verifier is slowed per identity and locked per number. The node trusts
// 127.0.0.1 as a proxy, so each test's client address comes from X-Forwarded-For.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import mongoose from "mongoose";
import { testDatabase, testNode, api, sampleLifecycle, seedDirectory, eventually } from "./support/harness.ts";
import { postAsTwilio, parseTwiml } from "../channels/testing.ts";
import { OUTBOX_COLLECTION } from "../channels/models.ts";
import { VERIFIER_LOCK_FAILURES } from "../core/inquiry/inquiry.ts";

const LIMIT = 40;
const TOKEN = "limits-twilio-token";
const SECRET = "limits-whatsapp-secret";
const REAL = "1445000401";
const SECRETS = [`9${REAL}`, "وزارة الداخلية", "Ministry of Interior", "الإدارة القانونية", "Legal Affairs", '"details"', 'data-level="detail"'];

let db: Awaited<ReturnType<typeof testDatabase>>;
let node: Awaited<ReturnType<typeof testNode>>;

before(async () => {
  db = await testDatabase();
  node = await testNode(db.url, {
    SERVICES: "api,events,directory,channels",
    CHANNELS: "web,ivr,kiosk,whatsapp",
    INQUIRY_RATE_LIMIT: String(LIMIT),
    INQUIRY_RATE_WINDOW_MS: "3600000",
    TRUST_PROXY: "127.0.0.1,::1",
    TWILIO_AUTH_TOKEN: TOKEN,
    WHATSAPP_APP_SECRET: SECRET,
    WHATSAPP_VERIFY_TOKEN: "v",
  });
  await seedDirectory(node.url);
  await api(node.url, "POST", "/api/v1/events", sampleLifecycle(REAL).slice(0, 4));
  await eventually(async () => (await api(node.url, "GET", `/api/v1/transactions/${REAL}`)).body.status === "issued", 15000, "the transaction");
});
after(async () => {
  await node?.stop();
  await db?.remove();
});

const random = () => String(1_000_000_000 + Math.floor(Math.random() * 8_999_999_999));
/** 1,000 numbers, the real one at every 97th place. */
const numbers = () => Array.from({ length: 1000 }, (_, i) => (i % 97 === 50 ? REAL : random()));

async function get(path: string, ip: string) {
  const res = await fetch(node.url + path, { headers: { "x-forwarded-for": ip } });
  return { status: res.status, text: await res.text(), retryAfter: res.headers.get("retry-after") };
}

function assertCutOff(statuses: number[], where: string) {
  const allowed = statuses.filter((s) => s !== 429).length;
  // The bucket refills LIMIT per hour: a few more may pass while the run lasts, not more.
  assert.ok(allowed >= LIMIT && allowed <= LIMIT + 2, `${where}: ${allowed} answered`);
  assert.deepEqual([...new Set(statuses.slice(LIMIT + 2))], [429], `${where}: everything after the limit is refused`);
}

test("web JSON: 1,000 random numbers from one address are cut off with 429 + Retry-After; other addresses are not", async () => {
  const statuses: number[] = [];
  for (const n of numbers()) {
    const r = await get(`/api/v1/inquiry?number=${n}`, "198.51.100.10");
    statuses.push(r.status);
    for (const s of SECRETS) assert.ok(!r.text.includes(s), `revealed ${s}`);
    if (r.status === 429) {
      const body = JSON.parse(r.text);
      assert.equal(body.error.code, "RATE_LIMITED");
      assert.match(body.error.messageAr, /يرجى المحاولة بعد/);
      assert.ok(Number(r.retryAfter) >= 1, `Retry-After ${r.retryAfter}`);
    }
  }
  assertCutOff(statuses, "web JSON");
  assert.equal((await get(`/api/v1/inquiry?number=${REAL}`, "198.51.100.11")).status, 200);
  // The page shares the address's bucket.
  const page = await get(`/?number=${REAL}`, "198.51.100.10");
  assert.equal(page.status, 429);
  assert.match(page.text, /عدد محاولات الاستعلام كبير/);
});

test("kiosk: one kiosk id is cut off even when the address changes", async () => {
  const statuses: number[] = [];
  for (const [i, n] of numbers().entries()) {
    const r = await get(`/kiosk/answer?kiosk=gate-9&number=${n}`, `10.20.${Math.floor(i / 250)}.${i % 250}`);
    statuses.push(r.status);
    for (const s of SECRETS) assert.ok(!r.text.includes(s), `revealed ${s}`);
  }
  assertCutOff(statuses, "kiosk");
  assert.equal((await get(`/kiosk/answer?kiosk=gate-8&number=${REAL}`, "10.30.0.1")).status, 200);
});

test("IVR: one caller is cut off and told to call later", async () => {
  const opts = { token: TOKEN, publicBase: node.url, localBase: node.url };
  const outcomes: string[] = [];
  for (const n of numbers()) {
    const r = await postAsTwilio(`${node.url}/channels/ivr/number?attempt=1&at=${Date.now()}`, { CallSid: "CA1", From: "+966500000888", Digits: n }, opts);
    assert.equal(r.status, 200);
    const said = parseTwiml(r.text).says.map((s) => s.text).join(" ");
    for (const s of SECRETS) assert.ok(!said.includes(s), `revealed ${s}`);
    outcomes.push(/عدد محاولات الاستعلام من هذا الرقم كبير/.test(said) ? "limited" : "answered");
  }
  assertCutOff(outcomes.map((o) => (o === "limited" ? 429 : 200)), "IVR");
});

test("WhatsApp: one sender is cut off; told once, then silence", async () => {
  const from = "966500000999";
  const post = async (text: string, i: number) => {
    const body = JSON.stringify({ object: "whatsapp_business_account", entry: [{ changes: [{ field: "messages", value: { messages: [{ from, id: `wamid.limit.${i}`, type: "text", text: { body: text } }] } }] }] });
    const r = await fetch(`${node.url}/channels/whatsapp/webhook`, { method: "POST", body, headers: { "content-type": "application/json", "x-hub-signature-256": `sha256=${createHmac("sha256", SECRET).update(body).digest("hex")}` } });
    assert.equal(r.status, 200);
  };
  for (const [i, n] of numbers().entries()) await post(n, i);
  const replies = await mongoose.connection.db!.collection(OUTBOX_COLLECTION).find({ to: from }).toArray();
  for (const r of replies) for (const s of SECRETS) assert.ok(!String(r.text).includes(s), `revealed ${s}`);
  const limited = replies.filter((r) => /عدد رسائل الاستعلام كبير/.test(String(r.text)));
  assert.equal(limited.length, 1);
  assert.ok(replies.length - 1 >= LIMIT && replies.length - 1 <= LIMIT + 2, `${replies.length} replies`);
});

test("guessing the verifier: costly per address, locked per number across addresses", async () => {
  // One address: each wrong verifier costs several inquiries.
  let answered = 0;
  for (let v = 0; v < 100; v++) {
    const r = await get(`/api/v1/inquiry?number=${REAL}&verifier=${String(v).padStart(4, "0")}`, "203.0.113.50");
    if (r.status === 429) break;
    answered++;
    assert.equal(JSON.parse(r.text).level, "coarse");
  }
  assert.ok(answered <= Math.ceil(LIMIT / 5) + 1, `${answered} guesses before the cut-off`);
  // Many addresses: the number's verifier locks; then even the right one does not open it.
  for (let i = 0; i < VERIFIER_LOCK_FAILURES; i++) {
    const r = JSON.parse((await get(`/api/v1/inquiry?number=${REAL}&verifier=${String(1000 + i)}`, `203.0.113.${100 + i}`)).text);
    assert.equal(r.level, "coarse");
  }
  const right = JSON.parse((await get(`/api/v1/inquiry?number=${REAL}&verifier=4567`, "203.0.113.99")).text);
  assert.equal(right.verification, "locked");
  assert.equal(right.level, "coarse");
  assert.equal(right.details, undefined);
  // An unknown number answers the same with or without a verifier.
  const a = JSON.parse((await get(`/api/v1/inquiry?number=5555555555`, "203.0.113.98")).text);
  const b = JSON.parse((await get(`/api/v1/inquiry?number=5555555555&verifier=1234`, "203.0.113.98")).text);
  assert.deepEqual(a, b);
});

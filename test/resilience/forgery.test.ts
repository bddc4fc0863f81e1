// Forged and replayed requests on the two signed public endpoints: the agencies' reply
// webhook (Standard Webhooks) and the IVR webhook (X-Twilio-Signature). Every forgery is
// refused and changes nothing; a replay of a genuine reply is idempotent (no second event,
// no second SMS) or refused; the one genuine reply gives exactly one SMS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { MongoClient } from "mongodb";
import { testDatabase, testNode, testSmsc, seedDirectory, api, http, eventually, sampleLifecycle } from "../support/harness.ts";
import { postAsTwilio } from "../../channels/testing.ts";
import { twilioSignature } from "../../channels/ivr/signature.ts";
import { report, sleep } from "./support.ts";

const TOKEN = "resilience-twilio-auth-token";
const PUBLIC = "https://ivr.example.sa/taqib";
const NUMBER = "1445061001";
const CITIZEN = "966551234567"; // the sample lifecycle's citizen

let db: Awaited<ReturnType<typeof testDatabase>>;
let smsc: Awaited<ReturnType<typeof testSmsc>>;
let node: Awaited<ReturnType<typeof testNode>>;
let mongo: MongoClient;

before(async () => {
  db = await testDatabase();
  smsc = await testSmsc({ dlrDelayMs: 20 });
  node = await testNode(db.url, {
    SERVICES: "api,events,directory,agencies,notifier,smpp,channels",
    CHANNELS: "ivr",
    SMPP_URL: smsc.url,
    TWILIO_AUTH_TOKEN: TOKEN,
    PUBLIC_URL: PUBLIC,
  });
  mongo = await MongoClient.connect(db.url);
  await seedDirectory(node.url);
  await api(node.url, "PUT", "/api/v1/agencies/MOJ", { name: { ar: "وزارة العدل", en: "Ministry of Justice" } });
  assert.equal((await api(node.url, "POST", "/api/v1/events", sampleLifecycle(NUMBER).slice(0, 4))).status, 202);
  await eventually(async () => (await api(node.url, "GET", `/api/v1/transactions/${NUMBER}`)).body.status === "issued", 20_000, "issued");
  // The lifecycle's own SMS (registered, issued to the citizen; assigned to the employee).
  await eventually(async () => smsc.received.filter((m) => m.text.includes(NUMBER)).length >= 3, 30_000, "the lifecycle's SMS");
});
after(async () => {
  await node?.stop();
  await mongo?.close();
  await smsc?.stop();
  await db?.remove();
});

/** What a forgery must leave unchanged: the transaction's events and messages. */
async function snapshot() {
  const events = await mongo.db().collection("events").find({ transactionNumber: NUMBER }).sort({ _id: 1 }).toArray();
  const messages = await mongo.db().collection("messages").find({ transactionNumber: NUMBER }, { projection: { _id: 1 } }).sort({ _id: 1 }).toArray();
  return JSON.stringify({ events: events.map((e) => e._id), messages: messages.map((m) => m._id) });
}

test("agency webhook: forgeries refused, replays idempotent or refused, one genuine reply, one SMS", async () => {
  const secret = (await api(node.url, "POST", "/api/v1/agencies/MOI/secrets")).body.secret as string;
  const otherAgency = (await api(node.url, "POST", "/api/v1/agencies/MOJ/secrets")).body.secret as string;
  const revoked = await api(node.url, "POST", "/api/v1/agencies/MOI/secrets");
  assert.equal((await api(node.url, "DELETE", `/api/v1/agencies/MOI/secrets/${revoked.body.id}`)).status, 200);
  const foreign = `whsec_${Buffer.from("not-the-agency-secret-not-the-agency").toString("base64")}`;

  const reply = { outgoingNumber: `9${NUMBER}`, replyNumber: "R-501", replyDate: new Date().toISOString() };
  const payload = JSON.stringify(reply);
  type Req = { agency?: string; body?: string; headers: Record<string, string> };
  const signed = (key: string, o: { id?: string; ts?: Date; body?: string; signBody?: string; signId?: string } = {}): Req => {
    const id = o.id ?? `msg_${Math.random().toString(36).slice(2)}`;
    const ts = o.ts ?? new Date();
    const body = o.body ?? payload;
    return {
      body,
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)),
        "webhook-signature": new Webhook(key).sign(o.signId ?? id, ts, o.signBody ?? body),
      },
    };
  };
  const send = (r: Req) => http(node.url, "POST", `/webhooks/agencies/${r.agency ?? "MOI"}/replies`, r.body ?? payload, r.headers);
  const without = (r: Req, h: string): Req => ({ ...r, headers: Object.fromEntries(Object.entries(r.headers).filter(([k]) => k !== h)) });
  const withSig = (r: Req, sig: string): Req => ({ ...r, headers: { ...r.headers, "webhook-signature": sig } });

  const forgeries: Array<[string, Req, number]> = [
    ["signed with a secret that is not the agency's", signed(foreign), 401],
    ["signed with another agency's secret", signed(otherAgency), 401],
    ["signed with a revoked secret", signed(revoked.body.secret), 401],
    ["body tampered after signing (reply number)", signed(secret, { body: payload.replace("R-501", "R-666"), signBody: payload }), 401],
    ["body tampered after signing (outgoing number)", signed(secret, { body: payload.replace(`9${NUMBER}`, `9${NUMBER}0`), signBody: payload }), 401],
    ["signature of another webhook-id", signed(secret, { signId: "msg_other" }), 401],
    ["stale timestamp (10 minutes old)", signed(secret, { ts: new Date(Date.now() - 10 * 60_000) }), 401],
    ["timestamp 10 minutes ahead", signed(secret, { ts: new Date(Date.now() + 10 * 60_000) }), 401],
    ["timestamp not a number", { ...signed(secret), headers: { ...signed(secret).headers, "webhook-timestamp": "yesterday" } }, 401],
    ["no webhook-signature", without(signed(secret), "webhook-signature"), 401],
    ["no webhook-id", without(signed(secret), "webhook-id"), 401],
    ["no webhook-timestamp", without(signed(secret), "webhook-timestamp"), 401],
    ["signature not base64", withSig(signed(secret), "v1,!!!not-base64!!!"), 401],
    ["signature of another scheme (v2)", withSig(signed(secret), signed(secret).headers["webhook-signature"]!.replace(/^v1,/, "v2,")), 401],
    ["empty signature list", withSig(signed(secret), " "), 401],
    ["the MOI reply posted as MOJ with MOJ's genuine signature (answered as an unknown number)", { ...signed(otherAgency), agency: "MOJ" }, 404],
  ];
  const before = await snapshot();
  let refused = 0;
  for (const [what, req, status] of forgeries) {
    const r = await send(req);
    assert.equal(r.status, status, `${what}: ${r.text.slice(0, 200)}`);
    refused++;
  }
  assert.equal(await snapshot(), before, "forgeries changed nothing");

  // The genuine reply, then its replays: the same request 10 times at once, and later again.
  const genuine = signed(secret, { id: "msg_genuine_reply_1" });
  const first = await send(genuine);
  assert.equal(first.status, 200, first.text);
  assert.equal(first.body.outcome, "accepted");
  const replays = await Promise.all(Array.from({ length: 10 }, () => send(genuine)));
  await sleep(500);
  replays.push(await send(genuine));
  const replayStatuses = replays.map((r) => `${r.status} ${r.body?.outcome ?? r.body?.error?.code}`);
  assert.ok(replays.every((r) => r.status === 200 && r.body.outcome === "duplicate"), replayStatuses.join(", "));
  // The same webhook-id for another reply (properly signed): refused.
  const reused = await send(signed(secret, { id: "msg_genuine_reply_1", body: payload.replace("R-501", "R-502") }));
  assert.equal(reused.status, 409);
  assert.equal(reused.body.error.code, "WEBHOOK_ID_CONFLICT");
  // The captured genuine request replayed once its timestamp is stale: refused.
  const stale = signed(secret, { id: "msg_genuine_reply_1", ts: new Date(Date.now() - 6 * 60_000) });
  assert.equal((await send(stale)).status, 401);

  const replySms = () => smsc.received.filter((m) => m.to === CITIZEN && m.text.includes("R-501"));
  await eventually(async () => replySms().length >= 1, 30_000, "the reply SMS");
  await sleep(2000);
  const events = (await mongo.db().collection("events").find({ transactionNumber: NUMBER, type: "reply-received" }).toArray()).length;
  const sent = replySms().length;
  report(
    "agency webhook forgery and replay",
    { accepted: 1, expected: 1, sent: Math.min(sent, 1), duplicated: Math.max(sent - 1, 0), lost: sent === 0 ? 1 : 0 },
    `${refused}/${forgeries.length} forgeries refused (401/404), ${replays.length} replays answered "duplicate" with no effect, id reuse 409, stale replay 401; reply events stored ${events}`,
  );
  assert.equal(events, 1);
  assert.equal(sent, 1);
  assert.equal(refused, forgeries.length);
});

test("IVR webhook: requests without a valid X-Twilio-Signature are refused", async () => {
  const smsBefore = smsc.received.length;
  const params = { AccountSid: "AC00000000000000000000000000000001", CallSid: "CA0123456789abcdef0123456789abcdef", From: "+966551234567", To: "+966800123456", Digits: NUMBER };
  // A step address as the service issues it (stamped with its time: see channels/ivr/index.ts).
  const url = `${PUBLIC}/channels/ivr/number?attempt=1&at=${Date.now()}`;
  const opts = { token: TOKEN, publicBase: PUBLIC, localBase: node.url };
  const forgeries: Array<[string, () => Promise<{ status: number }>]> = [
    ["no signature", () => postAsTwilio(url, params, { ...opts, signature: null })],
    ["empty signature", () => postAsTwilio(url, params, { ...opts, signature: "" })],
    ["random signature", () => postAsTwilio(url, params, { ...opts, signature: "dGhpcyBpcyBub3QgYSBzaWduYXR1cmU=" })],
    ["signed with another auth token", () => postAsTwilio(url, params, { ...opts, signature: twilioSignature("another-token", url, params) })],
    ["signature of another URL (the greeting)", () => postAsTwilio(url, params, { ...opts, signature: twilioSignature(TOKEN, `${PUBLIC}/channels/ivr/voice`, params) })],
    ["signature of the local URL, not the public one", () => postAsTwilio(url, params, { ...opts, signature: twilioSignature(TOKEN, `${node.url}/channels/ivr/number?attempt=1`, params) })],
    ["digits tampered after signing", () => postAsTwilio(url, { ...params, Digits: "1445000001" }, { ...opts, signature: twilioSignature(TOKEN, url, params) })],
    ["caller tampered after signing", () => postAsTwilio(url, { ...params, From: "+966500000000" }, { ...opts, signature: twilioSignature(TOKEN, url, params) })],
    ["parameter added after signing", () => postAsTwilio(url, { ...params, Extra: "1" }, { ...opts, signature: twilioSignature(TOKEN, url, params) })],
    ["query tampered after signing", () => postAsTwilio(`${PUBLIC}/channels/ivr/number?attempt=2`, params, { ...opts, signature: twilioSignature(TOKEN, url, params) })],
    ["HMAC-SHA256 instead of SHA1", () => postAsTwilio(url, params, { ...opts, signature: createHmac("sha256", TOKEN).update(url + Object.keys(params).sort().map((k) => k + (params as any)[k]).join("")).digest("base64") })],
    ["GET without a signature", () => http(node.url, "GET", `/channels/ivr/voice?From=%2B966551234567`)],
  ];
  let refused = 0;
  for (const [what, f] of forgeries) {
    const r = await f();
    assert.equal(r.status, 403, what);
    refused++;
  }
  // The control: the same request properly signed is answered.
  const ok = await postAsTwilio(url, params, opts);
  assert.equal(ok.status, 200);
  await sleep(500);
  report(
    "IVR signature forgery",
    { accepted: 0, expected: 0, sent: smsc.received.length - smsBefore, duplicated: 0, lost: 0 },
    `${refused}/${forgeries.length} forged requests refused 403, the genuine one answered 200`,
  );
  assert.equal(refused, forgeries.length);
  assert.equal(smsc.received.length, smsBefore);
});

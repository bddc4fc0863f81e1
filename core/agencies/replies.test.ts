// The agency reply walk over an in-memory store: what is refused before verification and
// leaves no trace, what is logged after it, and the event a reply becomes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import type { IncomingEvent } from "../events/contract.ts";
import type { StoreOutcome } from "../events/ingest.ts";
import { newSecret } from "./secrets.ts";
import { replyReceiver, type DeliveryRecord, type ReplyStore } from "./replies.ts";

const SECRET = newSecret();

/** A store holding one agency (MOI), two outgoing letters (one to MOI, one to MOH), events by id. */
function memoryStore() {
  const events = new Map<string, IncomingEvent>();
  const deliveries: DeliveryRecord[] = [];
  let applied = 0;
  const store: ReplyStore = {
    secrets: async (code) => (code === "MOI" ? [SECRET] : []),
    outgoing: async (n) =>
      ({ "4812077": { transactionNumber: "144500123", agencyCode: "MOI" }, "4812078": { transactionNumber: "144500124", agencyCode: "MOH" } })[n],
    async store(event): Promise<StoreOutcome> {
      const known = events.get(event.id);
      if (known) return JSON.stringify(known) === JSON.stringify(event) ? "duplicate" : "conflict";
      events.set(event.id, event);
      return "accepted";
    },
    apply: async () => void applied++,
    record: async (d) => void deliveries.push(d),
  };
  return { store, events, deliveries, applied: () => applied };
}

function signed(body: object | string, o: { id?: string; secret?: string; at?: Date } = {}) {
  const rawBody = typeof body === "string" ? body : JSON.stringify(body);
  const id = o.id ?? "msg_1";
  const at = o.at ?? new Date();
  return {
    rawBody,
    headers: {
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
      "webhook-signature": new Webhook(o.secret ?? SECRET).sign(id, at, rawBody),
    },
  };
}

const REPLY = { outgoingNumber: "4812077", replyNumber: "9031", replyDate: "2026-11-28T10:15:00+03:00" };

function setup(limit = 20) {
  const mem = memoryStore();
  const refused: string[] = [];
  const replies = replyReceiver({ store: mem.store, refusalLimitPerMinute: limit, onRefused: (r) => refused.push(r), now: () => new Date("2026-11-28T08:00:00Z") });
  return { ...mem, refused, replies };
}

const rejectsWith = (status: number, type: string) => (e: unknown) => {
  const err = e as { code?: number; type?: string };
  assert.equal(err.code, status);
  assert.equal(err.type, type);
  return true;
};

test("a verified reply becomes a reply-received event of the letter's transaction, is applied and logged", async () => {
  const s = setup();
  const answer = await s.replies.receive({ agencyCode: "MOI", ...signed({ ...REPLY, summary: "approved" }), address: "10.0.0.7" });
  assert.deepEqual(answer, { outcome: "accepted", transactionNumber: "144500123", outgoingNumber: "4812077" });
  const event = s.events.get("agency:MOI:msg_1");
  assert.ok(event);
  assert.equal(event.type, "reply-received");
  assert.equal(event.transactionNumber, "144500123");
  assert.equal(event.occurredAt.toISOString(), "2026-11-28T07:15:00.000Z");
  assert.deepEqual(event.data, { outgoingNumber: "4812077", replyNumber: "9031", replyDate: "2026-11-28T07:15:00.000Z", via: "webhook", summary: "approved", displayNumber: "144500123" });
  assert.equal(s.applied(), 1);
  assert.deepEqual(s.deliveries, [
    { agencyCode: "MOI", webhookId: "msg_1", receivedAt: new Date("2026-11-28T08:00:00Z"), status: 200, outcome: "accepted", outgoingNumber: "4812077", ip: "10.0.0.7" },
  ]);
});

test("the same delivery again is a duplicate, not applied again; the same webhook-id with another reply is a 409", async () => {
  const s = setup();
  const req = { agencyCode: "MOI", ...signed(REPLY), address: "10.0.0.7" };
  await s.replies.receive(req);
  assert.equal((await s.replies.receive(req)).outcome, "duplicate");
  assert.equal(s.applied(), 1);
  await assert.rejects(s.replies.receive({ agencyCode: "MOI", ...signed({ ...REPLY, replyNumber: "9032" }), address: "10.0.0.7" }), rejectsWith(409, "WEBHOOK_ID_CONFLICT"));
  assert.deepEqual(s.deliveries.map((d) => [d.status, d.outcome]), [[200, "accepted"], [200, "duplicate"], [409, "WEBHOOK_ID_CONFLICT"]]);
});

test("after verification every refusal is the agency's and is logged: bad body, unknown letter, another agency's letter", async () => {
  const s = setup();
  const cases: Array<[object | string, number, string]> = [
    ["not json", 400, "INVALID_JSON"],
    [{ ...REPLY, replyDate: "soon" }, 400, "INVALID_BODY"],
    [{ ...REPLY, outgoingNumber: "999" }, 404, "OUTGOING_NOT_FOUND"],
    [{ ...REPLY, outgoingNumber: "4812078" }, 404, "OUTGOING_NOT_FOUND"],
  ];
  for (const [body, status, type] of cases) {
    await assert.rejects(s.replies.receive({ agencyCode: "MOI", ...signed(body), address: "10.0.0.7" }), rejectsWith(status, type));
  }
  // The office's staff see why the last one was refused.
  assert.deepEqual(s.deliveries.map((d) => [d.status, d.outcome]), [[400, "INVALID_JSON"], [400, "INVALID_BODY"], [404, "OUTGOING_NOT_FOUND"], [404, "OUTGOING_OF_ANOTHER_AGENCY"]]);
  assert.equal(s.events.size, 0);
  assert.deepEqual(s.refused, []);
});

test("another agency's letter is answered exactly as a number that does not exist: same status, code, message and shape, after the same lookup", async () => {
  const s = setup();
  const looked: string[] = [];
  const outgoing = s.store.outgoing;
  s.store.outgoing = async (n) => (looked.push(n), outgoing(n));
  const refusal = async (outgoingNumber: string, id: string) => {
    try {
      await s.replies.receive({ agencyCode: "MOI", ...signed({ ...REPLY, outgoingNumber }, { id }), address: "10.0.0.7" });
    } catch (err) {
      const e = err as { code: number; type: string; message: string; data?: unknown };
      return { status: e.code, code: e.type, message: e.message.replace(outgoingNumber, "N"), data: e.data ?? null, keys: Object.keys(e).sort() };
    }
    assert.fail(`${outgoingNumber} was accepted`);
  };
  const unknown = await refusal("4812099", "msg_a");
  const others = await refusal("4812078", "msg_b");
  assert.deepEqual(others, unknown);
  assert.equal(unknown.status, 404);
  assert.equal(unknown.code, "OUTGOING_NOT_FOUND");
  assert.equal(unknown.message, "No outgoing transaction N was sent to agency MOI");
  assert.deepEqual(looked, ["4812099", "4812078"], "one lookup each");
});

test("unverified requests leave no trace, count against their address, and the address is braked with 429", async () => {
  const s = setup(2);
  const address = "10.0.0.9";
  // An unknown agency is answered exactly as a wrong secret.
  await assert.rejects(s.replies.receive({ agencyCode: "NOPE", ...signed(REPLY), address }), rejectsWith(401, "SIGNATURE_INVALID"));
  await assert.rejects(s.replies.receive({ agencyCode: "MOI", ...signed(REPLY, { secret: newSecret() }), address }), rejectsWith(401, "SIGNATURE_INVALID"));
  await assert.rejects(s.replies.receive({ agencyCode: "MOI", rawBody: "{}", headers: {}, address }), rejectsWith(401, "SIGNATURE_MISSING"));
  // Past its refusals (2 a minute): braked before any work, even with a good signature.
  await assert.rejects(s.replies.receive({ agencyCode: "MOI", ...signed(REPLY), address }), rejectsWith(429, "RATE_LIMITED"));
  assert.deepEqual(s.refused, ["SIGNATURE_INVALID", "SIGNATURE_INVALID", "SIGNATURE_MISSING", "RATE_LIMITED"]);
  // Another address is not braked; a stale timestamp is a refusal too.
  await assert.rejects(
    s.replies.receive({ agencyCode: "MOI", ...signed(REPLY, { at: new Date(Date.now() - 3_600_000) }), address: "10.0.0.10" }),
    rejectsWith(401, "TIMESTAMP_OUT_OF_TOLERANCE"),
  );
  assert.deepEqual(s.deliveries, []);
  assert.equal(s.events.size, 0);
});

test("a malformed agency code is a 400 that is not counted as a refusal", async () => {
  const s = setup(1);
  for (let i = 0; i < 3; i++) {
    await assert.rejects(s.replies.receive({ agencyCode: "a b", ...signed(REPLY), address: "10.0.0.7" }), rejectsWith(400, "INVALID_CODE"));
  }
  assert.deepEqual(s.refused, []);
});

test("a failed apply is left to the sweep: the reply is still accepted", async () => {
  const s = setup();
  s.store.apply = async () => {
    throw new Error("events service away");
  };
  assert.equal((await s.replies.receive({ agencyCode: "MOI", ...signed(REPLY), address: "10.0.0.7" })).outcome, "accepted");
});

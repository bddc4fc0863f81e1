// The same event posted 100 times at once (a correspondence system retrying in a hurry, or
// several of its workers sending the same outbox row): one stored, one applied, one SMS.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { smsNode, api, eventually } from "../support/harness.ts";
import { registration, report, settle, type Load } from "./support.ts";

const world = smsNode({ smsc: { dlrDelayMs: 20 }, env: { SERVICES: "api,events,directory,notifier,smpp" } });

/**
 * Posts `copies` requests carrying the same event at once, then checks and reports what every
 * such scenario promises: one stored, one applied, one message, one SMS. Answers the statuses.
 */
async function hammer(scenario: string, load: Load, copies: number, body: (e: ReturnType<typeof registration>) => unknown) {
  const { db, smsc, node } = world;
  const event = registration(load, 0);
  const answers = await Promise.all(Array.from({ length: copies }, () => api(node.url, "POST", "/api/v1/events", body(event))));
  const statuses = new Map<number, number>();
  for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
  const mongo = await MongoClient.connect(db.url);
  try {
    const t = await eventually(async () => {
      const r = await api(node.url, "GET", `/api/v1/transactions/${event.transactionNumber}`);
      return r.status === 200 && r.body.eventCount >= 1 && r.body;
    }, 30_000, "the transaction");
    const c = await settle(smsc.received, load, 60_000);
    const stored = await mongo.db().collection("events").countDocuments({ _id: event.id as any });
    const messages = await mongo.db().collection("messages").countDocuments({ eventId: event.id });
    // How many answers said the shared event itself was accepted (stored by that request).
    const acceptedHere = answers.filter((a) => a.body?.outcome === "accepted" || a.body?.results?.some((r: any) => r.id === event.id && r.outcome === "accepted")).length;
    report(scenario, { ...c, accepted: acceptedHere }, `answers: ${[...statuses].map(([s, n]) => `${s} x${n}`).join(", ")}; events stored ${stored}, messages ${messages}, transaction eventCount ${t.eventCount}`);
    assert.equal(acceptedHere, 1, "one request stored the shared event, the others found it there");
    assert.equal(stored, 1);
    assert.equal(messages, 1);
    assert.equal(t.eventCount, 1);
    assert.equal(c.sent, 1);
    assert.equal(c.duplicated, 0);
    assert.equal(c.lost, 0);
    return statuses;
  } finally {
    await mongo.close();
  }
}

test("the same event posted 100 times concurrently: one stored, one SMS", async () => {
  const statuses = await hammer("the same event posted 100 times concurrently", { name: "dup100", base: 51, total: 1 }, 100, (e) => e);
  assert.deepEqual([...statuses.keys()].sort(), [200, 202], "202 for the one stored, 200 duplicate for the rest");
  assert.equal(statuses.get(202), 1);
});

test("the same event inside 100 concurrent batches: one stored, one SMS", async () => {
  // Each batch holds the shared event and one of its own (a "closed" of another transaction: no SMS).
  let k = 0;
  const own = () => ({ id: `dupbatch-own-${k}`, type: "closed", transactionNumber: `53${String(k++).padStart(6, "0")}`, occurredAt: new Date().toISOString(), data: {} });
  const statuses = await hammer("the same event in 100 concurrent batches", { name: "dupbatch", base: 52, total: 1 }, 100, (e) => [e, own()]);
  assert.deepEqual([...statuses.keys()], [202], "every batch stored its own event");
});

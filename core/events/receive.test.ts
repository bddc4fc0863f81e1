// The events API's intake over an in-memory store: validation of the whole request first,
// 409 storing nothing (an id reused, an outgoing number of another transaction), 202/200, and
// the apply handed what was stored.
import { test } from "node:test";
import assert from "node:assert/strict";
import { eventIntake, MAX_BATCH, parseEvents } from "./receive.ts";
import type { StoreOutcome, StoreRequest, StoreResult } from "./ingest.ts";
import type { IncomingEvent } from "./contract.ts";
import { claimOutgoingNumbers, type OutgoingClaimStore } from "./outgoing.ts";

const registered = (id: string, number = "144500123") => ({
  id,
  type: "registered",
  transactionNumber: number,
  occurredAt: "2026-01-04T08:00:00Z",
  data: { citizen: { name: "محمد", mobile: "0551234567", language: "ar" }, subject: "طلب", departmentCode: "LEGAL" },
});

const issued = (id: string, number: string, outgoingNumber: string) => ({
  id,
  type: "issued",
  transactionNumber: number,
  occurredAt: "2026-01-05T08:00:00Z",
  data: { outgoingNumber, destination: { agencyCode: "MOI" }, requiresReply: true },
});

/** Ids and their content, and outgoing numbers' claims, as storeEventRequests compares them. */
function memoryIntake() {
  const known = new Map<string, string>();
  const claimed = new Map<string, string>();
  const claims: OutgoingClaimStore = {
    holders: async (numbers) => new Map(numbers.filter((n) => claimed.has(n)).map((n) => [n, claimed.get(n)!])),
    insert: async (cs) => cs.map((c) => (claimed.has(c.outgoingNumber) ? false : (claimed.set(c.outgoingNumber, c.transactionNumber), true))).every(Boolean),
  };
  const applied: StoreResult[] = [];
  const counted: string[] = [];
  const store = async ({ events }: StoreRequest): Promise<StoreResult> => {
    const key = (e: IncomingEvent) => JSON.stringify(e);
    const outcomes = events.map((e): StoreOutcome => (!known.has(e.id) ? "accepted" : known.get(e.id) === key(e) ? "duplicate" : "conflict"));
    const conflicts = events.filter((_, i) => outcomes[i] === "conflict").map((e) => e.id);
    const [outgoingConflicts] = await claimOutgoingNumbers([conflicts.length ? null : events.filter((e) => !known.has(e.id))], claims);
    const toApply = conflicts.length || outgoingConflicts!.length ? [] : events.filter((_, i) => outcomes[i] === "accepted");
    for (const e of toApply) known.set(e.id, key(e));
    return { outcomes, conflicts, outgoingConflicts: outgoingConflicts!, toApply: toApply.map((e) => ({ ...e, receivedAt: new Date() })), outboxId: toApply.length ? "o1" : undefined };
  };
  const intake = eventIntake({ store, apply: (s) => void applied.push(s), onStored: (e, outcome) => counted.push(`${e.type}:${outcome}`) });
  return { intake, known, claimed, applied, counted };
}

const rejectsWith = (status: number, type: string) => (e: unknown) => {
  assert.equal((e as { code?: number }).code, status);
  assert.equal((e as { type?: string }).type, type);
  return true;
};

test("one event: 202 with its outcome, then 200 as a duplicate; only what was new is applied", async () => {
  const m = memoryIntake();
  assert.deepEqual(await m.intake.receive(registered("e1"), "correspondence"), { status: 202, result: { id: "e1", outcome: "accepted" } });
  assert.deepEqual(await m.intake.receive(registered("e1"), "correspondence"), { status: 200, result: { id: "e1", outcome: "duplicate" } });
  assert.deepEqual(m.applied.map((s) => s.toApply.map((e) => e.id)), [["e1"], []]);
  assert.deepEqual(m.counted, ["registered:accepted", "registered:duplicate"]);
});

test("a batch answers its counts and each outcome, in order", async () => {
  const m = memoryIntake();
  await m.intake.receive(registered("e1"), "correspondence");
  const { status, result } = await m.intake.receive([registered("e1"), registered("e2", "144500124")], "correspondence");
  assert.equal(status, 202);
  assert.deepEqual(result, { accepted: 1, duplicates: 1, results: [{ id: "e1", outcome: "duplicate" }, { id: "e2", outcome: "accepted" }] });
});

test("an id reused with other content: 409 naming it, nothing of the request stored or applied", async () => {
  const m = memoryIntake();
  await m.intake.receive(registered("e1"), "correspondence");
  await assert.rejects(m.intake.receive([registered("e2", "144500124"), registered("e1", "144500999")], "correspondence"), (e: unknown) => {
    rejectsWith(409, "EVENT_ID_CONFLICT")(e);
    assert.deepEqual((e as { data: { details: unknown } }).data.details, [{ id: "e1" }]);
    return true;
  });
  assert.ok(!m.known.has("e2"));
  assert.equal(m.applied.length, 1);
});

test("an outgoing number another transaction holds: 409 OUTGOING_NUMBER_CONFLICT naming it and its holder, in both languages; nothing of the request stored", async () => {
  const m = memoryIntake();
  await m.intake.receive(issued("a-i", "144500123", "4812077"), "correspondence");
  await assert.rejects(m.intake.receive([registered("b-r", "144500124"), issued("b-i", "144500124", "4812077")], "correspondence"), (e: unknown) => {
    rejectsWith(409, "OUTGOING_NUMBER_CONFLICT")(e);
    const err = e as { message: string; data: { messageAr: string; details: unknown } };
    assert.match(err.message, /4812077 is already used by transaction 144500123; nothing in this request was stored/);
    assert.match(err.data.messageAr, /4812077.*144500123/);
    assert.deepEqual(err.data.details, [{ id: "b-i", outgoingNumber: "4812077", transactionNumber: "144500123" }]);
    return true;
  });
  assert.ok(!m.known.has("b-r") && !m.known.has("b-i"), "nothing of the request is stored");
  assert.equal(m.applied.length, 1);
  assert.equal(m.claimed.get("4812077"), "144500123", "the number stays its first transaction's");
  // The same issued event again is a duplicate; the same transaction issuing it again, or another number, is accepted.
  assert.equal((await m.intake.receive(issued("a-i", "144500123", "4812077"), "correspondence")).status, 200);
  assert.equal((await m.intake.receive(issued("a-i2", "144500123", "4812077"), "correspondence")).status, 202);
  assert.equal((await m.intake.receive(issued("a-i3", "144500123", "4812078"), "correspondence")).status, 202);
  // The other transaction with a number of its own is accepted.
  assert.equal((await m.intake.receive(issued("b-i", "144500124", "4812079"), "correspondence")).status, 202);
});

test("every bad field of every event is named, with its index; nothing is stored", async () => {
  const m = memoryIntake();
  await assert.rejects(m.intake.receive([registered("e1"), { ...registered("e2"), type: "nonsense" }, registered("e1")], "correspondence"), (e: unknown) => {
    rejectsWith(400, "INVALID_EVENT")(e);
    const fields = (e as { data: { details: Array<{ field: string }> } }).data.details.map((d) => d.field);
    assert.ok(fields.some((f) => f.startsWith("[1].")), fields.join());
    assert.ok(fields.includes("[2].id"), "the repeated id");
    return true;
  });
  assert.equal(m.known.size, 0);
});

test("empty and oversized batches are refused before anything is validated", () => {
  assert.throws(() => parseEvents([]), rejectsWith(400, "EMPTY_BATCH"));
  assert.throws(() => parseEvents(Array.from({ length: MAX_BATCH + 1 }, () => ({}))), rejectsWith(413, "BATCH_TOO_LARGE"));
  assert.throws(() => parseEvents("text"), rejectsWith(400, "INVALID_EVENT"));
  assert.equal(parseEvents(registered("e1")).single, true);
});

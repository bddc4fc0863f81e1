// The event apply over an in-memory store: each batch folded, its SMS queued and its follow-up
// synced in that order; outbox entries forgotten only once applied; the sweep leaving what
// this process is still applying.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Applier, applyEvents, type ApplyStore } from "./apply.ts";
import type { AppliedTransaction, OutboxEntry } from "./ingest.ts";
import { project, type LifecycleEvent, type TransactionState } from "./lifecycle.ts";

const at = (minutes: number) => new Date(Date.UTC(2026, 0, 4, 8, minutes));

function event(id: string, type: LifecycleEvent["type"], number: string, minutes: number, data: Record<string, unknown> = {}): LifecycleEvent {
  return { id, type, transactionNumber: number, occurredAt: at(minutes), receivedAt: at(minutes), data };
}

const registered = (id: string, number: string) =>
  event(id, "registered", number, 0, { citizen: { name: "محمد", mobile: "+966551234567", language: "ar" }, subject: "طلب", departmentCode: "LEGAL" });

/** Transactions, an outbox and what each step was handed, in memory. */
function memoryStore(opts: { failProject?: boolean } = {}) {
  const events = new Map<string, LifecycleEvent>();
  const transactions = new Map<string, TransactionState>();
  const outbox = new Map<string, { entry: OutboxEntry; writtenAt: number }>();
  const steps: string[] = [];
  const queued: string[] = [];
  const synced: string[] = [];
  let gate: Promise<void> | undefined;
  const store: ApplyStore = {
    async project(batch) {
      await gate;
      if (opts.failProject) throw new Error("database away");
      steps.push(`project ${batch.map((e) => e.id).join(",")}`);
      const numbers = [...new Set(batch.map((e) => e.transactionNumber))];
      return numbers.map((number) => [number, batch.filter((e) => e.transactionNumber === number)] as const).map(([number, mine]): AppliedTransaction => {
        for (const e of mine) events.set(e.id, e);
        const state = project(number, [...events.values()].filter((e) => e.transactionNumber === number));
        transactions.set(number, state);
        return { state, events: mine };
      });
    },
    async queueMessages(applied) {
      steps.push("queue");
      queued.push(...applied.flatMap((a) => a.events.map((e) => e.id)));
    },
    async syncFollowup(states, days) {
      steps.push(`sync ${days}`);
      synced.push(...states.map((s) => s.number));
    },
    async syncLetters(_states, days) {
      steps.push(`letters ${days}`);
    },
    async pending(_limit, olderThanMs) {
      const entries = [...outbox.values()].filter((o) => o.writtenAt <= Date.now() - olderThanMs).map((o) => o.entry);
      const listed = new Map<string, LifecycleEvent>();
      for (const e of entries) for (const id of e.eventIds) if (stored.has(id)) listed.set(id, stored.get(id)!);
      return { entries, events: listed };
    },
    async forget(ids) {
      steps.push(`forget ${ids.join(",")}`);
      for (const id of ids) outbox.delete(id);
    },
  };
  // Events as stored by a request (the outbox lists them until forgotten).
  const stored = new Map<string, LifecycleEvent>();
  const storeRequest = (outboxId: string, batch: LifecycleEvent[]) => {
    for (const e of batch) stored.set(e.id, e);
    outbox.set(outboxId, { entry: { outboxId, eventIds: batch.map((e) => e.id) }, writtenAt: Date.now() });
  };
  const hold = () => {
    let release!: () => void;
    gate = new Promise((r) => (release = r));
    return () => {
      gate = undefined;
      release();
    };
  };
  return { store, transactions, outbox, steps, queued, synced, storeRequest, hold };
}

test("applyEvents folds the batch, then queues its SMS, then syncs its follow-up and the report's letters, and reports it", async () => {
  const m = memoryStore();
  const reported: AppliedTransaction[][] = [];
  const applied = await applyEvents([registered("e1", "100"), event("e2", "assigned", "100", 5, { employeeId: "E7" }), registered("e3", "200")], {
    defaultReplyPeriodDays: 10,
    store: m.store,
    onApplied: (a) => reported.push(a),
  });
  assert.deepEqual(m.steps, ["project e1,e2,e3", "queue", "sync 10", "letters 10"]);
  assert.deepEqual(applied.map((a) => [a.state.number, a.state.status]), [["100", "assigned"], ["200", "registered"]]);
  assert.deepEqual(m.queued, ["e1", "e2", "e3"]);
  assert.deepEqual(m.synced, ["100", "200"]);
  assert.deepEqual(reported, [applied]);
  assert.deepEqual(await applyEvents([], { defaultReplyPeriodDays: 10, store: m.store }), []);
  assert.equal(m.steps.length, 4, "nothing to apply: no step runs");
});

test("a request's events are applied before its outbox entry is forgotten", async () => {
  const m = memoryStore();
  const applier = new Applier({ defaultReplyPeriodDays: 10, store: m.store });
  const events = [registered("e1", "100")];
  m.storeRequest("o1", events);
  await applier.applyStored(events, "o1");
  assert.deepEqual(m.steps, ["project e1", "queue", "sync 10", "letters 10", "forget o1"]);
  assert.equal(m.outbox.size, 0);
  assert.equal(m.transactions.get("100")?.status, "registered");
});

test("a failed apply rejects and keeps the outbox entry; the sweep applies it later", async () => {
  const failing = memoryStore({ failProject: true });
  const events = [registered("e1", "100")];
  failing.storeRequest("o1", events);
  await assert.rejects(new Applier({ defaultReplyPeriodDays: 10, store: failing.store }).applyStored(events, "o1"), /database away/);
  assert.equal(failing.outbox.size, 1);

  const m = memoryStore();
  m.storeRequest("o1", events);
  const applier = new Applier({ defaultReplyPeriodDays: 10, store: m.store });
  assert.equal(await applier.sweep(0), 1);
  assert.equal(m.outbox.size, 0);
  assert.equal(m.transactions.get("100")?.status, "registered");
  assert.equal(await applier.sweep(0), 0, "nothing left");
});

test("events handed over while a batch is applied make up the next batch, each event once", async () => {
  const m = memoryStore();
  const applier = new Applier({ defaultReplyPeriodDays: 10, store: m.store });
  const release = m.hold();
  const first = applier.apply([registered("e1", "100")]);
  await new Promise((r) => setImmediate(r));
  // Arrives while the first batch is under way: the next batch, with the same event twice.
  const second = applier.apply([registered("e2", "200"), registered("e3", "300")]);
  const again = applier.apply([registered("e3", "300")]);
  release();
  await Promise.all([first, second, again]);
  assert.deepEqual(m.steps.filter((s) => s.startsWith("project")), ["project e1", "project e2,e3"]);
});

test("the sweep leaves entries whose events this process is still applying, and fresh entries of others", async () => {
  const m = memoryStore();
  const applier = new Applier({ defaultReplyPeriodDays: 10, store: m.store });
  const mine = [registered("e1", "100")];
  m.storeRequest("o1", mine);
  m.storeRequest("o2", [registered("e2", "200")]);
  const release = m.hold();
  const applying = applier.applyStored(mine, "o1");
  // o1's event is held here: only o2 is swept.
  const swept = applier.sweep(0);
  release();
  assert.equal(await swept, 1);
  await applying;
  assert.equal(m.outbox.size, 0);
  assert.deepEqual(m.steps.filter((s) => s.startsWith("project")), ["project e1", "project e2"]);

  m.storeRequest("o3", [registered("e3", "300")]);
  assert.equal(await applier.sweep(60_000), 0, "an entry younger than the sweep's age is left to its process");
  assert.equal(m.outbox.size, 1);
});

// Storing events durably and applying them: the outbox between the events API and
// everything that follows (projection, notifications, follow-up clocks). Both work in
// batches: the requests that arrive while a write is under way are stored together, and
// the events stored meanwhile are applied together, a few round-trips per batch.
import { randomUUID } from "node:crypto";
import { EventModel, PendingEventModel, TransactionModel } from "./models.ts";
import { onlyDuplicateKeys } from "./db.ts";
import { eventHash, type IncomingEvent } from "./event-contract.ts";
import { project, type LifecycleEvent, type TransactionState } from "./lifecycle.ts";

export type StoreOutcome = "accepted" | "duplicate" | "conflict";

/** One request's events (validated) and where they come from. */
export interface StoreRequest {
  events: IncomingEvent[];
  source: string;
}

export interface StoreResult {
  outcomes: StoreOutcome[];
  /** Ids reused with other content: the request stored nothing. */
  conflicts: string[];
  /** The events to apply now: those stored by this call, and known ones never applied. */
  toApply: LifecycleEvent[];
}

const asLifecycle = (d: { _id: string; type: string; transactionNumber: string; occurredAt: Date; receivedAt: Date; data?: unknown }): LifecycleEvent => ({
  id: d._id,
  type: d.type as LifecycleEvent["type"],
  transactionNumber: d.transactionNumber,
  occurredAt: d.occurredAt,
  receivedAt: d.receivedAt,
  data: (d.data ?? {}) as Record<string, any>,
});

/**
 * Stores the events of several requests at once (three round-trips in all), each request
 * on its own terms: an id already stored with the same content is a duplicate, with other
 * content a conflict, and a request with a conflict stores nothing. Every stored event is
 * in the outbox (`events_pending`) until it is applied.
 *
 * @example
 *   const [r] = await storeEventRequests([{ events: [event], source: "correspondence" }]);
 *   r.outcomes // ["accepted"]
 */
export async function storeEventRequests(requests: StoreRequest[]): Promise<StoreResult[]> {
  const hashes = requests.map((r) => r.events.map(eventHash));
  const allIds = [...new Set(requests.flatMap((r) => r.events.map((e) => e.id)))];
  const known = new Map<string, { hash: string; applied: boolean; doc?: LifecycleEvent }>();
  for (const d of await EventModel.collection.find({ _id: { $in: allIds as any[] } }).toArray()) {
    known.set(String(d._id), { hash: d.hash, applied: d.applied !== false, doc: asLifecycle(d as any) });
  }

  const now = new Date();
  const results: StoreResult[] = [];
  // Ids taken by an earlier request of this batch: later ones compare against it.
  const taken = new Map<string, string>();
  const fresh: Array<{ doc: Record<string, unknown>; request: number; index: number }> = [];
  requests.forEach((req, r) => {
    const outcomes: StoreOutcome[] = req.events.map((e, i) => {
      const hash = known.get(e.id)?.hash ?? taken.get(e.id);
      if (hash === undefined) return "accepted";
      return hash === hashes[r]![i] ? "duplicate" : "conflict";
    });
    const conflicts = req.events.filter((_, i) => outcomes[i] === "conflict").map((e) => e.id);
    results.push({ outcomes, conflicts, toApply: [] });
    if (conflicts.length) return;
    req.events.forEach((e, i) => {
      if (outcomes[i] !== "accepted") return;
      taken.set(e.id, hashes[r]![i]!);
      fresh.push({
        request: r,
        index: i,
        doc: { _id: e.id, type: e.type, transactionNumber: e.transactionNumber, occurredAt: e.occurredAt, receivedAt: now, data: e.data, hash: hashes[r]![i], source: req.source, applied: false },
      });
    });
  });

  let inserted = new Set(fresh.map((f) => f.doc._id as string));
  if (fresh.length) {
    try {
      await EventModel.collection.insertMany(fresh.map((f) => f.doc) as any[], { ordered: false });
    } catch (err) {
      // Another process stored some of the same ids between our read and our insert:
      // read back what is stored and classify each against it.
      if (!onlyDuplicateKeys(err)) throw err;
      const ids = fresh.map((f) => f.doc._id as string);
      const stored = new Map<string, { hash: string; receivedAt: Date }>();
      for (const d of await EventModel.collection.find({ _id: { $in: ids as any[] } }, { projection: { hash: 1, receivedAt: 1 } }).toArray()) {
        stored.set(String(d._id), d as any);
      }
      inserted = new Set();
      for (const f of fresh) {
        const d = stored.get(f.doc._id as string);
        if (!d) throw err; // neither stored nor a duplicate: a real failure
        const res = results[f.request]!;
        if (d.hash !== f.doc.hash) {
          res.outcomes[f.index] = "conflict";
          res.conflicts.push(f.doc._id as string);
        } else if (d.receivedAt.getTime() !== now.getTime()) res.outcomes[f.index] = "duplicate";
        else inserted.add(f.doc._id as string);
      }
    }
  }

  // What to apply: ours, and duplicates of events stored but never applied (a request that
  // died between its store and its outbox entry, retried by its client).
  const seen = new Set<string>();
  requests.forEach((req, r) => {
    const res = results[r]!;
    req.events.forEach((e, i) => {
      if (seen.has(e.id)) return;
      const mine = inserted.has(e.id) && res.outcomes[i] === "accepted";
      const unapplied = res.outcomes[i] === "duplicate" && known.get(e.id)?.applied === false;
      if (!mine && !unapplied) return;
      seen.add(e.id);
      res.toApply.push(mine ? { ...e, receivedAt: now } : known.get(e.id)!.doc!);
    });
  });
  const outbox = results.flatMap((r) => r.toApply).map((e) => ({ _id: e.id, transactionNumber: e.transactionNumber, receivedAt: e.receivedAt }));
  if (outbox.length) {
    await PendingEventModel.collection.insertMany(outbox as any[], { ordered: false }).catch((err) => {
      if (!onlyDuplicateKeys(err)) throw err;
    });
  }
  return results;
}

/** Stores one request's events: see storeEventRequests. */
export async function storeEvents(events: IncomingEvent[], source: string): Promise<StoreResult> {
  return (await storeEventRequests([{ events, source }]))[0]!;
}

/** The events of the outbox stored at least `olderThanMs` ago (after a crash, or a failed apply). */
export async function pendingEvents(limit = 1000, olderThanMs = 0): Promise<LifecycleEvent[]> {
  const before = Date.now() - olderThanMs;
  // (Through the model: a sweep that runs while the connection is down waits for it.)
  const pending = (await PendingEventModel.find({}).limit(limit * 4).lean())
    .filter((p) => p.receivedAt.getTime() <= before)
    .slice(0, limit);
  if (!pending.length) return [];
  const ids = pending.map((p) => String(p._id));
  const docs = await EventModel.collection.find({ _id: { $in: ids as any[] } }).toArray();
  const found = new Set(docs.map((d) => String(d._id)));
  // An outbox entry whose event is not stored: its request failed before the event was written.
  const orphans = ids.filter((id) => !found.has(id));
  if (orphans.length) await PendingEventModel.collection.deleteMany({ _id: { $in: orphans as any[] } });
  return docs.map((d) => asLifecycle(d as any));
}

/** One transaction's new state and the events of this batch that led to it. */
export interface AppliedTransaction {
  state: TransactionState;
  /** This batch's events of the transaction (some may have been applied already by a run cut short). */
  events: LifecycleEvent[];
}

/** The history kept in a projection, as the events the fold takes. */
function historyEvents(number: string, doc: { history?: Array<{ eventId: string; type: string; occurredAt: Date; receivedAt: Date; data?: unknown }> } | null): LifecycleEvent[] {
  return (doc?.history ?? []).map((h) => ({
    id: h.eventId,
    type: h.type as LifecycleEvent["type"],
    transactionNumber: number,
    occurredAt: h.occurredAt,
    receivedAt: h.receivedAt,
    data: (h.data ?? {}) as Record<string, any>,
  }));
}

/** A state as stored: no undefined fields (the driver would write them as null). */
function storedForm(state: TransactionState, token: string): Record<string, unknown> {
  const doc: Record<string, unknown> = { _id: state.number, updatedAt: new Date(), applyToken: token };
  for (const [k, v] of Object.entries(state)) if (v !== undefined) doc[k] = v;
  return doc;
}

/**
 * Re-derives the transactions of a batch of events and saves them: one read of their
 * projections, one bulk write. A projection's history holds every event folded into it, so
 * the fold needs no read of the event log. The write is conditional on the projection read
 * (its event count), so a concurrent apply elsewhere is never overwritten: the transactions
 * that lost are read and folded again.
 *
 * @example
 *   const applied = await projectTransactions(events);
 *   applied[0].state.status // "registered"
 */
export async function projectTransactions(events: LifecycleEvent[], maxRounds = 10): Promise<AppliedTransaction[]> {
  const byNumber = new Map<string, LifecycleEvent[]>();
  for (const e of events) byNumber.set(e.transactionNumber, [...(byNumber.get(e.transactionNumber) ?? []), e]);
  const done: AppliedTransaction[] = [];
  let todo = [...byNumber.keys()];
  for (let round = 0; todo.length; round++) {
    if (round >= maxRounds) throw new Error(`apply of ${todo.length} transaction(s) kept losing to concurrent applies`);
    const stored = new Map<string, any>();
    for (const d of await TransactionModel.collection.find({ _id: { $in: todo as any[] } }).toArray()) stored.set(String(d._id), d);
    const token = randomUUID();
    const ops: any[] = [];
    const states = new Map<string, TransactionState>();
    for (const number of todo) {
      const prev = stored.get(number) ?? null;
      const prior = historyEvents(number, prev);
      const known = new Set(prior.map((e) => e.id));
      const fresh = byNumber.get(number)!.filter((e) => !known.has(e.id));
      const state = project(number, [...prior, ...fresh]);
      states.set(number, state);
      if (!fresh.length) continue; // applied already (a run cut short after its write)
      if (prev) ops.push({ replaceOne: { filter: { _id: number, eventCount: prev.eventCount }, replacement: storedForm(state, token) } });
      else ops.push({ insertOne: { document: storedForm(state, token) } });
    }
    let written = 0;
    if (ops.length) {
      try {
        const r = await TransactionModel.collection.bulkWrite(ops, { ordered: false });
        written = r.matchedCount + r.insertedCount;
      } catch (err) {
        // An insert that lost to another process's: read and fold again.
        if (!onlyDuplicateKeys(err)) throw err;
        written = -1;
      }
    }
    let lost: string[] = [];
    if (written !== ops.length) {
      const mine = new Set(
        (await TransactionModel.collection.find({ _id: { $in: todo as any[] }, applyToken: token }, { projection: { _id: 1 } }).toArray()).map((d) => String(d._id)),
      );
      const wrote = new Set(ops.map((o) => String(o.replaceOne?.filter._id ?? o.insertOne.document._id)));
      lost = todo.filter((n) => wrote.has(n) && !mine.has(n));
    }
    for (const number of todo) if (!lost.includes(number)) done.push({ state: states.get(number)!, events: byNumber.get(number)! });
    todo = lost;
  }
  return done;
}

/** Marks events applied once all their effects are recorded, and empties their outbox entries. */
export async function markApplied(ids: string[]): Promise<void> {
  if (!ids.length) return;
  await EventModel.collection.updateMany({ _id: { $in: ids as any[] } }, { $set: { applied: true } });
  await PendingEventModel.collection.deleteMany({ _id: { $in: ids as any[] } });
}

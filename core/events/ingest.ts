// Storing events durably and applying them: the outbox between the events API and
// everything that follows (projection, notifications, follow-up clocks). Both work in
// batches: the requests that arrive while a write is under way are stored together, and
// the events stored meanwhile are applied together, a few round-trips per batch.
import { randomUUID } from "node:crypto";
import { EventModel, PendingEventModel, TransactionModel } from "./models.ts";
import { findByIds, onlyDuplicateKeys } from "../store/db.ts";
import { eventHash, type IncomingEvent } from "./contract.ts";
import { project, type LifecycleEvent, type TransactionState } from "./lifecycle.ts";
import { claimOutgoingNumbers, databaseOutgoingClaims, type OutgoingClaimStore, type OutgoingConflict } from "./outgoing.ts";

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
  /** Issued events naming an outgoing number another transaction holds: the request stored nothing. */
  outgoingConflicts: OutgoingConflict[];
  /** The events to apply now: those this call stored. */
  toApply: LifecycleEvent[];
  /** The outbox entry that holds them until they are applied (forget it then: see forgetOutbox). */
  outboxId?: string;
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
 * content a conflict, and a request with a conflict stores nothing; so does a request with an
 * issued event whose outgoing number another transaction holds (numbers are claimed before
 * anything is stored, see claimOutgoingNumbers: two more round-trips when there are new issued
 * events). Each request's new events are listed in one outbox entry (`events_pending`), written
 * before the events themselves, so that no stored event can be left unapplied unseen: the entry
 * is forgotten once they are applied, and the sweep applies what an entry still lists after a
 * crash.
 *
 * @example
 *   const [r] = await storeEventRequests([{ events: [event], source: "correspondence" }]);
 *   r.outcomes // ["accepted"]
 */
export async function storeEventRequests(requests: StoreRequest[], claims: OutgoingClaimStore = databaseOutgoingClaims): Promise<StoreResult[]> {
  const hashes = requests.map((r) => r.events.map(eventHash));
  const allIds = [...new Set(requests.flatMap((r) => r.events.map((e) => e.id)))];
  const known = new Map<string, string>();
  for (const d of await findByIds(EventModel.collection, allIds, { projection: { hash: 1 } })) known.set(String(d._id), d.hash);

  // The outgoing numbers of the new events of requests whose ids are not taken by other content.
  const outgoing = await claimOutgoingNumbers(
    requests.map((req, r) => (req.events.some((e, i) => known.has(e.id) && known.get(e.id) !== hashes[r]![i]) ? null : req.events.filter((e) => !known.has(e.id)))),
    claims,
  );

  const now = new Date();
  const results: StoreResult[] = [];
  // Ids taken by an earlier request of this batch: later ones compare against it.
  const taken = new Map<string, string>();
  const fresh: Array<{ doc: Record<string, unknown>; request: number; index: number }> = [];
  requests.forEach((req, r) => {
    const outcomes: StoreOutcome[] = req.events.map((e, i) => {
      const hash = known.get(e.id) ?? taken.get(e.id);
      if (hash === undefined) return "accepted";
      return hash === hashes[r]![i] ? "duplicate" : "conflict";
    });
    const conflicts = req.events.filter((_, i) => outcomes[i] === "conflict").map((e) => e.id);
    results.push({ outcomes, conflicts, outgoingConflicts: conflicts.length ? [] : outgoing[r]!, toApply: [] });
    if (conflicts.length || outgoing[r]!.length) return;
    req.events.forEach((e, i) => {
      if (outcomes[i] !== "accepted") return;
      taken.set(e.id, hashes[r]![i]!);
      fresh.push({
        request: r,
        index: i,
        doc: { _id: e.id, type: e.type, transactionNumber: e.transactionNumber, occurredAt: e.occurredAt, receivedAt: now, data: e.data, hash: hashes[r]![i], source: req.source },
      });
    });
  });
  if (!fresh.length) return results;

  // The outbox first: a crash before the events leaves ids without events, which the sweep drops.
  const outbox = requests
    .map((_, r) => ({ r, ids: fresh.filter((f) => f.request === r).map((f) => f.doc._id as string) }))
    .filter((o) => o.ids.length)
    .map((o) => ({ _id: randomUUID(), eventIds: o.ids, receivedAt: now, request: o.r }));
  await PendingEventModel.collection.insertMany(outbox.map(({ request, ...doc }) => doc) as any[]);
  for (const o of outbox) results[o.request]!.outboxId = o._id;

  let inserted = new Set(fresh.map((f) => f.doc._id as string));
  try {
    await EventModel.collection.insertMany(fresh.map((f) => f.doc) as any[], { ordered: false });
  } catch (err) {
    // Another process stored some of the same ids between our read and our insert:
    // read back what is stored and classify each against it.
    if (!onlyDuplicateKeys(err)) throw err;
    const stored = new Map<string, { hash: string; receivedAt: Date }>();
    for (const d of await findByIds(EventModel.collection, fresh.map((f) => f.doc._id), { projection: { hash: 1, receivedAt: 1 } })) stored.set(String(d._id), d);
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
  // Applied now: the events this call stored. (Those another process stored are in its outbox entry.)
  for (const f of fresh) {
    if (inserted.has(f.doc._id as string)) results[f.request]!.toApply.push(asLifecycle(f.doc as any));
  }
  return results;
}

/** Stores one request's events: see storeEventRequests. */
export async function storeEvents(events: IncomingEvent[], source: string): Promise<StoreResult> {
  return (await storeEventRequests([{ events, source }]))[0]!;
}

/** An outbox entry still listed: its id and its events' ids. */
export interface OutboxEntry {
  outboxId: string;
  eventIds: string[];
}

/**
 * What the outbox still lists: entries written at least `olderThanMs` ago (up to about
 * `limit` events), and their stored events. Ids without an event are of a request that failed
 * before its events were written: nothing to apply.
 */
export async function pendingEvents(limit = 1000, olderThanMs = 0): Promise<{ entries: OutboxEntry[]; events: Map<string, LifecycleEvent> }> {
  const before = Date.now() - olderThanMs;
  // (Through the model: a sweep that runs while the connection is down waits for it.)
  const all = (await PendingEventModel.find({}).limit(200).lean()).filter((p) => p.receivedAt.getTime() <= before);
  const entries: OutboxEntry[] = [];
  let count = 0;
  for (const e of all) {
    if (entries.length && count + e.eventIds.length > limit) break;
    entries.push({ outboxId: e._id, eventIds: e.eventIds });
    count += e.eventIds.length;
  }
  const ids = entries.flatMap((e) => e.eventIds);
  const events = new Map<string, LifecycleEvent>();
  for (const d of await findByIds(EventModel.collection, ids)) events.set(String(d._id), asLifecycle(d));
  return { entries, events };
}

/** Forgets outbox entries whose events are all applied. */
export async function forgetOutbox(outboxIds: string[]): Promise<void> {
  if (outboxIds.length) await PendingEventModel.collection.deleteMany({ _id: { $in: outboxIds as any[] } });
}

/** One transaction's new state and the events of this batch that led to it. */
export interface AppliedTransaction {
  state: TransactionState;
  /** This batch's events of the transaction (some may have been applied already by a run cut short). */
  events: LifecycleEvent[];
}

/** The history kept in a projection, as the events the fold takes. */
function historyEvents(number: string, doc: { history?: Array<{ eventId: string; type: string; occurredAt: Date; receivedAt: Date; data?: unknown }> } | null): LifecycleEvent[] {
  return (doc?.history ?? []).map((h) => asLifecycle({ ...h, _id: h.eventId, transactionNumber: number }));
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
    for (const d of await findByIds(TransactionModel.collection, todo)) stored.set(String(d._id), d);
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


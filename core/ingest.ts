// Storing events durably and applying them: the outbox between the events API and
// everything that follows (projection, notifications, follow-up clocks).
import { EventModel, TransactionModel } from "./models.ts";
import { isDuplicateKey, onlyDuplicateKeys } from "./db.ts";
import { eventHash, type IncomingEvent } from "./event-contract.ts";
import { project, type LifecycleEvent, type TransactionState } from "./lifecycle.ts";

export type StoreOutcome = "accepted" | "duplicate" | "conflict";

/**
 * Stores events (already validated) unless their id is known. An id already stored with
 * the same content is a duplicate, with other content a conflict; conflicts are checked
 * before anything is written, so a batch with a conflict stores nothing.
 *
 * @example
 *   const r = await storeEvents([event], "correspondence");
 *   r.outcomes // ["accepted"]
 */
export async function storeEvents(
  events: IncomingEvent[],
  source: string,
): Promise<{ outcomes: StoreOutcome[]; conflicts: string[]; transactionNumbers: string[] }> {
  const hashes = events.map(eventHash);
  const ids = events.map((e) => e.id);
  const existing = new Map<string, string>();
  for (const doc of await EventModel.find({ _id: { $in: ids } }, { hash: 1 }).lean()) existing.set(doc._id, doc.hash);
  const outcomes: StoreOutcome[] = events.map((e, i) => {
    const known = existing.get(e.id);
    if (known === undefined) return "accepted";
    return known === hashes[i] ? "duplicate" : "conflict";
  });
  const conflicts = ids.filter((_, i) => outcomes[i] === "conflict");
  if (conflicts.length) return { outcomes, conflicts, transactionNumbers: [] };

  const now = new Date();
  const fresh = events
    .map((e, i) => ({ e, i }))
    .filter(({ i }) => outcomes[i] === "accepted")
    .map(({ e, i }) => ({
      _id: e.id,
      type: e.type,
      transactionNumber: e.transactionNumber,
      occurredAt: e.occurredAt,
      receivedAt: now,
      data: e.data,
      hash: hashes[i],
      source,
      applied: false,
    }));
  if (fresh.length) {
    try {
      await EventModel.insertMany(fresh, { ordered: false });
    } catch (err) {
      // A concurrent request stored some of the same ids between our check and our insert:
      // read back what is stored and classify each against it.
      if (!onlyDuplicateKeys(err)) throw err;
      const stored = new Map<string, { hash: string; receivedAt: Date }>();
      for (const doc of await EventModel.find({ _id: { $in: fresh.map((f) => f._id) } }, { hash: 1, receivedAt: 1 }).lean()) {
        stored.set(doc._id, doc);
      }
      for (const f of fresh) {
        const doc = stored.get(f._id);
        if (!doc) throw err; // neither stored nor a duplicate: a real failure
        const i = ids.indexOf(f._id);
        if (doc.hash !== f.hash) outcomes[i] = "conflict";
        else if (doc.receivedAt.getTime() !== now.getTime()) outcomes[i] = "duplicate";
      }
    }
  }
  const transactionNumbers = [...new Set(events.filter((_, i) => outcomes[i] === "accepted").map((e) => e.transactionNumber))];
  return { outcomes, conflicts: ids.filter((_, i) => outcomes[i] === "conflict"), transactionNumbers };
}

/** All events of a transaction, as the lifecycle fold takes them. */
export async function loadEvents(transactionNumber: string): Promise<Array<LifecycleEvent & { applied: boolean }>> {
  const docs = await EventModel.find({ transactionNumber }).lean();
  return docs.map((d) => ({
    id: d._id,
    type: d.type as LifecycleEvent["type"],
    transactionNumber: d.transactionNumber,
    occurredAt: d.occurredAt,
    receivedAt: d.receivedAt,
    data: (d.data ?? {}) as Record<string, any>,
    applied: d.applied ?? false,
  }));
}

/**
 * Recomputes a transaction from all its events and saves it, unless a newer projection
 * (one built from more events) is already stored. Safe to run concurrently and repeatedly.
 */
export async function saveProjection(state: TransactionState): Promise<void> {
  const doc = { ...state, _id: state.number, updatedAt: new Date() };
  try {
    await TransactionModel.updateOne(
      { _id: state.number, eventCount: { $lte: state.eventCount } },
      { $set: doc },
      { upsert: true },
    );
  } catch (err) {
    // The upsert found a projection built from more events: ours is stale, keep theirs.
    if (!isDuplicateKey(err)) throw err;
  }
}

/** Marks events applied once all their effects are recorded. */
export async function markApplied(ids: string[]): Promise<void> {
  if (ids.length) await EventModel.updateMany({ _id: { $in: ids } }, { $set: { applied: true } });
}

/** Transaction numbers that have events not yet applied (after a crash, or a failed apply). */
export async function pendingTransactionNumbers(limit = 500, olderThanMs = 0): Promise<string[]> {
  const before = new Date(Date.now() - olderThanMs);
  const docs = await EventModel.find({ applied: false, receivedAt: { $lte: before } }, { transactionNumber: 1 })
    .sort({ receivedAt: 1 })
    .limit(limit)
    .lean();
  return [...new Set(docs.map((d) => d.transactionNumber))];
}

/** How many events a transaction has. */
export async function countEvents(transactionNumber: string): Promise<number> {
  return EventModel.countDocuments({ transactionNumber });
}

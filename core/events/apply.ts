// Applying stored events: re-derive their transactions, queue the SMS they cause, bring the
// follow-up records in line, forget their outbox entry. The heart of the product, in batches: the
// events stored while a batch is being applied make up the next one.
import { Batcher } from "../store/batcher.ts";
import { IN_LIMIT } from "../store/db.ts";
import { forgetOutbox, pendingEvents, projectTransactions, type AppliedTransaction, type OutboxEntry } from "./ingest.ts";
import type { LifecycleEvent, TransactionState } from "./lifecycle.ts";
import { enqueueMessages, plannedForApplied } from "../sms/notifications.ts";
import { syncPendingItems } from "../followup/notices.ts";
import { syncLetters } from "../report/letters.ts";

/** What the apply reads and writes: the database (databaseApplyStore), or a fake in unit tests. */
export interface ApplyStore {
  /** Re-derives the events' transactions and saves them (see projectTransactions). */
  project(events: LifecycleEvent[]): Promise<AppliedTransaction[]>;
  /** Queues the SMS the applied events cause (see plannedForApplied). */
  queueMessages(applied: AppliedTransaction[]): Promise<void>;
  /** Brings the follow-up of these transactions in line (see syncPendingItems). */
  syncFollowup(states: TransactionState[], defaultReplyPeriodDays: number): Promise<void>;
  /** Keeps the report's letter records in step (see syncLetters). */
  syncLetters(states: TransactionState[], defaultReplyPeriodDays: number): Promise<void>;
  /** What the outbox still lists, written at least `olderThanMs` ago (see pendingEvents). */
  pending(limit: number, olderThanMs: number): Promise<{ entries: OutboxEntry[]; events: Map<string, LifecycleEvent> }>;
  /** Forgets outbox entries whose events are applied. */
  forget(outboxIds: string[]): Promise<void>;
}

/** The apply's store on the database. */
export const databaseApplyStore: ApplyStore = {
  project: (events) => projectTransactions(events),
  queueMessages: async (applied) => enqueueMessages(await plannedForApplied(applied)),
  syncFollowup: (states, days) => syncPendingItems(states, days),
  syncLetters: (states, days) => syncLetters(states, days),
  pending: (limit, olderThanMs) => pendingEvents(limit, olderThanMs),
  forget: (ids) => forgetOutbox(ids),
};

export interface ApplierOptions {
  defaultReplyPeriodDays: number;
  /** Default: the database's. */
  store?: ApplyStore;
  /** Called after each batch (metrics, `transaction.updated`). */
  onApplied?: (applied: AppliedTransaction[]) => void;
  /** Events per batch at most. */
  maxBatch?: number;
}

/**
 * Applies one batch of events: a read and a write of their projections, two inserts for
 * their SMS, and the follow-up and report records of those with outgoing items. Safe to repeat: message
 * ids come from the events, projections skip what they hold.
 *
 * @example
 *   await applyEvents(events, { defaultReplyPeriodDays: 10 });
 */
export async function applyEvents(events: LifecycleEvent[], opts: ApplierOptions): Promise<AppliedTransaction[]> {
  if (!events.length) return [];
  const store = opts.store ?? databaseApplyStore;
  const applied = await store.project(events);
  await store.queueMessages(applied);
  await store.syncFollowup(applied.map((a) => a.state), opts.defaultReplyPeriodDays);
  await store.syncLetters(applied.map((a) => a.state), opts.defaultReplyPeriodDays);
  opts.onApplied?.(applied);
  return applied;
}

/**
 * The process's applier: events handed to it are applied in batches, one batch at a time;
 * those it holds are skipped by the sweep, so a slow batch is never applied twice here.
 *
 * @example
 *   const applier = new Applier({ defaultReplyPeriodDays: 10 });
 *   await applier.apply(stored.toApply);
 *   await applier.sweep(); // what a crash or a failure left unapplied
 */
export class Applier {
  private readonly held = new Set<string>();
  private readonly batcher: Batcher<LifecycleEvent, void>;
  private readonly store: ApplyStore;

  constructor(opts: ApplierOptions) {
    this.store = opts.store ?? databaseApplyStore;
    this.batcher = new Batcher(
      async (events) => {
        // The same event twice in one batch (handed over by a request and by the sweep) is applied once.
        const unique = [...new Map(events.map((e) => [e.id, e])).values()];
        await applyEvents(unique, opts);
        return events.map((): void => undefined);
      },
      // Their ids and transaction numbers stay within one indexed $in (see IN_LIMIT).
      { maxBatch: opts.maxBatch ?? IN_LIMIT },
    );
  }

  /** Applies the events (with whatever else is waiting); rejects when their batch failed. */
  async apply(events: LifecycleEvent[]): Promise<void> {
    const mine = events.filter((e) => !this.held.has(e.id));
    mine.forEach((e) => this.held.add(e.id));
    try {
      await Promise.all(mine.map((e) => this.batcher.add(e)));
    } finally {
      mine.forEach((e) => this.held.delete(e.id));
    }
  }

  /** Applies a request's stored events, then forgets its outbox entry (with others being forgotten). */
  async applyStored(events: LifecycleEvent[], outboxId: string | undefined): Promise<void> {
    await this.apply(events);
    if (outboxId) await this.forget.add(outboxId);
  }

  private readonly forget = new Batcher<string, void>(async (ids) => {
    await this.store.forget(ids);
    return ids.map((): void => undefined);
  });

  /**
   * Applies what the outbox still lists and no applier here holds: events whose apply failed,
   * or whose process died. `olderThanMs` leaves other processes' fresh entries to them.
   * Answers the count of events applied.
   */
  async sweep(olderThanMs: number, limit = IN_LIMIT): Promise<number> {
    const { entries, events } = await this.store.pending(limit, olderThanMs);
    // An entry with an event held here belongs to a request still being applied: it forgets it.
    const mine = entries.filter((e) => !e.eventIds.some((id) => this.held.has(id)));
    const toApply = mine.flatMap((e) => e.eventIds.map((id) => events.get(id)).filter((x): x is LifecycleEvent => !!x));
    if (toApply.length) await this.apply(toApply);
    await this.store.forget(mine.map((e) => e.outboxId));
    return toApply.length;
  }
}

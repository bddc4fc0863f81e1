/**
 * The letter records the report counts (`report_letters`): one per outgoing letter that needs
 * a reply, with the day it was sent, its agency and department, and, once replied, the days
 * it took and whether that was within the department's period. They are kept in line with the
 * transactions by the apply step, a batch at a time, and mark the days they change dirty.
 *
 * @module
 */
import type { OutgoingState, TransactionState } from "../events/lifecycle.ts";
import { dueDate, followupPolicy, type FollowupPolicy } from "../followup/policy.ts";
import { directory } from "../directory/cache.ts";
import { daysBetween, riyadhDateKey } from "../text/calendar.ts";
import { findByIds, onlyDuplicateKeys } from "../store/db.ts";
import { markDays } from "./facts.ts";
import { ReportLetterModel } from "./models.ts";

/** A letter record as stored. */
export interface LetterRecord {
  _id: string;
  transactionNumber: string;
  /** The transaction's event count it was written from: an older state never overwrites a newer one. */
  eventCount: number;
  day: string;
  agencyCode: string;
  departmentCode: string;
  sentAt: Date;
  replied: boolean;
  repliedAt?: Date;
  daysToReply?: number;
  within?: boolean;
}

/** The parts of a transaction's state its letters come from. */
export type LetterSource = Pick<TransactionState, "number" | "departmentCode" | "outgoing" | "eventCount">;

/**
 * What a transaction's state says of one of its letters (`prev`: its record as stored).
 *
 * @example
 *   letterRecord(state, state.outgoing[0], policy, [], undefined) // { _id: "9144800101", day: "2026-01-03", replied: false, ... }
 */
export function letterRecord(state: LetterSource, o: OutgoingState, policy: FollowupPolicy, holidays: string[], prev?: LetterRecord): LetterRecord {
  const rec: LetterRecord = {
    _id: o.number,
    transactionNumber: state.number,
    eventCount: state.eventCount ?? 0,
    day: riyadhDateKey(o.date),
    agencyCode: o.destination?.agencyCode ?? "",
    departmentCode: state.departmentCode ?? "",
    sentAt: o.date,
    replied: !!o.reply,
  };
  const repliedAt = o.reply ? (o.reply.date ?? o.reply.receivedAt) : undefined;
  if (repliedAt) {
    rec.repliedAt = repliedAt;
    rec.daysToReply = Math.max(daysBetween(o.date, repliedAt), 0);
    // Decided once, with the department's period when the reply is applied: a later change
    // of the period does not rewrite past months.
    const same = prev?.repliedAt?.getTime() === repliedAt.getTime() && prev.sentAt?.getTime() === o.date.getTime() && typeof prev.within === "boolean";
    rec.within = same ? prev!.within : repliedAt <= dueDate(o.date, policy, holidays);
  }
  return rec;
}

const FIELDS = ["transactionNumber", "day", "agencyCode", "departmentCode", "replied", "daysToReply", "within"] as const;
const time = (d: Date | undefined | null) => (d ? new Date(d).getTime() : undefined);

function sameRecord(a: LetterRecord, b: LetterRecord): boolean {
  return FIELDS.every((f) => (a[f] ?? null) === (b[f] ?? null)) && time(a.sentAt) === time(b.sentAt) && time(a.repliedAt) === time(b.repliedAt);
}

/** Replaces a record unless the stored one comes from a newer state of its transaction. */
const replaceOp = (r: LetterRecord) => ({ replaceOne: { filter: { _id: r._id, eventCount: { $lte: r.eventCount } }, replacement: r } });

/**
 * Brings the letter records of these transactions in line with their state, and marks the
 * days whose letters changed (a letter moved to another day marks both): a read, a write and
 * the days' upsert for a batch, nothing when no transaction has outgoing letters. Idempotent,
 * and an older state (a concurrent apply, a build from stored transactions) never overwrites
 * a record written from a newer one.
 *
 * @example
 *   await syncLetters(applied.map((a) => a.state), 10);
 */
export async function syncLetters(states: LetterSource[], defaultPeriod: number): Promise<void> {
  const withOutgoing = states.filter((s) => s.outgoing?.length);
  if (!withOutgoing.length) return;
  const numbers = withOutgoing.flatMap((s) => s.outgoing.map((o) => o.number));
  const stored = new Map<string, LetterRecord>((await findByIds(ReportLetterModel.collection, numbers)).map((l) => [l._id, l]));
  const holidays = await directory.holidays.dates();
  const inserts: LetterRecord[] = [];
  const replaces: LetterRecord[] = [];
  const gone: Array<{ _id: string; eventCount: number }> = [];
  const days = new Set<string>();
  for (const s of withOutgoing) {
    const policy = await followupPolicy("reply", s.departmentCode, defaultPeriod);
    for (const o of s.outgoing) {
      const prev = stored.get(o.number);
      if (prev && prev.eventCount > (s.eventCount ?? 0)) continue; // written from a newer state
      if (!o.requiresReply) {
        if (prev) gone.push({ _id: o.number, eventCount: s.eventCount ?? 0 }), days.add(prev.day);
        continue;
      }
      const next = letterRecord(s, o, policy, holidays, prev);
      if (prev && sameRecord(prev, next)) continue;
      (prev ? replaces : inserts).push(next);
      days.add(next.day);
      if (prev) days.add(prev.day);
    }
  }
  const ops: any[] = [
    ...inserts.map((r) => ({ insertOne: { document: r } })),
    ...replaces.map(replaceOp),
    ...gone.map((g) => ({ deleteOne: { filter: { _id: g._id, eventCount: { $lte: g.eventCount } } } })),
  ];
  if (ops.length) {
    await ReportLetterModel.collection.bulkWrite(ops, { ordered: false }).catch(async (err) => {
      // Inserted meanwhile by another apply: replaced instead (unless that one was newer).
      if (!onlyDuplicateKeys(err)) throw err;
      const taken = new Set((err.writeErrors ?? [err]).map((e: { index?: number }) => e.index));
      const retry: any[] = inserts.filter((_, i) => taken.has(i)).map(replaceOp);
      if (retry.length) await ReportLetterModel.collection.bulkWrite(retry, { ordered: false });
    });
  }
  await markDays("letters", days);
}

// Overdue replies: every outgoing item that waits for a reply has a pending-reply record
// while it waits, and only then. The record carries the next notice's time and how many
// notices went out, so each notice (overdue, reminders, escalation) is sent once:
// its message id is derived from the outgoing number and the notice's place in the sequence.
import mongoose, { Schema } from "mongoose";
import { addDays, addWorkingDays, daysBetween } from "./dates.ts";
import type { TransactionState } from "./lifecycle.ts";
import { enqueueMessages, type PlannedMessage } from "./notifications.ts";
import { JOBS_COLLECTION } from "./jobs.ts";
import { directory } from "./directory-cache.ts";
import { nativeDb } from "./db.ts";

export const JOB_FOLLOWUP = "followup.due";
export const JOB_FOLLOWUP_SWEEP = "followup.sweep";

const pendingReplySchema = new Schema(
  {
    _id: { type: String, required: true }, // the outgoing number
    transactionNumber: { type: String, required: true },
    departmentCode: String,
    agencyCode: { type: String, required: true },
    outgoingDate: { type: Date, required: true },
    dueAt: { type: Date, required: true },
    /** When the next notice is due; unset once the sequence is over (the item still waits). */
    nextAt: Date,
    /** Notices sent so far: 0 none, 1 the overdue notice, 1+k after k reminders, then the escalation. */
    stage: { type: Number, default: 0 },
    lastNoticeAt: Date,
    createdAt: Date,
  },
  { versionKey: false },
);
// The sweep's query: pending items whose next notice is due.
pendingReplySchema.index({ nextAt: 1 }, { sparse: true });
pendingReplySchema.index({ departmentCode: 1 });
pendingReplySchema.index({ transactionNumber: 1 });

const holidaySchema = new Schema({ _id: { type: String, required: true }, name: String }, { versionKey: false });

export const PendingReplyModel = mongoose.model("PendingReply", pendingReplySchema, "pending_replies");
export const HolidayModel = mongoose.model("Holiday", holidaySchema, "holidays");

export interface ReplyPolicy {
  replyPeriodDays: number;
  replyPeriodKind: "calendar" | "working";
  reminderEveryDays: number;
  maxReminders: number;
  hasEscalation: boolean;
}

export async function replyPolicy(departmentCode: string | undefined | null, defaultPeriod: number): Promise<ReplyPolicy> {
  const d = departmentCode ? await directory.departments.get(departmentCode) : null;
  return {
    replyPeriodDays: d?.replyPeriodDays ?? defaultPeriod,
    replyPeriodKind: (d?.replyPeriodKind as "calendar" | "working" | undefined) ?? "calendar",
    reminderEveryDays: d?.reminderEveryDays ?? 3,
    maxReminders: d?.maxReminders ?? 3,
    hasEscalation: !!d?.escalation?.mobile,
  };
}

/**
 * The due date of a reply: the outgoing date plus the reply period, in calendar days or in
 * working days (Friday and Saturday off, and the holidays).
 *
 * @example
 *   dueDate(new Date("2026-11-01T09:00:00Z"), { replyPeriodDays: 10, replyPeriodKind: "calendar" }, []) // 2026-11-11T09:00:00Z
 */
export function dueDate(outgoingDate: Date, policy: Pick<ReplyPolicy, "replyPeriodDays" | "replyPeriodKind">, holidays: string[]): Date {
  return policy.replyPeriodKind === "working"
    ? addWorkingDays(outgoingDate, policy.replyPeriodDays, { holidays })
    : addDays(outgoingDate, policy.replyPeriodDays);
}

/** When notice number `stage` (0-based) is due, or undefined when the sequence has no such notice. */
export function noticeTime(dueAt: Date, stage: number, policy: ReplyPolicy): Date | undefined {
  if (stage <= policy.maxReminders) return addDays(dueAt, stage * policy.reminderEveryDays);
  if (stage === policy.maxReminders + 1 && policy.hasEscalation) return addDays(dueAt, stage * policy.reminderEveryDays);
  return undefined;
}

function holidayKeys(): Promise<string[]> {
  return directory.holidays.dates();
}

/**
 * Schedules (or moves) the Agenda jobs of outgoing items' next notices: one job per item,
 * written in one bulk upsert of the documents Agenda's own unique save would write.
 */
async function scheduleNotices(items: Array<{ outgoingNumber: string; at: Date }>): Promise<void> {
  if (!items.length) return;
  await nativeDb()
    .collection(JOBS_COLLECTION)
    .bulkWrite(
      items.map(({ outgoingNumber, at }) => ({
        updateOne: {
          filter: { name: JOB_FOLLOWUP, "data.outgoingNumber": outgoingNumber },
          update: {
            $set: { name: JOB_FOLLOWUP, data: { outgoingNumber }, type: "normal", priority: 0, nextRunAt: at, disabled: null, lastModifiedBy: null },
            // A job running now keeps its lock: Agenda saves it when it ends.
            $setOnInsert: { lockedAt: null, lastRunAt: null, lastFinishedAt: null, failedAt: null, failCount: null, failReason: null, repeatInterval: null, repeatAt: null, repeatTimezone: null },
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
}

function scheduleNotice(outgoingNumber: string, at: Date): Promise<void> {
  return scheduleNotices([{ outgoingNumber, at }]);
}

async function cancelNotices(outgoingNumbers: string[]): Promise<void> {
  if (!outgoingNumbers.length) return;
  await nativeDb().collection(JOBS_COLLECTION).deleteMany({ name: JOB_FOLLOWUP, "data.outgoingNumber": { $in: outgoingNumbers } });
}

/**
 * Brings the pending-reply records of transactions in line with their state: items that
 * wait for a reply get one (due date from the department's current policy), replied or
 * closed ones lose it. Idempotent; called whenever transactions' events are applied, for a
 * whole batch at once (a read, a write and the jobs' write, whatever the batch's size).
 */
export async function syncPendingReplies(states: TransactionState | TransactionState[], defaultPeriod: number): Promise<void> {
  const withOutgoing = [states].flat().filter((s) => s.outgoing.length);
  if (!withOutgoing.length) return;
  const waiting = withOutgoing.flatMap((state) =>
    (state.closedAt ? [] : state.outgoing.filter((o) => o.requiresReply && !o.reply)).map((o) => ({ state, o })),
  );
  const waitingNumbers = new Set(waiting.map((w) => w.o.number));
  const done = withOutgoing.flatMap((s) => s.outgoing.map((o) => o.number)).filter((n) => !waitingNumbers.has(n));
  if (done.length) {
    const removed = await PendingReplyModel.deleteMany({ _id: { $in: done } });
    if (removed.deletedCount) await cancelNotices(done);
  }
  if (!waiting.length) return;
  const existing = new Map((await PendingReplyModel.find({ _id: { $in: [...waitingNumbers] } }).lean()).map((p) => [p._id, p]));
  const times = new NoticeTimes();
  for (const { state, o } of waiting) {
    const policy = await replyPolicy(state.departmentCode, defaultPeriod);
    const holidays = policy.replyPeriodKind === "working" ? await holidayKeys() : [];
    const dueAt = dueDate(o.date, policy, holidays);
    const prev = existing.get(o.number);
    const nextAt = noticeTime(dueAt, prev?.stage ?? 0, policy);
    const fields = { transactionNumber: state.number, departmentCode: state.departmentCode, agencyCode: o.destination.agencyCode, outgoingDate: o.date, dueAt };
    const same = prev && prev.dueAt?.getTime() === dueAt.getTime() && prev.nextAt?.getTime() === nextAt?.getTime() &&
      prev.departmentCode === state.departmentCode && prev.agencyCode === o.destination.agencyCode && prev.transactionNumber === state.number;
    if (!same) times.set(o.number, prev?.stage, fields, nextAt);
  }
  await times.write();
}

/** A department's policy changed: re-time everything of it still pending (a read, a write and the jobs' write). */
export async function retimeDepartment(departmentCode: string, defaultPeriod: number): Promise<number> {
  const policy = await replyPolicy(departmentCode, defaultPeriod);
  const holidays = policy.replyPeriodKind === "working" ? await holidayKeys() : [];
  const items = await PendingReplyModel.find({ departmentCode }, { outgoingDate: 1, stage: 1 }).lean();
  const times = new NoticeTimes();
  for (const p of items) {
    const dueAt = dueDate(p.outgoingDate, policy, holidays);
    times.set(p._id, p.stage, { dueAt }, noticeTime(dueAt, p.stage, policy));
  }
  await times.write();
  return items.length;
}

/**
 * New notice times of pending items, written together: the records (each only if its stage is
 * still the one read, so a notice sent meanwhile is not undone) and their jobs.
 */
class NoticeTimes {
  private readonly ops: any[] = [];
  private readonly jobs: Array<{ outgoingNumber: string; at: Date }> = [];
  private readonly cancelled: string[] = [];

  /** An item's fields and next notice (none: its sequence is over); `stage` undefined for a new item. */
  set(outgoingNumber: string, stage: number | undefined, fields: Record<string, unknown>, nextAt: Date | undefined): void {
    if (stage === undefined) {
      this.ops.push({ updateOne: { filter: { _id: outgoingNumber }, update: { $set: { ...fields, ...(nextAt ? { nextAt } : {}) }, $setOnInsert: { stage: 0, createdAt: new Date() } }, upsert: true } });
    } else {
      this.ops.push({ updateOne: { filter: { _id: outgoingNumber, stage }, update: nextAt ? { $set: { ...fields, nextAt } } : { $set: fields, $unset: { nextAt: 1 } } } });
    }
    if (nextAt) this.jobs.push({ outgoingNumber, at: nextAt });
    else this.cancelled.push(outgoingNumber);
  }

  async write(): Promise<void> {
    if (this.ops.length) await PendingReplyModel.bulkWrite(this.ops, { ordered: false });
    await scheduleNotices(this.jobs);
    await cancelNotices(this.cancelled);
  }
}

/** What processNotice did, and when the item's next notice is due (none: the sequence is over). */
export interface NoticeResult {
  outcome: "sent" | "not-due" | "none";
  nextAt?: Date;
}

/**
 * Sends the notice that is due for one outgoing item, if any, and moves on to the next.
 * After an outage only one notice goes out, and the sequence resumes at its next future slot.
 * The item's job is moved to the next notice, unless `fromJob`: the running job itself is
 * then re-timed by its caller (Agenda writes the running job's own document when it ends,
 * over any change made meanwhile, and removes it when it has no next run).
 */
export async function processNotice(outgoingNumber: string, defaultPeriod: number, now = new Date(), opts: { fromJob?: boolean } = {}): Promise<NoticeResult> {
  const p = await PendingReplyModel.findById(outgoingNumber).lean();
  if (!p || !p.nextAt) return { outcome: "none" };
  if (p.nextAt > now) {
    if (!opts.fromJob) await scheduleNotice(outgoingNumber, p.nextAt);
    return { outcome: "not-due", nextAt: p.nextAt };
  }
  const policy = await replyPolicy(p.departmentCode ?? undefined, defaultPeriod);
  const stage: number = p.stage;
  const vars = { outgoingNumber, departmentCode: p.departmentCode, daysOverdue: Math.max(daysBetween(p.dueAt, now), 0) };
  const base = { transactionNumber: p.transactionNumber, _id: `followup:${outgoingNumber}:${stage}`, departmentCode: p.departmentCode ?? undefined };
  let notice: PlannedMessage | undefined;
  if (stage === 0) notice = { ...base, template: "overdue", role: "manager", vars };
  else if (stage <= policy.maxReminders) notice = { ...base, template: "reminder", role: "manager", vars: { ...vars, reminderNumber: stage } };
  else if (policy.hasEscalation) notice = { ...base, template: "escalation", role: "escalation", vars: { ...vars, reminderCount: policy.maxReminders } };
  // The message first (its id makes it once), then the stage: a crash in between repeats nothing.
  if (notice) await enqueueMessages([notice]);
  let next = stage + 1;
  let nextAt = noticeTime(p.dueAt, next, policy);
  while (nextAt && nextAt <= now) nextAt = noticeTime(p.dueAt, ++next, policy);
  await PendingReplyModel.updateOne(
    { _id: outgoingNumber, stage },
    nextAt ? { $set: { stage: next, nextAt, lastNoticeAt: now } } : { $set: { stage: next, lastNoticeAt: now }, $unset: { nextAt: 1 } },
  );
  if (nextAt && !opts.fromJob) await scheduleNotice(outgoingNumber, nextAt);
  return { outcome: "sent", ...(nextAt ? { nextAt } : {}) };
}

/**
 * The safety sweep: every pending item whose notice is due, read through the nextAt index
 * from a collection that holds pending items only.
 */
export async function sweepNotices(defaultPeriod: number, now = new Date()): Promise<{ due: number; sent: number }> {
  const due = await PendingReplyModel.find({ nextAt: { $lte: now } }, { _id: 1 }).lean();
  let sent = 0;
  for (const p of due) if ((await processNotice(p._id, defaultPeriod, now)).outcome === "sent") sent++;
  return { due: due.length, sent };
}

// Overdue replies: every outgoing item that waits for a reply has a pending-reply record
// while it waits, and only then. The record carries the next notice's time and how many
// notices went out, so each notice (overdue, reminders, escalation) is sent once:
// its message id is derived from the outgoing number and the notice's place in the sequence.
import mongoose, { Schema } from "mongoose";
import { addDays, addWorkingDays, daysBetween } from "./dates.ts";
import type { TransactionState } from "./lifecycle.ts";
import { DepartmentModel } from "./models.ts";
import { enqueueMessages, type PlannedMessage } from "./notifications.ts";
import { getAgenda } from "./jobs.ts";

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

export async function replyPolicy(departmentCode: string | undefined, defaultPeriod: number): Promise<ReplyPolicy> {
  const d = departmentCode ? await DepartmentModel.findById(departmentCode).lean() : undefined;
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

async function holidayKeys(): Promise<string[]> {
  return (await HolidayModel.find({}, { _id: 1 }).lean()).map((h) => h._id);
}

/** Schedules (or moves) the Agenda job of an outgoing item's next notice. */
async function scheduleNotice(outgoingNumber: string, at: Date): Promise<void> {
  const agenda = await getAgenda();
  await agenda.create(JOB_FOLLOWUP, { outgoingNumber }).unique({ "data.outgoingNumber": outgoingNumber }).schedule(at).save();
}

async function cancelNotice(outgoingNumber: string): Promise<void> {
  const agenda = await getAgenda();
  await agenda.cancel({ name: JOB_FOLLOWUP, data: { outgoingNumber } } as any).catch(() => undefined);
}

/**
 * Brings the pending-reply records of a transaction in line with its state: items that
 * wait for a reply get one (due date from the department's current policy), replied or
 * closed ones lose it. Idempotent; called whenever the transaction's events are applied.
 */
export async function syncPendingReplies(state: TransactionState, defaultPeriod: number): Promise<void> {
  const waiting = state.closedAt ? [] : state.outgoing.filter((o) => o.requiresReply && !o.reply);
  const done = state.outgoing.filter((o) => !waiting.includes(o));
  for (const o of done) {
    const removed = await PendingReplyModel.deleteOne({ _id: o.number });
    if (removed.deletedCount) await cancelNotice(o.number);
  }
  if (!waiting.length) return;
  const policy = await replyPolicy(state.departmentCode, defaultPeriod);
  const holidays = policy.replyPeriodKind === "working" ? await holidayKeys() : [];
  for (const o of waiting) {
    const dueAt = dueDate(o.date, policy, holidays);
    await PendingReplyModel.updateOne(
      { _id: o.number },
      {
        $set: { transactionNumber: state.number, departmentCode: state.departmentCode, agencyCode: o.destination.agencyCode, outgoingDate: o.date, dueAt },
        $setOnInsert: { stage: 0, nextAt: dueAt, createdAt: new Date() },
      },
      { upsert: true },
    );
    await retime(o.number, policy);
  }
}

/** Recomputes an item's due date and next notice from the policy, and moves its job. */
async function retime(outgoingNumber: string, policy: ReplyPolicy, holidays?: string[]): Promise<void> {
  const p = await PendingReplyModel.findById(outgoingNumber).lean();
  if (!p) return;
  const dueAt = holidays ? dueDate(p.outgoingDate, policy, holidays) : p.dueAt;
  const nextAt = noticeTime(dueAt, p.stage, policy);
  await PendingReplyModel.updateOne({ _id: outgoingNumber, stage: p.stage }, nextAt ? { $set: { dueAt, nextAt } } : { $set: { dueAt }, $unset: { nextAt: 1 } });
  if (nextAt) await scheduleNotice(outgoingNumber, nextAt);
  else await cancelNotice(outgoingNumber);
}

/** A department's policy changed: re-time everything of it still pending. */
export async function retimeDepartment(departmentCode: string, defaultPeriod: number): Promise<number> {
  const policy = await replyPolicy(departmentCode, defaultPeriod);
  const holidays = policy.replyPeriodKind === "working" ? await holidayKeys() : [];
  const items = await PendingReplyModel.find({ departmentCode }, { _id: 1 }).lean();
  for (const p of items) await retime(p._id, policy, holidays);
  return items.length;
}

/**
 * Sends the notice that is due for one outgoing item, if any, and moves on to the next.
 * After an outage only one notice goes out, and the sequence resumes at its next future slot.
 */
export async function processNotice(outgoingNumber: string, defaultPeriod: number, now = new Date()): Promise<"sent" | "not-due" | "none"> {
  const p = await PendingReplyModel.findById(outgoingNumber).lean();
  if (!p || !p.nextAt) return "none";
  if (p.nextAt > now) {
    await scheduleNotice(outgoingNumber, p.nextAt);
    return "not-due";
  }
  const policy = await replyPolicy(p.departmentCode ?? undefined, defaultPeriod);
  const stage: number = p.stage;
  const vars = { outgoingNumber, departmentCode: p.departmentCode, daysOverdue: Math.max(daysBetween(p.dueAt, now), 0) };
  const base = { transactionNumber: p.transactionNumber, _id: `followup:${outgoingNumber}:${stage}` };
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
  if (nextAt) await scheduleNotice(outgoingNumber, nextAt);
  return "sent";
}

/**
 * The safety sweep: every pending item whose notice is due, read through the nextAt index
 * from a collection that holds pending items only.
 */
export async function sweepNotices(defaultPeriod: number, now = new Date()): Promise<{ due: number; sent: number }> {
  const due = await PendingReplyModel.find({ nextAt: { $lte: now } }, { _id: 1 }).lean();
  let sent = 0;
  for (const p of due) if ((await processNotice(p._id, defaultPeriod, now)) === "sent") sent++;
  return { due: due.length, sent };
}

// The follow-up of items that wait: outgoing letters waiting for an agency's reply
// (`reply`: notices to the department's manager, then its escalation contact) and
// transactions assigned to an employee and not moved since (`internal`: the employee, then
// the department's manager). One engine for both: a pending-item record while an item
// waits, and only then, carrying the next notice's time and how many notices went out, so
// each notice is sent once (its message id is derived from the item and the notice's place
// in the sequence); one Agenda job per item at its next notice; one policy model (policy.ts).
import { PendingReplyModel } from "./models.ts";
import { daysBetween } from "../text/calendar.ts";
import type { TransactionState } from "../events/lifecycle.ts";
import type { PlannedMessage } from "../sms/notifications.ts";
import { queueNotices } from "../sms/digest.ts";
import { JOBS_COLLECTION } from "../platform/jobs.ts";
import { nativeDb } from "../store/db.ts";
import { clock } from "../platform/clock.ts";
import { DepartmentModel } from "../directory/models.ts";
import { dueDate, followupPolicy, holidayKeys, nextNotice, noticeTime, usesHolidays, type FollowupKind, type FollowupPolicy } from "./policy.ts";

export const JOB_FOLLOWUP = "followup.due";
export const JOB_FOLLOWUP_SWEEP = "followup.sweep";

/**
 * Schedules (or moves) the Agenda jobs of pending items' next notices: one job per item,
 * written in one bulk upsert of the documents Agenda's own unique save would write. The job's
 * `data.outgoingNumber` is the item's key (its name from when replies were the only items).
 */
async function scheduleNotices(items: Array<{ itemId: string; at: Date }>): Promise<void> {
  if (!items.length) return;
  await nativeDb()
    .collection(JOBS_COLLECTION)
    .bulkWrite(
      items.map(({ itemId, at }) => ({
        updateOne: {
          filter: { name: JOB_FOLLOWUP, "data.outgoingNumber": itemId },
          update: {
            $set: { name: JOB_FOLLOWUP, data: { outgoingNumber: itemId }, type: "normal", priority: 0, nextRunAt: at, disabled: null, lastModifiedBy: null },
            // A job running now keeps its lock: Agenda saves it when it ends.
            $setOnInsert: { lockedAt: null, lastRunAt: null, lastFinishedAt: null, failedAt: null, failCount: null, failReason: null, repeatInterval: null, repeatAt: null, repeatTimezone: null },
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
}

function scheduleNotice(itemId: string, at: Date): Promise<void> {
  return scheduleNotices([{ itemId, at }]);
}

async function cancelNotices(itemIds: string[]): Promise<void> {
  if (!itemIds.length) return;
  await nativeDb().collection(JOBS_COLLECTION).deleteMany({ name: JOB_FOLLOWUP, "data.outgoingNumber": { $in: itemIds } });
}

/** What an item starts from: the outgoing date of a reply, the assignment of an internal item. */
const startOf = (p: { kind?: string | null; outgoingDate?: Date | null; assignedAt?: Date | null }) => (p.kind === "internal" ? p.assignedAt : p.outgoingDate) as Date;

/** Events after which an assigned transaction has moved on from its employee. */
const MOVES = new Set(["issued", "referred", "closed"]);

/**
 * The internal item of a transaction, if it waits for its employee: assigned, and neither
 * issued, referred onward nor closed since the last assignment.
 *
 * @example
 *   internalItem(state) // { itemId: "assigned:e7", employeeId: "E100", assignedAt: ... } or undefined
 */
export function internalItem(state: TransactionState): { itemId: string; employeeId: string; assignedAt: Date } | undefined {
  if (state.closedAt) return undefined;
  let last = -1;
  state.history.forEach((h, i) => h.type === "assigned" && (last = i));
  if (last < 0 || state.history.slice(last + 1).some((h) => MOVES.has(h.type))) return undefined;
  const h = state.history[last]!;
  return { itemId: `assigned:${h.eventId}`, employeeId: h.data.employeeId, assignedAt: h.occurredAt };
}

/**
 * Brings the pending items of transactions in line with their state: outgoing items that
 * wait for a reply and transactions that wait for their employee get one (due date from the
 * department's current policy), the others lose theirs. Idempotent; called whenever
 * transactions' events are applied, for a whole batch at once (two reads, a write and the
 * jobs' write, whatever the batch's size).
 */
export async function syncPendingItems(states: TransactionState | TransactionState[], defaultPeriod: number): Promise<void> {
  const all = [states].flat();
  const withOutgoing = all.filter((s) => s.outgoing.length);
  const assigned = all.filter((s) => s.assigneeId);
  if (!withOutgoing.length && !assigned.length) return;
  type Wanted = { itemId: string; kind: FollowupKind; state: TransactionState; start: Date; fields: Record<string, unknown> };
  const wanted: Wanted[] = withOutgoing.flatMap((state) =>
    (state.closedAt ? [] : state.outgoing.filter((o) => o.requiresReply && !o.reply)).map((o) => ({
      itemId: o.number, kind: "reply" as const, state, start: o.date,
      fields: { kind: "reply", agencyCode: o.destination.agencyCode, outgoingDate: o.date },
    })),
  );
  for (const state of assigned) {
    const item = internalItem(state);
    if (item) wanted.push({ itemId: item.itemId, kind: "internal", state, start: item.assignedAt, fields: { kind: "internal", employeeId: item.employeeId, assignedAt: item.assignedAt } });
  }
  const wantedIds = new Set(wanted.map((w) => w.itemId));
  // Gone: replied, closed, moved on, assigned again (a new assignment is a new item).
  const internalNow = assigned.length
    ? (await PendingReplyModel.find({ kind: "internal", transactionNumber: { $in: assigned.map((s) => s.number) } }, { _id: 1 }).lean()).map((p) => p._id)
    : [];
  const done = [...withOutgoing.flatMap((s) => s.outgoing.map((o) => o.number)), ...internalNow].filter((n) => !wantedIds.has(n));
  if (done.length) {
    const removed = await PendingReplyModel.deleteMany({ _id: { $in: done } });
    if (removed.deletedCount) await cancelNotices(done);
  }
  if (!wanted.length) return;
  const existing = new Map((await PendingReplyModel.find({ _id: { $in: [...wantedIds] } }).lean()).map((p) => [p._id, p]));
  const times = new NoticeTimes();
  for (const { itemId, kind, state, start, fields: own } of wanted) {
    const policy = await followupPolicy(kind, state.departmentCode, defaultPeriod);
    const holidays = usesHolidays(policy) ? await holidayKeys() : [];
    const dueAt = dueDate(start, policy, holidays);
    const prev = existing.get(itemId);
    const nextAt = noticeTime(dueAt, prev?.stage ?? 0, policy, holidays);
    const fields: Record<string, unknown> = { ...own, transactionNumber: state.number, departmentCode: state.departmentCode, dueAt };
    const same = prev && Object.entries(fields).every(([k, v]) => String((prev as any)[k] ?? "") === String(v ?? "")) && prev.nextAt?.getTime() === nextAt?.getTime();
    if (!same) times.set(itemId, prev?.stage, fields, nextAt);
  }
  await times.write();
}

/** A department's policy (or the holidays) changed: re-time everything of it still pending (a read, a write and the jobs' write). */
export async function retimeDepartment(departmentCode: string, defaultPeriod: number): Promise<number> {
  const policies = { reply: await followupPolicy("reply", departmentCode, defaultPeriod), internal: await followupPolicy("internal", departmentCode, defaultPeriod) };
  const holidays = await holidayKeys();
  const items = await PendingReplyModel.find({ departmentCode }, { kind: 1, outgoingDate: 1, assignedAt: 1, stage: 1 }).lean();
  const times = new NoticeTimes();
  for (const p of items) {
    const policy = policies[(p.kind as FollowupKind | undefined) ?? "reply"];
    const dueAt = dueDate(startOf(p), policy, holidays);
    times.set(p._id, p.stage, { dueAt }, noticeTime(dueAt, p.stage, policy, holidays));
  }
  await times.write();
  return items.length;
}

/** The departments whose pending items count working days: re-timed when the holidays change. */
export async function departmentsOnWorkingDays(): Promise<string[]> {
  const [internal, working] = await Promise.all([
    PendingReplyModel.distinct("departmentCode", { kind: "internal" }),
    DepartmentModel.distinct("_id", { replyPeriodKind: "working" }),
  ]);
  return [...new Set([...internal, ...working].filter((c): c is string => typeof c === "string" && c !== ""))];
}

/** The holidays changed: re-time every department whose pending items count working days. */
export async function retimeWorkingDepartments(defaultPeriod: number): Promise<void> {
  for (const code of await departmentsOnWorkingDays()) await retimeDepartment(code, defaultPeriod);
}

/** The count of pending items and of those overdue at `now`. */
export async function pendingCounts(now: Date): Promise<{ pending: number; overdue: number }> {
  const [pending, overdue] = await Promise.all([PendingReplyModel.countDocuments({}), PendingReplyModel.countDocuments({ dueAt: { $lte: now } })]);
  return { pending, overdue };
}

/**
 * New notice times of pending items, written together: the records (each only if its stage is
 * still the one read, so a notice sent meanwhile is not undone) and their jobs.
 */
class NoticeTimes {
  private readonly ops: any[] = [];
  private readonly jobs: Array<{ itemId: string; at: Date }> = [];
  private readonly cancelled: string[] = [];

  /** An item's fields and next notice (none: its sequence is over); `stage` undefined for a new item. */
  set(itemId: string, stage: number | undefined, fields: Record<string, unknown>, nextAt: Date | undefined): void {
    if (stage === undefined) {
      this.ops.push({ updateOne: { filter: { _id: itemId }, update: { $set: { ...fields, ...(nextAt ? { nextAt } : {}) }, $setOnInsert: { stage: 0, createdAt: clock.now() } }, upsert: true } });
    } else {
      this.ops.push({ updateOne: { filter: { _id: itemId, stage }, update: nextAt ? { $set: { ...fields, nextAt } } : { $set: fields, $unset: { nextAt: 1 } } } });
    }
    if (nextAt) this.jobs.push({ itemId, at: nextAt });
    else this.cancelled.push(itemId);
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

type PendingDoc = NonNullable<Awaited<ReturnType<typeof loadItem>>>;
const loadItem = (itemId: string) => PendingReplyModel.findById(itemId).lean();

/** The SMS of notice `stage` of an item, if the sequence has one there. */
export function noticeOf(p: PendingDoc, stage: number, policy: FollowupPolicy, now: Date): PlannedMessage | undefined {
  const base = { transactionNumber: p.transactionNumber, _id: `followup:${p._id}:${stage}`, departmentCode: p.departmentCode ?? undefined };
  const escalation = stage === policy.maxReminders + 1 && policy.hasEscalation;
  if (p.kind === "internal") {
    const vars = { employeeId: p.employeeId, departmentCode: p.departmentCode, assignedAt: p.assignedAt, daysHeld: Math.max(daysBetween(p.assignedAt!, now), 0) };
    if (stage === 0) return { ...base, template: "internal-due", role: "employee", vars };
    if (stage <= policy.maxReminders) return { ...base, template: "internal-reminder", role: "employee", vars: { ...vars, reminderNumber: stage } };
    return escalation ? { ...base, template: "internal-escalation", role: "manager", vars: { ...vars, reminderCount: policy.maxReminders } } : undefined;
  }
  const vars = { outgoingNumber: p._id, departmentCode: p.departmentCode, daysOverdue: Math.max(daysBetween(p.dueAt, now), 0) };
  if (stage === 0) return { ...base, template: "overdue", role: "manager", vars };
  if (stage <= policy.maxReminders) return { ...base, template: "reminder", role: "manager", vars: { ...vars, reminderNumber: stage } };
  return escalation ? { ...base, template: "escalation", role: "escalation", vars: { ...vars, reminderCount: policy.maxReminders } } : undefined;
}

/**
 * Sends the notice that is due for one pending item, if any, and moves on to the next.
 * After an outage only one notice goes out, and the sequence resumes at its next future slot.
 * The item's job is moved to the next notice, unless `fromJob`: the running job itself is
 * then re-timed by its caller (Agenda writes the running job's own document when it ends,
 * over any change made meanwhile, and removes it when it has no next run).
 */
export async function processNotice(itemId: string, defaultPeriod: number, now = clock.now(), opts: { fromJob?: boolean } = {}): Promise<NoticeResult> {
  const p = await loadItem(itemId);
  if (!p || !p.nextAt) return { outcome: "none" };
  if (p.nextAt > now) {
    if (!opts.fromJob) await scheduleNotice(itemId, p.nextAt);
    return { outcome: "not-due", nextAt: p.nextAt };
  }
  const policy = await followupPolicy((p.kind as FollowupKind | undefined) ?? "reply", p.departmentCode ?? undefined, defaultPeriod);
  const holidays = usesHolidays(policy) ? await holidayKeys() : [];
  const stage: number = p.stage;
  const notice = noticeOf(p, stage, policy, now);
  // The message first (its id makes it once), then the stage: a crash in between repeats nothing.
  // Staff notices may wait for the day's digest (STAFF_DIGEST_AT).
  if (notice) await queueNotices([notice], { number: p.kind === "internal" ? p.transactionNumber : p._id, since: startOf(p) }, now);
  const { stage: next, at: nextAt } = nextNotice(p.dueAt, stage, policy, holidays, now);
  await PendingReplyModel.updateOne(
    { _id: itemId, stage },
    nextAt ? { $set: { stage: next, nextAt, lastNoticeAt: now } } : { $set: { stage: next, lastNoticeAt: now }, $unset: { nextAt: 1 } },
  );
  if (nextAt && !opts.fromJob) await scheduleNotice(itemId, nextAt);
  return { outcome: "sent", ...(nextAt ? { nextAt } : {}) };
}

/**
 * The safety sweep: every pending item whose notice is due, read through the nextAt index
 * from a collection that holds pending items only.
 */
export async function sweepNotices(defaultPeriod: number, now = clock.now()): Promise<{ due: number; sent: number }> {
  const due = await PendingReplyModel.find({ nextAt: { $lte: now } }, { _id: 1 }).lean();
  let sent = 0;
  for (const p of due) if ((await processNotice(p._id, defaultPeriod, now)).outcome === "sent") sent++;
  return { due: due.length, sent };
}

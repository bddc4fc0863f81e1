// Staff digests: with STAFF_DIGEST_AT set, a follow-up notice due to an employee or a manager
// is not sent on its own but kept as a digest item; at the digest time of day (on a working
// day) each recipient gets one SMS with the count and the oldest numbers, or the notice itself
// when it is alone. Each item is in one digest: it is marked with the digest's id before the
// SMS is queued under that id, so a repeated run queues the same SMS, never a second one.
import { enqueueMessages, type PlannedMessage } from "./notifications.ts";
import { staffSendTime } from "./sending-hours.ts";
import { directory } from "../directory/cache.ts";
import { onlyDuplicateKeys } from "../store/db.ts";
import { DigestItemModel } from "./models.ts";

/** How many numbers a digest lists: with the count, within 2 SMS parts. */
export const DIGEST_NUMBERS = 3;

let digestAtMinute: number | undefined;

/** Set once at node start from STAFF_DIGEST_AT (minutes after midnight, Riyadh); undefined: no digests. */
export function setStaffDigestAt(minute: number | undefined): void {
  digestAtMinute = minute;
}

const digestRole = (n: PlannedMessage) => n.role === "employee" || n.role === "manager";

/** The next digest time at or after `now`: STAFF_DIGEST_AT on a working day. */
async function nextDigestAt(now: Date, minute: number): Promise<Date> {
  return staffSendTime(now, { start: minute, end: minute + 1 }, await directory.holidays.dates());
}

/**
 * Queues follow-up notices: those to an employee or a manager wait for the next digest when
 * digests are on, the others are queued at once. Answers the next digest time, if any item waits.
 *
 * @example
 *   await queueNotices([notice], { number: "7201", since: assignedAt }, clock.now())
 */
export async function queueNotices(notices: PlannedMessage[], item: { number: string; since: Date }, now: Date): Promise<Date | undefined> {
  const minute = digestAtMinute;
  const held = minute === undefined ? [] : notices.filter(digestRole);
  await enqueueMessages(notices.filter((n) => !held.includes(n)));
  if (!held.length) return undefined;
  const digestAt = await nextDigestAt(now, minute!);
  const docs = held.map((n) => ({
    _id: n._id,
    recipient: n.role === "employee" ? `employee:${n.vars?.employeeId}` : `manager:${n.departmentCode}`,
    number: item.number,
    since: item.since,
    digestAt,
    notice: n,
  }));
  await DigestItemModel.collection.insertMany(docs as any[], { ordered: false }).catch((err) => {
    if (!onlyDuplicateKeys(err)) throw err; // noticed already (a repeated run)
  });
  return digestAt;
}

/**
 * Sends the digests that are due: per recipient, one SMS (the notice itself when alone).
 * Safe to repeat and to run on two nodes at once.
 */
export async function sendDueDigests(now: Date): Promise<{ digests: number; items: number }> {
  const due = await DigestItemModel.find({ digestAt: { $lte: now } }).sort({ since: 1, _id: 1 }).lean();
  if (!due.length) return { digests: 0, items: 0 };
  const groups = new Map<string, typeof due>();
  for (const d of due) {
    // Items a digest took already (a run stopped before removing them) stay with that digest.
    const key = d.digestId ?? `digest:${d.recipient}:${d.digestAt.toISOString()}`;
    groups.set(key, [...(groups.get(key) ?? []), d]);
  }
  const messages: PlannedMessage[] = [];
  for (const [digestId, items] of groups) {
    if (items.length === 1 && !items[0]!.digestId) {
      messages.push(items[0]!.notice as PlannedMessage);
      continue;
    }
    await DigestItemModel.updateMany({ _id: { $in: items.map((i) => i._id) }, digestId: { $exists: false } }, { $set: { digestId } });
    const mine = await DigestItemModel.find({ digestId }).sort({ since: 1, _id: 1 }).lean();
    const first = mine[0]!.notice as PlannedMessage;
    messages.push({
      _id: digestId,
      template: first.role === "employee" ? "employee-digest" : "manager-digest",
      role: first.role,
      departmentCode: first.departmentCode,
      vars: { employeeId: first.vars?.employeeId, departmentCode: first.departmentCode, total: mine.length, numbers: mine.slice(0, DIGEST_NUMBERS).map((i) => i.number) },
    });
  }
  await enqueueMessages(messages);
  await DigestItemModel.deleteMany({ _id: { $in: due.map((d) => d._id) } });
  return { digests: messages.length, items: due.length };
}

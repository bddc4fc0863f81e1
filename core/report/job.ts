/**
 * The report facts job (Agenda, every few minutes on the scheduler's node): recomputes the
 * dirty days, so that a report mostly finds its days clean; and, once per database, builds the
 * letter records and marks the SMS days of data stored before the facts existed.
 *
 * @module
 */
import { MessageModel } from "../sms/models.ts";
import { TransactionModel } from "../events/models.ts";
import { IN_LIMIT } from "../store/db.ts";
import { clock } from "../platform/clock.ts";
import { riyadhDateKey } from "../text/calendar.ts";
import { markDays, refreshDirtyDays } from "./facts.ts";
import { ReportDayModel } from "./models.ts";
import { hourOf } from "./rollup.ts";
import { syncLetters, type LetterSource } from "./letters.ts";

export const JOB_REPORT_FACTS = "report.facts";
/** How often the job runs: the hours of SMS in flight are at most this old when a report reads them. */
export const REPORT_FACTS_EVERY = "1 minute";

const BUILT = "meta|built";
const HOUR_MS = 3_600_000;

/**
 * Builds the facts' sources for what the database held before them (once: a marker records
 * it): the letter records of every transaction with letters (records the apply step wrote
 * meanwhile from newer states are kept) and their days marked, and every hour from the first
 * message's to now marked for its SMS. `alive` is called after every thousand transactions (the job extends
 * its lock). Answers whether it ran.
 */
export async function buildFactsOnce(defaultPeriod: number, now = clock.now(), alive?: () => Promise<unknown>): Promise<boolean> {
  if (await ReportDayModel.exists({ _id: BUILT })) return false;
  let batch: LetterSource[] = [];
  // Every day with letters is recomputed (the records may all be there already, the facts not).
  const letterDays = new Set<string>();
  const flush = async () => {
    await syncLetters(batch, defaultPeriod);
    batch = [];
    await alive?.();
  };
  for await (const t of TransactionModel.find({ "outgoing.0": { $exists: true } }, { departmentCode: 1, outgoing: 1, eventCount: 1 }).lean().cursor({ batchSize: IN_LIMIT })) {
    batch.push({ number: String(t._id), ...(t.departmentCode ? { departmentCode: t.departmentCode } : {}), outgoing: (t.outgoing ?? []) as any[], eventCount: t.eventCount ?? 0 });
    for (const o of t.outgoing ?? []) if (o.requiresReply && o.date) letterDays.add(riyadhDateKey(o.date));
    if (batch.length >= IN_LIMIT) await flush();
  }
  await flush();
  const days = [...letterDays];
  for (let i = 0; i < days.length; i += IN_LIMIT) await markDays("letters", days.slice(i, i + IN_LIMIT));
  // The first message in natural order: the first stored, so the oldest (messages are created
  // as they are stored, and never deleted); read without a sort, which the embedded database
  // would make a read of every message.
  const first = await MessageModel.findOne({}, { createdAt: 1 }).lean();
  if (first?.createdAt) {
    const hours: string[] = [];
    for (let t = first.createdAt.getTime(); t <= now.getTime() + HOUR_MS; t += HOUR_MS) hours.push(hourOf(new Date(t)));
    for (let i = 0; i < hours.length; i += IN_LIMIT) await markDays("sms", hours.slice(i, i + IN_LIMIT));
  }
  await ReportDayModel.collection.updateOne({ _id: BUILT as any }, { $set: { builtAt: now } }, { upsert: true });
  return true;
}

/**
 * The job: the build (once), then the dirty days. Answers what it did.
 *
 * @example
 *   await runFactsJob(10, () => job.touch()) // { built: false, recomputed: 3 }
 */
export async function runFactsJob(defaultPeriod: number, alive?: () => Promise<unknown>): Promise<{ built: boolean; recomputed: number }> {
  const built = await buildFactsOnce(defaultPeriod, clock.now(), alive);
  return { built, recomputed: await refreshDirtyDays() };
}

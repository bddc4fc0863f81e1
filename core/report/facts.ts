/**
 * The leadership report's daily facts (the "fact table" pattern): one document per period and
 * kind in `report_days` holds what that period adds up to, so a month's report reads a month
 * of small documents instead of every letter and SMS of the month.
 *
 * - `letters|<day>`: the letters needing a reply sent that day, per agency and department
 *   (sent, replied, replied within the period, a histogram of days to reply), recomputed from
 *   that day's letter records (`report_letters`, see letters.ts).
 * - `sms|<day>T<hour>`: the SMS created that hour, per template (sent, delivered, failed,
 *   parts), recomputed from that hour's messages (an hour: what is recomputed while SMS are
 *   being sent stays small).
 * - `inquiries|<day>`: inquiries per channel, counted as they are asked (inquiries.ts).
 * - `month|<month>`: a whole month's letters (per agency and department) and SMS (per
 *   template), folded from its days once the month is over and every one of its days final,
 *   so that a year's trend reads twelve documents (see monthTotals). Every mark of a day marks
 *   its month too (in the same write), so a late reply to an old letter unfolds the month
 *   until it is folded again, by the job or by the next trend that reads it.
 *
 * Recomputing a period is idempotent: it reads the period's raw documents and replaces its
 * facts. A change marks its period dirty (its version goes up); the facts job recomputes dirty
 * periods every minute. The report recomputes the letter days of its month still dirty when
 * it reads them, so replies are never missing. An hour of SMS stays dirty while any of its
 * messages may still change status (until it is over and every one is final, at most
 * SMS_OPEN_MS: a receipt after the SMSC's validity period does not come); the job recomputes
 * the last two hours every minute and older open hours every SMS_FRESH_MS, and the report
 * reads SMS as the job left them (it recomputes an hour only if the job did not within
 * SMS_FRESH_MS: SMS change status by the second, and an hour at the day's peak is hundreds
 * of messages). The facts are written only if no newer computation was written meanwhile, and
 * a period is clean only if it did not change meanwhile (both by its version).
 *
 * @module
 */
import { ReportDayModel, ReportLetterModel } from "./models.ts";
import { MessageModel } from "../sms/models.ts";
import { clock } from "../platform/clock.ts";
import { nativeDb } from "../store/db.ts";
import { hourOf, letterRows, monthRange, periodRange, smsRows, sumLetters, sumSms, type LetterFacts, type SmsRow } from "./rollup.ts";

/** What a day's document counts. */
export type FactKind = "letters" | "sms" | "inquiries";


/** How long after its end a period may still get messages (created just before, written just after). */
const GRACE_MS = 10 * 60_000;

/** How old the facts of an hour of SMS still open may be: older ones are recomputed (by the job, or by a report). */
export const SMS_FRESH_MS = 15 * 60_000;
/** Hours this recent are recomputed by every run of the job while open (SMS being sent, receipts coming). */
const SMS_RECENT_MS = 2 * 3_600_000;
/** An hour of SMS is final this long after its end, whatever its messages' statuses (a message without a receipt by then stays counted as sent). */
const SMS_OPEN_MS = 3 * 86_400_000;

const dayId = (kind: FactKind, day: string) => `${kind}|${day}`;
const monthOfDay = (day: string) => day.slice(0, 7);
const monthId = (month: string) => `month|${month}`;

/**
 * Marks periods of a kind changed (days of letters, hours of SMS): one bulk upsert for all of
 * them (nothing for none).
 *
 * @example
 *   await markDays("letters", ["2026-01-03", "2026-01-05"]);
 *   await markDays("sms", ["2026-01-03T09"]);
 */
export async function markDays(kind: "letters" | "sms", days: Iterable<string>): Promise<void> {
  const unique = [...new Set(days)];
  if (!unique.length) return;
  const mark = (_id: string, insert: Record<string, unknown>) => ({
    updateOne: { filter: { _id: _id as any }, update: { $inc: { version: 1 }, $set: { state: "dirty" }, $setOnInsert: { ...insert, computed: 0 } }, upsert: true },
  });
  await ReportDayModel.collection.bulkWrite(
    [
      ...unique.map((day) => mark(dayId(kind, day), { kind, day, month: monthOfDay(day) })),
      // Their months too: a folded month is folded again (see foldMonth).
      ...[...new Set(unique.map(monthOfDay))].map((month) => mark(monthId(month), { kind: "month", day: month, month })),
    ],
    { ordered: false },
  );
}

// The hours this process has marked for SMS (per database): an hour's SMS stay dirty until the
// hour is over, so one mark an hour is enough, and queuing SMS costs no round-trip after it.
const smsHoursMarked = new Set<string>();

/**
 * Notes that SMS were created at `at` (core/notifications.ts calls it as it queues them):
 * their hour is marked once per process.
 */
export async function smsCreated(at: Date): Promise<void> {
  const hour = hourOf(at);
  const key = `${nativeDb().databaseName}|${hour}`;
  if (smsHoursMarked.has(key)) return;
  await markDays("sms", [hour]);
  smsHoursMarked.add(key);
}

/** A period's document as the recompute needs it. */
interface DayRef {
  _id: string;
  kind: FactKind | "month";
  day: string;
  version?: number | null;
  computedAt?: Date | null;
}

/** The period's facts from its raw documents, and whether they are final. */
async function computeDay(kind: "letters" | "sms", day: string, now: Date): Promise<{ rows: LetterFacts[] | SmsRow[]; settled: boolean }> {
  if (kind === "letters") {
    const letters = await ReportLetterModel.find({ day }, { agencyCode: 1, departmentCode: 1, replied: 1, daysToReply: 1, within: 1 }).lean();
    return { rows: letterRows(letters.map((l) => ({ ...l, agencyCode: l.agencyCode ?? "", departmentCode: l.departmentCode ?? "", replied: !!l.replied }))), settled: true };
  }
  const { from, to } = periodRange(day);
  // Counted per part count too: the embedded database answers 0 for `$sum: "$parts"`.
  const groups: Array<{ _id: { template: string; status: string; parts?: number }; count: number }> = await MessageModel.aggregate([
    { $match: { createdAt: { $gte: from, $lt: to } } },
    { $group: { _id: { template: "$template", status: "$status", parts: "$parts" }, count: { $sum: 1 } } },
  ]);
  const { rows, inFlight } = smsRows(groups.map((g) => ({ ...g._id, count: g.count })));
  return { rows, settled: (!inFlight && now.getTime() >= to.getTime() + GRACE_MS) || now.getTime() >= to.getTime() + SMS_OPEN_MS };
}

/**
 * Recomputes one day's facts from its raw documents and stores them (unless a computation of
 * a newer version was stored meanwhile); the day is clean afterwards if it did not change
 * meanwhile and is final. Answers the facts computed.
 */
export async function recomputeDay(d: DayRef, now = clock.now()): Promise<LetterFacts[] | SmsRow[]> {
  if (d.kind !== "letters" && d.kind !== "sms") throw new Error(`only days of letters and hours of SMS are recomputed (${d._id})`);
  const version = d.version ?? 0;
  const { rows, settled } = await computeDay(d.kind, d.day, now);
  await ReportDayModel.collection.bulkWrite(
    [
      { updateOne: { filter: { _id: d._id as any, computed: { $lte: version } }, update: { $set: { [d.kind]: rows, computed: version, computedAt: now } } } },
      ...(settled ? [{ updateOne: { filter: { _id: d._id as any, version }, update: { $set: { state: "clean" } } } }] : []),
    ],
    { ordered: true },
  );
  return rows;
}

/** Whether an hour of SMS, dirty, is due for a recomputation: never computed, recent, or computed long ago. */
const smsDue = (d: DayRef, now: Date, freshMs: number) =>
  !d.computedAt || now.getTime() - d.computedAt.getTime() >= freshMs || now.getTime() - periodRange(d.day).from.getTime() < SMS_RECENT_MS;

/**
 * Recomputes the dirty periods that are due (every letter day; the hours of SMS as smsDue
 * says), at most `limit`, then folds the days whose hours of SMS are all final, and the months
 * that are over with no day dirty: what the facts job runs. Answers how many periods it
 * recomputed.
 *
 * @example
 *   await refreshDirtyDays() // 3
 */
export async function refreshDirtyDays(limit = 400, now = clock.now()): Promise<number> {
  const dirty = (await ReportDayModel.find({ state: "dirty" }, { kind: 1, day: 1, version: 1, computedAt: 1 }).lean()) as DayRef[];
  const due = dirty.filter((d) => d.kind === "letters" || (d.kind === "sms" && smsDue(d, now, SMS_FRESH_MS))).slice(0, limit);
  for (const d of due) await recomputeDay(d, now);
  for (const day of new Set(due.filter((d) => d.kind === "sms").map((d) => d.day.slice(0, 10)))) {
    if (await foldable(day, now)) await foldSmsDay(day, now);
  }
  // A month with a day dirty when this run began is folded by a later run (its days clean by then).
  const unsettled = new Set(dirty.filter((d) => d.kind !== "month").map((d) => monthOfDay(d.day)));
  for (const m of dirty.filter((d) => d.kind === "month" && monthOver(d.day, now) && !unsettled.has(d.day))) await foldMonth(m.day, m.version ?? 0, now);
  return due.length;
}

const HOURS = Array.from({ length: 24 }, (_, h) => String(h).padStart(2, "0"));
const hourIds = (day: string) => HOURS.map((h) => dayId("sms", `${day}T${h}`));

/** Whether every hour of SMS of a day is final (the day over, none dirty). */
async function foldable(day: string, now: Date): Promise<boolean> {
  if (now.getTime() < periodRange(day).to.getTime() + GRACE_MS) return false;
  return !(await ReportDayModel.exists({ _id: { $in: hourIds(day) }, state: "dirty" }));
}

/**
 * Folds a day's final hours of SMS into one document of the day (a month then reads a month
 * of days, not of hours): the day's document is written first, then the hours removed; a
 * reader that sees both counts the day's (see monthFacts).
 */
async function foldSmsDay(day: string, now: Date): Promise<void> {
  const [hours, folded] = await Promise.all([
    ReportDayModel.find({ _id: { $in: hourIds(day) } }, { state: 1, sms: 1 }).lean(),
    ReportDayModel.exists({ _id: dayId("sms", day) }),
  ]);
  if (!hours.length || hours.some((h) => h.state !== "clean")) return;
  // Folded already (and stopped before the hours were removed): they are in the day's document.
  if (folded) return void (await ReportDayModel.collection.deleteMany({ _id: { $in: hours.map((h) => h._id) as any[] }, state: "clean" }));
  const rows = sumSms(hours.map((h) => (h.sms ?? []) as SmsRow[]));
  await ReportDayModel.collection.updateOne(
    { _id: dayId("sms", day) as any },
    { $set: { kind: "sms", day, month: monthOfDay(day), state: "clean", sms: rows, computedAt: now }, $setOnInsert: { version: 0, computed: 0 } },
    { upsert: true },
  );
  await ReportDayModel.collection.deleteMany({ _id: { $in: hours.map((h) => h._id) as any[] }, state: "clean" });
}

/** A month's facts, day by day. */
export interface MonthFacts {
  letters: LetterFacts[];
  sms: SmsRow[][];
  inquiries: Array<Record<string, number>>;
  /** Every hour or day of SMS was final when read (the letter days dirty are recomputed on read). */
  final: boolean;
}

/** Days recomputed at once when a report reads its month. */
const READ_CONCURRENCY = 4;

/**
 * The facts of a month (`YYYY-MM`): one read of its periods, then those of them to recompute:
 * the letter days still dirty, and the dirty hours of SMS the job has not recomputed within
 * `smsFreshMs` (at most the month's days and hours, a few at a time).
 *
 * @example
 *   const f = await monthFacts("2026-01");
 *   f.letters.filter((r) => r.agencyCode === "MOI").reduce((s, r) => s + r.sent, 0) // letters to MOI in January
 */
export async function monthFacts(month: string, now = clock.now(), smsFreshMs = SMS_FRESH_MS): Promise<MonthFacts> {
  const all = (await ReportDayModel.find({ month }).batchSize(10_000).lean()).filter((d) => d.kind !== "month");
  // An hour of SMS already folded into its day's document (both seen while it is being folded) counts once.
  const folded = new Set(all.filter((d) => d.kind === "sms" && d.day.length === 10).map((d) => d.day));
  const days = all.filter((d) => !(d.kind === "sms" && d.day.length > 10 && folded.has(d.day.slice(0, 10))));
  const stale = (d: (typeof days)[number]) => d.kind === "letters" || !d.computedAt || now.getTime() - d.computedAt.getTime() >= smsFreshMs;

  const dirty = days.filter((d) => d.state === "dirty" && d.kind !== "inquiries" && stale(d));
  for (let i = 0; i < dirty.length; i += READ_CONCURRENCY) {
    await Promise.all(dirty.slice(i, i + READ_CONCURRENCY).map(async (d) => ((d as any)[d.kind] = await recomputeDay(d as DayRef, now))));
  }
  return {
    letters: days.filter((d) => d.kind === "letters").flatMap((d) => (d.letters ?? []) as LetterFacts[]),
    sms: days.filter((d) => d.kind === "sms").map((d) => (d.sms ?? []) as SmsRow[]),
    inquiries: days.filter((d) => d.kind === "inquiries").map((d) => (d.channels ?? {}) as Record<string, number>),
    final: days.every((d) => d.kind !== "sms" || d.state === "clean"),
  };
}

/** A month's letters (per agency and department) and SMS (per template), summed. */
export interface MonthTotals {
  letters: LetterFacts[];
  sms: SmsRow[];
}

/** Whether a month is over (and its last messages written). */
const monthOver = (month: string, now: Date) => now.getTime() >= monthRange(month).to.getTime() + GRACE_MS;

/**
 * A month's totals from its days; stored as the month's document, clean, when the month is
 * over, every day of it final, and the month not marked since `version` was read (read before
 * the days: a mark in between makes the write miss, and the month stays dirty).
 */
async function foldMonth(month: string, version: number | undefined, now: Date): Promise<MonthTotals> {
  const facts = await monthFacts(month, now);
  const totals = { letters: sumLetters(facts.letters), sms: sumSms(facts.sms) };
  if (version !== undefined && facts.final && monthOver(month, now)) {
    await ReportDayModel.collection.updateOne({ _id: monthId(month) as any, version }, { $set: { ...totals, state: "clean", computed: version, computedAt: now } });
  }
  return totals;
}

/**
 * The totals of several months: one read of their month documents, then the months not
 * folded (a few at a time): each read from its days and folded if it can be. A month whose
 * facts the caller has already read (`known`, the report's own month) is summed from them.
 *
 * @example
 *   const t = await monthTotals(["2025-12", "2026-01"]);
 *   t.get("2026-01")!.letters.reduce((s, r) => s + r.sent, 0) // letters sent in January
 */
export async function monthTotals(months: string[], now = clock.now(), known = new Map<string, MonthFacts>()): Promise<Map<string, MonthTotals>> {
  const wanted = months.filter((m) => !known.has(m));
  const docs = wanted.length ? await ReportDayModel.find({ _id: { $in: wanted.map(monthId) } }, { day: 1, state: 1, version: 1, letters: 1, sms: 1 }).lean() : [];
  const stored = new Map(docs.map((d) => [d.day, d]));
  const out = new Map([...known].map(([m, f]) => [m, { letters: f.letters, sms: sumSms(f.sms) }]));
  for (const [m, d] of stored) if (d.state === "clean") out.set(m, { letters: (d.letters ?? []) as LetterFacts[], sms: (d.sms ?? []) as SmsRow[] });
  const open = wanted.filter((m) => !out.has(m));
  // Months over with no document (from before month documents, or with nothing marked): one to fold into, version 0.
  const fresh = open.filter((m) => !stored.has(m) && monthOver(m, now));
  if (fresh.length) {
    await ReportDayModel.collection.bulkWrite(
      fresh.map((m) => ({ updateOne: { filter: { _id: monthId(m) as any }, update: { $setOnInsert: { kind: "month", day: m, month: m, state: "dirty", version: 0, computed: 0 } }, upsert: true } })),
      { ordered: false },
    );
  }
  for (let i = 0; i < open.length; i += READ_CONCURRENCY) {
    await Promise.all(open.slice(i, i + READ_CONCURRENCY).map(async (m) => out.set(m, await foldMonth(m, stored.has(m) ? (stored.get(m)!.version ?? 0) : fresh.includes(m) ? 0 : undefined, now))));
  }
  return out;
}

/**
 * Adds inquiry counts (day → channel → count) to their days: one bulk upsert.
 *
 * @example
 *   await addInquiries(new Map([["2026-01-03", new Map([["web", 12], ["ivr", 3]])]]));
 */
export async function addInquiries(counts: Map<string, Map<string, number>>): Promise<void> {
  const ops = [...counts].map(([day, channels]) => ({
    updateOne: {
      filter: { _id: dayId("inquiries", day) as any },
      update: {
        $inc: Object.fromEntries([...channels].map(([channel, n]) => [`channels.${channel}`, n])),
        $setOnInsert: { kind: "inquiries", day, month: monthOfDay(day), state: "clean" },
      },
      upsert: true,
    },
  }));
  if (ops.length) await ReportDayModel.collection.bulkWrite(ops, { ordered: false });
}

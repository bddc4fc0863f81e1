/**
 * The leadership report's daily facts (the "fact table" pattern): one document per day and
 * kind in `report_days` holds what that day adds up to, so a month's report reads a month of
 * small documents instead of every letter and SMS of the month.
 *
 * - `letters|<day>`: the letters needing a reply sent that day, per agency and department
 *   (sent, replied, replied within the period, a histogram of days to reply), recomputed from
 *   that day's letter records (`report_letters`, see letters.ts).
 * - `sms|<day>`: the SMS created that day, per template (sent, delivered, failed, parts),
 *   recomputed from that day's messages.
 * - `inquiries|<day>`: inquiries per channel, counted as they are asked (inquiries.ts).
 *
 * Recomputing a day is idempotent: it reads the day's raw documents and replaces the day's
 * facts. A change marks its day dirty (its version goes up); the facts job recomputes dirty
 * days, and the report recomputes those of its month still dirty when it reads them, so it is
 * never behind. A day's SMS stay dirty until the day is over and every message of it has its
 * final status. The facts are written only if no newer computation was written meanwhile, and
 * the day is clean only if it did not change meanwhile (both conditional on the version).
 *
 * @module
 */
import mongoose, { Schema } from "mongoose";
import { MessageModel } from "../models.ts";
import { clock } from "../clock.ts";
import { nativeDb } from "../db.ts";
import { riyadhDateKey } from "../dates.ts";
import { dayRange, letterRows, smsRows, type LetterFacts, type SmsRow } from "./rollup.ts";

/** What a day's document counts. */
export type FactKind = "letters" | "sms" | "inquiries";

const reportDaySchema = new Schema(
  {
    /** `<kind>|<day>`. */
    _id: { type: String, required: true },
    kind: { type: String, enum: ["letters", "sms", "inquiries"], required: true },
    /** The Riyadh day, `YYYY-MM-DD`, and its month `YYYY-MM`. */
    day: { type: String, required: true },
    month: { type: String, required: true },
    /** Goes up with every change of the day's raw documents. */
    version: { type: Number, default: 0 },
    /** The version the facts below were computed from. */
    computed: { type: Number, default: 0 },
    /** `dirty`: to recompute; `clean`: the facts are those of the raw documents. */
    state: { type: String, enum: ["dirty", "clean"], required: true },
    computedAt: Date,
    letters: { type: [Schema.Types.Mixed], default: undefined },
    sms: { type: [Schema.Types.Mixed], default: undefined },
    /** Inquiries: channel → count. */
    channels: { type: Schema.Types.Mixed, default: undefined },
  },
  { versionKey: false, minimize: false },
);
// A month's report reads its days; the facts job reads the dirty ones (string equality: both
// served by an index on MongoDB and on the embedded database).
reportDaySchema.index({ month: 1 });
reportDaySchema.index({ state: 1 });

export const ReportDayModel = mongoose.model("ReportDay", reportDaySchema, "report_days");

/** One letter needing a reply, as the report counts it (kept in line with the transactions by letters.ts). */
const reportLetterSchema = new Schema(
  {
    /** The outgoing number. */
    _id: { type: String, required: true },
    transactionNumber: String,
    /** The Riyadh day the letter was sent. */
    day: { type: String, required: true },
    agencyCode: String,
    /** The transaction's department ("" when it has none). */
    departmentCode: String,
    sentAt: Date,
    replied: Boolean,
    repliedAt: Date,
    daysToReply: Number,
    within: Boolean,
  },
  { versionKey: false },
);
reportLetterSchema.index({ day: 1 });

export const ReportLetterModel = mongoose.model("ReportLetter", reportLetterSchema, "report_letters");

// A day's SMS are read by their creation time: an index whose first key it is (the embedded
// database searches an index for a range of dates only through its first key).
MessageModel.schema.index({ createdAt: 1 });

/** How long after its end a day may still get messages (created just before midnight, written just after). */
const DAY_GRACE_MS = 10 * 60_000;

const dayId = (kind: FactKind, day: string) => `${kind}|${day}`;
const monthOfDay = (day: string) => day.slice(0, 7);

/**
 * Marks days of a kind changed: one bulk upsert for all of them (nothing for none).
 *
 * @example
 *   await markDays("letters", ["2026-01-03", "2026-01-05"]);
 */
export async function markDays(kind: "letters" | "sms", days: Iterable<string>): Promise<void> {
  const unique = [...new Set(days)];
  if (!unique.length) return;
  await ReportDayModel.collection.bulkWrite(
    unique.map((day) => ({
      updateOne: {
        filter: { _id: dayId(kind, day) as any },
        update: { $inc: { version: 1 }, $set: { state: "dirty" }, $setOnInsert: { kind, day, month: monthOfDay(day), computed: 0 } },
        upsert: true,
      },
    })),
    { ordered: false },
  );
}

// The days this process has marked for SMS (per database): a day's SMS stay dirty until the
// day is over, so one mark a day is enough, and queuing SMS costs no round-trip after it.
const smsDaysMarked = new Set<string>();

/**
 * Notes that SMS were created at `at` (core/notifications.ts calls it as it queues them):
 * their day is marked once per process.
 */
export async function smsCreated(at: Date): Promise<void> {
  const day = riyadhDateKey(at);
  const key = `${nativeDb().databaseName}|${day}`;
  if (smsDaysMarked.has(key)) return;
  await markDays("sms", [day]);
  smsDaysMarked.add(key);
}

/** A day's document as the recompute needs it. */
interface DayRef {
  _id: string;
  kind: FactKind;
  day: string;
  version?: number | null;
}

/** The day's facts from its raw documents, and whether they are final. */
async function computeDay(kind: "letters" | "sms", day: string, now: Date): Promise<{ rows: LetterFacts[] | SmsRow[]; settled: boolean }> {
  if (kind === "letters") {
    const letters = await ReportLetterModel.find({ day }, { agencyCode: 1, departmentCode: 1, replied: 1, daysToReply: 1, within: 1 }).lean();
    return { rows: letterRows(letters.map((l) => ({ ...l, agencyCode: l.agencyCode ?? "", departmentCode: l.departmentCode ?? "", replied: !!l.replied }))), settled: true };
  }
  const { from, to } = dayRange(day);
  // Counted per part count too: the embedded database answers 0 for `$sum: "$parts"`.
  const groups: Array<{ _id: { template: string; status: string; parts?: number }; count: number }> = await MessageModel.aggregate([
    { $match: { createdAt: { $gte: from, $lt: to } } },
    { $group: { _id: { template: "$template", status: "$status", parts: "$parts" }, count: { $sum: 1 } } },
  ]);
  const { rows, inFlight } = smsRows(groups.map((g) => ({ ...g._id, count: g.count })));
  return { rows, settled: !inFlight && now.getTime() >= to.getTime() + DAY_GRACE_MS };
}

/**
 * Recomputes one day's facts from its raw documents and stores them (unless a computation of
 * a newer version was stored meanwhile); the day is clean afterwards if it did not change
 * meanwhile and is final. Answers the facts computed.
 */
export async function recomputeDay(d: DayRef, now = clock.now()): Promise<LetterFacts[] | SmsRow[]> {
  if (d.kind === "inquiries") throw new Error(`inquiries are counted, not recomputed (${d._id})`);
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

/**
 * Recomputes the dirty days (at most `limit`, oldest changes first is not needed: all are
 * recomputed in turn): what the facts job runs. Answers how many it recomputed.
 */
export async function refreshDirtyDays(limit = 400, now = clock.now()): Promise<number> {
  const dirty = await ReportDayModel.find({ state: "dirty" }, { kind: 1, day: 1, version: 1 }).limit(limit).lean();
  for (const d of dirty) await recomputeDay(d as DayRef, now);
  return dirty.length;
}

/** A month's facts, day by day. */
export interface MonthFacts {
  letters: LetterFacts[];
  sms: SmsRow[][];
  inquiries: Array<Record<string, number>>;
}

/** Days recomputed at once when a report reads its month. */
const READ_CONCURRENCY = 4;

/**
 * The facts of a month (`YYYY-MM`): one read of its days, then the days still dirty recomputed
 * (at most the month's days of each kind, a few at a time).
 *
 * @example
 *   const f = await monthFacts("2026-01");
 *   f.letters.filter((r) => r.agencyCode === "MOI").reduce((s, r) => s + r.sent, 0) // letters to MOI in January
 */
export async function monthFacts(month: string, now = clock.now()): Promise<MonthFacts> {
  const days = await ReportDayModel.find({ month }).lean();
  const dirty = days.filter((d) => d.state === "dirty" && d.kind !== "inquiries");
  for (let i = 0; i < dirty.length; i += READ_CONCURRENCY) {
    await Promise.all(dirty.slice(i, i + READ_CONCURRENCY).map(async (d) => ((d as any)[d.kind] = await recomputeDay(d as DayRef, now))));
  }
  return {
    letters: days.filter((d) => d.kind === "letters").flatMap((d) => (d.letters ?? []) as LetterFacts[]),
    sms: days.filter((d) => d.kind === "sms").map((d) => (d.sms ?? []) as SmsRow[]),
    inquiries: days.filter((d) => d.kind === "inquiries").map((d) => (d.channels ?? {}) as Record<string, number>),
  };
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

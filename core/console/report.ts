/**
 * The leadership report: for one month, per agency and per department, how many letters
 * needing a reply were sent, how many were replied, the median and 90th-percentile days to
 * reply, the share replied within the department's period and how many are overdue now;
 * the SMS sent, delivered, failed and their parts (the cost) per template; and the inquiries
 * per channel.
 *
 * It reads the month's daily facts (core/report/facts.ts: a month is a few hundred small
 * documents, through the `month` index) and recomputes the letter days among them that changed
 * since their last computation (SMS still in flight: as of the last minute or two); "overdue
 * now" is read live from the pending replies sent in the month (the `outgoingDate` index). The median and 90th percentile are exact: the facts hold a
 * histogram of whole days to reply, summed over the month.
 *
 * @module
 */
import { PendingReplyModel } from "../followup/models.ts";
import { dueDate, followupPolicy, type FollowupPolicy } from "../followup/policy.ts";
import { MessageModel } from "../sms/models.ts";
import { TransactionModel } from "../events/models.ts";
import { directory } from "../directory/cache.ts";
import { daysBetween } from "../text/calendar.ts";
import { monthFacts } from "../report/facts.ts";
import { addInto, emptyTally, histogramPercentile, sumCounts, sumSms, type LetterTally, type SmsRow } from "../report/rollup.ts";
import type { StaffUser } from "./accounts.ts";
import type { Lang } from "../text/lang.ts";

export type { SmsRow } from "../report/rollup.ts";

PendingReplyModel.schema.index({ outgoingDate: 1 });

/** A month as `YYYY-MM`. */
export const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/** Riyadh is UTC+3 all year: a month starts at 21:00 UTC on the day before. */
export function monthRange(month: string): { from: Date; to: Date } {
  const m = MONTH.exec(month);
  if (!m) throw new RangeError(`not a month (YYYY-MM): ${month}`);
  const y = Number(m[1]);
  const i = Number(m[2]) - 1;
  return { from: new Date(Date.UTC(y, i, 1) - 3 * 3600_000), to: new Date(Date.UTC(y, i + 1, 1) - 3 * 3600_000) };
}

/** The month (`YYYY-MM`, Riyadh time) a date falls in. */
export function monthOf(d: Date): string {
  return new Date(d.getTime() + 3 * 3600_000).toISOString().slice(0, 7);
}

/** One agency's or department's letters in the month. */
export interface LetterRow {
  code: string;
  label: string;
  /** Letters sent in the month that need a reply. */
  sent: number;
  replied: number;
  medianDays?: number;
  p90Days?: number;
  /** Replied within the department's period, as a share of those sent (0–1). */
  withinPeriod: number;
  /** Still waiting and past their due date now (as on the board). */
  overdueNow: number;
}

/** Inquiries asked on one channel in the month. */
export interface InquiryRow {
  channel: string;
  count: number;
}

export interface Report {
  month: string;
  from: Date;
  to: Date;
  byAgency: LetterRow[];
  byDepartment: LetterRow[];
  totals: Omit<LetterRow, "code" | "label">;
  /** Office-wide: messages carry no department, so a manager's report has none. */
  sms?: SmsRow[];
  /** Office-wide, like the SMS. */
  inquiries?: InquiryRow[];
}

type Tally = LetterTally & { overdueNow: number };
const tally = (): Tally => ({ ...emptyTally(), overdueNow: 0 });

function row(t: Tally): Omit<LetterRow, "code" | "label"> {
  const median = histogramPercentile(t.days, 50);
  const p90 = histogramPercentile(t.days, 90);
  return { sent: t.sent, replied: t.replied, ...(median !== undefined ? { medianDays: median } : {}), ...(p90 !== undefined ? { p90Days: p90 } : {}), withinPeriod: t.sent ? t.within / t.sent : 0, overdueNow: t.overdueNow };
}

/**
 * The report of `month` as `user` may see it (a manager: their departments only).
 *
 * @example
 *   const r = await leadershipReport({ username: "amal", role: "admin" }, "2026-01", new Date(), "ar");
 *   r.byAgency[0] // { code: "MOH", label: "وزارة الصحة", sent: 40, replied: 31, medianDays: 6, p90Days: 14, withinPeriod: 0.7, overdueNow: 5 }
 */
export async function leadershipReport(user: StaffUser, month: string, now: Date, lang: Lang, opts: { smsFreshMs?: number } = {}): Promise<Report> {
  const { from, to } = monthRange(month);
  const mine = user.role === "manager" ? new Set(user.departments ?? []) : undefined;
  const scope = mine ? { departmentCode: { $in: [...mine] } } : {};
  const [facts, overdue] = await Promise.all([
    monthFacts(month, now, opts.smsFreshMs),
    // Counted per agency and department in the database: a few dozen rows, whatever the count.
    PendingReplyModel.aggregate<{ _id: { agencyCode?: string | null; departmentCode?: string | null }; count: number }>([
      { $match: { outgoingDate: { $gte: from, $lt: to }, dueAt: { $lt: now }, kind: { $ne: "internal" }, ...scope } },
      { $group: { _id: { agencyCode: "$agencyCode", departmentCode: "$departmentCode" }, count: { $sum: 1 } } },
    ]),
  ]);
  const agencies = new Map<string, Tally>();
  const departments = new Map<string, Tally>();
  const total = tally();
  const get = (m: Map<string, Tally>, k: string) => m.get(k) ?? m.set(k, tally()).get(k)!;
  for (const r of facts.letters) {
    if (mine && !mine.has(r.departmentCode)) continue;
    for (const t of [get(agencies, r.agencyCode), get(departments, r.departmentCode), total]) addInto(t, r);
  }
  for (const { _id: g, count } of overdue) {
    get(agencies, g.agencyCode ?? "").overdueNow += count;
    get(departments, g.departmentCode ?? "").overdueNow += count;
    total.overdueNow += count;
  }
  const rows = async (m: Map<string, Tally>, name: (code: string) => Promise<{ name?: { ar?: string; en?: string } | null } | null | undefined>) =>
    (await Promise.all([...m].map(async ([code, t]) => ({ code, label: (code && (await name(code))?.name?.[lang]) || code || "—", ...row(t) })))).sort((a, b) => b.sent - a.sent || a.code.localeCompare(b.code));
  return {
    month,
    from,
    to,
    byAgency: await rows(agencies, (c) => directory.agencies.get(c)),
    byDepartment: await rows(departments, (c) => directory.departments.get(c)),
    totals: row(total),
    ...(mine ? {} : { sms: sumSms(facts.sms), inquiries: sumCounts(facts.inquiries) }),
  };
}

/** One CSV field: quoted when it holds a comma, quote or line break (quotes doubled). */
const field = (v: unknown) => {
  const s = v === undefined || v === null ? "" : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * A CSV that Excel opens as UTF-8 (a byte-order mark first), CRLF line ends, fields quoted as RFC 4180 says.
 *
 * @example
 *   toCsv(["الجهة", "العدد"], [["وزارة, الصحة", 3]]) // "\uFEFFالجهة,العدد\r\n\"وزارة, الصحة\",3\r\n"
 */
export function toCsv(header: string[], rows: unknown[][]): string {
  return "\uFEFF" + [header, ...rows].map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}

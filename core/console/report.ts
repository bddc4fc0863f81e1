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
 * With it, the trend of the twelve months ending with the month: per month, the letters sent
 * needing a reply, replied, the share within the period, the median and 90th percentile (from
 * the months' summed histograms, exact as well) and the SMS. Each month before is read as its
 * one month document (core/report/facts.ts, monthTotals), the month itself from the facts
 * already read. A filter on one agency or one department narrows the tables and the trend.
 *
 * @module
 */
import { PendingReplyModel } from "../followup/models.ts";
import { dueDate, followupPolicy, type FollowupPolicy } from "../followup/policy.ts";
import { MessageModel } from "../sms/models.ts";
import { TransactionModel } from "../events/models.ts";
import { directory } from "../directory/cache.ts";
import { monthFacts, monthTotals, type MonthTotals } from "../report/facts.ts";
import { addInto, emptyTally, histogramPercentile, MONTH, monthOf, monthRange, monthsEnding, sumCounts, sumSms, type LetterFacts, type LetterTally, type SmsRow } from "../report/rollup.ts";
import { daysBetween, gregorianMonthName, hijriMonthName, hijriParts } from "../text/calendar.ts";
import type { StaffUser } from "./accounts.ts";
import type { Lang } from "../text/lang.ts";

export type { SmsRow } from "../report/rollup.ts";

PendingReplyModel.schema.index({ outgoingDate: 1 });

export { MONTH, monthOf, monthRange };

/** The first month the report can be asked for: no office has letters before it. */
export const REPORT_FIRST_MONTH = "2000-01";

/** Months in the report's trend, ending with the report's month. */
export const TREND_MONTHS = 12;

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

/** One month of the trend: its letters (counted as in the month's report) and SMS. */
export interface TrendRow {
  month: string;
  /** The Gregorian month and the Hijri months it spans, as shown (see monthNames). */
  names: { gregorian: string; hijri: string };
  sent: number;
  replied: number;
  withinPeriod: number;
  medianDays?: number;
  p90Days?: number;
  /** Office-wide only, like the month's SMS. */
  sms?: Omit<SmsRow, "template">;
}

/** Narrows the report to one agency or one department (codes checked against the directory by the caller). */
export interface ReportFilter {
  agency?: string;
  department?: string;
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
  /** The months ending with this one, oldest first (asked for with `trend`). */
  trend?: TrendRow[];
}

type Tally = LetterTally & { overdueNow: number };
const tally = (): Tally => ({ ...emptyTally(), overdueNow: 0 });

/** Counts, share within the period and the exact median and 90th percentile of a tally. */
function speed(t: LetterTally): Pick<LetterRow, "sent" | "replied" | "medianDays" | "p90Days" | "withinPeriod"> {
  const median = histogramPercentile(t.days, 50);
  const p90 = histogramPercentile(t.days, 90);
  return { sent: t.sent, replied: t.replied, ...(median !== undefined ? { medianDays: median } : {}), ...(p90 !== undefined ? { p90Days: p90 } : {}), withinPeriod: t.sent ? t.within / t.sent : 0 };
}

const row = (t: Tally): Omit<LetterRow, "code" | "label"> => ({ ...speed(t), overdueNow: t.overdueNow });

/**
 * The Gregorian month and the Hijri months it spans, as the report names them.
 *
 * @example
 *   monthNames("2026-11", "ar") // { gregorian: "نوفمبر 2026م", hijri: "جمادى الأولى – جمادى الآخرة 1448هـ" }
 *   monthNames("2026-11", "en") // { gregorian: "November 2026", hijri: "Jumada al-Ula – Jumada al-Akhirah 1448 AH" }
 */
export function monthNames(month: string, lang: Lang): { gregorian: string; hijri: string } {
  const { from, to } = monthRange(month);
  const [first, last] = [hijriParts(from), hijriParts(new Date(to.getTime() - 1))];
  const [y, m] = month.split("-").map(Number) as [number, number];
  const name = (p: { month: number; year: number }, withYear: boolean) => `${hijriMonthName(p.month, lang)}${withYear ? ` ${p.year}` : ""}`;
  const span = first.month === last.month ? name(last, true) : `${name(first, first.year !== last.year)} – ${name(last, true)}`;
  return lang === "ar" ? { gregorian: `${gregorianMonthName(m, "ar")} ${y}م`, hijri: `${span}هـ` } : { gregorian: `${gregorianMonthName(m, "en")} ${y}`, hijri: `${span} AH` };
}

/** One month of the trend from its letters (those `keep` lets through) and its SMS (none: not shown). */
function trendRow(month: string, lang: Lang, letters: LetterFacts[], keep: (r: LetterFacts) => boolean, sms?: SmsRow[]): TrendRow {
  const t = emptyTally();
  for (const r of letters) if (keep(r)) addInto(t, r);
  // Every template as one: the rows summed under one name.
  const total = sms && sumSms([sms.map((r) => ({ ...r, template: "" }))])[0];
  return { month, names: monthNames(month, lang), ...speed(t), ...(sms ? { sms: { sent: total?.sent ?? 0, delivered: total?.delivered ?? 0, failed: total?.failed ?? 0, parts: total?.parts ?? 0 } } : {}) };
}

/**
 * The report of `month` as `user` may see it (a manager: their departments only), narrowed to
 * `filter`, with the trend of the months ending with it when asked for. The SMS and inquiries
 * carry neither department nor agency: only in the office-wide report.
 *
 * @example
 *   const r = await leadershipReport({ username: "amal", role: "admin" }, "2026-01", new Date(), "ar", { trend: true });
 *   r.byAgency[0] // { code: "MOH", label: "وزارة الصحة", sent: 40, replied: 31, medianDays: 6, p90Days: 14, withinPeriod: 0.7, overdueNow: 5 }
 *   r.trend!.at(-1) // { month: "2026-01", names: { gregorian: "يناير 2026م", hijri: "رجب – شعبان 1447هـ" }, sent: 40, …, sms: { sent: 900, … } }
 */
export async function leadershipReport(user: StaffUser, month: string, now: Date, lang: Lang, opts: { smsFreshMs?: number; filter?: ReportFilter; trend?: boolean } = {}): Promise<Report> {
  const { from, to } = monthRange(month);
  const { agency, department } = opts.filter ?? {};
  const managed = user.role === "manager" ? new Set(user.departments ?? []) : undefined;
  // The departments shown (all: undefined); a manager's filter on another department shows none.
  const mine = department ? new Set(!managed || managed.has(department) ? [department] : []) : managed;
  const officeWide = !mine && !agency;
  const keep = (r: LetterFacts) => (!mine || mine.has(r.departmentCode)) && (!agency || r.agencyCode === agency);
  const scope = { ...(mine ? { departmentCode: { $in: [...mine] } } : {}), ...(agency ? { agencyCode: agency } : {}) };
  const before = opts.trend ? monthsEnding(month, TREND_MONTHS).slice(0, -1) : [];
  const [facts, overdue, totals] = await Promise.all([
    monthFacts(month, now, opts.smsFreshMs),
    // Counted per agency and department in the database: a few dozen rows, whatever the count.
    PendingReplyModel.aggregate<{ _id: { agencyCode?: string | null; departmentCode?: string | null }; count: number }>([
      { $match: { outgoingDate: { $gte: from, $lt: to }, dueAt: { $lt: now }, kind: { $ne: "internal" }, ...scope } },
      { $group: { _id: { agencyCode: "$agencyCode", departmentCode: "$departmentCode" }, count: { $sum: 1 } } },
    ]),
    // The months before, read while the month's own facts are: one read of their month documents.
    before.length ? monthTotals(before, now) : new Map<string, MonthTotals>(),
  ]);
  const agencies = new Map<string, Tally>();
  const departments = new Map<string, Tally>();
  const total = tally();
  const get = (m: Map<string, Tally>, k: string) => m.get(k) ?? m.set(k, tally()).get(k)!;
  for (const r of facts.letters) {
    if (!keep(r)) continue;
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
    ...(officeWide ? { sms: sumSms(facts.sms), inquiries: sumCounts(facts.inquiries) } : {}),
    ...(opts.trend ? { trend: [...before.map((m) => [m, totals.get(m)!] as const), [month, { letters: facts.letters, sms: facts.sms.flat() }] as const].map(([m, t]) => trendRow(m, lang, t.letters, keep, officeWide ? t.sms : undefined)) } : {}),
  };
}

// A text a spreadsheet would read as a formula: =, +, -, @ (and their full-width forms), or a
// tab or carriage return before one (OWASP's CSV injection list).
const FORMULA_START = /^[=+\-@\t\r\uFF1D\uFF0B\uFF0D\uFF20]/;

/**
 * One CSV field: a text that would start a formula gets a leading apostrophe (Excel and
 * LibreOffice then show it as text); quoted when it holds a comma, quote or line break
 * (quotes doubled). Numbers are written as they are, so a negative figure stays a number.
 */
const field = (v: unknown) => {
  let s = v === undefined || v === null ? "" : String(v);
  if (typeof v !== "number" && FORMULA_START.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/**
 * A CSV that Excel opens as UTF-8 (a byte-order mark first), CRLF line ends, fields quoted as RFC 4180 says.
 *
 * @example
 *   toCsv(["الجهة", "العدد"], [["وزارة, الصحة", 3]]) // "\uFEFFالجهة,العدد\r\n\"وزارة, الصحة\",3\r\n"
 *   toCsv(["الجهة"], [["=HYPERLINK(\"x\")"]])           // "\uFEFFالجهة\r\n\"'=HYPERLINK(\"\"x\"\")\"\r\n"
 */
export function toCsv(header: string[], rows: unknown[][]): string {
  return "\uFEFF" + [header, ...rows].map((r) => r.map(field).join(",")).join("\r\n") + "\r\n";
}

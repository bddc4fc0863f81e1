/**
 * The leadership report: for one month, per agency and per department, how many letters
 * needing a reply were sent, how many were replied, the median and 90th-percentile days to
 * reply, the share replied within the department's period and how many are overdue now;
 * and the SMS sent, delivered, failed and their parts (the cost) per template.
 *
 * Every figure comes from the database through an index on the month's range:
 * transactions by `outgoing.date` (multikey), pending replies by `outgoingDate`, messages by
 * `createdAt`. Percentiles are computed here from the projected range, because the embedded
 * database has no percentile (nor `$min`) in `$group`; a month is a few tens of thousands of
 * letters at most.
 *
 * @module
 */
import { PendingReplyModel } from "../followup/models.ts";
import { dueDate, followupPolicy, type FollowupPolicy } from "../followup/policy.ts";
import { MessageModel } from "../sms/models.ts";
import { TransactionModel } from "../events/models.ts";
import { directory } from "../directory/cache.ts";
import { daysBetween } from "../text/calendar.ts";
import type { StaffUser } from "./accounts.ts";
import type { Lang } from "../text/lang.ts";

TransactionModel.schema.index({ "outgoing.date": 1 });
TransactionModel.schema.index({ departmentCode: 1, "outgoing.date": 1 });
PendingReplyModel.schema.index({ outgoingDate: 1 });
MessageModel.schema.index({ createdAt: 1 });

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

/**
 * The `p`-th percentile (0–100) by nearest rank, or undefined for no values.
 *
 * @example
 *   percentile([1, 2, 3, 4, 10], 50) // 3
 *   percentile([1, 2, 3, 4, 10], 90) // 10
 */
export function percentile(values: number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
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

/** One SMS template's messages created in the month. */
export interface SmsRow {
  template: string;
  sent: number;
  delivered: number;
  failed: number;
  /** Parts submitted: what the SMSC bills. */
  parts: number;
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
}

const FAILED = new Set(["undeliverable", "expired", "rejected", "failed"]);
const NOT_SENT = new Set(["queued", "sending", "opted-out"]);

interface Tally {
  sent: number;
  replied: number;
  days: number[];
  within: number;
  overdueNow: number;
}
const tally = (): Tally => ({ sent: 0, replied: 0, days: [], within: 0, overdueNow: 0 });

function row(t: Tally): Omit<LetterRow, "code" | "label"> {
  const median = percentile(t.days, 50);
  const p90 = percentile(t.days, 90);
  return { sent: t.sent, replied: t.replied, ...(median !== undefined ? { medianDays: median } : {}), ...(p90 !== undefined ? { p90Days: p90 } : {}), withinPeriod: t.sent ? t.within / t.sent : 0, overdueNow: t.overdueNow };
}

/**
 * The report of `month` as `user` may see it (a manager: their departments only).
 *
 * @example
 *   const r = await leadershipReport({ username: "amal", role: "admin" }, "2026-01", new Date(), "ar", 10);
 *   r.byAgency[0] // { code: "MOH", label: "وزارة الصحة", sent: 40, replied: 31, medianDays: 6, p90Days: 14, withinPeriod: 0.7, overdueNow: 5 }
 */
export async function leadershipReport(user: StaffUser, month: string, now: Date, lang: Lang, defaultPeriod: number): Promise<Report> {
  const { from, to } = monthRange(month);
  const scope = user.role === "manager" ? { departmentCode: { $in: user.departments ?? [] } } : {};
  const [transactions, overdue, sms, holidays] = await Promise.all([
    TransactionModel.find({ ...scope, "outgoing.date": { $gte: from, $lt: to } }, { departmentCode: 1, outgoing: 1 }).lean(),
    PendingReplyModel.find({ ...scope, outgoingDate: { $gte: from, $lt: to }, dueAt: { $lt: now }, kind: { $ne: "internal" } }, { departmentCode: 1, agencyCode: 1 }).lean(),
    user.role === "manager" ? Promise.resolve(undefined) : smsByTemplate(from, to),
    directory.holidays.dates(),
  ]);
  const agencies = new Map<string, Tally>();
  const departments = new Map<string, Tally>();
  const total = tally();
  const policies = new Map<string, FollowupPolicy>();
  const get = (m: Map<string, Tally>, k: string) => m.get(k) ?? m.set(k, tally()).get(k)!;
  for (const t of transactions) {
    const dept = t.departmentCode ?? "";
    if (!policies.has(dept)) policies.set(dept, await followupPolicy("reply", t.departmentCode, defaultPeriod));
    const policy = policies.get(dept)!;
    for (const o of t.outgoing ?? []) {
      if (!o.requiresReply || !o.date || o.date < from || o.date >= to) continue;
      const targets = [get(agencies, o.destination?.agencyCode ?? ""), get(departments, dept), total];
      const repliedAt = o.reply ? (o.reply.date ?? o.reply.receivedAt) : undefined;
      for (const x of targets) {
        x.sent++;
        if (!o.reply) continue;
        x.replied++;
        if (repliedAt) {
          x.days.push(Math.max(daysBetween(o.date, repliedAt), 0));
          if (repliedAt <= dueDate(o.date, policy, holidays)) x.within++;
        }
      }
    }
  }
  for (const p of overdue) {
    get(agencies, p.agencyCode ?? "").overdueNow++;
    get(departments, p.departmentCode ?? "").overdueNow++;
    total.overdueNow++;
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
    ...(sms ? { sms } : {}),
  };
}

/** Messages created in the range, per template and status, counted and their parts summed in the database. */
async function smsByTemplate(from: Date, to: Date): Promise<SmsRow[]> {
  // Grouped by part count too: the embedded database answers 0 for `$sum: "$parts"`, counting works on both.
  const groups: Array<{ _id: { template: string; status: string; parts?: number }; count: number }> = await MessageModel.aggregate([
    { $match: { createdAt: { $gte: from, $lt: to } } },
    { $group: { _id: { template: "$template", status: "$status", parts: "$parts" }, count: { $sum: 1 } } },
  ]);
  const out = new Map<string, SmsRow>();
  for (const g of groups) {
    const r = out.get(g._id.template) ?? out.set(g._id.template, { template: g._id.template, sent: 0, delivered: 0, failed: 0, parts: 0 }).get(g._id.template)!;
    if (NOT_SENT.has(g._id.status)) continue;
    r.sent += g.count;
    r.parts += (g._id.parts ?? 0) * g.count;
    if (g._id.status === "delivered") r.delivered += g.count;
    if (FAILED.has(g._id.status)) r.failed += g.count;
  }
  return [...out.values()].sort((a, b) => b.sent - a.sent || a.template.localeCompare(b.template));
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

/**
 * The leadership report's daily facts as pure values: what one day's letters, SMS and
 * inquiries add up to, how days add up to a month, and the median and 90th percentile of
 * days to reply from summed histograms (exact: days are whole numbers).
 *
 * @module
 */
import { RIYADH_OFFSET_MS } from "../text/calendar.ts";

const DAY_MS = 86_400_000;

/** A Riyadh day `YYYY-MM-DD` (see riyadhDateKey in core/text/calendar.ts), or an hour of it `YYYY-MM-DDTHH`. */
export const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])(T([01]\d|2[0-3]))?$/;

/**
 * The Riyadh hour an instant falls in, `YYYY-MM-DDTHH`.
 *
 * @example
 *   hourOf(new Date("2026-01-31T21:30:00Z")) // "2026-02-01T00"
 */
export function hourOf(d: Date): string {
  return new Date(d.getTime() + RIYADH_OFFSET_MS).toISOString().slice(0, 13);
}

/**
 * The instants a Riyadh day or hour spans, `[from, to)`.
 *
 * @example
 *   periodRange("2026-02-01")    // { from: 2026-01-31T21:00:00Z, to: 2026-02-01T21:00:00Z }
 *   periodRange("2026-02-01T09") // { from: 2026-02-01T06:00:00Z, to: 2026-02-01T07:00:00Z }
 */
export function periodRange(key: string): { from: Date; to: Date } {
  const m = PERIOD.exec(key);
  if (!m) throw new RangeError(`not a day (YYYY-MM-DD) or an hour (YYYY-MM-DDTHH): ${key}`);
  const from = new Date(Date.parse(`${key.slice(0, 10)}T${m[5] ?? "00"}:00:00Z`) - RIYADH_OFFSET_MS);
  return { from, to: new Date(from.getTime() + (m[5] ? DAY_MS / 24 : DAY_MS)) };
}

/** Days to reply → how many letters took that many days. */
export type Histogram = Record<string, number>;

/** One letter needing a reply, as the day's facts count it. */
export interface LetterFact {
  agencyCode: string;
  departmentCode: string;
  replied: boolean;
  /** Whole Riyadh days from the letter to its reply (replied letters). */
  daysToReply?: number | null;
  /** Replied within the department's period (decided when the reply was applied). */
  within?: boolean | null;
}

/** A day's letters of one agency and department. */
export interface LetterFacts {
  agencyCode: string;
  departmentCode: string;
  sent: number;
  replied: number;
  within: number;
  days: Histogram;
}

/**
 * A day's letters summed per agency and department.
 *
 * @example
 *   letterRows([{ agencyCode: "MOI", departmentCode: "LEGAL", replied: true, daysToReply: 3, within: true }])
 *   // [{ agencyCode: "MOI", departmentCode: "LEGAL", sent: 1, replied: 1, within: 1, days: { "3": 1 } }]
 */
export function letterRows(letters: Iterable<LetterFact>): LetterFacts[] {
  const rows = new Map<string, LetterFacts>();
  for (const l of letters) {
    const key = `${l.agencyCode}\u0000${l.departmentCode}`;
    const r = rows.get(key) ?? rows.set(key, { agencyCode: l.agencyCode, departmentCode: l.departmentCode, sent: 0, replied: 0, within: 0, days: {} }).get(key)!;
    r.sent++;
    if (!l.replied) continue;
    r.replied++;
    if (l.within) r.within++;
    if (typeof l.daysToReply === "number") r.days[l.daysToReply] = (r.days[l.daysToReply] ?? 0) + 1;
  }
  return [...rows.values()].sort((a, b) => a.agencyCode.localeCompare(b.agencyCode) || a.departmentCode.localeCompare(b.departmentCode));
}

/** Letters summed over days (and agencies or departments): counts and the merged histogram. */
export interface LetterTally {
  sent: number;
  replied: number;
  within: number;
  days: Histogram;
}

export const emptyTally = (): LetterTally => ({ sent: 0, replied: 0, within: 0, days: {} });

/** Adds a row (or tally) into a tally. */
export function addInto(t: LetterTally, r: LetterTally): LetterTally {
  t.sent += r.sent;
  t.replied += r.replied;
  t.within += r.within;
  for (const [d, n] of Object.entries(r.days)) t.days[d] = (t.days[d] ?? 0) + n;
  return t;
}

/**
 * Day rows of letters summed per agency and department (a month's document holds these: the
 * histograms summed stay exact).
 *
 * @example
 *   sumLetters([{ agencyCode: "MOI", departmentCode: "LEGAL", sent: 2, replied: 1, within: 1, days: { "3": 1 } },
 *               { agencyCode: "MOI", departmentCode: "LEGAL", sent: 1, replied: 1, within: 0, days: { "3": 1 } }])
 *   // [{ agencyCode: "MOI", departmentCode: "LEGAL", sent: 3, replied: 2, within: 1, days: { "3": 2 } }]
 */
export function sumLetters(rows: Iterable<LetterFacts>): LetterFacts[] {
  const out = new Map<string, LetterFacts>();
  for (const r of rows) {
    const key = `${r.agencyCode}\u0000${r.departmentCode}`;
    addInto(out.get(key) ?? out.set(key, { agencyCode: r.agencyCode, departmentCode: r.departmentCode, ...emptyTally() }).get(key)!, r);
  }
  return [...out.values()].sort((a, b) => a.agencyCode.localeCompare(b.agencyCode) || a.departmentCode.localeCompare(b.departmentCode));
}

/** A month as `YYYY-MM`. */
export const MONTH = /^(\d{4})-(0[1-9]|1[0-2])$/;

/**
 * The `n` months ending with `month` (`YYYY-MM`), oldest first.
 *
 * @example
 *   monthsEnding("2026-02", 3) // ["2025-12", "2026-01", "2026-02"]
 */
export function monthsEnding(month: string, n: number): string[] {
  const m = MONTH.exec(month);
  if (!m) throw new RangeError(`not a month (YYYY-MM): ${month}`);
  const index = Number(m[1]) * 12 + Number(m[2]) - 1;
  return Array.from({ length: n }, (_, i) => index - n + 1 + i).map((k) => `${String(Math.floor(k / 12)).padStart(4, "0")}-${String((k % 12) + 1).padStart(2, "0")}`);
}

/**
 * The instants a Riyadh month (`YYYY-MM`) spans, `[from, to)`: from 21:00 UTC on the day
 * before its first day to the same hour before the next month's.
 *
 * @example
 *   monthRange("2026-01") // { from: 2025-12-31T21:00:00Z, to: 2026-01-31T21:00:00Z }
 */
export function monthRange(month: string): { from: Date; to: Date } {
  const m = MONTH.exec(month);
  if (!m) throw new RangeError(`not a month (YYYY-MM): ${month}`);
  const [y, i] = [Number(m[1]), Number(m[2]) - 1];
  return { from: new Date(Date.UTC(y, i, 1) - RIYADH_OFFSET_MS), to: new Date(Date.UTC(y, i + 1, 1) - RIYADH_OFFSET_MS) };
}

/**
 * The Riyadh month (`YYYY-MM`) an instant falls in.
 *
 * @example
 *   monthOf(new Date("2026-01-31T21:30:00Z")) // "2026-02"
 */
export function monthOf(d: Date): string {
  return new Date(d.getTime() + RIYADH_OFFSET_MS).toISOString().slice(0, 7);
}

/**
 * The `p`-th percentile (0–100) by nearest rank of the values a histogram counts, or
 * undefined when it counts none: the same as sorting every value and taking the
 * `ceil(p/100 × n)`-th.
 *
 * @example
 *   histogramPercentile({ "1": 1, "2": 1, "3": 1, "4": 1, "10": 1 }, 50) // 3
 *   histogramPercentile({ "1": 1, "2": 1, "3": 1, "4": 1, "10": 1 }, 90) // 10
 */
export function histogramPercentile(h: Histogram, p: number): number | undefined {
  const entries = Object.entries(h).map(([d, n]) => [Number(d), n] as const).filter(([, n]) => n > 0).sort((a, b) => a[0] - b[0]);
  const total = entries.reduce((s, [, n]) => s + n, 0);
  if (!total) return undefined;
  const rank = Math.min(total, Math.max(1, Math.ceil((p / 100) * total)));
  let seen = 0;
  for (const [d, n] of entries) if ((seen += n) >= rank) return d;
  return entries[entries.length - 1]![0];
}

/** A day's SMS of one template. */
export interface SmsRow {
  template: string;
  sent: number;
  delivered: number;
  failed: number;
  /** Parts submitted: what the SMSC bills. */
  parts: number;
}

const FAILED = new Set(["undeliverable", "expired", "rejected", "failed"]);
const NOT_SENT = new Set(["queued", "sending", "opted-out"]);
/** Statuses that may still change (the day's facts are not final while a message holds one). */
const IN_FLIGHT = new Set(["queued", "sending", "submitted"]);

/**
 * SMS per template from messages counted per template, status and part count: sent (handed
 * to the SMSC), delivered, failed and parts; and whether any may still change.
 *
 * @example
 *   smsRows([{ template: "registered", status: "delivered", parts: 2, count: 3 }])
 *   // { rows: [{ template: "registered", sent: 3, delivered: 3, failed: 0, parts: 6 }], inFlight: false }
 */
export function smsRows(groups: Array<{ template: string; status: string; parts?: number | null; count: number }>): { rows: SmsRow[]; inFlight: boolean } {
  const out = new Map<string, SmsRow>();
  let inFlight = false;
  for (const g of groups) {
    if (IN_FLIGHT.has(g.status)) inFlight = true;
    const r = out.get(g.template) ?? out.set(g.template, { template: g.template, sent: 0, delivered: 0, failed: 0, parts: 0 }).get(g.template)!;
    if (NOT_SENT.has(g.status)) continue;
    r.sent += g.count;
    r.parts += (g.parts ?? 0) * g.count;
    if (g.status === "delivered") r.delivered += g.count;
    if (FAILED.has(g.status)) r.failed += g.count;
  }
  return { rows: [...out.values()].sort((a, b) => a.template.localeCompare(b.template)), inFlight };
}

/** SMS rows of several days summed per template, most sent first. */
export function sumSms(days: SmsRow[][]): SmsRow[] {
  const out = new Map<string, SmsRow>();
  for (const r of days.flat()) {
    const t = out.get(r.template) ?? out.set(r.template, { template: r.template, sent: 0, delivered: 0, failed: 0, parts: 0 }).get(r.template)!;
    t.sent += r.sent;
    t.delivered += r.delivered;
    t.failed += r.failed;
    t.parts += r.parts;
  }
  return [...out.values()].sort((a, b) => b.sent - a.sent || a.template.localeCompare(b.template));
}

/** Inquiry counts of several days summed per channel, most first. */
export function sumCounts(days: Array<Record<string, number> | null | undefined>): Array<{ channel: string; count: number }> {
  const out = new Map<string, number>();
  for (const d of days) for (const [channel, n] of Object.entries(d ?? {})) out.set(channel, (out.get(channel) ?? 0) + n);
  return [...out].map(([channel, count]) => ({ channel, count })).sort((a, b) => b.count - a.count || a.channel.localeCompare(b.channel));
}

// Working days in Riyadh: the Friday-Saturday weekend and public holidays skipped (reply
// periods and follow-up notices counted in working days).
import { addDays, assertDate, riyadhDateKey, riyadhWeekday } from "./calendar.ts";

export interface WorkingDayOptions {
  /** Weekend days, 0 = Sunday .. 6 = Saturday. Default `[5, 6]` (Friday, Saturday: Saudi Arabia since 2013). */
  weekend?: number[];
  /** Public holidays as Riyadh dates `YYYY-MM-DD`. */
  holidays?: string[];
}

/**
 * Whether the Riyadh calendar date of `d` is a working day.
 *
 * @example
 * isWorkingDay(new Date("2026-11-27T09:00:00Z")) // false (a Friday)
 */
export function isWorkingDay(d: Date, opts: WorkingDayOptions = {}): boolean {
  const weekend = opts.weekend ?? [5, 6];
  if (weekend.includes(riyadhWeekday(d))) return false;
  return !(opts.holidays ?? []).includes(riyadhDateKey(d));
}

/**
 * Moves `n` working days from `d`, skipping weekend days and holidays
 * (Riyadh calendar). The time of day is kept. `n = 0` returns `d` as is;
 * a negative `n` moves backwards. The result is always a working day when
 * `n !== 0`: Thursday + 1 = Sunday with the default Friday–Saturday weekend.
 *
 * @example
 * // Thursday 2026-11-26 + 1 working day → Sunday 2026-11-29
 * addWorkingDays(new Date("2026-11-26T09:00:00Z"), 1) // 2026-11-29T09:00:00Z
 * addWorkingDays(d, 10, { holidays: ["2026-09-23"] })
 */
export function addWorkingDays(d: Date, n: number, opts: WorkingDayOptions = {}): Date {
  assertDate(d, "addWorkingDays");
  if (!Number.isInteger(n)) throw new RangeError(`addWorkingDays: n must be an integer, got ${n}`);
  const weekend = opts.weekend ?? [5, 6];
  if (weekend.length >= 7 && n !== 0) throw new RangeError("addWorkingDays: every day is a weekend day");
  const holidays = new Set(opts.holidays ?? []);
  const step = n < 0 ? -1 : 1;
  let left = Math.abs(n);
  let cur = d;
  let guard = 0;
  while (left > 0) {
    cur = addDays(cur, step);
    if (!weekend.includes(riyadhWeekday(cur)) && !holidays.has(riyadhDateKey(cur))) left--;
    if (++guard > Math.abs(n) * 7 + 3660) throw new RangeError("addWorkingDays: no working day found (holidays cover years?)");
  }
  return cur;
}

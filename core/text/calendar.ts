/**
 * Calendar dates for Taqib: Hijri and Gregorian formatting, date keys and day
 * arithmetic (digits are in digits.ts, number words in number-words.ts, working
 * days in working-days.ts).
 *
 * Pure functions, no I/O. Every calendar question ("which day is it?",
 * "how many days between?") is answered in the Asia/Riyadh time zone,
 * whatever the time zone of the process is.
 *
 * Hijri dates are Umm al-Qura (the official Saudi calendar), computed with
 * the ICU calendar `islamic-umalqura` that ships with Node
 * (`Intl.DateTimeFormat("en-u-ca-islamic-umalqura", …)`). Note that plain
 * `ar-SA` formats Gregorian dates in current ICU, so the calendar is always
 * requested explicitly.
 *
 * Formats (chosen to match Saudi government correspondence):
 *
 * | function          | lang | digits | example              |
 * |-------------------|------|--------|----------------------|
 * | formatHijri       | ar   | latin  | `1448/06/18هـ`       |
 * | formatHijri       | ar   | arabic | `١٤٤٨/٠٦/١٨هـ`       |
 * | formatHijri       | en   | latin  | `18/06/1448 AH`      |
 * | formatHijri long  | ar   | latin  | `18 جمادى الآخرة 1448هـ` |
 * | formatHijri long  | en   | latin  | `18 Jumada al-Akhirah 1448 AH` |
 * | formatGregorian   | ar   | latin  | `2026/11/28م`        |
 * | formatGregorian   | en   | latin  | `28/11/2026`         |
 *
 * Arabic numeric dates are written year/month/day (as on Saudi official
 * letters; the run of digits and slashes stays left-to-right inside Arabic
 * text), English ones day/month/year. Month and day are zero-padded.
 *
 * @module
 */

import { applyDigits, type DigitStyle } from "./digits.ts";
import type { Lang } from "./lang.ts";

/** The time zone of every calendar computation in this module. */
export const RIYADH_TZ = "Asia/Riyadh";
/** Riyadh has kept UTC+3 without daylight saving since 1950: where a fixed offset is simpler than the time zone (day and month keys, ranges). */
export const RIYADH_OFFSET_MS = 3 * 3_600_000;

const DAY_MS = 86_400_000;

/** Throws a RangeError naming `fn` unless `d` is a valid Date. */
export function assertDate(d: Date, fn: string): void {
  if (!(d instanceof Date) || Number.isNaN(d.getTime())) {
    throw new RangeError(`${fn}: expected a valid Date, got ${String(d)}`);
  }
}

// Formatters are expensive to build: build each once.
const hijriFmt = new Intl.DateTimeFormat("en-u-ca-islamic-umalqura-nu-latn", {
  timeZone: RIYADH_TZ,
  year: "numeric",
  month: "numeric",
  day: "numeric",
});
const gregFmt = new Intl.DateTimeFormat("en-u-ca-gregory-nu-latn", {
  timeZone: RIYADH_TZ,
  year: "numeric",
  month: "numeric",
  day: "numeric",
});
const timeFmt = new Intl.DateTimeFormat("en-u-ca-gregory-nu-latn", {
  timeZone: RIYADH_TZ,
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
});

function numericParts(fmt: Intl.DateTimeFormat, d: Date): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of fmt.formatToParts(d)) {
    if (p.type === "year" || p.type === "month" || p.type === "day" || p.type === "hour" || p.type === "minute") {
      out[p.type] = Number.parseInt(p.value, 10);
    }
  }
  return out;
}

/** Calendar date as numbers. `month` is 1-based. */
export interface DateParts {
  year: number;
  month: number;
  day: number;
}

/**
 * The Umm al-Qura Hijri date of an instant, in Riyadh.
 *
 * @example
 * hijriParts(new Date("2024-03-11T09:00:00Z")) // { year: 1445, month: 9, day: 1 } (1 Ramadan 1445)
 */
export function hijriParts(d: Date): DateParts {
  assertDate(d, "hijriParts");
  const p = numericParts(hijriFmt, d);
  return { year: p.year!, month: p.month!, day: p.day! };
}

/**
 * The Gregorian date of an instant, in Riyadh.
 *
 * @example
 * gregorianParts(new Date("2024-03-10T21:30:00Z")) // { year: 2024, month: 3, day: 11 } (00:30 in Riyadh)
 */
export function gregorianParts(d: Date): DateParts {
  assertDate(d, "gregorianParts");
  const p = numericParts(gregFmt, d);
  return { year: p.year!, month: p.month!, day: p.day! };
}

const pad2 = (n: number) => String(n).padStart(2, "0");

export interface DateFormatOptions {
  lang: Lang;
  digits: DigitStyle;
  /** `numeric` (default): `1448/06/18هـ`; `long`: `18 جمادى الآخرة 1448هـ`. */
  style?: "numeric" | "long";
}

/**
 * Formats the Umm al-Qura date of `d` (in Riyadh).
 *
 * @example
 * const d = new Date("2026-11-28T09:00:00Z");
 * formatHijri(d, { lang: "ar", digits: "latin" })  // "1448/06/18هـ"
 * formatHijri(d, { lang: "ar", digits: "arabic" }) // "١٤٤٨/٠٦/١٨هـ"
 * formatHijri(d, { lang: "en", digits: "latin" })  // "18/06/1448 AH"
 * formatHijri(d, { lang: "en", digits: "latin", style: "long" }) // "18 Jumada al-Akhirah 1448 AH"
 */
export function formatHijri(d: Date, opts: DateFormatOptions): string {
  const { year, month, day } = hijriParts(d);
  let s: string;
  if (opts.style === "long") {
    s =
      opts.lang === "ar"
        ? `${day} ${hijriMonthName(month, "ar")} ${year}هـ`
        : `${day} ${hijriMonthName(month, "en")} ${year} AH`;
  } else {
    s = opts.lang === "ar" ? `${year}/${pad2(month)}/${pad2(day)}هـ` : `${pad2(day)}/${pad2(month)}/${year} AH`;
  }
  return applyDigits(s, opts.digits);
}

const GREGORIAN_MONTHS_EN = [
  "January", "February", "March", "April", "May", "June",
  "July", "August", "September", "October", "November", "December",
];
// Names used in Saudi Arabia (not the Levantine كانون/تشرين set).
const GREGORIAN_MONTHS_AR = [
  "يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو",
  "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر",
];

/**
 * Name of Gregorian month 1..12 (the names used in Saudi Arabia in Arabic).
 *
 * @example
 * gregorianMonthName(11, "ar") // "نوفمبر"
 * gregorianMonthName(11, "en") // "November"
 */
export function gregorianMonthName(month: number, lang: Lang): string {
  if (!Number.isInteger(month) || month < 1 || month > 12) {
    throw new RangeError(`gregorianMonthName: month must be 1..12, got ${month}`);
  }
  return (lang === "ar" ? GREGORIAN_MONTHS_AR : GREGORIAN_MONTHS_EN)[month - 1]!;
}

/**
 * Formats the Gregorian date of `d` (in Riyadh).
 *
 * @example
 * const d = new Date("2026-11-28T09:00:00Z");
 * formatGregorian(d, { lang: "ar", digits: "latin" })  // "2026/11/28م"
 * formatGregorian(d, { lang: "en", digits: "latin" })  // "28/11/2026"
 * formatGregorian(d, { lang: "ar", digits: "latin", style: "long" }) // "28 نوفمبر 2026م"
 * formatGregorian(d, { lang: "en", digits: "latin", style: "long" }) // "28 November 2026"
 */
export function formatGregorian(d: Date, opts: DateFormatOptions): string {
  const { year, month, day } = gregorianParts(d);
  let s: string;
  if (opts.style === "long") {
    s =
      opts.lang === "ar"
        ? `${day} ${GREGORIAN_MONTHS_AR[month - 1]} ${year}م`
        : `${day} ${GREGORIAN_MONTHS_EN[month - 1]} ${year}`;
  } else {
    s = opts.lang === "ar" ? `${year}/${pad2(month)}/${pad2(day)}م` : `${pad2(day)}/${pad2(month)}/${year}`;
  }
  return applyDigits(s, opts.digits);
}

/**
 * Time of day in Riyadh, 24-hour `HH:mm`.
 *
 * @example
 * formatTime(new Date("2026-11-28T06:05:00Z")) // "09:05"
 */
export function formatTime(d: Date, digits: DigitStyle = "latin"): string {
  assertDate(d, "formatTime");
  const p = numericParts(timeFmt, d);
  return applyDigits(`${pad2(p.hour! % 24)}:${pad2(p.minute!)}`, digits);
}

const HIJRI_MONTHS_AR = [
  "محرم", "صفر", "ربيع الأول", "ربيع الآخر", "جمادى الأولى", "جمادى الآخرة",
  "رجب", "شعبان", "رمضان", "شوال", "ذو القعدة", "ذو الحجة",
];
const HIJRI_MONTHS_EN = [
  "Muharram", "Safar", "Rabi al-Awwal", "Rabi al-Akhir", "Jumada al-Ula", "Jumada al-Akhirah",
  "Rajab", "Shaban", "Ramadan", "Shawwal", "Dhu al-Qadah", "Dhu al-Hijjah",
];

/**
 * Name of Hijri month 1..12, as used by the Umm al-Qura calendar.
 * English names are plain ASCII transliterations (they stay GSM-7 in SMS).
 *
 * @example
 * hijriMonthName(9, "ar") // "رمضان"
 * hijriMonthName(5, "en") // "Jumada al-Ula"
 */
export function hijriMonthName(month: number, lang: Lang): string {
  if (!Number.isInteger(month) || month < 1 || month > 12) {
    throw new RangeError(`hijriMonthName: month must be 1..12, got ${month}`);
  }
  return (lang === "ar" ? HIJRI_MONTHS_AR : HIJRI_MONTHS_EN)[month - 1]!;
}

/**
 * The Riyadh calendar date of an instant, `YYYY-MM-DD`.
 *
 * @example
 * riyadhDateKey(new Date("2024-03-10T21:30:00Z")) // "2024-03-11" (00:30 in Riyadh)
 */
export function riyadhDateKey(d: Date): string {
  const { year, month, day } = gregorianParts(d);
  return `${String(year).padStart(4, "0")}-${pad2(month)}-${pad2(day)}`;
}

/**
 * Whether a text is a real Gregorian calendar date `YYYY-MM-DD` (years 1900 to 2200):
 * the month has that day, February 29 only in leap years.
 *
 * @example
 * isCalendarDate("2028-02-29") // true
 * isCalendarDate("2026-02-30") // false (Date.parse would take it as March 2)
 */
export function isCalendarDate(s: unknown): s is string {
  const m = typeof s === "string" ? /^(\d{4})-(\d{2})-(\d{2})$/.exec(s) : null;
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1900 || year > 2200 || month < 1 || month > 12 || day < 1) return false;
  return day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Days since 1970-01-01 of the Riyadh calendar date of `d`. */
function riyadhDayNumber(d: Date): number {
  const { year, month, day } = gregorianParts(d);
  return Math.round(Date.UTC(year, month - 1, day) / DAY_MS);
}

/** Day of week of the Riyadh calendar date, 0 = Sunday .. 6 = Saturday. */
export function riyadhWeekday(d: Date): number {
  return (((riyadhDayNumber(d) + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday
}

/**
 * `d` plus `n` days (n may be negative). Riyadh has had no daylight saving
 * since 1950, so a day is 24 hours and the time of day is kept.
 *
 * @example
 * addDays(new Date("2026-11-28T09:00:00Z"), 10) // 2026-12-08T09:00:00Z
 */
export function addDays(d: Date, n: number): Date {
  assertDate(d, "addDays");
  if (!Number.isInteger(n)) throw new RangeError(`addDays: n must be an integer, got ${n}`);
  return new Date(d.getTime() + n * DAY_MS);
}

/**
 * Number of Riyadh calendar days from `a` to `b` (`b - a`; negative when `b`
 * is earlier). Times of day do not matter: 23:59 to 00:01 the next day is 1.
 *
 * @example
 * daysBetween(new Date("2026-11-28T20:59:00Z"), new Date("2026-11-28T21:01:00Z")) // 1
 */
export function daysBetween(a: Date, b: Date): number {
  assertDate(a, "daysBetween");
  assertDate(b, "daysBetween");
  return riyadhDayNumber(b) - riyadhDayNumber(a);
}

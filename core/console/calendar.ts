/**
 * The holidays page's month grid: a Gregorian month, weeks from Sunday to Saturday, each day
 * with its Umm al-Qura date beside it, the weekend and the holidays marked.
 *
 * @module
 */
import { gregorianMonthName, hijriMonthName, hijriParts, riyadhWeekday, formatGregorian, formatHijri } from "../text/calendar.ts";
import type { Lang } from "../text/lang.ts";

/** One day of the grid. */
export interface CalendarDay {
  /** `YYYY-MM-DD`, the holiday's key. */
  date: string;
  day: number;
  hijriDay: number;
  /** The Hijri month's name on the first day of a Hijri month and on the month's first day; empty otherwise. */
  hijriMonth: string;
  /** Both dates in full, for screen readers: `2026/11/01م — 1448/05/21هـ`. */
  label: string;
  weekend: boolean;
  holiday: boolean;
  holidayName: string;
  today: boolean;
}

export interface MonthGrid {
  month: string;
  /** `نوفمبر 2026م` / `November 2026`. */
  title: string;
  /** The Hijri months it spans: `جمادى الأولى – جمادى الآخرة 1448هـ`. */
  hijriTitle: string;
  /** Weeks of 7 cells, Sunday first; `false` before the 1st and after the last day. */
  weeks: Array<Array<CalendarDay | false>>;
  prev: string;
  next: string;
}

const WEEKEND = [5, 6];
const pad = (n: number) => String(n).padStart(2, "0");

/**
 * The grid of a month (`YYYY-MM`) with the given holidays (`YYYY-MM-DD` → name).
 *
 * @example
 *   const g = monthGrid("2026-11", new Map([["2026-11-29", "يوم التأسيس"]]), "ar", "2026-11-10");
 *   g.weeks[0][0] // { date: "2026-11-01", day: 1, hijriDay: 21, hijriMonth: "جمادى الأولى", weekend: false, ... }
 */
export function monthGrid(month: string, holidays: ReadonlyMap<string, string>, lang: Lang, today: string): MonthGrid {
  const [y, m] = month.split("-").map(Number) as [number, number];
  const days = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const cells: CalendarDay[] = [];
  for (let d = 1; d <= days; d++) {
    // Noon in Riyadh: the same calendar day whatever the process's time zone.
    const at = new Date(Date.UTC(y, m - 1, d, 9));
    const h = hijriParts(at);
    const date = `${y}-${pad(m)}-${pad(d)}`;
    const weekday = riyadhWeekday(at);
    cells.push({
      date,
      day: d,
      hijriDay: h.day,
      hijriMonth: h.day === 1 || d === 1 ? hijriMonthName(h.month, lang) : "",
      label: `${formatGregorian(at, { lang, digits: "latin" })} — ${formatHijri(at, { lang, digits: "latin" })}`,
      weekend: WEEKEND.includes(weekday),
      holiday: holidays.has(date),
      holidayName: holidays.get(date) ?? "",
      today: date === today,
    });
  }
  const lead = riyadhWeekday(new Date(Date.UTC(y, m - 1, 1, 9)));
  const flat: Array<CalendarDay | false> = [...Array<false>(lead).fill(false), ...cells];
  while (flat.length % 7) flat.push(false);
  const weeks = Array.from({ length: flat.length / 7 }, (_, i) => flat.slice(i * 7, i * 7 + 7));
  const first = hijriParts(new Date(Date.UTC(y, m - 1, 1, 9)));
  const last = hijriParts(new Date(Date.UTC(y, m - 1, days, 9)));
  const hijriName = (p: { month: number; year: number }) => `${hijriMonthName(p.month, lang)} ${p.year}`;
  const suffix = lang === "ar" ? "هـ" : " AH";
  const hijriTitle = first.year === last.year
    ? `${hijriMonthName(first.month, lang)} – ${hijriMonthName(last.month, lang)} ${last.year}${suffix}`
    : `${hijriName(first)}${suffix} – ${hijriName(last)}${suffix}`;
  const shift = (n: number) => {
    const d = new Date(Date.UTC(y, m - 1 + n, 1));
    return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}`;
  };
  return {
    month,
    title: `${gregorianMonthName(m, lang)} ${y}${lang === "ar" ? "م" : ""}`,
    hijriTitle,
    weeks,
    prev: shift(-1),
    next: shift(1),
  };
}

// The holidays page's month grid: weeks from Sunday, Hijri beside Gregorian, weekend and holidays.
import { test } from "node:test";
import assert from "node:assert/strict";
import { monthGrid } from "./calendar.ts";

test("monthGrid: November 2026 starts on a Sunday, Umm al-Qura dates beside, Friday and Saturday the weekend", () => {
  const g = monthGrid("2026-11", new Map([["2026-11-29", "يوم"]]), "ar", "2026-11-28");
  assert.equal(g.title, "نوفمبر 2026م");
  assert.equal(g.hijriTitle, "جمادى الأولى – جمادى الآخرة 1448هـ");
  assert.equal(g.weeks.length, 5);
  assert.ok(g.weeks.every((w) => w.length === 7));
  const days = g.weeks.flat().filter((d) => d !== false);
  assert.equal(days.length, 30);
  const d28 = days[27]!;
  // 28 November 2026 is 18 Jumada al-Akhirah 1448 (core/text/calendar.ts), a Saturday.
  assert.deepEqual([d28.date, d28.hijriDay, d28.weekend, d28.today], ["2026-11-28", 18, true, true]);
  assert.equal(days[10]!.hijriMonth, "جمادى الآخرة", "the Hijri month is named on its first day");
  assert.equal(days[0]!.hijriMonth, "جمادى الأولى", "and on the grid's first day");
  assert.equal(days[1]!.hijriMonth, "");
  assert.deepEqual([days[28]!.holiday, days[28]!.holidayName], [true, "يوم"]);
  assert.equal(g.weeks[0]![0], days[0], "Sunday the 1st fills the first cell");
  assert.equal(g.weeks[4]!.filter((d) => d === false).length, 5);
  assert.equal(days[0]!.label, "2026/11/01م — 1448/05/21هـ");
  assert.deepEqual([g.prev, g.next], ["2026-10", "2026-12"]);
});

test("monthGrid: English, a month starting mid-week, a Hijri year boundary, and the year's edges", () => {
  const g = monthGrid("2026-06", new Map(), "en", "2000-01-01");
  assert.equal(g.title, "June 2026");
  // 1 June 2026 is a Monday: one empty cell first.
  assert.equal(g.weeks[0]![0], false);
  assert.equal((g.weeks[0]![1] as any).date, "2026-06-01");
  assert.match(g.hijriTitle, /^Dhu al-Hijjah 1447 AH – Muharram 1448 AH$/);
  assert.deepEqual([monthGrid("2026-01", new Map(), "en", "").prev, monthGrid("2026-12", new Map(), "en", "").next], ["2025-12", "2027-01"]);
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { addDays, daysBetween, formatGregorian, formatHijri, formatTime, gregorianParts, hijriMonthName, hijriParts, isCalendarDate, riyadhDateKey } from "./calendar.ts";

// Published Umm al-Qura dates (Saudi official calendar / announced start of
// months). Each is checked both against our function and against a raw
// Intl call, so a broken ICU and a broken wrapper are told apart.
const UMM_AL_QURA: Array<[gregorian: string, y: number, m: number, d: number, what: string]> = [
  ["2022-07-30", 1444, 1, 1, "1 Muharram 1444 (Islamic new year)"],
  ["2023-03-23", 1444, 9, 1, "1 Ramadan 1444"],
  ["2023-04-21", 1444, 10, 1, "Eid al-Fitr 1444"],
  ["2023-07-19", 1445, 1, 1, "1 Muharram 1445"],
  ["2024-03-11", 1445, 9, 1, "1 Ramadan 1445"],
  ["2024-04-10", 1445, 10, 1, "Eid al-Fitr 1445"],
  ["2024-06-16", 1445, 12, 10, "Eid al-Adha 1445"],
  ["2024-07-07", 1446, 1, 1, "1 Muharram 1446"],
  ["2025-03-01", 1446, 9, 1, "1 Ramadan 1446"],
  ["2025-03-30", 1446, 10, 1, "Eid al-Fitr 1446"],
  ["2025-06-06", 1446, 12, 10, "Eid al-Adha 1446"],
  ["2025-06-26", 1447, 1, 1, "1 Muharram 1447"],
  ["2019-09-23", 1441, 1, 24, "National Day 2019 = 24 Muharram 1441"],
];

test("hijriParts matches published Umm al-Qura dates", async (t) => {
  const raw = new Intl.DateTimeFormat("en-u-ca-islamic-umalqura-nu-latn", {
    timeZone: "Asia/Riyadh",
    year: "numeric",
    month: "numeric",
    day: "numeric",
  });
  for (const [g, y, m, d, what] of UMM_AL_QURA) {
    await t.test(`${g} = ${what}`, () => {
      // midday in Riyadh, and the first and last minute of the Riyadh day
      for (const time of ["T09:00:00Z", "T00:00:00+03:00", "T23:59:00+03:00"]) {
        const date = new Date(g + time);
        assert.deepEqual(hijriParts(date), { year: y, month: m, day: d }, g + time);
        const p = Object.fromEntries(raw.formatToParts(date).map((x) => [x.type, x.value]));
        assert.deepEqual([Number(p.year), Number(p.month), Number(p.day)], [y, m, d], "raw Intl " + g + time);
      }
    });
  }
});

test("near midnight UTC the Riyadh date is already the next day", () => {
  const d = new Date("2024-03-10T21:30:00Z"); // 00:30 on 11 March in Riyadh
  assert.equal(riyadhDateKey(d), "2024-03-11");
  assert.deepEqual(gregorianParts(d), { year: 2024, month: 3, day: 11 });
  assert.deepEqual(hijriParts(d), { year: 1445, month: 9, day: 1 });
  assert.equal(formatGregorian(d, { lang: "ar", digits: "latin" }), "2024/03/11م");
  assert.equal(formatTime(d), "00:30");
  const before = new Date("2024-03-10T20:59:59Z"); // 23:59:59 on 10 March in Riyadh
  assert.equal(riyadhDateKey(before), "2024-03-10");
  assert.deepEqual(hijriParts(before), { year: 1445, month: 8, day: 29 }); // Sha‘ban 1445 had 29 days
  assert.equal(daysBetween(before, d), 1);
});

test("formatHijri / formatGregorian", () => {
  const d = new Date("2026-11-28T09:00:00Z"); // 18 Jumada al-Akhirah 1448
  const cases: Array<[string, string]> = [
    [formatHijri(d, { lang: "ar", digits: "latin" }), "1448/06/18هـ"],
    [formatHijri(d, { lang: "ar", digits: "arabic" }), "١٤٤٨/٠٦/١٨هـ"],
    [formatHijri(d, { lang: "en", digits: "latin" }), "18/06/1448 AH"],
    [formatHijri(d, { lang: "en", digits: "arabic" }), "١٨/٠٦/١٤٤٨ AH"],
    [formatHijri(d, { lang: "ar", digits: "latin", style: "long" }), "18 جمادى الآخرة 1448هـ"],
    [formatHijri(d, { lang: "en", digits: "latin", style: "long" }), "18 Jumada al-Akhirah 1448 AH"],
    [formatGregorian(d, { lang: "ar", digits: "latin" }), "2026/11/28م"],
    [formatGregorian(d, { lang: "ar", digits: "arabic" }), "٢٠٢٦/١١/٢٨م"],
    [formatGregorian(d, { lang: "en", digits: "latin" }), "28/11/2026"],
    [formatGregorian(d, { lang: "ar", digits: "latin", style: "long" }), "28 نوفمبر 2026م"],
    [formatGregorian(d, { lang: "en", digits: "latin", style: "long" }), "28 November 2026"],
    [formatTime(new Date("2026-11-28T06:05:00Z")), "09:05"],
    [formatTime(new Date("2026-11-28T21:00:00Z"), "arabic"), "٠٠:٠٠"],
  ];
  for (const [got, want] of cases) assert.equal(got, want);
  assert.throws(() => formatHijri(new Date("nope"), { lang: "ar", digits: "latin" }), RangeError);
});

test("hijriMonthName", () => {
  assert.equal(hijriMonthName(1, "ar"), "محرم");
  assert.equal(hijriMonthName(5, "ar"), "جمادى الأولى");
  assert.equal(hijriMonthName(9, "ar"), "رمضان");
  assert.equal(hijriMonthName(12, "ar"), "ذو الحجة");
  assert.equal(hijriMonthName(5, "en"), "Jumada al-Ula");
  assert.equal(hijriMonthName(9, "en"), "Ramadan");
  // same month names as ICU's Arabic Umm al-Qura calendar
  const icu = new Intl.DateTimeFormat("ar-SA-u-ca-islamic-umalqura", { timeZone: "Asia/Riyadh", month: "long" });
  for (const [g, , m] of UMM_AL_QURA) assert.equal(hijriMonthName(m, "ar"), icu.format(new Date(g + "T09:00:00Z")));
  assert.throws(() => hijriMonthName(0, "ar"), RangeError);
  assert.throws(() => hijriMonthName(13, "en"), RangeError);
});

test("addDays and daysBetween use Riyadh calendar days", () => {
  const d = new Date("2026-11-28T09:00:00Z");
  assert.equal(addDays(d, 10).toISOString(), "2026-12-08T09:00:00.000Z");
  assert.equal(addDays(d, -28).toISOString(), "2026-10-31T09:00:00.000Z");
  assert.equal(daysBetween(d, addDays(d, 10)), 10);
  assert.equal(daysBetween(addDays(d, 10), d), -10);
  // same UTC day, different Riyadh days
  assert.equal(daysBetween(new Date("2026-11-28T20:00:00Z"), new Date("2026-11-28T22:00:00Z")), 1);
  // different UTC days, same Riyadh day
  assert.equal(daysBetween(new Date("2026-11-27T22:00:00Z"), new Date("2026-11-28T20:00:00Z")), 0);
  // across a Gregorian year and a leap day
  assert.equal(daysBetween(new Date("2024-02-28T09:00:00Z"), new Date("2024-03-01T09:00:00Z")), 2);
  assert.equal(daysBetween(new Date("2025-12-31T09:00:00Z"), new Date("2026-01-01T09:00:00Z")), 1);
});

test("isCalendarDate: real Gregorian days only", () => {
  for (const ok of ["2026-02-28", "2028-02-29", "2000-02-29", "2026-12-31", "2026-04-30"]) assert.equal(isCalendarDate(ok), true, ok);
  for (const bad of ["2026-02-30", "2026-02-29", "1900-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00", "2026-1-01", "2026-01-01T00:00", "١٤٤٧-٠١-٠١", "", 20260101, null]) {
    assert.equal(isCalendarDate(bad), false, String(bad));
  }
});

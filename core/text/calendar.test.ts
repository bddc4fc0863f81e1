import { test } from "node:test";
import assert from "node:assert/strict";
import {
  addDays,
  addWorkingDays,
  applyDigits,
  daysBetween,
  digitsSpokenAr,
  digitsSpokenEn,
  formatGregorian,
  formatHijri,
  formatTime,
  gregorianParts,
  hijriDateInWordsAr,
  hijriMonthName,
  hijriParts,
  isCalendarDate,
  isWorkingDay,
  numberToWordsAr,
  ordinalDayAr,
  riyadhDateKey,
  riyadhWeekday,
  toArabicIndicDigits,
  toLatinDigits,
} from "./calendar.ts";

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

test("numberToWordsAr", () => {
  const nominative: Array<[number, string]> = [
    [0, "صفر"],
    [1, "واحد"],
    [2, "اثنان"],
    [3, "ثلاثة"],
    [8, "ثمانية"],
    [10, "عشرة"],
    [11, "أحد عشر"],
    [12, "اثنا عشر"],
    [13, "ثلاثة عشر"],
    [19, "تسعة عشر"],
    [20, "عشرون"],
    [21, "واحد وعشرون"],
    [22, "اثنان وعشرون"],
    [30, "ثلاثون"],
    [48, "ثمانية وأربعون"],
    [60, "ستون"],
    [80, "ثمانون"],
    [99, "تسعة وتسعون"],
    [100, "مئة"],
    [101, "مئة وواحد"],
    [111, "مئة وأحد عشر"],
    [200, "مئتان"],
    [212, "مئتان واثنا عشر"],
    [300, "ثلاثمئة"],
    [800, "ثمانمئة"],
    [999, "تسعمئة وتسعة وتسعون"],
    [1000, "ألف"],
    [1001, "ألف وواحد"],
    [1100, "ألف ومئة"],
    [1445, "ألف وأربعمئة وخمسة وأربعون"],
    [1448, "ألف وأربعمئة وثمانية وأربعون"],
    [1999, "ألف وتسعمئة وتسعة وتسعون"],
    [2000, "ألفان"],
    [2026, "ألفان وستة وعشرون"],
    [3000, "ثلاثة آلاف"],
    [5250, "خمسة آلاف ومئتان وخمسون"],
    [9999, "تسعة آلاف وتسعمئة وتسعة وتسعون"],
  ];
  for (const [n, w] of nominative) assert.equal(numberToWordsAr(n), w, String(n));
  const oblique: Array<[number, string]> = [
    [2, "اثنين"],
    [12, "اثني عشر"],
    [22, "اثنين وعشرين"],
    [200, "مئتين"],
    [1448, "ألف وأربعمئة وثمانية وأربعين"],
    [2000, "ألفين"],
    [2026, "ألفين وستة وعشرين"],
  ];
  for (const [n, w] of oblique) assert.equal(numberToWordsAr(n, { case: "oblique" }), w, String(n));
  for (const bad of [-1, 10000, 1.5, NaN]) assert.throws(() => numberToWordsAr(bad), RangeError);
  // every number has words, and no word is doubled or empty
  for (let n = 1; n <= 9999; n++) {
    const w = numberToWordsAr(n);
    assert.ok(!/\s{2}|^\s|\s$|و$|undefined/.test(w), `${n}: ${w}`);
  }
});

test("ordinalDayAr and hijriDateInWordsAr", () => {
  const ord: Array<[number, string]> = [
    [1, "الأول"],
    [2, "الثاني"],
    [10, "العاشر"],
    [11, "الحادي عشر"],
    [12, "الثاني عشر"],
    [17, "السابع عشر"],
    [20, "العشرون"],
    [21, "الحادي والعشرون"],
    [29, "التاسع والعشرون"],
    [30, "الثلاثون"],
  ];
  for (const [n, w] of ord) assert.equal(ordinalDayAr(n), w);
  assert.throws(() => ordinalDayAr(31), RangeError);

  assert.equal(
    hijriDateInWordsAr(new Date("2024-03-11T09:00:00Z")),
    "الأول من رمضان عام ألف وأربعمئة وخمسة وأربعين للهجرة",
  );
  assert.equal(
    hijriDateInWordsAr(new Date("2026-11-28T09:00:00Z")),
    "الثامن عشر من جمادى الآخرة عام ألف وأربعمئة وثمانية وأربعين للهجرة",
  );
  // 10 Dhu al-Hijjah: genitive ذي after من
  assert.equal(
    hijriDateInWordsAr(new Date("2025-06-06T09:00:00Z")),
    "العاشر من ذي الحجة عام ألف وأربعمئة وستة وأربعين للهجرة",
  );
});

test("digit conversion and digit-by-digit reading", () => {
  assert.equal(toArabicIndicDigits("1448/06/18"), "١٤٤٨/٠٦/١٨");
  assert.equal(toLatinDigits("١٤٤٨/٠٦/١٨"), "1448/06/18");
  assert.equal(toLatinDigits("۱۲۳۴۵۶۷۸۹۰"), "1234567890");
  assert.equal(toLatinDigits("abc ٣-۴"), "abc 3-4");
  assert.equal(applyDigits("۱2٣", "arabic"), "١٢٣");
  assert.equal(applyDigits("۱2٣", "latin"), "123");
  assert.equal(digitsSpokenAr("1203"), "واحد اثنان صفر ثلاثة");
  assert.equal(digitsSpokenAr("٤٥-۶"), "أربعة خمسة ستة");
  assert.equal(digitsSpokenEn("1203"), "one two zero three");
  assert.equal(digitsSpokenEn(""), "");
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

test("addWorkingDays skips the Friday-Saturday weekend and holidays", () => {
  const thu = new Date("2026-11-26T09:00:00Z"); // Thursday
  assert.equal(riyadhWeekday(thu), 4);
  assert.equal(riyadhDateKey(addWorkingDays(thu, 1)), "2026-11-29"); // Sunday
  assert.equal(riyadhDateKey(addWorkingDays(thu, 2)), "2026-11-30"); // Monday
  assert.equal(addWorkingDays(thu, 1).toISOString(), "2026-11-29T09:00:00.000Z"); // keeps time of day
  assert.equal(riyadhDateKey(addWorkingDays(thu, 0)), "2026-11-26");
  // ten working days = two weeks
  assert.equal(riyadhDateKey(addWorkingDays(thu, 10)), "2026-12-10");
  // a holiday on Sunday pushes to Monday
  assert.equal(riyadhDateKey(addWorkingDays(thu, 1, { holidays: ["2026-11-29"] })), "2026-11-30");
  // National Day 2026 (Wednesday 23 September) as a holiday
  const tue = new Date("2026-09-22T09:00:00Z");
  assert.equal(riyadhDateKey(addWorkingDays(tue, 2, { holidays: ["2026-09-23"] })), "2026-09-27");
  // backwards
  assert.equal(riyadhDateKey(addWorkingDays(new Date("2026-11-29T09:00:00Z"), -1)), "2026-11-26");
  // a different weekend (the pre-2013 Thursday-Friday)
  assert.equal(riyadhDateKey(addWorkingDays(new Date("2026-11-25T09:00:00Z"), 1, { weekend: [4, 5] })), "2026-11-28");
  // near midnight UTC: 22:30Z Thursday is already Friday in Riyadh → next working day Sunday
  assert.equal(riyadhDateKey(addWorkingDays(new Date("2026-11-26T22:30:00Z"), 1)), "2026-11-29");
  assert.equal(isWorkingDay(new Date("2026-11-27T09:00:00Z")), false);
  assert.equal(isWorkingDay(thu), true);
  assert.equal(isWorkingDay(thu, { holidays: ["2026-11-26"] }), false);
  assert.throws(() => addWorkingDays(thu, 1, { weekend: [0, 1, 2, 3, 4, 5, 6] }), RangeError);
});

test("isCalendarDate: real Gregorian days only", () => {
  for (const ok of ["2026-02-28", "2028-02-29", "2000-02-29", "2026-12-31", "2026-04-30"]) assert.equal(isCalendarDate(ok), true, ok);
  for (const bad of ["2026-02-30", "2026-02-29", "1900-02-29", "2026-04-31", "2026-13-01", "2026-00-10", "2026-01-00", "2026-1-01", "2026-01-01T00:00", "١٤٤٧-٠١-٠١", "", 20260101, null]) {
    assert.equal(isCalendarDate(bad), false, String(bad));
  }
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { digitsSpokenAr, digitsSpokenEn, hijriDateInWordsAr, numberToWordsAr, ordinalDayAr } from "./number-words.ts";

test("digit-by-digit reading", () => {
  assert.equal(digitsSpokenAr("1203"), "واحد اثنان صفر ثلاثة");
  assert.equal(digitsSpokenAr("٤٥-۶"), "أربعة خمسة ستة");
  assert.equal(digitsSpokenEn("1203"), "one two zero three");
  assert.equal(digitsSpokenEn(""), "");
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

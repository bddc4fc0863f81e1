import { test } from "node:test";
import assert from "node:assert/strict";
import { monthNames, toCsv } from "./report.ts";

test("monthNames: the Gregorian month and the Hijri months it spans (the year once, or on both sides when it changes)", () => {
  assert.deepEqual(monthNames("2026-11", "ar"), { gregorian: "نوفمبر 2026م", hijri: "جمادى الأولى – جمادى الآخرة 1448هـ" });
  assert.deepEqual(monthNames("2026-11", "en"), { gregorian: "November 2026", hijri: "Jumada al-Ula – Jumada al-Akhirah 1448 AH" });
  assert.deepEqual(monthNames("2026-06", "ar"), { gregorian: "يونيو 2026م", hijri: "ذو الحجة 1447 – محرم 1448هـ" });
});

test("toCsv: a text that a spreadsheet would run as a formula is written as text; numbers stay numbers", () => {
  const cases: [unknown, string][] = [
    ['=HYPERLINK("https://evil.example","انقر")', `"'=HYPERLINK(""https://evil.example"",""انقر"")"`],
    ["+966 55", "'+966 55"],
    ["-1+1", "'-1+1"],
    ["@SUM(A1)", "'@SUM(A1)"],
    ["\t=1+1", "'\t=1+1"],
    ["\r=1+1", `"'\r=1+1"`],
    ["＝1+1", "'＝1+1"],
    ["وزارة الصحة", "وزارة الصحة"],
    ["a=b", "a=b"],
    [-3, "-3"],
    [12, "12"],
    ["", ""],
  ];
  for (const [value, written] of cases) {
    assert.equal(toCsv(["h"], [[value]]), `\uFEFFh\r\n${written}\r\n`, JSON.stringify(value));
  }
});

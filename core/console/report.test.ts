import { test } from "node:test";
import assert from "node:assert/strict";
import { monthNames } from "./report.ts";

test("monthNames: the Gregorian month and the Hijri months it spans (the year once, or on both sides when it changes)", () => {
  assert.deepEqual(monthNames("2026-11", "ar"), { gregorian: "نوفمبر 2026م", hijri: "جمادى الأولى – جمادى الآخرة 1448هـ" });
  assert.deepEqual(monthNames("2026-11", "en"), { gregorian: "November 2026", hijri: "Jumada al-Ula – Jumada al-Akhirah 1448 AH" });
  assert.deepEqual(monthNames("2026-06", "ar"), { gregorian: "يونيو 2026م", hijri: "ذو الحجة 1447 – محرم 1448هـ" });
});

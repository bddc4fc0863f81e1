import { test } from "node:test";
import assert from "node:assert/strict";
import { applyDigits, normalizeDigits, toArabicIndicDigits, toLatinDigits } from "./digits.ts";

test("digit conversion between Latin and Arabic-Indic", () => {
  assert.equal(toArabicIndicDigits("1448/06/18"), "١٤٤٨/٠٦/١٨");
  assert.equal(toLatinDigits("١٤٤٨/٠٦/١٨"), "1448/06/18");
  assert.equal(toLatinDigits("۱۲۳۴۵۶۷۸۹۰"), "1234567890");
  assert.equal(toLatinDigits("abc ٣-۴"), "abc 3-4");
  assert.equal(applyDigits("۱2٣", "arabic"), "١٢٣");
  assert.equal(applyDigits("۱2٣", "latin"), "123");
});

test("bidi and format characters go, digits become Latin, the rest stays", () => {
  assert.equal(normalizeDigits("رقم \u202b١٢٣\u202c ok"), "رقم 123 ok");
  assert.equal(normalizeDigits("۰۱۲۳۴۵۶۷۸۹"), "0123456789");
});

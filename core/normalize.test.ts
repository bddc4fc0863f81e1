import { test } from "node:test";
import assert from "node:assert/strict";
import { normalizeTransactionNumber, normalizeSaudiMobile, findTransactionNumber, maskMobile } from "./normalize.ts";

test("transaction numbers in any digits and separators", () => {
  const cases: Array<[unknown, string | undefined]> = [
    ["144500123", "144500123"],
    ["١٤٤٥٠٠١٢٣", "144500123"],
    ["۱۴۴۵۰۰۱۲۳", "144500123"],
    ["1445 / 00123", "144500123"],
    ["1445-00-123", "144500123"],
    [" 1445\u200f/123 ", "1445123"],
    [12345, "12345"],
    ["abc", undefined],
    ["12a3", undefined],
    ["", undefined],
    ["-/-", undefined],
    ["1".repeat(21), undefined],
    [null, undefined],
    [{}, undefined],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeTransactionNumber(input), expected, String(input));
});

test("finds a number in free text", () => {
  const cases: Array<[string, string | undefined]> = [
    ["رقم المعاملة ١٢٣-٤٥٦ لو سمحت", "123456"],
    ["status 1445/00123 please", "144500123"],
    ["7", "7"],
    ["مساعدة", undefined],
  ];
  for (const [input, expected] of cases) assert.equal(findTransactionNumber(input), expected, input);
});

test("Saudi mobiles to E.164", () => {
  const cases: Array<[unknown, string | undefined]> = [
    ["0551234567", "+966551234567"],
    ["551234567", "+966551234567"],
    ["966551234567", "+966551234567"],
    ["+966551234567", "+966551234567"],
    ["00966551234567", "+966551234567"],
    ["٠٥٥١٢٣٤٥٦٧", "+966551234567"],
    ["055-123-4567", "+966551234567"],
    ["0451234567", undefined],
    ["+971551234567", undefined],
    ["05512345", undefined],
    ["", undefined],
    [undefined, undefined],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeSaudiMobile(input), expected, String(input));
});

test("masks all but the last four digits", () => {
  assert.equal(maskMobile("+966551234567"), "********4567");
  assert.equal(maskMobile(undefined), "");
});

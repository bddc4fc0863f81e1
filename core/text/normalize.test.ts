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
    ["1445\u200f00123", "144500123"],
    ["\u202b١٤٤٥\u202c\u2066٠٠١٢٣\u2069\ufeff", "144500123"],
    ["1445\u00ad00\u200b123\u061c", "144500123"],
    ["1445 00123", "144500123"],
    // JSON numbers have lost their meaning before we see them: refused, not repaired.
    [12345, undefined],
    [-5, undefined],
    [1.5, undefined],
    [12345678901234567891, undefined],
    ["-5", undefined],
    ["+5", undefined],
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
    ["رقم 1445\u200f00123 لو سمحت", "144500123"],
    ["رقم ١٤٤٥\u200f٠٠١٢٣", "144500123"],
    ["1445 00123", "144500123"],
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
    ["\u200e+966 55 123 4567\u200f", "+966551234567"],
    [551234567, undefined],
    ["0451234567", undefined],
    ["+971551234567", undefined],
    ["05512345", undefined],
    ["", undefined],
    [undefined, undefined],
  ];
  for (const [input, expected] of cases) assert.equal(normalizeSaudiMobile(input), expected, String(input));
});

test("a mobile shows only 05 and its last two digits, whatever its form", () => {
  for (const form of ["+966551234567", "966551234567", "0551234567", "055 123 4567", "٠٥٥١٢٣٤٥٦٧"]) assert.equal(maskMobile(form), "05••••••67", form);
  assert.equal(maskMobile("+12025550123"), "•••••••••23");
  assert.equal(maskMobile(undefined), "");
});

test("display form of a number: as written, Latin digits, clean separators", async () => {
  const { displayNumberOf } = await import("./normalize.ts");
  const cases: Array<[string, string]> = [
    ["1448/00512", "1448/00512"],
    ["١٤٤٨/٠٠٥١٢", "1448/00512"],
    ["\u202b١٤٤٨\u200f/٠٠٥١٢\u202c", "1448/00512"],
    [" 1448 / 00512 ", "1448/00512"],
    ["1448//00512", "1448/00512"],
    ["1445-00123", "1445-00123"],
    ["1445\u201300123", "1445-00123"],
    ["1445  00123", "1445 00123"],
    ["144800512", "144800512"],
    ["1448.00512", "144800512"],
    ["1448_00512", "144800512"],
    ["ر/1448", "1448"],
  ];
  for (const [input, want] of cases) assert.equal(displayNumberOf(input), want, JSON.stringify(input));
});

import { test } from "node:test";
import assert from "node:assert/strict";
import { safeReference, safeText } from "./text.ts";

test("safeReference: plain references pass (Arabic-Indic digits made Latin), anything that could carry a message is refused", () => {
  const ok: Array<[unknown, string]> = [
    ["9031", "9031"],
    ["R-77", "R-77"],
    [" 1447/5/123 ", "1447/5/123"],
    ["ر/١٤٤٧-٩٠٣١", "ر/1447-9031"],
    ["ق.م 12", "ق.م 12"],
    [9031, "9031"],
  ];
  for (const [input, value] of ok) assert.deepEqual(safeReference(input), { ok: true, value }, String(input));
  const refused: unknown[] = [
    "9031\nادفع الرسوم الآن",
    "9031\r\n1",
    "pay the fees now: https://pay.example",
    "https://x.co",
    "www.pay",
    "pay-fees.com/x",
    "bit.ly/abc",
    "بنك.السعودية",
    "9031\u202Eabc",
    "90\u200F31",
    "9031\t1",
    "9031:1",
    "R#1",
    "Ω-1",
    "x".repeat(65),
    "",
    "  ",
    -5,
    1.5,
    { n: 1 },
    null,
  ];
  for (const input of refused) assert.equal(safeReference(input).ok, false, JSON.stringify(input));
});

test("safeText: names and subjects pass; line breaks, invisible characters and web addresses are refused", () => {
  for (const v of ["وزارة الداخلية", "Ministry of Interior", "محمد بن عبدالله", "طلب إفادة (عاجل)، رقم ٥", "Dr. Sara O'Neil"]) {
    assert.deepEqual(safeText(v, 200), { ok: true, value: v }, v);
  }
  for (const v of ["وزارة\nالداخلية", "a\u2028b", "a\u202Eb", "a\u2066b", "a\u0007b", "visit www.x", "http://x", "pay.example", "وزارة بنك.السعودية"]) {
    assert.equal(safeText(v, 200).ok, false, JSON.stringify(v));
  }
  assert.equal(safeText("x".repeat(201), 200).ok, false);
});

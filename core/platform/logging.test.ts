import { test } from "node:test";
import assert from "node:assert/strict";
import { formatLogLine, maskLogText, maskMobiles } from "./logging.ts";

/** The mobile 0551234567 as people and systems write it. */
const MOBILE_FORMS = [
  "+966551234567",
  "966551234567",
  "00966551234567",
  "0551234567",
  "551234567",
  "055 123 4567",
  "05-5123-4567",
  "+966 55 123 4567",
  "(055) 123-4567",
  "٠٥٥١٢٣٤٥٦٧",
  "+٩٦٦٥٥١٢٣٤٥٦٧",
  "۰۵۵۱۲۳۴۵۶۷",
  "\u200f0551\u200e234567",
  "\u202b٠٥٥ ١٢٣ ٤٥٦٧\u202c",
  "%2B966551234567",
  "055%20123%204567",
];

test("every written form of a mobile is masked to 05••••••67", () => {
  for (const form of MOBILE_FORMS) {
    const out = maskMobiles(`MO from ${form}: ok`);
    assert.match(out, /^MO from \(?05••••••67: ok$/, form);
  }
});

test("other numbers stay readable", () => {
  for (const s of ["transaction 144500123", "2026-12-05T10:00:10.123Z", "took 1234 ms", "05512345678", "port 2775"]) assert.equal(maskMobiles(s), s);
});

test("personal values in URLs, form bodies and JSON are hidden", () => {
  const cases: Array<[string, string]> = [
    ["GET /api/v1/inquiry?number=144500123&verifier=4567&lang=ar failed:", "GET /api/v1/inquiry?number=•••&verifier=•••&lang=ar failed:"],
    ["POST /channels/ivr/number?attempt=1 Digits=144500123&From=%2B966551234567&Caller=x", "POST /channels/ivr/number?attempt=1 Digits=•••&From=•••&Caller=•••"],
    ["/kiosk/answer?kiosk=K1&NUMBER=1&Verifier=٤٥٦٧", "/kiosk/answer?kiosk=K1&NUMBER=•••&Verifier=•••"],
    ['{"number":"144500123","verifier":4567,"mobile":"055 123 4567","lang":"ar"}', '{"number":"•••","verifier":"•••","mobile":"•••","lang":"ar"}'],
    ['Params: {"citizen":{"name":"محمد","mobile":"0551234567"},"subject":"طلب \\"إفادة\\"","x":1}', 'Params: {"citizen":{"name":"•••","mobile":"•••"},"subject":"•••","x":1}'],
    ["/api/v1/messages?transactionNumber=144500123&status=sent", "/api/v1/messages?transactionNumber=144500123&status=sent"],
  ];
  for (const [input, expected] of cases) assert.equal(maskLogText(input), expected, input);
});

test("the log line itself is masked, errors included", () => {
  const line = JSON.parse(formatLogLine("error", ["GET /api/v1/inquiry?number=1&verifier=4567 failed:", new Error("no SMS to 055 123 4567")], { nodeID: "n1", svc: "api" }));
  assert.equal(line.msg, "GET /api/v1/inquiry?number=•••&verifier=••• failed: Error: no SMS to 05••••••67");
});

test("URL-encoded text is read as decoded, control characters stay encoded", () => {
  assert.equal(maskLogText("GET /api/v1/transactions/%D9%A0%D9%A5%D9%A5%D9%A1%D9%A2%D9%A3%D9%A4%D9%A5%D9%A6%D9%A7"), "GET /api/v1/transactions/05••••••67");
  assert.equal(maskLogText("GET /x?q=a%0Ab%2"), "GET /x?q=a%0Ab%2");
});

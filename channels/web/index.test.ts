// web: query parsing, statuses, the JSON shape and the page's HTML, table-driven.
import { test } from "node:test";
import assert from "node:assert/strict";
import plugin, { answerJson, errorCodeOf, parseWebQuery, renderPage, statusOf, type WebConfig } from "./index.ts";
import { loadFixture, request, testContext } from "../testing.ts";
import type { InquiryAnswer, Lang } from "../contract.ts";
import { loadConfig } from "../../core/platform/config.ts";

const answers = loadFixture<Record<string, InquiryAnswer>>("web", "answers.json");
const config: WebConfig = { pagePath: "/", shortCode: "74747", digits: "latin", office: loadConfig({}).office };
const ctx = (answer?: InquiryAnswer) => testContext("web", config, answer ? { answer: () => answer } : {});
const route = (path: string) => plugin.routes!.find((r) => r.path === path)!;

test("parseWebQuery: language, raw values, asked or not", () => {
  const table: Array<[string, Partial<ReturnType<typeof parseWebQuery>>]> = [
    ["/", { lang: "ar", asked: false, number: "", verifier: "", badLang: false }],
    ["/?lang=en", { lang: "en", asked: false }],
    ["/?lang=EN&number=١٢٣", { lang: "en", asked: true, number: "١٢٣" }],
    ["/?number=", { asked: true, number: "" }],
    ["/?number=1&verifier=4567", { number: "1", verifier: "4567" }],
    ["/?number=1&number=2", { number: "1" }],
    ["/?lang=fr", { lang: "ar", badLang: true }],
    ["/?lang=", { lang: "ar", badLang: false }],
  ];
  for (const [url, expected] of table) {
    const q = parseWebQuery(request("GET", url).query);
    for (const [k, v] of Object.entries(expected)) assert.equal(q[k as keyof typeof q], v, `${url} ${k}`);
  }
  assert.equal(parseWebQuery(request("GET", `/?number=${"1".repeat(500)}`).query).number.length, 200);
});

test("statuses and error codes of every outcome", () => {
  const table: Array<[string, number, string | undefined]> = [
    ["issued-coarse", 200, undefined],
    ["issued-detail", 200, undefined],
    ["empty", 400, "NUMBER_REQUIRED"],
    ["malformed", 400, "INVALID_TRANSACTION_NUMBER"],
    ["bad-verifier", 400, "INVALID_VERIFIER"],
    ["not-found", 404, "TRANSACTION_NOT_FOUND"],
    ["limited", 429, "RATE_LIMITED"],
    ["unavailable", 503, "SERVICE_UNAVAILABLE"],
  ];
  for (const [name, status, code] of table) {
    assert.equal(statusOf(answers[name]!), status, name);
    assert.equal(errorCodeOf(answers[name]!), code, name);
  }
});

test("JSON: the answer's facts, dates in ISO, a sentence in both languages", () => {
  const coarse = answerJson(answers["issued-coarse"]!, ctx(), "ar");
  assert.equal(coarse.status, 200);
  assert.deepEqual(Object.keys(coarse.body).sort(), ["displayNumber", "issuedOn", "lang", "level", "message", "messageAr", "number", "proof", "stage", "text", "verification"]);
  const b = coarse.body as any;
  assert.equal(b.issuedOn, "2026-12-03T09:15:00.000Z");
  // Numbers and dates isolated left-to-right (LRI…PDI) inside the Arabic sentence.
  assert.equal(b.messageAr, "المعاملة رقم \u2066144500123\u2069 صدرت بتاريخ \u20661448/06/23\u2069هـ.");
  assert.equal(b.message, "Transaction No. 144500123 was issued on 23/06/1448 AH.");
  assert.equal(b.text, b.messageAr);
  const detail = answerJson(answers["issued-detail"]!, ctx(), "en").body as any;
  assert.equal(detail.text, detail.message);
  assert.deepEqual(detail.details, {
    registeredAt: "2026-11-28T07:30:00.000Z",
    department: { code: "LEGAL", name: { ar: "الإدارة القانونية", en: "Legal Affairs" } },
    outgoing: [{ number: "4812077", displayNumber: "4812077", date: "2026-12-03T09:15:00.000Z", destination: { code: "MOI", name: { ar: "وزارة الداخلية", en: "Ministry of Interior" } }, requiresReply: true, replied: false }],
  });
  assert.match(detail.messageAr, /صادر رقم \u20664812077\u2069 بتاريخ \u20661448\/06\/23\u2069هـ إلى وزارة الداخلية/);
  const errors: Array<[string, string, RegExp, RegExp]> = [
    ["not-found", "TRANSACTION_NOT_FOUND", /^No transaction with the number 999/, /^لم نعثر على معاملة بالرقم \u2066999\u2069/],
    ["malformed", "INVALID_TRANSACTION_NUMBER", /not valid/, /غير صحيح/],
    ["limited", "RATE_LIMITED", /try again in 2 minutes/, /بعد دقيقتين/],
    ["bad-verifier", "INVALID_VERIFIER", /verification digits/, /أرقام التحقق/],
  ];
  for (const [name, code, en, ar] of errors) {
    const { body } = answerJson(answers[name]!, ctx(), "ar") as { body: any };
    assert.deepEqual(Object.keys(body), ["error"], name);
    assert.equal(body.error.code, code);
    assert.match(body.error.message, en);
    assert.match(body.error.messageAr, ar);
  }
});

test("page: Arabic RTL by default, English switch, the form refilled and escaped", () => {
  const html = renderPage(parseWebQuery(request("GET", "/").query), undefined, ctx(), "n0nce");
  assert.match(html, /<html lang="ar" dir="rtl">/);
  assert.match(html, /<label for="number">رقم المعاملة<\/label>/);
  assert.match(html, /<label for="verifier">/);
  assert.match(html, /<form method="get" action="\/">/);
  assert.match(html, /href="\/\?lang&#x3D;en"/);
  assert.match(html, /<style nonce="n0nce">/);
  assert.doesNotMatch(html, /id="answer"/);
  const en = renderPage(parseWebQuery(request("GET", "/?lang=en&number=12").query), answers["not-found"], ctx(), "x");
  assert.match(en, /<html lang="en" dir="ltr">/);
  assert.match(en, /<input type="hidden" name="lang" value="en">/);
  assert.match(en, /href="\/\?number&#x3D;12"/);
  const hostile = '"><script>alert(1)</script>';
  const escaped = renderPage(parseWebQuery(request("GET", `/?number=${encodeURIComponent(hostile)}`).query), answers["malformed"], ctx(), "x");
  assert.doesNotMatch(escaped, /<script>/);
  assert.match(escaped, /value="&quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;"/);
  assert.match(escaped, /aria-invalid="true"/);
});

test("page: each outcome in each language", () => {
  const table: Array<[string, Lang, RegExp[]]> = [
    ["issued-coarse", "ar", [/data-stage="issued"/, /data-level="coarse"/, /صدرت بتاريخ <bdi dir="ltr">1448\/06\/23<\/bdi>هـ الموافق <bdi dir="ltr">2026\/12\/03<\/bdi>م/, /آخر أربعة أرقام/]],
    ["issued-coarse", "en", [/Issued on <bdi dir="ltr">23\/06\/1448<\/bdi> AH/, /last four digits/]],
    ["issued-mismatch", "ar", [/لا تطابق رقم الجوال/]],
    ["issued-locked", "en", [/too many wrong attempts/]],
    ["issued-detail", "ar", [/data-level="detail"/, /<dt>الإدارة<\/dt><dd>الإدارة القانونية<\/dd>/, /صادر رقم <bdi dir="ltr">4812077<\/bdi>/, /إلى وزارة الداخلية، بانتظار الرد/]],
    ["issued-detail", "en", [/<dd>Legal Affairs<\/dd>/, /to Ministry of Interior: awaiting reply/]],
    ["closed-detail", "ar", [/انتهت إجراءاتها/, /ورد الرد بتاريخ <bdi dir="ltr">1448\/07\/11<\/bdi>هـ/, /تاريخ الإغلاق/]],
    ["registered", "ar", [/مسجلة لدينا/]],
    ["under-study", "en", [/Under study/]],
    ["empty", "ar", [/role="alert"/, /يرجى إدخال رقم المعاملة/, /href="#number"/]],
    ["not-found", "ar", [/لم نعثر على معاملة بالرقم <bdi dir="ltr">999<\/bdi>/]],
    ["limited", "ar", [/يرجى المحاولة بعد دقيقتين/]],
    ["limited", "en", [/try again in 2 minutes/]],
    ["unavailable", "en", [/temporarily unavailable/]],
  ];
  for (const [name, lang, patterns] of table) {
    const html = renderPage(parseWebQuery(request("GET", `/?lang=${lang}&number=1`).query), answers[name], ctx(), "x");
    for (const p of patterns) assert.match(html, p, `${name}/${lang}: ${p}`);
  }
});

test("routes: the page and the API ask with the client's address and answer with the right status and headers", async () => {
  const c = ctx(answers["limited"]);
  const page = await route("/").handler(request("GET", "/?number=1&verifier=1234", { ip: "198.51.100.4" }), c);
  assert.equal(page.status, 429);
  // 90 s is shown as "2 minutes": the header says the same (120), not less.
  assert.equal(page.headers!["retry-after"], "120");
  assert.match(page.headers!["content-security-policy"]!, /style-src 'nonce-/);
  assert.deepEqual(c.questions, [{ number: "1", verifier: "1234", identities: [{ kind: "ip", value: "198.51.100.4" }] }]);
  const form = await route("/").handler(request("GET", "/"), c);
  assert.equal(form.status, 200);
  assert.equal(c.questions.length, 1, "showing the form asks nothing");
  const api = await route("/api/v1/inquiry").handler(request("GET", "/api/v1/inquiry?number=1"), ctx(answers["issued-coarse"]));
  assert.equal(api.status, 200);
  assert.match(api.headers!["content-type"]!, /application\/json/);
  assert.equal(JSON.parse(api.body).stage, "issued");
  const badLang = await route("/api/v1/inquiry").handler(request("GET", "/api/v1/inquiry?number=1&lang=fr"), ctx(answers["issued-coarse"]));
  assert.equal(badLang.status, 400);
  assert.equal(JSON.parse(badLang.body).error.code, "INVALID_LANG");
});

test("every fixture answer renders in both languages, page and JSON", () => {
  for (const [name, answer] of Object.entries(answers)) {
    for (const lang of ["ar", "en"] as const) {
      assert.ok(renderPage(parseWebQuery(request("GET", `/?lang=${lang}&number=1`).query), answer, ctx(), "x").length > 1000, `${name}/${lang}`);
      const { body } = answerJson(answer, ctx(), lang) as { body: any };
      assert.ok((body.messageAr ?? body.error.messageAr).length > 10, `${name}/${lang}`);
    }
  }
});

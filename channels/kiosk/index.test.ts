// kiosk: query parsing, the page, the answer fragment, table-driven.
import { test } from "node:test";
import assert from "node:assert/strict";
import plugin, { parseKioskQuery, parseKiosks, refusal, renderAnswer, renderPage, statusOf, type KioskConfig } from "./index.ts";
import { loadFixture, request, testContext } from "../testing.ts";
import type { InquiryAnswer, Lang } from "../contract.ts";
import { loadConfig } from "../../core/platform/config.ts";

const answers = loadFixture<Record<string, InquiryAnswer>>("kiosk", "answers.json");
const config: KioskConfig = { idleMs: 60_000, digits: "latin", office: loadConfig({}).office };
const ctx = (answer?: InquiryAnswer, c: KioskConfig = config) => testContext("kiosk", c, answer ? { answer: () => answer } : {});
/** A kiosk with DIGITS=arabic. */
const arabicCtx = () => ctx(undefined, { ...config, digits: "arabic" });
const route = (path: string) => plugin.routes!.find((r) => r.path === path)!;

test("parseKioskQuery: kiosk id, idle, language", () => {
  const table: Array<[string, Partial<ReturnType<typeof parseKioskQuery>>]> = [
    ["/kiosk?kiosk=gate-1", { kiosk: "gate-1", idleMs: 60_000, lang: "ar", asked: false }],
    ["/kiosk?kiosk=gate-1&idle=2", { idleMs: 2000 }],
    ["/kiosk?kiosk=gate-1&idle=0", { idleMs: 60_000 }],
    ["/kiosk?kiosk=gate-1&idle=abc", { idleMs: 60_000 }],
    ["/kiosk?kiosk=gate-1&idle=99999", { idleMs: 60_000 }],
    ["/kiosk?kiosk=G.2_b&lang=en&number=١٢", { kiosk: "G.2_b", lang: "en", asked: true, number: "١٢" }],
    ["/kiosk", { kiosk: undefined }],
    ["/kiosk?kiosk=%3Cscript%3E", { kiosk: undefined }],
    [`/kiosk?kiosk=${"a".repeat(41)}`, { kiosk: undefined }],
  ];
  for (const [url, expected] of table) {
    const q = parseKioskQuery(request("GET", url).query, config);
    for (const [k, v] of Object.entries(expected)) assert.equal(q[k as keyof typeof q], v, `${url} ${k}`);
  }
});

test("the answer in large type in the DIGITS style (here Arabic-Indic), numbers and dates isolated; each outcome", () => {
  const table: Array<[string, Lang, RegExp[]]> = [
    ["issued-coarse", "ar", [/المعاملة رقم <bdi dir="ltr">١٤٤٥٠٠١٢٣<\/bdi>/, /صدرت بتاريخ <bdi dir="ltr">١٤٤٨\/٠٦\/٢٣<\/bdi>هـ الموافق <bdi dir="ltr">٢٠٢٦\/١٢\/٠٣<\/bdi>م، ولا يلزم حضوركم/, /آخر أربعة أرقام/, /data-level="coarse"/]],
    ["issued-detail", "ar", [/الإدارة: الإدارة القانونية/, /صادر رقم <bdi dir="ltr">٤٨١٢٠٧٧<\/bdi>/, /إلى وزارة الداخلية، بانتظار الرد/]],
    ["issued-detail", "en", [/Transaction No. <bdi dir="ltr">144500123<\/bdi>/, /Department: Legal Affairs/]],
    ["issued-mismatch", "ar", [/لا تطابق/]],
    ["under-study", "ar", [/قيد الدراسة/]],
    ["not-found", "ar", [/role="alert"/, /لم نعثر على معاملة بالرقم <bdi dir="ltr">٩٩٩<\/bdi>/]],
    ["limited", "ar", [/يرجى المحاولة بعد دقيقتين/]],
    ["empty", "en", [/Enter the transaction number/]],
  ];
  for (const [name, lang, patterns] of table) {
    const html = renderAnswer(answers[name]!, arabicCtx(), lang);
    for (const p of patterns) assert.match(html, p, `${name}/${lang}`);
  }
  for (const [name, answer] of Object.entries(answers)) {
    for (const lang of ["ar", "en"] as const) assert.ok(renderAnswer(answer, ctx(), lang).includes("card"), `${name}/${lang}`);
    assert.ok([200, 400, 404, 429, 503].includes(statusOf(answer)));
  }
});

test("the page: RTL, keypad in the DIGITS style, masked verifier posted, idle time, kiosk id, office; escaped", () => {
  const html = renderPage(parseKioskQuery(request("GET", "/kiosk?kiosk=gate-1&idle=2").query, config), undefined, arabicCtx(), "n");
  assert.match(html, /<html lang="ar" dir="rtl">/);
  assert.match(html, /<body data-idle-ms="2000" data-digits="arabic" data-kiosk="gate-1" data-lang="ar"/);
  for (const [d, a] of [["1", "١"], ["5", "٥"], ["9", "٩"], ["0", "٠"]]) assert.match(html, new RegExp(`data-key="${d}"[^>]*>${a}</button>`));
  assert.match(renderPage(parseKioskQuery(request("GET", "/kiosk?kiosk=gate-1").query, config), undefined, ctx(), "n"), /data-key="5"[^>]*>5<\/button>/, "DIGITS=latin: Latin keys");
  assert.match(html, /<form id="ask" class="ask" method="post"/);
  assert.match(html, /<input id="verifier" name="verifier" type="password"[^>]*inputmode="numeric"/);
  assert.match(html, /<footer class="office"><strong>الإمارة<\/strong> · الهاتف <bdi dir="ltr">٩٢٠٠٠٠٠٠٠<\/bdi>/);
  assert.match(html, /<script nonce="n">/);
  assert.match(html, /id="result" class="screen" hidden/);
  const en = renderPage(parseKioskQuery(request("GET", "/kiosk?kiosk=gate-1&lang=en&number=1").query, config), answers["issued-coarse"], ctx(), "n");
  assert.match(en, /<html lang="en" dir="ltr">/);
  assert.match(en, /data-key="7">7<\/button>/);
  assert.match(en, /id="start" class="screen" hidden/);
  assert.match(en, /Issued on/);
  const badQ = parseKioskQuery(request("GET", "/kiosk").query, config);
  const bad = renderPage(badQ, undefined, ctx(), "n", refusal(badQ, request("GET", "/kiosk"), config));
  assert.match(bad, /هذا الجهاز غير مهيأ/);
  assert.match(bad, /The kiosk id is missing/);
  assert.doesNotMatch(bad, /id="ask"/);
  const hostile = renderPage(parseKioskQuery(request("GET", `/kiosk?kiosk=k&number=${encodeURIComponent('"><img src=x>')}`).query, config), answers["malformed"], ctx(), "n");
  assert.doesNotMatch(hostile, /<img/);
});

test("routes: kiosk id and address are the identities; a missing id is a clear 400", async () => {
  const c = ctx(answers["issued-coarse"]);
  const r = await route("/kiosk/answer").handler(request("GET", "/kiosk/answer?kiosk=gate-1&number=1&verifier=", { ip: "10.9.9.9" }), c);
  assert.equal(r.status, 200);
  const body = JSON.parse(r.body);
  assert.equal(body.outcome, "found");
  assert.equal(body.stage, "issued");
  assert.match(body.html, /صدرت/);
  assert.deepEqual(c.questions, [{ number: "1", verifier: "", identities: [{ kind: "kiosk", value: "gate-1" }, { kind: "ip", value: "10.9.9.9" }] }]);
  const missing = await route("/kiosk/answer").handler(request("GET", "/kiosk/answer?number=1"), c);
  assert.equal(missing.status, 400);
  assert.equal(JSON.parse(missing.body).error.code, "INVALID_KIOSK");
  assert.equal(c.questions.length, 1);
  const limited = await route("/kiosk/answer").handler(request("GET", "/kiosk/answer?kiosk=k&number=1"), ctx(answers["limited"]));
  assert.equal(limited.status, 429);
  assert.equal(limited.headers!["retry-after"], "120");
  // The page's own form and the script post the number and the verifier in the body.
  const posted = ctx(answers["issued-coarse"]);
  const post = plugin.routes!.find((r) => r.method === "POST" && r.path === "/kiosk")!;
  const p = await post.handler(request("POST", "/kiosk?kiosk=gate-1", { body: "number=1448%2F00512&verifier=4567", headers: { "content-type": "application/x-www-form-urlencoded" } }), posted);
  assert.equal(p.status, 200);
  assert.match(p.body, /id="start" class="screen" hidden/);
  assert.equal(posted.questions[0]!.number, "1448/00512");
  assert.equal(posted.questions[0]!.verifier, "4567");
  const page = await route("/kiosk").handler(request("GET", "/kiosk?kiosk=k"), c);
  assert.equal(page.status, 200);
  assert.match(page.headers!["content-security-policy"]!, /script-src 'nonce-/);
  assert.equal((await route("/kiosk").handler(request("GET", "/kiosk"), c)).status, 400);
});

const KEY = "0123456789abcdef-key";

test("parseKiosks: ids, secrets and networks; a malformed list says why", () => {
  assert.equal(parseKiosks(undefined), undefined);
  assert.equal(parseKiosks("  "), undefined);
  const kiosks = parseKiosks(`gate-1:${KEY}@10.1.2.0/24|10.1.3.7|2001:db8::/32, lobby:${KEY}x`)!;
  assert.deepEqual([...kiosks.keys()], ["gate-1", "lobby"]);
  assert.equal(kiosks.get("lobby")!.networks, undefined);
  const nets = kiosks.get("gate-1")!.networks!;
  assert.equal(nets.check("10.1.2.200", "ipv4"), true);
  assert.equal(nets.check("10.1.3.7", "ipv4"), true);
  assert.equal(nets.check("10.1.3.8", "ipv4"), false);
  assert.equal(nets.check("2001:db8:1::9", "ipv6"), true);
  const bad: Array<[string, RegExp]> = [
    ["gate-1", /expected <id>:<secret>/],
    [`<x>:${KEY}`, /expected <id>:<secret>/],
    ["gate-1:short", /16 to 200 characters/],
    [`gate-1:${KEY},gate-1:${KEY}`, /listed twice/],
    [`gate-1:${KEY}@10.0.0.0/33`, /not an address or CIDR/],
    [`gate-1:${KEY}@example.com`, /not an address or CIDR/],
  ];
  for (const [raw, why] of bad) assert.throws(() => parseKiosks(raw), why, raw);
});

test("refusal: unknown ids and wrong keys alike (401), other networks 403, the key by header or address", () => {
  const registered: KioskConfig = { ...config, kiosks: parseKiosks(`gate-1:${KEY}@10.1.2.0/24,lobby:${KEY}`)! };
  const check = (url: string, ip: string, headers: Record<string, string> = {}) => {
    const req = request("GET", url, { ip, headers });
    return refusal(parseKioskQuery(req.query, registered, req.headers), req, registered)?.error.code;
  };
  assert.equal(check(`/kiosk/answer?kiosk=gate-1&key=${KEY}`, "10.1.2.3"), undefined);
  assert.equal(check("/kiosk/answer?kiosk=gate-1", "10.1.2.3", { "x-kiosk-key": KEY }), undefined);
  assert.equal(check(`/kiosk/answer?kiosk=lobby&key=${KEY}`, "203.0.113.1"), undefined);
  assert.equal(check("/kiosk/answer?kiosk=gate-1", "10.1.2.3"), "KIOSK_NOT_REGISTERED");
  assert.equal(check(`/kiosk/answer?kiosk=gate-1&key=${KEY}x`, "10.1.2.3"), "KIOSK_NOT_REGISTERED");
  assert.equal(check(`/kiosk/answer?kiosk=gate-2&key=${KEY}`, "10.1.2.3"), "KIOSK_NOT_REGISTERED");
  assert.equal(check(`/kiosk/answer?kiosk=gate-1&key=${KEY}`, "10.1.9.3"), "KIOSK_ADDRESS_REFUSED");
  assert.equal(check(`/kiosk/answer?kiosk=gate-1&key=${KEY}`, "::1"), "KIOSK_ADDRESS_REFUSED");
  assert.equal(check("/kiosk/answer", "10.1.2.3"), "INVALID_KIOSK");
  // None registered (DEV_INSECURE=1 only): any well-formed id.
  assert.equal(refusal(parseKioskQuery(request("GET", "/kiosk?kiosk=x").query, config), request("GET", "/"), config), undefined);
});

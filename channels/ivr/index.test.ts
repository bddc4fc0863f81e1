// ivr: Twilio's signature, reading webhook requests, the call's scripts and their TwiML / VoiceXML.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import plugin, { MAX_REPROMPTS, checkFresh, parseCall, renderScript, script, sealVerifier, stepUrls, unsealVerifier, type CallInput, type IvrConfig, type Step } from "./index.ts";
import { twilioSignature, validTwilioSignature } from "./signature.ts";
import { loadFixture, request, testContext } from "../testing.ts";
import type { ChannelRequest, InquiryAnswer } from "../contract.ts";

const answers = loadFixture<Record<string, InquiryAnswer>>("ivr", "answers.json");
const bodies = loadFixture<Record<string, string>>("ivr", "twilio-requests.json");
const TOKEN = "12345";

/** Tags balance and nothing is left unescaped: enough to know a platform can parse it. */
function assertWellFormed(xml: string): void {
  assert.match(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n/);
  const stack: string[] = [];
  const body = xml.replace(/^<\?xml[^>]*\?>/, "");
  for (const m of body.matchAll(/<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    if (m[1]) assert.equal(stack.pop(), m[2], `closing ${m[2]}`);
    else if (!m[4]) stack.push(m[2]!);
  }
  assert.deepEqual(stack, []);
  assert.doesNotMatch(body.replace(/<[^>]*>/g, ""), /[<>]|&(?!(amp|lt|gt|quot|#x27|#x3D|#x60|apos);)/);
}

test("signature: Twilio's documented examples", () => {
  const url = "https://mycompany.com/myapp.php?foo=1&bar=2";
  const params = { CallSid: "CA1234567890ABCDE", Caller: "+14158675310", Digits: "1234", From: "+14158675310", To: "+18005551212" };
  assert.equal(twilioSignature(TOKEN, url, params), "GvWf1cFY/Q7PnoempGyD5oXAezc=");
  assert.equal(twilioSignature(TOKEN, url, { ...params, Caller: "+14158675309", From: "+14158675309" }), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  assert.equal(validTwilioSignature(TOKEN, "GvWf1cFY/Q7PnoempGyD5oXAezc=", url, params), true);
});

test("signature: what is and is not valid", () => {
  const url = "https://taqib.example.sa/channels/ivr/number?attempt=1";
  const params = { Digits: "123", From: "+966551234567" };
  const sig = twilioSignature(TOKEN, url, params);
  const table: Array<[string, string | undefined, string, Record<string, string | string[]>, boolean]> = [
    ["as signed", sig, url, params, true],
    ["explicit :443 in the URL", sig, "https://taqib.example.sa:443/channels/ivr/number?attempt=1", params, true],
    ["missing", undefined, url, params, false],
    ["empty", "", url, params, false],
    ["another token", twilioSignature("other", url, params), url, params, false],
    ["a changed digit", sig, url, { ...params, Digits: "124" }, false],
    ["an added parameter", sig, url, { ...params, Extra: "1" }, false],
    ["a changed query", sig, "https://taqib.example.sa/channels/ivr/number?attempt=2", params, false],
    ["http instead of https", sig, "http://taqib.example.sa/channels/ivr/number?attempt=1", params, false],
    ["not a URL", sig, "::", params, false],
  ];
  for (const [name, header, u, p, ok] of table) assert.equal(validTwilioSignature(TOKEN, header, u, p), ok, name);
  // Signed with an explicit port, checked without it.
  const withPort = twilioSignature(TOKEN, "https://taqib.example.sa:443/x", {});
  assert.equal(validTwilioSignature(TOKEN, withPort, "https://taqib.example.sa/x", {}), true);
  // Repeated parameters: distinct values, sorted.
  assert.equal(twilioSignature(TOKEN, url, { a: ["2", "1", "2"] }), twilioSignature(TOKEN, url + "", { a: ["1", "2"] }));
  // JSON bodies: bodySHA256 in the URL, the body must match it.
  const body = '{"CallSid":"CA1"}';
  const jsonUrl = `https://taqib.example.sa/channels/ivr/voice?bodySHA256=${createHash("sha256").update(body).digest("hex")}`;
  const jsonSig = twilioSignature(TOKEN, jsonUrl, {});
  assert.equal(validTwilioSignature(TOKEN, jsonSig, jsonUrl, {}, body), true);
  assert.equal(validTwilioSignature(TOKEN, jsonSig, jsonUrl, {}, body + " "), false);
});

const post = (path: string, body: string, headers: Record<string, string> = {}) =>
  request("POST", `https://taqib.example.sa${path}`, { body, headers: { "content-type": "application/x-www-form-urlencoded", ...headers } });

test("parseCall: Twilio's fields, our query, VoiceXML's caller URI, withheld numbers", () => {
  const table: Array<[ChannelRequest, Partial<CallInput>]> = [
    [post("/channels/ivr/voice", bodies.voice!), { digits: undefined, from: "+966551234567", attempt: 1, lang: "ar" }],
    [post("/channels/ivr/number?attempt=2", bodies.gather!), { digits: "144500123", attempt: 2 }],
    [post("/channels/ivr/number?attempt=3&lang=en", bodies.gatherEmpty!), { digits: undefined, attempt: 3, lang: "en" }],
    [post("/channels/ivr/number", bodies.withheld!), { from: "", digits: "144500123" }],
    [post("/channels/ivr/vxml/number?attempt=1", "Digits=12&From=tel%3A%2B966551234567"), { from: "+966551234567", digits: "12" }],
    [post("/channels/ivr/vxml/number", "Digits=12&From=sip%3A%2B966551234567%40pbx.local"), { from: "+966551234567" }],
    [request("GET", "https://t/channels/ivr/vxml/number?attempt=2"), { digits: undefined, attempt: 2 }],
    [post("/channels/ivr/menu?number=144500123&attempt=1", "Digits=1"), { number: "144500123", digits: "1" }],
    [post("/channels/ivr/menu?number=12x&attempt=99", "Digits=1"), { number: undefined, attempt: MAX_REPROMPTS + 1 }],
  ];
  for (const [req, expected] of table) {
    const c = parseCall(req);
    for (const [k, v] of Object.entries(expected)) assert.equal(c[k as keyof CallInput], v, `${req.url} ${k}`);
  }
});

test("stepUrls: absolute, on the URL the platform used (path prefix behind a proxy kept), stamped with their time", () => {
  const u = stepUrls(request("POST", "https://gov.example.sa/taqib/channels/ivr/voice"), "twiml", "ar", 1);
  // request() puts the whole path in `path`; the host gives only what follows PUBLIC_URL.
  const behindProxy = { ...request("POST", "https://gov.example.sa/taqib/channels/ivr/voice"), path: "/channels/ivr/voice" };
  assert.equal(stepUrls(behindProxy, "twiml", "ar", 1).number(2), "https://gov.example.sa/taqib/channels/ivr/number?attempt=2&at=1");
  assert.equal(u.verifier("123", 1), "https://gov.example.sa/channels/ivr/verifier?number=123&attempt=1&at=1");
  assert.equal(u.menu("123", 1, "s"), "https://gov.example.sa/channels/ivr/menu?number=123&attempt=1&v=s&at=1");
  assert.equal(stepUrls(behindProxy, "vxml", "en", 1).number(1), "https://gov.example.sa/taqib/channels/ivr/vxml/number?attempt=1&lang=en&at=1");
});

test("the verifier between steps: sealed, bound to the call and the number", () => {
  const sealed = sealVerifier(TOKEN, "4567", "CA1", "144500123");
  assert.doesNotMatch(sealed, /4567/);
  assert.equal(unsealVerifier(TOKEN, sealed, "CA1", "144500123"), "4567");
  assert.equal(unsealVerifier(TOKEN, sealed, "CA2", "144500123"), undefined);
  assert.equal(unsealVerifier(TOKEN, sealed, "CA1", "144500124"), undefined);
  assert.equal(unsealVerifier("other", sealed, "CA1", "144500123"), undefined);
  assert.equal(unsealVerifier(TOKEN, sealed.slice(0, -2) + "AA", "CA1", "144500123"), undefined);
  assert.equal(unsealVerifier(TOKEN, undefined, "CA1", "144500123"), undefined);
});

const urls = stepUrls(request("POST", "https://t.sa/channels/ivr/voice"), "twiml", "ar", 1);
const input = (over: Partial<CallInput> = {}): CallInput => ({ digits: undefined, from: "+966551234567", attempt: 1, number: undefined, callSid: "CA1", sealed: undefined, lang: "ar", ...over });
const ctxWith = (answer?: InquiryAnswer) => testContext<IvrConfig>("ivr", { authToken: TOKEN }, answer ? { answer: () => answer } : {});
const V = "https://t.sa/channels/ivr/verifier?number=144500123";
const sealed = sealVerifier(TOKEN, "4567", "CA1", "144500123");

test("scripts: every step and outcome", async () => {
  const table: Array<[Step, Partial<CallInput>, string | undefined, { say: RegExp[]; gather?: string | RegExp; hangup: boolean }]> = [
    ["voice", {}, undefined, { say: [/^مرحبًا بكم في خدمة الاستعلام عن المعاملات.$/], gather: "number https://t.sa/channels/ivr/number?attempt=1&at=1", hangup: false }],
    ["number", { digits: "144500123" }, "issued-coarse", {
      say: [/^المعاملة رقم واحد أربعة أربعة خمسة صفر صفر واحد اثنان ثلاثة، صدرت، وتاريخ صدورها الثالث والعشرون من جمادى الآخرة عام ألف وأربعمئة وثمانية وأربعين للهجرة.$/],
      gather: `verifier ${V}&attempt=1&at=1`,
      hangup: false,
    }],
    // Whatever the core says, the number step speaks no details: they need the verifier.
    ["number", { digits: "144500123#" }, "issued-detail", { say: [/^المعاملة رقم [^]*صدرت[^]*للهجرة.$/], gather: `verifier ${V}&attempt=1&at=1`, hangup: false }],
    ["number", {}, undefined, { say: [/^لم نتلقَّ أي أرقام.$/], gather: "number https://t.sa/channels/ivr/number?attempt=2&at=1", hangup: false }],
    ["number", { digits: "12*3" }, undefined, { say: [/^الرقم المدخل غير صحيح.$/], gather: "number https://t.sa/channels/ivr/number?attempt=2&at=1", hangup: false }],
    ["number", { digits: "999", attempt: 2 }, "not-found", { say: [/^لم نعثر على معاملة بالرقم تسعة تسعة تسعة.$/], gather: "number https://t.sa/channels/ivr/number?attempt=3&at=1", hangup: false }],
    ["number", { digits: "1".repeat(25) }, "malformed", { say: [/غير صحيح/], gather: "number https://t.sa/channels/ivr/number?attempt=2&at=1", hangup: false }],
    ["number", { attempt: MAX_REPROMPTS + 1 }, undefined, { say: [/^لم نتلقَّ/, /^شكرًا لاتصالكم، مع السلامة.$/], hangup: true }],
    ["number", { digits: "1" }, "limited", { say: [/^عدد محاولات الاستعلام من هذا الرقم كبير. يرجى الاتصال بعد دقيقتين. مع السلامة.$/], hangup: true }],
    ["number", { digits: "1" }, "unavailable", { say: [/غير متاحة مؤقتًا/], hangup: true }],
    ["verifier", { number: "144500123", digits: "4567#" }, "issued-detail", { say: [/رقم الصادر أربعة ثمانية واحد اثنان صفر سبعة سبعة، إلى وزارة الداخلية، بانتظار الرد.$/], gather: /^menu https:\/\/t.sa\/channels\/ivr\/menu\?number=144500123&attempt=1&v=[\w-]+&at=1$/, hangup: false }],
    ["verifier", { number: "777", digits: "4567" }, "closed-detail", { say: [/انتهت إجراءاتها وأُغلقت، وتاريخ إغلاقها الثالث عشر من رجب[^]*وقد ورد الرد/], gather: /^menu .*number=777&attempt=1&v=/, hangup: false }],
    ["verifier", { number: "144500123", digits: "1111" }, "issued-mismatch", { say: [/^الأرقام المدخلة لا تطابق الجوال المسجل في المعاملة.$/], gather: `verifier ${V}&attempt=2&at=1`, hangup: false }],
    ["verifier", { number: "144500123", digits: "12" }, undefined, { say: [/^يُرجى إدخال أربعة أرقام بالتحديد.$/], gather: `verifier ${V}&attempt=2&at=1`, hangup: false }],
    ["verifier", { number: "144500123", digits: "1111" }, "issued-locked", { say: [/^أُوقف التحقق لهذه المعاملة مؤقتًا/, /مع السلامة/], hangup: true }],
    ["verifier", { number: "144500123", digits: "#" }, undefined, { say: [/^شكرًا لاتصالكم/], hangup: true }],
    ["verifier", { number: "144500123" }, undefined, { say: [/^شكرًا لاتصالكم/], hangup: true }],
    ["verifier", { number: "144500123", digits: "4567" }, "limited", { say: [/يرجى الاتصال بعد/], hangup: true }],
    ["menu", { number: "144500123", digits: "1", sealed }, "issued-detail", { say: [/^المعاملة رقم واحد أربعة[^]*وزارة الداخلية/], gather: /^menu .*number=144500123&attempt=1&v=/, hangup: false }],
    ["menu", { number: "144500123", digits: "1", sealed, callSid: "CA-other" }, undefined, { say: [/^شكرًا لاتصالكم/], hangup: true }],
    ["menu", { number: "144500123", digits: "1" }, undefined, { say: [/^شكرًا لاتصالكم/], hangup: true }],
    ["menu", { number: "144500123", digits: "2" }, undefined, { say: [/^شكرًا لاتصالكم/], hangup: true }],
    ["menu", { number: "144500123", digits: "7", attempt: 2, sealed: "s" }, undefined, { say: [/^لم نتعرف على اختياركم.$/], gather: "menu https://t.sa/channels/ivr/menu?number=144500123&attempt=3&v=s&at=1", hangup: false }],
    ["menu", { number: "144500123", attempt: MAX_REPROMPTS + 1 }, undefined, { say: [/اختياركم/, /مع السلامة/], hangup: true }],
    ["menu", { digits: "1" }, undefined, { say: [/مع السلامة/], hangup: true }],
    ["number", { digits: "144500123", lang: "en" }, "issued-coarse", { say: [/^Transaction number one four four five zero zero one two three was issued on 23 Jumada al-Akhirah 1448 AH.$/], gather: `verifier ${V}&attempt=1&at=1`, hangup: false }],
  ];
  for (const [step, over, answer, expected] of table) {
    const s = await script(step, input(over), ctxWith(answer ? answers[answer] : undefined), urls);
    const label = `${step} ${JSON.stringify(over)} ${answer}`;
    assert.equal(s.say.length, expected.say.length, `${label}: ${JSON.stringify(s.say)}`);
    expected.say.forEach((p, i) => assert.match(s.say[i]!, p, label));
    const gather = s.gather ? `${s.gather.kind} ${s.gather.action}` : undefined;
    if (expected.gather instanceof RegExp) assert.match(gather ?? "", expected.gather, label);
    else assert.equal(gather, expected.gather, label);
    assert.equal(s.hangup, expected.hangup, label);
  }
});

test("the caller and the number are the identities; the caller id is never proof, the verifier is asked for", async () => {
  const ctx = ctxWith(answers["issued-coarse"]);
  await script("number", input({ digits: "123" }), ctx, urls);
  await script("number", input({ digits: "123", from: "" }), ctx, urls);
  await script("verifier", input({ number: "123", digits: "4567" }), ctx, urls);
  assert.deepEqual(ctx.questions, [
    { number: "123", identities: [{ kind: "caller", value: "+966551234567" }, { kind: "number", value: "123" }] },
    { number: "123", identities: [{ kind: "caller", value: "withheld" }, { kind: "number", value: "123" }] },
    { number: "123", verifier: "4567", identities: [{ kind: "caller", value: "+966551234567" }, { kind: "number", value: "123" }] },
  ]);
});

test("checkFresh: a step's address expires, a signed request is answered once; the greeting and development are exempt", async () => {
  const now = 1_000_000_000_000;
  const ctx = ctxWith();
  const step = (at: number | undefined, signature = `sig-${Math.random()}`) =>
    request("POST", `https://t.sa/channels/ivr/number?attempt=1${at === undefined ? "" : `&at=${at}`}`, { headers: { "x-twilio-signature": signature } });
  assert.equal(await checkFresh(step(now - 60_000), "number", ctx, now), undefined);
  assert.equal((await checkFresh(step(now - 11 * 60_000), "number", ctx, now))?.status, 403);
  assert.equal((await checkFresh(step(now + 5 * 60_000), "number", ctx, now))?.status, 403);
  assert.equal((await checkFresh(step(undefined), "number", ctx, now))?.status, 403);
  assert.equal(await checkFresh(step(now, "same"), "menu", ctx, now), undefined);
  assert.match((await checkFresh(step(now, "same"), "menu", ctx, now))!.body, /replay/);
  assert.equal(await checkFresh(step(undefined, "g"), "voice", ctx, now), undefined);
  assert.equal(await checkFresh(step(undefined, "g"), "voice", ctx, now), undefined);
  assert.equal(await checkFresh(step(undefined), "number", testContext<IvrConfig>("ivr", {}), now), undefined);
});

test("TwiML and VoiceXML: well-formed, Arabic voice, Gather with # and the action", async () => {
  const ctx = ctxWith(answers["issued-detail"]);
  const s = await script("verifier", input({ number: "144500123", digits: "4567" }), ctx, urls);
  const twiml = renderScript(s, "twiml", ctx, "ar");
  assert.equal(twiml.headers!["content-type"], "text/xml; charset=utf-8");
  assertWellFormed(twiml.body);
  assert.match(twiml.body, /<Say language="ar-SA">المعاملة رقم واحد/);
  assert.match(twiml.body, /<Gather input="dtmf" numDigits="1" timeout="8" action="https:\/\/t.sa\/channels\/ivr\/menu\?number&#x3D;144500123&amp;attempt&#x3D;1&amp;v&#x3D;[\w-]+&amp;at&#x3D;1" method="POST" actionOnEmptyResult="true">/);
  const greeting = renderScript(await script("voice", input(), ctx, urls), "twiml", ctx, "ar").body;
  assertWellFormed(greeting);
  assert.match(greeting, /<Gather input="dtmf" finishOnKey="#"/);
  const bye = renderScript(await script("menu", input({ number: "1", digits: "2" }), ctx, urls), "twiml", ctx, "ar").body;
  assert.match(bye, /<Hangup\/>/);
  assert.doesNotMatch(bye, /<Gather/);
  const vxml = renderScript(s, "vxml", ctx, "ar");
  assert.match(vxml.headers!["content-type"]!, /voicexml/);
  assertWellFormed(vxml.body);
  assert.match(vxml.body, /<vxml version="2.1" xmlns="http:\/\/www.w3.org\/2001\/vxml" xml:lang="ar-SA">/);
  assert.match(vxml.body, /<field name="Digits" type="digits\?length=1">/);
  assert.match(vxml.body, /<submit next="https:\/\/t.sa\/channels\/ivr\/menu\?number&#x3D;144500123&amp;attempt&#x3D;1&amp;v&#x3D;[\w-]+&amp;at&#x3D;1" method="post" namelist="Digits From"\/>/);
  for (const [name, answer] of Object.entries(answers)) {
    for (const lang of ["ar", "en"] as const) {
      const sc = await script("verifier", input({ number: "1", digits: "4567", lang }), ctxWith(answer), urls);
      assertWellFormed(renderScript(sc, "twiml", ctx, lang).body);
      assertWellFormed(renderScript(sc, "vxml", ctx, lang).body);
      assert.ok(sc.say.every((t) => t.trim().length > 5), `${name}/${lang}`);
    }
  }
});

test("routes: a missing or wrong signature is 403; a signed request gets TwiML", async () => {
  const voice = plugin.routes!.find((r) => r.method === "POST" && r.path === "/channels/ivr/voice")!;
  const vxmlVoice = plugin.routes!.find((r) => r.method === "GET" && r.path === "/channels/ivr/vxml/voice")!;
  const ctx = ctxWith();
  const url = "https://taqib.example.sa/channels/ivr/voice";
  const params = Object.fromEntries(new URLSearchParams(bodies.voice!));
  const missing = await voice.handler(post("/channels/ivr/voice", bodies.voice!), ctx);
  assert.equal(missing.status, 403);
  const wrong = await voice.handler(post("/channels/ivr/voice", bodies.voice!, { "x-twilio-signature": twilioSignature("wrong", url, params) }), ctx);
  assert.equal(wrong.status, 403);
  const ok = await voice.handler(post("/channels/ivr/voice", bodies.voice!, { "x-twilio-signature": twilioSignature(TOKEN, url, params) }), ctx);
  assert.equal(ok.status ?? 200, 200);
  assert.match(ok.body, /<Response>/);
  const unsigned = await vxmlVoice.handler(request("GET", "https://taqib.example.sa/channels/ivr/vxml/voice"), ctx);
  assert.equal(unsigned.status, 403);
  // Without a token (development) nothing is checked.
  const dev = await voice.handler(post("/channels/ivr/voice", bodies.voice!), testContext<IvrConfig>("ivr", {}));
  assert.match(dev.body, /<Gather/);
});

test("IVR_VOICE and IVR_LANGUAGE on every Arabic <Say>; a number read group by group as the source wrote it", async () => {
  const numbered = { ...answers["issued-detail"]!, displayNumber: "1448/00512" } as unknown as InquiryAnswer;
  const ctx = testContext<IvrConfig>("ivr", { authToken: TOKEN, voice: "Polly.Zeina", language: "arb" }, { answer: () => numbered });
  const s = await script("verifier", input({ number: "144800512", digits: "4567" }), ctx, urls);
  const ar = renderScript(s, "twiml", ctx, "ar").body;
  assertWellFormed(ar);
  const says = [...ar.matchAll(/<Say ([^>]*)>/g)].map((m) => m[1]);
  assert.ok(says.length >= 2);
  for (const attrs of says) assert.equal(attrs, 'voice="Polly.Zeina" language="arb"');
  assert.match(ar, /المعاملة رقم واحد أربعة أربعة ثمانية، شرطة، صفر صفر خمسة واحد اثنان،/);
  // English calls keep the platform's English voice.
  assert.doesNotMatch(renderScript(s, "twiml", ctx, "en").body, /voice=/);
  assert.match(ctx.templates.render("answer.txt", "en", { answer: numbered, details: {}, latest: false }), /^Transaction number one four four eight, slash, zero zero five one two /);
});

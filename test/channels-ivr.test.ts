// An IVR call driven end to end as Twilio would: signed form posts, following each action
// of the returned TwiML (the details after the verifier); the VoiceXML variant; refused signatures. The node sits behind a
// "proxy": PUBLIC_URL is what Twilio calls and signs, the test posts to the node's port.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { testDatabase, testNode, api, http, sampleLifecycle, seedDirectory, eventually } from "./support/harness.ts";
import { digitsSpokenAr, hijriDateInWordsAr } from "../core/text/number-words.ts";
import { parseTwiml, postAsTwilio, xmlDecode, type Twiml } from "../channels/testing.ts";
import { twilioSignature } from "../channels/ivr/signature.ts";

const TOKEN = "ivr-test-auth-token";
const PUBLIC = "https://ivr.example.sa/taqib";
const NUMBER = "1445000301";
const CITIZEN = "+966551234567";

let db: Awaited<ReturnType<typeof testDatabase>>;
let node: Awaited<ReturnType<typeof testNode>>;
let issuedOn: Date;

before(async () => {
  db = await testDatabase();
  node = await testNode(db.url, { SERVICES: "api,events,directory,channels", CHANNELS: "ivr", TWILIO_AUTH_TOKEN: TOKEN, PUBLIC_URL: PUBLIC });
  await seedDirectory(node.url);
  await api(node.url, "POST", "/api/v1/events", sampleLifecycle(NUMBER).slice(0, 4));
  const t = await eventually(async () => {
    const t = (await api(node.url, "GET", `/api/v1/transactions/${NUMBER}`)).body;
    return t.status === "issued" && t;
  }, 15000, "the transaction");
  issuedOn = new Date(t.outgoing[0].date);
});
after(async () => {
  await node?.stop();
  await db?.remove();
});

const opts = () => ({ token: TOKEN, publicBase: PUBLIC, localBase: node.url });

/** One call: POSTs as Twilio and parses the TwiML; `params` are Twilio's call parameters. */
function caller(from: string) {
  const base = { AccountSid: "AC00000000000000000000000000000001", CallSid: `CA${Math.random().toString(16).slice(2, 34)}`, From: from, Caller: from, To: "+966800123456", Direction: "inbound" };
  return async (url: string, extra: Record<string, string> = {}): Promise<Twiml> => {
    const r = await postAsTwilio(url, { ...base, ...extra }, opts());
    assert.equal(r.status, 200, r.text);
    assert.equal(r.contentType, "text/xml; charset=utf-8");
    return parseTwiml(r.text);
  };
}

test("a whole call: greeting, number, the stage, the verifier, the details in Arabic speech, repeat, end", async () => {
  const post = caller(CITIZEN);
  const greeting = await post(`${PUBLIC}/channels/ivr/voice`);
  assert.deepEqual(greeting.says, [{ language: "ar-SA", text: "مرحبًا بكم في خدمة الاستعلام عن المعاملات." }]);
  assert.equal(greeting.gather?.input, "dtmf");
  assert.equal(greeting.gather?.finishOnKey, "#");
  assert.match(greeting.gather!.action, new RegExp(`^${PUBLIC}/channels/ivr/number\\?attempt=1&at=\\d+$`));
  assert.equal(greeting.gather?.prompt, "فضلًا أدخلوا رقم المعاملة، ثم اضغطوا مفتاح المربع.");

  const coarse = await post(greeting.gather!.action, { Digits: NUMBER, FinishedOnKey: "#" });
  assert.equal(coarse.says.map((s) => s.text).join("\n"), `المعاملة رقم ${digitsSpokenAr(NUMBER)}، صدرت، وتاريخ صدورها ${hijriDateInWordsAr(issuedOn)}.`);
  assert.equal(coarse.gather?.finishOnKey, "#");
  assert.match(coarse.gather!.prompt, /^لسماع التفاصيل أدخلوا آخر أربعة أرقام من الجوال المسجل في المعاملة/);
  const status = await post(coarse.gather!.action, { Digits: "4567", FinishedOnKey: "#" });
  const spoken = status.says.map((s) => s.text).join("\n");
  assert.equal(
    spoken,
    `المعاملة رقم ${digitsSpokenAr(NUMBER)}، صدرت، وتاريخ صدورها ${hijriDateInWordsAr(issuedOn)}.\n` +
      `رقم الصادر ${digitsSpokenAr(`9${NUMBER}`)}، إلى وزارة الداخلية، بانتظار الرد.`,
  );
  assert.ok(status.says.every((s) => s.language === "ar-SA"));
  assert.equal(status.gather?.numDigits, "1");
  assert.equal(status.gather?.prompt, "للاستماع مرة أخرى اضغطوا واحد، ولإنهاء المكالمة اضغطوا اثنين.");
  assert.match(status.gather!.action, new RegExp(`^${PUBLIC}/channels/ivr/menu\\?number=${NUMBER}&attempt=1&v=[\\w-]+&at=\\d+$`));

  const repeat = await post(status.gather!.action, { Digits: "1" });
  assert.equal(repeat.says.map((s) => s.text).join("\n"), spoken);
  const end = await post(repeat.gather!.action, { Digits: "2" });
  assert.deepEqual(end.says.map((s) => s.text), ["شكرًا لاتصالكم، مع السلامة."]);
  assert.equal(end.hangup, true);
  assert.equal(end.gather, undefined);
});

test("no input and bad input re-prompt up to 3 times, then goodbye and hang up", async () => {
  const post = caller("+966500000777");
  let step = await post(`${PUBLIC}/channels/ivr/voice`);
  const heard: string[] = [];
  const inputs = [undefined, "12*34", "999000111", ""];
  for (const [i, digits] of inputs.entries()) {
    assert.ok(step.gather, `prompt ${i + 1}`);
    // Twilio posts Digits="" on a timeout (actionOnEmptyResult) or follows the Redirect without it.
    const action = digits === undefined ? step.redirect! : step.gather.action;
    step = await post(action, digits === undefined ? {} : { Digits: digits });
    heard.push(step.says.map((s) => s.text).join(" "));
  }
  assert.deepEqual(heard, [
    "لم نتلقَّ أي أرقام.",
    "الرقم المدخل غير صحيح.",
    `لم نعثر على معاملة بالرقم ${digitsSpokenAr("999000111")}.`,
    "لم نتلقَّ أي أرقام. شكرًا لاتصالكم، مع السلامة.",
  ]);
  assert.equal(step.hangup, true);
  assert.equal(step.gather, undefined);
  // The menu likewise.
  const menu = await post(`${PUBLIC}/channels/ivr/menu?number=${NUMBER}&attempt=3&at=${Date.now()}`, { Digits: "9" });
  assert.match(menu.says[0]!.text, /لم نتعرف على اختياركم/);
  assert.match(menu.gather!.action, new RegExp(`^${PUBLIC}/channels/ivr/menu\\?number=${NUMBER}&attempt=4&v=&at=\\d+$`));
  const last = await post(menu.gather!.action, {});
  assert.equal(last.hangup, true);
});

test("a stranger's call hears the stage only, and no details for a wrong verifier", async () => {
  const post = caller("+966559876543");
  const greeting = await post(`${PUBLIC}/channels/ivr/voice`);
  const status = await post(greeting.gather!.action, { Digits: NUMBER });
  const spoken = status.says.map((s) => s.text).join("\n");
  assert.match(spoken, /صدرت/);
  assert.doesNotMatch(spoken, /وزارة الداخلية|رقم الصادر/);
  assert.match(status.gather!.prompt, /لسماع التفاصيل أدخلوا آخر أربعة أرقام من الجوال المسجل في المعاملة/);
  const wrong = await post(status.gather!.action, { Digits: "0000" });
  assert.doesNotMatch(wrong.says.map((s) => s.text).join("\n"), /وزارة الداخلية|رقم الصادر/);
});

test("wrong, missing or replayed-elsewhere signatures are refused with 403", async () => {
  const params = { CallSid: "CA1", From: CITIZEN, To: "+966800123456", Digits: NUMBER };
  const url = `${PUBLIC}/channels/ivr/number?attempt=1`;
  const wrong = await postAsTwilio(url, params, { ...opts(), signature: twilioSignature("not-the-token", url, params) });
  assert.equal(wrong.status, 403);
  assert.match(wrong.text, /not valid/);
  const missing = await postAsTwilio(url, params, { ...opts(), signature: null });
  assert.equal(missing.status, 403);
  assert.match(missing.text, /missing/);
  // Signed for another URL (the attempt count), or with other digits: refused.
  const other = await postAsTwilio(url, params, { ...opts(), signature: twilioSignature(TOKEN, `${PUBLIC}/channels/ivr/number?attempt=2`, params) });
  assert.equal(other.status, 403);
  const tampered = await postAsTwilio(url, { ...params, Digits: "1" }, { ...opts(), signature: twilioSignature(TOKEN, url, params) });
  assert.equal(tampered.status, 403);
  // Signed over the local URL instead of PUBLIC_URL: refused too.
  const local = `${node.url}/channels/ivr/voice`;
  const r = await http(node.url, "POST", "/channels/ivr/voice", new URLSearchParams(params).toString(), {
    "content-type": "application/x-www-form-urlencoded",
    "x-twilio-signature": twilioSignature(TOKEN, local, params),
  });
  assert.equal(r.status, 403);
});

test("the VoiceXML variant: the same flow in VoiceXML 2.1", async () => {
  const fetchVxml = async (url: string, params: Record<string, string>) => {
    const r = await postAsTwilio(url, params, opts());
    assert.equal(r.status, 200, r.text);
    assert.match(r.contentType, /^application\/voicexml\+xml/);
    return r.text;
  };
  const start = await fetchVxml(`${PUBLIC}/channels/ivr/vxml/voice`, {});
  assert.match(start, /<vxml version="2.1" xmlns="http:\/\/www.w3.org\/2001\/vxml" xml:lang="ar-SA">/);
  assert.match(start, /<property name="termchar" value="#"\/>/);
  const next = xmlDecode(/<submit next="([^"]+)"/.exec(start)![1]!);
  assert.match(next, new RegExp(`^${PUBLIC}/channels/ivr/vxml/number\\?attempt=1&at=\\d+$`));
  const coarse = await fetchVxml(next, { Digits: NUMBER, From: `tel:${CITIZEN}` });
  assert.ok(coarse.includes(`المعاملة رقم ${digitsSpokenAr(NUMBER)}، صدرت`));
  assert.ok(!coarse.includes("وزارة الداخلية"));
  const verifier = xmlDecode(/<submit next="([^"]+)"/.exec(coarse)![1]!);
  assert.match(verifier, new RegExp(`^${PUBLIC}/channels/ivr/vxml/verifier\\?number=${NUMBER}&attempt=1&at=\\d+$`));
  const status = await fetchVxml(verifier, { Digits: "4567", From: `tel:${CITIZEN}` });
  assert.ok(status.includes("وزارة الداخلية"));
  const menu = xmlDecode(/<submit next="([^"]+)"/.exec(status)![1]!);
  assert.match(menu, new RegExp(`^${PUBLIC}/channels/ivr/vxml/menu\\?number=${NUMBER}&attempt=1&v=[\\w-]+&at=\\d+$`));
  const bye = await fetchVxml(menu, { Digits: "2" });
  assert.match(bye, /شكرًا لاتصالكم، مع السلامة.<\/prompt><\/block>\s*<block><disconnect\/><\/block>/);
  const unsigned = await http(node.url, "GET", "/channels/ivr/vxml/voice");
  assert.equal(unsigned.status, 403);
});

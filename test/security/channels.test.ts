// Issue #11, findings 1 and 6 (kiosk): the phone line, WhatsApp and the kiosks fail closed.
// Real nodes on a real database; the IVR is driven as Twilio drives it (signed form posts to
// PUBLIC_URL, following the returned TwiML), the kiosk over plain HTTP behind a trusted proxy.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { testDatabase, testNode, api, http, sampleLifecycle, seedDirectory, eventually } from "../support/harness.ts";
import { digitsSpokenAr } from "../../core/text/number-words.ts";
import { parseTwiml, postAsTwilio, type Twiml } from "../../channels/testing.ts";
import { twilioSignature } from "../../channels/ivr/signature.ts";

const TOKEN = "security-twilio-auth-token";
const PUBLIC = "https://ivr.example.sa/taqib";
const GATE_KEY = "gate-1-secret-0123456789";
const LOBBY_KEY = "lobby-secret-abcdefghijkl";
const LIMIT = 20;
const NUMBER = "1445000501"; // the citizen's: mobile 0551234567, verifier 4567
const CROWDED = "1445000502"; // asked about by many callers
const KIOSKED = "1445000503";
const CITIZEN = "+966551234567";
const DETAILS = [`9${NUMBER}`, digitsSpokenAr(`9${NUMBER}`), "وزارة الداخلية", "Ministry of Interior", "الإدارة القانونية", "بانتظار الرد"];

let db: Awaited<ReturnType<typeof testDatabase>>;
let node: Awaited<ReturnType<typeof testNode>>;

before(async () => {
  db = await testDatabase();
});
after(async () => {
  await db?.remove();
});

// ------------------------------------------------------------------ start-up
// (first: a node stopped in this process disconnects the process's database connection)

describe("start-up", () => {

/** Starting a node with `env` fails with a ConfigError naming `variable`. */
async function refusesToStart(env: Record<string, string | undefined>, variable: string, why = /DEV_INSECURE=1/) {
  await assert.rejects(testNode(db.url, { SERVICES: "api,channels", ...env }), (err: Error) => {
    assert.equal(err.name, "ConfigError", String(err));
    assert.match(err.message, new RegExp(`^${variable}: `));
    assert.match(err.message, why);
    return true;
  });
}

async function startsWith(env: Record<string, string | undefined>) {
  const n = await testNode(db.url, { SERVICES: "api,channels", ...env });
  await n.stop();
}

test("the phone line refuses to start without TWILIO_AUTH_TOKEN unless DEV_INSECURE=1", async () => {
  await refusesToStart({ CHANNELS: "ivr", DEV_INSECURE: undefined }, "TWILIO_AUTH_TOKEN");
  await refusesToStart({ CHANNELS: "web,sms,ivr", DEV_INSECURE: "0" }, "TWILIO_AUTH_TOKEN");
  await refusesToStart({ CHANNELS: "ivr", DEV_INSECURE: "yes" }, "TWILIO_AUTH_TOKEN");
  await startsWith({ CHANNELS: "ivr", DEV_INSECURE: "1" });
  await startsWith({ CHANNELS: "ivr", DEV_INSECURE: "0", TWILIO_AUTH_TOKEN: TOKEN });
});

test("WhatsApp refuses to start without its app secret and verify token unless DEV_INSECURE=1", async () => {
  await refusesToStart({ CHANNELS: "whatsapp", DEV_INSECURE: "0", WHATSAPP_VERIFY_TOKEN: "verify" }, "WHATSAPP_APP_SECRET");
  await refusesToStart({ CHANNELS: "whatsapp", DEV_INSECURE: "0", WHATSAPP_APP_SECRET: "app-secret" }, "WHATSAPP_VERIFY_TOKEN");
  await startsWith({ CHANNELS: "whatsapp", DEV_INSECURE: "1" });
  await startsWith({ CHANNELS: "whatsapp", DEV_INSECURE: "0", WHATSAPP_APP_SECRET: "app-secret", WHATSAPP_VERIFY_TOKEN: "verify" });
});

test("the kiosk refuses to start without registered kiosks (KIOSKS), or with a malformed list", async () => {
  await refusesToStart({ CHANNELS: "kiosk", DEV_INSECURE: "0" }, "KIOSKS");
  await refusesToStart({ CHANNELS: "kiosk", KIOSKS: "gate-1:short" }, "KIOSKS", /the secret must be 16/);
  await refusesToStart({ CHANNELS: "kiosk", KIOSKS: `gate-1:${GATE_KEY}@10.0.0.0/99` }, "KIOSKS", /not an address or CIDR/);
  await startsWith({ CHANNELS: "kiosk", DEV_INSECURE: "1" });
});

});

describe("a node with every secret set", () => {
before(async () => {
  node = await testNode(db.url, {
    SERVICES: "api,events,directory,channels",
    CHANNELS: "ivr,kiosk",
    DEV_INSECURE: "0",
    TWILIO_AUTH_TOKEN: TOKEN,
    PUBLIC_URL: PUBLIC,
    KIOSKS: `gate-1:${GATE_KEY},lobby:${LOBBY_KEY}@10.50.0.0/16|2001:db8::/32`,
    TRUST_PROXY: "127.0.0.1,::1",
    INQUIRY_RATE_LIMIT: String(LIMIT),
    INQUIRY_RATE_WINDOW_MS: "3600000",
  });
  await seedDirectory(node.url);
  for (const n of [NUMBER, CROWDED, KIOSKED]) await api(node.url, "POST", "/api/v1/events", sampleLifecycle(n).slice(0, 4));
  for (const n of [NUMBER, CROWDED, KIOSKED]) {
    await eventually(async () => (await api(node.url, "GET", `/api/v1/transactions/${n}`)).body.status === "issued", 15000, `transaction ${n}`);
  }
});
after(async () => {
  await node?.stop();
});


// ------------------------------------------------------------------ the phone line

const opts = () => ({ token: TOKEN, publicBase: PUBLIC, localBase: node.url });
let calls = 0;

/** One call as Twilio makes it: signed posts, one CallSid; answers the parsed TwiML. */
function call(from: string) {
  const base = { AccountSid: "AC00000000000000000000000000000001", CallSid: `CA${Date.now().toString(16)}${(++calls).toString(16).padStart(8, "0")}`, From: from, Caller: from, To: "+966800123456" };
  return async (url: string, extra: Record<string, string> = {}): Promise<Twiml> => {
    const r = await postAsTwilio(url, { ...base, ...extra }, opts());
    assert.equal(r.status, 200, r.text);
    return parseTwiml(r.text);
  };
}
const spoken = (t: Twiml) => t.says.map((s) => s.text).join("\n");
const assertNoDetails = (text: string, where: string) => {
  for (const s of DETAILS) assert.ok(!text.includes(s), `${where} reveals "${s}": ${text}`);
};

test("with a token, unsigned requests are refused whatever the From; the citizen's own caller id hears the stage only", async () => {
  const url = `${PUBLIC}/channels/ivr/number?attempt=1`;
  for (let i = 0; i < 20; i++) {
    const from = i === 0 ? CITIZEN : `+9665500${String(i).padStart(5, "0")}`;
    const r = await postAsTwilio(url, { CallSid: `CAunsigned${i}`, From: from, Digits: NUMBER }, { ...opts(), signature: null });
    assert.equal(r.status, 403, r.text);
    assertNoDetails(r.text, `unsigned request from ${from}`);
  }
  // Signed, from the citizen's very mobile: caller id is no proof, the verifier is asked for.
  const post = call(CITIZEN);
  const greeting = await post(`${PUBLIC}/channels/ivr/voice`);
  const status = await post(greeting.gather!.action, { Digits: NUMBER, FinishedOnKey: "#" });
  assert.match(spoken(status), /صدرت/);
  assertNoDetails(spoken(status), "the coarse answer");
  assert.equal(status.gather?.finishOnKey, "#");
  assert.match(status.gather!.action, new RegExp(`^${PUBLIC}/channels/ivr/verifier\\?number=${NUMBER}&attempt=1&at=\\d+$`));
  assert.match(status.gather!.prompt, /آخر أربعة أرقام من الجوال المسجل/);
});

test("the details need the verifier: a wrong one is refused and asked again, the right one gives them, 1 repeats them", async () => {
  const post = call("+966500000123");
  const greeting = await post(`${PUBLIC}/channels/ivr/voice`);
  const status = await post(greeting.gather!.action, { Digits: NUMBER });
  const wrong = await post(status.gather!.action, { Digits: "1111" });
  assert.match(spoken(wrong), /لا تطابق الجوال المسجل/);
  assertNoDetails(spoken(wrong), "a wrong verifier");
  assert.match(wrong.gather!.action, /\/verifier\?number=\d+&attempt=2&at=/);
  const right = await post(wrong.gather!.action, { Digits: "4567", FinishedOnKey: "#" });
  const details = spoken(right);
  for (const s of [digitsSpokenAr(`9${NUMBER}`), "وزارة الداخلية", "بانتظار الرد"]) assert.ok(details.includes(s), `${s} in ${details}`);
  assert.equal(right.gather?.numDigits, "1");
  assert.doesNotMatch(right.gather!.action, /4567/, "the verifier is not in the URL");
  const repeat = await post(right.gather!.action, { Digits: "1" });
  assert.equal(spoken(repeat), details);
  const bye = await post(repeat.gather!.action, { Digits: "2" });
  assert.equal(bye.hangup, true);
  // Only # at the verifier prompt: goodbye, nothing more.
  const post2 = call("+966500000124");
  const s2 = await post2((await post2(`${PUBLIC}/channels/ivr/voice`)).gather!.action, { Digits: NUMBER });
  const end = await post2(s2.gather!.action, { Digits: "" });
  assert.equal(end.hangup, true);
  assertNoDetails(spoken(end), "# alone");
});

test("a captured signed request is answered once, and a step's address expires", async () => {
  const params = { CallSid: "CAreplay0001", From: "+966500000555", To: "+966800123456" };
  const post = async (url: string, extra: Record<string, string>) => postAsTwilio(url, { ...params, ...extra }, opts());
  const greeting = parseTwiml((await post(`${PUBLIC}/channels/ivr/voice`, {})).text);
  const status = parseTwiml((await post(greeting.gather!.action, { Digits: NUMBER })).text);
  const first = await post(status.gather!.action, { Digits: "4567" });
  assert.equal(first.status, 200);
  assert.ok(first.text.includes("وزارة الداخلية"));
  // The same request, byte for byte (a capture): refused, on this node or any other.
  const replay = await post(status.gather!.action, { Digits: "4567" });
  assert.equal(replay.status, 403);
  assert.match(replay.text, /already answered \(a replay\)/);
  assertNoDetails(replay.text, "the replay");
  const again = await post(greeting.gather!.action, { Digits: NUMBER });
  assert.equal(again.status, 403);
  // A step address older than the window, properly signed: refused; one without `at` too.
  const old = `${PUBLIC}/channels/ivr/verifier?number=${NUMBER}&attempt=1&at=${Date.now() - 11 * 60_000}`;
  const stale = await post(old, { Digits: "4567" });
  assert.equal(stale.status, 403);
  assert.match(stale.text, /expired/);
  const bare = await post(`${PUBLIC}/channels/ivr/verifier?number=${NUMBER}&attempt=1`, { Digits: "4567" });
  assert.equal(bare.status, 403);
  assertNoDetails(stale.text + bare.text, "a stale step");
  // The greeting has no address of its own to bound and reveals nothing: answered again.
  assert.equal((await post(`${PUBLIC}/channels/ivr/voice`, {})).status, 200);
});

test("rotating caller ids does not defeat the limit: the number asked about is limited too", async () => {
  const outcomes: string[] = [];
  for (let i = 0; i < LIMIT + 5; i++) {
    const post = call(`+9665010${String(i).padStart(5, "0")}`);
    const greeting = await post(`${PUBLIC}/channels/ivr/voice`);
    const said = spoken(await post(greeting.gather!.action, { Digits: CROWDED }));
    outcomes.push(/عدد محاولات الاستعلام من هذا الرقم كبير/.test(said) ? "limited" : "answered");
  }
  const answered = outcomes.filter((o) => o === "answered").length;
  assert.ok(answered >= LIMIT && answered <= LIMIT + 1, `${answered} answered: ${outcomes.join(",")}`);
  assert.deepEqual([...new Set(outcomes.slice(LIMIT + 1))], ["limited"]);
});

test("a wrong signature still gets 403 (the signature algorithm is Twilio's, unchanged)", async () => {
  const url = `${PUBLIC}/channels/ivr/voice`;
  const params = { CallSid: "CAsig", From: CITIZEN };
  const r = await postAsTwilio(url, params, { ...opts(), signature: twilioSignature("not-the-token", url, params) });
  assert.equal(r.status, 403);
});

// ------------------------------------------------------------------ kiosks

async function kiosk(path: string, ip: string, key?: string) {
  const res = await fetch(node.url + path, { headers: { "x-forwarded-for": ip, ...(key ? { "x-kiosk-key": key } : {}) } });
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* the page */
  }
  return { status: res.status, body, text };
}

test("strangers claiming a kiosk's id cannot ask, nor lock the real kiosk out", async () => {
  const GATE_IP = "10.40.0.7";
  const strangers = [];
  for (let i = 0; i < 12; i++) {
    const key = i % 3 === 0 ? undefined : i % 3 === 1 ? "wrong-key-0123456789abc" : `${GATE_KEY}x`;
    strangers.push(await kiosk(`/kiosk/answer?kiosk=gate-1&number=${KIOSKED}&verifier=${String(1000 + i)}`, `198.51.100.${i + 1}`, key));
  }
  // The real kiosk, with its key: not locked out; details with the verifier.
  const real = await kiosk(`/kiosk/answer?kiosk=gate-1&number=${KIOSKED}&verifier=4567`, GATE_IP, GATE_KEY);
  assert.equal(real.status, 200, real.text);
  assert.equal(real.body.level, "detail");
  for (const r of strangers) {
    assert.equal(r.status, 401, r.text);
    assert.equal(r.body.error.code, "KIOSK_NOT_REGISTERED");
    assert.match(r.body.error.messageAr, /غير مسجل/);
    assert.match(r.body.error.message, /not registered/);
  }
  // The key in the kiosk's address (the page's first load) works too and is carried on.
  const page = await kiosk(`/kiosk?kiosk=gate-1&key=${GATE_KEY}`, GATE_IP);
  assert.equal(page.status, 200);
  assert.ok(page.text.includes(`data-kiosk-key="${GATE_KEY}"`));
});

test("unknown kiosk ids are refused like wrong keys; a registered kiosk only from its networks", async () => {
  const unknown = await kiosk(`/kiosk/answer?kiosk=gate-77&number=${KIOSKED}`, "10.40.0.8", GATE_KEY);
  assert.equal(unknown.status, 401);
  assert.deepEqual(Object.keys(unknown.body.error).sort(), ["code", "message", "messageAr"]);
  assert.equal(unknown.body.error.code, "KIOSK_NOT_REGISTERED");
  // The page a citizen would see: Arabic and English, no keypad.
  const page = await kiosk(`/kiosk?kiosk=gate-77`, "10.40.0.8");
  assert.equal(page.status, 401);
  assert.match(page.text, /هذا الجهاز غير مسجل/);
  assert.match(page.text, /This kiosk is not registered/);
  assert.doesNotMatch(page.text, /id="ask"/);
  const outside = await kiosk(`/kiosk/answer?kiosk=lobby&number=${KIOSKED}`, "192.0.2.10", LOBBY_KEY);
  assert.equal(outside.status, 403);
  assert.equal(outside.body.error.code, "KIOSK_ADDRESS_REFUSED");
  assert.equal((await kiosk(`/kiosk/answer?kiosk=lobby&number=${KIOSKED}`, "10.50.3.4", LOBBY_KEY)).status, 200);
  assert.equal((await kiosk(`/kiosk/answer?kiosk=lobby&number=${KIOSKED}`, "2001:db8::5", LOBBY_KEY)).status, 200);
  assert.equal((await http(node.url, "GET", `/kiosk/answer?number=${KIOSKED}`)).body.error.code, "INVALID_KIOSK");
});
});

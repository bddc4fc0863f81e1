// The same transactions asked on all five channels give the same facts, each in its own
// form; without proof, no channel reveals the details. A real node: FerretDB, the SMSC
// simulator over SMPP, the notifier's Agenda jobs, signed IVR and WhatsApp webhooks.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import mongoose from "mongoose";
import { testDatabase, testNode, testSmsc, api, http, sampleLifecycle, seedDirectory, eventually } from "./support/harness.ts";
import { applyDigits } from "../core/text/digits.ts";
import { digitsSpokenAr, hijriDateInWordsAr } from "../core/text/number-words.ts";
import { formatHijri } from "../core/text/calendar.ts";
import { parseTwiml, postAsTwilio } from "../channels/testing.ts";
import { OUTBOX_COLLECTION } from "../channels/models.ts";
import { showIsolates } from "../core/text/bidi.ts";

/** A Hijri date as Arabic SMS and WhatsApp text shows it: numbers isolated (⟨…⟩), the era suffix outside. */
const isolatedDate = (hijri: string) => hijri.replace(/^([^هـ]+)/, "⟨$1⟩");

const TOKEN = "twilio-auth-token-for-tests";
const APP_SECRET = "whatsapp-app-secret-for-tests";
const PUBLIC = "https://taqib.example.sa/inq";
const OWNER = "966551234567"; // the sample lifecycle's citizen: 0551234567
const STRANGER = "966559876543";
const ISSUED = "1445000101";
const STUDY = "1445000102";

let db: Awaited<ReturnType<typeof testDatabase>>;
let smsc: Awaited<ReturnType<typeof testSmsc>>;
let node: Awaited<ReturnType<typeof testNode>>;
let t0 = 0;

before(async () => {
  const tb = Date.now();
  const lap = (what: string) => process.env.TEST_TIMING && console.log(`${what}: ${Date.now() - tb} ms`);
  db = await testDatabase();
  lap("db");
  smsc = await testSmsc();
  node = await testNode(db.url, {
    SERVICES: "api,events,directory,notifier,smpp,channels",
    CHANNELS: "web,sms,ivr,kiosk,whatsapp",
    SMPP_URL: smsc.url,
    TWILIO_AUTH_TOKEN: TOKEN,
    PUBLIC_URL: PUBLIC,
    WHATSAPP_VERIFY_TOKEN: "verify",
    WHATSAPP_APP_SECRET: APP_SECRET,
    INQUIRY_RATE_LIMIT: "1000",
  });
  lap("node");
  await seedDirectory(node.url);
  const events = [...sampleLifecycle(ISSUED).slice(0, 4), ...sampleLifecycle(STUDY).slice(0, 3)];
  assert.equal((await api(node.url, "POST", "/api/v1/events", events)).status, 202);
  await eventually(async () => (await api(node.url, "GET", `/api/v1/transactions/${ISSUED}`)).body.status === "issued" && (await api(node.url, "GET", `/api/v1/transactions/${STUDY}`)).body.status === "assigned", 15000, "both transactions applied");
  // The lifecycle's own SMS (registered, issued, assigned x2, registered): later ones are replies.
  lap("applied");
  await eventually(async () => smsc.received.length >= 5, 20000, "the lifecycle's notifications");
  lap("notified");
  t0 = Date.now();
});
after(async () => {
  const t = Date.now();
  await node?.stop();
  if (process.env.TEST_TIMING) console.log(`tests ${t - t0} ms, stop ${Date.now() - t} ms`);
  await smsc?.stop();
  await db?.remove();
});

// ------------------------------------------------------------------ asking each channel

const json = async (number: string, verifier = "") => (await http(node.url, "GET", `/api/v1/inquiry?number=${number}&verifier=${verifier}`)).body;
const page = async (number: string, verifier = "") => (await http(node.url, "GET", `/?number=${number}&verifier=${verifier}`)).text;
const kiosk = async (number: string, verifier = "") => (await http(node.url, "GET", `/kiosk/answer?kiosk=gate-1&number=${number}&verifier=${verifier}`)).body.html as string;

async function sms(from: string, text: string): Promise<string> {
  const before = smsc.received.length;
  await smsc.sendMo({ from, to: "74747", text });
  const reply = await eventually(async () => smsc.received.slice(before).find((m) => m.to === from), 15000, `the SMS reply to ${from}`);
  return reply.text;
}

async function call(from: string, digits: string, verifier?: string): Promise<string> {
  const opts = { token: TOKEN, publicBase: PUBLIC, localBase: node.url };
  const base = { CallSid: `CA${Date.now()}`, From: `+${from}`, To: "+966800123456" };
  const voice = await postAsTwilio(`${PUBLIC}/channels/ivr/voice`, base, opts);
  assert.equal(voice.status, 200, voice.text);
  const gather = parseTwiml(voice.text).gather!;
  let answer = await postAsTwilio(gather.action, { ...base, Digits: digits, FinishedOnKey: "#" }, opts);
  assert.equal(answer.status, 200, answer.text);
  // The details over the phone need the verifier keyed in, whoever calls.
  const next = parseTwiml(answer.text).gather;
  if (verifier && next && /\/verifier\?/.test(next.action)) answer = await postAsTwilio(next.action, { ...base, Digits: verifier, FinishedOnKey: "#" }, opts);
  assert.equal(answer.status, 200, answer.text);
  const twiml = parseTwiml(answer.text);
  assert.ok(twiml.says.every((s) => s.language === "ar-SA"));
  return twiml.says.map((s) => s.text).join("\n");
}

async function whatsapp(from: string, text: string): Promise<string> {
  const id = `wamid.${from}.${Date.now()}`;
  const body = JSON.stringify({
    object: "whatsapp_business_account",
    entry: [{ id: "1", changes: [{ field: "messages", value: { messaging_product: "whatsapp", messages: [{ from, id, timestamp: "1", type: "text", text: { body: text } }] } }] }],
  });
  const sig = `sha256=${createHmac("sha256", APP_SECRET).update(body).digest("hex")}`;
  const r = await http(node.url, "POST", "/channels/whatsapp/webhook", body, { "content-type": "application/json", "x-hub-signature-256": sig });
  assert.equal(r.status, 200, r.text);
  const doc = await mongoose.connection.db!.collection(OUTBOX_COLLECTION).findOne({ to: from, text: { $regex: text.replace(/\D/g, "").slice(-4) } }, { sort: { createdAt: -1 } });
  assert.ok(doc, "the reply is in the WhatsApp outbox");
  return doc.text as string;
}

// ------------------------------------------------------------------ the facts

test("an issued transaction: the same stage, date, outgoing number and agency on all five channels", async () => {
  const facts = await json(ISSUED, "4567");
  assert.equal(facts.level, "detail");
  assert.equal(facts.stage, "issued");
  const [out] = facts.details.outgoing;
  assert.equal(out.number, `9${ISSUED}`);
  assert.deepEqual(out.destination, { code: "MOI", name: { ar: "وزارة الداخلية", en: "Ministry of Interior" } });
  const issuedOn = new Date(facts.issuedOn);
  const hijri = formatHijri(issuedOn, { lang: "ar", digits: "latin" });
  const hijriArabic = formatHijri(issuedOn, { lang: "ar", digits: "arabic" });
  const agency = out.destination.name.ar;

  const web = await page(ISSUED, "٤٥٦٧");
  // Numbers and dates sit in <bdi dir="ltr"> on the pages: the facts are read from the text.
  const shownText = (html: string) => html.replace(/<[^>]+>/g, "");
  for (const s of ['data-stage="issued"', 'data-level="detail"']) assert.ok(web.includes(s), `web: ${s}`);
  for (const s of [hijri, out.number, agency, "بانتظار الرد"]) assert.ok(shownText(web).includes(s), `web: ${s}`);

  const k = await kiosk(ISSUED, "4567");
  // The kiosk follows DIGITS (Latin by default) like every channel.
  assert.ok(k.includes('data-stage="issued"'), "kiosk: stage");
  for (const s of [ISSUED, hijri, out.number, agency]) assert.ok(shownText(k).includes(s), `kiosk: ${s}`);

  const text = await sms(OWNER, `رقم المعاملة ${applyDigits(ISSUED, "arabic")}`);
  assert.equal(showIsolates(text), `المعاملة رقم ⟨${ISSUED}⟩ صدرت برقم ⟨${out.number}⟩ في ${isolatedDate(hijri)} إلى ${agency}، بانتظار الرد.`);

  const speech = await call(OWNER, ISSUED, "4567");
  for (const s of [digitsSpokenAr(ISSUED), "صدرت", hijriDateInWordsAr(issuedOn), digitsSpokenAr(out.number), agency, "بانتظار الرد"]) assert.ok(speech.includes(s), `ivr: ${s}\n${speech}`);

  const wa = await whatsapp(OWNER, ISSUED);
  assert.equal(showIsolates(wa), `*المعاملة رقم ⟨${ISSUED}⟩*\nصدرت بتاريخ ${isolatedDate(hijri)}.\nصادر رقم ⟨${out.number}⟩ بتاريخ ${isolatedDate(hijri)} إلى ${agency}، بانتظار الرد.`);
});

test("a transaction under study: the same stage and department on all five channels", async () => {
  const facts = await json(STUDY, "4567");
  assert.equal(facts.stage, "under-study");
  assert.deepEqual(facts.details.department, { code: "LEGAL", name: { ar: "الإدارة القانونية", en: "Legal Affairs" } });
  const dept = facts.details.department.name.ar;
  assert.match(await page(STUDY, "4567"), new RegExp(`قيد الدراسة[^]*<dt>الإدارة</dt><dd>${dept}</dd>`));
  assert.match(await kiosk(STUDY, "4567"), new RegExp(`قيد الدراسة لدى ${dept}`));
  assert.equal(showIsolates(await sms(OWNER, STUDY)), `المعاملة رقم ⟨${STUDY}⟩ قيد الدراسة لدى ${dept}.`);
  assert.match(await call(OWNER, STUDY, "4567"), new RegExp(`^المعاملة رقم ${digitsSpokenAr(STUDY)}، قيد الدراسة لدى ${dept}.$`));
  assert.equal(showIsolates(await whatsapp(OWNER, STUDY)), `*المعاملة رقم ⟨${STUDY}⟩*\nقيد الدراسة لدى ${dept}.`);
  // English where asked in English.
  assert.equal((await json(STUDY, "4567")).message, `Transaction No. ${STUDY} is under study by Legal Affairs.`);
  assert.equal(await sms(OWNER, `status ${STUDY}`), `Transaction No. ${STUDY} is under study by Legal Affairs.`);
});

test("without proof every channel gives the stage only: no department, outgoing number or agency", async () => {
  const secrets = [`9${ISSUED}`, applyDigits(`9${ISSUED}`, "arabic"), digitsSpokenAr(`9${ISSUED}`), "وزارة الداخلية", "الإدارة القانونية", "Legal Affairs", "Ministry of Interior"];
  const answers: Array<[string, string]> = [
    ["json", JSON.stringify(await json(ISSUED))],
    ["json, wrong verifier", JSON.stringify(await json(ISSUED, "0000"))],
    ["web", await page(ISSUED)],
    ["web, wrong verifier", await page(ISSUED, "1111")],
    ["kiosk", await kiosk(ISSUED)],
    ["sms from a stranger", await sms(STRANGER, ISSUED)],
    ["ivr from a stranger", await call(STRANGER, ISSUED)],
    ["whatsapp from a stranger", await whatsapp(STRANGER, ISSUED)],
    ["json, under study", JSON.stringify(await json(STUDY))],
    ["sms, under study", await sms(STRANGER, STUDY)],
  ];
  for (const [where, text] of answers) {
    assert.ok(/issued|صدرت|قيد الدراسة|under-study/.test(text), `${where} gives the stage: ${text.slice(0, 200)}`);
    for (const s of secrets) assert.ok(!text.includes(s), `${where} reveals "${s}"`);
  }
  assert.match(answers[5]![1], /تظهر التفاصيل عند الإرسال من الجوال المسجل/);
});

test("unknown and malformed numbers get a polite answer on every channel", async () => {
  const missing = "8000000001";
  assert.equal((await http(node.url, "GET", `/api/v1/inquiry?number=${missing}`)).status, 404);
  assert.match(await page(missing), /لم نعثر على معاملة بالرقم/);
  assert.match(await kiosk(missing), /لم نعثر على معاملة بالرقم/);
  assert.equal(showIsolates(await sms(STRANGER, missing)), `لم نجد معاملة بالرقم ⟨${missing}⟩. تأكدوا من الرقم وأعيدوا الإرسال.`);
  assert.match(await call(STRANGER, missing), new RegExp(`لم نعثر على معاملة بالرقم ${digitsSpokenAr(missing)}`));
  assert.match(await whatsapp(STRANGER, missing), /لم نجد معاملة بالرقم/);
  const bad = await http(node.url, "GET", "/api/v1/inquiry?number=12ab");
  assert.equal(bad.status, 400);
  assert.deepEqual(Object.keys(bad.body.error), ["code", "message", "messageAr"]);
  assert.match(await sms(STRANGER, "مرحبا"), /لم نجد رقم معاملة في رسالتكم/);
  assert.equal(showIsolates(await sms(STRANGER, "مساعدة")), "للاستعلام عن معاملتكم أرسلوا رقم المعاملة إلى ⟨74747⟩، مثل: ⟨1445-00123⟩\nتصلكم التفاصيل عند الإرسال من الجوال المسجل في المعاملة.");
});

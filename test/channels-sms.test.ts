// The short code end to end: the SMSC simulator sends a mobile-originated SMS (deliver_sm),
// the sms channel answers through the outbound pipeline (Agenda job -> SMPP submit_sm),
// and the simulator receives the reply.
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode, api, sampleLifecycle, eventually } from "./support/harness.ts";
import { MessageModel } from "../core/sms/models.ts";
import { formatHijri } from "../core/text/calendar.ts";
import { showIsolates } from "../core/text/bidi.ts";

const NUMBER = "1445000201";
const LIMIT = 6;

const world = smsNode({
  env: {
    SERVICES: "api,events,directory,notifier,smpp,channels",
    CHANNELS: "sms",
    INQUIRY_RATE_LIMIT: String(LIMIT),
    INQUIRY_RATE_WINDOW_MS: "60000",
  },
  then: async ({ smsc, node }) => {
    await api(node.url, "POST", "/api/v1/events", sampleLifecycle(NUMBER).slice(0, 4));
    await eventually(async () => (await api(node.url, "GET", `/api/v1/transactions/${NUMBER}`)).body.status === "issued", 15000, "the transaction");
    // Its own notifications (registered, issued to the citizen; assigned to the employee) come first.
    await eventually(async () => smsc.received.length >= 3, 20000, "the lifecycle's notifications");
  },
});

/** Waits until the simulator has `count` messages to `to` after `from`; answers them. */
async function repliesTo(to: string, since: number, count = 1, timeoutMs = 10000) {
  const { smsc } = world;
  return eventually(async () => {
    const got = smsc.received.slice(since).filter((m) => m.to === to);
    return got.length >= count && got;
  }, timeoutMs, `${count} SMS to ${to}`);
}

/** Not in the last seconds of a minute: an MO's reply id is derived from its minute. */
async function awayFromMinuteEdge() {
  const s = new Date().getSeconds();
  if (s >= 55) await new Promise((r) => setTimeout(r, (61 - s) * 1000));
}

test("a mobile-originated SMS is answered by an SMS to the sender within seconds", async () => {
  const { smsc, node } = world;
  const from = "966551234567"; // the citizen: details
  const since = smsc.received.length;
  const t0 = Date.now();
  await smsc.sendMo({ from, to: "74747", text: `السلام عليكم، رقم المعاملة ${NUMBER.replace(/\d/g, (d) => "٠١٢٣٤٥٦٧٨٩"[Number(d)]!)} لو سمحت` });
  const [reply] = await repliesTo(from, since);
  const elapsed = Date.now() - t0;
  assert.ok(elapsed < 5000, `answered in ${elapsed} ms`);
  const tx = (await api(node.url, "GET", `/api/v1/transactions/${NUMBER}`)).body;
  const hijri = formatHijri(new Date(tx.outgoing[0].date), { lang: "ar", digits: "latin" });
  const isolatedDate = hijri.replace(/^([^هـ]+)/, "⟨$1⟩");
  assert.equal(showIsolates(reply!.text), `المعاملة رقم ⟨${NUMBER}⟩ صدرت برقم ⟨9${NUMBER}⟩ في ${isolatedDate} إلى وزارة الداخلية، بانتظار الرد.`);
  assert.equal(reply!.from, "74747");
  assert.equal(reply!.encoding, "UCS2");
  // In the message log as an inquiry reply, delivered.
  const logged = await eventually(async () => {
    const m = await MessageModel.findOne({ to: `+${from}`, role: "inquirer", text: reply!.text }).lean();
    return m?.status === "delivered" && m;
  }, 10000, "the reply delivered in the message log");
  assert.match(logged._id, /^inquiry:sms:[0-9a-f]{32}$/);
  assert.equal(logged.template, "inquiry-reply");
});

test("the same MO delivered twice is answered once", async () => {
  const { smsc } = world;
  const from = "966500000301";
  await awayFromMinuteEdge();
  const since = smsc.received.length;
  await smsc.sendMo({ from, to: "74747", text: NUMBER });
  await smsc.sendMo({ from, to: "74747", text: NUMBER });
  await repliesTo(from, since);
  await new Promise((r) => setTimeout(r, 1500));
  const replies = smsc.received.slice(since).filter((m) => m.to === from);
  assert.equal(replies.length, 1);
  assert.match(showIsolates(replies[0]!.text), new RegExp(`^المعاملة رقم ⟨${NUMBER}⟩ صدرت بتاريخ .*\\nتظهر التفاصيل عند الإرسال من الجوال المسجل في المعاملة.$`));
  assert.equal(await MessageModel.countDocuments({ to: `+${from}`, role: "inquirer" }), 1);
});

test("help, English, no number, unknown number, another short code", async () => {
  const { smsc } = world;
  const cases: Array<[string, string, string, RegExp | null]> = [
    ["966500000401", "74747", "مساعدة", /^للاستعلام عن معاملتكم أرسلوا رقم المعاملة إلى ⟨74747⟩/],
    ["966500000402", "74747", "HELP", /^To check your transaction, text its number to 74747/],
    ["966500000403", "74747", `status of ${NUMBER} please`, new RegExp(`^Transaction No. ${NUMBER} was issued on .* AH.\\nDetails are sent only to the mobile registered with the transaction.$`)],
    ["966500000404", "74747", "وين معاملتي", /^لم نجد رقم معاملة في رسالتكم/],
    ["966500000405", "74747", "٩٩٩٩٩", /^لم نجد معاملة بالرقم ⟨99999⟩. تأكدوا من الرقم وأعيدوا الإرسال.$/],
    ["966500000406", "74747", "1".repeat(30), /^رقم المعاملة غير صحيح/],
  ];
  const since = smsc.received.length;
  for (const [from, to, text] of cases) await smsc.sendMo({ from, to, text });
  for (const [from, , text, expected] of cases) {
    const [reply] = await repliesTo(from, since);
    assert.match(showIsolates(reply!.text), expected!, text);
  }
  // An MO to another number is not for this channel.
  await smsc.sendMo({ from: "966500000407", to: "88888", text: NUMBER });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(smsc.received.slice(since).filter((m) => m.to === "966500000407").length, 0);
});

test("one sender is cut off by the rate limit, told once to try later, then not answered", async () => {
  const { smsc } = world;
  const from = "966500000501";
  const since = smsc.received.length;
  for (let i = 0; i < LIMIT + 4; i++) await smsc.sendMo({ from, to: "74747", text: `${8000000 + i}` });
  const replies = await repliesTo(from, since, LIMIT + 1);
  await new Promise((r) => setTimeout(r, 1500));
  const all = smsc.received.slice(since).filter((m) => m.to === from);
  assert.equal(all.length, LIMIT + 1, all.map((m) => m.text).join("\n"));
  assert.equal(replies.filter((m) => /^لم نجد معاملة بالرقم/.test(m.text)).length, LIMIT);
  assert.equal(all.filter((m) => /^عدد رسائل الاستعلام كبير، يرجى المحاولة بعد (دقيقة واحدة|دقيقتين)\.$/.test(m.text)).length, 1);
});

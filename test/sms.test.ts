// Outbound SMS end to end: events over HTTP -> Agenda jobs -> SMPP over TCP -> the SMSC
// simulator -> delivery receipts -> the message log.
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode, api, eventually, sampleLifecycle } from "./support/harness.ts";
import { smsTemplateEngine } from "../core/sms/templates/engine.ts";
import { loadConfig } from "../core/platform/config.ts";
import { enqueueMessages } from "../core/sms/notifications.ts";

const world = smsNode({ env: { SERVICES: "api,events,directory,notifier,smpp" } });
// Rendered as the node renders them (its env sets neither DIGITS nor SMS_SENDER).
const templates = smsTemplateEngine(loadConfig({}));

const messagesOf = async (n: string) => (await api(world.node.url, "GET", `/api/v1/messages?transactionNumber=${n}`)).body.messages as any[];

test("registered, issued and assigned make three correct SMS, and receipts mark them delivered", async () => {
  const { smsc, node } = world;
  const [registered, , assigned, issued] = sampleLifecycle("1445000777");
  for (const e of [registered, issued, assigned]) assert.equal((await api(node.url, "POST", "/api/v1/events", e)).status, 202);
  const got = await eventually(async () => {
    const mine = smsc.received.filter((m) => m.text.includes("1445000777"));
    return mine.length === 3 && mine;
  }, 20000, "three SMS at the SMSC");
  const byTo = new Map(got.map((m) => [m.to, m]));
  const citizen = got.filter((m) => m.to === "966551234567");
  assert.equal(citizen.length, 2, "citizen: registered and issued");
  const employee = byTo.get("966559990002");
  assert.ok(employee, "the employee gets the assignment");

  // The exact texts the templates give for the stored transaction.
  const log = await eventually(async () => {
    const l = await messagesOf("1445000777");
    return l.length === 3 && l.every((m) => m.status === "delivered") && l;
  }, 20000, "three delivered messages in the log").catch(async (err) => { console.log(JSON.stringify((await messagesOf("1445000777")).map((m) => [m.template, m.status, m.statusHistory, m.partIds, m.receipts]))); throw err; });
  for (const m of log) {
    const received = got.find((r) => r.text === m.text);
    assert.ok(received, `${m.template}: the SMSC got exactly the logged text`);
    assert.equal(received.from, "74747");
    assert.equal(received.encoding, "UCS2");
    assert.equal(received.dataCoding, 8);
    assert.equal(received.partCount, m.parts);
    assert.equal(m.encoding, "UCS2");
    assert.deepEqual(m.partIds, received.messageIds, "every part's SMSC id recorded");
    assert.deepEqual(m.statusHistory.map((h: any) => h.status), ["queued", "sending", "submitted", "delivered"]);
    if (received.partCount > 1) {
      assert.ok(received.parts.every((p) => p.udh && p.udh.total === received.partCount && (p.esmClass & 0x40) === 0x40), "UDH on every part");
    }
  }
  const reg = log.find((m) => m.template === "registered")!;
  const tx = (await api(node.url, "GET", "/api/v1/transactions/1445000777")).body;
  const expected = templates.render("registered", "ar", {
    transaction: { number: tx.number, displayNumber: tx.displayNumber, registeredAt: new Date(tx.registeredAt), subject: tx.subject },
    citizen: { name: tx.citizen.name },
    lang: "ar",
  } as any).text;
  assert.equal(reg.text, expected);
  assert.match(reg.text, /1445000777/);
  assert.match(reg.text, /هـ/, "Hijri date");
  const iss = log.find((m) => m.template === "issued")!;
  assert.match(iss.text, /91445000777/);
  assert.match(iss.text, /وزارة الداخلية/);
});

test("the same events again send nothing twice", async () => {
  const { smsc, node } = world;
  const before = smsc.received.length;
  const events = sampleLifecycle("1445000777");
  await api(node.url, "POST", "/api/v1/events", [events[0], events[3], events[2]]);
  await new Promise((r) => setTimeout(r, 2000));
  assert.equal(smsc.received.length, before);
  assert.equal((await messagesOf("1445000777")).length, 3);
});

test("a 300-character Arabic message arrives as 5 parts that reassemble to the exact text", async () => {
  const { smsc, node } = world;
  const text = "تعقيب ".repeat(50).slice(0, 300);
  assert.equal(text.length, 300);
  await enqueueMessages([{ _id: "long-1", template: "inquiry-reply", role: "inquirer", to: "+966551112233", lang: "ar", text }]);
  const m = await eventually(async () => smsc.received.find((r) => r.to === "966551112233"), 20000, "the long SMS");
  assert.equal(m.partCount, 5);
  assert.equal(m.text, text);
  assert.equal(new Set(m.parts.map((p) => p.udh?.reference)).size, 1);
  assert.deepEqual(m.parts.map((p) => p.udh?.seq), [1, 2, 3, 4, 5]);
  const logged = await eventually(async () => {
    const all = (await api(node.url, "GET", "/api/v1/messages?status=delivered&limit=1000")).body.messages as any[];
    return all.find((x) => x.id === "long-1");
  }, 20000, "delivered");
  assert.equal(logged.parts, 5);
});

test("a template that cannot render is an error on the message, never a half-rendered SMS", async () => {
  const { smsc, node } = world;
  const before = smsc.received.length;
  // An assignment to an employee the directory does not know: recorded, not sent.
  await enqueueMessages([{ _id: "bad-template-1", template: "no-such-template", role: "inquirer", to: "+966551112244", lang: "ar" }]);
  const failed = await eventually(async () => {
    const all = (await api(node.url, "GET", "/api/v1/messages?status=failed")).body.messages as any[];
    return all.find((x) => x.id === "bad-template-1");
  }, 20000, "failed message");
  assert.ok(failed.error.code);
  assert.equal(smsc.received.filter((r) => r.to === "966551112244").length, 0);
  assert.equal(smsc.received.length, before);
});

// The internal follow-up of assigned transactions, on the schedule clock the test moves (no
// sleeps for the days): a transaction assigned and left untouched gets the employee's SMS
// after 5 working days (a weekend and a holiday skipped), one reminder, then the manager's
// escalation, each once; one issued on day 4 gets none. Counted at the SMSC simulator.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { smsNode, api, eventually } from "./support/harness.ts";
import { clock } from "../core/platform/clock.ts";

/** The text without its isolates (numbers and dates sit in LRI…PDI in Arabic SMS). */
const plain = (text: string) => text.replace(/[\u2066-\u2069]/g, "");

const world = smsNode({ smsc: { dlrDelayMs: 20 }, env: { SERVICES: "api,events,directory,followup,notifier,smpp" } });
after(() => clock.reset());

const riyadh = (s: string) => new Date(`${s}+03:00`);
const EMPLOYEE = "966559990002";
const MANAGER = "966559990001";
const templates = async (n: string) => ((await api(world.node.url, "GET", `/api/v1/messages?transactionNumber=${n}`)).body.messages as any[]).map((m) => m.template);

test("assigned and untouched: the employee after 5 working days, a reminder, then the manager; issued on day 4: none", async () => {
  const { node, smsc } = world;
  const to = (mobile: string) => smsc.received.filter((m) => m.to === mobile);
  const internal = () => to(EMPLOYEE).filter((m) => m.text.includes("لم تنجز"));
  const settle = () => new Promise((r) => setTimeout(r, 1000)); // a short look that nothing more leaves

  // Thursday 22 October 2026, 10:00 in Riyadh; Monday the 26th a holiday.
  clock.set(riyadh("2026-10-22T10:00:00"));
  assert.equal((await api(node.url, "PUT", "/api/v1/holidays/2026-10-26", { name: "إجازة" })).status, 200);
  const legal = (await api(node.url, "GET", "/api/v1/departments/LEGAL")).body;
  assert.deepEqual(legal.internalFollowup, { periodDays: 5, reminderEveryDays: 2, maxReminders: 1 });
  const at = clock.now().toISOString();
  const events = ["7201", "7202"].flatMap((n, i) => [
    { id: `if-${n}-r`, type: "registered", transactionNumber: n, occurredAt: at, data: { citizen: { name: "مواطن", mobile: `055000030${i}` }, departmentCode: "LEGAL" } },
    { id: `if-${n}-a`, type: "assigned", transactionNumber: n, occurredAt: at, data: { employeeId: "E100" } },
  ]);
  assert.equal((await api(node.url, "POST", "/api/v1/events", events)).status, 202);
  await eventually(async () => smsc.received.length === 4, 20000, "registered and assigned SMS");

  // Day 4 (Thursday 29th: Sunday, Tuesday, Wednesday, Thursday): 7202 is issued.
  clock.set(riyadh("2026-10-29T11:00:00"));
  const issued = { id: "if-7202-i", type: "issued", transactionNumber: "7202", occurredAt: clock.now().toISOString(), data: { outgoingNumber: "97202", destination: { agencyCode: "MOI" }, requiresReply: false } };
  assert.equal((await api(node.url, "POST", "/api/v1/events", [issued])).status, 202);
  await eventually(async () => to("966550000301").length === 2, 20000, "the issued SMS");

  // Day 5 is Sunday 1 November: nothing a minute before 10:00, the employee's SMS after.
  clock.set(riyadh("2026-11-01T09:59:00"));
  await settle();
  assert.equal(internal().length, 0, "not before the period is over");
  clock.set(riyadh("2026-11-01T10:00:01"));
  const due = await eventually(async () => internal().length === 1 && internal(), 20000, "the employee's SMS");
  assert.match(plain(due[0]!.text), /المعاملة رقم 7201 المحالة إليكم/);

  // Two working days later, a reminder; two more, the manager.
  clock.set(riyadh("2026-11-03T10:00:01"));
  const reminded = await eventually(async () => internal().length === 2 && internal(), 20000, "the reminder");
  assert.match(plain(reminded[1]!.text), /^التذكير الأول: المعاملة 7201/);
  clock.set(riyadh("2026-11-05T10:00:01"));
  const escalated = await eventually(async () => to(MANAGER).length === 1 && to(MANAGER), 20000, "the manager's escalation");
  assert.match(plain(escalated[0]!.text), /المعاملة 7201 المحالة إلى خالد العتيبي/);

  // Weeks later: the sequence is over; a sweep sends nothing more.
  clock.set(riyadh("2026-11-26T10:00:00"));
  assert.equal((await api(node.url, "POST", "/api/v1/followup/sweep")).status, 200);
  await settle();
  assert.deepEqual((await templates("7201")).sort(), ["assigned", "internal-due", "internal-escalation", "internal-reminder", "registered"]);
  assert.deepEqual((await templates("7202")).sort(), ["assigned", "issued", "registered"]);

  const expected = 8;
  const keys = smsc.received.map((m) => `${m.to}|${m.text}`);
  const sent = new Set(keys).size;
  console.log(`# internal follow-up: SMS expected ${expected}, sent ${sent}, duplicated ${keys.length - sent}, lost ${expected - sent}`);
  assert.equal(keys.length - sent, 0);
  assert.equal(sent, expected);
});

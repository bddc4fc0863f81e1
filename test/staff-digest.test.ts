// Staff digests (STAFF_DIGEST_AT=08:00) on the schedule clock the test moves: three
// transactions of one employee falling due on a Thursday afternoon are sent as one SMS at
// 08:00 on Sunday, listing the count and the oldest numbers, once. Counted at the SMSC.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { smsNode, api, eventually } from "./support/harness.ts";
import { clock } from "../core/platform/clock.ts";

const world = smsNode({ smsc: { dlrDelayMs: 20 }, env: { SERVICES: "api,events,directory,followup,notifier,smpp", STAFF_DIGEST_AT: "08:00" } });
after(() => clock.reset());

const riyadh = (s: string) => new Date(`${s}+03:00`);
const EMPLOYEE = "966559990002";
const numbers = ["7301", "7302", "7303"];

test("three due items of one employee arrive as one digest at STAFF_DIGEST_AT, once", async () => {
  const { node, smsc } = world;
  const employee = () => smsc.received.filter((m) => m.to === EMPLOYEE);
  // Thursday 22 October 2026: three assignments, a minute apart.
  clock.set(riyadh("2026-10-22T10:00:00"));
  const events = numbers.flatMap((n, i) => {
    const at = new Date(clock.now().getTime() + i * 60_000).toISOString();
    return [
      { id: `sd-${n}-r`, type: "registered", transactionNumber: n, occurredAt: at, data: { citizen: { name: "مواطن", mobile: `055000040${i}` }, departmentCode: "LEGAL" } },
      { id: `sd-${n}-a`, type: "assigned", transactionNumber: n, occurredAt: at, data: { employeeId: "E100" } },
    ];
  });
  assert.equal((await api(node.url, "POST", "/api/v1/events", events)).status, 202);
  await eventually(async () => smsc.received.length === 6, 20000, "registered and assigned SMS");

  // Due Thursday 29th from 10:00 (5 working days): held for the digest, nothing sent that day.
  clock.set(riyadh("2026-10-29T10:05:00"));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(employee().length, 3, "only the three assignment SMS so far");
  // Sunday 1 November 07:59: not yet; 08:00: one digest.
  clock.set(riyadh("2026-11-01T07:59:00"));
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(employee().length, 3);
  clock.set(riyadh("2026-11-01T08:00:01"));
  const got = await eventually(async () => employee().length === 4 && employee(), 20000, "the digest");
  assert.equal(got[3]!.text, "عدد المعاملات المحالة إليكم ولم تنجز: \u20663\u2069، أقدمها \u20667301\u2069، \u20667302\u2069، \u20667303\u2069. نأمل الإسراع في إنهائها.");
  // A sweep and a second clock move send nothing more.
  assert.equal((await api(node.url, "POST", "/api/v1/followup/sweep")).status, 200);
  clock.set(riyadh("2026-11-01T08:30:00"));
  await new Promise((r) => setTimeout(r, 1500));

  const expected = 7;
  const keys = smsc.received.map((m) => `${m.to}|${m.text}`);
  const sent = new Set(keys).size;
  console.log(`# staff digest: SMS expected ${expected}, sent ${sent}, duplicated ${keys.length - sent}, lost ${expected - sent}; 3 notices in 1 digest`);
  assert.equal(keys.length - sent, 0);
  assert.equal(sent, expected);
});

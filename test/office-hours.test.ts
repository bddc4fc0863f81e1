// Quiet hours over two Taqib processes on one database and one outside SMSC, with the
// schedule clock moved by the test: staff SMS wait for working hours on a working day,
// citizens' for the end of their quiet window, across a restart, each sent once.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { api, eventually, seedDirectory, tempDir, testDatabase, testSmsc } from "./support/harness.ts";
import { spawnTaqib, type TaqibProcess } from "./support/processes.ts";
import { TEST_CLOCK_MODULE, testClockFile } from "./support/test-clock.ts";

const riyadh = (s: string) => new Date(`${s}+03:00`);
const procs: TaqibProcess[] = [];
let cleanup: Array<() => Promise<void> | void> = [];
after(async () => {
  await Promise.all(procs.map((p) => p.kill()));
  for (const c of cleanup.reverse()) await c();
});

test("a notice at 02:00 on a Friday goes at 07:30 on Monday (Sunday a holiday), once, across a restart and with two nodes", async () => {
  const db = await testDatabase();
  const smsc = await testSmsc({ dlrDelayMs: 20 });
  const tmp = tempDir("taqib-clock-");
  cleanup = [() => db.remove(), () => smsc.stop(), () => tmp.remove()];
  const clock = testClockFile(tmp.dir);
  // Friday 2026-11-27, 02:00 in Riyadh.
  clock.set(riyadh("2026-11-27T02:00:00"));
  const env = { MONGO_URL: db.url, SMPP_URL: smsc.url, STAFF_SMS_HOURS: "07:30-15:30", TEST_CLOCK_FILE: clock.file, CITIZEN_QUIET_HOURS: "22:00-07:00", SCHEDULER_LEASE_MS: "1000", CHANNELS: "web" };
  const start = async (name: string) => {
    const p = await spawnTaqib(name, env, { imports: [TEST_CLOCK_MODULE] });
    procs.push(p);
    return p;
  };
  let a = await start("a");
  const b = await start("b");
  await seedDirectory(a.url);
  assert.equal((await api(a.url, "PUT", "/api/v1/holidays/2026-11-29", { name: "إجازة" })).status, 200);

  const numbers = ["7101", "7102", "7103"];
  const at = riyadh("2026-11-27T02:00:00").toISOString();
  const events = numbers.flatMap((n, i) => [
    { id: `qh-${n}-r`, type: "registered", transactionNumber: n, occurredAt: at, data: { citizen: { name: "مواطن", mobile: `05500000${10 + i}` }, departmentCode: "LEGAL" } },
    { id: `qh-${n}-a`, type: "assigned", transactionNumber: n, occurredAt: at, data: { employeeId: "E100" } },
  ]);
  assert.equal((await api(a.url, "POST", "/api/v1/events", events)).status, 202);
  const queued = async () => (await Promise.all(numbers.map(async (n) => (await api(a.url, "GET", `/api/v1/messages?transactionNumber=${n}`)).body.messages as any[]))).flat();
  await eventually(async () => (await queued()).length === 6, 15000, "six messages queued");
  await new Promise((r) => setTimeout(r, 1000)); // a short look that nothing leaves at night
  assert.equal(smsc.received.length, 0, "nothing is sent at 02:00");

  const employee = "966559990002";
  const citizens = () => smsc.received.filter((m) => m.to !== employee);
  const staff = () => smsc.received.filter((m) => m.to === employee);
  // 07:00: the citizens' quiet window is over; the office is closed (Friday).
  clock.set(riyadh("2026-11-27T07:00:01"));
  await eventually(async () => citizens().length === 3, 20000, "the citizens' SMS at 07:00");
  assert.equal(staff().length, 0);

  // A restart: node a goes, b takes over the queue; Sunday is a holiday, Monday 07:29 still early.
  await a.terminate();
  clock.set(riyadh("2026-11-29T10:00:00"));
  clock.set(riyadh("2026-11-30T07:29:00"));
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(staff().length, 0, "nothing to staff on the holiday or before 07:30");
  a = await start("a2");
  clock.set(riyadh("2026-11-30T07:30:01"));
  await eventually(async () => staff().length >= 3, 20000, "the employee's SMS at 07:30 on Monday");
  await new Promise((r) => setTimeout(r, 1500)); // time for a second send, if there were one

  const expected = 6;
  const ids = smsc.received.map((m) => `${m.to}|${m.text}`);
  const sent = new Set(ids).size;
  const duplicated = ids.length - sent;
  const lost = expected - sent;
  console.log(`# quiet hours: SMS expected ${expected}, sent ${sent}, duplicated ${duplicated}, lost ${lost}; nodes a, b, a restarted`);
  assert.equal(duplicated, 0);
  assert.equal(lost, 0);
  // Deferred to the same morning, the employee's three go in the order they were queued.
  assert.deepEqual(staff().map((m) => numbers.find((n) => m.text.includes(n))), numbers);
  void b;
});

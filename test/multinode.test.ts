// Several Taqib processes on one NATS: the same services spread over nodes, work shared by
// the workers, and a worker killed with SIGKILL under load losing and doubling nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { api, seedDirectory, eventually } from "./support/harness.ts";
import { natsCluster } from "./support/processes.ts";

const cluster = natsCluster();

const mobile = (i: number) => `05${String(60000000 + i).padStart(8, "0")}`;
const registered = (i: number, prefix: string) => ({
  id: `${prefix}-${i}`,
  type: "registered",
  transactionNumber: `${prefix === "mn" ? 7 : 8}${String(i).padStart(6, "0")}`,
  occurredAt: new Date(Date.UTC(2026, 10, 1, 8, 0, i)).toISOString(),
  data: { citizen: { name: "مواطن", mobile: mobile(i) } },
});

test("three processes over NATS: gateway, SMPP and two workers; a SIGKILLed worker loses and doubles nothing", async () => {
  const { smsc } = cluster;
  const common = {
    SWEEP_INTERVAL_MS: "500",
    STALE_SENDING_MS: "4000",
    JOB_LOCK_LIFETIME_MS: "4000",
    CHANNELS: "web",
  };
  const gateway = await cluster.spawn("gateway", { ...common, SERVICES: "api,events,directory,smpp" });
  const [w1, w2] = await Promise.all([
    cluster.spawn("worker-1", { ...common, SERVICES: "notifier,followup" }),
    cluster.spawn("worker-2", { ...common, SERVICES: "notifier,followup" }),
  ]);
  await seedDirectory(gateway.url);

  // A steady load: 150 registrations in batches, one SMS each to its own mobile.
  const total = 150;
  let posted = 0;
  const poster = (async () => {
    for (let i = 0; i < total; i += 10) {
      const batch = Array.from({ length: Math.min(10, total - i) }, (_, k) => registered(i + k, "mn"));
      const r = await api(gateway.url, "POST", "/api/v1/events", batch);
      assert.equal(r.status, 202, r.text);
      posted += batch.length;
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  // Kill a worker in the middle of sending.
  await eventually(async () => smsc.received.length >= 20, 30000, "sending under way");
  await w2.kill();
  await poster;
  assert.equal(posted, total);

  const counts = await eventually(async () => {
    const byTo = new Map<string, number>();
    for (const m of smsc.received) byTo.set(m.to, (byTo.get(m.to) ?? 0) + 1);
    const mine = [...Array(total).keys()].map((i) => byTo.get(`9665${String(60000000 + i).padStart(8, "0")}`) ?? 0);
    return mine.every((c) => c >= 1) && mine;
  }, 90000, "every SMS at the SMSC");
  const duplicated = counts.filter((c) => c > 1).length;
  const lost = counts.filter((c) => c === 0).length;
  console.log(`# multinode: events ${total}, SMS expected ${total}, sent ${counts.filter((c) => c > 0).length}, duplicated ${duplicated}, lost ${lost}`);
  assert.equal(lost, 0);
  assert.equal(duplicated, 0);
  // And the log agrees: every message delivered.
  await eventually(async () => {
    const r = await api(gateway.url, "GET", "/api/v1/messages?status=delivered&limit=1000");
    return r.body.messages.length >= total;
  }, 60000, "all delivered in the log");
});

test("a directory change on one node reaches the others' caches: the next SMS goes to the employee's new mobile", async () => {
  const { smsc } = cluster;
  const common = { CHANNELS: "web", SWEEP_INTERVAL_MS: "500" };
  const gateway = await cluster.spawn("dir-gateway", { ...common, SERVICES: "api,events,directory,smpp" });
  await cluster.spawn("dir-worker", { ...common, SERVICES: "notifier" });
  await seedDirectory(gateway.url);
  const assigned = (n: string) => [
    { id: `dir-${n}-r`, type: "registered", transactionNumber: n, occurredAt: "2026-11-01T08:00:00Z", data: { citizen: { name: "مواطن", mobile: "0561234500" } } },
    { id: `dir-${n}-a`, type: "assigned", transactionNumber: n, occurredAt: "2026-11-01T09:00:00Z", data: { employeeId: "E100" } },
  ];
  // The worker renders the first assignment with E100 as seeded, and keeps E100 in its cache.
  assert.equal((await api(gateway.url, "POST", "/api/v1/events", assigned("9900001"))).status, 202);
  await eventually(async () => smsc.received.some((m) => m.to === "966559990002"), 30_000, "the SMS to the seeded mobile");
  // The gateway changes E100's mobile; the worker hears it over NATS.
  assert.equal((await api(gateway.url, "PUT", "/api/v1/employees/E100", { name: "خالد العتيبي", mobile: "0559990099", departmentCode: "LEGAL" })).status, 200);
  assert.equal((await api(gateway.url, "POST", "/api/v1/events", assigned("9900002"))).status, 202);
  await eventually(async () => smsc.received.some((m) => m.to === "966559990099"), 30_000, "the SMS to the new mobile");
  assert.equal(smsc.received.filter((m) => m.to === "966559990002").length, 1, "the old mobile got the first SMS only");
});

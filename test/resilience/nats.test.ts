// NATS restarted under load in multi-node mode: the gateway, the events and SMPP node and a
// worker are separate processes talking over NATS. While NATS is down the gateway cannot
// reach the events service: posts are refused with a 503 and re-posted; the worker cannot
// reach the SMPP node: sends wait and are retried. NATS comes back on the same port; every
// accepted event's SMS is sent once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { startNats, seedDirectory, eventually, http } from "../support/harness.ts";
import { natsCluster } from "../support/processes.ts";
import { timing, allDelivered, fmt, postAll, report, settle, sleep, type Load } from "./support.ts";

const cluster = natsCluster();

test("NATS restarted under load (multi-node): refused while down and re-posted, every accepted SMS sent once", async () => {
  const { db, nats, smsc } = cluster;
  const common = {
    SMPP_RATE: "300",
    SWEEP_INTERVAL_MS: "500",
    STALE_SENDING_MS: "5000",
    SCHEDULER_LEASE_MS: "2000",
    CHANNELS: "web",
  };
  await Promise.all([
    cluster.spawn("backend", { ...common, SERVICES: "events,smpp" }),
    cluster.spawn("worker", { ...common, SERVICES: "notifier" }),
  ]);
  const gateway = await cluster.spawn("gateway", { ...common, SERVICES: "api,directory" });
  await seedDirectory(gateway.url);

  const load: Load = { name: "nats", base: 41, total: 100, lang: "en" };
  const mine = () => smsc.received.filter((m) => m.to.startsWith("966541")).length;
  const poster = postAll(() => gateway.url, load, { batch: 5, pauseMs: 100, retryMs: 500, deadlineMs: 240_000 });
  await eventually(async () => mine() >= 30, 90_000, "sending under way");
  nats.kill();
  const sentAtKill = mine();
  await sleep(4000);
  const sentWhileDown = mine() - sentAtKill;
  const restarted = await startNats({ port: nats.port });
  Object.assign(nats, restarted);
  const posted = await poster;
  const c = await settle(smsc.received, load, 180_000);
  const log = await allDelivered(db.url, load);
  report(
    "NATS SIGKILLed and restarted under load (3 processes)",
    c,
    `down ~4 s after ${sentAtKill} sent, ${sentWhileDown} sent meanwhile from what was in flight; ${posted.refused} batch posts refused while down (${fmt(posted.refusals)}) and re-posted; log: ${fmt(log)}; ${timing(posted, c)}`,
  );
  assert.ok(posted.refused > 0, "posts were refused while NATS was down");
  assert.deepEqual([...posted.refusals.keys()].filter((k) => /^\d+$/.test(k) && k !== "503"), [], "refused with 503 only");
  assert.equal(c.lost, 0);
  assert.equal(c.duplicated, 0);
  assert.equal(log.get("delivered"), load.total);
  assert.equal((await http(gateway.url, "GET", "/health/live")).status, 200);
});

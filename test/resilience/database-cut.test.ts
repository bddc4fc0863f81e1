// The database lost at exact points of a send (through a proxy that cuts every connection
// when a given request goes by): a failed read decides nothing, the message stays queued and
// is sent once when the database is back; it is never marked failed for the database's sake.
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode, eventually, api, http } from "../support/harness.ts";
import { startDbProxy } from "../support/db-proxy.ts";
import { MessageModel, SmsQueueModel } from "../../core/sms/models.ts";
import { MONITOR_SILENCE_MS } from "../../core/store/db.ts";
import { registration, sleep, type Load } from "./support.ts";

let proxy: Awaited<ReturnType<typeof startDbProxy>>;
const world = smsNode({
  smsc: { dlrDelayMs: 20 },
  env: { SERVICES: "api,events,directory,notifier,smpp" },
  mongoUrl: async (dbUrl) => (proxy = await startDbProxy(dbUrl)).url,
  teardown: async () => proxy?.close(),
});

const send = (messageId: string) =>
  world.node.broker.call<{ outcomes: string[] }, { messageIds: string[] }>("notifier.sendNow", { messageIds: [messageId] }, { timeout: 120_000 }).then(
    (r) => r.outcomes.join(",") || "nothing",
    (err: Error) => `error ${err.name}`,
  );

test("the database lost while a message's data is read: the message stays queued and is sent once later", async () => {
  const { smsc, node } = world;
  const citizen: Load = { name: "dbcut", base: 22, total: 1, lang: "en" };
  const event = registration(citizen, 0);
  assert.equal((await api(node.url, "POST", "/api/v1/events", event)).status, 202);
  await eventually(async () => smsc.received.some((m) => m.to === "966522000000"), 60_000, "the registration SMS");

  // A second message of the transaction that only this test hands out (the dispatcher would
  // take it in 2100), to a number of its own.
  const id = "dbcut:registered:copy";
  const now = new Date();
  await MessageModel.create({
    _id: id, transactionNumber: event.transactionNumber, template: "registered", role: "citizen", to: "+966523000000", vars: {},
    status: "queued", nextAttemptAt: new Date("2100-01-01"), statusHistory: [{ status: "queued", at: now }], attempts: 0, createdAt: now, updatedAt: now,
  });
  await SmsQueueModel.create({ _id: id, dueAt: new Date("2100-01-01"), attempts: 0, queuedAt: now });

  // The database goes away exactly when the send reads the transaction (after the message).
  const cut = proxy.cutOn("transactions", event.transactionNumber);
  const first = send(id);
  await cut;
  // Well past the driver's wait for a server (10 s), after which its one retry of a read fails.
  await sleep(15_000);
  proxy.restore();
  const outcome = await first;
  await eventually(async () => (await http(node.url, "GET", "/health/ready")).status === 200, 60_000, "ready again");
  const left = await MessageModel.findById(id).lean();
  console.log(`# database lost during a message's read: send answered "${outcome}", the message is ${left?.status} (attempts ${left?.attempts}, error ${left?.error?.code ?? "none"})`);
  assert.match(outcome, /^error /, "the send fails as a whole");
  assert.equal(left?.status, "queued");
  assert.equal(left?.attempts, 0);

  assert.equal(await send(id), "submitted");
  await eventually(async () => (await MessageModel.findById(id).lean())?.status === "delivered", 30_000, "delivered");
  assert.equal(smsc.received.filter((m) => m.to === "966523000000").length, 1);
});

test("a driver monitor whose check never ends (seen after such cuts) is restarted: the database is usable again", async () => {
  const { node } = world;
  // The wedge as it was seen: the monitor "monitoring", its check never ending. Induced here,
  // because the cut that causes it wins its race only about one time in five.
  const mongoose = (await import("mongoose")).default;
  const servers: Map<string, any> = (mongoose.connection.getClient() as any).topology.s.servers;
  for (const server of servers.values()) {
    await eventually(async () => server.monitor.connection && !server.monitor.connection.closed, 10_000, "a monitoring connection");
    server.monitor.connection.command = () => new Promise(() => undefined);
  }
  await sleep(2500); // the monitor's next check starts, and never ends
  await proxy.cutOn("find"); // the apply sweep looks at the outbox every SWEEP_INTERVAL_MS (500 ms here)
  await sleep(2000);
  proxy.restore();
  const restoredAt = Date.now();
  await eventually(async () => (await http(node.url, "GET", "/health/ready")).status === 200, 60_000, "ready again");
  const backMs = Date.now() - restoredAt;
  console.log(`# driver monitor wedged, database cut for 2 s: usable again ${backMs} ms after it came back`);
  // Within the watchdog's silence limit and a few heartbeats (a slow machine's margin included), not never.
  assert.ok(backMs < MONITOR_SILENCE_MS + 20_000, `back in ${backMs} ms`);
});

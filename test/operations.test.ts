// Operator tools: metrics, the job dashboard, and a graceful stop in the middle of a burst.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { testDatabase, testSmsc, testNode, api, http, seedDirectory, sampleLifecycle, eventually, API_KEY, freePort } from "./support/harness.ts";
import { spawnTaqib } from "./support/processes.ts";

let db: Awaited<ReturnType<typeof testDatabase>>;
let smsc: Awaited<ReturnType<typeof testSmsc>>;

before(async () => {
  db = await testDatabase();
  smsc = await testSmsc();
});
after(async () => {
  await smsc?.stop();
  await db?.remove();
});

test("GET /metrics shows ingest, SMS, queue, SMPP, overdue and inquiry figures; Agendash needs a key with jobs:admin", async () => {
  const dashPort = await freePort();
  const metricsOnly = "metrics-only-key-0123456789";
  const node = await testNode(db.url, { SMPP_URL: smsc.url, AGENDASH_PORT: String(dashPort), API_KEYS: `${API_KEY},${metricsOnly}=metrics:read` });
  try {
    await seedDirectory(node.url);
    await api(node.url, "POST", "/api/v1/events", sampleLifecycle("61000").slice(0, 4));
    await eventually(async () => (await api(node.url, "GET", "/api/v1/messages?transactionNumber=61000&status=delivered")).body.messages.length === 3, 20000);
    await http(node.url, "GET", "/api/v1/inquiry?number=61000");
    await http(node.url, "GET", "/health/ready");
    const m = await api(node.url, "GET", "/metrics");
    assert.equal(m.status, 200);
    assert.match(m.headers.get("content-type") ?? "", /text\/plain/);
    const value = (re: RegExp) => Number(m.text.split("\n").find((l) => re.test(l))?.split(" ").pop());
    assert.equal(value(/^taqib_events_ingested\{.*type="registered".*outcome="accepted"/), 1);
    assert.equal(value(/^taqib_sms_finished\{.*status="delivered"/), 3);
    assert.equal(value(/^taqib_sms_queue_depth\{/), 0);
    assert.equal(value(/^taqib_sms_queue_oldest_age_seconds\{/), 0);
    assert.equal(value(/^taqib_sms_submitted\{.*encoding="UCS2"/), 3);
    assert.ok(value(/^taqib_sms_receipts\{.*status="delivered"/) >= 3);
    // Each settled message once, whichever path settled it (a receipt, the record, the sweep).
    assert.equal(value(/^taqib_sms_receipt_latency_seconds_bucket\{.*le="\+Inf"/), 3);
    assert.equal(value(/^taqib_smpp_link_up\{/), 1);
    assert.equal(value(/^taqib_followup_pending\{/), 1);
    assert.equal(value(/^taqib_followup_overdue\{/), 0);
    assert.equal(value(/^taqib_inquiries\{.*channel="web"/), 1);
    const mobile = m.text.match(/(?<![\d.])(?:\+?9665\d{8}|05\d{8})(?![\d.])/);
    assert.equal(mobile, null, `no mobile number in metrics: ${mobile?.index !== undefined ? m.text.slice(mobile.index - 80, mobile.index + 20) : ""}`);

    const dash = `http://127.0.0.1:${dashPort}`;
    assert.equal((await fetch(`${dash}/api`)).status, 401);
    const basic = Buffer.from(`staff:${API_KEY}`).toString("base64");
    const ok = await fetch(`${dash}/api`, { headers: { authorization: `Basic ${basic}` } });
    assert.equal(ok.status, 200);
    await ok.text();
    // A key without jobs:admin is known but refused, the scope named.
    const other = await fetch(`${dash}/api`, { headers: { authorization: `Bearer ${metricsOnly}` } });
    assert.equal(other.status, 403);
    assert.match(((await other.json()) as { error: { message: string } }).error.message, /jobs:admin/);
  } finally {
    await node.stop();
  }
});

test("SIGTERM during a burst leaves every message final or queued, and a restart sends the rest once", async () => {
  const common = { MONGO_URL: db.url, SMPP_URL: smsc.url, SMPP_RATE: "20", SERVICES: "api,events,directory,notifier,smpp", CHANNELS: "web" };
  let node = await spawnTaqib("burst-1", common);
  await seedDirectory(node.url);
  const total = 80;
  const before = smsc.received.length;
  const events = Array.from({ length: total }, (_, i) => ({
    id: `burst-${i}`,
    type: "registered",
    transactionNumber: `62${String(i).padStart(4, "0")}`,
    occurredAt: "2026-11-01T08:00:00Z",
    data: { citizen: { name: "مواطن", mobile: `057${String(1000000 + i)}` } },
  }));
  assert.equal((await api(node.url, "POST", "/api/v1/events", events)).status, 202);
  await eventually(async () => smsc.received.length - before >= 10, 30000, "sending under way");
  const code = await node.terminate();
  assert.equal(code, 0, node.output.slice(-20).join("\n"));

  const client = await MongoClient.connect(db.url);
  try {
    const states = await client.db().collection("messages").aggregate([{ $match: { _id: { $regex: "^burst-" } } }, { $group: { _id: "$status", n: { $sum: 1 } } }]).toArray();
    const byStatus = Object.fromEntries(states.map((s) => [s._id, s.n]));
    console.log(`# SIGTERM during a burst: ${JSON.stringify(byStatus)}`);
    assert.equal(byStatus.sending ?? 0, 0, "nothing half-sent without a record");
    const known = Object.values(byStatus).reduce((a: number, b) => a + (b as number), 0);
    assert.ok(known <= total);

    node = await spawnTaqib("burst-2", common);
    const counts = await eventually(async () => {
      const byTo = new Map<string, number>();
      for (const m of smsc.received.slice(before)) byTo.set(m.to, (byTo.get(m.to) ?? 0) + 1);
      const mine = events.map((e) => byTo.get(`9665${(e.data.citizen.mobile as string).slice(2)}`) ?? 0);
      return mine.every((c) => c >= 1) && mine;
    }, 60000, "every SMS after the restart");
    const duplicated = counts.filter((c) => c > 1).length;
    console.log(`# SIGTERM and restart: events accepted ${total}, SMS expected ${total}, sent ${counts.filter((c) => c > 0).length}, duplicated ${duplicated}, lost 0`);
    assert.equal(duplicated, 0);
  } finally {
    await client.close();
    await node.kill();
  }
});

// A channel on a node of its own: the gateway forwards the kiosk's and the web's routes over
// NATS to the node at the gate that runs their services; when that node is gone the
// gateway answers 503, and when it is back the channel works again.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { testDatabase, startNats, api, http, sampleLifecycle, seedDirectory, eventually } from "./support/harness.ts";
import { spawnTaqib, type TaqibProcess } from "./support/processes.ts";

const NUMBER = "1445000601";

let db: Awaited<ReturnType<typeof testDatabase>>;
let nats: Awaited<ReturnType<typeof startNats>>;
const nodes: TaqibProcess[] = [];

before(async () => {
  db = await testDatabase();
  nats = await startNats();
});
after(async () => {
  await Promise.all(nodes.map((n) => n.kill()));
  await nats?.stop();
  await db?.remove();
});

test("the gateway forwards to the channel node; 503 while it is down; back when it returns", async () => {
  const common = { MONGO_URL: db.url, TRANSPORTER: nats.url, CHANNELS: "web,kiosk" };
  const gateway = await spawnTaqib("gateway", { ...common, SERVICES: "api,events,directory" });
  nodes.push(gateway);
  await seedDirectory(gateway.url);
  await api(gateway.url, "POST", "/api/v1/events", sampleLifecycle(NUMBER).slice(0, 3));
  await eventually(async () => (await api(gateway.url, "GET", `/api/v1/transactions/${NUMBER}`)).body.status === "assigned", 15000, "the transaction");

  // No channel service anywhere yet: the routes exist, the channel is unavailable.
  const down = await http(gateway.url, "GET", `/kiosk/answer?kiosk=gate-1&number=${NUMBER}`);
  assert.equal(down.status, 503);
  assert.equal(down.body.error.code, "SERVICE_UNAVAILABLE");
  assert.ok(down.body.error.messageAr);

  const gate = await spawnTaqib("gate", { ...common, SERVICES: "channels", LOG_LEVEL: "info" });
  nodes.push(gate);
  const up = await eventually(async () => {
    const r = await http(gateway.url, "GET", `/kiosk/answer?kiosk=gate-1&number=${NUMBER}`);
    return r.status === 200 && r;
  }, 20000, "the kiosk through the gateway");
  assert.equal(up.body.stage, "under-study");
  assert.match(up.body.html, /قيد الدراسة/);
  const page = await http(gateway.url, "GET", `/?number=${NUMBER}`);
  assert.equal(page.status, 200);
  assert.match(page.text, /data-stage="under-study"/);
  assert.ok(gate.output.some((l) => l.includes("channel kiosk up")), "the kiosk service runs on the gate node");

  await gate.kill();
  await eventually(async () => (await http(gateway.url, "GET", `/kiosk/answer?kiosk=gate-1&number=${NUMBER}`)).status === 503, 20000, "503 once the gate node is gone");

  const again = await spawnTaqib("gate-2", { ...common, SERVICES: "channels" });
  nodes.push(again);
  await eventually(async () => (await http(gateway.url, "GET", `/kiosk/answer?kiosk=gate-1&number=${NUMBER}`)).status === 200, 20000, "the kiosk back");
});

// The database server killed (SIGKILL) and restarted on the same port and data under load:
// events posted while it is down are refused with a 5xx (not accepted) and re-posted by the
// client; every accepted event's SMS is sent once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode, eventually, http } from "../support/harness.ts";
import { startFerretDB } from "../../core/platform/servers.ts";
import { timing, allDelivered, fmt, postAll, report, settle, sleep, type Load } from "./support.ts";

const world = smsNode({
  smsc: { dlrDelayMs: 20 },
  env: {
    SERVICES: "api,events,directory,notifier,smpp",
    SMPP_RATE: "300",
    // What a dead database leaves half-done is picked up within seconds, not minutes.
    STALE_SENDING_MS: "5000",
  },
});

test("database server killed and restarted under load: refused while down, every accepted SMS sent once", async () => {
  const { db, smsc, node } = world;
  const load: Load = { name: "dbkill", base: 21, total: 100, lang: "en" };
  const mine = () => smsc.received.filter((m) => m.to.startsWith("966521")).length;
  const poster = postAll(() => node.url, load, { batch: 5, pauseMs: 100, retryMs: 500, deadlineMs: 240_000 });
  await eventually(async () => mine() >= 25, 90_000, "sending under way");
  db.kill();
  const killedAt = Date.now();
  const sentAtKill = mine();
  await sleep(500);
  const ready = await http(node.url, "GET", "/health/ready");
  // Longer than the driver holds a request for a lost server (10 s): some posts are refused.
  await sleep(12_000);
  const restarted = await startFerretDB({ dataDir: db.dir, port: db.port });
  Object.assign(db, restarted);
  const downMs = Date.now() - killedAt;
  await eventually(async () => (await http(node.url, "GET", "/health/ready")).status === 200, 60_000, "ready again");
  const posted = await poster;
  const c = await settle(smsc.received, load, 180_000);
  const log = await allDelivered(db.url, load);
  report(
    "database SIGKILLed and restarted under load",
    c,
    `down ${downMs} ms after ${sentAtKill} sent; ${posted.refused} batch posts refused while down (${fmt(posted.refusals)}) and re-posted; ready answered ${ready.status} while down; log: ${fmt(log)}; ${timing(posted, c)}`,
  );
  assert.equal(ready.status, 503);
  assert.ok(posted.refused > 0, "posts were refused while the database was down");
  // Refused as "try again" (503 with Retry-After), or not answered at all: never a 4xx, never a bare 500.
  assert.deepEqual([...posted.refusals.keys()].filter((k) => /^\d+$/.test(k) && k !== "503"), []);
  assert.equal(c.lost, 0);
  assert.equal(c.duplicated, 0);
  assert.equal(log.get("delivered"), load.total);
});

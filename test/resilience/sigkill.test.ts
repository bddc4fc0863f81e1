// Taqib killed with SIGKILL in the middle of sending, then started again: one process (the
// gateway, the workers and the SMPP bind together) against FerretDB and the SMSC simulator
// in this test process. Nothing is lost; what is sent twice is bounded by the messages that
// were in flight (claimed, not recorded as submitted) at the moment of the kill.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { canonicalPartId } from "../../core/sms/receipts.ts";
import { testDatabase, testSmsc, seedDirectory, eventually, freePort } from "../support/harness.ts";
import { spawnTaqib, type TaqibProcess } from "../support/processes.ts";
import { timing, allDelivered, fmt, postAll, registration, report, settle, smscAddressOf, sleep, type Load } from "./support.ts";

let db: Awaited<ReturnType<typeof testDatabase>>;
let smsc: Awaited<ReturnType<typeof testSmsc>>;
let mongo: MongoClient;
let taqib: TaqibProcess | undefined;
let env: Record<string, string>;
/** The simulator's account of binds and receipts, printed when a message is left unsettled. */
const smscLog: string[] = [];

/** The dispatcher's window: the largest of SMPP_WINDOW x SMPP_BINDS x 2, SMPP_RATE and one share (defaults 10, 1, 50, 50). */
const DISPATCH_WINDOW = 50;

before(async () => {
  db = await testDatabase();
  smsc = await testSmsc({ dlrDelayMs: 20, log: (l) => smscLog.push(`${new Date().toISOString()} ${l}`) });
  smsc.on("receipt", (r) => smscLog.push(`${new Date().toISOString()} receipt ${r.messageId} acknowledged on session ${r.session}`));
  mongo = await MongoClient.connect(db.url);
  env = {
    PORT: String(await freePort()),
    MONGO_URL: db.url,
    SMPP_URL: smsc.url,
    SERVICES: "api,events,directory,notifier,smpp",
    SMPP_RATE: "300",
    SWEEP_INTERVAL_MS: "500",
    // What the killed process left "sending" is handed out again after 4 s, and its
    // dispatcher lease passes to the new process within 2 slots of 2 s.
    STALE_SENDING_MS: "4000",
    SCHEDULER_LEASE_MS: "2000",
  };
  taqib = await spawnTaqib("taqib-1", env);
  await seedDirectory(taqib.url);
});
after(async () => {
  await taqib?.kill();
  await mongo?.close();
  await smsc?.stop();
  await db?.remove();
});

test("Taqib SIGKILLed mid-send and restarted: nothing lost, duplicates only among the messages in flight at the kill", async () => {
  const load: Load = { name: "kill", base: 31, total: 100 };
  const mine = () => smsc.received.filter((m) => m.to.startsWith("966531")).length;
  const url = () => taqib!.url;
  const poster = postAll(url, load, { batch: 10, pauseMs: 50, retryMs: 300, deadlineMs: 240_000 });
  await eventually(async () => mine() >= 40, 90_000, "sending under way");
  await taqib!.kill();
  smscLog.push(`${new Date().toISOString()} --- taqib-1 killed`);
  const sentAtKill = mine();
  // The log as the dead process left it: what it had claimed (an attempt's claim) and not seen recorded.
  const claimed = new Set(
    (await mongo.db().collection("claims").find({ _id: { $regex: "^send:kill-" } } as any, { projection: { _id: 1 } }).toArray()).map((c) => String(c._id).replace(/^send:/, "").replace(/:\d+$/, "")),
  );
  const unrecorded = await mongo.db().collection("messages").find({ eventId: { $regex: "^kill-" }, status: "queued" }, { projection: { transactionNumber: 1 } }).toArray();
  const inFlight = unrecorded.filter((m) => claimed.has(String(m._id)));
  const mobiles = await mongo.db().collection("transactions").find({ _id: { $in: inFlight.map((m) => m.transactionNumber) } } as any, { projection: { "citizen.mobile": 1 } }).toArray();
  const inFlightTo = new Set(mobiles.map((t) => String(t.citizen.mobile).replace(/^\+/, "")));
  await sleep(1000);
  taqib = await spawnTaqib("taqib-2", env);
  smscLog.push(`${new Date().toISOString()} --- taqib-2 up`);
  const posted = await poster;
  const c = await settle(smsc.received, load, 180_000);
  const log = await allDelivered(db.url, load);
  report(
    "Taqib SIGKILLed mid-send and restarted",
    c,
    `killed after ${sentAtKill} sent with ${inFlight.length} messages in flight; ${posted.refused} batch posts refused while down (${fmt(posted.refusals)}) and re-posted; log: ${fmt(log)}; ${timing(posted, c)}`,
  );
  assert.equal(c.lost, 0);
  // The documented bound: a message is sent twice only when it was in flight at the kill
  // (submitted, its record not written yet), and never more than the dispatcher's window.
  assert.deepEqual(c.duplicatedTo.filter((to) => !inFlightTo.has(to)), [], "a duplicate that was not in flight at the kill");
  assert.ok(inFlight.length <= DISPATCH_WINDOW, `in flight ${inFlight.length} within the window ${DISPATCH_WINDOW}`);
  if (log.get("delivered") !== load.total) {
    const stuck = await mongo.db().collection("messages").find({ eventId: { $regex: "^kill-" }, status: { $ne: "delivered" } }).toArray();
    for (const m of stuck) {
      const keys = ((m.partIds ?? []) as string[]).map(canonicalPartId);
      const parts = await mongo.db().collection("sms_parts").find({ _id: { $in: keys } as any }).toArray();
      const receipts = await mongo.db().collection("receipts").find({ _id: { $in: keys } as any }).toArray();
      console.log(JSON.stringify({ id: m._id, status: m.status, history: m.statusHistory, partIds: m.partIds, parts, receipts }));
      const atSmsc = smsc.received.filter((r) => r.to === String(m.to).replace(/^\+/, "")).map((r) => r.messageIds);
      console.log("at the SMSC:", JSON.stringify(atSmsc));
      for (const l of smscLog) if (/---|bound|closed|refused/.test(l) || (m.partIds as string[]).some((id) => l.includes(id))) console.log(l);
    }
  }
  assert.equal(log.get("delivered"), load.total);
});

test("a send claimed by a process killed before it recorded the claim is sent once, after the stale period", async () => {
  const load: Load = { name: "orphan", base: 32, total: 1, lang: "en" };
  const event = registration(load, 0);
  // What a process killed between claiming attempt 1 and writing "sending" leaves behind.
  await mongo.db().collection<{ _id: string }>("claims").insertOne({ _id: `send:${event.id}:registered:citizen:1`, at: new Date(Date.now() - 60_000), by: "dead" } as any);
  const t0 = Date.now();
  const posted = await postAll(() => taqib!.url, load);
  const got = await eventually(async () => smsc.received.find((m) => m.to === smscAddressOf(load, 0)), 60_000, "the orphaned message sent");
  const c = await settle(smsc.received, load, 5000);
  report("send claimed by a killed process, never recorded", c, `sent ${got.receivedAt.getTime() - t0} ms after the post, past the orphaned claim; ${posted.refused} refused`);
  assert.equal(c.lost, 0);
  assert.equal(c.duplicated, 0);
});

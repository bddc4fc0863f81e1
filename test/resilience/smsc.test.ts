// The SMSC misbehaving under load: the link cut mid-stream, submits refused with
// ESME_RTHROTTLED then ESME_RMSGQFUL, submits never answered. Each ends with every accepted
// event's SMS at the SMSC once. A real node (FerretDB, SMPP over TCP to the simulator).
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode, eventually } from "../support/harness.ts";
import type { ReceivedPart } from "../../dev/smsc/simulator.ts";
import { timing, allDelivered, retriedFor, fmt, postAll, report, settle, sleep, type Load } from "./support.ts";

/** Submits in flight on the bind (SMPP_WINDOW x SMPP_BINDS, the defaults). */
const WINDOW = 10;

const world = smsNode({
  // Parts of a message cut by the link are reported after 3 s (not the default minute).
  smsc: { dlrDelayMs: 20, reassemblyTimeoutMs: 3000 },
  env: {
    SERVICES: "api,events,directory,notifier,smpp",
    SMPP_RATE: "300",
    // A submit the SMSC never answers is given up after 5 s (then retried with backoff).
    SMPP_RESPONSE_TIMEOUT_MS: "5000",
  },
});

test("SMSC link dropped and restored mid-stream: every SMS sent once", async () => {
  const { db, smsc, node } = world;
  const load: Load = { name: "drop", base: 11, total: 100 };
  const mine = () => smsc.received.filter((m) => m.to.startsWith("966511")).length;
  const bindsBefore = smsc.stats.binds;
  let drops = 0;
  const poster = postAll(() => node.url, load, { batch: 10, pauseMs: 50 });
  // Cut every connection three times while messages stream, each time just after the SMSC
  // took the first part of a concatenated message (the worst moment: the rest is cut off).
  let cutParts = 0;
  for (const at of [15, 40, 70]) {
    await eventually(async () => mine() >= at, 90_000, `${at} SMS at the SMSC`);
    await new Promise<void>((resolve) => {
      const onPart = (p: ReceivedPart) => {
        if (!p.udh || p.udh.seq !== 1 || p.udh.total < 2) return;
        smsc.off("part", onPart);
        smsc.dropConnections();
        cutParts++;
        resolve();
      };
      smsc.on("part", onPart);
    });
    drops++;
  }
  const posted = await poster;
  const c = await settle(smsc.received, load, 120_000);
  const log = await allDelivered(db.url, load);
  // The messages the cuts caught in flight: submitted, the SMSC's answer lost with the link.
  const caught = await retriedFor(db.url, load, "LINK_DOWN");
  report(
    "smsc link dropped x3 mid-stream",
    c,
    `each cut just after the SMSC took part 1 of a message; ${caught.size} messages in flight at the cuts retried, binds ${smsc.stats.binds - bindsBefore} after ${drops} cuts, partial fragments ${c.fragments}, 5xx ${posted.refused}, log: ${fmt(log)}; ${timing(posted, c)}`,
  );
  assert.ok(smsc.stats.binds - bindsBefore >= drops, "the client bound again after each cut");
  assert.equal(c.lost, 0);
  // At-least-once at a cut: a submit the SMSC took whose answer the cut lost is sent again.
  // Only those: every duplicate is a message caught in flight, at most one window per cut.
  assert.deepEqual(c.duplicatedTo.filter((to) => !caught.has(to)), [], "a duplicate not caught in flight by a cut");
  assert.ok(c.duplicated <= drops * WINDOW, `duplicates ${c.duplicated} within ${drops} x the window of ${WINDOW}`);
  assert.equal(log.get("delivered"), load.total);
});

test("SMSC answering ESME_RTHROTTLED, then ESME_RMSGQFUL, then recovering: every SMS sent once", async () => {
  const { db, smsc, node } = world;
  const load: Load = { name: "throttle", base: 12, total: 100, lang: "en" };
  const mine = () => smsc.received.filter((m) => m.to.startsWith("966512")).length;
  const before = smsc.stats;
  const poster = postAll(() => node.url, load, { batch: 10, pauseMs: 50 });
  await eventually(async () => mine() >= 20, 60_000, "sending under way");
  // Each phase lasts at least 4 s and until the SMSC refused at least 5 submits.
  smsc.setBehaviour({ throttleAll: true });
  await sleep(4000);
  await eventually(async () => smsc.stats.throttled - before.throttled >= 5, 60_000, "5 submits throttled");
  const throttled = smsc.stats.throttled - before.throttled;
  const seenThrottled = smsc.stats.submitSmSeen;
  smsc.setBehaviour({ throttleAll: false, queueFull: true });
  await sleep(4000);
  await eventually(async () => smsc.stats.submitSmSeen - seenThrottled >= 5, 60_000, "5 submits refused queue-full");
  const refusedQueueFull = smsc.stats.submitSmSeen - seenThrottled;
  const during = mine();
  smsc.setBehaviour({ queueFull: false });
  const posted = await poster;
  const c = await settle(smsc.received, load, 120_000);
  const log = await allDelivered(db.url, load);
  report(
    "smsc ESME_RTHROTTLED then ESME_RMSGQFUL",
    c,
    `${throttled} submit_sm throttled, ${refusedQueueFull} refused queue-full, ${during} sent before recovery, 5xx ${posted.refused}, log: ${fmt(log)}; ${timing(posted, c)}`,
  );
  assert.ok(throttled > 0, "the SMSC did throttle submits");
  assert.ok(refusedQueueFull > 0, "the SMSC did refuse submits with queue full");
  assert.equal(c.lost, 0);
  assert.equal(c.duplicated, 0);
  assert.equal(log.get("delivered"), load.total);
});

test("SMSC never answering a submit for a while, then recovering: every SMS sent once", async () => {
  const { db, smsc, node } = world;
  const load: Load = { name: "silent", base: 13, total: 100, lang: "en" };
  const mine = () => smsc.received.filter((m) => m.to.startsWith("966513")).length;
  const seenBefore = smsc.stats.submitSmSeen;
  const poster = postAll(() => node.url, load, { batch: 10, pauseMs: 50 });
  await eventually(async () => mine() >= 20, 60_000, "sending under way");
  smsc.setBehaviour({ silent: true });
  const silentFrom = smsc.stats.submitSmSeen;
  // Silent for at least 5 s and until at least 5 submits went unanswered.
  await sleep(5000);
  await eventually(async () => smsc.stats.submitSmSeen - silentFrom >= 5, 60_000, "5 submits unanswered");
  const unanswered = smsc.stats.submitSmSeen - silentFrom;
  smsc.setBehaviour({ silent: false });
  const posted = await poster;
  const c = await settle(smsc.received, load, 120_000);
  const log = await allDelivered(db.url, load);
  report("smsc silent to submit_sm", c, `${unanswered} submit_sm unanswered, ${smsc.stats.submitSmSeen - seenBefore} seen in all, 5xx ${posted.refused}, log: ${fmt(log)}; ${timing(posted, c)}`);
  assert.ok(unanswered > 0, "submits went unanswered");
  assert.equal(c.lost, 0);
  assert.equal(c.duplicated, 0);
  assert.equal(log.get("delivered"), load.total);
});

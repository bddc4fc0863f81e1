// A submit that takes longer than the worker waits for it: a small SMSC account (2 SMS a
// second) and a short SMPP response timeout, so the smpp service's queue outlasts the
// worker's call. The SMPP node still sends each message and records it; the worker must
// not take its own time-out for a failure and send the message again.
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode } from "../support/harness.ts";
import { timing, allDelivered, fmt, postAll, report, settle, type Load } from "./support.ts";

const world = smsNode({
  smsc: { dlrDelayMs: 20 },
  env: {
    SERVICES: "api,events,directory,notifier,smpp",
    // 2 submits a second and a 1 s response timeout: the worker waits 3 s for smpp.submit,
    // while a message queued behind the dispatcher's window of 20 waits up to 10 s for its turn.
    SMPP_RATE: "2",
    SMPP_RESPONSE_TIMEOUT_MS: "1000",
  },
});

test("submits slower than the worker's wait (rate-limited SMSC account): every SMS sent once", async () => {
  const { db, smsc, node } = world;
  const load: Load = { name: "slow", base: 14, total: 40, lang: "en" };
  const posted = await postAll(() => node.url, load, { batch: 20 });
  const c = await settle(smsc.received, load, 120_000);
  const log = await allDelivered(db.url, load);
  report("submits outlasting the worker's wait (SMPP_RATE 2/s, 1 s response timeout)", c, `5xx ${posted.refused}, log: ${fmt(log)}; ${timing(posted, c)}`);
  assert.equal(c.lost, 0);
  assert.equal(c.duplicated, 0);
  assert.equal(log.get("delivered"), load.total);
});

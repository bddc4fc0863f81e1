// SmppClient against the SmscSimulator, both over real TCP sockets on 127.0.0.1.
// Every test starts its own simulator on a free port and closes both ends in t.after,
// so no socket or timer outlives its test.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { SmppClient, type MobileOriginatedMessage, type SmppClientOptions, type SmppClientState, type SmppLogger } from "../core/smpp/client.ts";
import { sameMessageId, type DeliveryReceipt } from "../core/smpp/dlr.ts";
import { SmppBindError, SmppSubmitError } from "../core/smpp/status.ts";
import { analyseSms, SmsTooLongError } from "../core/sms/encoding.ts";
import { SmscSimulator, type SmscSimulatorOptions } from "../dev/smsc/simulator.ts";

const DEBUG = process.env.DEBUG_SMPP === "1";
const logger: SmppLogger = DEBUG
  ? { info: (m) => console.log("info", m), warn: (m) => console.log("warn", m), error: (m) => console.log("error", m), debug: (m) => console.log("debug", m) }
  : { info() {}, warn() {}, error() {}, debug() {} };

const ARABIC_300 = (() => {
  let s = "";
  const words = ["معاملتكم", "رقم", "١٢٣٤٥", "صدرت", "بتاريخ", "إلى", "الجهة", "المختصة", "ولا", "داعي", "لمراجعة", "الإمارة"];
  for (let i = 0; s.length < 300; i++) s += words[i % words.length] + " ";
  return s.slice(0, 300);
})();

interface Setup {
  sim: SmscSimulator;
  client: SmppClient;
  port: number;
  states: SmppClientState[];
}

async function setup(
  t: TestContext,
  simOptions: Partial<SmscSimulatorOptions> = {},
  clientOptions: Partial<SmppClientOptions> = {},
  { start = true }: { start?: boolean } = {},
): Promise<Setup> {
  const sim = new SmscSimulator({
    systemId: "taqib",
    password: "secret",
    dlrDelayMs: 20,
    failureShare: 0,
    maxPerSecond: 1000,
    log: DEBUG ? (l) => console.log(l) : undefined,
    ...simOptions,
  });
  const { port } = await sim.start();
  const client = new SmppClient({
    url: `smpp://taqib:secret@127.0.0.1:${port}`,
    ratePerSecond: 500,
    window: 10,
    responseTimeoutMs: 1000,
    enquireLinkMs: 5000,
    reconnectMinMs: 50,
    reconnectMaxMs: 400,
    logger,
    ...clientOptions,
  });
  const states: SmppClientState[] = [];
  client.on("state", (s) => states.push(s));
  t.after(async () => {
    await client.close({ timeoutMs: 500 });
    await sim.stop();
  });
  if (start) await client.start();
  return { sim, client, port, states };
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const isSubmitError = (code: string, retryable: boolean) => (e: unknown) =>
  e instanceof SmppSubmitError && e.code === code && e.retryable === retryable;

test("binds as transceiver", async (t) => {
  const { sim, client, states } = await setup(t);
  assert.equal(client.state, "bound");
  assert.deepEqual(states, ["connecting", "bound"]);
  assert.equal(sim.boundSessions, 1);
  assert.equal(client.counters.binds, 1);
});

test("bad password: start() rejects ESME_RINVPASWD, not retryable; bad system_id: ESME_RINVSYSID", async (t) => {
  const { port, client: good } = await setup(t, {}, {}, { start: false });
  await good.close();
  for (const [url, code] of [
    [`smpp://taqib:wrong@127.0.0.1:${port}`, "ESME_RINVPASWD"],
    [`smpp://nobody:secret@127.0.0.1:${port}`, "ESME_RINVSYSID"],
  ] as const) {
    const client = new SmppClient({ url, ratePerSecond: 10, window: 1, responseTimeoutMs: 500, enquireLinkMs: 5000, reconnectMinMs: 50, reconnectMaxMs: 100, logger });
    t.after(() => client.close({ timeoutMs: 200 }));
    const errors: Error[] = [];
    client.on("error", (e) => errors.push(e));
    await assert.rejects(client.start(), (e: unknown) => e instanceof SmppBindError && e.code === code && !e.retryable);
    assert.notEqual(client.state, "bound");
    assert.ok(errors[0] instanceof SmppBindError);
    await assert.rejects(client.submit({ from: "74747", to: "966500000001", text: "x", maxParts: 1 }), isSubmitError("LINK_DOWN", true));
    // A message that can never be sent says so even while the link is down.
    await assert.rejects(client.submit({ from: "74747", to: "966500000001", text: ARABIC_300, maxParts: 1 }), SmsTooLongError);
    await assert.rejects(client.submit({ from: "74747", to: "12", text: "x", maxParts: 1 }), isSubmitError("INVALID_ADDRESS", false));
    // It keeps trying with backoff (an account may be fixed on the SMSC side) until closed.
    await waitFor("a second bind attempt", () => client.counters.bindFailures >= 2);
    await client.close({ timeoutMs: 200 });
    assert.equal(client.state, "closed");
  }
});

test("300-character Arabic text arrives as 5 UCS-2 parts with the right UDH, reassembled exactly", async (t) => {
  const { sim, client } = await setup(t);
  const result = await client.submit({ from: "74747", to: "+966500000001", text: ARABIC_300, maxParts: 5 });
  assert.equal(result.encoding, "UCS2");
  assert.equal(result.partCount, 5);
  assert.equal(result.messageIds.length, 5);
  await waitFor("the message", () => sim.received.length === 1);
  const m = sim.received[0]!;
  assert.equal(m.text, ARABIC_300);
  assert.equal(m.partCount, 5);
  assert.equal(m.encoding, "UCS2");
  assert.equal(m.dataCoding, 8);
  assert.equal(m.from, "74747");
  assert.equal(m.to, "966500000001");
  assert.deepEqual(m.messageIds, result.messageIds);
  m.parts.forEach((p, i) => {
    assert.deepEqual([...p.payload.subarray(0, 6)], [0x05, 0x00, 0x03, m.reference, 5, i + 1], `UDH of part ${i + 1}`);
    assert.equal(p.esmClass & 0x40, 0x40, "UDHI set");
    assert.equal(p.dataCoding, 8);
    assert.ok(p.payload.length <= 140);
    assert.equal(p.registeredDelivery, 1);
    assert.deepEqual([p.sourceTon, p.sourceNpi, p.destTon, p.destNpi], [3, 0, 1, 1]);
  });
  await assert.rejects(client.submit({ from: "74747", to: "+966500000001", text: ARABIC_300, maxParts: 4 }), (e: unknown) => e instanceof SmsTooLongError && e.code === "SMS_TOO_LONG");
});

test("GSM text goes as data_coding 0 unpacked septets; senders get the right TON/NPI", async (t) => {
  const { sim, client } = await setup(t);
  const text = "Your transaction 12345 was issued @ office [ref] 5€";
  const r = await client.submit({ from: "Emirate", to: "966500000002", text, maxParts: 3 });
  assert.equal(r.encoding, "GSM7");
  assert.equal(r.partCount, 1);
  await waitFor("the message", () => sim.received.length === 1);
  const p = sim.received[0]!.parts[0]!;
  assert.equal(p.dataCoding, 0);
  assert.equal(p.esmClass, 0);
  assert.equal(sim.received[0]!.text, text);
  assert.equal(p.payload.length, text.length + 3); // [ ] € are two septets each
  assert.equal(p.payload[text.indexOf("@")], 0x00); // '@' is septet 0 in GSM 03.38
  assert.deepEqual([p.sourceTon, p.sourceNpi, p.sourceAddr], [5, 0, "Emirate"]);

  await client.submit({ from: "+966112345678", to: "00966500000003", text: "x".repeat(161), maxParts: 2 });
  await waitFor("the second message", () => sim.received.length === 2);
  const m2 = sim.received[1]!;
  assert.equal(m2.partCount, 2);
  assert.deepEqual([m2.parts[0]!.sourceTon, m2.parts[0]!.sourceNpi, m2.from, m2.to], [1, 1, "966112345678", "966500000003"]);

  await assert.rejects(client.submit({ from: "74747", to: "0500000001", text: "x", maxParts: 1 }), isSubmitError("INVALID_ADDRESS", false));
});

test("SAR concatenation (TLVs instead of UDH) and a validity period", async (t) => {
  const { sim, client } = await setup(t, {}, { concatenation: "sar" });
  const text = "x".repeat(200);
  const before = Date.now();
  const r = await client.submit({ from: "74747", to: "966500000001", text, maxParts: 2, validityMinutes: 90 });
  assert.equal(r.partCount, 2);
  await waitFor("the message", () => sim.received.length === 1);
  const m = sim.received[0]!;
  assert.equal(m.text, text);
  for (const p of m.parts) {
    assert.equal(p.esmClass & 0x40, 0, "no UDHI");
    assert.equal(p.udh?.total, 2);
    assert.ok(p.payload.length <= 153, "no UDH in the payload");
    const validFor = p.validUntil!.getTime() - before;
    assert.ok(validFor > 89 * 60_000 && validFor < 91 * 60_000, `valid for about 90 minutes (${validFor} ms)`);
  }
});

test("delivery receipts come back, parse to delivered and match the submit ids (hex TLV, decimal text)", async (t) => {
  const { client, sim } = await setup(t, { dlrDelayMs: 30 });
  const receipts: DeliveryReceipt[] = [];
  client.on("deliveryReceipt", (r) => receipts.push(r));
  const r = await client.submit({ from: "74747", to: "966500000001", text: "ع".repeat(100), maxParts: 3 });
  assert.equal(r.partCount, 2);
  await waitFor("two receipts", () => receipts.length === 2);
  for (const receipt of receipts) {
    assert.equal(receipt.status, "delivered");
    assert.equal(receipt.final, true);
    assert.equal(receipt.state, "DELIVRD");
    assert.equal(receipt.recipient, "966500000001");
    assert.equal(receipt.sender, "74747");
    // The text id is decimal, the TLV (and submit_sm_resp) id hex: aliases bridge them.
    assert.match(receipt.textMessageId!, /^\d+$/);
    assert.ok(r.messageIds.some((id) => sameMessageId(id, receipt.textMessageId!)), "text id matches a submit id");
    assert.ok(r.messageIds.includes(receipt.messageId), "TLV id equals a submit id");
    assert.ok(receipt.messageIdAliases.some((a) => r.messageIds.some((id) => sameMessageId(id, a))));
  }
  assert.deepEqual(new Set(receipts.map((x) => x.messageId)), new Set(r.messageIds));

  sim.setBehaviour({ failureShare: 1 });
  const failed = await client.submit({ from: "74747", to: "966500000009", text: "hello", maxParts: 1 });
  await waitFor("the failure receipt", () => receipts.length === 3);
  const last = receipts[2]!;
  assert.equal(last.messageId, failed.messageIds[0]);
  assert.equal(last.status, "undeliverable");
  assert.equal(last.final, true);
  assert.deepEqual(last.networkError, { networkType: 3, code: 1 });
  assert.equal(client.counters.receipts, 3);

  // No receipt when none was requested.
  await client.submit({ from: "74747", to: "966500000009", text: "no dlr", maxParts: 1, requestDeliveryReceipt: false });
  await new Promise((res) => setTimeout(res, 80));
  assert.equal(receipts.length, 3);
});

test("throttling: SMSC at 5/s, client at 50/s -> some submits rejected ESME_RTHROTTLED, retryable", async (t) => {
  const { client, sim } = await setup(t, { maxPerSecond: 5 }, { ratePerSecond: 50, throttlePauseMs: 100 });
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, (_, i) => client.submit({ from: "74747", to: `96650000${String(i).padStart(4, "0")}`, text: `n${i}`, maxParts: 1 })),
  );
  const ok = results.filter((r) => r.status === "fulfilled");
  const throttled = results.filter((r) => r.status === "rejected" && isSubmitError("ESME_RTHROTTLED", true)(r.reason));
  assert.equal(ok.length + throttled.length, 20, "only successes and throttling");
  assert.ok(ok.length >= 5, `at least the SMSC's 5 per second got through (${ok.length})`);
  assert.ok(throttled.length > 0, "some were throttled");
  assert.equal(client.counters.throttled, throttled.length);
  for (const r of throttled) assert.equal((r as PromiseRejectedResult).reason.maybeAccepted, false);

  sim.setBehaviour({ queueFull: true });
  await assert.rejects(client.submit({ from: "74747", to: "966500000001", text: "q", maxParts: 1 }), isSubmitError("ESME_RMSGQFUL", true));
});

test("ratePerSecond limits the submit rate", async (t) => {
  const { client, sim } = await setup(t, {}, { ratePerSecond: 20 });
  const seen: number[] = [];
  sim.on("part", () => seen.push(performance.now()));
  const n = 30;
  const started = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => client.submit({ from: "74747", to: "966500000001", text: `m${i}`, maxParts: 1 })));
  const elapsed = performance.now() - started;
  // burst 1 at 20/s: the 30th submit cannot leave before 29/20 s.
  assert.ok(elapsed >= 1400, `30 submits at 20/s took ${elapsed.toFixed(0)} ms`);
  // Not much slower either: a wall-clock bound would fail on a busy machine, but the typical gap between
  // two submits stays 1/20 s, since a stall adds no tokens beyond the burst of 1.
  const gaps = seen.slice(1).map((x, i) => x - seen[i]!).sort((a, b) => a - b);
  const medianGap = gaps[Math.floor(gaps.length / 2)]!;
  assert.ok(medianGap >= 40 && medianGap <= 75, `median gap between submits ${medianGap.toFixed(1)} ms, 50 expected`);
  let maxInOneSecond = 0;
  for (let i = 0; i < seen.length; i++) maxInOneSecond = Math.max(maxInOneSecond, seen.filter((x) => x >= seen[i]! && x < seen[i]! + 1000).length);
  assert.ok(maxInOneSecond <= 21, `at most rate + burst in any second (${maxInOneSecond})`);
});

test("window: a silent SMSC sees at most `window` unanswered submit_sm; they time out, retryable", async (t) => {
  const { client, sim } = await setup(t, {}, { window: 3, responseTimeoutMs: 300, ratePerSecond: 1000 });
  sim.setBehaviour({ silent: true });
  let maxInFlight = 0;
  const sampler = setInterval(() => {
    maxInFlight = Math.max(maxInFlight, client.inFlight);
    assert.ok(sim.stats.submitSmSeen - client.counters.timeouts <= 3);
  }, 5);
  t.after(() => clearInterval(sampler));
  const started = performance.now();
  const results = await Promise.allSettled(
    Array.from({ length: 7 }, (_, i) => client.submit({ from: "74747", to: "966500000001", text: `w${i}`, maxParts: 1 })),
  );
  clearInterval(sampler);
  assert.equal(maxInFlight, 3);
  // Three rounds of 300 ms; a timer may fire a millisecond early on the clock we read, so allow a little.
  const waited = performance.now() - started;
  assert.ok(waited >= 3 * 300 - 15, `three rounds of timeouts (${waited.toFixed(0)} ms)`);
  for (const r of results) {
    assert.equal(r.status, "rejected");
    assert.ok(isSubmitError("TIMEOUT", true)((r as PromiseRejectedResult).reason));
    assert.equal((r as PromiseRejectedResult).reason.maybeAccepted, true, "a timed-out submit may have been accepted");
  }
  assert.equal(sim.stats.submitSmSeen, 7);
  assert.equal(client.counters.timeouts, 7);
  assert.equal(client.inFlight, 0);
});

test("dropped connections: in-flight submits reject LINK_DOWN, the client reconnects with backoff, later submits succeed", async (t) => {
  const { client, sim, states } = await setup(t, {}, { reconnectMinMs: 200, reconnectMaxMs: 1000 });
  sim.setBehaviour({ silent: true });
  const inFlight = Array.from({ length: 3 }, (_, i) => client.submit({ from: "74747", to: "966500000001", text: `d${i}`, maxParts: 1 }));
  await waitFor("three in flight", () => client.inFlight === 3);
  const droppedAt = Date.now();
  sim.dropConnections();
  for (const p of inFlight) {
    await assert.rejects(p, (e: unknown) => isSubmitError("LINK_DOWN", true)(e) && (e as SmppSubmitError).maybeAccepted);
  }
  await waitFor("disconnected", () => client.state !== "bound");
  // While down, a submit is refused at once (nothing was sent).
  await assert.rejects(client.submit({ from: "74747", to: "966500000001", text: "x", maxParts: 1 }), (e: unknown) => isSubmitError("LINK_DOWN", true)(e) && !(e as SmppSubmitError).maybeAccepted);
  sim.setBehaviour({ silent: false });
  await waitFor("bound again", () => client.state === "bound");
  const downFor = Date.now() - droppedAt;
  assert.ok(downFor >= 100, `reconnected after a backoff (>= min/2), took ${downFor} ms`);
  assert.deepEqual(states, ["connecting", "bound", "disconnected", "connecting", "bound"]);
  const r = await client.submit({ from: "74747", to: "966500000001", text: "after the storm", maxParts: 1 });
  assert.equal(r.messageIds.length, 1);
  assert.equal(client.counters.binds, 2);
  assert.equal(client.counters.reconnects, 1);
});

test("dead link: enquire_link unanswered -> socket destroyed and re-bound", async (t) => {
  const { client, sim, states } = await setup(t, {}, { enquireLinkMs: 100, responseTimeoutMs: 150 });
  sim.setBehaviour({ ignoreEnquireLink: true });
  await waitFor("the link declared dead", () => client.counters.enquireLinkTimeouts === 1, 2000);
  sim.setBehaviour({ ignoreEnquireLink: false });
  await waitFor("bound again", () => client.counters.binds === 2, 2000);
  assert.deepEqual(states.slice(0, 5), ["connecting", "bound", "disconnected", "connecting", "bound"]);
  await new Promise((r) => setTimeout(r, 300)); // enquire_links now answered: the link stays up
  assert.equal(client.state, "bound");
  assert.equal(client.counters.binds, 2);
  assert.ok(sim.stats.enquireLinks >= 3);
});

test("the client answers the SMSC's enquire_link and unbind, then binds again", async (t) => {
  const { client, sim, states } = await setup(t, {}, { reconnectMinMs: 50 });
  assert.equal(await sim.enquireLink(), 1);
  assert.equal(await sim.unbindAll(), 1, "unbind_resp received");
  await waitFor("bound again", () => client.counters.binds === 2);
  assert.deepEqual(states, ["connecting", "bound", "disconnected", "connecting", "bound"]);
  const r = await client.submit({ from: "74747", to: "966500000001", text: "still here", maxParts: 1 });
  assert.equal(r.messageIds.length, 1);
});

test("mobile-originated messages reach the client, concatenated ones reassembled", async (t) => {
  const { client, sim } = await setup(t);
  const mos: MobileOriginatedMessage[] = [];
  client.on("mobileOriginated", (m) => mos.push(m));
  await sim.sendMo({ from: "966500000001", to: "74747", text: "12345" });
  await waitFor("the MO", () => mos.length === 1);
  assert.equal(mos[0]!.from, "966500000001");
  assert.equal(mos[0]!.to, "74747");
  assert.equal(mos[0]!.text, "12345");
  assert.equal(mos[0]!.partCount, 1);
  assert.ok(mos[0]!.receivedAt instanceof Date);

  const long = "أرغب في معرفة حالة المعاملة رقم ٤٥٦٧٨٩ المقدمة بتاريخ ١٤٤٦/٠٥/١٢ ".repeat(3).trim();
  await sim.sendMo({ from: "966500000002", to: "74747", text: long });
  await waitFor("the long MO", () => mos.length === 2);
  assert.equal(mos[1]!.text, long);
  assert.ok(analyseSms(long).partCount >= 3);
  assert.equal(mos[1]!.partCount, analyseSms(long).partCount);
  assert.equal(mos[1]!.incomplete, undefined);
  assert.equal(client.counters.mobileOriginated, 2);
  assert.equal(client.counters.receipts, 0, "an MO is not taken for a receipt");
});

test("receipt and MO handlers are awaited before acknowledging; a failing one makes the SMSC redeliver", async (t) => {
  let failFirst = true;
  const handled: string[] = [];
  const { client, sim } = await setup(t, { dlrDelayMs: 10 }, {
    onDeliveryReceipt: async (r) => {
      await new Promise((res) => setTimeout(res, 10));
      if (failFirst) {
        failFirst = false;
        throw new Error("database unavailable");
      }
      handled.push(r.messageId);
    },
  });
  const r = await client.submit({ from: "74747", to: "966500000001", text: "ack me", maxParts: 1 });
  // The first delivery is answered ESME_RX_T_APPN; the simulator retries a second later.
  await waitFor("the receipt handled after a redelivery", () => handled.length === 1, 3000);
  assert.equal(handled[0], r.messageIds[0]);
  await waitFor("the SMSC to see the acknowledgement", () => sim.stats.receiptsSent === 1);
});

test("graceful close: waits for in-flight, sends unbind, closes; later submits are refused", async (t) => {
  const { client, sim } = await setup(t);
  const unbinds: number[] = [];
  sim.on("unbind", (u) => unbinds.push(u.session));
  const pending = client.submit({ from: "74747", to: "966500000001", text: "last one", maxParts: 1 });
  assert.equal(client.inFlight, 1);
  await client.close({ timeoutMs: 1000 });
  const r = await pending;
  assert.equal(r.messageIds.length, 1, "the in-flight submit completed before unbind");
  assert.equal(unbinds.length, 1);
  assert.equal(sim.stats.unbinds, 1);
  assert.equal(client.state, "closed");
  await waitFor("the SMSC session gone", () => sim.sessions === 0);
  await assert.rejects(client.submit({ from: "74747", to: "966500000001", text: "x", maxParts: 1 }), isSubmitError("LINK_DOWN", true));
  await assert.rejects(client.start(), /closed/);
  await new Promise((r2) => setTimeout(r2, 150));
  assert.equal(sim.sessions, 0, "no reconnection after close");
});

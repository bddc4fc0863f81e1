// bench:sms — durable end-to-end SMS throughput: "registered" events posted to Taqib ->
// stored, applied, SMS queued in the message log, rendered, submitted over SMPP ->
// acknowledged by the SMSC simulator (counted in `smsc.received`), against a bare
// SmppClient sending the same texts to the same simulator in the same run.
//
// Taqib runs in a child process (SERVICES=api,events,directory,notifier,smpp) on a FerretDB
// of its own; the simulator and the load are in this process. The simulator accepts
// SMSC_MAX_PER_SECOND=100,000 and Taqib may send SMPP_RATE=1,000 parts/s, so neither the
// SMSC nor the rate limit is the limit (the bare client shows what the SMPP path can do).
//
// 1. burst: N events posted in batches of 100 as fast as they are accepted; throughput =
//    N / (last SMS received - first event posted). Latency is queueing-dominated here.
// 2. paced: events posted one by one at about half the burst's throughput for a while;
//    event-to-submit latency at a load the system keeps up with.
// 3. baseline: the burst's texts, to the same recipients, through a bare SmppClient with
//    the same rate and window, all submitted at once.
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { MongoClient } from "mongodb";
import { testDatabase, testSmsc, seedDirectory } from "../test/support/harness.ts";
import { spawnTaqib } from "../test/support/processes.ts";
import { SmppClient } from "../core/smpp/client.ts";
import type { ReceivedMessage } from "../smsc/simulator.ts";
import { banner, cpuMeter, envInt, fmt, fmtInt, loadLine, main, now, percentile, postEvents, progress, ratio, scaled, table, until } from "./common.ts";

const BURST = scaled(300);
const PACED_SECONDS = envInt("BENCH_SMS_PACED_SECONDS", 20);
const SMPP_RATE = envInt("BENCH_SMPP_RATE", 1000);
const SMPP_WINDOW = envInt("BENCH_SMPP_WINDOW", 10);
const SMSC_MAX = 100_000;
const BARE_MIN = scaled(2000);
const T0 = Date.now() - 3_600_000;

/** A registered event of transaction `i` of run `tag`, for the citizen whose mobile is unique to it. */
function registered(tag: number, i: number) {
  const serial = String(tag * 100_000 + i).padStart(8, "0");
  return {
    event: {
      id: `sms-${tag}-${i}`,
      type: "registered",
      transactionNumber: `15${serial}`,
      occurredAt: new Date(T0 + i * 1000).toISOString(),
      data: { citizen: { name: "محمد بن عبدالله", mobile: `05${serial}`, language: "ar" }, subject: "طلب إفادة", departmentCode: "LEGAL" },
    },
    /** The destination address the SMSC sees. */
    to: `9665${serial}`,
  };
}

main(async (cleanup) => {
  banner("sms", [
    `burst of ${fmtInt(BURST)} events, then ${PACED_SECONDS} s paced`,
    `SMPP_RATE=${SMPP_RATE} parts/s, SMPP_WINDOW=${SMPP_WINDOW}, simulator max ${fmtInt(SMSC_MAX)}/s, receipts after 50 ms`,
    "latency: event posted -> the simulator's receivedAt of its SMS (the SMS' first part for the burst timing)",
    "Taqib in a child process (SERVICES=api,events,directory,notifier,smpp); simulator and load in this process",
  ]);
  progress(loadLine());

  const server = await testDatabase();
  cleanup.add(() => server.remove());
  const smsc = await testSmsc({ maxPerSecond: SMSC_MAX, dlrDelayMs: 50 });
  cleanup.add(() => smsc.stop());
  const client = new MongoClient(server.url);
  await client.connect();
  cleanup.add(() => client.close());
  const db = client.db();

  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "taqib-bench-data-"));
  cleanup.add(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const taqib = await spawnTaqib("bench-sms", {
    MONGO_URL: server.url,
    SMPP_URL: smsc.url,
    SERVICES: "api,events,directory,notifier,smpp",
    SMPP_RATE: String(SMPP_RATE),
    SMPP_WINDOW: String(SMPP_WINDOW),
    DATA_DIR: dataDir,
  });
  cleanup.add(async () => void (await taqib.terminate()));
  await seedDirectory(taqib.url);

  const post = (body: unknown) => postEvents(taqib.url, body);

  /** Messages received for these destinations, by destination (first one each). */
  const receivedFor = (tos: Set<string>): Map<string, ReceivedMessage> => {
    const m = new Map<string, ReceivedMessage>();
    for (const r of smsc.received) if (tos.has(r.to) && !m.has(r.to)) m.set(r.to, r);
    return m;
  };

  // Warm-up: a few events end to end (bind, JIT, collections), not counted.
  const warmCount = 5;
  const pacedBase = 0;
  {
    const warm = Array.from({ length: warmCount }, (_, i) => registered(1, i));
    await post(warm.map((w) => w.event));
    const tos = new Set(warm.map((w) => w.to));
    await until(async () => receivedFor(tos).size === tos.size, 120_000, "the warm-up SMS");
  }

  // ---- 1. burst
  const burst = Array.from({ length: BURST }, (_, i) => registered(2, i));
  const postedAt = new Map<string, number>(); // destination -> epoch ms of the post
  const tos = new Set(burst.map((b) => b.to));
  const timeline: Array<{ at: number; applied: number; sms: number }> = [];
  const cpu = cpuMeter({ ferretdb: server.process.pid, taqib: taqib.child.pid, "bench (load + simulator)": process.pid });
  cpu.start();
  const burstStart = Date.now();
  let acceptedAt = 0;
  const watcher = (async () => {
    // Progress every 2 s: events applied (projection + SMS queued) and SMS at the SMSC.
    while (receivedFor(tos).size < tos.size) {
      await new Promise((r) => setTimeout(r, 2000));
      const applied = (await db.collection("events").countDocuments({ applied: true, type: "registered" })) - warmCount - pacedBase;
      const sms = receivedFor(tos).size;
      timeline.push({ at: Date.now() - burstStart, applied, sms });
      progress(`burst +${fmt((Date.now() - burstStart) / 1000, 0)} s: ${applied}/${BURST} events applied, ${sms}/${BURST} SMS at the SMSC`);
    }
  })();
  for (let i = 0; i < burst.length; i += 100) {
    const slice = burst.slice(i, i + 100);
    const t = Date.now();
    for (const b of slice) postedAt.set(b.to, t);
    await post(slice.map((b) => b.event));
  }
  acceptedAt = Date.now() - burstStart;
  const got = await until(async () => {
    const m = receivedFor(tos);
    return m.size === tos.size && m;
  }, 1_800_000, "every burst SMS at the SMSC", 100);
  await watcher;
  const burstCpu = cpu.stop();
  const burstMessages = [...got.values()];
  const lastAt = Math.max(...burstMessages.map((m) => m.receivedAt.getTime()));
  const firstSmsAt = Math.min(...burstMessages.map((m) => m.receivedAt.getTime()));
  const burstSeconds = (lastAt - burstStart) / 1000;
  const burstRate = BURST / burstSeconds;
  const parts = burstMessages.reduce((s, m) => s + m.partCount, 0);
  const burstLatency = burstMessages.map((m) => m.receivedAt.getTime() - postedAt.get(m.to)!);
  const allApplied = timeline.find((t) => t.applied >= BURST)?.at;
  progress(`burst: ${fmt(burstRate)} SMS/s end to end`);

  // ---- 2. paced
  const pacedRate = Math.max(0.5, Math.min(burstRate / 2, 50));
  const pacedCount = Math.max(5, Math.round(pacedRate * PACED_SECONDS));
  const paced = Array.from({ length: pacedCount }, (_, i) => registered(3, i));
  const pacedTos = new Set(paced.map((p) => p.to));
  const pacedStart = Date.now();
  const posts: Promise<void>[] = [];
  for (let i = 0; i < paced.length; i++) {
    const due = pacedStart + (i * 1000) / pacedRate;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    postedAt.set(paced[i]!.to, Date.now());
    posts.push(post(paced[i]!.event));
  }
  await Promise.all(posts);
  const pacedGot = await until(async () => {
    const m = receivedFor(pacedTos);
    return m.size === pacedTos.size && m;
  }, 600_000, "every paced SMS at the SMSC", 100);
  const pacedLatency = [...pacedGot.values()].map((m) => m.receivedAt.getTime() - postedAt.get(m.to)!);
  progress(`paced: ${pacedCount} events at ${fmt(pacedRate)}/s, latency p50 ${fmtInt(percentile(pacedLatency, 50))} ms`);

  // Taqib is done: stop it, so the baseline has the machine and the simulator to itself.
  await taqib.terminate();

  // ---- 3. baseline: a bare SMPP client, the burst's texts (repeated to at least BARE_MIN
  // messages, so the figure is not a blip), at Taqib's rate and window, then uncapped.
  const bareRun = async (rate: number) => {
    const bare = new SmppClient({
      url: smsc.url,
      ratePerSecond: rate,
      window: SMPP_WINDOW,
      responseTimeoutMs: 10_000,
      enquireLinkMs: 30_000,
      reconnectMinMs: 500,
      reconnectMaxMs: 30_000,
      maxQueued: 1_000_000,
    });
    await bare.start();
    try {
      const texts = Array.from({ length: Math.max(BARE_MIN, burstMessages.length) }, (_, i) => burstMessages[i % burstMessages.length]!);
      const before = smsc.received.length;
      const submitLatency: number[] = [];
      const t0 = now();
      await Promise.all(
        texts.map(async (m) => {
          const t = now();
          await bare.submit({ from: m.from, to: `+${m.to}`, text: m.text, maxParts: 6 });
          submitLatency.push(now() - t);
        }),
      );
      const seconds = (now() - t0) / 1000;
      await until(async () => smsc.received.length - before >= texts.length, 30_000, "the bare client's SMS at the SMSC");
      const partsSent = smsc.received.slice(before).reduce((sum, m) => sum + m.partCount, 0);
      return { count: texts.length, parts: partsSent, seconds, rate: texts.length / seconds, submitLatency };
    } finally {
      await bare.close({ timeoutMs: 5000 });
    }
  };
  const bare = await bareRun(SMPP_RATE);
  const bareMax = await bareRun(10_000);
  progress(`bare client: ${fmt(bare.rate)} SMS/s at SMPP_RATE ${SMPP_RATE}, ${fmt(bareMax.rate)} SMS/s at 10,000`);
  const bareRate = bare.rate;

  console.log("");
  table(
    ["measurement", "SMS", "parts", "seconds", "SMS/s", "parts/s", "latency p50 ms", "latency p99 ms"],
    [
      ["Taqib burst (event posted -> SMSC received)", fmtInt(BURST), fmtInt(parts), fmt(burstSeconds, 2), fmt(burstRate), fmt(parts / burstSeconds), fmtInt(percentile(burstLatency, 50)), fmtInt(percentile(burstLatency, 99))],
      [`Taqib paced at ${fmt(pacedRate)} events/s`, fmtInt(pacedCount), "", "", "", "", fmtInt(percentile(pacedLatency, 50)), fmtInt(percentile(pacedLatency, 99))],
      [`bare SmppClient, same texts, rate ${fmtInt(SMPP_RATE)} (all queued at once)`, fmtInt(bare.count), fmtInt(bare.parts), fmt(bare.seconds, 2), fmt(bare.rate), fmt(bare.parts / bare.seconds), fmt(percentile(bare.submitLatency, 50)), fmt(percentile(bare.submitLatency, 99))],
      ["bare SmppClient, same texts, rate 10,000 (all queued at once)", fmtInt(bareMax.count), fmtInt(bareMax.parts), fmt(bareMax.seconds, 2), fmt(bareMax.rate), fmt(bareMax.parts / bareMax.seconds), fmt(percentile(bareMax.submitLatency, 50)), fmt(percentile(bareMax.submitLatency, 99))],
    ],
  );
  console.log("");
  console.log(`ratio Taqib/bare client (same SMPP_RATE): ${ratio(burstRate, bareRate)}; Taqib/bare client uncapped: ${ratio(burstRate, bareMax.rate)}`);
  console.log(
    `burst timeline: all ${fmtInt(BURST)} events accepted (202) after ${fmt(acceptedAt / 1000, 1)} s; ` +
      `first SMS at the SMSC after ${fmt((firstSmsAt - burstStart) / 1000, 1)} s; ` +
      `all events applied after ${allApplied === undefined ? "?" : `~${fmt(allApplied / 1000, 0)}`} s; last SMS after ${fmt(burstSeconds, 1)} s`,
  );
  const ceiling = SMPP_RATE / (parts / BURST);
  console.log(
    `limits: SMPP_RATE ${fmtInt(SMPP_RATE)} parts/s allows ${fmt(ceiling)} SMS/s of ${fmt(parts / BURST, 2)} parts; simulator ${fmtInt(SMSC_MAX)}/s; ` +
      `the bare client reached ${fmt((100 * bare.parts) / bare.seconds / SMPP_RATE, 0)}% of SMPP_RATE, Taqib ${fmt((100 * parts) / burstSeconds / SMPP_RATE, 1)}%.`,
  );
  console.log(`burst ${burstCpu}`);
  console.log(`simulator: ${smsc.stats.throttled} submits throttled (ESME_RTHROTTLED) in the whole run.`);
  console.log(loadLine());
});

// bench:sms — durable end-to-end SMS throughput: "registered" events posted to Taqib ->
// stored, applied, SMS queued in the message log, rendered, submitted over SMPP ->
// received by the SMSC simulator (every part), against a bare SmppClient sending the same
// texts to the same simulator in the same run.
//
// Taqib runs in a child process (SERVICES=api,events,directory,notifier,smpp) on a database
// of its own; the simulator (SMSC_MAX_PER_SECOND=100,000, receipts after 50 ms) and the load
// are in this process. Every SMS is a 2-part Arabic text (UCS-2): the citizen's name and the
// subject are long, and the registered template fits 2 parts with the longest realistic data
// (its budget, core/sms/budget.ts; runs before 2026-11-29 sent 3 parts).
//
// 1. burst: N registered events posted in batches of 1,000 as fast as they are accepted,
//    SMPP_RATE=BENCH_SMPP_RATE (10,000 parts/s) and SMPP_WINDOW=BENCH_SMPP_WINDOW (50), so
//    the rate limit is not the limit. SMS/s = N / (first event posted -> last part at the
//    SMSC); latency = the event's post -> its SMS' last part at the SMSC; Taqib's database
//    round-trips per SMS from its /metrics (taqib_db_commands), CPU per process.
// 2. limit: a smaller burst with SMPP_RATE=BENCH_SMPP_LIMIT_RATE (300 parts/s): Taqib's parts/s
//    (first part -> last part at the SMSC) as a share of SMPP_RATE (target >= 90 %).
// Both at two history sizes (bench/history.ts): an empty database, and one holding
// 1,000,000 transactions and 3,000,000 messages (times BENCH_SCALE) in Taqib's shapes;
// the ratio history/empty of each figure is printed.
// 3. baseline (once, with no Taqib running): the burst's texts to the same destinations
//    through a bare SmppClient, all submitted at once: uncapped (same window), at the
//    burst's SMPP_RATE/SMPP_WINDOW, and at the limit run's rate.
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { MongoClient, type Db } from "mongodb";
import { testDatabase, testSmsc, seedDirectory } from "../test/support/harness.ts";
import { spawnTaqib, type TaqibProcess } from "../test/support/processes.ts";
import { SmppClient } from "../core/smpp/client.ts";
import type { ReceivedMessage, ReceivedPart } from "../dev/smsc/simulator.ts";
import { banner, cpuMeter, envInt, fmt, fmtInt, loadLine, main, now, percentile, postEvents, progress, ratio, scaled, table, until } from "./common.ts";
import { createTaqibIndexes, dbRoundTrips, describeHistory, firstScrape, HISTORY_SIZES, seedHistory } from "./history.ts";

const BURST = scaled(10_000);
const LIMIT_BURST = scaled(1_000);
const BATCH = 1000;
const SMPP_RATE = envInt("BENCH_SMPP_RATE", 10_000);
const SMPP_WINDOW = envInt("BENCH_SMPP_WINDOW", 50);
const LIMIT_RATE = envInt("BENCH_SMPP_LIMIT_RATE", 300);
const SMSC_MAX = 100_000;
const PARTS = 2;
const SERVICES = "api,events,directory,notifier,smpp";
const T0 = Date.now() - 3_600_000;
/** No new SMS at the SMSC for this long: the run fails (with Taqib's last output) instead of waiting on. */
const STALL_SECONDS = envInt("BENCH_STALL_SECONDS", 120);

/** p, or a rejection after ms (a database that stops answering must not hang the run). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer after ${fmt(ms / 1000, 0)} s`)), ms)));
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Long enough for the registered template to render 3 UCS-2 parts (scripts/preview.ts registered ar: 186 characters). */
const CITIZEN = "عبدالرحمن بن محمد بن عبدالله آل الشيخ";
const SUBJECT = "طلب إفادة بخصوص معاملة نقل الملكية العقارية";

/** A registered event of transaction `i` of run `tag`, for the citizen whose mobile is unique to it. */
function registered(tag: number, i: number) {
  const serial = String(tag * 100_000 + i).padStart(8, "0");
  return {
    event: {
      id: `sms-${tag}-${i}`,
      type: "registered",
      transactionNumber: `15${serial}`,
      occurredAt: new Date(T0 + i * 1000).toISOString(),
      data: { citizen: { name: CITIZEN, mobile: `05${serial}`, language: "ar" }, subject: SUBJECT, departmentCode: "LEGAL" },
    },
    /** The destination address the SMSC sees. */
    to: `9665${serial}`,
  };
}

/** One burst's figures. */
interface Burst {
  count: number;
  parts: number;
  seconds: number;
  smsPerSecond: number;
  partsPerSecond: number;
  /** Parts per second from the first part to the last at the SMSC (the sending alone). */
  sendingPartsPerSecond: number;
  p50: number;
  p99: number;
  roundTrips: number;
  cpu: string;
  acceptedAfter: number;
  firstPartAfter: number;
  duplicates: number;
  wrongParts: number;
}

const pct = (history: number, empty: number) => (empty > 0 && Number.isFinite(history) ? `${fmt((100 * history) / empty, 0)} %` : "-");

main(async (cleanup) => {
  banner("sms", [
    `burst of ${fmtInt(BURST)} registered events (batches of ${fmtInt(BATCH)}, ${PARTS}-part Arabic SMS each) at SMPP_RATE=${fmtInt(SMPP_RATE)} parts/s, SMPP_WINDOW=${SMPP_WINDOW}`,
    `limit run: ${fmtInt(LIMIT_BURST)} events at SMPP_RATE=${fmtInt(LIMIT_RATE)} parts/s`,
    `history sizes: ${HISTORY_SIZES.map(describeHistory).join("; then ")}`,
    `simulator max ${fmtInt(SMSC_MAX)}/s, receipts after 50 ms; latency: event posted -> its SMS' last part at the SMSC`,
    `Taqib in a child process (SERVICES=${SERVICES}); simulator and load in this process`,
  ]);
  progress(loadLine());

  const server = await testDatabase();
  cleanup.add(async () => {
    await within(server.remove(), 15_000, "the database's stop").catch(() => undefined);
    // A database that stopped answering may not stop either.
    if (server.process.exitCode === null && server.process.signalCode === null) server.process.kill("SIGKILL");
    fs.rmSync(server.dir, { recursive: true, force: true });
  });
  const smsc = await testSmsc({ maxPerSecond: SMSC_MAX, dlrDelayMs: 50 });
  cleanup.add(() => smsc.stop());
  const client = new MongoClient(server.url);
  await client.connect();
  cleanup.add(() => client.close(true));
  const base = server.url.replace(/\/[^/]*$/, "");

  // Every part at the SMSC, by destination: how many, and when the last one came.
  const partsTo = new Map<string, { parts: number; lastAt: number; firstAt: number }>();
  smsc.on("part", (p: ReceivedPart) => {
    const t = Date.now();
    const e = partsTo.get(p.destinationAddr);
    if (e) {
      e.parts++;
      e.lastAt = t;
    } else partsTo.set(p.destinationAddr, { parts: 1, lastAt: t, firstAt: t });
  });
  /** The destinations that have all their parts. */
  const completed = (tos: string[]) => tos.filter((to) => (partsTo.get(to)?.parts ?? 0) >= PARTS).length;

  const startTaqib = async (name: string, url: string, rate: number): Promise<TaqibProcess> => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "taqib-bench-data-"));
    cleanup.add(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const taqib = await spawnTaqib(name, { MONGO_URL: url, SMPP_URL: smsc.url, SERVICES, SMPP_RATE: String(rate), SMPP_WINDOW: String(SMPP_WINDOW), DATA_DIR: dataDir });
    cleanup.add(() => within(taqib.terminate(), 20_000, "Taqib's stop").then(() => undefined, () => taqib.kill()));
    return taqib;
  };
  const stopTaqib = async (taqib: TaqibProcess) => {
    const code = await within(taqib.terminate(), 20_000, "Taqib's stop").catch(async (err: Error) => {
      progress(`${taqib.name}: ${err.message}; killed`);
      await taqib.kill();
      return null;
    });
    if (code !== 0 && code !== null) progress(`${taqib.name} exited ${code}: ${taqib.output.slice(-10).join("\n")}`);
    const errors = taqib.output.filter((l) => /"level":50|\berror\b|ERROR/i.test(l));
    if (errors.length) progress(`${taqib.name}: ${errors.length} error line(s) in its output, last: ${errors.slice(-3).join(" | ")}`);
  };

  /** Posts the events in batches of BATCH, one at a time; waits for every SMS' parts at the SMSC. */
  const runBurst = async (what: string, taqib: TaqibProcess, db: Db, items: ReturnType<typeof registered>[], roundTrips: boolean): Promise<Burst> => {
    const tos = items.map((b) => b.to);
    const postedAt = new Map<string, number>();
    const pending = db.collection("events_pending");
    const queue = db.collection("sms_queue");
    const cpu = cpuMeter({ ferretdb: server.process.pid, taqib: taqib.child.pid, "bench (load + simulator)": process.pid });
    // What a /metrics scrape costs in round-trips (one is subtracted from the measurement).
    let scrapeCost = 0;
    if (roundTrips) {
      const s0 = await within(dbRoundTrips(taqib.url), 60_000, "GET /metrics");
      scrapeCost = (await within(dbRoundTrips(taqib.url), 60_000, "GET /metrics")) - s0;
    }
    const rt0 = roundTrips ? await within(dbRoundTrips(taqib.url), 60_000, "GET /metrics") : 0;
    const receivedBefore = smsc.received.length;
    cpu.start();
    const start = Date.now();
    let done = false;
    const watcher = (async () => {
      while (!done) {
        await new Promise((r) => setTimeout(r, 2000));
        if (done) break;
        const counts = await within(Promise.all([pending.countDocuments({}), queue.countDocuments({})]), 10_000, "counting the outbox and the SMS queue").catch(() => undefined);
        const [outbox, queued] = counts ?? [Number.NaN, Number.NaN];
        progress(`${what} +${fmt((Date.now() - start) / 1000, 0)} s: ${fmtInt(outbox)} events in the outbox, ${fmtInt(queued)} SMS in the queue, ${fmtInt(completed(tos))}/${fmtInt(items.length)} SMS at the SMSC`);
      }
    })();
    for (let i = 0; i < items.length; i += BATCH) {
      const slice = items.slice(i, i + BATCH);
      const t = Date.now();
      for (const b of slice) postedAt.set(b.to, t);
      await postEvents(taqib.url, slice.map((b) => b.event));
    }
    const acceptedAfter = (Date.now() - start) / 1000;
    try {
      let seen = -1;
      let seenAt = Date.now();
      await until(async () => {
        const n = completed(tos);
        if (n !== seen) [seen, seenAt] = [n, Date.now()];
        else if (Date.now() - seenAt > STALL_SECONDS * 1000) {
          const dbAnswers = await within(pending.estimatedDocumentCount(), 5_000, "the database")
            .then(() => "the database answers")
            .catch((err: Error) => err.message);
          throw new Error(
            `${what}: no new SMS at the SMSC for ${STALL_SECONDS} s (${fmtInt(n)}/${fmtInt(tos.length)} received; ${dbAnswers}); ` +
              `Taqib's last output:\n${taqib.output.slice(-15).join("\n")}`,
          );
        }
        return n === tos.length;
      }, 1_800_000, `${what}: every SMS at the SMSC`, 50);
    } finally {
      done = true;
      await watcher;
    }
    const used = cpu.stop();
    const rt1 = roundTrips ? await within(dbRoundTrips(taqib.url), 60_000, "GET /metrics") : 0;
    const got = tos.map((to) => partsTo.get(to)!);
    const lastAt = Math.max(...got.map((g) => g.lastAt));
    const firstAt = Math.min(...got.map((g) => g.firstAt));
    const parts = got.reduce((s, g) => s + g.parts, 0);
    const seconds = (lastAt - start) / 1000;
    // Sent twice, or not in PARTS parts: each destination gets exactly one SMS.
    const mine = new Set(tos);
    const messages: ReceivedMessage[] = smsc.received.slice(receivedBefore).filter((m) => mine.has(m.to));
    const perTo = new Map<string, number>();
    for (const m of messages) perTo.set(m.to, (perTo.get(m.to) ?? 0) + 1);
    const latency = tos.map((to) => partsTo.get(to)!.lastAt - postedAt.get(to)!);
    return {
      count: items.length,
      parts,
      seconds,
      smsPerSecond: items.length / seconds,
      partsPerSecond: parts / seconds,
      sendingPartsPerSecond: lastAt > firstAt ? (parts - 1) / ((lastAt - firstAt) / 1000) : Number.NaN,
      p50: percentile(latency, 50),
      p99: percentile(latency, 99),
      roundTrips: roundTrips ? (rt1 - rt0 - scrapeCost) / items.length : Number.NaN,
      cpu: used,
      acceptedAfter,
      firstPartAfter: (firstAt - start) / 1000,
      duplicates: [...perTo.values()].filter((n) => n > 1).length,
      wrongParts: messages.filter((m) => m.partCount !== PARTS || m.incomplete).length,
    };
  };

  const bursts = new Map<string, Burst>();
  const limits = new Map<string, Burst>();
  const firstScrapes = new Map<string, number>();
  const burstTexts: Array<{ from: string; to: string; text: string }> = [];
  const limitTexts: Array<{ from: string; to: string; text: string }> = [];

  /** A few events end to end (bind, JIT, caches), not counted. */
  const warmUp = async (taqib: TaqibProcess, tag: number) => {
    const warm = Array.from({ length: 5 }, (_, i) => registered(tag, i));
    await postEvents(taqib.url, warm.map((w) => w.event));
    await until(async () => completed(warm.map((w) => w.to)) === warm.length, 120_000, "the warm-up SMS");
  };
  /** The texts the SMSC received for these items (the bare client sends the same). */
  const textsOf = (items: Array<{ to: string }>) => {
    const tos = new Set(items.map((i) => i.to));
    return smsc.received.filter((m) => tos.has(m.to)).map((m) => ({ from: m.from, to: m.to, text: m.text }));
  };

  for (const [s, size] of HISTORY_SIZES.entries()) {
    const dbName = `bench_sms_${size.label}`;
    const url = `${base}/${dbName}`;
    const db = client.db(dbName);
    cleanup.add(() => within(db.dropDatabase(), 30_000, "dropDatabase").then(() => undefined).catch(() => undefined));
    progress(`== ${size.label}: ${describeHistory(size)}`);
    await createTaqibIndexes(url, { SERVICES, SMPP_URL: smsc.url });
    await seedHistory(db, size);
    const tag = 20 + s * 10;

    // ---- 1. burst
    let taqib = await startTaqib(`bench-sms-${size.label}`, url, SMPP_RATE);
    try {
      firstScrapes.set(size.label, await within(firstScrape(taqib.url), 1_800_000, "the first GET /metrics"));
      await seedDirectory(taqib.url);
      await warmUp(taqib, tag + 1);
      const items = Array.from({ length: BURST }, (_, i) => registered(tag + 2, i));
      const b = await runBurst(`${size.label} burst`, taqib, db, items, true);
      bursts.set(size.label, b);
      progress(`${size.label} burst: ${fmt(b.smsPerSecond)} SMS/s, ${fmt(b.partsPerSecond)} parts/s, ${fmt(b.roundTrips, 2)} round-trips/SMS; ${b.cpu}`);
      if (s === 0) burstTexts.push(...textsOf(items));
    } finally {
      await stopTaqib(taqib);
    }

    // ---- 2. limit: SMPP_RATE is the limit
    taqib = await startTaqib(`bench-sms-limit-${size.label}`, url, LIMIT_RATE);
    try {
      await warmUp(taqib, tag + 3);
      const items = Array.from({ length: LIMIT_BURST }, (_, i) => registered(tag + 4, i));
      const l = await runBurst(`${size.label} limit`, taqib, db, items, false);
      limits.set(size.label, l);
      progress(`${size.label} limit: ${fmt(l.sendingPartsPerSecond)} parts/s while sending = ${fmt((100 * l.sendingPartsPerSecond) / LIMIT_RATE, 1)} % of SMPP_RATE ${LIMIT_RATE}`);
      if (s === 0) limitTexts.push(...textsOf(items));
    } finally {
      await stopTaqib(taqib);
      await within(db.dropDatabase(), 600_000, "dropDatabase").catch(() => undefined);
    }
  }

  // ---- 3. baseline: a bare SMPP client, the burst's texts to the same destinations, all
  // submitted at once, with no Taqib running.
  const bareRun = async (texts: typeof burstTexts, rate: number) => {
    const bare = new SmppClient({
      url: smsc.url,
      ratePerSecond: rate,
      window: SMPP_WINDOW,
      responseTimeoutMs: 10_000,
      enquireLinkMs: 30_000,
      reconnectMinMs: 500,
      reconnectMaxMs: 30_000,
      maxQueued: 10_000_000,
    });
    await bare.start();
    try {
      const before = smsc.received.length;
      const t0 = now();
      await Promise.all(texts.map((m) => bare.submit({ from: m.from, to: `+${m.to}`, text: m.text, maxParts: 6 })));
      await until(async () => smsc.received.length - before >= texts.length, 60_000, "the bare client's SMS at the SMSC", 20);
      const seconds = (now() - t0) / 1000;
      const parts = smsc.received.slice(before).reduce((sum, m) => sum + m.partCount, 0);
      return { count: texts.length, parts, seconds, smsPerSecond: texts.length / seconds, partsPerSecond: parts / seconds };
    } finally {
      await bare.close({ timeoutMs: 5000 });
    }
  };
  const bareMax = await bareRun(burstTexts, 1_000_000);
  const bare = await bareRun(burstTexts, SMPP_RATE);
  const bareLimit = await bareRun(limitTexts, LIMIT_RATE);
  progress(`bare client: ${fmt(bareMax.smsPerSecond)} SMS/s uncapped, ${fmt(bare.smsPerSecond)} at ${SMPP_RATE}, ${fmt(bareLimit.partsPerSecond)} parts/s at ${LIMIT_RATE}`);

  console.log("");
  const rows: Array<Array<string>> = [];
  for (const size of HISTORY_SIZES) {
    const b = bursts.get(size.label)!;
    rows.push([`${size.label}: Taqib burst, SMPP_RATE ${fmtInt(SMPP_RATE)}`, fmtInt(b.count), fmtInt(b.parts), fmt(b.seconds, 2), fmt(b.smsPerSecond), fmt(b.partsPerSecond), fmtInt(b.p50), fmtInt(b.p99), fmt(b.roundTrips, 2), ratio(b.smsPerSecond, bareMax.smsPerSecond), ratio(b.smsPerSecond, bare.smsPerSecond)]);
  }
  rows.push([`bare SmppClient uncapped, window ${SMPP_WINDOW}`, fmtInt(bareMax.count), fmtInt(bareMax.parts), fmt(bareMax.seconds, 2), fmt(bareMax.smsPerSecond), fmt(bareMax.partsPerSecond), "", "", "", "", ""]);
  rows.push([`bare SmppClient rate ${fmtInt(SMPP_RATE)}, window ${SMPP_WINDOW}`, fmtInt(bare.count), fmtInt(bare.parts), fmt(bare.seconds, 2), fmt(bare.smsPerSecond), fmt(bare.partsPerSecond), "", "", "", "", ""]);
  table(["burst (event posted -> last part at the SMSC)", "SMS", "parts", "seconds", "SMS/s", "parts/s", "latency p50 ms", "latency p99 ms", "round-trips/SMS", "Taqib/bare uncapped", "Taqib/bare same rate"], rows);

  console.log("");
  const limitRows: Array<Array<string>> = HISTORY_SIZES.map((size) => {
    const l = limits.get(size.label)!;
    return [`${size.label}: Taqib, SMPP_RATE ${fmtInt(LIMIT_RATE)}`, fmtInt(l.count), fmtInt(l.parts), fmt(l.seconds, 2), fmt(l.partsPerSecond), fmt(l.sendingPartsPerSecond), `${fmt((100 * l.sendingPartsPerSecond) / LIMIT_RATE, 1)} %`, fmtInt(l.p50), fmtInt(l.p99)];
  });
  limitRows.push([`bare SmppClient rate ${fmtInt(LIMIT_RATE)}`, fmtInt(bareLimit.count), fmtInt(bareLimit.parts), fmt(bareLimit.seconds, 2), fmt(bareLimit.partsPerSecond), "", `${fmt((100 * bareLimit.partsPerSecond) / LIMIT_RATE, 1)} %`, "", ""]);
  table(["limit run", "SMS", "parts", "seconds", "parts/s end to end", "parts/s first->last part", "% of SMPP_RATE (target >= 90 %)", "latency p50 ms", "latency p99 ms"], limitRows);

  console.log("");
  const [e, h] = HISTORY_SIZES.map((s) => bursts.get(s.label)!);
  const [le, lh] = HISTORY_SIZES.map((s) => limits.get(s.label)!);
  table(
    ["history/empty (target >= 80 %)", "empty", "history", "history/empty"],
    [
      ["burst SMS/s", fmt(e!.smsPerSecond), fmt(h!.smsPerSecond), pct(h!.smsPerSecond, e!.smsPerSecond)],
      ["burst parts/s", fmt(e!.partsPerSecond), fmt(h!.partsPerSecond), pct(h!.partsPerSecond, e!.partsPerSecond)],
      ["burst latency p50 ms (lower is better)", fmtInt(e!.p50), fmtInt(h!.p50), pct(h!.p50, e!.p50)],
      ["burst latency p99 ms (lower is better)", fmtInt(e!.p99), fmtInt(h!.p99), pct(h!.p99, e!.p99)],
      ["burst round-trips/SMS (lower is better)", fmt(e!.roundTrips, 2), fmt(h!.roundTrips, 2), pct(h!.roundTrips, e!.roundTrips)],
      ["Taqib/bare uncapped", fmt(e!.smsPerSecond / bareMax.smsPerSecond, 3), fmt(h!.smsPerSecond / bareMax.smsPerSecond, 3), pct(h!.smsPerSecond, e!.smsPerSecond)],
      ["limit run parts/s (first->last part)", fmt(le!.sendingPartsPerSecond), fmt(lh!.sendingPartsPerSecond), pct(lh!.sendingPartsPerSecond, le!.sendingPartsPerSecond)],
    ],
  );

  console.log("");
  for (const size of HISTORY_SIZES) {
    const b = bursts.get(size.label)!;
    console.log(
      `${size.label} burst: all ${fmtInt(b.count)} events accepted (202) after ${fmt(b.acceptedAfter, 1)} s; first part at the SMSC after ${fmt(b.firstPartAfter, 1)} s; ` +
        `last after ${fmt(b.seconds, 1)} s; ${b.duplicates} SMS received more than once, ${b.wrongParts} not in ${PARTS} parts; ${b.cpu}`,
    );
  }
  for (const size of HISTORY_SIZES) {
    const l = limits.get(size.label)!;
    console.log(`${size.label} limit run: ${l.duplicates} SMS received more than once, ${l.wrongParts} not in ${PARTS} parts; first part after ${fmt(l.firstPartAfter, 1)} s; ${l.cpu}`);
  }
  console.log(`first /metrics scrape of each burst's Taqib (it counts the message log by status): ${HISTORY_SIZES.map((s) => `${s.label} ${fmt(firstScrapes.get(s.label)! / 1000, 2)} s`).join(", ")}`);
  console.log(`simulator: ${smsc.stats.throttled} submits throttled (ESME_RTHROTTLED) in the whole run.`);
  console.log(loadLine());
});

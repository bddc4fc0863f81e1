// bench:ingest — sustained events per second APPLIED by Taqib (posted to POST /api/v1/events
// until the outbox, `events_pending`, is empty again: stored, projected, SMS queued, follow-up
// records written, marked applied), against raw insertOne / insertMany of the same events'
// stored form with the MongoDB driver into the same FerretDB, measured in the same run:
//
//   a. single events, 8 concurrent clients (one event per request)
//   b. batches of 1,000 events, one request at a time
//
// Each at two history sizes (bench/history.ts): an empty database, and one holding
// 1,000,000 transactions (with their events) and 3,000,000 messages (with their part
// records) — times BENCH_SCALE — written with the driver in Taqib's own document shapes,
// after Taqib created its indexes. The ratio history/empty of every figure is printed.
//
// One FerretDB for the whole run, a database per history size. Per size: Taqib creates its
// indexes, the history is seeded, the raw baseline runs (no Taqib running) into that
// database's own `events` collection (its inserts are removed afterwards), then Taqib runs in
// a child process (SERVICES=api,events,directory: acceptance and the apply; SMS stay queued)
// and the load comes from this process (fetch, keep-alive). Taqib's database round-trips per
// event are read from its /metrics (`taqib_db_commands`) before and after each measurement.
import { MongoClient } from "mongodb";
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { testDatabase, seedDirectory, sampleLifecycle } from "../test/support/harness.ts";
import { spawnTaqib } from "../test/support/processes.ts";
import { eventHash, validateEvent, type IncomingEvent } from "../core/events/contract.ts";
import { banner, cpuMeter, fmt, fmtInt, loadLine, main, now, percentile, pool, postEvents, progress, ratio, scaled, table, until } from "./common.ts";
import { createTaqibIndexes, dbRoundTrips, describeHistory, firstScrape, HISTORY_SIZES, seedHistory } from "./history.ts";

const SINGLES = scaled(5_000);
const SINGLE_CONCURRENCY = 8;
const BATCHED = scaled(20_000);
const BATCH = 1000;
const SERVICES = "api,events,directory";

type RawEvent = ReturnType<typeof sampleLifecycle>[number];

/** `count` lifecycle events as posted (6 per transaction), ids and numbers unique to `tag`. */
function makeEvents(tag: number, count: number): RawEvent[] {
  const out: RawEvent[] = [];
  for (let t = 0; out.length < count; t++) {
    const number = `14${String(tag).padStart(2, "0")}${String(t).padStart(6, "0")}`;
    const mobile = `05${String(tag * 1_000_000 + t).padStart(8, "0").slice(-8)}`;
    out.push(...sampleLifecycle(number, { prefix: `b${tag}-${t}`, mobile }));
  }
  return out.slice(0, count);
}

/** The document Taqib stores for an event (core/events/ingest.ts storeEventRequests), for the raw baseline. */
function storedForm(raw: RawEvent) {
  const e: IncomingEvent | undefined = validateEvent(raw).event;
  if (!e) throw new Error(`invalid bench event ${raw.id}`);
  return { _id: e.id, type: e.type, transactionNumber: e.transactionNumber, occurredAt: e.occurredAt, receivedAt: new Date(), data: e.data, hash: eventHash(e), source: "correspondence" };
}

interface Figures {
  events: number;
  /** Raw driver documents per second. */
  raw: number;
  /** Events answered 202 per second (over the posting). */
  accepted: number;
  /** Events applied per second (first post -> outbox empty). */
  applied: number;
  p50: number;
  p99: number;
  /** Taqib's database round-trips per event. */
  roundTrips: number;
  cpu: string;
}

const pct = (history: number, empty: number) => (empty > 0 && Number.isFinite(history) ? `${fmt((100 * history) / empty, 0)} %` : "-");

main(async (cleanup) => {
  banner("ingest", [
    `a. ${fmtInt(SINGLES)} single events from ${SINGLE_CONCURRENCY} concurrent clients; b. ${fmtInt(BATCHED)} events in batches of ${fmtInt(BATCH)}, one at a time`,
    `history sizes: ${HISTORY_SIZES.map(describeHistory).join("; then ")}`,
    "applied/s = events posted / (first post -> events_pending empty again); raw = insertOne/insertMany of the stored form into the same server's events collection",
    `Taqib in a child process (SERVICES=${SERVICES}); load from this process (fetch, keep-alive)`,
  ]);
  progress(loadLine());

  const server = await testDatabase();
  cleanup.add(() => server.remove());
  const client = new MongoClient(server.url, { maxPoolSize: 50 });
  await client.connect();
  cleanup.add(() => client.close());
  const base = server.url.replace(/\/[^/]*$/, "");

  const results = new Map<string, Map<string, Figures>>();
  const firstScrapes = new Map<string, number>();
  let tag = 10;

  for (const size of HISTORY_SIZES) {
    const dbName = `bench_ingest_${size.label}`;
    const url = `${base}/${dbName}`;
    const db = client.db(dbName);
    cleanup.add(() => db.dropDatabase().then(() => undefined).catch(() => undefined));
    const figures = new Map<string, Figures>();
    results.set(size.label, figures);
    progress(`== ${size.label}: ${describeHistory(size)}`);
    await createTaqibIndexes(url, { SERVICES });
    await seedHistory(db, size);

    // ---- raw baselines, while no Taqib runs
    const rawRate = async (count: number, unit: number, concurrency: number) => {
      const docs = makeEvents(tag++, count).map((e) => ({ ...storedForm(e), _id: `raw-${e.id}` }));
      const events = db.collection<any>("events");
      const run = await pool(Math.ceil(count / unit), concurrency, async (i) => {
        const slice = docs.slice(i * unit, (i + 1) * unit);
        if (unit === 1) await events.insertOne(slice[0]!);
        else await events.insertMany(slice, { ordered: false });
      });
      // Taqib's measurement finds the collection as it was.
      for (let i = 0; i < docs.length; i += 1000) await events.deleteMany({ _id: { $in: docs.slice(i, i + 1000).map((d) => d._id) } });
      return count / (run.wallMs / 1000);
    };
    const rawSingle = await rawRate(SINGLES, 1, SINGLE_CONCURRENCY);
    const rawBatched = await rawRate(BATCHED, BATCH, 1);
    progress(`${size.label}: raw insertOne x${SINGLE_CONCURRENCY} ${fmt(rawSingle)} docs/s, insertMany of ${BATCH} ${fmt(rawBatched)} docs/s`);

    // ---- Taqib
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "taqib-bench-data-"));
    cleanup.add(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const taqib = await spawnTaqib(`bench-ingest-${size.label}`, { MONGO_URL: url, SERVICES, DATA_DIR: dataDir });
    cleanup.add(async () => void (await taqib.terminate()));
    try {
      firstScrapes.set(size.label, await firstScrape(taqib.url));
      await seedDirectory(taqib.url);
      const pending = db.collection("events_pending");
      const outboxEmpty = async () => (await pending.countDocuments({})) === 0;
      const post = (body: unknown) => postEvents(taqib.url, body);
      // Warm-up: one transaction's events (connections, JIT, caches), not counted.
      await post(makeEvents(tag++, 6));
      await until(outboxEmpty, 60_000, "the warm-up applied", 50);
      // What a /metrics scrape costs in round-trips (subtracted: one per measurement).
      const s0 = await dbRoundTrips(taqib.url);
      const scrapeCost = (await dbRoundTrips(taqib.url)) - s0;

      const measure = async (what: string, count: number, unit: number, concurrency: number, raw: number) => {
        const events = makeEvents(tag++, count);
        const requests = Math.ceil(count / unit);
        const cpu = cpuMeter({ ferretdb: server.process.pid, taqib: taqib.child.pid, "bench (load)": process.pid });
        const rt0 = await dbRoundTrips(taqib.url);
        cpu.start();
        const t0 = now();
        const run = await pool(requests, concurrency, async (i) => {
          const slice = events.slice(i * unit, (i + 1) * unit);
          await post(unit === 1 ? slice[0] : slice);
        });
        const acceptedMs = now() - t0;
        let lastReport = now();
        await until(async () => {
          if (now() - lastReport > 2000) {
            lastReport = now();
            progress(`${size.label}, ${what}: +${fmt((now() - t0) / 1000, 0)} s, ${fmtInt(await pending.countDocuments({}))} events in the outbox`);
          }
          return outboxEmpty();
        }, 1_800_000, `${what}: the outbox empty`, 50);
        const appliedMs = now() - t0;
        const used = cpu.stop();
        const rt1 = await dbRoundTrips(taqib.url);
        const f: Figures = {
          events: count,
          raw,
          accepted: count / (acceptedMs / 1000),
          applied: count / (appliedMs / 1000),
          p50: percentile(run.durations, 50),
          p99: percentile(run.durations, 99),
          roundTrips: (rt1 - rt0 - scrapeCost) / count,
          cpu: used,
        };
        figures.set(what, f);
        progress(`${size.label}, ${what}: ${fmt(f.applied)} events/s applied (${fmt(f.accepted)}/s accepted), ${fmt(f.roundTrips, 2)} round-trips/event; ${used}`);
      };
      await measure(`a. single events, ${SINGLE_CONCURRENCY} concurrent`, SINGLES, 1, SINGLE_CONCURRENCY, rawSingle);
      await measure(`b. batches of ${fmtInt(BATCH)}`, BATCHED, BATCH, 1, rawBatched);
    } finally {
      const code = await taqib.terminate();
      if (code !== 0 && code !== null) progress(`Taqib exited ${code}: ${taqib.output.slice(-10).join("\n")}`);
      fs.rmSync(dataDir, { recursive: true, force: true });
      await db.dropDatabase().catch(() => undefined);
    }
  }

  console.log("");
  const rows: Array<Array<string>> = [];
  for (const size of HISTORY_SIZES) {
    for (const [what, f] of results.get(size.label)!) {
      rows.push([
        `${size.label}: ${what}`,
        fmtInt(f.events),
        fmt(f.raw),
        fmt(f.accepted),
        fmt(f.applied),
        ratio(f.applied, f.raw),
        fmt(f.p50),
        fmt(f.p99),
        fmt(f.roundTrips, 2),
      ]);
    }
  }
  table(["measurement", "events", "raw driver docs/s", "Taqib accepted/s", "Taqib applied/s", "Taqib applied/raw", "req p50 ms", "req p99 ms", "round-trips/event"], rows);
  console.log("");
  const [empty, history] = HISTORY_SIZES.map((s) => results.get(s.label)!);
  table(
    ["history/empty (target >= 80 %)", "raw driver docs/s", "Taqib accepted/s", "Taqib applied/s", "Taqib applied/raw", "round-trips/event (empty -> history)"],
    [...empty!.keys()].map((what) => {
      const e = empty!.get(what)!;
      const h = history!.get(what)!;
      return [what, pct(h.raw, e.raw), pct(h.accepted, e.accepted), pct(h.applied, e.applied), pct(h.applied / h.raw, e.applied / e.raw), `${fmt(e.roundTrips, 2)} -> ${fmt(h.roundTrips, 2)}`];
    }),
  );
  console.log("");
  for (const size of HISTORY_SIZES) for (const [what, f] of results.get(size.label)!) console.log(`${size.label}, ${what}: ${f.cpu}`);
  console.log(
    `first /metrics scrape of each Taqib process (it counts the message log by status): ${HISTORY_SIZES.map((s) => `${s.label} ${fmt(firstScrapes.get(s.label)! / 1000, 2)} s`).join(", ")}`,
  );
  console.log("raw = insertOne (8 concurrent) / insertMany (batches of 1,000) of the stored form of the same events into the events collection of the same database (indexed by Taqib), no Taqib running.");
  console.log("Taqib applied/s = events posted / (first post -> outbox empty: every event stored, projected, its SMS queued, marked applied); round-trips = Taqib's taqib_db_commands over the same interval.");
  console.log(loadLine());
});

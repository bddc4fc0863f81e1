// bench:ingest — events accepted per second by POST /api/v1/events (single events at
// concurrency 1 and 8, batches of 100 and 1,000), against raw insertOne / insertMany of the
// same documents with the MongoDB driver into the same FerretDB, measured in the same run.
//
// One FerretDB for the whole run. Each measurement gets a database of its own and a fresh
// Taqib in a child process (SERVICES=api,events,directory: acceptance, then in the
// background the projection, the follow-up records and the queueing of SMS — no sending),
// so every measurement starts from the same empty collections. The load comes from this
// process (fetch, keep-alive). The raw baseline writes the stored form of the same events
// (core/ingest.ts) into its own collection, indexed like Taqib's events, at the same
// concurrency, while no Taqib runs.
//
// One more measurement repeats the single events (30 of them) with 5,000 events already
// stored, since on FerretDB v1 (SQLite) every query scans its collection: what acceptance
// and the projection cost grows with the history kept.
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { MongoClient, type Db } from "mongodb";
import { testDatabase, seedDirectory, sampleLifecycle } from "../test/support/harness.ts";
import { spawnTaqib } from "../test/support/processes.ts";
import { eventHash, validateEvent, type IncomingEvent } from "../core/event-contract.ts";
import { EventModel } from "../core/models.ts";
import { banner, fmt, fmtInt, main, percentile, pool, postEvents, progress, ratio, scaled, table, loadLine, until } from "./common.ts";

const SINGLES = scaled(200);
const BATCHED_100 = scaled(1000);
const BATCHED_1000 = scaled(2000);
const PREFILL = scaled(5_000);
/** With history stored every event costs seconds (scans): fewer of them there. */
const PREFILL_SINGLES = scaled(20);
const APPLY_WATCH_MS = 10_000;

type RawEvent = ReturnType<typeof sampleLifecycle>[number];

/** `count` lifecycle events as posted (6 per transaction), ids and numbers unique to `tag`. */
function makeEvents(tag: number, count: number): RawEvent[] {
  const out: RawEvent[] = [];
  for (let t = 0; out.length < count; t++) {
    const number = `14${tag}${String(t).padStart(6, "0")}`;
    const mobile = `05${String(tag * 1_000_000 + t).padStart(8, "0").slice(-8)}`;
    out.push(...sampleLifecycle(number, { prefix: `b${tag}-${t}`, mobile }));
  }
  return out.slice(0, count);
}

/** The document Taqib stores for an event (core/ingest.ts), for the raw baseline. */
function storedForm(raw: RawEvent, applied = false) {
  const e: IncomingEvent | undefined = validateEvent(raw).event;
  if (!e) throw new Error(`invalid bench event ${raw.id}`);
  return {
    _id: e.id,
    type: e.type,
    transactionNumber: e.transactionNumber,
    occurredAt: e.occurredAt,
    receivedAt: new Date(),
    data: e.data,
    hash: eventHash(e),
    source: "correspondence",
    applied,
  };
}

async function createEventIndexes(db: Db, name: string) {
  const c = db.collection<any>(name);
  for (const [keys, options] of EventModel.schema.indexes()) await c.createIndex(keys as Record<string, 1>, options as object);
  await c.createIndex({ transactionNumber: 1 });
  return c;
}

async function insertInBatches(db: Db, name: string, docs: object[]) {
  const c = db.collection<any>(name);
  for (let i = 0; i < docs.length; i += 1000) await c.insertMany(docs.slice(i, i + 1000), { ordered: false });
}

main(async (cleanup) => {
  banner("ingest", [
    `${fmtInt(SINGLES)} single events, ${fmtInt(BATCHED_100)} in batches of 100, ${fmtInt(BATCHED_1000)} in batches of 1,000`,
    "Taqib in a child process per measurement (SERVICES=api,events,directory), its own database each",
    "load from this process (fetch, keep-alive)",
  ]);

  const server = await testDatabase();
  cleanup.add(() => server.remove());
  const client = new MongoClient(server.url, { maxPoolSize: 50 });
  await client.connect();
  cleanup.add(() => client.close());
  const base = server.url.replace(/\/[^/]*$/, "");

  interface Row {
    what: string;
    events: number;
    raw: number;
    taqib: number;
    p50: number;
    p99: number;
    appliedAtLast202: number;
    appliedAfter: number;
  }
  const rows: Row[] = [];
  let tag = 10;

  const measure = async (what: string, count: number, unit: number, concurrency: number, prefill = 0) => {
    const requests = Math.ceil(count / unit);
    const dbName = `bench_ingest_${tag}`;
    const taqibDb = client.db(dbName);
    const rawDb = client.db(`${dbName}_raw`);

    // Optional history already stored (applied), in both databases alike.
    if (prefill) {
      const old = makeEvents(tag++, prefill).map((e) => storedForm(e, true));
      await createEventIndexes(taqibDb, "events");
      await createEventIndexes(rawDb, "events");
      await insertInBatches(taqibDb, "events", old);
      await insertInBatches(rawDb, "events", old);
    }

    // Baseline: the stored form of the same number of events, straight into the same server.
    const rawDocs = makeEvents(tag++, count).map((e) => storedForm(e));
    const coll = await createEventIndexes(rawDb, "events");
    const rawRun = await pool(requests, concurrency, async (i) => {
      const docs = rawDocs.slice(i * unit, (i + 1) * unit);
      if (unit === 1) await coll.insertOne(docs[0]!);
      else await coll.insertMany(docs, { ordered: false });
    });
    const rawRate = count / (rawRun.wallMs / 1000);
    progress(`${what}: raw ${fmt(rawRate)} docs/s`);

    // Taqib, fresh, on its own database of the same server.
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "taqib-bench-data-"));
    cleanup.add(() => fs.rmSync(dataDir, { recursive: true, force: true }));
    const taqib = await spawnTaqib(`bench-ingest-${tag}`, { MONGO_URL: `${base}/${dbName}`, SERVICES: "api,events,directory", DATA_DIR: dataDir });
    cleanup.add(async () => void (await taqib.terminate()));
    try {
      await seedDirectory(taqib.url);
      const post = (body: unknown) => postEvents(taqib.url, body);
      // Warm-up: one transaction's events (connections, JIT), not counted.
      await post(makeEvents(9, 6).map((e) => ({ ...e, id: `warm-${tag}-${e.id}`, transactionNumber: `9${tag}0000` })));
      await until(async () => (await taqibDb.collection("events").countDocuments({ applied: false })) === 0, 60_000, "the warm-up applied", 200);

      const appliedBefore = await taqibDb.collection("events").countDocuments({ applied: true });
      const events = makeEvents(tag++, count);
      const run = await pool(requests, concurrency, async (i) => {
        const slice = events.slice(i * unit, (i + 1) * unit);
        await post(unit === 1 ? slice[0] : slice);
      });
      const rate = count / (run.wallMs / 1000);
      const applied = async () => (await taqibDb.collection("events").countDocuments({ applied: true })) - appliedBefore;
      // Counting scans the collection: time it, so the apply rate is over the real interval.
      const a0 = await applied();
      await new Promise((r) => setTimeout(r, APPLY_WATCH_MS));
      const a1 = await applied();
      progress(`${what}: Taqib ${fmt(rate)} events/s accepted; applied ${a0} by the last 202, ${a1} ${APPLY_WATCH_MS / 1000} s later`);
      rows.push({ what, events: count, raw: rawRate, taqib: rate, p50: percentile(run.durations, 50), p99: percentile(run.durations, 99), appliedAtLast202: a0, appliedAfter: a1 });
    } finally {
      await taqib.terminate();
      fs.rmSync(dataDir, { recursive: true, force: true });
      await taqibDb.dropDatabase().catch(() => undefined);
      await rawDb.dropDatabase().catch(() => undefined);
    }
  };

  progress(loadLine());
  await measure("single events, 1 concurrent", SINGLES, 1, 1);
  await measure("single events, 8 concurrent", SINGLES, 1, 8);
  await measure("batches of 100, 1 at a time", BATCHED_100, 100, 1);
  await measure("batches of 1000, 1 at a time", BATCHED_1000, 1000, 1);
  await measure(`single, 1 concurrent, ${fmtInt(PREFILL)} stored`, PREFILL_SINGLES, 1, 1, PREFILL);

  console.log("");
  table(
    ["measurement", "events", "raw driver docs/s", "Taqib accepted/s", "Taqib/raw", "req p50 ms", "req p99 ms", "applied at last 202", `applied ${APPLY_WATCH_MS / 1000} s later`],
    rows.map((r) => [r.what, fmtInt(r.events), fmt(r.raw), fmt(r.taqib), ratio(r.taqib, r.raw), fmt(r.p50), fmt(r.p99), fmtInt(r.appliedAtLast202), fmtInt(r.appliedAfter)]),
  );
  console.log("");
  console.log("raw = insertOne (single) / insertMany (batches) of the stored form of the same events, same concurrency, same FerretDB, indexed like Taqib's events.");
  console.log("Taqib accepted/s = events answered 202 (stored durably) per second, with the background apply running as in production;");
  console.log(`applied = events whose effects (projection, follow-up records, SMS queued) were recorded when the last 202 came back, and ${APPLY_WATCH_MS / 1000} s later.`);
  console.log(loadLine());
});

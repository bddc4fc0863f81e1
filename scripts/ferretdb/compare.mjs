// Compares the patched FerretDB (.tools/bin/ferretdb, built by `bash scripts/setup.sh ferretdb`)
// with the unpatched one (built here into a temporary directory from the same module source).
//
//   node scripts/ferretdb/compare.mjs            results + concurrency + timing at 100,000 documents
//   node scripts/ferretdb/compare.mjs --quick    results + concurrency only (about half a minute)
//
// Env: FERRETDB_ORIG_BIN / FERRETDB_PATCHED_BIN use those binaries instead; COMPARE_DOCS sets the
// timing collection size (default 100000).
//
// 1. Results: the same documents (numbers vs strings, arrays holding the value, null, missing
//    fields, ObjectId vs its hex string, quotes / unicode / JSON-escaped strings, nested documents,
//    dotted paths, dates of every count of digits and arrays of dates), indexes on some fields;
//    many filters (equality, $in, date ranges, ...) through find, countDocuments, sorted find,
//    distinct and aggregate $match; then updateOne / updateMany / deleteOne / deleteMany /
//    findOneAndUpdate / findOneAndDelete with filters, comparing the result and the whole
//    collection after each. Every answer of the patched server must equal the unpatched one's.
// 2. Old data files: the unpatched server's database opened by the patched server gives the same
//    answers, and its _id / indexed lookups use the indexes the unpatched server created.
// 3. Concurrency: 50 concurrent updateOne({_id, status: "queued"}, {$set: {status: "sending"}}),
//    20 trials each: MongoDB reports exactly one modified.
// 4. Timing at COMPARE_DOCS documents.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { MongoClient, ObjectId } from "mongodb";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const VERSION = "v1.24.2";
const quick = process.argv.includes("--quick");
const N = Number(process.env.COMPARE_DOCS ?? 100_000);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "ferretdb-compare-"));
const children = [];
const log = (...a) => console.log(...a);

function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill("SIGKILL");
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.on("exit", cleanup);
process.on("SIGINT", () => process.exit(130));

function buildUnpatched() {
  if (process.env.FERRETDB_ORIG_BIN) return process.env.FERRETDB_ORIG_BIN;
  const modcache = spawnSync("go", ["env", "GOMODCACHE"], { encoding: "utf8" }).stdout.trim();
  const src = path.join(modcache, "github.com/!ferret!d!b/!ferret!d!b@" + VERSION);
  if (!fs.existsSync(path.join(src, "go.mod"))) throw new Error(`no ${src}: run bash scripts/setup.sh ferretdb first`);
  const dir = path.join(tmp, "src");
  fs.cpSync(src, dir, { recursive: true });
  spawnSync("chmod", ["-R", "u+w", dir]);
  fs.writeFileSync(path.join(dir, "build/version/version.txt"), VERSION + "\n");
  const bin = path.join(tmp, "ferretdb-unpatched");
  log("building the unpatched FerretDB into a temporary directory…");
  const r = spawnSync("go", ["build", "-o", bin, "./cmd/ferretdb"], { cwd: dir, stdio: "inherit" });
  if (r.status !== 0) throw new Error("go build failed");
  fs.rmSync(dir, { recursive: true, force: true });
  return bin;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function start(bin, dir) {
  fs.mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const child = spawn(
    bin,
    [
      "--handler=sqlite",
      `--sqlite-url=file:${dir}/`,
      `--state-dir=${dir}`,
      `--listen-addr=127.0.0.1:${port}`,
      "--telemetry=disable",
      "--log-level=WARN",
      "--debug-addr=127.0.0.1:0",
    ],
    // (its WARN lines, e.g. the driver's endSessions it does not know, are noise here; COMPARE_VERBOSE=1 shows them)
    { stdio: ["ignore", "ignore", process.env.COMPARE_VERBOSE ? "inherit" : "ignore"] },
  );
  children.push(child);
  for (let i = 0; ; i++) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, "127.0.0.1", () => (s.end(), resolve(true)));
      s.on("error", () => resolve(false));
    });
    if (ok) break;
    if (i > 300 || child.exitCode !== null) throw new Error(`${bin} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  const client = new MongoClient(`mongodb://127.0.0.1:${port}/`, { maxPoolSize: 100 });
  await client.connect();
  return {
    client,
    db: client.db("cmp"),
    async stop() {
      await client.close();
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
    },
  };
}

// ---------- data ----------
const oid = (i) => new ObjectId(i.toString(16).padStart(24, "0"));
const hex = (i) => i.toString(16).padStart(24, "0");
const odd = [
  "queued", "sending", "", "a b", 'quo"te', "back\\slash", "ünïcödé", "日本語", "emoji 😀", "<tag>&amp;",
  "line\nbreak", "tab\t", "\u2028sep", "[not array", "{not doc}", "null", "123", "0x1F", "'single'",
];
// Dates of every count of digits (as milliseconds since 1970: 13 from 2001-09-09 to 2286-11-20),
// arrays of dates, and values of other types: the date ranges of patch 0005.
const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 15, 9);
const DUES = [
  ...Array.from({ length: 9 }, (_, k) => new Date(T0 + (k - 4) * DAY)), new Date(T0 - 4 * DAY),
  new Date(5), new Date(0), new Date("1999-01-01T00:00:00Z"), new Date("1960-01-01T00:00:00Z"), new Date("2300-01-01T00:00:00Z"),
  [new Date(T0 + 9 * DAY), "x"], [new Date(T0 - 9 * DAY)], [], T0, "2026-01-15", null, undefined, { d: new Date(T0) },
];
function makeDocs() {
  const docs = [];
  const values = [
    ...odd, 123, 123.5, 0, -1, true, false, null, oid(7), hex(7), new Date(0),
    ["queued", "x"], ["sending"], [], [{ x: "queued" }], [null], [123, "123"], [oid(7)],
    { a: "queued" }, { b: { c: "x" } }, "queued", "queued", "sending",
  ];
  let i = 0;
  for (const v of values) {
    for (const idKind of ["str", "oid", "num"]) {
      const id = idKind === "str" ? `d${i}` : idKind === "oid" ? oid(1000 + i) : i;
      const doc = { _id: id, n: i };
      if (i % 7 !== 3) doc.status = v; // some documents miss the field
      doc.tn = typeof v === "string" ? v : String(i % 5);
      doc.name = v;
      doc.ref = i % 3 === 0 ? oid(i % 10) : i % 3 === 1 ? hex(i % 10) : [oid(i % 10)];
      doc.a = i % 4 === 0 ? { b: v } : i % 4 === 1 ? [{ b: v }, { b: "z" }] : i % 4 === 2 ? "flat" : undefined;
      if (doc.a === undefined) delete doc.a;
      doc.applied = i % 2 === 0;
      const due = DUES[i % DUES.length];
      if (due !== undefined) doc.due = due;
      docs.push(doc);
      i++;
    }
  }
  // (not also { _id: hex(7) }: FerretDB's SQLite storage writes an ObjectId as its hex string, so the
  // unique _id index rejects the second one as a duplicate, patched or not)
  docs.push({ _id: oid(7), n: i++, status: "oid-id" });
  docs.push({ _id: 'q"uote', n: i++, status: "queued" });
  docs.push({ _id: "ünï😀", n: i++, status: "queued" });
  return docs;
}

function makeFilters() {
  const ids = ["d0", "d5", "d30", "nope", oid(1001), oid(7), hex(7), 'q"uote', "ünï😀", 4, oid(999999)];
  const vals = [...odd, oid(7), hex(7), "x", "z", "123", "flat"];
  const f = [];
  for (const id of ids) {
    f.push({ _id: id }, { _id: { $eq: id } }, { _id: id, status: "queued" }, { _id: id, applied: false });
  }
  f.push({ _id: { $in: ids } }, { _id: { $in: ["d1", "d2", oid(1003)] }, status: { $ne: "x" } }, { _id: { $in: [] } });
  f.push({ _id: { $in: ["d1", 2] } }, { _id: { $in: ["d1", null] } }, { _id: { $gt: "d5" } }, { _id: { $regex: "^d1" } });
  for (const field of ["status", "tn", "name", "ref", "a.b"]) {
    for (const v of vals) {
      f.push({ [field]: v }, { [field]: { $eq: v } }, { [field]: v, applied: false });
    }
    f.push({ [field]: { $in: ["queued", "sending"] } }, { [field]: { $in: vals } });
    f.push({ [field]: { $in: ["queued", null] } }, { [field]: { $in: ["queued", 123] } });
    f.push({ [field]: { $in: ["queued", "x"], $ne: "sending" } }, { [field]: { $eq: "queued", $exists: true } });
    f.push({ [field]: null }, { [field]: 123 }, { [field]: { $exists: false } }, { [field]: ["queued", "x"] });
    f.push({ [field]: { a: "queued" } }, { [field]: { $ne: "queued" } }, { [field]: { $nin: ["queued"] } });
  }
  f.push({ status: "queued", tn: "queued" }, { tn: "queued", status: { $in: ["queued", "x"] } });
  f.push({ $or: [{ _id: "d0" }, { status: "sending" }] }, { $and: [{ status: "queued" }, { n: { $gt: 10 } }] });
  f.push({ status: "queued", $comment: "c" }, { status: { $not: { $eq: "queued" } } }, { status: { $all: ["queued", "x"] } });
  f.push({ status: { $elemMatch: { $eq: "queued" } } }, { "status.0": "queued" }, { status: { $size: 2 } });
  const bounds = [T0, T0 - 3 * DAY, T0 + 3 * DAY + 1, 0, 5, Date.UTC(1999, 0, 1), Date.UTC(2300, 0, 1), -DAY].map((t) => new Date(t));
  for (const b of bounds) {
    for (const op of ["$lt", "$lte", "$gt", "$gte"]) f.push({ due: { [op]: b } });
    f.push({ due: { $gte: new Date(T0 - 2 * DAY), $lt: b } }, { due: { $gt: b, $lte: new Date(T0 + 2 * DAY) } }, { due: { $gte: b, $lt: new Date(T0) } });
  }
  f.push({ due: { $lt: new Date(T0), $gte: new Date(T0 - 2 * DAY) }, status: "queued" }, { due: { $lt: new Date(T0) }, applied: true });
  f.push({ due: { $lt: new Date(T0), $ne: null } }, { due: { $not: { $lt: new Date(T0) } } }, { due: { $lt: new Date(T0), $gt: 5 } });
  f.push({ due: { $lt: T0 + DAY } }, { due: { $lt: "2026-02" } }, { due: { $gte: new Date(T0), $lt: new Date(T0 - DAY) } });
  f.push({ $or: [{ due: { $lt: new Date(T0) } }, { status: "queued" }] }, { due: { $elemMatch: { $lt: new Date(T0) } } });
  f.push({ tn: { $lt: new Date(T0) } }, { "a.b": { $lt: new Date(T0) } }, { name: { $gte: new Date(0), $lt: new Date(T0) } });
  return f;
}

// ---------- comparisons ----------
let checks = 0;
const diffs = [];
function same(what, a, b) {
  checks++;
  if (!isDeepStrictEqual(a, b)) diffs.push({ what, unpatched: a, patched: b });
}
const show = (f) => JSON.stringify(f, (k, v) => (v instanceof ObjectId ? `ObjectId(${v})` : v));
async function run(fn) {
  try {
    return { ok: await fn() };
  } catch (e) {
    return { error: e.codeName ?? String(e.message).slice(0, 80) };
  }
}

async function setup(db, docs) {
  const c = db.collection("c");
  await c.drop().catch(() => {});
  await c.createIndex({ status: 1 });
  await c.createIndex({ tn: -1, n: 1 });
  await c.createIndex({ ref: 1 });
  await c.createIndex({ "a.b": 1 });
  await c.createIndex({ due: 1 });
  await c.insertMany(docs);
  return c;
}

async function reads(db, filters) {
  const c = db.collection("c");
  const out = [];
  for (const f of filters) {
    out.push(await run(() => c.find(f).toArray()));
    out.push(await run(() => c.countDocuments(f)));
    out.push(await run(() => c.find(f).sort({ n: -1 }).limit(3).toArray()));
    out.push(await run(() => c.distinct("n", f)));
    out.push(await run(() => c.aggregate([{ $match: f }, { $project: { n: 1 } }]).toArray()));
  }
  return out;
}

async function writes(db, docs, filters) {
  const out = [];
  const ops = [
    (c, f, i) => c.updateOne(f, { $set: { touched: i } }),
    (c, f, i) => c.updateMany(f, { $inc: { n: 1000 }, $set: { m: i } }),
    (c, f) => c.deleteOne(f),
    (c, f) => c.deleteMany(f),
    (c, f, i) => c.findOneAndUpdate(f, { $set: { fam: i } }, { returnDocument: "after" }),
    (c, f) => c.findOneAndDelete(f),
    (c, f, i) => c.updateOne(f, { $set: { up: i } }, { upsert: true }),
  ];
  // a sample of the filters, each op on a fresh collection every 40 ops
  const sample = filters.filter((_, i) => i % 3 === 0);
  let c = await setup(db, docs);
  let k = 0;
  for (const [i, f] of sample.entries()) {
    for (const [j, op] of ops.entries()) {
      if (++k % 40 === 0) c = await setup(db, docs);
      const r = await run(() => op(c, f, i * 10 + j));
      // upserted ids are generated ObjectIds for non-_id filters: compare their presence only
      if (r.ok && r.ok.upsertedId instanceof ObjectId) r.ok.upsertedId = "<generated>";
      out.push(r);
      const all = await c.find({}, { projection: {} }).toArray();
      for (const d of all) if (d._id instanceof ObjectId && d.up !== undefined && !docs.some((x) => x._id instanceof ObjectId && x._id.equals(d._id))) d._id = "<generated>";
      out.push(all);
    }
  }
  return out;
}

async function concurrency(db, label) {
  const c = db.collection("conc");
  const winners = [];
  for (let t = 0; t < 20; t++) {
    await c.deleteMany({});
    await c.insertOne({ _id: "job", status: "queued" });
    const rs = await Promise.all(
      Array.from({ length: 50 }, () => c.updateOne({ _id: "job", status: "queued" }, { $set: { status: "sending" } })),
    );
    winners.push(rs.reduce((s, r) => s + r.modifiedCount, 0));
  }
  // findOneAndUpdate and deleteOne the same way, 5 trials each
  const fam = [];
  const del = [];
  for (let t = 0; t < 5; t++) {
    await c.deleteMany({});
    await c.insertOne({ _id: "job", status: "queued" });
    const rs = await Promise.all(
      Array.from({ length: 50 }, () => c.findOneAndUpdate({ _id: "job", status: "queued" }, { $set: { status: "sending" } })),
    );
    fam.push(rs.filter((r) => r !== null).length);
    await c.deleteMany({});
    await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: `j${i}`, status: "queued" })));
    const ds = await Promise.all(Array.from({ length: 50 }, () => c.deleteOne({ status: "queued" })));
    del.push(ds.reduce((s, r) => s + r.deletedCount, 0));
  }
  log(`  ${label}: updateOne winners per trial [${winners.join(" ")}]; findOneAndUpdate [${fam.join(" ")}]; 50×deleteOne on 10 docs deleted [${del.join(" ")}]`);
  return { winners, fam, del };
}

async function plans(db, label) {
  const shapes = [
    { _id: "d0" },
    { _id: { $in: ["d0", "d1"] } },
    { _id: "d0", status: "queued" },
    { status: "queued" },
    { status: { $in: ["queued", "sending"] }, applied: false },
    { tn: { $eq: "queued" } },
    { name: "queued" },
    { "a.b": "queued" },
    { due: { $gte: new Date(T0 - DAY), $lt: new Date(T0) } },
    { due: { $lte: new Date(T0) } },
    { due: { $gte: new Date(T0) } },
  ];
  for (const filter of shapes) {
    const e = await db.command({ explain: { find: "c", filter } });
    const plan = (e.queryPlanner?.Plan ?? []).map((s) => String(s).replace(/^.*detail=/, "")).join(" | ");
    log(`  ${label} ${show(filter)}: filterPushdown=${e.filterPushdown} ${plan}`);
  }
}

async function timing(db, label) {
  const c = db.collection("big");
  await c.drop().catch(() => {});
  await c.createIndex({ transactionNumber: 1 });
  await c.createIndex({ at: 1 });
  const t0 = performance.now();
  for (let i = 0; i < N; i += 1000) {
    const batch = [];
    for (let j = i; j < Math.min(N, i + 1000); j++) {
      batch.push({ _id: `o${j}`, transactionNumber: String(j), status: "queued", agencyCode: "MOI", n: j, at: new Date(T0 + j * 60_000) });
    }
    await c.insertMany(batch);
  }
  log(`  ${label}: loaded ${N} documents in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const last = N - 1;
  const ids = Array.from({ length: 100 }, (_, i) => `o${Math.floor(((i + 1) * N) / 101)}`);
  const cases = [
    ["findOne by _id", (r) => c.findOne({ _id: `o${last - r}` })],
    ["findOne by indexed string field", (r) => c.findOne({ transactionNumber: String(last - r) })],
    ["find $in of 100 _ids", () => c.find({ _id: { $in: ids } }).toArray()],
    ["updateOne by _id", (r) => c.updateOne({ _id: `o${last - r}` }, { $set: { touched: r } })],
    ["updateOne by _id + status", (r) => c.updateOne({ _id: `o${last - r}`, status: "queued" }, { $set: { s2: r } })],
    // one minute apart: a day is 1,440 documents; the 100 first ones are before T0 + 100 minutes
    ["find a day by a date range", () => c.find({ at: { $gte: new Date(T0 + (N / 2) * 60_000), $lt: new Date(T0 + (N / 2) * 60_000 + DAY) } }).toArray()],
    ["find the 100 first by $lt a date", () => c.find({ at: { $lt: new Date(T0 + 100 * 60_000) } }).toArray()],
  ];
  const res = {};
  for (const [name, fn] of cases) {
    const runs = 5;
    await fn(99); // warm-up
    const t = performance.now();
    for (let r = 0; r < runs; r++) await fn(r);
    res[name] = (performance.now() - t) / runs;
  }
  const check = await c.find({ _id: { $in: ids } }).toArray();
  if (check.length !== 100) throw new Error(`${label}: $in returned ${check.length} of 100`);
  const first = await c.countDocuments({ at: { $lt: new Date(T0 + 100 * 60_000) } });
  if (first !== 100) throw new Error(`${label}: $lt a date counted ${first} of 100`);
  return res;
}

/** A bulk update of `n` statements (one command): its counts, or "no answer" within 20 s. */
async function bulkUpdate(db, n) {
  const c = db.collection("bulk");
  await c.deleteMany({});
  await c.insertMany(Array.from({ length: n }, (_, i) => ({ _id: `b${i}`, status: "queued" })));
  const write = c.bulkWrite(
    Array.from({ length: n }, (_, i) => ({ updateOne: { filter: { _id: `b${i}`, status: "queued" }, update: { $set: { status: "sending" } } } })),
    { ordered: false },
  );
  const r = await Promise.race([write, new Promise((resolve) => setTimeout(() => resolve(undefined), 20_000))]);
  return r ? { matched: r.matchedCount, modified: r.modifiedCount } : "no answer";
}

// ---------- main ----------
const origBin = buildUnpatched();
const patchedBin = process.env.FERRETDB_PATCHED_BIN ?? path.join(ROOT, ".tools/bin/ferretdb");
if (!fs.existsSync(patchedBin)) throw new Error(`no ${patchedBin}: run bash scripts/setup.sh ferretdb`);

const docs = makeDocs();
const filters = makeFilters();
log(`${docs.length} documents, ${filters.length} filters`);

const orig = await start(origBin, path.join(tmp, "orig"));
const patched = await start(patchedBin, path.join(tmp, "patched"));

log("1. results");
await setup(orig.db, docs);
await setup(patched.db, docs);
const r1 = await reads(orig.db, filters);
const r2 = await reads(patched.db, filters);
r1.forEach((r, i) => same(`read ${Math.floor(i / 5)}.${i % 5} ${show(filters[Math.floor(i / 5)])}`, r, r2[i]));
const w1 = await writes(orig.db, docs, filters);
const w2 = await writes(patched.db, docs, filters);
w1.forEach((r, i) => same(`write ${i}`, r, w2[i]));
log(`  ${checks} comparisons, ${diffs.length} different`);

log("2. old data files");
await setup(orig.db, docs);
await orig.stop();
const reopened = await start(patchedBin, path.join(tmp, "orig"));
const r3 = await reads(reopened.db, filters);
r1.forEach((r, i) => same(`reopened read ${i} ${show(filters[Math.floor(i / 5)])}`, r, r3[i]));
await plans(reopened.db, "patched on the unpatched server's files:");
log(`  ${checks} comparisons in all, ${diffs.length} different`);
await reopened.stop();
const orig2 = await start(origBin, path.join(tmp, "orig2"));
await setup(orig2.db, docs);
await plans(orig2.db, "unpatched:");

log("3. concurrency (50 concurrent conditional updates, MongoDB: exactly 1)");
const c1 = await concurrency(orig2.db, "unpatched");
const c2 = await concurrency(patched.db, "patched  ");
const isolated = c2.winners.every((w) => w === 1) && c2.fam.every((w) => w === 1) && c2.del.every((d) => d === 10);

log("3b. one bulk update of many statements (the unpatched server with fewer than its 100 connections)");
const b1 = await bulkUpdate(orig2.db, 90);
const b2 = await bulkUpdate(patched.db, 1000);
log(`  unpatched, 90 statements: ${JSON.stringify(b1)}; patched, 1,000 statements: ${JSON.stringify(b2)}`);
const bulkOk = b2 !== "no answer" && b2.matched === 1000 && b2.modified === 1000;

let t1, t2;
if (!quick) {
  log(`4. timing at ${N} documents (mean of 5 runs, ms)`);
  t1 = await timing(orig2.db, "unpatched");
  t2 = await timing(patched.db, "patched");
  for (const k of Object.keys(t1)) log(`  ${k.padEnd(34)} ${t1[k].toFixed(1).padStart(9)} → ${t2[k].toFixed(1).padStart(7)}`);
}
await orig2.stop();
await patched.stop();

for (const d of diffs.slice(0, 10)) log("DIFF", d.what, "\n  unpatched:", show(d.unpatched).slice(0, 400), "\n  patched:  ", show(d.patched).slice(0, 400));
log(diffs.length === 0 && isolated && bulkOk ? "OK: identical results, isolated updates, bulk updates answered" : `FAILED: ${diffs.length} differences, isolated=${isolated}, bulk=${bulkOk}`);
process.exitCode = diffs.length === 0 && isolated && bulkOk ? 0 : 1;

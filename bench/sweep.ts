// bench:sweep — the overdue safety sweep (core/followup/notices.ts sweepNotices) over many
// transactions: its cost follows the items that are overdue (and, on FerretDB v1, the
// items still pending), not the transactions stored.
//
// Data is generated straight into the database with insertMany (fast): N transactions,
// each as the projection stores one (an outgoing letter to an agency that needs a reply),
// and pending_replies — the collection that holds only the items still waiting for a reply —
// with K overdue items (nextAt in the past) and F items not yet due (nextAt ahead).
// The sweep runs in this process on the product's own models (mongoose) and Agenda, against
// a FerretDB of its own; each sweep really queues the K overdue notices and moves the items
// on, so between measurements the overdue items, messages and jobs are replaced by fresh ones.
//
// 1. What the sweep reads — its query alone, no writes — at the requested sizes:
//   A. K = 1,000 overdue, F = 1,000 pending but not yet due, N = 10,000 / 100,000
//      (/ 1,000,000 with BENCH_SWEEP_1M=1: generating a million transactions takes
//      minutes here, and the sweep never reads the transactions collection anyway)
//   B. N = 100,000, F = 1,000, K = 100 / 1,000 / 5,000
//   C. N = 100,000, K = 1,000, F = 0 / 10,000 / 50,000
// 2. The whole sweep (the query, then for each overdue item a notice queued, the item moved
//    on and its next job scheduled). On FerretDB v1 every per-item lookup scans its
//    collection, so a whole sweep costs about K x (pending + jobs): smaller sizes by default
//    (BENCH_SWEEP_KS / BENCH_SWEEP_FS take other comma-separated lists):
//   A. K = 100 at each N of 1.A;   D. K = 100 / 300 / 1,000 with F = 0;
//   E. K = 100 with F = 1,000 (next to D's K = 100 with F = 0).
// pending_replies gets the indexes its schema declares (nextAt, departmentCode,
// transactionNumber); explain shows what FerretDB makes of the sweep's query.
import { testDatabase } from "../test/support/harness.ts";
import { connectDatabase, disconnectDatabase, nativeDb } from "../core/store/db.ts";
import { openJobs, JOBS_COLLECTION } from "../core/platform/jobs.ts";
import { loadConfig } from "../core/platform/config.ts";
import { PendingReplyModel } from "../core/followup/models.ts";
import { sweepNotices } from "../core/followup/notices.ts";
import { DepartmentModel } from "../core/directory/models.ts";
import { banner, cpuMeter, fmt, fmtInt, loadLine, main, now, progress, scaled, table } from "./common.ts";

const DAY = 86_400_000;
const WITH_1M = process.env.BENCH_SWEEP_1M === "1";
const NS = [scaled(10_000), scaled(100_000), ...(WITH_1M ? [scaled(1_000_000)] : [])];
const N_FIXED = scaled(100_000);
const K_FIXED = scaled(1_000);
const F_FIXED = scaled(1_000);
const KS = [scaled(100), scaled(1_000), scaled(5_000)];
const FS = [0, scaled(10_000), scaled(50_000)];
/** Whole sweeps (with their writes) cost K x (pending + jobs) on FerretDB v1: smaller sizes by default. */
const listEnv = (name: string, def: number[]) => (process.env[name] ? process.env[name]!.split(",").map((x) => scaled(Number(x))) : def);
const FULL_KS = listEnv("BENCH_SWEEP_KS", [scaled(100), scaled(300), scaled(1_000)]);
const FULL_F = 0;
const FULL_FS = listEnv("BENCH_SWEEP_FS", [scaled(1_000)]);

const SUBJECTS = ["طلب إفادة", "طلب تصريح", "شكوى", "طلب مساعدة", "استفسار"];

/** A transaction as the projection stores it: registered, referred, assigned, issued with a reply required. */
function transaction(i: number, at: Date) {
  const number = `18${String(i).padStart(8, "0")}`;
  const out = `9${number}`;
  const ev = (k: number, type: string, data: object) => ({ eventId: `sw-${i}-${k}`, type, occurredAt: new Date(at.getTime() + k * 60_000), receivedAt: at, data });
  return {
    _id: number,
    number,
    status: "issued",
    registered: true,
    registeredAt: at,
    citizen: { name: "محمد بن عبدالله", mobile: `+9665${String(i).padStart(8, "0")}`, language: "ar" },
    subject: SUBJECTS[i % SUBJECTS.length],
    departmentCode: "LEGAL",
    assigneeId: "E100",
    outgoing: [{ number: out, date: at, destination: { agencyCode: "MOI", name: "وزارة الداخلية" }, requiresReply: true, eventId: `sw-${i}-4` }],
    history: [
      ev(1, "registered", { citizen: { name: "محمد بن عبدالله", mobile: "0551234567" }, departmentCode: "LEGAL" }),
      ev(2, "referred", { departmentCode: "LEGAL" }),
      ev(3, "assigned", { employeeId: "E100" }),
      ev(4, "issued", { outgoingNumber: out, destination: { agencyCode: "MOI" }, requiresReply: true }),
    ],
    eventCount: 4,
    updatedAt: at,
  };
}

/** A pending reply; `overdue` puts its next notice in the past, else ahead. */
function pending(outgoing: string, transactionNumber: string, overdue: boolean, at: number) {
  const outgoingDate = new Date(overdue ? at - 12 * DAY : at - 2 * DAY);
  const dueAt = new Date(outgoingDate.getTime() + 10 * DAY);
  return { _id: outgoing, transactionNumber, departmentCode: "LEGAL", agencyCode: "MOI", outgoingDate, dueAt, nextAt: dueAt, stage: 0, createdAt: outgoingDate };
}

main(async (cleanup) => {
  banner("sweep", [
    `N (transactions) ${NS.map(fmtInt).join(" / ")}${WITH_1M ? "" : " (1,000,000 with BENCH_SWEEP_1M=1)"}`,
    `K (overdue) ${KS.map(fmtInt).join(" / ")}, F (pending, not yet due) ${FS.map(fmtInt).join(" / ")}`,
    "sweep in this process (product models, mongoose, Agenda not started); FerretDB in a child process",
  ]);
  progress(loadLine());

  const server = await testDatabase();
  cleanup.add(() => server.remove());
  await connectDatabase(server.url);
  cleanup.add(() => disconnectDatabase());
  // The jobs collection and its indexes, as a node makes them (Agenda not started).
  await openJobs(loadConfig({ API_KEYS: "bench-key-0123456789abcdef", MONGO_URL: server.url, SERVICES: "followup" }));
  // The schema's indexes (ensureIndexes creates them since 14f5482; before, it did not).
  await PendingReplyModel.createIndexes();
  const db = nativeDb();
  const transactions = db.collection<any>("transactions");
  const pendingReplies = db.collection<any>("pending_replies");
  await DepartmentModel.create({ _id: "LEGAL", name: { ar: "الإدارة القانونية", en: "Legal Affairs" }, manager: { name: "سعد الحربي", mobile: "+966559990001" }, replyPeriodDays: 10 });

  let stored = 0;
  /** Grows the transactions collection to n. */
  const growTo = async (n: number) => {
    const t0 = now();
    const at = new Date(Date.now() - 30 * DAY);
    const from = stored;
    while (stored < n) {
      const docs = [];
      while (docs.length < 1000 && stored < n) docs.push(transaction(stored++, at));
      await transactions.insertMany(docs, { ordered: false });
      if (stored % 50_000 === 0) progress(`${fmtInt(stored)} transactions stored`);
    }
    if (stored > from) progress(`${fmtInt(stored - from)} transactions inserted in ${fmt((now() - t0) / 1000, 1)} s (${fmt((stored - from) / ((now() - t0) / 1000), 0)}/s)`);
  };

  // pending_replies: F not-due items for transactions 0..F-1, K overdue for the next ones.
  // Overdue items get fresh outgoing numbers each round (their notices' ids derive from them).
  /**
   * Deletes the pending items whose _id starts with `prefix`, 10,000 at a time: FerretDB v1
   * (SQLite) fails a deleteMany of 50,000 documents ("too many SQL variables").
   */
  const deleteAll = async (collection: string, filter: object = {}) => {
    const c = db.collection<any>(collection);
    for (;;) {
      const ids = (await c.find(filter, { projection: { _id: 1 } }).limit(10_000).toArray()).map((d) => d._id);
      if (!ids.length) return;
      await c.deleteMany({ _id: { $in: ids } });
    }
  };
  const deletePrefix = (prefix: string) => deleteAll("pending_replies", { _id: { $regex: `^${prefix}` } });
  let notDue = 0;
  let round = 0;
  let overdueIds: string[] = [];
  const setPending = async (k: number, f: number) => {
    const at = Date.now();
    if (f < notDue) {
      await deletePrefix("F");
      notDue = 0;
    }
    for (let i = notDue; i < f; i += 1000) {
      const docs = [];
      for (let j = i; j < Math.min(i + 1000, f); j++) docs.push(pending(`F9${j}`, `18${String(j).padStart(8, "0")}`, false, at));
      await pendingReplies.insertMany(docs, { ordered: false });
    }
    notDue = f;
    if (overdueIds.length) await deletePrefix("K");
    round++;
    overdueIds = [];
    for (let i = 0; i < k; i += 1000) {
      const docs = [];
      for (let j = i; j < Math.min(i + 1000, k); j++) {
        const id = `K${round}-${j}`;
        overdueIds.push(id);
        docs.push(pending(id, `18${String(f + j).padStart(8, "0")}`, true, at));
      }
      await pendingReplies.insertMany(docs, { ordered: false });
    }
    // The previous sweep's notices and jobs go, so every sweep starts from the same state.
    await deleteAll("messages");
    await deleteAll(JOBS_COLLECTION);
  };

  // ---- 1. The sweep's read: its query alone, at every requested size (no writes, so the
  // overdue items just accumulate: K grows by adding items).
  interface ReadRow {
    series: string;
    n: number;
    pending: number;
    k: number;
    read: number;
    findMs: number;
  }
  const reads: ReadRow[] = [];
  const readOnce = async (series: string, n: number, k: number, f: number) => {
    await growTo(n);
    await setPending(k, f);
    const at = new Date();
    const pendingCount = await pendingReplies.countDocuments({});
    const read = await PendingReplyModel.countDocuments({ nextAt: { $lte: at } });
    // Best of 3: the query the sweep starts with (core/followup/notices.ts).
    let findMs = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 3; i++) {
      const t = now();
      const found = await PendingReplyModel.find({ nextAt: { $lte: at } }, { _id: 1 }).lean();
      findMs = Math.min(findMs, now() - t);
      if (found.length !== k) throw new Error(`expected ${k} due items, found ${found.length}`);
    }
    reads.push({ series, n, pending: pendingCount, k, read, findMs });
    progress(`read ${series}: N ${fmtInt(n)}, pending ${fmtInt(pendingCount)}, overdue ${fmtInt(k)}: the sweep reads ${fmtInt(read)} docs, its query takes ${fmt(findMs, 0)} ms`);
  };
  // ---- 2. The whole sweep: the query, then per overdue item its notice queued, the item
  // moved on to its next notice and that notice's job scheduled (real writes).
  interface SweepRow {
    series: string;
    n: number;
    pending: number;
    k: number;
    sweepMs: number;
    sent: number;
    cpu: string;
  }
  const sweeps: SweepRow[] = [];
  const sweepOnce = async (series: string, k: number, f: number) => {
    await setPending(k, f);
    const at = new Date();
    const pendingCount = await pendingReplies.countDocuments({});
    const cpu = cpuMeter({ ferretdb: server.process.pid, sweep: process.pid });
    cpu.start();
    const t = now();
    const result = await sweepNotices(10, at);
    const sweepMs = now() - t;
    const cpuLine = cpu.stop().replace("CPU used: ", "").replace(/ \(over.*/, "");
    const sent = await db.collection("messages").countDocuments({ template: "overdue" });
    if (result.due !== k || result.sent !== k || sent !== k) throw new Error(`expected ${k} notices, got due ${result.due}, sent ${result.sent}, queued ${sent}`);
    sweeps.push({ series, n: stored, pending: pendingCount, k, sweepMs, sent, cpu: cpuLine });
    progress(`sweep ${series}: N ${fmtInt(stored)}, pending ${fmtInt(pendingCount)}, overdue ${fmtInt(k)}: ${fmt(sweepMs / 1000, 2)} s (${fmt(sweepMs / k, 1)} ms per item); ${cpuLine}`);
  };
  // A: N grows (both the read and a whole sweep at each N); B, C: reads; D, E: whole sweeps.
  for (const n of NS) {
    await readOnce("A", n, K_FIXED, F_FIXED);
    await sweepOnce("A", FULL_KS[0]!, FULL_F);
  }
  const nFixed = Math.max(N_FIXED, stored);
  for (const k of KS) await readOnce("B", nFixed, k, F_FIXED);
  for (const f of FS) await readOnce("C", nFixed, K_FIXED, f);
  for (const k of FULL_KS) await sweepOnce("D", k, FULL_F);
  for (const f of FULL_FS) await sweepOnce("E", FULL_KS[0]!, f);

  // The plan FerretDB gives for the sweep's query and for a lookup by _id.
  const explainOf = async (filter: object) => (await db.command({ explain: { find: "pending_replies", filter, projection: { _id: 1 } }, verbosity: "queryPlanner" })) as any;
  const sweepPlan = await explainOf({ nextAt: { $lte: new Date() } });
  const idPlan = await explainOf({ _id: overdueIds[0] });
  const indexes = (await pendingReplies.indexes()).map((i) => JSON.stringify(i.key)).join(", ");

  console.log("");
  console.log("1. What the sweep reads: its query {nextAt: {$lte: now}} on pending_replies (best of 3)");
  table(
    ["series", "transactions N", "pending_replies", "overdue K", "docs the sweep reads", "query ms"],
    reads.map((r) => [r.series, fmtInt(r.n), fmtInt(r.pending), fmtInt(r.k), fmtInt(r.read), fmt(r.findMs, 0)]),
  );
  console.log(`A: N grows with K = ${fmtInt(K_FIXED)} and ${fmtInt(F_FIXED)} pending-not-due fixed; B: K grows at fixed N; C: pending-not-due F grows at fixed N and K.`);
  console.log("");
  console.log("2. The whole sweep (sweepNotices: the query, then per overdue item: notice queued, item moved on, job scheduled)");
  table(
    ["series", "transactions N", "pending_replies", "overdue K", "sweep s", "ms per overdue item", "notices queued", "CPU (cores)"],
    sweeps.map((r) => [r.series, fmtInt(r.n), fmtInt(r.pending), fmtInt(r.k), fmt(r.sweepMs / 1000, 2), fmt(r.sweepMs / r.k, 1), fmtInt(r.sent), r.cpu]),
  );
  console.log(`A: N grows at K = ${fmtInt(FULL_KS[0]!)}; D: K grows with ${fmtInt(FULL_F)} pending-not-due; E: pending-not-due grows at K = ${fmtInt(FULL_KS[0]!)}.`);
  console.log("");
  console.log(`pending_replies indexes: ${indexes}`);
  console.log(
    `explain of the sweep's query {nextAt: {$lte: now}}: filterPushdown=${sweepPlan.filterPushdown}, sortPushdown=${sweepPlan.sortPushdown}, limitPushdown=${sweepPlan.limitPushdown}, plan ${JSON.stringify(sweepPlan.queryPlanner?.Plan ?? sweepPlan.queryPlanner)}`,
  );
  console.log(`explain of a lookup by _id: filterPushdown=${idPlan.filterPushdown}, plan ${JSON.stringify(idPlan.queryPlanner?.Plan ?? idPlan.queryPlanner)}`);
  console.log(
    "FerretDB v1 (SQLite) does not use the nextAt index: without pushdown it reads every pending_replies row and filters in FerretDB, and even the pushed-down " +
      "_id lookups the sweep makes per item are SQLite table scans. The transactions collection is never read by the sweep.",
  );
  console.log(loadLine());
});

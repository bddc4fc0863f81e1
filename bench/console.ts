// bench:console — the staff console's overdue board and leadership report with an office's
// last year stored (bench/history.ts with letters: 1,000,000 transactions and 3,000,000
// messages times BENCH_SCALE, a third with a letter needing a reply, the late and unanswered
// ones waiting in pending_replies), against a bare query on the same index in the same run:
// p50 and p99 of RUNS requests, the ratio, and the database round-trips each request made
// (taqib_db_commands). The report's daily facts are built by Taqib's own code after seeding.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MongoClient } from "mongodb";
import { testDatabase, testNode, freePort, seedDirectory } from "../test/support/harness.ts";
import { startFerretDB } from "../core/platform/servers.ts";
import { banner, envInt, fmt, fmtInt, loadLine, main, now, percentile, progress, table } from "./common.ts";
import { createTaqibIndexes, dbRoundTrips, describeHistory, HISTORY_SIZES, seedHistory } from "./history.ts";
import { putStaffUser } from "../core/console/accounts.ts";
import { connectDatabase } from "../core/store/db.ts";
import { markDays, refreshDirtyDays } from "../core/report/facts.ts";
import { ReportDayModel } from "../core/report/models.ts";
import { hourOf } from "../core/report/rollup.ts";
import { monthOf, monthRange } from "../core/console/report.ts";
import { riyadhDateKey } from "../core/text/calendar.ts";

const RUNS = envInt("BENCH_RUNS", 20);
const PASSWORD = "bench-console-0123";

/** A directory to keep the seeded database in, and to use again when it holds one (to try changes at BENCH_SCALE=1 without seeding each time). */
const KEEP = process.env.BENCH_CONSOLE_DATA;

main(async (cleanup) => {
  const size = HISTORY_SIZES[1]!;
  banner("bench:console", [`${describeHistory(size)}, an office's last year (a third of the transactions with a letter needing a reply)`, `${RUNS} requests each, one at a time`]);
  const reuse = !!KEEP && fs.existsSync(path.join(KEEP, "seeded.json"));
  const server = KEEP ? await startFerretDB({ dataDir: KEEP }) : await testDatabase();
  cleanup.add(() => (KEEP ? server.stop() : (server as Awaited<ReturnType<typeof testDatabase>>).remove()));
  if (!reuse) await createTaqibIndexes(server.url);
  const client = new MongoClient(server.url);
  await client.connect();
  cleanup.add(() => client.close());
  const db = client.db();
  await connectDatabase(server.url);
  let seeded: { docs: number; seconds: number; days: string[] };
  let factsSeconds = 0;
  const smsHours: string[] = [];
  for (let t = Date.now() - 40 * 86_400_000; t <= Date.now(); t += 3_600_000) smsHours.push(hourOf(new Date(t)));
  if (reuse) {
    seeded = JSON.parse(fs.readFileSync(path.join(KEEP!, "seeded.json"), "utf8"));
    progress(`the database seeded before in ${KEEP} (at ${seeded.days.at(-1)})`);
  } else {
    seeded = await seedHistory(db, size, { letters: true });
    // The facts, as Taqib's apply step and facts job make them: every day of letters and every
    // hour of SMS of the last 40 days marked, then recomputed (the report reads this month's and last month's).
    const t0 = now();
    await markDays("letters", seeded.days);
    for (let i = 0; i < smsHours.length; i += 500) await markDays("sms", smsHours.slice(i, i + 500));
    // 50 at a time until fewer are left (this hour's SMS stay dirty until it is over).
    let recomputed = 0;
    for (let n = 50; n === 50; ) {
      recomputed += n = await refreshDirtyDays(50);
      progress(`facts: ${fmtInt(recomputed)} days and hours recomputed in ${fmt((now() - t0) / 1000, 1)} s`);
    }
    factsSeconds = (now() - t0) / 1000;
    if (KEEP) fs.writeFileSync(path.join(KEEP, "seeded.json"), JSON.stringify(seeded));
  }

  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "taqib-bench-data-"));
  cleanup.add(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const node = await testNode(server.url, { DATA_DIR: dataDir, PORT: String(port), SERVICES: "api,events,directory" });
  cleanup.add(() => node.stop());
  await seedDirectory(node.url);
  await putStaffUser({ username: "bench", role: "admin", password: PASSWORD });
  const form = await fetch(`${node.url}/console/login`);
  const loginCookie = form.headers.getSetCookie()[0]!.split(";")[0]!;
  const token = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const login = await fetch(`${node.url}/console/login`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", cookie: loginCookie }, body: new URLSearchParams({ csrf: token, username: "bench", password: PASSWORD }) });
  const cookie = login.headers.getSetCookie().find((c) => c.startsWith("taqib_console="))!.split(";")[0]!;

  const measure = async (fn: () => Promise<unknown>, viaNode: boolean, before?: () => Promise<unknown>) => {
    await before?.();
    await fn();
    const ms: number[] = [];
    let trips = 0;
    for (let i = 0; i < RUNS; i++) {
      await before?.();
      const t = viaNode ? await dbRoundTrips(node.url) : 0;
      const t1 = now();
      await fn();
      ms.push(now() - t1);
      // A /metrics scrape itself makes a few round-trips: those of the scrape before are not counted.
      if (viaNode) trips += (await dbRoundTrips(node.url)) - t - scrapeTrips;
    }
    return { p50: percentile(ms, 50), p99: percentile(ms, 99), trips: viaNode ? trips / RUNS : 1 };
  };
  // What one scrape costs (measured: two scrapes back to back).
  const a = await dbRoundTrips(node.url);
  const scrapeTrips = (await dbRoundTrips(node.url)) - a;
  const get = (p: string) => async () => {
    const r = await fetch(node.url + p, { headers: { cookie } });
    if (r.status !== 200) throw new Error(`${p} answered ${r.status}`);
    await r.text();
  };

  const at = new Date();
  const month = monthOf(at);
  const lastMonth = monthOf(new Date(monthRange(month).from.getTime() - 86_400_000));
  const pending = db.collection("pending_replies");
  const [pendingCount, overdueCount, lettersThisMonth, messagesToday, factDocs] = await Promise.all([
    pending.countDocuments({}),
    pending.countDocuments({ dueAt: { $lt: at } }),
    db.collection("report_letters").countDocuments({ day: { $in: [...Array(31).keys()].map((d) => `${month}-${String(d + 1).padStart(2, "0")}`) } }),
    db.collection("messages").countDocuments({ createdAt: { $gte: new Date(Date.parse(`${riyadhDateKey(at)}T00:00:00+03:00`)), $lt: at } }),
    db.collection("report_days").countDocuments({ month }),
  ]);
  progress(`pending replies ${fmtInt(pendingCount)}, overdue now ${fmtInt(overdueCount)}; letters sent this month ${fmtInt(lettersThisMonth)}; messages created today ${fmtInt(messagesToday)}`);
  const explain = async (collection: string, filter: object) => {
    const e: any = await db.command({ explain: { find: collection, filter } });
    const plan = e.queryPlanner?.Plan ?? e.queryPlanner?.winningPlan ?? "";
    return `filterPushdown=${e.filterPushdown ?? "-"} ${JSON.stringify(plan).slice(0, 300)}`;
  };
  const boardFilter = { dueAt: { $lt: at }, kind: { $ne: "internal" } };

  const bareBoard = await measure(() => pending.find(boardFilter).sort({ dueAt: 1 }).limit(51).toArray(), false);
  const board = await measure(get("/console/board"), true);
  const boardDept = await measure(get("/console/board?department=LEGAL"), true);
  const bareFacts = await measure(() => db.collection("report_days").find({ month }).toArray(), false);
  const reportLast = await measure(get(`/console/report?month=${lastMonth}`), true);
  const report = await measure(get("/console/report"), true);
  // A reply applied meanwhile: one day of the month changed, recomputed by the read.
  const changedDay = `${month}-01`;
  const reportChanged = await measure(get("/console/report"), true, () => markDays("letters", [changedDay]));
  // The facts job has not run this hour (a new hour, or no scheduler): the hour's SMS recomputed by the read.
  const hourDoc = `sms|${hourOf(new Date())}`;
  const reportHour = await measure(get("/console/report"), true, () => ReportDayModel.updateOne({ _id: hourDoc }, { $set: { state: "dirty" }, $unset: { computedAt: 1 } }));
  const bareMonthRange = await measure(() => db.collection("messages").find({ createdAt: { $gte: monthRange(month).from, $lt: at } }).limit(1).toArray(), false);
  progress("measured");

  const times = (x: number, base: number) => (base > 0 ? `${fmt(x / base, 2)}×` : "-");
  table(["what", "p50 ms", "p99 ms", "p50 × its bare query", "db round-trips / request"], [
    ["bare find(pending_replies dueAt < now).sort(dueAt).limit(51)", fmt(bareBoard.p50), fmt(bareBoard.p99), "1", "1"],
    ["GET /console/board", fmt(board.p50), fmt(board.p99), times(board.p50, bareBoard.p50), fmt(board.trips)],
    ["GET /console/board?department=LEGAL", fmt(boardDept.p50), fmt(boardDept.p99), times(boardDept.p50, bareBoard.p50), fmt(boardDept.trips)],
    ["bare find(report_days {month})", fmt(bareFacts.p50), fmt(bareFacts.p99), "1", "1"],
    [`GET /console/report?month=${lastMonth} (every day clean)`, fmt(reportLast.p50), fmt(reportLast.p99), times(reportLast.p50, bareFacts.p50), fmt(reportLast.trips)],
    ["GET /console/report (this month, every day clean)", fmt(report.p50), fmt(report.p99), times(report.p50, bareFacts.p50), fmt(report.trips)],
    ["… a day of letters changed before each request (a reply)", fmt(reportChanged.p50), fmt(reportChanged.p99), times(reportChanged.p50, bareFacts.p50), fmt(reportChanged.trips)],
    ["… this hour's SMS not computed yet before each request", fmt(reportHour.p50), fmt(reportHour.p99), times(reportHour.p50, bareFacts.p50), fmt(reportHour.trips)],
    ["bare find(messages createdAt this month).limit(1)", fmt(bareMonthRange.p50), fmt(bareMonthRange.p99), "-", "1"],
  ]);
  console.log("");
  console.log(`history: ${fmtInt(seeded.docs)} documents seeded in ${fmt(seeded.seconds, 0)} s; the facts of ${fmtInt(seeded.days.length)} days of letters and ${fmtInt(smsHours.length)} hours of SMS built in ${fmt(factsSeconds, 0)} s`);
  console.log(`pending replies ${fmtInt(pendingCount)}, of them overdue now ${fmtInt(overdueCount)}; letters sent this month ${fmtInt(lettersThisMonth)}; messages created today ${fmtInt(messagesToday)}; this month's facts: ${fmtInt(factDocs)} documents`);
  console.log(`explain board query ${JSON.stringify(boardFilter)}: ${await explain("pending_replies", boardFilter)}`);
  console.log(`explain report_days {month}: ${await explain("report_days", { month })}`);
  console.log(`explain a day's SMS {createdAt: {$gte, $lt}}: ${await explain("messages", { createdAt: { $gte: monthRange(month).from, $lt: new Date(monthRange(month).from.getTime() + 86_400_000) } })}`);
  console.log(`a /metrics scrape costs ${scrapeTrips} round-trip(s), not counted above; load average: ${loadLine()}`);
});

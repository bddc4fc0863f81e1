// bench:console — the staff console's overdue board and leadership report with a long history
// stored (bench/history.ts: 1,000,000 transactions and 3,000,000 messages times BENCH_SCALE),
// against a bare indexed query on the same database, in the same run: median of RUNS requests,
// the ratio, and the database round-trips each request made (taqib_db_commands).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { MongoClient } from "mongodb";
import { testDatabase, testNode, freePort, seedDirectory } from "../test/support/harness.ts";
import { banner, envInt, fmt, main, now, percentile, progress, table } from "./common.ts";
import { createTaqibIndexes, dbRoundTrips, describeHistory, HISTORY_SIZES, seedHistory } from "./history.ts";
import { putStaffUser } from "../core/console/accounts.ts";
import { connectDatabase } from "../core/store/db.ts";

const RUNS = envInt("BENCH_RUNS", 20);
const PASSWORD = "bench-console-0123";

main(async (cleanup) => {
  const size = HISTORY_SIZES[1]!;
  banner("bench:console", [describeHistory(size), `${RUNS} requests each`]);
  const server = await testDatabase();
  cleanup.add(() => server.remove());
  await createTaqibIndexes(server.url);
  const client = new MongoClient(server.url);
  await client.connect();
  cleanup.add(() => client.close());
  await seedHistory(client.db(), size);
  const port = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "taqib-bench-data-"));
  cleanup.add(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const node = await testNode(server.url, { DATA_DIR: dataDir, PORT: String(port), SERVICES: "api,events,directory" });
  cleanup.add(() => node.stop());
  await seedDirectory(node.url);
  await connectDatabase(server.url);
  await putStaffUser({ username: "bench", role: "admin", password: PASSWORD });
  const form = await fetch(`${node.url}/console/login`);
  const loginCookie = form.headers.getSetCookie()[0]!.split(";")[0]!;
  const token = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const login = await fetch(`${node.url}/console/login`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", cookie: loginCookie }, body: new URLSearchParams({ csrf: token, username: "bench", password: PASSWORD }) });
  const cookie = login.headers.getSetCookie().find((c) => c.startsWith("taqib_console="))!.split(";")[0]!;

  const measure = async (fn: () => Promise<unknown>, viaNode: boolean) => {
    await fn();
    const ms: number[] = [];
    const before = viaNode ? await dbRoundTrips(node.url) : 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = now();
      await fn();
      ms.push(now() - t0);
    }
    // A /metrics scrape itself makes a few round-trips: counted once, shared over RUNS.
    const trips = viaNode ? ((await dbRoundTrips(node.url)) - before) / RUNS : 1;
    return { p50: percentile(ms, 50), p99: percentile(ms, 99), trips };
  };
  const get = (p: string) => async () => {
    const r = await fetch(node.url + p, { headers: { cookie } });
    if (r.status !== 200) throw new Error(`${p} answered ${r.status}`);
    await r.text();
  };
  const db = client.db();
  const bare = await measure(() => db.collection("pending_replies").find({ dueAt: { $lt: new Date() } }).sort({ dueAt: 1 }).limit(51).toArray(), false);
  const board = await measure(get("/console/board"), true);
  const report = await measure(get("/console/report"), true);
  const bareMonth = await measure(() => db.collection("messages").find({ createdAt: { $gte: new Date(Date.now() - 30 * 86_400_000) } }).limit(1).toArray(), false);
  progress("measured");
  // Latency: how many times the bare query's time a page takes (1 = as fast as the bare query).
  const times = (a: number, b: number) => (b > 0 ? `${fmt(a / b, 2)}×` : "-");
  table(["what", "p50 ms", "p99 ms", "p50 × bare", "db round-trips / request"], [
    ["bare find(pending_replies dueAt<now).sort(dueAt).limit(51)", fmt(bare.p50), fmt(bare.p99), "1", "1"],
    ["bare find(messages createdAt in month).limit(1)", fmt(bareMonth.p50), fmt(bareMonth.p99), "1", "1"],
    ["GET /console/board", fmt(board.p50), fmt(board.p99), times(board.p50, bare.p50), fmt(board.trips)],
    ["GET /console/report", fmt(report.p50), fmt(report.p99), times(report.p50, bareMonth.p50), fmt(report.trips)],
  ]);
});

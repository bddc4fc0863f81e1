// bench:inquiry — requests per second and latency (p50/p99) of the inquiry channels under
// concurrent load from a separate process, against a direct lookup of the same
// transactions in the database, measured the same way in the same run:
//
//   web JSON      GET  /api/v1/inquiry?number=N
//   IVR greeting  POST /channels/ivr/voice            (signed X-Twilio-Signature; no lookup)
//   IVR number    POST /channels/ivr/number?attempt=1  (signed; Digits=N#: the lookup and the spoken answer)
//   kiosk         GET  /kiosk?kiosk=gate-K&number=N    (the page with the answer)
//   database      findOne({ _id: N }) on transactions (MongoDB driver straight to FerretDB)
//
// Every request asks a bare number (the coarse answer: one transaction read by _id).
// Taqib runs in this process (SERVICES=api,events,directory,channels, CHANNELS=web,ivr,kiosk)
// with INQUIRY_RATE_LIMIT=1,000,000 per minute so its per-identity rate limit (30/min by
// default) does not cut the load; TWILIO_AUTH_TOKEN is set, so every IVR request is verified.
// The load generator is bench/load.ts in a child process: C closed loops for T seconds.
//
// The transactions: a few go through the events API (so their projection is the product's),
// then the collection is filled with copies of one under other numbers: first to 1,000, then
// to 1,000,000 transactions (times BENCH_SCALE), every lookup target measured at each size.
// The target: an inquiry's p99 within twice the bare findOne's at 1,000,000 (the embedded
// FerretDB looks an _id up through its index with the project's patches; see scripts/ferretdb).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MongoClient } from "mongodb";
import { testDatabase, testNode, api, seedDirectory, sampleLifecycle, freePort } from "../test/support/harness.ts";
import { banner, cpuMeter, envInt, fmt, fmtInt, loadLine, main, progress, ratio, scaled, table, until } from "./common.ts";
import type { LoadResult, LoadSpec, Target } from "./load.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SIZES = [scaled(1_000), scaled(1_000_000)];
const CONCURRENCY = envInt("BENCH_CONCURRENCY", 16);
const SECONDS = envInt("BENCH_SECONDS", 10);
const WARMUP = 2;
const TOKEN = "bench-twilio-auth-token";

function runLoad(spec: LoadSpec): Promise<{ result: LoadResult; pid: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bench/load.ts"), JSON.stringify(spec)], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (b: Buffer) => (out += b.toString()));
    child.stderr.on("data", (b: Buffer) => (err += b.toString()));
    child.once("exit", (code) => {
      const line = out.trim().split("\n").pop();
      if (code !== 0 || !line) return reject(new Error(`load generator exited ${code}: ${err.slice(-2000)}`));
      resolve({ result: JSON.parse(line) as LoadResult, pid: child.pid! });
    });
  });
}

main(async (cleanup) => {
  banner("inquiry", [
    `${SIZES.map(fmtInt).join(" then ")} transactions`,
    `${CONCURRENCY} concurrent loops for ${SECONDS} s per target (${SECONDS * 2} s at the larger size; after ${WARMUP} s warm-up)`,
    "Taqib in this process, load from a child process (bench/load.ts, fetch keep-alive)",
    "INQUIRY_RATE_LIMIT=1000000 per 60 s (raised so the per-identity limit does not cut the load)",
  ]);
  progress(loadLine());

  const server = await testDatabase();
  cleanup.add(() => server.remove());
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "taqib-bench-data-"));
  cleanup.add(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const node = await testNode(server.url, {
    DATA_DIR: dataDir,
    PORT: String(port),
    SERVICES: "api,events,directory,channels",
    CHANNELS: "web,ivr,kiosk",
    INQUIRY_RATE_LIMIT: "1000000",
    TWILIO_AUTH_TOKEN: TOKEN,
    PUBLIC_URL: base,
  });
  cleanup.add(() => node.stop());
  await seedDirectory(base);

  // A few transactions through the API, then copies of one up to TRANSACTIONS.
  const real = Array.from({ length: 5 }, (_, i) => `160000000${i}`);
  for (const n of real) await api(base, "POST", "/api/v1/events", sampleLifecycle(n, { prefix: `inq-${n}` }).slice(0, 4));
  const client = new MongoClient(server.url);
  await client.connect();
  cleanup.add(() => client.close());
  const transactions = client.db().collection<any>("transactions");
  const template = await until(async () => {
    const docs = await transactions.find({ _id: { $in: real } }).toArray();
    return docs.length === real.length && docs.every((d) => d.status === "issued") && docs[0];
  }, 120_000, "the seeded transactions");
  const numbers: string[] = [...real];
  const numbersFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "taqib-bench-")), "numbers.json");
  cleanup.add(() => fs.rmSync(path.dirname(numbersFile), { recursive: true, force: true }));
  /** Inserts copies until the collection holds `total` transactions. */
  const fillTo = async (total: number) => {
    const t0 = Date.now();
    while (numbers.length < total) {
      const docs = [];
      while (docs.length < 5000 && numbers.length < total) {
        const j = numbers.length;
        const number = `17${String(j).padStart(8, "0")}`;
        numbers.push(number);
        docs.push({ ...template, _id: number, number, citizen: { ...template.citizen, mobile: `+9665${String(j).padStart(8, "0")}` } });
      }
      await transactions.insertMany(docs, { ordered: false });
    }
    fs.writeFileSync(numbersFile, JSON.stringify(numbers));
    progress(`${fmtInt(numbers.length)} transactions stored (copies inserted in ${fmt((Date.now() - t0) / 1000, 1)} s)`);
  };

  const targets: Array<{ target: Target; label: string; lookup: boolean }> = [
    { target: "mongo", label: "database findOne({_id}) (baseline)", lookup: true },
    { target: "web", label: "web JSON GET /api/v1/inquiry", lookup: true },
    { target: "ivr-voice", label: "IVR POST /channels/ivr/voice (signed, no lookup)", lookup: false },
    { target: "ivr-number", label: "IVR POST /channels/ivr/number (signed, lookup)", lookup: true },
    { target: "kiosk", label: "kiosk GET /kiosk?number=", lookup: true },
  ];
  const results: Array<{ size: number; label: string; r: LoadResult; cpu: string }> = [];
  for (const size of SIZES) {
    await fillTo(size);
    for (const { target, label, lookup } of targets) {
      if (!lookup && size !== SIZES[0]) continue;
      const cpu = cpuMeter({ ferretdb: server.process.pid, taqib: process.pid });
      cpu.start();
      const { result } = await runLoad({
        target,
        base,
        publicBase: base,
        twilioToken: TOKEN,
        mongoUrl: server.url,
        numbersFile,
        concurrency: CONCURRENCY,
        // Lookups at the larger size take seconds each: twice the time for a usable sample.
        seconds: size === SIZES[0] ? SECONDS : SECONDS * 2,
        warmupSeconds: WARMUP,
      });
      const used = cpu.stop();
      results.push({ size, label, r: result, cpu: `${used.replace(/ \(over.*/, "")}, load generator ${fmt(result.cpuCores, 2)} cores` });
      progress(`${fmtInt(size)} tx, ${label}: ${fmt(result.perSecond)} req/s, p50 ${fmt(result.p50)} ms, p99 ${fmt(result.p99)} ms, ${result.errors} unexpected; ${used}`);
      if (result.errors) progress(`  first unexpected answer: ${result.firstError}`);
    }
  }

  console.log("");
  table(
    ["transactions", "target", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "unexpected", "req/s vs database lookup", "p99 / database p99 (target <= 2)"],
    results.map(({ size, label, r }) => {
      const baseline = results.find((x) => x.size === size)!.r;
      return [fmtInt(size), label, fmtInt(r.requests), fmt(r.perSecond), fmt(r.p50), fmt(r.p90), fmt(r.p99), fmt(r.max), fmtInt(r.errors), r === baseline ? "baseline" : ratio(r.perSecond, baseline.perSecond), r === baseline ? "" : fmt(r.p99 / baseline.p99, 2)];
    }),
  );
  console.log("");
  for (const { size, label, cpu } of results) console.log(`${fmtInt(size)} tx, ${label}: ${cpu.replace("CPU used: ", "CPU ")}`);
  console.log(loadLine());
});

// A small closed-loop load generator, run as a child process by bench/inquiry.ts:
// `concurrency` loops, each sending its next request as soon as the previous answered,
// for `seconds` (after `warmupSeconds` not counted). HTTP through fetch (keep-alive, the
// default of Node's fetch), or a direct findOne({ _id }) through the MongoDB driver.
//
//   node --import tsx bench/load.ts '<json spec>'   ->   one JSON line of results on stdout
//
// Spec: { target: "web" | "ivr-voice" | "ivr-number" | "kiosk" | "mongo", base?, publicBase?,
//         twilioToken?, mongoUrl?, numbersFile, concurrency, seconds, warmupSeconds }
import fs from "node:fs";
import { MongoClient } from "mongodb";
import { twilioSignature } from "../channels/ivr/signature.ts";

export type Target = "web" | "ivr-voice" | "ivr-number" | "kiosk" | "mongo";

export interface LoadSpec {
  target: Target;
  /** Where the requests go (Taqib's gateway). */
  base?: string;
  /** The URL the IVR signatures are computed over (PUBLIC_URL). */
  publicBase?: string;
  twilioToken?: string;
  mongoUrl?: string;
  /** A JSON array of transaction numbers to ask about, picked at random. */
  numbersFile: string;
  concurrency: number;
  seconds: number;
  warmupSeconds: number;
}

export interface LoadResult {
  target: Target;
  requests: number;
  /** Answers other than the expected one (or thrown errors). */
  errors: number;
  firstError?: string;
  statuses: Record<string, number>;
  seconds: number;
  perSecond: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** CPU the load generator itself used while it ran (cores). */
  cpuCores: number;
}

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const numbers = JSON.parse(fs.readFileSync(spec.numbersFile, "utf8")) as string[];
  const pick = () => numbers[Math.floor(Math.random() * numbers.length)]!;
  // Node's fetch keeps connections alive by default; a closed loop never has more than
  // `concurrency` requests, hence connections, open at once.

  let mongo: MongoClient | undefined;
  let request: (loop: number) => Promise<{ ok: boolean; status: string; detail?: string }>;
  const expectText = async (res: Response, needle: string) => {
    const text = await res.text();
    const ok = res.status === 200 && text.includes(needle);
    return { ok, status: String(res.status), detail: ok ? undefined : `${res.status}: ${text.slice(0, 200)}` };
  };
  switch (spec.target) {
    case "mongo": {
      mongo = new MongoClient(spec.mongoUrl!, { maxPoolSize: spec.concurrency, minPoolSize: spec.concurrency });
      await mongo.connect();
      const transactions = mongo.db().collection<{ _id: string }>("transactions");
      request = async () => {
        const n = pick();
        const doc = await transactions.findOne({ _id: n });
        return { ok: doc?._id === n, status: doc ? "found" : "missing", detail: doc ? undefined : `no transaction ${n}` };
      };
      break;
    }
    case "web":
      request = async () => {
        const n = pick();
        const res = await fetch(`${spec.base}/api/v1/inquiry?number=${n}`);
        return expectText(res, `"${n}"`);
      };
      break;
    case "kiosk":
      request = async (loop) => {
        const n = pick();
        const res = await fetch(`${spec.base}/kiosk?kiosk=gate-${loop % 4}&number=${n}`);
        return expectText(res, n);
      };
      break;
    case "ivr-voice":
    case "ivr-number": {
      const path = spec.target === "ivr-voice" ? "/channels/ivr/voice" : "/channels/ivr/number?attempt=1";
      request = async (loop) => {
        const caller = `+96650${String(1_000_000 + loop).slice(-7)}`;
        const params: Record<string, string> = { AccountSid: "AC0123456789abcdef0123456789abcdef", CallSid: `CA${loop}x${Math.random().toString(16).slice(2, 14)}`, From: caller, Caller: caller, To: "+966800123456", Direction: "inbound" };
        if (spec.target === "ivr-number") params.Digits = `${pick()}#`;
        const res = await fetch(`${spec.base}${path}`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded", "x-twilio-signature": twilioSignature(spec.twilioToken!, `${spec.publicBase}${path}`, params) },
          body: new URLSearchParams(params).toString(),
        });
        return expectText(res, spec.target === "ivr-voice" ? "<Gather" : "<Say");
      };
      break;
    }
    default:
      throw new Error(`unknown target ${String(spec.target)}`);
  }

  const latencies: number[] = [];
  const statuses: Record<string, number> = {};
  let errors = 0;
  let firstError: string | undefined;
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  const measureFrom = start + spec.warmupSeconds * 1000;
  const end = measureFrom + spec.seconds * 1000;
  await Promise.all(
    Array.from({ length: spec.concurrency }, async (_, loop) => {
      while (performance.now() < end) {
        const t = performance.now();
        let r: { ok: boolean; status: string; detail?: string };
        try {
          r = await request(loop);
        } catch (err) {
          r = { ok: false, status: "error", detail: String((err as Error).cause ?? err) };
        }
        const done = performance.now();
        if (t < measureFrom || done > end) continue;
        latencies.push(done - t);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
        if (!r.ok) {
          errors++;
          firstError ??= r.detail;
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const cpuCores = (cpu.user + cpu.system) / 1000 / (performance.now() - start);
  await mongo?.close();
  latencies.sort((a, b) => a - b);
  return {
    target: spec.target,
    requests: latencies.length,
    errors,
    ...(firstError ? { firstError } : {}),
    statuses,
    seconds: spec.seconds,
    perSecond: latencies.length / spec.seconds,
    p50: percentile(latencies, 50),
    p90: percentile(latencies, 90),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    cpuCores,
  };
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith("bench/load.ts")) {
  const spec = JSON.parse(process.argv[2] ?? "{}") as LoadSpec;
  run(spec).then(
    (r) => {
      process.stdout.write(`${JSON.stringify(r)}\n`);
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}

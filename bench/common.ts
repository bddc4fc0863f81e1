// Shared helpers of the benchmarks: sizes, timing, percentiles, printing, the machine.
import fs from "node:fs";
import os from "node:os";
import { execFileSync } from "node:child_process";
import { FERRETDB_VERSION } from "../core/platform/servers.ts";
import { API_KEY } from "../test/support/harness.ts";

/** BENCH_SCALE (default 1) multiplies every size; never below 1 item. */
export const SCALE = (() => {
  const raw = process.env.BENCH_SCALE;
  if (raw === undefined || raw === "") return 1;
  const n = Number(raw);
  if (!(n > 0)) throw new Error(`BENCH_SCALE must be a positive number, got "${raw}"`);
  return n;
})();

export function scaled(n: number): number {
  return Math.max(1, Math.round(n * SCALE));
}

/** An integer environment override, or the default. */
export function envInt(name: string, def: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return def;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return Math.round(n);
}

/** A progress line on stderr (the figures go to stdout). */
export function progress(line: string): void {
  process.stderr.write(`  … ${line}\n`);
}

/** CPU seconds (user + system) a process has used so far, from /proc; NaN when unknown. */
export function cpuSeconds(pid: number | undefined): number {
  if (!pid) return Number.NaN;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/**
 * Measures the CPU each named process uses between start() and stop(): who was busy.
 *
 * @example
 *   const cpu = cpuMeter({ ferretdb: db.process.pid, taqib: child.pid, bench: process.pid });
 *   cpu.start(); ...; console.log(cpu.stop());  // "ferretdb 1.62 cores, taqib 0.31 cores, bench 0.05 cores (over 12.0 s)"
 */
export function cpuMeter(pids: Record<string, number | undefined>) {
  let t0 = 0;
  let start: Record<string, number> = {};
  return {
    start() {
      t0 = now();
      start = Object.fromEntries(Object.entries(pids).map(([k, pid]) => [k, cpuSeconds(pid)]));
    },
    stop(): string {
      const wall = (now() - t0) / 1000;
      const used = Object.entries(pids).map(([k, pid]) => `${k} ${fmt((cpuSeconds(pid) - start[k]!) / wall, 2)} cores`);
      return `CPU used: ${used.join(", ")} (over ${fmt(wall, 1)} s wall, ${os.availableParallelism()} cores in the machine)`;
    },
  };
}

/** The machine's load average: other work on the machine shows here. */
export function loadLine(): string {
  const [a, b, c] = os.loadavg();
  return `load average (1/5/15 min): ${fmt(a!, 2)} ${fmt(b!, 2)} ${fmt(c!, 2)} on ${os.availableParallelism()} CPUs`;
}

export const now = (): number => performance.now();

/** The p-th percentile (0..100) of values (nearest rank). */
export function percentile(values: number[], p: number): number {
  if (!values.length) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank]!;
}

export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return "-";
  return n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export const fmtInt = (n: number): string => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");

/** "0.21× (baseline 4.8× faster)" style ratio of product to baseline rates. */
export function ratio(product: number, baseline: number): string {
  if (!(baseline > 0) || !(product > 0)) return "-";
  const r = product / baseline;
  const shown = r >= 0.1 ? fmt(r, 2) : r.toPrecision(2);
  return r >= 1 ? `${shown}× (product ${fmt(r, 1)}× faster)` : `${shown}× (baseline ${fmt(1 / r, 1)}× faster)`;
}

/** Prints a table with right-aligned columns (the first left-aligned). */
export function table(header: string[], rows: Array<Array<string | number>>): void {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  console.log(line(header));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells.slice(1)) console.log(line(r));
}

/**
 * Runs fn(i) for i in 0..total-1 with `concurrency` loops; resolves with each call's
 * duration (ms) and the wall time.
 */
export async function pool(total: number, concurrency: number, fn: (i: number) => Promise<void>): Promise<{ durations: number[]; wallMs: number }> {
  const durations: number[] = [];
  let next = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, total) }, async () => {
      for (;;) {
        const i = next++;
        if (i >= total) return;
        const t = now();
        await fn(i);
        durations.push(now() - t);
      }
    }),
  );
  return { durations, wallMs: now() - t0 };
}

/** Polls until fn() is truthy; throws after timeoutMs. */
export async function until<T>(fn: () => Promise<T | false | undefined | null>, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The machine, as docs/performance.md describes it. */
export function machine(): string {
  const cpuinfo = fs.existsSync("/proc/cpuinfo") ? fs.readFileSync("/proc/cpuinfo", "utf8") : "";
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
  let nproc = String(os.availableParallelism());
  try {
    nproc = execFileSync("nproc", { encoding: "utf8" }).trim();
  } catch {
    /* keep Node's count */
  }
  const memGiB = os.totalmem() / 1024 ** 3;
  return `${nproc} CPU (${model}), ${fmt(memGiB, 1)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}, FerretDB ${FERRETDB_VERSION} (SQLite backend)`;
}

/** The banner every benchmark prints first. */
export function banner(name: string, extra: string[] = []): void {
  console.log(`== bench:${name} — ${new Date().toISOString()}`);
  console.log(`machine: ${machine()}`);
  console.log(`BENCH_SCALE=${SCALE}${extra.length ? `; ${extra.join("; ")}` : ""}`);
  console.log("");
}

/** Runs the cleanups (last first) once, also on SIGINT/SIGTERM. */
export function cleanups(): { add(fn: () => Promise<void> | void): void; run(): Promise<void> } {
  const fns: Array<() => Promise<void> | void> = [];
  let ran: Promise<void> | undefined;
  const run = () =>
    (ran ??= (async () => {
      for (const fn of fns.reverse()) {
        try {
          await fn();
        } catch (err) {
          console.error(`cleanup: ${(err as Error).message}`);
        }
      }
    })());
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      console.error(`\n${sig}: cleaning up`);
      void run().finally(() => process.exit(130));
    });
  }
  return { add: (fn) => void fns.push(fn), run };
}

/** Runs a benchmark's main, cleaning up and exiting non-zero on failure. */
export function main(fn: (c: ReturnType<typeof cleanups>) => Promise<void>): void {
  const c = cleanups();
  const t0 = now();
  fn(c)
    .then(async () => {
      await c.run();
      console.log(`\n(done in ${fmt((now() - t0) / 1000, 1)} s)`);
      process.exit(0);
    })
    .catch(async (err) => {
      console.error(err);
      await c.run();
      process.exit(1);
    });
}

/** Posts events (one or a batch) to a Taqib node; anything but 202 (all stored) is an error. */
export async function postEvents(baseUrl: string, body: unknown): Promise<void> {
  const res = await fetch(`${baseUrl}/api/v1/events`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${API_KEY}` },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 202) throw new Error(`POST /api/v1/events answered ${res.status}: ${text.slice(0, 300)}`);
}

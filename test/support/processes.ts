// Taqib as separate operating-system processes, for tests that kill and restart nodes.
import { spawn, type ChildProcess } from "node:child_process";
import { before, after } from "node:test";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../core/platform/servers.ts";
import { API_KEY, SECRETS_KEY, eventually, startNats, testDatabase, testSmsc } from "./harness.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface TaqibProcess {
  name: string;
  port: number;
  url: string;
  child: ChildProcess;
  output: string[];
  /** SIGKILL: no shutdown at all, as a crash. */
  kill(): Promise<void>;
  /** SIGTERM, then waits for the exit (a graceful stop); resolves the exit code. */
  terminate(): Promise<number | null>;
}

/**
 * Starts `scripts/start.ts` in a child process (Node 24 with tsx) with the given environment
 * and waits until its gateway answers /health/live (when it runs the api service).
 */
export async function spawnTaqib(name: string, env: Record<string, string>, opts: { imports?: string[] } = {}): Promise<TaqibProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const imports = (opts.imports ?? []).flatMap((m) => ["--import", m]);
  const child = spawn(process.execPath, ["--import", "tsx", ...imports, path.join(ROOT, "scripts/start.ts")], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, API_KEYS: API_KEY, SECRETS_KEY, LOG_LEVEL: "warn", HOST: "127.0.0.1", NODE_ID: name, DEV_INSECURE: "1", STAFF_SMS_HOURS: "always", ...env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output: string[] = [];
  const keep = (b: Buffer) => {
    output.push(...b.toString().split("\n").filter(Boolean));
    if (output.length > 2000) output.splice(0, output.length - 2000);
    if (process.env.TEST_NODE_OUTPUT) process.stderr.write(`[${name}] ${b}`);
  };
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const proc: TaqibProcess = {
    name,
    port,
    url: `http://127.0.0.1:${port}`,
    child,
    output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async terminate() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
  };
  const services = env.SERVICES ?? "api";
  if (services.split(",").includes("api")) {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${output.slice(-20).join("\n")}`);
      const r = await fetch(`${proc.url}/health/ready`).catch(() => undefined);
      return r?.status === 200;
    }, 60000, `${name} ready`);
  } else {
    await eventually(async () => {
      if (child.exitCode !== null) throw new Error(`${name} exited (${child.exitCode}): ${output.slice(-20).join("\n")}`);
      return output.some((l) => l.includes("Taqib is up"));
    }, 60000, `${name} up`);
  }
  return proc;
}

export interface NatsCluster {
  db: Awaited<ReturnType<typeof testDatabase>>;
  nats: Awaited<ReturnType<typeof startNats>>;
  smsc: Awaited<ReturnType<typeof testSmsc>>;
  /** Starts a Taqib process on the cluster's database, NATS and SMSC (`env` adds to that); killed after the file's tests. */
  spawn(name: string, env: Record<string, string>): Promise<TaqibProcess>;
}

/**
 * A database, a nats-server and an SMSC simulator for Taqib processes spread over NATS,
 * started before the file's tests; every process spawned on it is killed after them.
 *
 * @example
 *   const cluster = natsCluster();
 *   test("…", async () => { const gateway = await cluster.spawn("gateway", { SERVICES: "api,events" }); ... });
 */
export function natsCluster(): NatsCluster {
  const processes: TaqibProcess[] = [];
  const cluster = {
    async spawn(name: string, env: Record<string, string>) {
      const p = await spawnTaqib(name, { MONGO_URL: cluster.db.url, TRANSPORTER: cluster.nats.url, SMPP_URL: cluster.smsc.url, ...env });
      processes.push(p);
      return p;
    },
  } as NatsCluster;
  before(async () => {
    cluster.db = await testDatabase();
    cluster.nats = await startNats();
    cluster.smsc = await testSmsc({ dlrDelayMs: 20 });
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await cluster.smsc?.stop();
    await cluster.nats?.stop();
    await cluster.db?.remove();
  });
  return cluster;
}

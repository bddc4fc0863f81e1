// Taqib as separate operating-system processes, for tests that kill and restart nodes.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../core/servers.ts";
import { API_KEY, eventually } from "./harness.ts";

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
export async function spawnTaqib(name: string, env: Record<string, string>): Promise<TaqibProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/start.ts")], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, API_KEYS: API_KEY, LOG_LEVEL: "warn", HOST: "127.0.0.1", NODE_ID: name, ...env, PORT: String(port) },
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

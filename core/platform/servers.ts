// Local server processes Taqib starts itself: the embedded FerretDB (default database)
// and, for tests, nats-server. Each runs as a child process on a free loopback port.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const FERRETDB_VERSION = "v1.24.2";

/** A free TCP port on 127.0.0.1 (the OS picks one; it is closed again before use). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on host:port, or rejects after timeoutMs. */
export async function waitForPort(port: number, host = "127.0.0.1", timeoutMs = 20000, child?: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`process exited with code ${child.exitCode} before listening on ${port}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, host);
      s.once("connect", () => { s.destroy(); resolve(true); });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function works(bin: string): boolean {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8", timeout: 10000 });
  return r.status === 0 && r.stdout.includes(FERRETDB_VERSION);
}

let setupChecked = false;

/**
 * The FerretDB binary: FERRETDB_BIN, the project's .tools/bin/ferretdb (built with the
 * project's patches by scripts/setup.sh, and rebuilt when they change), or ferretdb on PATH.
 */
export function ferretdbBinary(env = process.env): string {
  // Once per process: a no-op (about 30 ms) when the build is current with scripts/ferretdb/*.patch.
  if (!env.FERRETDB_BIN && !setupChecked) {
    setupChecked = true;
    spawnSync("bash", [path.join(ROOT, "scripts/setup.sh"), "ferretdb"], { stdio: "inherit" });
  }
  const candidates = [env.FERRETDB_BIN, path.join(ROOT, ".tools/bin/ferretdb"), "ferretdb"].filter(Boolean) as string[];
  for (const c of candidates) if (works(c)) return c;
  const setup = spawnSync("bash", [path.join(ROOT, "scripts/setup.sh"), "ferretdb"], { stdio: "inherit" });
  const built = path.join(ROOT, ".tools/bin/ferretdb");
  if (setup.status === 0 && works(built)) return built;
  throw new Error(
    `FerretDB ${FERRETDB_VERSION} was not found and could not be built. Install Go, then run: npm run setup ` +
      `(or set MONGO_URL to a MongoDB server).`,
  );
}

export interface LocalServer {
  url: string;
  port: number;
  process: ChildProcess;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>;
  /** Kills it at once, as a crash would. */
  kill(): void;
}

/**
 * Runs "$@" and ends it when the parent dies, however it dies: the watcher reads the pipe the
 * parent holds open as its standard input, and the kernel closes that pipe when the parent
 * exits, even by SIGKILL (Node has no PR_SET_PDEATHSIG). TERM/INT are passed on; the guard
 * exits with the server's status.
 */
const PARENT_GUARD = `exec 3<&0
"$@" </dev/null & server=$!
{ while read -r _; do :; done; kill -KILL "$server" 2>/dev/null; } <&3 & watcher=$!
exec 3<&-
trap 'kill -TERM "$server" 2>/dev/null' TERM INT
while :; do wait "$server"; status=$?; kill -0 "$server" 2>/dev/null || break; done
kill "$watcher" 2>/dev/null
exit $status`;

/**
 * Spawns a server that dies with this process: through PARENT_GUARD, in a process group of its
 * own (so a stop or kill reaches the guard and the server at once, and a terminal's Ctrl-C
 * reaches only Taqib, which stops it in order).
 */
export function spawnGuarded(bin: string, args: string[], opts: { output?: boolean } = {}): ChildProcess {
  return spawn("bash", ["-c", PARENT_GUARD, path.basename(bin), bin, ...args], {
    detached: true,
    stdio: ["pipe", opts.output ? "pipe" : "ignore", opts.output ? "pipe" : "ignore"],
  });
}

function wrap(child: ChildProcess, url: string, port: number): LocalServer {
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once("exit", () => resolve());
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(-child.pid!, s);
    } catch {
      /* the group is gone already */
    }
  };
  return {
    url,
    port,
    process: child,
    kill: () => signal("SIGKILL"),
    stop: async () => {
      if (!running()) return;
      signal("SIGTERM");
      const t = setTimeout(() => signal("SIGKILL"), 5000);
      await exited;
      clearTimeout(t);
    },
  };
}

/**
 * Starts FerretDB with the SQLite backend, data under `dataDir`, on a free (or given) port.
 *
 * @example
 *   const db = await startFerretDB({ dataDir: "./data" });
 *   // db.url === "mongodb://127.0.0.1:40123/taqib"
 *   await db.stop();
 */
export async function startFerretDB(opts: { dataDir: string; port?: number; database?: string; log?: (line: string) => void }): Promise<LocalServer> {
  const bin = ferretdbBinary();
  const dbDir = path.join(opts.dataDir, "ferretdb");
  fs.mkdirSync(dbDir, { recursive: true });
  const port = opts.port ?? (await freePort());
  const child = spawnGuarded(
    bin,
    [
      "--handler=sqlite",
      `--sqlite-url=file:${dbDir}/`,
      `--state-dir=${dbDir}`,
      `--listen-addr=127.0.0.1:${port}`,
      "--debug-addr=127.0.0.1:0",
      "--telemetry=disable",
      // Its warnings are about clients' failed commands, which Taqib reports itself: errors only.
      "--log-level=error",
    ],
    { output: true },
  );
  const log = opts.log;
  for (const stream of [child.stdout, child.stderr]) stream?.on("data", (b: Buffer) => log?.(b.toString().trimEnd()));
  await waitForPort(port, "127.0.0.1", 30000, child);
  return wrap(child, `mongodb://127.0.0.1:${port}/${opts.database ?? "taqib"}`, port);
}

/** The nats-server binary (Debian's package), or a clear error saying how to install it. */
export function natsBinary(): string {
  for (const c of [process.env.NATS_SERVER_BIN, "/usr/sbin/nats-server", "nats-server"].filter(Boolean) as string[]) {
    const r = spawnSync(c, ["--version"], { encoding: "utf8" });
    if (r.status === 0) return c;
  }
  throw new Error("nats-server not found: run `npm run setup` (or apt-get install nats-server)");
}

/** Starts a nats-server on a free (or given) loopback port. */
export async function startNats(opts: { port?: number } = {}): Promise<LocalServer> {
  const port = opts.port ?? (await freePort());
  const child = spawnGuarded(natsBinary(), ["-a", "127.0.0.1", "-p", String(port)]);
  await waitForPort(port, "127.0.0.1", 10000, child);
  return wrap(child, `nats://127.0.0.1:${port}`, port);
}

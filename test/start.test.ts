// `npm start` as a user runs it: the embedded FerretDB and simulator die with Taqib on every
// path (a busy port, SIGKILL, Ctrl-C), and a restart prints no warning about what exists.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import net from "node:net";
import { spawn } from "node:child_process";
import path from "node:path";
import { tempDir, eventually, freePort } from "./support/harness.ts";
import { spawnTaqib } from "./support/processes.ts";

const data = tempDir("taqib-start-");
after(() => data.remove());

/** Processes whose command line names `dir` (the embedded FerretDB and its guard), as "pid command". */
function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(dir)) found.push(`${pid} ${cmd.slice(0, 160)}`);
    } catch {
      /* gone meanwhile */
    }
  }
  return found;
}

test("a second start on a busy port exits 1 and leaves no FerretDB behind", async () => {
  const busy = net.createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => busy.listen(port, "127.0.0.1", resolve));
  const dir = path.join(data.dir, "busy");
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), HOST: "127.0.0.1", DATA_DIR: dir, LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  for (const s of [child.stdout!, child.stderr!]) s.on("data", (b: Buffer) => (output += b));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  busy.close();
  assert.equal(code, 1, output);
  assert.match(output, /already in use/);
  assert.match(output, /embedded database: FerretDB/, "the database had been started");
  await eventually(async () => processesUsing(dir).length === 0, 5000, "no process left").catch(() => assert.deepEqual(processesUsing(dir), []));
});

test("an unknown channel in CHANNELS stops every node at start, even one that runs no channel", async () => {
  const child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, CHANNELS: "web,fax", SERVICES: "events", MONGO_URL: "mongodb://127.0.0.1:9/never", LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  for (const s of [child.stdout!, child.stderr!]) s.on("data", (b: Buffer) => (output += b));
  const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
  assert.equal(code, 1, output);
  assert.match(output, /Configuration error — CHANNELS: unknown "fax" \(known: web, sms, ivr, kiosk/);
});

test("SIGKILL of Taqib takes its embedded FerretDB with it", async () => {
  const dir = path.join(data.dir, "sigkill");
  const taqib = await spawnTaqib("sigkill", { DATA_DIR: dir, SECRETS_KEY: "" });
  assert.ok(processesUsing(dir).some((p) => p.includes("ferretdb --handler")), "FerretDB runs");
  await taqib.kill();
  await eventually(async () => processesUsing(dir).length === 0, 5000, "no process left").catch(() => assert.deepEqual(processesUsing(dir), []));
});

test("a restart and a Ctrl-C print no 'already exists' or endSessions warning, and stop everything", async () => {
  const dir = path.join(data.dir, "restart");
  const outputs: string[] = [];
  for (const run of ["first", "second"]) {
    const taqib = await spawnTaqib(run, { DATA_DIR: dir, SECRETS_KEY: "" });
    assert.equal(await new Promise((resolve) => { taqib.child.once("exit", resolve); taqib.child.kill("SIGINT"); }), 0);
    outputs.push(taqib.output.join("\n"));
    assert.deepEqual(processesUsing(dir), []);
  }
  for (const o of outputs) {
    assert.doesNotMatch(o, /already exists|NamespaceExists|endSessions/, o.split("\n").filter((l) => /already exists|endSessions/.test(l)).slice(0, 3).join("\n"));
    assert.match(o, /received SIGINT, stopping/);
  }
});

test("the embedded quickstart listens on 127.0.0.1 unless HOST is set, and says so", async () => {
  const dir = path.join(data.dir, "loopback");
  const taqib = await spawnTaqib("loopback", { DATA_DIR: dir, SECRETS_KEY: "", HOST: "" });
  try {
    assert.match(taqib.output.join("\n"), /listens on 127\.0\.0\.1 only; set HOST=0\.0\.0\.0/);
    const port = Number(new URL(taqib.url).port);
    // The kernel's table of listening sockets: 0100007F is 127.0.0.1, 00000000 every address.
    const listening = fs.readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f[3] === "0A" && parseInt(f[1]!.split(":")[1]!, 16) === port).map((f) => f[1]!.split(":")[0]);
    assert.deepEqual(listening, ["0100007F"]);
  } finally {
    await taqib.kill();
  }
});

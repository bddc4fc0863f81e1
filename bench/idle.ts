// bench:idle — what an idle node costs the database: Taqib with every service (embedded SMSC
// simulator, its own FerretDB) left alone after a little work, its database round-trips per
// second by command (the driver's command monitoring, exported as taqib_db_commands in
// /metrics) and the CPU of each process. The baseline is the same window with Taqib stopped:
// what FerretDB costs on its own.
import os from "node:os";
import path from "node:path";
import fs from "node:fs";
import { API_KEY, testDatabase, seedDirectory, sampleLifecycle } from "../test/support/harness.ts";
import { spawnTaqib } from "../test/support/processes.ts";
import { banner, cpuMeter, envInt, fmt, fmtInt, loadLine, main, postEvents, progress, table, until } from "./common.ts";

const WINDOW_S = envInt("BENCH_IDLE_SECONDS", 60);

/** Taqib's database round-trips so far, by command, from its /metrics. */
export async function roundTrips(baseUrl: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } })).text();
  const out = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^taqib_db_commands\{[^}]*command="([^"]+)"[^}]*\}\s+(\d+(?:\.\d+)?)/.exec(line);
    if (m) out.set(m[1]!, Number(m[2]));
  }
  return out;
}

main(async (cleanup) => {
  banner("idle", [`an idle node for ${WINDOW_S} s after a little work`, "Taqib in a child process with every service, the embedded SMSC simulator, its own FerretDB"]);
  progress(loadLine());
  const server = await testDatabase();
  cleanup.add(() => server.remove());
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "taqib-bench-data-"));
  cleanup.add(() => fs.rmSync(dataDir, { recursive: true, force: true }));
  const taqib = await spawnTaqib("bench-idle", { MONGO_URL: server.url, DATA_DIR: dataDir });
  cleanup.add(async () => void (await taqib.terminate()));
  await seedDirectory(taqib.url);
  // A little work first (a lifecycle, its SMS and follow-up), so every part has started.
  await postEvents(taqib.url, sampleLifecycle("7700001"));
  await until(async () => {
    const r = await fetch(`${taqib.url}/api/v1/messages?transactionNumber=7700001&status=delivered`, { headers: { Authorization: "Bearer test-key-0123456789abcdef" } });
    return ((await r.json()) as { messages: unknown[] }).messages.length >= 3;
  }, 60_000, "the lifecycle's SMS delivered");
  await new Promise((r) => setTimeout(r, 5000));

  const cpu = cpuMeter({ ferretdb: server.process.pid, taqib: taqib.child.pid });
  const before = await roundTrips(taqib.url);
  cpu.start();
  progress(`idle for ${WINDOW_S} s…`);
  await new Promise((r) => setTimeout(r, WINDOW_S * 1000));
  const usage = cpu.stop();
  const after = await roundTrips(taqib.url);
  // The two scrapes' own reads (the gauges) are not the node's idle work.
  const scrape = new Map<string, number>();
  {
    const a = await roundTrips(taqib.url);
    const b = await roundTrips(taqib.url);
    for (const [k, v] of b) scrape.set(k, v - (a.get(k) ?? 0));
  }
  const rows = [...after].map(([command, n]) => [command, n - (before.get(command) ?? 0) - (scrape.get(command) ?? 0)] as const).filter(([, n]) => n > 0);
  const total = rows.reduce((s, [, n]) => s + n, 0);

  await taqib.terminate();
  const alone = cpuMeter({ ferretdb: server.process.pid });
  alone.start();
  await new Promise((r) => setTimeout(r, Math.min(WINDOW_S, 20) * 1000));
  const aloneUsage = alone.stop();

  console.log("");
  table(["command", "round-trips", "per second"], rows.map(([c, n]) => [c, fmtInt(n), fmt(n / WINDOW_S, 2)]));
  console.log("");
  console.log(`idle node: ${fmtInt(total)} database round-trips in ${WINDOW_S} s = ${fmt(total / WINDOW_S, 2)}/s (target ≤ 1/s)`);
  console.log(`${usage}`);
  console.log(`baseline, FerretDB with Taqib stopped: ${aloneUsage}`);
  console.log(loadLine());
});

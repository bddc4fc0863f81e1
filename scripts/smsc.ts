// `npm run smsc`: the SMSC simulator on its own, for development against a real
// SMPP link. Configuration from the environment:
//   SMSC_PORT (2775)  SMSC_HOST (127.0.0.1)  SMSC_SYSTEM_ID (taqib)  SMSC_PASSWORD (secret)
//   SMSC_DLR_DELAY_MS (500)  SMSC_FAILURE_SHARE (0)  SMSC_MAX_PER_SECOND (200)
//   SMSC_SHOW_TEXT (0; 1 prints message texts, for local debugging only)
// Mobiles are printed masked, and message texts only as their length unless SMSC_SHOW_TEXT=1.
// Commands on standard input, one per line:
//   mo <from> <to> <text...>     send a mobile-originated SMS, e.g. `mo 966500000001 74747 12345`
//   throttle on|off | queuefull on|off | silent on|off | fail <share> | drop | status | help
import { createInterface } from "node:readline";
import { SHOW_TEXT_WARNING, SmscSimulator } from "../dev/smsc/simulator.ts";
import { parseMoLine } from "../dev/smsc/dev-mo.ts";

function envNumber(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`${name} must be a number within ${min}..${max}, got "${raw}"`);
    process.exit(2);
  }
  return n;
}

const port = envNumber("SMSC_PORT", 2775, 0, 65535);
const host = process.env.SMSC_HOST || "127.0.0.1";
const systemId = process.env.SMSC_SYSTEM_ID || "taqib";
const password = process.env.SMSC_PASSWORD || "secret";

const sim = new SmscSimulator({
  host,
  port,
  systemId,
  password,
  dlrDelayMs: envNumber("SMSC_DLR_DELAY_MS", 500, 0, 86_400_000),
  failureShare: envNumber("SMSC_FAILURE_SHARE", 0, 0, 1),
  maxPerSecond: envNumber("SMSC_MAX_PER_SECOND", 200, 1, 1_000_000),
  showText: process.env.SMSC_SHOW_TEXT === "1",
  log: (line) => console.log(`${new Date().toISOString()} ${line}`),
});
if (process.env.SMSC_SHOW_TEXT === "1") console.warn(SHOW_TEXT_WARNING);

const HELP = `commands:
  mo <from> <to> <text...>   send a mobile-originated SMS to the bound ESME
  throttle on|off            answer every submit_sm with ESME_RTHROTTLED
  queuefull on|off           answer every submit_sm with ESME_RMSGQFUL
  silent on|off              never answer submit_sm
  fail <0..1>                share of messages whose receipt is UNDELIV
  drop                       cut every connection
  status                     sessions and counters
  help`;

async function command(line: string): Promise<void> {
  const [cmd, ...args] = line.trim().split(/\s+/);
  const on = (v: string | undefined): boolean => v === "on" || v === "1" || v === "true";
  switch ((cmd ?? "").toLowerCase()) {
    case "":
      return;
    case "mo": {
      const mo = parseMoLine(line);
      if (!mo) return console.log("usage: mo <from> <to> <text...>");
      await sim.sendMo(mo);
      return;
    }
    case "throttle":
      sim.setBehaviour({ throttleAll: on(args[0]) });
      return console.log(`throttle ${on(args[0]) ? "on" : "off"}`);
    case "queuefull":
      sim.setBehaviour({ queueFull: on(args[0]) });
      return console.log(`queue full ${on(args[0]) ? "on" : "off"}`);
    case "silent":
      sim.setBehaviour({ silent: on(args[0]) });
      return console.log(`silent ${on(args[0]) ? "on" : "off"}`);
    case "fail": {
      const share = Number(args[0]);
      if (!(share >= 0 && share <= 1)) return console.log("usage: fail <0..1>");
      sim.setBehaviour({ failureShare: share });
      return console.log(`failure share ${share}`);
    }
    case "drop":
      return sim.dropConnections();
    case "status":
      return console.log(JSON.stringify({ sessions: sim.sessions, bound: sim.boundSessions, received: sim.received.length, ...sim.stats, behaviour: sim.currentBehaviour }));
    case "help":
      return console.log(HELP);
    default:
      console.log(`unknown command "${cmd}"; type help`);
  }
}

const { port: actual } = await sim.start();
console.log(`SMSC simulator: smpp://${systemId}:${password}@${host}:${actual}  (type "help" for commands)`);

const rl = createInterface({ input: process.stdin, terminal: false });
rl.on("line", (line) => {
  command(line).catch((err: unknown) => console.error(`error: ${(err as Error).message}`));
});
// Without a terminal (stdin closed, e.g. under a process manager) keep serving.
rl.on("close", () => undefined);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: stopping`);
  rl.close();
  await sim.stop();
  process.exit(0);
}
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGTERM", () => void shutdown("SIGTERM"));

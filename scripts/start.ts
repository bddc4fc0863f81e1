// `npm start`: Taqib with its embedded defaults — a local FerretDB (unless MONGO_URL),
// the SMSC simulator (unless SMPP_URL), and every service in one process.
import { loadConfig, ConfigError } from "../core/platform/config.ts";
import { startTaqib } from "../core/platform/node.ts";
import { enabledChannels } from "../channels/registry.ts";

try {
  // The embedded quickstart (no MONGO_URL) runs every default channel on one machine: it may
  // leave their secrets unset, loudly warned. A real deployment (MONGO_URL set) must set them.
  const env = { ...process.env };
  if (!env.MONGO_URL && env.DEV_INSECURE === undefined) {
    env.DEV_INSECURE = "1";
    console.log("note: the embedded quickstart sets DEV_INSECURE=1: channels without their secrets start unchecked (development only).");
  }
  // …so it listens on this machine only: /dev/mo and the unchecked channels are not for the network.
  if (!env.MONGO_URL && !env.HOST?.trim()) {
    env.HOST = "127.0.0.1";
    console.log("note: the embedded quickstart listens on 127.0.0.1 only; set HOST=0.0.0.0 to open it to the network.");
  }
  const config = loadConfig(env);
  // Every node checks CHANNELS, whatever services it runs: a typo is refused where it is made.
  enabledChannels(config);
  if (!config.apiKeys.length) {
    console.log("note: API_KEYS is not set, so the staff and events API refuse every request (401); set API_KEYS=<key of 16+ characters> to use them.");
  }
  // Listening before the start: a Ctrl-C while services still start stops what has started
  // (the embedded servers die with this process on every other path: core/platform/servers.ts).
  const starting = startTaqib(config, { log: (line) => console.log(line) });
  const stop = async (signal: string) => {
    console.log(`received ${signal}, stopping`);
    const t = setTimeout(() => process.exit(1), 30_000);
    await (await starting.catch(() => undefined))?.stop();
    clearTimeout(t);
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
  const node = await starting;
  // While this runs, the staff command must use this node's embedded database (a second
  // FerretDB on the same files would race it): its address goes into the hint.
  const staffCommand = `${node.database ? `MONGO_URL=${node.database.url} ` : ""}npm run staff -- add <user> --role admin`;
  console.log(`staff console: http://127.0.0.1:${config.port}/console — create the first administrator with: ${staffCommand} (in another terminal; the password is printed once)`);
  if (node.smsc) {
    // The embedded simulator takes a citizen's SMS from the console: `mo <from> <to> <text…>`.
    const { parseMoLine } = await import("../dev/smsc/dev-mo.ts");
    const { createInterface } = await import("node:readline");
    console.log('type "mo 05XXXXXXXX 74747 <text>" to send an SMS from a citizen to 74747 through the simulator');
    createInterface({ input: process.stdin, terminal: false }).on("line", (line) => {
      if (!line.trim()) return;
      const mo = parseMoLine(line);
      if (!mo) return console.log("usage: mo <from> <to> <text…>, e.g. mo 05XXXXXXXX 74747 ما حالة معاملتي 1448/00512");
      node.smsc!.sendMo(mo).catch((err: Error) => console.log(`mo not delivered: ${err.message}`));
    });
  }
} catch (err) {
  if (err instanceof ConfigError) console.error(`Configuration error — ${err.message}`);
  else console.error("Taqib could not start:", err);
  process.exit(1);
}

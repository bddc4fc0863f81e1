// `npm start`: Taqib with its embedded defaults — a local FerretDB (unless MONGO_URL),
// the SMSC simulator (unless SMPP_URL), and every service in one process.
import { loadConfig, ConfigError } from "../core/config.ts";
import { startTaqib } from "../core/node.ts";

try {
  const config = loadConfig(process.env);
  if (!config.apiKeys.length) {
    console.log("note: API_KEYS is not set, so the staff and events API refuse every request (401); set API_KEYS=<key of 16+ characters> to use them.");
  }
  const node = await startTaqib(config, { log: (line) => console.log(line) });
  const stop = async (signal: string) => {
    console.log(`received ${signal}, stopping`);
    const t = setTimeout(() => process.exit(1), 30_000);
    await node.stop();
    clearTimeout(t);
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
} catch (err) {
  if (err instanceof ConfigError) console.error(`Configuration error — ${err.message}`);
  else console.error("Taqib could not start:", err);
  process.exit(1);
}

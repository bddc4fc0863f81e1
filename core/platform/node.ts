// A whole Taqib node: the embedded servers its configuration asks for, then the broker.
import path from "node:path";
import type { ServiceBroker } from "moleculer";
import type { Config } from "./config.ts";
import { createBroker } from "./broker.ts";
import { startFerretDB, type LocalServer } from "./servers.ts";
import { disconnectDatabase } from "../store/db.ts";
import { maskLogText } from "./logging.ts";
import { embeddedSecretsKey } from "./secrets-key.ts";
import { setSendingHours } from "../sms/sending-hours.ts";
import { setStaffDigestAt } from "../sms/digest.ts";

export interface RunningNode {
  broker: ServiceBroker;
  config: Config;
  /** The embedded database, when MONGO_URL was unset. */
  database?: LocalServer;
  /** The embedded SMSC simulator, when SMPP_URL was unset and this node runs the smpp service. */
  smsc?: { port: number; stop(): Promise<void>; sendMo(mo: { from: string; to: string; text: string }): Promise<void> };
  stop(): Promise<void>;
}

/**
 * Starts a node with its embedded defaults.
 *
 * @example
 *   const node = await startTaqib(loadConfig({ API_KEYS: "..." }));
 *   await node.stop();
 */
export async function startTaqib(input: Config, opts: { log?: (line: string) => void } = {}): Promise<RunningNode> {
  const config = { ...input };
  // What the node prints itself (embedded database and simulator) is masked as its logs are.
  const log = (line: string) => opts.log?.(maskLogText(line));
  let database: LocalServer | undefined;
  let smsc: RunningNode["smsc"];
  try {
    if (!config.mongoUrl) {
      database = await startFerretDB({ dataDir: config.dataDir, log: (l) => log(`[ferretdb] ${l}`) });
      config.mongoUrl = database.url;
      log(`embedded database: FerretDB on 127.0.0.1:${database.port}, data in ${path.join(config.dataDir, "ferretdb")}`);
      if (!config.secretsKey && config.services.includes("agencies")) {
        const { keyring, file, created } = embeddedSecretsKey(config.dataDir);
        config.secretsKey = keyring;
        log(`agency secrets encrypted with the key in ${file}${created ? " (made now; set SECRETS_KEY with an external database)" : ""}`);
      }
    }
    if (!config.smppUrl && config.services.includes("smpp")) {
      const { SmscSimulator, SHOW_TEXT_WARNING } = await import("../../dev/smsc/simulator.ts");
      const sim = new SmscSimulator({
        port: config.smscPort,
        systemId: "taqib",
        password: "secret",
        dlrDelayMs: config.smscDlrDelayMs,
        failureShare: config.smscFailureShare,
        maxPerSecond: config.smscMaxPerSecond,
        showText: config.smscShowText,
        log,
      });
      if (config.smscShowText) log(SHOW_TEXT_WARNING);
      const { port } = await sim.start();
      smsc = { port, stop: () => sim.stop(), sendMo: (mo) => sim.sendMo(mo) };
      config.smppUrl = `smpp://taqib:secret@127.0.0.1:${port}`;
      log(`embedded SMSC simulator on 127.0.0.1:${port}`);
    }
    setSendingHours({ staff: config.staffSmsHours, citizenQuiet: config.citizenQuietHours });
    setStaffDigestAt(config.staffDigestAt);
    const broker = await createBroker(config);
    // A citizen's SMS over HTTP, development only: with DEV_INSECURE=1, to the embedded simulator.
    const devMo = smsc && config.devInsecure && config.services.includes("api");
    if (devMo) {
      const { devMoService } = await import("../../dev/smsc/dev-mo.ts");
      broker.createService(devMoService(smsc!.sendMo));
    }
    await broker.start();
    if (devMo) {
      const { DEV_MO_ROUTE } = await import("../../dev/smsc/dev-mo.ts");
      (broker.getLocalService("api") as any).addRoute(DEV_MO_ROUTE);
      log(`development only (DEV_INSECURE=1): POST http://127.0.0.1:${config.port}/dev/mo {"from","to","text"} sends an SMS from a citizen to the simulator`);
    }
    let dashboard: { port: number; host: string; close(): Promise<void> } | undefined;
    if (config.agendashPort !== undefined) {
      const { startAgendash } = await import("./agendash.ts");
      dashboard = await startAgendash({ port: config.agendashPort, host: config.agendashHost, apiKeys: config.apiKeys, jobs: config });
      log(`job dashboard (Agendash): http://${dashboard.host.includes(":") ? `[${dashboard.host}]` : dashboard.host}:${dashboard.port}/`);
    }
    log(`Taqib is up: http://127.0.0.1:${config.port} (services: ${config.services.join(", ")})`);
    return {
      broker,
      config,
      database,
      smsc,
      async stop() {
        await dashboard?.close();
        await broker.stop();
        await disconnectDatabase();
        await smsc?.stop();
        await database?.stop();
      },
    };
  } catch (err) {
    await smsc?.stop().catch(() => undefined);
    await database?.stop().catch(() => undefined);
    throw err;
  }
}

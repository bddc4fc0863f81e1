// Builds a node: a broker with the service groups its configuration names, loaded from
// services/*.service.ts by glob, plus one service per enabled channel plugin.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ServiceBroker } from "moleculer";
import { brokerOptions } from "../../moleculer.config.ts";
import type { Config } from "./config.ts";
import type { ServiceFactory } from "./mixins.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * A broker with this node's services, not yet started.
 *
 * @example
 *   const broker = await createBroker(loadConfig());
 *   await broker.start();
 */
export async function createBroker(config: Config): Promise<ServiceBroker> {
  const broker = new ServiceBroker(brokerOptions(config));
  const files = fs.globSync("services/*.service.ts", { cwd: ROOT }).sort();
  for (const file of files) {
    const group = path.basename(file, ".service.ts");
    if (!(config.services as string[]).includes(group)) continue;
    // Each service is built from the config (see ServiceFactory): the config stays out of the
    // broker's metadata, which Moleculer sends to every other node, with its keys and passwords.
    const mod = (await import(pathToFileURL(path.join(ROOT, file)).href)) as { default: ServiceFactory };
    for (const schema of [mod.default(config)].flat()) broker.createService(schema);
  }
  return broker;
}

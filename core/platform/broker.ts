// Builds a node: a broker with the service groups its configuration names, loaded from
// services/*.service.ts by glob, plus one service per enabled channel plugin.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { ServiceBroker, type ServiceSchema } from "moleculer";
import { brokerOptions } from "../../moleculer.config.ts";
import type { Config } from "./config.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

// Kept beside the broker, never in its metadata: Moleculer sends a node's metadata to every
// other node (INFO packets), and the config holds API keys, tokens and the SMPP password.
const configs = new WeakMap<ServiceBroker, Config>();

/** The config a service runs with (the one its broker was created with). */
export function configOf(broker: ServiceBroker): Config {
  const config = configs.get(broker);
  if (!config) throw new Error("configOf: this broker was not made by createBroker");
  return config;
}

/**
 * A broker with this node's services, not yet started.
 *
 * @example
 *   const broker = await createBroker(loadConfig());
 *   await broker.start();
 */
export async function createBroker(config: Config): Promise<ServiceBroker> {
  const broker = new ServiceBroker(brokerOptions(config));
  configs.set(broker, config);
  const files = fs.globSync("services/*.service.ts", { cwd: ROOT }).sort();
  for (const file of files) {
    const group = path.basename(file, ".service.ts");
    if (!(config.services as string[]).includes(group)) continue;
    const mod = (await import(pathToFileURL(path.join(ROOT, file)).href)) as { default: ServiceSchema | ((c: Config) => ServiceSchema | ServiceSchema[]) };
    const schemas = typeof mod.default === "function" ? mod.default(config) : mod.default;
    for (const schema of [schemas].flat()) broker.createService(schema);
  }
  return broker;
}

// Moleculer broker options, built from Taqib's validated configuration.
import type { BrokerOptions } from "moleculer";
import type { Config } from "./core/config.ts";
import { createLogger } from "./core/logging.ts";

/**
 * The broker options for a node.
 *
 * @example
 *   new ServiceBroker(brokerOptions(loadConfig()))
 */
export function brokerOptions(config: Config): BrokerOptions {
  return {
    namespace: "taqib",
    nodeID: config.nodeId,
    // No transporter: every service in one process, no broker server.
    transporter: (config.transporter ?? null) as BrokerOptions["transporter"],
    logger: createLogger(config),
    logLevel: config.logLevel,
    requestTimeout: 30_000,
    // Retries are explicit where they are safe (jobs, SMPP), never a blanket re-call of an HTTP request.
    retryPolicy: { enabled: false },
    registry: { strategy: "RoundRobin", preferLocal: true },
    // Node failure is noticed in a few seconds; its requests go elsewhere.
    heartbeatInterval: 2,
    heartbeatTimeout: 8,
    tracking: { enabled: true, shutdownTimeout: 10_000 },
    metrics: { enabled: true, reporter: [] },
    metadata: { config },
    skipProcessEventRegistration: true,
  };
}

export default brokerOptions;

// Moleculer broker options, built from Taqib's validated configuration.
import { MetricReporters, type BrokerOptions } from "moleculer";
import type { Config } from "./core/platform/config.ts";
import { createLogger } from "./core/platform/logging.ts";
import { EXPORTED_METRICS } from "./core/platform/metrics.ts";

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
    metrics: { enabled: config.metricsEnabled, reporter: [prometheusReporter(config.metricsPort, config.metricsHost) as any] },
    skipProcessEventRegistration: true,
  };
}

/**
 * Moleculer's Prometheus reporter. It serves this node's metrics on `METRICS_PORT` when
 * set (each node of a cluster is scraped on its own), bound to `METRICS_HOST` (a private
 * address: no key is asked there), and always through the gateway's GET /metrics (with a
 * `metrics:read` key).
 */
function prometheusReporter(port: number | undefined, host: string) {
  const Base = MetricReporters.Prometheus as unknown as new (opts: object) => any;
  class GatewayPrometheus extends Base {
    init(registry: unknown) {
      if (port !== undefined) return (super.init as (r: unknown) => void)(registry);
      // No server of its own: only the text, for the gateway. (BaseReporter's init.)
      this.registry = registry;
      this.broker = (registry as any).broker;
      this.logger = (registry as any).logger;
      this.defaultLabels = typeof this.opts.defaultLabels === "function" ? this.opts.defaultLabels.call(this, registry) : this.opts.defaultLabels;
    }
    stop() {
      return port !== undefined ? super.stop() : Promise.resolve();
    }
  }
  return new GatewayPrometheus({ port: port ?? 0, host, includes: EXPORTED_METRICS });
}

export default brokerOptions;

// Taqib's metrics, on Moleculer's registry (exported in Prometheus format at GET /metrics).
// Counters and histograms are counted where things happen; the figures that live in the
// database (queue depth, oldest queued SMS, SMS by status, overdue count) are read every
// few seconds by the gateway.
import type { ServiceBroker } from "moleculer";
import { MESSAGE_STATUSES, MessageModel } from "./models.ts";
import { PendingReplyModel } from "./followup.ts";

/** Every Taqib metric: name -> type, labels, help. */
export const METRICS = {
  "taqib.events.ingested": { type: "counter", labelNames: ["type", "outcome"], description: "Events received on the events API, by type and outcome (accepted, duplicate)" },
  "taqib.events.applied": { type: "counter", labelNames: ["type"], description: "Events applied to the transaction model, by type" },
  "taqib.sms.status": { type: "gauge", labelNames: ["status"], description: "SMS in the message log, by status" },
  "taqib.sms.queue.depth": { type: "gauge", labelNames: [], description: "SMS queued (waiting to be sent or retried)" },
  "taqib.sms.queue.oldest_age_seconds": { type: "gauge", labelNames: [], description: "Age of the oldest queued SMS, in seconds" },
  "taqib.sms.submitted": { type: "counter", labelNames: ["encoding"], description: "SMS submitted to the SMSC (all parts accepted)" },
  "taqib.sms.submit_errors": { type: "counter", labelNames: ["code"], description: "Submit errors by SMPP or local code" },
  "taqib.sms.receipts": { type: "counter", labelNames: ["status"], description: "Delivery receipts received, by status" },
  "taqib.sms.receipt_latency_seconds": { type: "histogram", labelNames: ["status"], description: "From submit to the final delivery receipt", buckets: [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600] },
  "taqib.smpp.inflight": { type: "gauge", labelNames: ["bind"], description: "submit_sm awaiting a response, per bind" },
  "taqib.smpp.link_up": { type: "gauge", labelNames: ["bind"], description: "1 when the bind is bound, else 0" },
  "taqib.dispatcher.inflight": { type: "gauge", labelNames: [], description: "SMS handed to workers and not yet answered (on the active dispatcher)" },
  "taqib.followup.overdue": { type: "gauge", labelNames: [], description: "Outgoing transactions past their reply due date with no reply" },
  "taqib.followup.pending": { type: "gauge", labelNames: [], description: "Outgoing transactions waiting for a reply" },
  "taqib.inquiries": { type: "counter", labelNames: ["channel"], description: "Inquiry requests, by channel" },
} as const;

export type MetricName = keyof typeof METRICS;

/** Registers every metric once per broker (services call it in `created`). */
export function registerMetrics(broker: ServiceBroker): void {
  for (const [name, def] of Object.entries(METRICS)) {
    if (!broker.metrics.getMetric(name)) broker.metrics.register({ name, ...def } as any);
  }
}

/** Reads the figures kept in the database into their gauges. */
export async function collectDatabaseGauges(broker: ServiceBroker): Promise<void> {
  const m = broker.metrics;
  const counts = await MessageModel.aggregate<{ _id: string; n: number }>([{ $group: { _id: "$status", n: { $sum: 1 } } }]);
  for (const status of MESSAGE_STATUSES) m.set("taqib.sms.status", counts.find((c) => c._id === status)?.n ?? 0, { status });
  m.set("taqib.sms.queue.depth", counts.find((c) => c._id === "queued")?.n ?? 0);
  const oldest = await MessageModel.findOne({ status: "queued" }, { createdAt: 1 }).sort({ createdAt: 1 }).lean();
  m.set("taqib.sms.queue.oldest_age_seconds", oldest ? Math.round((Date.now() - oldest.createdAt.getTime()) / 1000) : 0);
  const now = new Date();
  const [pending, overdue] = await Promise.all([PendingReplyModel.countDocuments({}), PendingReplyModel.countDocuments({ dueAt: { $lte: now } })]);
  m.set("taqib.followup.pending", pending);
  m.set("taqib.followup.overdue", overdue);
}

/** The Prometheus text of this node's registry (the reporter configured in moleculer.config.ts). */
export function prometheusText(broker: ServiceBroker): string {
  const reporters = ((broker.metrics as any).reporter ?? []) as Array<{ generatePrometheusResponse?: () => string }>;
  const prom = reporters.find((r) => typeof r.generatePrometheusResponse === "function");
  return prom ? prom.generatePrometheusResponse!() : "";
}

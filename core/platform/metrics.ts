// Taqib's metrics, on Moleculer's registry (exported in Prometheus format at GET /metrics).
// Counters and histograms are counted where things happen; the figures that live in small
// collections (queue depth, oldest queued SMS, pending and overdue replies) are read by the
// gateway when it is scraped.
import type { ServiceBroker } from "moleculer";
import { SmsQueueModel } from "../sms/models.ts";
import { PendingReplyModel } from "../followup/models.ts";
import { databaseCommands } from "../store/db.ts";

/** Every Taqib metric: name -> type, labels, help. */
export const METRICS = {
  "taqib.events.ingested": { type: "counter", labelNames: ["type", "outcome"], description: "Events received on the events API, by type and outcome (accepted, duplicate)" },
  "taqib.events.applied": { type: "counter", labelNames: ["type"], description: "Events applied to the transaction model, by type" },
  "taqib.sms.finished": { type: "counter", labelNames: ["status"], description: "SMS that reached a final status on this node, by status (delivered, undeliverable, expired, rejected, failed)" },
  "taqib.sms.queue.depth": { type: "gauge", labelNames: [], description: "SMS in the queue: waiting to be sent or retried, or in a worker's hands" },
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
  "taqib.db.commands": { type: "counter", labelNames: ["command"], description: "Database round-trips of this process, by command" },
  "taqib.webhooks.refused": { type: "counter", labelNames: ["reason"], description: "Agency webhook requests refused before their signature checked out, by reason (SIGNATURE_MISSING, SIGNATURE_INVALID, TIMESTAMP_OUT_OF_TOLERANCE, RATE_LIMITED)" },
  "taqib.directory.missing": { type: "counter", labelNames: ["kind"], description: "SMS rendered for an agency or department missing from the directory (a fallback name shown), by kind" },
  "taqib.inquiries": { type: "counter", labelNames: ["channel"], description: "Inquiry requests, by channel" },
  "taqib.verify.failures": { type: "counter", labelNames: [], description: "Wrong verifiers (last 4 digits) given on this node, all numbers" },
  "taqib.verify.budget_exhausted": { type: "gauge", labelNames: [], description: "1 while the cluster's budget of failed verifiers is spent and verifier checks slow down (ranges that failed are not checked)" },
} as const;

/**
 * The metrics exported (Prometheus reporter `includes`): Taqib's, Moleculer's request and
 * transit figures, and the process's and host's load. Nothing that identifies the host
 * (addresses, MACs, host name, user, home directory, process arguments, CPU model,
 * versions) is exported.
 */
export const EXPORTED_METRICS = [
  "taqib.**",
  "moleculer.request.**",
  "moleculer.transit.**",
  "process.memory.**",
  "process.uptime",
  "process.internal.active.**",
  "process.eventloop.**",
  "process.gc.**",
  "os.memory.**",
  "os.uptime",
  "os.cpu.load.**",
  "os.cpu.utilization",
  "os.cpu.user",
  "os.cpu.system",
  "os.cpu.total",
];

export type MetricName = keyof typeof METRICS;

/** Registers every metric once per broker (services call it in `created`). */
export function registerMetrics(broker: ServiceBroker): void {
  for (const [name, def] of Object.entries(METRICS)) {
    if (!broker.metrics.getMetric(name)) broker.metrics.register({ name, ...def } as any);
  }
}

/**
 * Reads the figures kept in the database into their gauges: the queue's from the queue (a
 * small collection) and the follow-up's from the pending replies. Nothing here reads the
 * message log, which grows with the history: SMS by final status are counted as they settle
 * (`taqib.sms.finished`).
 */
export async function collectDatabaseGauges(broker: ServiceBroker): Promise<void> {
  const m = broker.metrics;
  for (const [command, n] of databaseCommands) m.set("taqib.db.commands", n, { command });
  const [depth, oldest] = await Promise.all([
    SmsQueueModel.estimatedDocumentCount(),
    SmsQueueModel.findOne({}, { queuedAt: 1 }).sort({ queuedAt: 1 }).lean(),
  ]);
  m.set("taqib.sms.queue.depth", depth);
  const queuedAt = (oldest as { queuedAt?: Date } | null)?.queuedAt;
  m.set("taqib.sms.queue.oldest_age_seconds", queuedAt ? Math.round((Date.now() - queuedAt.getTime()) / 1000) : 0);
  const now = new Date();
  const [pending, overdue] = await Promise.all([PendingReplyModel.countDocuments({}), PendingReplyModel.countDocuments({ dueAt: { $lte: now } })]);
  m.set("taqib.followup.pending", pending);
  m.set("taqib.followup.overdue", overdue);
}

/** The Prometheus text of this node's registry (the reporter configured in moleculer.config.ts). */
export function prometheusText(broker: ServiceBroker): string {
  const reporters = ((broker.metrics as any).reporter ?? []) as Array<{ generatePrometheusResponse?: () => string }>;
  const prom = reporters.find((r) => typeof r.generatePrometheusResponse === "function");
  return prom ? sortHistogramBuckets(prom.generatePrometheusResponse!()) : "";
}

const BUCKET = /^(\S+_bucket)\{(.*?),?le="([^"]*)"(.*)\} (\S+)$/;

/**
 * Puts every histogram's `_bucket` lines in ascending `le` order, as Prometheus expects.
 * Moleculer's reporter lists the bounds with `Object.keys`, which puts the whole numbers
 * (1, 2, 5, …) before the fractions (0.1, 0.5). Other lines are left as they are.
 *
 * @example
 *   sortHistogramBuckets('h_bucket{le="1"} 2\nh_bucket{le="0.5"} 1\nh_bucket{le="+Inf"} 2')
 *   // 'h_bucket{le="0.5"} 1\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 2'
 */
export function sortHistogramBuckets(text: string): string {
  const lines = text.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    if (!BUCKET.test(lines[i]!)) {
      out.push(lines[i++]!);
      continue;
    }
    // A run of bucket lines: sorted by series (in first-seen order), then by bound.
    const run: { series: number; le: number; line: string }[] = [];
    const seriesIndex = new Map<string, number>();
    for (; i < lines.length; i++) {
      const m = BUCKET.exec(lines[i]!);
      if (!m) break;
      const key = `${m[1]}{${m[2]}${m[4]}}`;
      if (!seriesIndex.has(key)) seriesIndex.set(key, seriesIndex.size);
      run.push({ series: seriesIndex.get(key)!, le: m[3] === "+Inf" ? Infinity : Number(m[3]), line: lines[i]! });
    }
    run.sort((a, b) => a.series - b.series || a.le - b.le);
    out.push(...run.map((r) => r.line));
  }
  return out.join("\n");
}

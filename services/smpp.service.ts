import type { Context, ServiceSchema } from "moleculer";
import { Errors } from "moleculer";
import type { Config } from "../core/platform/config.ts";
import { databaseMixin, periodic } from "../core/platform/mixins.ts";
import { smppAddress, maskMobile } from "../core/text/normalize.ts";
import { applyReceipt, settlePendingReceipts, type Settled } from "../core/sms/receipts.ts";
import { recordSubmitted, type SubmitRecord, type SubmitResult } from "../core/sms/send.ts";
import type { DeliveryReceipt } from "../core/smpp/dlr.ts";
import { registerMetrics } from "../core/platform/metrics.ts";

/**
 * The SMPP gateway: holds this node's binds to the SMSC, submits SMS for the workers and
 * records the delivery receipts it receives. Mobile-originated messages are emitted as
 * `sms.mo` for the short-code channel.
 */
export default function smppService(config: Config): ServiceSchema {
  return {
    name: "smpp",
    mixins: [
      databaseMixin(),
      // Receipts that came before their submit was recorded, whose message a crash left unsettled.
      periodic("pending receipts", () => config.sweepIntervalMs, async (svc) => void (await settlePendingReceipts(500, (s) => svc.observeSettled(s)))),
    ],
    actions: {
      /**
       * `{ messageId?, to: "+9665…", text }` -> `{ messageIds, encoding, partCount }`; errors carry
       * `data.retryable`. With a messageId the submit is recorded on the message here, before answering.
       */
      submit: {
        params: {
          messageId: { type: "string", optional: true },
          to: "string",
          text: "string",
          lang: { type: "string", optional: true },
          attempt: { type: "number", optional: true },
          claimedAt: { type: "number", optional: true },
        },
        async handler(ctx: Context<{ messageId?: string } & Partial<SubmitRecord> & { to: string; text: string }>) {
          const clients = this.clients as any[];
          const bound = clients.filter((c) => c.state === "bound");
          if (!bound.length) throw new Errors.MoleculerRetryableError("No SMPP bind is up", 503, "LINK_DOWN", { code: "LINK_DOWN", retryable: true });
          // The least busy bind takes the message.
          const client = bound.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
          try {
            const r = await client.submit({
              from: config.smsSender,
              to: smppAddress(ctx.params.to),
              text: ctx.params.text,
              maxParts: config.smsMaxParts,
              requestDeliveryReceipt: true,
            });
            this.broker.metrics.increment("taqib.sms.submitted", { encoding: r.encoding }, 1);
            const result = { messageIds: r.messageIds, encoding: r.encoding, partCount: r.partCount };
            const { messageId, to, text, lang, attempt, claimedAt } = ctx.params;
            if (messageId) await this.record(messageId, result, lang && attempt && claimedAt ? { to, text, lang, attempt, claimedAt } : undefined);
            return result;
          } catch (err: any) {
            if (err?.recordFailed) throw err;
            const code = err?.code ?? "SUBMIT_FAILED";
            const retryable = err?.retryable ?? true;
            this.broker.metrics.increment("taqib.sms.submit_errors", { code }, 1);
            this.logger.warn(`submit to ${maskMobile(ctx.params.to)} failed: ${code} (${retryable ? "retryable" : "final"})`);
            if (retryable) throw new Errors.MoleculerRetryableError(err?.message ?? code, 503, code, { code, retryable: true });
            throw new Errors.MoleculerError(err?.message ?? code, 422, code, { code, retryable: false });
          }
        },
      },
      /** The binds' state, for readiness and metrics. */
      status: {
        handler() {
          return (this.clients as any[]).map((c, i) => {
            this.broker.metrics.set("taqib.smpp.inflight", c.inFlight, { bind: String(i + 1) });
            return { state: c.state, inFlight: c.inFlight };
          });
        },
      },
    },
    methods: {
      /** A message reached its final status: how long after its submit (whichever path settled it). */
      observeSettled(settled: Settled | undefined) {
        if (!settled) return;
        this.broker.metrics.observe("taqib.sms.receipt_latency_seconds", settled.latencyMs / 1000, { status: settled.status });
        this.broker.metrics.increment("taqib.sms.finished", { status: settled.status }, 1);
      },
      /** The SMS is at the SMSC: its record must be written, even through a database restart. */
      async record(messageId: string, result: SubmitResult, sent?: SubmitRecord) {
        for (let attempt = 1; ; attempt++) {
          try {
            // Receipts that beat the record settle the message here.
            this.observeSettled(await recordSubmitted(messageId, result, sent));
            return;
          } catch (err) {
            if (attempt >= 30) {
              this.logger.error(`submit of ${messageId} accepted by the SMSC but not recorded:`, err);
              // The worker that asked records it in turn; it must not be sent again.
              throw Object.assign(new Errors.MoleculerError("submitted but not recorded", 500, "RECORD_FAILED", { code: "RECORD_FAILED", retryable: false, result }), {
                recordFailed: true,
              });
            }
            await new Promise((r) => setTimeout(r, Math.min(200 * attempt, 2000)));
          }
        }
      },
    },
    async started() {
      const { SmppClient } = await import("../core/smpp/client.ts");
      if (!config.smppUrl) throw new Error("SMPP_URL is not set and no embedded SMSC simulator was started");
      this.clients = [];
      for (let i = 0; i < config.smppBinds; i++) {
        const client = new SmppClient({
          url: config.smppUrl,
          ratePerSecond: config.smppRatePerSecond / config.smppBinds,
          window: config.smppWindow,
          responseTimeoutMs: config.smppResponseTimeoutMs,
          enquireLinkMs: config.smppEnquireLinkMs,
          reconnectMinMs: 500,
          reconnectMaxMs: 30_000,
          logger: this.logger,
          // A receipt is written before the SMSC is told it was taken (deliver_sm_resp): if
          // this node dies or the write fails first, the SMSC delivers it again.
          onDeliveryReceipt: async (r: DeliveryReceipt) => {
            try {
              this.observeSettled(await applyReceipt({ messageId: r.messageId, status: r.status, final: r.final, stat: r.state, err: r.errorCode, doneAt: r.doneDate }));
            } catch (err) {
              this.logger.error("receipt not recorded (the SMSC will deliver it again):", err);
              throw err;
            }
          },
        });
        client.on("deliveryReceipt", (r: DeliveryReceipt) => {
          this.broker.metrics.increment("taqib.sms.receipts", { status: r.status }, 1);
        });
        client.on("mobileOriginated", (mo: { from: string; to: string; text: string; receivedAt: Date }) => {
          this.broker.emit("sms.mo", mo);
        });
        const bind = String(i + 1);
        this.broker.metrics.set("taqib.smpp.link_up", 0, { bind });
        client.on("state", (state: string) => {
          this.logger.info(`SMPP bind ${bind}: ${state}`);
          this.broker.metrics.set("taqib.smpp.link_up", state === "bound" ? 1 : 0, { bind });
        });
        client.on("error", (err: Error) => this.logger.warn(`SMPP bind ${i + 1}:`, err.message));
        this.clients.push(client);
      }
      // Start binding in the background: the node is up even while the SMSC is not.
      for (const c of this.clients) c.start().catch((err: Error) => this.logger.warn("SMPP bind failed, retrying:", err.message));
    },
    async stopped() {
      await Promise.all((this.clients ?? []).map((c: any) => c.close({ timeoutMs: 10_000 }).catch(() => undefined)));
    },
    created() {
      registerMetrics(this.broker);
    },
  };
}

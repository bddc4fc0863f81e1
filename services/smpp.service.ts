import type { Context, Service } from "moleculer";
import type { Config } from "../core/platform/config.ts";
import { databaseMixin, periodic, type TypedService } from "../core/platform/mixins.ts";
import { RecordFailedError, SubmitError } from "../core/platform/errors.ts";
import { smppAddress, maskMobile } from "../core/text/normalize.ts";
import { applyReceipt, settlePendingReceipts, type Settled } from "../core/sms/receipts.ts";
import { recordAcceptedSubmit, type SubmitRecord } from "../core/sms/send.ts";
import type { DeliveryReceipt } from "../core/smpp/dlr.ts";
import type { SmppClient, SubmitResult } from "../core/smpp/client.ts";
import { registerMetrics } from "../core/platform/metrics.ts";

type SubmitParams = { messageId?: string; to: string; text: string } & Partial<Omit<SubmitRecord, "to" | "text">>;

interface Vars {
  clients: SmppClient[];
}
interface Methods {
  observeSettled(settled: Settled | undefined): void;
}

/**
 * The SMPP gateway: holds this node's binds to the SMSC, submits SMS for the workers and
 * records the delivery receipts it receives. Mobile-originated messages are emitted as
 * `sms.mo` for the short-code channel.
 */
export default function smppService(config: Config): TypedService<Vars, Methods> {
  return {
    name: "smpp",
    mixins: [
      databaseMixin(config),
      // Receipts that came before their submit was recorded, whose message a crash left unsettled.
      periodic<Service & Methods>("pending receipts", config.sweepIntervalMs, (svc) => settlePendingReceipts(500, (s) => svc.observeSettled(s))),
    ],
    actions: {
      /**
       * `{ messageId?, to: "+9665…", text }` -> `{ messageIds, encoding, partCount }`; a failure is
       * a SubmitError (`retryable` or not) or, when the SMSC took it but its record failed, a
       * RecordFailedError. With a messageId the submit is recorded on the message here, before answering.
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
        async handler(ctx: Context<SubmitParams>): Promise<SubmitResult> {
          const { messageId, to, text, lang, attempt, claimedAt } = ctx.params;
          const bound = this.clients.filter((c) => c.state === "bound");
          if (!bound.length) throw new SubmitError("LINK_DOWN", "No SMPP bind is up", true);
          // The least busy bind takes the message.
          const client = bound.reduce((a, b) => (b.inFlight < a.inFlight ? b : a));
          let result: SubmitResult;
          try {
            const r = await client.submit({ from: config.smsSender, to: smppAddress(to), text, maxParts: config.smsMaxParts, requestDeliveryReceipt: true });
            result = { messageIds: r.messageIds, encoding: r.encoding, partCount: r.partCount };
          } catch (err) {
            // An SmppSubmitError or SmsTooLongError: its code and whether a retry may help.
            const { code = "SUBMIT_FAILED", message, retryable = true } = err as { code?: string; message?: string; retryable?: boolean };
            this.broker.metrics.increment("taqib.sms.submit_errors", { code }, 1);
            this.logger.warn(`submit to ${maskMobile(to)} failed: ${code} (${retryable ? "retryable" : "final"})`);
            throw new SubmitError(code, message ?? code, retryable);
          }
          this.broker.metrics.increment("taqib.sms.submitted", { encoding: result.encoding }, 1);
          if (messageId) {
            try {
              // Receipts that beat the record settle the message here.
              this.observeSettled(await recordAcceptedSubmit(messageId, result, lang && attempt && claimedAt ? { to, text, lang: lang as SubmitRecord["lang"], attempt, claimedAt } : undefined));
            } catch (err) {
              // The worker that asked records it in turn; it must not be sent again.
              if (err instanceof RecordFailedError) this.logger.error(`submit of ${messageId} accepted by the SMSC but not recorded:`, err.cause);
              throw err;
            }
          }
          return result;
        },
      },
      /** The binds' state, for readiness and metrics. */
      status: {
        params: {},
        handler(): Array<{ state: string; inFlight: number }> {
          return this.clients.map((c, i) => {
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
    },
    created() {
      registerMetrics(this.broker);
      this.clients = [];
    },
    async started() {
      const { SmppClient } = await import("../core/smpp/client.ts");
      if (!config.smppUrl) throw new Error("SMPP_URL is not set and no embedded SMSC simulator was started");
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
        client.on("deliveryReceipt", (r) => {
          this.broker.metrics.increment("taqib.sms.receipts", { status: r.status }, 1);
        });
        client.on("mobileOriginated", (mo) => {
          this.broker.emit("sms.mo", mo);
        });
        const bind = String(i + 1);
        this.broker.metrics.set("taqib.smpp.link_up", 0, { bind });
        client.on("state", (state) => {
          this.logger.info(`SMPP bind ${bind}: ${state}`);
          this.broker.metrics.set("taqib.smpp.link_up", state === "bound" ? 1 : 0, { bind });
        });
        client.on("error", (err: Error) => this.logger.warn(`SMPP bind ${bind}:`, err.message));
        this.clients.push(client);
      }
      // Start binding in the background: the node is up even while the SMSC is not.
      for (const c of this.clients) c.start().catch((err: Error) => this.logger.warn("SMPP bind failed, retrying:", err.message));
    },
    async stopped() {
      await Promise.all(this.clients.map((c) => c.close({ timeoutMs: 10_000 }).catch(() => undefined)));
    },
  };
}

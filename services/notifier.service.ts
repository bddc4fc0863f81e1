import path from "node:path";
import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../core/config.ts";
import { databaseMixin } from "../core/mixins.ts";
import { sendMessage, type SendDeps, type SendOutcome, type SubmitResult } from "../core/sms-pipeline.ts";
import { createTemplateEngine } from "../core/templates.ts";
import { analyseSms } from "../core/sms/encoding.ts";
import { Dispatcher } from "../core/dispatcher.ts";
import { registerMetrics } from "../core/metrics.ts";

/**
 * The SMS workers: every notifier node renders and sends the messages handed to it, and
 * one of them at a time (by lease) also dispatches the due messages of the log to all.
 */
export default function notifierService(config: Config): ServiceSchema {
  return {
    name: "notifier",
    mixins: [databaseMixin()],
    events: {
      // New messages were queued: no need to wait for the next poll.
      "sms.queued"() {
        (this.dispatcher as Dispatcher | undefined)?.wake();
      },
    },
    actions: {
      /** Sends one queued message; `{ outcome }`. */
      send: {
        params: { messageId: "string" },
        async handler(ctx: Context<{ messageId: string }>): Promise<{ outcome: SendOutcome }> {
          return { outcome: await sendMessage(ctx.params.messageId, this.deps as SendDeps) };
        },
      },
    },
    created() {
      registerMetrics(this.broker);
    },
    async started() {
      const templates = createTemplateEngine({ dir: path.join(config.templatesDir, "sms") });
      const deps: SendDeps = {
        render: templates,
        analyse: analyseSms,
        maxParts: config.smsMaxParts,
        staleSendingMs: config.staleSendingMs,
        submit: (req) => this.broker.call<SubmitResult, typeof req>("smpp.submit", req, { timeout: config.smppResponseTimeoutMs * 3 }),
        log: this.logger,
      };
      this.deps = deps;
      const dispatcher = new Dispatcher({
        send: async (messageId) =>
          (await this.broker.call<{ outcome: SendOutcome }, { messageId: string }>("notifier.send", { messageId }, { timeout: config.smppResponseTimeoutMs * 4 }))
            .outcome,
        window: config.smppWindow * config.smppBinds * 2,
        pollMs: 250,
        staleSendingMs: config.staleSendingMs,
        leaseMs: config.schedulerLeaseMs,
        log: this.logger,
      });
      this.dispatcher = dispatcher;
      dispatcher.start();
      this.gauge = setInterval(() => this.broker.metrics.set("taqib.dispatcher.inflight", dispatcher.inFlightCount), 2000);
      this.gauge.unref();
    },
    async stopped() {
      clearInterval(this.gauge);
      await (this.dispatcher as Dispatcher | undefined)?.stop();
    },
  };
}

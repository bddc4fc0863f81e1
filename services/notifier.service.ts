import path from "node:path";
import { Errors, type Context, type ServiceSchema } from "moleculer";
import type { Config } from "../core/config.ts";
import { databaseMixin, periodic } from "../core/mixins.ts";
import { JOB_SEND_SMS, getAgenda, scheduleSend, startProcessing, stopProcessing } from "../core/jobs.ts";
import { failMessage, sendMessage, RetryableSendError, type SendDeps, type SubmitResult } from "../core/sms-pipeline.ts";
import { createTemplateEngine } from "../core/templates.ts";
import { analyseSms } from "../core/sms/encoding.ts";
import { MessageModel } from "../core/models.ts";

/** Retry delays for transient failures: 1 s doubling to 5 min, for about a day. */
export function sendBackoff({ attempt, error }: { attempt: number; error: Error }): number | null {
  if (!(error as { retryable?: boolean }).retryable) return null;
  if (attempt > 300) return null;
  const base = Math.min(1000 * 2 ** (attempt - 1), 300_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * The SMS worker: runs the `sms.send` Agenda jobs (render, then submit through the smpp
 * service) and re-queues messages a crash left behind.
 */
export default function notifierService(config: Config): ServiceSchema {
  return {
    name: "notifier",
    mixins: [
      databaseMixin(),
      // Messages whose job was lost (a crash between creating the message and its job,
      // or a worker killed while sending) get their job again.
      periodic("message sweep", () => Math.max(config.sweepIntervalMs, 1000), async () => {
        const stale = new Date(Date.now() - Math.min(config.staleSendingMs, 60_000));
        const lost = await MessageModel.find({ status: { $in: ["queued", "sending"] }, updatedAt: { $lt: stale } }, { _id: 1 }).limit(500).lean();
        for (const m of lost) await scheduleSend(m._id);
      }),
    ],
    actions: {
      /** Sends one queued message (called by the scheduler's job, on any notifier node). */
      send: {
        params: { messageId: "string" },
        async handler(ctx: Context<{ messageId: string }>) {
          try {
            return { outcome: await sendMessage(ctx.params.messageId, this.deps as SendDeps) };
          } catch (err) {
            if (err instanceof RetryableSendError) throw new Errors.MoleculerRetryableError(err.message, 503, err.code, { code: err.code });
            throw err;
          }
        },
      },
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
      const agenda = await getAgenda();
      agenda.define(
        JOB_SEND_SMS,
        async (job) => {
          const { messageId } = job.attrs.data as { messageId: string };
          // Any notifier node sends it; a failure with `retryable` set comes back for backoff.
          await this.broker.call("notifier.send", { messageId }, { timeout: config.smppResponseTimeoutMs * 4 });
        },
        {
          backoff: sendBackoff,
          removeOnComplete: true,
          concurrency: config.smppWindow * config.smppBinds * 2,
          // Lock only what is about to run: Agenda locks every due job before running any,
          // and jobs locked longer than their lifetime are dropped unrun.
          lockLimit: config.smppWindow * config.smppBinds * 2,
          lockLifetime: config.jobLockLifetimeMs,
        },
      );
      agenda.on(`retry exhausted:${JOB_SEND_SMS}`, (err: Error, job: any) => {
        void failMessage(job.attrs.data.messageId, (err as { type?: string }).type ?? "RETRIES_EXHAUSTED", err.message);
      });
      await startProcessing({ slotMs: config.schedulerLeaseMs, log: (m) => this.logger.info(m) });
    },
    async stopped() {
      await stopProcessing();
    },
  };
}

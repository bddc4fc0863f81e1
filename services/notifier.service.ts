import type { Context } from "moleculer";
import type { Config } from "../core/platform/config.ts";
import { databaseMixin, type RouteParams, type TypedService } from "../core/platform/mixins.ts";
import { claimDueMessages, claimMessages, type DirectoryMissing, type PrepareDeps, type ReadyMessage } from "../core/sms/queue.ts";
import { submitMessages, type SendOutcome, type Submit } from "../core/sms/send.ts";
import { smsTemplateEngine, type TemplateEngine } from "../core/sms/templates/engine.ts";
import { previewTemplate, type TemplatePreview } from "../core/sms/budget.ts";
import type { SubmitResult } from "../core/smpp/client.ts";
import type { Lang } from "../core/text/lang.ts";
import { analyseSms } from "../core/sms/encoding.ts";
import { Dispatcher } from "../core/sms/dispatcher.ts";
import { registerMetrics } from "../core/platform/metrics.ts";
import { directoryCacheMixin } from "../core/directory/events.ts";
import { IN_LIMIT } from "../core/store/db.ts";
import { templateOverridesMixin, type TemplateOverrides } from "../core/sms/template-versions/overrides.ts";

/** Messages per share handed to one worker. */
const SHARE = 50;

interface Vars {
  templates: TemplateEngine;
  /** Set by templateOverridesMixin: the template versions saved in the console. */
  templateOverrides: TemplateOverrides;
  deps: PrepareDeps;
  dispatcher?: Dispatcher;
  gauge?: NodeJS.Timeout;
}

/**
 * The SMS workers: every notifier node submits the shares of messages handed to it, and one
 * of them at a time (by lease) also dispatches: it claims the due messages of the queue in
 * batches, renders them and hands them out.
 */
export default function notifierService(config: Config): TypedService<Vars> {
  // Enough in flight to keep every bind's window full, and about two seconds of the rate.
  const window = Math.min(IN_LIMIT, Math.max(config.smppWindow * config.smppBinds * 2, Math.ceil(config.smppRatePerSecond), SHARE));
  return {
    name: "notifier",
    // The newest versions saved in the console take the place of the template files.
    mixins: [databaseMixin(config), directoryCacheMixin(), templateOverridesMixin()],
    events: {
      // New messages were queued: no need to wait.
      "sms.queued"() {
        this.dispatcher?.wake();
      },
    },
    actions: {
      /** Submits a share of prepared messages; `{ outcomes }`, one per message. */
      send: {
        params: { items: { type: "array", items: { type: "object", props: { messageId: "string", attempt: "number", to: "string", text: "string" } } } },
        async handler(ctx: Context<{ items: ReadyMessage[] }>): Promise<{ outcomes: SendOutcome[] }> {
          const submit: Submit = (req) => this.broker.call<SubmitResult, typeof req>("smpp.submit", req, { timeout: config.smppResponseTimeoutMs * 3 });
          const outcomes = await submitMessages(ctx.params.items, submit);
          const failed = outcomes.filter((o) => o === "failed").length;
          if (failed) this.broker.metrics.increment("taqib.sms.finished", { status: "failed" }, failed);
          return { outcomes };
        },
      },
      /**
       * POST /api/v1/templates/:name/preview — `{ lang?, data? }`: the text a template gives
       * (with the data, else the longest realistic data), its encoding, parts and the
       * characters left in its part budget.
       */
      preview: {
        params: {
          params: { type: "object", props: { name: { type: "string", pattern: /^[a-z][a-z0-9-]{0,63}$/ } } },
          body: { type: "object", optional: true, props: { lang: { type: "enum", values: ["ar", "en"], optional: true }, data: { type: "object", optional: true } } },
        },
        handler(ctx: Context<RouteParams<"name"> & { body?: { lang?: Lang; data?: object } }>): TemplatePreview {
          return previewTemplate(this.templates, ctx.params.params.name, ctx.params.body?.lang ?? "ar", ctx.params.body?.data);
        },
      },
      /** Sends the given queued messages now, whatever their due time: `{ outcomes }` (for operators and tests). */
      sendNow: {
        params: { messageIds: { type: "array", items: "string", min: 1, max: 1000 } },
        async handler(ctx: Context<{ messageIds: string[] }>): Promise<{ outcomes: SendOutcome[]; failed: number }> {
          const { ready, failed } = await claimMessages(ctx.params.messageIds, this.deps);
          const { outcomes } = await this.actions.send<Promise<{ outcomes: SendOutcome[] }>>({ items: ready }, { parentCtx: ctx });
          return { outcomes, failed };
        },
      },
    },
    created() {
      registerMetrics(this.broker);
    },
    async started() {
      // Here, not in the mixin's started: mixins start before the service, in reverse order, so
      // the database may not be connected yet there.
      await this.templateOverrides.refresh();
      const templates = smsTemplateEngine(config, this.templateOverrides);
      this.templates = templates;
      // A name the directory lacks reaches the citizen as the event's name or a neutral phrase;
      // staff learn of it here (and on the transaction's staff answer, agencyInDirectory).
      const onDirectoryMissing = ({ kind, code }: DirectoryMissing, messageId: string) => {
        this.logger.warn(`message ${messageId}: ${kind} ${JSON.stringify(code)} is not in the directory; the SMS shows a fallback name. Add it to the directory.`);
        this.broker.metrics.increment("taqib.directory.missing", { kind });
      };
      const deps: PrepareDeps = { render: templates, analyse: analyseSms, maxParts: config.smsMaxParts, staleSendingMs: config.staleSendingMs, onDirectoryMissing };
      this.deps = deps;
      const dispatcher = new Dispatcher({
        claim: async (limit, inFlight) => {
          const r = await claimDueMessages(limit, deps, { inFlight });
          if (r.failed) this.broker.metrics.increment("taqib.sms.finished", { status: "failed" }, r.failed);
          return r;
        },
        send: async (items) =>
          (await this.broker.call<{ outcomes: SendOutcome[] }, { items: ReadyMessage[] }>("notifier.send", { items }, { timeout: config.smppResponseTimeoutMs * 4 })).outcomes,
        window,
        share: SHARE,
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
      await this.dispatcher?.stop();
    },
  };
}

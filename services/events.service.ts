import type { Context } from "moleculer";
import type { Config } from "../core/platform/config.ts";
import { databaseMixin, periodic, type TypedService } from "../core/platform/mixins.ts";
import { storeEventRequests, type StoreRequest, type StoreResult } from "../core/events/ingest.ts";
import { eventIntake, type IngestResult } from "../core/events/receive.ts";
import { claimExistingOutgoing } from "../core/events/outgoing.ts";
import { Applier } from "../core/events/apply.ts";
import { Batcher } from "../core/store/batcher.ts";
import { IN_LIMIT } from "../core/store/db.ts";
import { registerMetrics } from "../core/platform/metrics.ts";
import { forwardQueuedToBroker } from "../core/sms/notifications.ts";
import { directoryCacheMixin } from "../core/directory/events.ts";

/** Unapplied events younger than this are left to the process that stored them. */
const SWEEP_AGE_MS = 30_000;

interface Vars {
  applier: Applier;
  intake: ReturnType<typeof eventIntake>;
}

/**
 * The correspondence system's events: validated, stored durably before the answer, then
 * applied (projection, notifications) in occurredAt order (core/events/receive.ts, apply.ts).
 * Concurrent requests are stored together and stored events applied in batches; unapplied
 * events, from a crash or a failure, are picked up from the outbox by a periodic sweep.
 */
export default function eventsService(config: Config): TypedService<Vars> {
  return {
    name: "events",
    mixins: [
      databaseMixin(config),
      directoryCacheMixin(),
      periodic<Vars>("apply sweep", config.sweepIntervalMs, (svc) => svc.applier.sweep(SWEEP_AGE_MS, IN_LIMIT)),
    ],
    actions: {
      /** POST /api/v1/events — body: one event or an array of up to 1,000; `source` from the console. */
      ingest: {
        params: { body: { type: "any", optional: true }, source: { type: "string", optional: true } },
        async handler(ctx: Context<{ body: unknown; source?: string }, { $statusCode?: number }>): Promise<IngestResult> {
          const { status, result } = await this.intake.receive(ctx.params.body, ctx.params.source ?? "correspondence");
          ctx.meta.$statusCode = status;
          return result;
        },
      },

      /** Applies what the outbox holds now (used by tests and after imports): `{ applied }`. */
      apply: {
        params: {},
        async handler(): Promise<{ applied: number }> {
          return { applied: await this.applier.sweep(0) };
        },
      },
    },
    created() {
      registerMetrics(this.broker);
      this.applier = new Applier({
        defaultReplyPeriodDays: config.defaultReplyPeriodDays,
        onApplied: (applied) => {
          for (const a of applied) {
            this.broker.emit("transaction.updated", { number: a.state.number, status: a.state.status });
            for (const e of a.events) this.broker.metrics.increment("taqib.events.applied", { type: e.type });
          }
        },
      });
      // Concurrent requests share one read and one insert (up to a thousand events together).
      const store = new Batcher<StoreRequest, StoreResult>((requests) => storeEventRequests(requests), { maxBatch: 64, weight: (r) => r.events.length, maxWeight: IN_LIMIT });
      this.intake = eventIntake({
        store: (request) => store.add(request),
        apply: (stored) =>
          void this.applier.applyStored(stored.toApply, stored.outboxId).catch((err: unknown) => this.logger.warn(`apply of ${stored.toApply.length} event(s) deferred to the sweep:`, err)),
        onStored: (e, outcome) => this.broker.metrics.increment("taqib.events.ingested", { type: e.type, outcome }),
      });
    },
    async started() {
      forwardQueuedToBroker(this.broker);
      // Once per database: the outgoing numbers of transactions stored before numbers were claimed.
      const r = await claimExistingOutgoing();
      if (r.ran && r.claimed) this.logger.info(`outgoing numbers: ${r.claimed} of earlier transactions claimed`);
      if (r.shared.length) {
        this.logger.warn(`outgoing numbers held by two transactions before they were claimed (each kept by the first, agencies' replies go to it): ${r.shared.slice(0, 20).join(", ")}${r.shared.length > 20 ? ` and ${r.shared.length - 20} more` : ""}`);
      }
    },
  };
}

import type { Context, ServiceSchema } from "moleculer";
import { databaseMixin, periodic } from "../core/platform/mixins.ts";
import { validateEvent, type FieldError, type IncomingEvent } from "../core/events/contract.ts";
import { storeEventRequests, type StoreOutcome, type StoreRequest, type StoreResult } from "../core/events/ingest.ts";
import { Applier } from "../core/events/apply.ts";
import { Batcher } from "../core/store/batcher.ts";
import { IN_LIMIT } from "../core/store/db.ts";
import { registerMetrics } from "../core/platform/metrics.ts";
import { clientError } from "../core/platform/errors.ts";
import { configOf } from "../core/platform/broker.ts";
import { forwardQueuedToBroker } from "../core/sms/notifications.ts";
import { directoryCacheMixin } from "../core/directory/events.ts";

export const MAX_BATCH = 1000;

/** Unapplied events younger than this are left to the process that stored them. */
const SWEEP_AGE_MS = 30_000;

/** The answer: 202 when anything new was stored, 200 when all were duplicates. */
export type IngestResult =
  | { accepted: number; duplicates: number; results: Array<{ id: string; outcome: StoreOutcome }> }
  | { id: string; outcome: StoreOutcome };

/**
 * The correspondence system's events: validated, stored durably before the answer, then
 * applied (projection, notifications) in occurredAt order. Concurrent requests are stored
 * together and stored events applied in batches; unapplied events, from a crash or a
 * failure, are picked up from the outbox by a periodic sweep.
 */
const EventsService: ServiceSchema = {
  name: "events",
  mixins: [
    databaseMixin(),
    directoryCacheMixin(),
    periodic("apply sweep", (svc) => configOf(svc.broker).sweepIntervalMs, async (svc) => {
      await (svc.applier as Applier).sweep(SWEEP_AGE_MS, IN_LIMIT);
    }),
  ],
  actions: {
    /** Body: one event or an array of up to 1,000. */
    ingest: {
      async handler(ctx: Context<{ body: unknown; source?: string }>): Promise<IngestResult> {
        const body = ctx.params.body;
        const single = !Array.isArray(body);
        const items = single ? [body] : (body as unknown[]);
        if (!single && items.length === 0) throw clientError(400, "EMPTY_BATCH", "The array of events is empty");
        if (items.length > MAX_BATCH) throw clientError(413, "BATCH_TOO_LARGE", `At most ${MAX_BATCH} events per request, got ${items.length}`);
        const errors: FieldError[] = [];
        const events: IncomingEvent[] = [];
        const seen = new Map<string, number>();
        items.forEach((raw, i) => {
          const r = validateEvent(raw, single ? "" : `[${i}].`);
          errors.push(...r.errors);
          if (r.event) {
            const prev = seen.get(r.event.id);
            if (prev !== undefined) errors.push({ field: `[${i}].id`, message: `repeats the id of event [${prev}] in the same batch` });
            else seen.set(r.event.id, i);
            events.push(r.event);
          }
        });
        if (errors.length) throw clientError(400, "INVALID_EVENT", `${errors.length} invalid field(s)`, { details: errors });

        const stored: StoreResult = await this.store.add({ events, source: ctx.params.source ?? "correspondence" });
        if (stored.conflicts.length) {
          throw clientError(409, "EVENT_ID_CONFLICT", "An event id was already used for different content; nothing in this request was stored", {
            details: stored.conflicts.map((id) => ({ id })),
          });
        }
        // Applied after the answer, with whatever else is waiting.
        (this.applier as Applier).applyStored(stored.toApply, stored.outboxId).catch((err: unknown) => this.logger.warn(`apply of ${stored.toApply.length} event(s) deferred to the sweep:`, err));
        const results = events.map((e, i) => ({ id: e.id, outcome: stored.outcomes[i]! }));
        events.forEach((e, i) => this.broker.metrics.increment("taqib.events.ingested", { type: e.type, outcome: stored.outcomes[i] }));
        const accepted = results.filter((r) => r.outcome === "accepted").length;
        (ctx.meta as any).$statusCode = accepted > 0 ? 202 : 200;
        if (single) return results[0]!;
        return { accepted, duplicates: results.length - accepted, results };
      },
    },

    /** Applies what the outbox holds now (used by tests and after imports): `{ applied }`. */
    apply: {
      async handler() {
        return { applied: await (this.applier as Applier).sweep(0) };
      },
    },
  },
  created() {
    registerMetrics(this.broker);
    // Concurrent requests share one read and one insert (up to a thousand events together).
    this.store = new Batcher<StoreRequest, StoreResult>((requests) => storeEventRequests(requests), { maxBatch: 64, weight: (r) => r.events.length, maxWeight: IN_LIMIT });
    this.applier = new Applier({
      defaultReplyPeriodDays: configOf(this.broker).defaultReplyPeriodDays,
      onApplied: (applied) => {
        for (const a of applied) {
          this.broker.emit("transaction.updated", { number: a.state.number, status: a.state.status });
          for (const e of a.events) this.broker.metrics.increment("taqib.events.applied", { type: e.type });
        }
      },
    });
  },
  started() {
    forwardQueuedToBroker(this.broker);
  },
};

export default EventsService;

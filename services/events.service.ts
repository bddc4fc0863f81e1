import type { Context, ServiceSchema } from "moleculer";
import { databaseMixin, periodic } from "../core/mixins.ts";
import { validateEvent, type FieldError, type IncomingEvent } from "../core/event-contract.ts";
import { storeEvents, loadEvents, saveProjection, markApplied, pendingTransactionNumbers, countEvents, type StoreOutcome } from "../core/ingest.ts";
import { serialized } from "../core/exclusive.ts";
import { registerMetrics } from "../core/metrics.ts";
import { project } from "../core/lifecycle.ts";
import { enqueueMessages, plannedMessages } from "../core/notifications.ts";
import { clientError } from "../core/errors.ts";
import { syncPendingReplies } from "../core/followup.ts";
import { configOf } from "../core/broker.ts";

export const MAX_BATCH = 1000;

/** The answer: 202 when anything new was stored, 200 when all were duplicates. */
export type IngestResult =
  | { accepted: number; duplicates: number; results: Array<{ id: string; outcome: StoreOutcome }> }
  | { id: string; outcome: StoreOutcome };

/**
 * The correspondence system's events: validated, stored durably before the answer, then
 * applied (projection, notifications) in occurredAt order. Unapplied events, from a crash
 * or a failure, are picked up by a periodic sweep.
 */
const EventsService: ServiceSchema = {
  name: "events",
  mixins: [
    databaseMixin(),
    periodic("apply sweep", (svc) => configOf(svc.broker).sweepIntervalMs, async (svc) => {
      await svc.applyAll(await pendingTransactionNumbers(200, 2000));
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

        const stored = await storeEvents(events, ctx.params.source ?? "correspondence");
        if (stored.conflicts.length) {
          throw clientError(409, "EVENT_ID_CONFLICT", "An event id was already used for different content; nothing in this request was stored", {
            details: stored.conflicts.map((id) => ({ id })),
          });
        }
        // Applied after the answer, a few at a time (a batch of 1,000 must not swamp the database).
        void this.applyAll(stored.transactionNumbers);
        const results = events.map((e, i) => ({ id: e.id, outcome: stored.outcomes[i]! }));
        events.forEach((e, i) => this.broker.metrics.increment("taqib.events.ingested", { type: e.type, outcome: stored.outcomes[i] }));
        const accepted = results.filter((r) => r.outcome === "accepted").length;
        (ctx.meta as any).$statusCode = accepted > 0 ? 202 : 200;
        if (single) return results[0]!;
        return { accepted, duplicates: results.length - accepted, results };
      },
    },

    /** Applies a transaction's pending events now (used by tests and after imports). */
    apply: {
      params: { number: "string" },
      async handler(ctx: Context<{ number: string }>) {
        await this.applyTransaction(ctx.params.number);
        return { ok: true };
      },
    },
  },
  methods: {
    async applyAll(numbers: string[]): Promise<void> {
      const queue = [...numbers];
      const worker = async () => {
        for (let n = queue.shift(); n !== undefined; n = queue.shift()) {
          await this.applyTransaction(n).catch((err: unknown) => this.logger.warn(`apply of ${n} deferred to the sweep:`, err));
        }
      };
      await Promise.all(Array.from({ length: Math.min(4, queue.length) }, worker));
    },
    async applyTransaction(number: string): Promise<void> {
      // One apply per transaction at a time in this process; across processes, a projection
      // written from fewer events than exist is redone (see saveProjection).
      await serialized(`transaction:${number}`, async () => {
        for (let round = 0; round < 5; round++) {
          const events = await loadEvents(number);
          const pending = events.filter((e) => !e.applied);
          const state = project(number, events);
          await saveProjection(state);
          if (pending.length) {
            const messages = pending.flatMap((e) => plannedMessages(e, state));
            await enqueueMessages(messages);
            if (messages.length) this.broker.broadcast("sms.queued");
            await syncPendingReplies(state, configOf(this.broker).defaultReplyPeriodDays);
            await markApplied(pending.map((e) => e.id));
            this.broker.emit("transaction.updated", { number, status: state.status });
            for (const e of pending) this.broker.metrics.increment("taqib.events.applied", { type: e.type });
          }
          if ((await countEvents(number)) <= state.eventCount) return;
        }
      });
    },
  },
  created() {
    registerMetrics(this.broker);
  },
};

export default EventsService;

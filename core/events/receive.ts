// A request to the events API, from its body to its answer: validated as a whole (nothing is
// stored when one event is wrong), stored durably before the answer, applied after it.
import { clientError } from "../platform/errors.ts";
import { validateEvent, type FieldError, type IncomingEvent } from "./contract.ts";
import type { StoreOutcome, StoreRequest, StoreResult } from "./ingest.ts";

/** Events per request at most. */
export const MAX_BATCH = 1000;

/** The answer: one event's outcome, or a batch's counts and outcomes. */
export type IngestResult =
  | { accepted: number; duplicates: number; results: Array<{ id: string; outcome: StoreOutcome }> }
  | { id: string; outcome: StoreOutcome };

/**
 * The events of a request body (one event or an array of up to MAX_BATCH), all valid; else a
 * 400 INVALID_EVENT naming every bad field (`[i].field` in a batch), an id repeated within the
 * batch included, or 400 EMPTY_BATCH / 413 BATCH_TOO_LARGE.
 *
 * @example
 *   parseEvents([{ id: "e1", type: "registered", … }]) // { events: [IncomingEvent], single: false }
 */
export function parseEvents(body: unknown): { events: IncomingEvent[]; single: boolean } {
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
    if (!r.event) return;
    const prev = seen.get(r.event.id);
    if (prev !== undefined) errors.push({ field: `[${i}].id`, message: `repeats the id of event [${prev}] in the same batch` });
    else seen.set(r.event.id, i);
    events.push(r.event);
  });
  if (errors.length) throw clientError(400, "INVALID_EVENT", `${errors.length} invalid field(s)`, { details: errors });
  return { events, single };
}

export interface EventIntakeDeps {
  /** Stores a request's events durably (see storeEventRequests). */
  store(request: StoreRequest): Promise<StoreResult>;
  /** Applies what was stored; called after storing, not awaited by the answer. */
  apply(stored: StoreResult): void;
  /** Each event of a stored request, with its outcome (metrics). */
  onStored?(event: IncomingEvent, outcome: StoreOutcome): void;
}

/**
 * The events API's intake. `status` is 202 when anything new was stored, 200 when every event
 * was a duplicate; a request with an id already used for other content stores nothing (409
 * EVENT_ID_CONFLICT), nor does one issuing an outgoing number another transaction holds (409
 * OUTGOING_NUMBER_CONFLICT, naming it and its transaction).
 *
 * @example
 *   const intake = eventIntake({ store: (r) => batcher.add(r), apply: (s) => void applier.applyStored(s.toApply, s.outboxId) });
 *   await intake.receive(body, "correspondence") // { status: 202, result: { id: "e1", outcome: "accepted" } }
 */
export function eventIntake(deps: EventIntakeDeps): { receive(body: unknown, source: string): Promise<{ status: 200 | 202; result: IngestResult }> } {
  return {
    async receive(body, source) {
      const { events, single } = parseEvents(body);
      const stored = await deps.store({ events, source });
      if (stored.conflicts.length) {
        throw clientError(409, "EVENT_ID_CONFLICT", "An event id was already used for different content; nothing in this request was stored", {
          details: stored.conflicts.map((id) => ({ id })),
        });
      }
      if (stored.outgoingConflicts.length) {
        const [first] = stored.outgoingConflicts;
        const more = stored.outgoingConflicts.length > 1 ? ` (and ${stored.outgoingConflicts.length - 1} more)` : "";
        throw clientError(
          409,
          "OUTGOING_NUMBER_CONFLICT",
          `Outgoing number ${first!.outgoingNumber} is already used by transaction ${first!.transactionNumber}${more}; nothing in this request was stored`,
          {
            messageAr: `رقم الصادر ${first!.outgoingNumber} مستخدم للمعاملة ${first!.transactionNumber}؛ لم يُحفظ شيء من هذا الطلب`,
            details: stored.outgoingConflicts.map((c) => ({ id: c.id, outgoingNumber: c.outgoingNumber, transactionNumber: c.transactionNumber })),
          },
        );
      }
      // Applied after the answer, with whatever else is waiting.
      deps.apply(stored);
      const results = events.map((e, i) => ({ id: e.id, outcome: stored.outcomes[i]! }));
      events.forEach((e, i) => deps.onStored?.(e, stored.outcomes[i]!));
      const accepted = results.filter((r) => r.outcome === "accepted").length;
      return { status: accepted > 0 ? 202 : 200, result: single ? results[0]! : { accepted, duplicates: results.length - accepted, results } };
    },
  };
}

// The SMS send: workers submit the prepared messages to the SMPP node, which records each
// accepted submit on its message (the record is what keeps a message from being sent twice).
// Transient failures go back to the queue with a backoff, permanent ones fail the message.
// Claiming and preparing are in queue.ts, the delivery receipts that follow in receipts.ts.
import { Batcher } from "../store/batcher.ts";
import { findByIds, onlyDuplicateKeys } from "../store/db.ts";
import { retry, retryTransient } from "../store/retry.ts";
import { RecordFailedError, submitFailure } from "../platform/errors.ts";
import type { SubmitResult } from "../smpp/client.ts";
import { MessageModel, ReceiptModel, SmsPartModel, SmsQueueModel } from "./models.ts";
import type { ReadyMessage } from "./queue.ts";
import { canonicalPartId, settleMessages, type PartReceipt, type Settled } from "./receipts.ts";
import { bulk, failOp, historyEntry, retryOps } from "./writes.ts";

/**
 * What a worker needs from the SMPP side: the smpp service's `submit` action, which also
 * records the submit on the message (see recordSubmitted) on the node that talked to the
 * SMSC, so a worker that dies after asking cannot cause a second send.
 */
export type Submit = (req: { messageId: string } & SubmitRecord) => Promise<SubmitResult>;

/** What the SMPP node records of a submit besides the SMSC's answer. */
export type SubmitRecord = Pick<ReadyMessage, "to" | "text" | "lang" | "attempt" | "claimedAt">;

export type SendOutcome = "submitted" | "skipped" | "failed" | "retry";

/** Delay before retry number `attempt` (1-based) of a transient failure: 1 s doubling to 5 min, ±20 %. */
export function retryDelayMs(attempt: number): number {
  const base = Math.min(1000 * 2 ** (Math.max(attempt, 1) - 1), 300_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** How many transient failures a message survives (about a day at the 5-minute cap). */
export const MAX_ATTEMPTS = 300;

/**
 * Submits prepared messages (a worker's share of a round), all at once: the SMPP client's
 * window and rate pace them. Transient failures go back to the queue with their backoff and
 * permanent ones fail, in one bulk write each. Answers each message's outcome.
 *
 * @example
 *   const outcomes = await submitMessages(ready, (req) => broker.call("smpp.submit", req));
 */
export async function submitMessages(items: ReadyMessage[], submit: Submit): Promise<SendOutcome[]> {
  const messageOps: any[] = [];
  const queueOps: any[] = [];
  const done: string[] = [];
  const outcomes = await Promise.all(
    items.map(async (item): Promise<SendOutcome> => {
      try {
        await submit({ messageId: item.messageId, to: item.to, text: item.text, lang: item.lang, attempt: item.attempt, claimedAt: item.claimedAt });
        return "submitted";
      } catch (err) {
        const failure = submitFailure(err);
        // No answer from the smpp service: it may still send the message and record it. Its
        // claim holds it: recorded as submitted when it went out, handed out again once the
        // claim is stale when it never did.
        if (failure.kind === "unanswered") return "retry";
        // At the SMSC, but the smpp node could not record it: recorded here, never sent again.
        if (failure.kind === "unrecorded") {
          await recordSubmitted(item.messageId, failure.result, item);
          return "submitted";
        }
        const { code, message, retryable } = failure;
        if (retryable && item.attempt < MAX_ATTEMPTS) {
          const r = retryOps(item.messageId, item.attempt, code, message, retryDelayMs(item.attempt), "retrying");
          messageOps.push(r.message);
          queueOps.push(r.queue);
          return "retry";
        }
        // The SMSC refused it for good (an ESME_ code), or it cannot be sent as it is.
        messageOps.push(failOp(item.messageId, code.startsWith("ESME_") ? "rejected" : "failed", code, message));
        done.push(item.messageId);
        return "failed";
      }
    }),
  );
  await bulk(MessageModel, messageOps);
  if (done.length) queueOps.push({ deleteMany: { filter: { _id: { $in: done } } } });
  await bulk(SmsQueueModel, queueOps);
  return outcomes;
}

/**
 * Records accepted submits: one part document per SMSC id (inserts), the message's text, attempt
 * and "submitted" (one update each), the queue entry removed; then settles the messages whose
 * receipts came first. The part documents come first: a receipt finds its message through
 * them, also when the node dies right after.
 */
async function recordSubmittedBatch(items: Array<{ messageId: string; result: SubmitResult; sent?: SubmitRecord }>): Promise<Array<Settled | undefined>> {
  const now = new Date();
  const parts = items.flatMap(({ messageId, result }) => {
    const siblings = result.messageIds.map(canonicalPartId);
    return siblings.map((id) => ({ _id: id, messageId, siblings, submittedAt: now }));
  });
  await retryTransient(() => SmsPartModel.collection.insertMany(parts as any[], { ordered: false })).catch((err) => {
    // Written by an earlier try of this record (the same ids, the same message).
    if (!onlyDuplicateKeys(err)) throw err;
  });
  await bulk(
    MessageModel,
    items.map(({ messageId, result, sent }) => ({
      updateOne: {
        filter: { _id: messageId, status: { $in: ["queued", "sending"] } },
        update: {
          $set: {
            status: "submitted",
            partIds: result.messageIds,
            submittedAt: now,
            updatedAt: now,
            encoding: result.encoding,
            parts: result.partCount,
            ...(sent ? { to: sent.to, text: sent.text, lang: sent.lang, attempts: sent.attempt } : {}),
          },
          $unset: { sendingSince: 1, error: 1 },
          $push: {
            statusHistory: {
              $each: [...(sent ? [{ status: "sending", at: new Date(sent.claimedAt) }] : []), historyEntry("submitted")],
            },
          },
        },
      },
    })),
  );
  await retryTransient(() => SmsQueueModel.collection.deleteMany({ _id: { $in: items.map((i) => i.messageId) as any[] } }));
  // Receipts that beat the record (kept by their part's key): settle what they complete.
  const early = await findByIds(ReceiptModel.collection, parts.map((p) => p._id));
  if (!early.length) return items.map(() => undefined);
  const receipts = new Map<string, PartReceipt>(early.map((r) => [String(r._id), r as PartReceipt]));
  const siblingsOf = new Map(items.map((i) => [i.messageId, i.result.messageIds.map(canonicalPartId)]));
  for (const [id, sib] of siblingsOf) if (!sib.some((k) => receipts.has(k))) siblingsOf.delete(id);
  const settled = await settleMessages(siblingsOf, receipts, now);
  return items.map((i) => settled.get(i.messageId));
}

const submits = new Batcher(recordSubmittedBatch, { maxBatch: 500 });

/**
 * Records an accepted submit on its message (with whatever other submits are being recorded)
 * and applies receipts that arrived before it: the message's final status when they settle it.
 * `sent` is what the worker rendered (written with the record).
 */
export function recordSubmitted(messageId: string, result: SubmitResult, sent?: SubmitRecord): Promise<Settled | undefined> {
  return submits.add({ messageId, result, sent });
}

/** An accepted submit's record is retried this long (about a minute): through a database restart. */
const RECORD_RETRY = { attempts: 30, delayMs: (i: number) => Math.min(200 * i, 2000), when: () => true };

/**
 * Records an accepted submit (see recordSubmitted) on the node that talked to the SMSC, retried
 * through a database restart; then a RecordFailedError (its `cause` the last error), whose
 * result the worker that asked records in turn: the SMS is at the SMSC and must not be sent again.
 *
 * @example
 *   const settled = await recordAcceptedSubmit("m1", { messageIds: ["a1"], encoding: "GSM7", partCount: 1 });
 */
export async function recordAcceptedSubmit(messageId: string, result: SubmitResult, sent?: SubmitRecord): Promise<Settled | undefined> {
  try {
    return await retry(() => recordSubmitted(messageId, result, sent), RECORD_RETRY);
  } catch (err) {
    throw Object.assign(new RecordFailedError(result), { cause: err });
  }
}

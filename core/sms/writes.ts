// The writes that move a message on, shared by the queue, the send and the receipts: each is
// conditional on the message's status, so a retried step or a late one cannot move it backwards.
import type mongoose from "mongoose";
import { clock } from "../platform/clock.ts";
import { retryTransient } from "../store/retry.ts";
import { FINAL_MESSAGE_STATUSES, type MessageStatus } from "./models.ts";

export const historyEntry = (status: MessageStatus | "retrying", detail?: string) => ({ status, at: new Date(), ...(detail ? { detail } : {}) });

/** The update that fails a message for good (unless it is final already). */
export function failOp(messageId: string, status: MessageStatus, code: string, message: string) {
  const now = new Date();
  return {
    updateOne: {
      filter: { _id: messageId, status: { $nin: FINAL_MESSAGE_STATUSES } },
      update: { $set: { status, error: { code, message }, finalAt: now, updatedAt: now }, $unset: { sendingSince: 1 }, $push: { statusHistory: historyEntry(status, code) } },
    },
  };
}

/** The updates that put a message back in the queue for attempt number `attempt` + 1 after `delayMs`. */
export function retryOps(messageId: string, attempt: number, code: string, message: string, delayMs: number, history?: "retrying") {
  const now = clock.now();
  const nextAttemptAt = new Date(now.getTime() + delayMs);
  return {
    message: {
      updateOne: {
        filter: { _id: messageId, status: { $in: ["queued", "sending"] } },
        update: {
          $set: { status: "queued", nextAttemptAt, error: { code, message }, updatedAt: now, attempts: attempt },
          $unset: { sendingSince: 1 },
          ...(history ? { $push: { statusHistory: historyEntry(history, code) } } : {}),
        },
      },
    },
    queue: { updateOne: { filter: { _id: messageId }, update: { $set: { dueAt: nextAttemptAt, attempts: attempt } } } },
  };
}

/** The ops in one unordered bulk write (retried while the failure is transient). */
export async function bulk(model: mongoose.Model<any>, ops: any[], attempts?: number): Promise<void> {
  if (ops.length) await retryTransient(() => model.collection.bulkWrite(ops, { ordered: false }), attempts);
}

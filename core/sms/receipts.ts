// Delivery receipts: each final receipt of a part is matched to its message through the part
// documents the submit's record wrote, and a message is settled (delivered, undeliverable, ...)
// once every part has its final receipt. Receipts that beat the record are kept and settled by
// the record or by the pending-receipts sweep. A receipt that arrives twice or late is harmless.
import mongoose from "mongoose";
import { Batcher } from "../store/batcher.ts";
import { findByIds, onlyDuplicateKeys } from "../store/db.ts";
import { retryTransient } from "../store/retry.ts";
import { aggregatePartStatuses, messageIdAliases, type MessageStatus as ReceiptStatus } from "../smpp/dlr.ts";
import { FINAL_MESSAGE_STATUSES, MessageModel, PENDING_RECEIPTS_COLLECTION, ReceiptModel, SmsPartModel } from "./models.ts";
import { bulk, historyEntry } from "./writes.ts";

/**
 * The key of an SMSC message id: SMSCs write the same id in hex or decimal, upper or lower
 * case, with or without leading zeros. Ids that are not numbers are kept as they are.
 *
 * @example
 *   canonicalPartId("00001A2B") // "1a2b"
 */
export function canonicalPartId(id: string): string {
  const s = id.trim();
  const body = s.replace(/^0x/i, "");
  if (/^[0-9a-f]+$/i.test(body)) return body.toLowerCase().replace(/^0+(?=.)/, "");
  return s;
}

/** Every key a receipt's id may have been recorded under. */
function receiptKeys(id: string): string[] {
  return [...new Set([canonicalPartId(id), ...messageIdAliases(id).map(canonicalPartId)])];
}

/** A message that reached its final status: which, and how long after its submit. */
export interface Settled {
  status: ReceiptStatus;
  latencyMs: number;
}

/** A final receipt of a part: what settling needs of it. */
export interface PartReceipt {
  status: ReceiptStatus;
  doneAt?: Date;
}

export interface Receipt {
  messageId: string;
  status: ReceiptStatus;
  final: boolean;
  stat?: string;
  err?: string;
  doneAt?: Date;
}

/** Final receipts whose part was not recorded yet when they came (the pending-receipts sweep's list). */
const pendingReceipts = () => mongoose.connection.collection(PENDING_RECEIPTS_COLLECTION);

/**
 * Applies a batch of delivery receipts: a read of their parts, then, for the messages whose
 * every part has its final receipt in the batch (the usual case: an SMSC reports the parts of
 * an SMS together), one update that settles each. The receipts of the other messages are kept
 * (inserts) and their siblings' read back, so that two batches holding parts of one message,
 * here or on another node, cannot both miss that it is complete. Non-final receipts change
 * nothing: only final ones decide. A receipt that arrives twice or late is harmless.
 */
async function applyReceiptBatch(batch: Receipt[]): Promise<Array<Settled | undefined>> {
  const now = new Date();
  const keysOf = batch.map((r) => receiptKeys(r.messageId));
  const known = new Map<string, any>();
  for (const p of await findByIds(SmsPartModel.collection, [...new Set(keysOf.flat())])) known.set(String(p._id), p);
  // Each final receipt's part (its recorded key), and the message it belongs to.
  const finals = new Map<string, PartReceipt & { key: string; messageId?: string; siblings?: string[]; stat?: string; err?: string }>();
  batch.forEach((r, i) => {
    if (!r.final) return;
    const part = keysOf[i]!.map((k) => known.get(k)).find(Boolean);
    const key = part ? String(part._id) : canonicalPartId(r.messageId);
    finals.set(key, { key, status: r.status, doneAt: r.doneAt ?? now, stat: r.stat, err: r.err, messageId: part?.messageId, siblings: part?.siblings });
  });
  const byMessage = new Map<string, string[]>();
  for (const f of finals.values()) if (f.messageId) byMessage.set(f.messageId, f.siblings ?? [f.key]);
  const complete = new Map([...byMessage].filter(([, sib]) => sib.every((k) => finals.has(k))));
  // Kept: receipts of messages not complete here, and of parts not recorded yet.
  const keep = [...finals.values()].filter((f) => !f.messageId || !complete.has(f.messageId));
  if (keep.length) {
    const docs = keep.map((f) => ({ _id: f.key, status: f.status, stat: f.stat, err: f.err, doneAt: f.doneAt, receivedAt: now }));
    await retryTransient(() => ReceiptModel.collection.insertMany(docs as any[], { ordered: false }), RECEIPT_ATTEMPTS).catch((err) => {
      if (!onlyDuplicateKeys(err)) throw err; // a repeated receipt: the first one stays
    });
    const orphans = keep.filter((f) => !f.messageId).map((f) => f.key);
    if (orphans.length) {
      await pendingReceipts().bulkWrite(orphans.map((k) => ({ updateOne: { filter: { _id: k as any }, update: { $setOnInsert: { at: now } }, upsert: true } })), { ordered: false });
    }
  }
  // The incomplete ones: complete with what is kept of their other parts?
  const partial = new Map([...byMessage].filter(([id]) => !complete.has(id)));
  const receipts = new Map<string, PartReceipt>([...finals].map(([k, f]) => [k, f]));
  if (partial.size) {
    for (const r of await findByIds(ReceiptModel.collection, [...new Set([...partial.values()].flat())].filter((k) => !receipts.has(k)))) receipts.set(String(r._id), r as PartReceipt);
  }
  const settled = await settleMessages(new Map([...complete, ...partial]), receipts, now, RECEIPT_ATTEMPTS);
  // One answer per message settled here (the metrics observe each message once).
  const reported = new Set<string>();
  return batch.map((r, i) => {
    const part = keysOf[i]!.map((k) => known.get(k)).find(Boolean);
    const id = r.final ? part?.messageId : undefined;
    if (!id || reported.has(id) || !settled.has(id)) return undefined;
    reported.add(id);
    return settled.get(id);
  });
}

const receiptBatches = new Batcher(applyReceiptBatch, { maxBatch: 250 });

/**
 * Tries of each write of a receipt batch: a few, about a third of a second. A receipt whose
 * write fails is refused, and the SMSC delivers it again later: better than holding the SMSC's
 * deliver_sm past its own time-out (then it may keep the receipt until it binds again).
 */
const RECEIPT_ATTEMPTS = 4;

/**
 * Records a delivery receipt and applies it to its message, with whatever other receipts are
 * being recorded. Resolves once it is written: the SMSC may be told it was taken.
 */
export function applyReceipt(r: Receipt): Promise<Settled | undefined> {
  return receiptBatches.add(r);
}

/**
 * Sets the final status of the messages whose parts all have a final receipt (or one failed),
 * one conditional update each. A message not recorded as submitted yet is settled too: its
 * receipts prove the SMSC took it (the node died between the SMSC's answer and the record).
 * A message already final is left as it is, and not reported.
 */
export async function settleMessages(siblingsOf: Map<string, string[]>, receipts: Map<string, PartReceipt>, now: Date, attempts?: number): Promise<Map<string, Settled>> {
  const settled = new Map<string, Settled>();
  const ops: any[] = [];
  for (const [messageId, siblings] of siblingsOf) {
    const rs = siblings.map((k) => receipts.get(k));
    const { status, final } = aggregatePartStatuses(rs.map((r) => r?.status));
    if (!final) continue;
    const at = rs.reduce<Date | undefined>((max, r) => (r?.doneAt && (!max || r.doneAt > max) ? r.doneAt : max), undefined) ?? now;
    ops.push({
      updateOne: {
        filter: { _id: messageId, status: { $in: ["queued", "sending", "submitted"] } },
        update: { $set: { status, finalAt: at, updatedAt: now }, $unset: { sendingSince: 1 }, $push: { statusHistory: historyEntry(status) } },
      },
    });
    settled.set(messageId, { status, latencyMs: 0 });
  }
  if (!ops.length) return settled;
  // The submit times, for the latency, and which were still open (a repeated receipt settles nothing again).
  const open = new Map<string, Date>();
  for (const m of await findByIds(MessageModel.collection, [...settled.keys()], { projection: { status: 1, submittedAt: 1, createdAt: 1 } })) {
    if (!FINAL_MESSAGE_STATUSES.includes(m.status)) open.set(String(m._id), m.submittedAt ?? m.createdAt ?? now);
  }
  // Receipts give their done time to the minute: one before the submit is the submit's minute.
  for (const o of ops) {
    const submittedAt = open.get(o.updateOne.filter._id);
    if (submittedAt && submittedAt > o.updateOne.update.$set.finalAt) o.updateOne.update.$set.finalAt = submittedAt;
  }
  await bulk(MessageModel, ops.filter((o) => open.has(o.updateOne.filter._id)), attempts);
  for (const [id, s] of settled) {
    const submittedAt = open.get(id);
    if (!submittedAt) settled.delete(id);
    else s.latencyMs = Math.max(0, now.getTime() - submittedAt.getTime());
  }
  return settled;
}

/**
 * Settles the messages whose final receipts came before their submit was recorded, once it
 * is (run periodically by the smpp service). A receipt whose submit is never recorded (a
 * copy sent again after a crash or a link cut) is forgotten after a day.
 */
export async function settlePendingReceipts(limit = 500, onSettled?: (s: Settled) => void): Promise<number> {
  if (mongoose.connection.readyState !== 1) return 0;
  const pending = await pendingReceipts().find({}).limit(limit).toArray();
  if (!pending.length) return 0;
  const parts = await findByIds(SmsPartModel.collection, pending.map((p) => p._id));
  const siblingsOf = new Map<string, string[]>();
  for (const p of parts) if (p.messageId) siblingsOf.set(p.messageId, p.siblings ?? [String(p._id)]);
  const receipts = new Map<string, PartReceipt>();
  for (const r of await findByIds(ReceiptModel.collection, [...new Set([...siblingsOf.values()].flat())])) receipts.set(String(r._id), r as PartReceipt);
  const settled = siblingsOf.size ? await settleMessages(siblingsOf, receipts, new Date()) : new Map<string, Settled>();
  for (const s of settled.values()) onSettled?.(s);
  const recorded = new Set(parts.filter((p) => p.messageId).map((p) => String(p._id)));
  const dayAgo = Date.now() - 86_400_000;
  const forget = pending.filter((p) => recorded.has(String(p._id)) || !(p.at instanceof Date) || p.at.getTime() < dayAgo).map((p) => p._id);
  if (forget.length) await pendingReceipts().deleteMany({ _id: { $in: forget } });
  return settled.size;
}

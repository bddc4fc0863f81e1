// The life of SMS after they are queued, in batches: the dispatcher claims the due ones and
// prepares them (read, render, mark "sending"), workers submit them, the SMPP node records
// the submits and the delivery receipts that follow. Every step is a write conditional on
// the message's status or a unique insert, so a retried step, a second worker or a late
// receipt cannot send a message twice or move it backwards. Round-trips are per batch.
import { Batcher } from "./batcher.ts";
import { findByIds, isDuplicateKey, onlyDuplicateKeys } from "./db.ts";
import { directory } from "./directory-cache.ts";
import { aggregatePartStatuses, messageIdAliases, type MessageStatus as ReceiptStatus } from "./smpp/dlr.ts";
import { retryTransient } from "./retry.ts";
import { ClaimModel } from "./exclusive.ts";
import { FINAL_MESSAGE_STATUSES, MessageModel, SmsPartModel, SmsQueueModel, TransactionModel, type MessageStatus } from "./models.ts";
import mongoose from "mongoose";

/** What the SMSC answered for an accepted submit (all parts). */
export interface SubmitResult {
  messageIds: string[];
  encoding: string;
  partCount: number;
}

/**
 * What a worker needs from the SMPP side: the smpp service's `submit` action, which also
 * records the submit on the message (see recordSubmitted) on the node that talked to the
 * SMSC, so a worker that dies after asking cannot cause a second send.
 */
export type Submit = (req: { messageId: string; to: string; text: string }) => Promise<SubmitResult>;

/** What the dispatcher needs from the templates. */
export interface Renderer {
  render(name: string, lang: "ar" | "en", data: object): { text: string };
}

export interface PrepareDeps {
  render: Renderer;
  /** Encoding and part count of a text. */
  analyse(text: string): { encoding: string; partCount: number };
  maxParts: number;
  /** How long a message may wait for data it needs (the registered event, the employee). */
  dataGraceMs?: number;
  /** How long a worker may hold a message before it counts as dead and the message is handed out again. */
  staleSendingMs: number;
}

/** A message ready to submit: its attempt claimed, rendered and marked "sending". */
export interface ReadyMessage {
  messageId: string;
  attempt: number;
  to: string;
  text: string;
}

export type SendOutcome = "submitted" | "skipped" | "failed" | "retry";

/** Delay before retry number `attempt` (1-based) of a transient failure: 1 s doubling to 5 min, ±20 %. */
export function retryDelayMs(attempt: number): number {
  const base = Math.min(1000 * 2 ** (Math.max(attempt, 1) - 1), 300_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** How many transient failures a message survives (about a day at the 5-minute cap). */
export const MAX_ATTEMPTS = 300;

/** Data missing for the template: retried while the grace period lasts. */
class MissingDataError extends Error {
  constructor(public readonly code: string, message: string) {
    super(message);
  }
}

const localName = (n: { ar?: string | null; en?: string | null } | undefined | null, fallback?: string) => ({
  ar: n?.ar ?? n?.en ?? fallback ?? "",
  en: n?.en ?? n?.ar ?? fallback ?? "",
});

type MessageInput = { template: string; role: string; to?: string | null; lang?: string | null; transactionNumber?: string | null; vars?: any };

/**
 * The recipient, language and template data of a message, from its transaction (read by the
 * caller, in a batch) and the directory (cached).
 */
export async function resolveMessage(msg: MessageInput, t: any | null | undefined): Promise<{ to: string; lang: "ar" | "en"; data: Record<string, unknown> }> {
  const vars = (msg.vars ?? {}) as Record<string, any>;
  const data: Record<string, unknown> = { ...vars, today: new Date() };
  let to = msg.to ?? undefined;
  let lang = (msg.lang as "ar" | "en" | undefined) ?? undefined;
  if (msg.transactionNumber) {
    if (!t || !t.registered) throw new MissingDataError("TRANSACTION_NOT_REGISTERED", `transaction ${msg.transactionNumber} has no registered event yet`);
    data.transaction = { number: t.number, registeredAt: t.registeredAt, subject: t.subject ?? "", status: t.status };
    data.citizen = { name: t.citizen?.name };
    if (msg.role === "citizen") {
      to ??= t.citizen?.mobile ?? undefined;
      lang ??= (t.citizen?.language as "ar" | "en" | undefined) ?? "ar";
    }
    if (vars.outgoingNumber) {
      const o = (t.outgoing ?? []).find((x: any) => x.number === vars.outgoingNumber);
      if (!o) throw new MissingDataError("OUTGOING_NOT_FOUND", `outgoing ${vars.outgoingNumber} is not in transaction ${t.number}`);
      const agency = o.destination?.agencyCode ? await directory.agencies.get(o.destination.agencyCode) : null;
      data.outgoing = {
        number: o.number,
        date: o.date,
        destination: { code: o.destination?.agencyCode, name: localName(agency?.name, o.destination?.name ?? o.destination?.agencyCode ?? "") },
      };
      if (o.reply) data.reply = { number: o.reply.number ?? "", date: o.reply.date ?? o.reply.receivedAt };
    }
    const deptCode = (vars.departmentCode as string | undefined) ?? t.departmentCode;
    if (deptCode) {
      const dept = await directory.departments.get(deptCode);
      if (dept) {
        data.department = { code: dept._id, name: localName(dept.name) };
        data.manager = { name: dept.manager?.name ?? "" };
        if (msg.role === "manager") to ??= dept.manager?.mobile ?? undefined;
        if (msg.role === "escalation") {
          to ??= dept.escalation?.mobile ?? undefined;
          data.escalation = { name: dept.escalation?.name ?? "" };
        }
      }
    }
  }
  if (msg.role === "employee") {
    const emp = vars.employeeId ? await directory.employees.get(vars.employeeId) : null;
    if (!emp) throw new MissingDataError("EMPLOYEE_NOT_FOUND", `employee ${vars.employeeId} is not in the directory`);
    data.employee = { name: emp.name };
    to ??= emp.mobile;
  }
  if (!to) throw new MissingDataError("NO_RECIPIENT", `no mobile number for the ${msg.role} of this message`);
  return { to, lang: lang ?? "ar", data };
}

const historyEntry = (status: MessageStatus | "retrying", detail?: string) => ({ status, at: new Date(), ...(detail ? { detail } : {}) });

/** The update that fails a message for good (unless it is final already). */
function failOp(messageId: string, status: MessageStatus, code: string, message: string) {
  const now = new Date();
  return {
    updateOne: {
      filter: { _id: messageId, status: { $nin: FINAL_MESSAGE_STATUSES } },
      update: { $set: { status, error: { code, message }, finalAt: now, updatedAt: now }, $unset: { sendingSince: 1 }, $push: { statusHistory: historyEntry(status, code) } },
    },
  };
}

/** The updates that put a message back in the queue for attempt number `attempt` + 1 after `delayMs`. */
function retryOps(messageId: string, attempt: number, code: string, message: string, delayMs: number, fromStatus: MessageStatus) {
  const now = new Date();
  const nextAttemptAt = new Date(now.getTime() + delayMs);
  return {
    message: {
      updateOne: {
        filter: { _id: messageId, status: fromStatus },
        update: {
          $set: { status: "queued", nextAttemptAt, error: { code, message }, updatedAt: now },
          $unset: { sendingSince: 1 },
          ...(fromStatus === "sending" ? { $push: { statusHistory: historyEntry("retrying", code) } } : {}),
        },
      },
    },
    queue: { updateOne: { filter: { _id: messageId }, update: { $set: { dueAt: nextAttemptAt, attempts: attempt } } } },
  };
}

async function bulk(model: mongoose.Model<any>, ops: any[], attempts?: number): Promise<void> {
  if (ops.length) await retryTransient(() => model.collection.bulkWrite(ops, { ordered: false }), attempts);
}

/**
 * Claims up to `limit` due messages and prepares them: claim each attempt (a unique insert),
 * hide them from the next rounds while a worker holds them, read them and their transactions,
 * render, and mark them "sending" (or failed, or back in the queue for missing data). About
 * six round-trips whatever the batch's size. Answers the messages ready to submit, and when
 * the next message is due if none is now.
 *
 * @example
 *   const { ready, nextDueAt } = await claimDueMessages(200, deps, { inFlight });
 */
export async function claimDueMessages(
  limit: number,
  deps: PrepareDeps,
  opts: { inFlight?: ReadonlySet<string>; now?: Date } = {},
): Promise<{ ready: ReadyMessage[]; failed: number; nextDueAt?: Date }> {
  const now = opts.now ?? new Date();
  const inFlight = opts.inFlight ?? new Set<string>();
  // Messages this dispatcher still has out are never handed out again, however long they take.
  const queue = (await SmsQueueModel.find({}).sort({ dueAt: 1 }).limit(limit + inFlight.size).lean()).filter((q) => !inFlight.has(String(q._id)));
  const due = queue.filter((q) => (q.dueAt as Date) <= now).slice(0, limit);
  const nextDueAt = due.length ? undefined : (queue[0]?.dueAt as Date | undefined);
  if (!due.length) return { ready: [], failed: 0, nextDueAt };
  return claimAndPrepare(due, deps, now);
}

/**
 * Claims and prepares the given queued messages whatever their due time (an operator's
 * "send now", and tests that drive one message step by step).
 *
 * @example
 *   const { ready } = await claimMessages(["e1:registered:citizen"], deps);
 */
export async function claimMessages(ids: string[], deps: PrepareDeps): Promise<{ ready: ReadyMessage[]; failed: number }> {
  const entries = await SmsQueueModel.find({ _id: { $in: ids } }).lean();
  return entries.length ? claimAndPrepare(entries, deps, new Date()) : { ready: [], failed: 0 };
}

async function claimAndPrepare(due: Array<{ _id: unknown; attempts?: number | null }>, deps: PrepareDeps, now: Date): Promise<{ ready: ReadyMessage[]; failed: number }> {

  // One sender per attempt: a unique insert, exclusive on any server.
  const claims = due.map((q) => ({ _id: `send:${q._id}:${(q.attempts ?? 0) + 1}`, at: now, by: `${process.pid}` }));
  const lost = new Set<number>();
  try {
    await ClaimModel.collection.insertMany(claims as any[], { ordered: false });
  } catch (err) {
    if (!onlyDuplicateKeys(err)) throw err;
    for (const e of (err as { writeErrors?: Array<{ index: number }> }).writeErrors ?? []) lost.add(e.index);
  }
  if (lost.size) await skipDeadClaims(due.filter((_, i) => lost.has(i)), now, deps.staleSendingMs);
  const claimed = due.filter((_, i) => !lost.has(i));
  if (!claimed.length) return { ready: [], failed: 0 };
  const ids = claimed.map((q) => String(q._id));
  const attemptOf = new Map(claimed.map((q) => [String(q._id), (q.attempts ?? 0) + 1]));
  // Held by its worker until then: past it, the worker counts as dead and the message is due again.
  await SmsQueueModel.collection.updateMany({ _id: { $in: ids as any[] } }, { $inc: { attempts: 1 }, $set: { dueAt: new Date(now.getTime() + deps.staleSendingMs) } });

  const messages = await MessageModel.collection.find({ _id: { $in: ids as any[] } }).toArray();
  const numbers = [...new Set(messages.map((m) => m.transactionNumber).filter(Boolean))];
  const transactions = new Map<string, any>();
  if (numbers.length) for (const t of await TransactionModel.collection.find({ _id: { $in: numbers } }).toArray()) transactions.set(String(t._id), t);
  await prefetchDirectory(messages, transactions);

  const messageOps: any[] = [];
  const queueOps: any[] = [];
  const drop: string[] = [];
  const ready: ReadyMessage[] = [];
  let failed = 0;
  const found = new Set(messages.map((m) => String(m._id)));
  for (const id of ids) if (!found.has(id)) drop.push(id);
  for (const msg of messages) {
    const messageId = String(msg._id);
    const attempt = attemptOf.get(messageId)!;
    // Sent already (an entry left by a crash, or queued again by a repeated apply): nothing to do.
    if (msg.status !== "queued" && msg.status !== "sending") {
      drop.push(messageId);
      continue;
    }
    const prepared = await prepare(msg, transactions.get(msg.transactionNumber) ?? null, deps, now);
    if (prepared.kind === "failed") {
      messageOps.push(failOp(messageId, "failed", prepared.code, prepared.message));
      drop.push(messageId);
      failed++;
    } else if (prepared.kind === "wait") {
      // The data may come with a later event: look again in a few seconds.
      const r = retryOps(messageId, attempt, prepared.code, prepared.message, 5000, msg.status);
      messageOps.push(r.message);
      queueOps.push(r.queue);
    } else if (prepared.kind === "ready") {
      messageOps.push({
        updateOne: {
          filter: { _id: messageId, status: { $in: ["queued", "sending"] } },
          update: {
            $set: { status: "sending", sendingSince: now, updatedAt: now, attempts: attempt, to: prepared.to, lang: prepared.lang, text: prepared.text, encoding: prepared.encoding, parts: prepared.parts },
            $unset: { error: 1 },
            $push: { statusHistory: historyEntry("sending") },
          },
        },
      });
      ready.push({ messageId, attempt, to: prepared.to, text: prepared.text });
    }
  }
  await bulk(MessageModel, messageOps);
  if (drop.length) queueOps.push({ deleteMany: { filter: { _id: { $in: drop } } } });
  await bulk(SmsQueueModel, queueOps);
  return { ready, failed };
}

/**
 * Claims that are taken but whose queue entry was never moved on (the claimer died between
 * the two writes): past the stale time, the entry moves to the next attempt.
 */
async function skipDeadClaims(entries: Array<{ _id: unknown; attempts?: number | null }>, now: Date, staleMs: number): Promise<void> {
  const keys = entries.map((q) => `send:${q._id}:${(q.attempts ?? 0) + 1}`);
  const dead = (await ClaimModel.collection.find({ _id: { $in: keys as any[] }, at: { $lt: new Date(now.getTime() - staleMs) } }, { projection: { _id: 1 } }).toArray())
    .map((c) => String(c._id).replace(/^send:/, "").replace(/:\d+$/, ""));
  if (dead.length) await SmsQueueModel.collection.updateMany({ _id: { $in: dead as any[] } }, { $inc: { attempts: 1 } });
}

/** Reads the directory entries a batch of messages needs in one query per kind (when not cached). */
async function prefetchDirectory(messages: any[], transactions: Map<string, any>): Promise<void> {
  const departments = new Set<string>();
  const agencies = new Set<string>();
  const employees = new Set<string>();
  for (const m of messages) {
    const t = transactions.get(m.transactionNumber);
    const dept = m.vars?.departmentCode ?? t?.departmentCode;
    if (dept) departments.add(dept);
    if (m.vars?.employeeId) employees.add(m.vars.employeeId);
    const o = m.vars?.outgoingNumber ? t?.outgoing?.find((x: any) => x.number === m.vars.outgoingNumber) : undefined;
    if (o?.destination?.agencyCode) agencies.add(o.destination.agencyCode);
  }
  await Promise.all([directory.departments.getMany(departments), directory.agencies.getMany(agencies), directory.employees.getMany(employees)]);
}

type Prepared =
  | { kind: "ready"; to: string; lang: "ar" | "en"; text: string; encoding: string; parts: number }
  | { kind: "wait" | "failed"; code: string; message: string };

async function prepare(msg: any, transaction: any, deps: PrepareDeps, now: Date): Promise<Prepared> {
  let to: string, lang: "ar" | "en", text: string;
  if (msg.text && msg.to) {
    // Rendered by its channel already (an inquiry answer), or by an earlier attempt.
    ({ to, text } = msg as { to: string; text: string });
    lang = (msg.lang as "ar" | "en" | undefined) ?? "ar";
  } else {
    let resolved: Awaited<ReturnType<typeof resolveMessage>>;
    try {
      resolved = await resolveMessage(msg, transaction);
    } catch (err) {
      // Anything but missing data (the database gone mid-read) is thrown: the round fails and
      // decides nothing; the message is handed out again.
      if (!(err instanceof MissingDataError)) throw err;
      const age = now.getTime() - new Date(msg.createdAt).getTime();
      if (age < (deps.dataGraceMs ?? 15 * 60_000)) return { kind: "wait", code: err.code, message: err.message };
      return { kind: "failed", code: err.code, message: err.message };
    }
    ({ to, lang } = resolved);
    try {
      text = deps.render.render(msg.template, lang, { ...resolved.data, lang }).text;
    } catch (err) {
      // A template that does not render is an error on the message, never a half-rendered SMS.
      return { kind: "failed", code: (err as { code?: string }).code ?? "RENDER_FAILED", message: (err as Error).message };
    }
  }
  const { encoding, partCount } = deps.analyse(text);
  if (partCount > deps.maxParts) return { kind: "failed", code: "TOO_MANY_PARTS", message: `${partCount} parts, more than the ${deps.maxParts} allowed` };
  return { kind: "ready", to, lang, text, encoding, parts: partCount };
}

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
        await submit({ messageId: item.messageId, to: item.to, text: item.text });
        return "submitted";
      } catch (err) {
        const e = err as { name?: string; code?: string | number; message?: string; retryable?: boolean; data?: { code?: string; retryable?: boolean; result?: SubmitResult } };
        // No answer from the smpp service (our call timed out, or its node went away): it may
        // still send the message and record it. It stays "sending": recorded as submitted when
        // it went out, handed out again when its queue entry comes due when it never did.
        if (e.name === "RequestTimeoutError" || e.name === "RequestRejectedError") return "retry";
        // At the SMSC, but the smpp node could not record it: recorded here, never sent again.
        if (e.data?.code === "RECORD_FAILED" && e.data.result) {
          await recordSubmitted(item.messageId, e.data.result);
          return "submitted";
        }
        const code = String(e.data?.code ?? e.code ?? "SUBMIT_FAILED");
        const retryable = e.data?.retryable ?? e.retryable ?? true;
        if (retryable && item.attempt < MAX_ATTEMPTS) {
          const r = retryOps(item.messageId, item.attempt, code, e.message ?? code, retryDelayMs(item.attempt), "sending");
          messageOps.push(r.message);
          queueOps.push(r.queue);
          return "retry";
        }
        // The SMSC refused it for good (an ESME_ code), or it cannot be sent as it is.
        messageOps.push(failOp(item.messageId, code.startsWith("ESME_") ? "rejected" : "failed", code, e.message ?? code));
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

// ------------------------------------------------------------------ submits and receipts

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

/**
 * Records accepted submits (status submitted, one part document per SMSC id), three writes
 * for the batch, and settles the messages whose receipts came first. The part documents come
 * first: a receipt finds its message through them, also when the node dies right after.
 */
async function recordSubmittedBatch(items: Array<{ messageId: string; result: SubmitResult }>): Promise<Array<Settled | undefined>> {
  const now = new Date();
  const parts = items.flatMap(({ messageId, result }) => {
    const siblings = result.messageIds.map(canonicalPartId);
    return siblings.map((id) => ({ _id: id, messageId, siblings, submittedAt: now }));
  });
  const early = new Map<string, string[]>();
  try {
    await retryTransient(() => SmsPartModel.collection.insertMany(parts as any[], { ordered: false }));
  } catch (err) {
    if (!onlyDuplicateKeys(err)) throw err;
    // A receipt came first and wrote its part: complete it.
    const taken = ((err as { writeErrors?: Array<{ index: number }> }).writeErrors ?? []).map((e) => parts[e.index]!);
    await bulk(SmsPartModel, taken.map((p) => ({ updateOne: { filter: { _id: p._id }, update: { $set: { messageId: p.messageId, siblings: p.siblings, submittedAt: now } } } })));
    for (const p of taken) early.set(p.messageId, p.siblings);
  }
  await bulk(
    MessageModel,
    items.map(({ messageId, result }) => ({
      updateOne: {
        filter: { _id: messageId, status: "sending" },
        update: {
          $set: { status: "submitted", partIds: result.messageIds, submittedAt: now, updatedAt: now, encoding: result.encoding, parts: result.partCount },
          $unset: { sendingSince: 1 },
          $push: { statusHistory: historyEntry("submitted") },
        },
      },
    })),
  );
  await retryTransient(() => SmsQueueModel.collection.deleteMany({ _id: { $in: items.map((i) => i.messageId) as any[] } }));
  const settled = early.size ? await settleMessages(early) : new Map<string, Settled>();
  return items.map((i) => settled.get(i.messageId));
}

const submits = new Batcher(recordSubmittedBatch, { maxBatch: 500 });

/**
 * Records an accepted submit on its message (with whatever other submits are being recorded)
 * and applies receipts that arrived before it: the message's final status when they settle it.
 */
export function recordSubmitted(messageId: string, result: SubmitResult): Promise<Settled | undefined> {
  return submits.add({ messageId, result });
}

export interface Receipt {
  messageId: string;
  status: ReceiptStatus;
  final: boolean;
  stat?: string;
  err?: string;
  doneAt?: Date;
}

/** Receipts whose part was not recorded yet when they came (the pending-receipts sweep's list). */
const pendingReceipts = () => mongoose.connection.collection("receipts_pending");

/**
 * Records a batch of delivery receipts on their parts and settles the messages they complete:
 * a read of the parts, a write, a read of their siblings and a write of the messages. A
 * receipt that arrives twice, late (a non-final one after a final one) or before its submit
 * was recorded is applied correctly.
 */
async function applyReceiptBatch(receipts: Receipt[]): Promise<Array<Settled | undefined>> {
  const keysOf = receipts.map((r) => receiptKeys(r.messageId));
  const known = new Map<string, any>();
  for (const p of await findByIds(SmsPartModel.collection, [...new Set(keysOf.flat())])) known.set(String(p._id), p);
  const now = new Date();
  const ops: any[] = [];
  const partOf: Array<string | undefined> = [];
  receipts.forEach((r, i) => {
    const existing = keysOf[i]!.map((k) => known.get(k)).find(Boolean);
    const key = existing ? String(existing._id) : canonicalPartId(r.messageId);
    partOf.push(existing?.messageId ? key : undefined);
    const fields = { status: r.status, final: r.final, stat: r.stat, err: r.err, doneAt: r.doneAt ?? now, receivedAt: now };
    // A final receipt is kept whatever came before; a non-final one never overrides a final one.
    if (r.final) ops.push({ updateOne: { filter: { _id: key }, update: { $set: fields }, upsert: true } });
    else if (existing && !existing.final) ops.push({ updateOne: { filter: { _id: key, final: { $ne: true } }, update: { $set: fields } } });
  });
  await writeUpserts(ops, RECEIPT_ATTEMPTS);
  // Final receipts whose submit is not recorded yet: the record settles them, or the sweep does.
  const orphans = receipts.map((r, i) => (r.final && !partOf[i] ? canonicalPartId(r.messageId) : undefined)).filter((k): k is string => !!k);
  if (orphans.length) {
    await pendingReceipts().bulkWrite(orphans.map((k) => ({ updateOne: { filter: { _id: k as any }, update: { $setOnInsert: { at: now } }, upsert: true } })), { ordered: false });
  }
  // The messages these receipts may complete. A repeated receipt settles again (the write is
  // idempotent, and a first delivery whose settling failed halfway needs it) but is not
  // reported again: only a part that turns final here counts its message for the metrics.
  const siblingsOf = new Map<string, string[]>();
  const turnedFinal = new Set<string>();
  partOf.forEach((p, i) => {
    const part = p ? known.get(p) : undefined;
    if (!part?.messageId || !receipts[i]!.final) return;
    siblingsOf.set(part.messageId, part.siblings ?? [p!]);
    if (!part.final) turnedFinal.add(part.messageId);
  });
  const settled = siblingsOf.size ? await settleMessages(siblingsOf, new Set(), RECEIPT_ATTEMPTS) : new Map<string, Settled>();
  const reported = new Set<string>();
  return partOf.map((p) => {
    const id = p ? known.get(p)?.messageId : undefined;
    // One answer per settled message (the metrics observe each message once).
    if (!id || reported.has(id) || !settled.has(id) || !turnedFinal.has(id)) return undefined;
    reported.add(id);
    return settled.get(id);
  });
}

/** Upserts by _id that two writers may race on: a lost race is an update the second time. */
async function writeUpserts(ops: any[], attempts?: number): Promise<void> {
  if (!ops.length) return;
  try {
    await retryTransient(() => SmsPartModel.collection.bulkWrite(ops, { ordered: false }), attempts);
  } catch (err) {
    if (!onlyDuplicateKeys(err) && !isDuplicateKey(err)) throw err;
    await retryTransient(() => SmsPartModel.collection.bulkWrite(ops, { ordered: false }), attempts);
  }
}

const receipts = new Batcher(applyReceiptBatch, { maxBatch: 250 });

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
  return receipts.add(r);
}

/**
 * Sets the final status of messages whose parts all have a final receipt (or one failed): a
 * read of their parts by _id and one write. A message still "sending" is settled too: its
 * receipts prove it was submitted (the node died between the SMSC's answer and the record).
 * `settledBefore` are messages already final before this batch (a repeated receipt): not
 * written or reported again.
 */
async function settleMessages(siblingsOf: Map<string, string[]>, settledBefore: Set<string> = new Set(), attempts?: number): Promise<Map<string, Settled>> {
  const ids = [...new Set([...siblingsOf.values()].flat())];
  const parts = new Map<string, any>();
  for (const p of await findByIds(SmsPartModel.collection, ids)) parts.set(String(p._id), p);
  const settled = new Map<string, Settled>();
  const ops: any[] = [];
  for (const [messageId, siblings] of siblingsOf) {
    if (settledBefore.has(messageId)) continue;
    const ps = siblings.map((id) => parts.get(id));
    const { status, final } = aggregatePartStatuses(ps.map((p) => p?.status as ReceiptStatus | undefined));
    if (!final) continue;
    const at = ps.reduce<Date | undefined>((max, p) => (p?.doneAt && (!max || p.doneAt > max) ? p.doneAt : max), undefined) ?? new Date();
    const submittedAt: Date = ps.find((p) => p?.submittedAt)?.submittedAt ?? at;
    ops.push({
      updateOne: {
        filter: { _id: messageId, status: { $in: ["submitted", "sending"] } },
        update: { $set: { status, finalAt: at, updatedAt: new Date() }, $unset: { sendingSince: 1 }, $push: { statusHistory: historyEntry(status) } },
      },
    });
    settled.set(messageId, { status, latencyMs: Math.max(0, Date.now() - submittedAt.getTime()) });
  }
  await bulk(MessageModel, ops, attempts);
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
  const parts = await SmsPartModel.collection.find({ _id: { $in: pending.map((p) => p._id) as any[] } }).toArray();
  const siblingsOf = new Map<string, string[]>();
  for (const p of parts) if (p.messageId) siblingsOf.set(p.messageId, p.siblings ?? [String(p._id)]);
  // Most were settled by their record already: those are not settled (nor counted) again.
  const open = new Set(
    (await MessageModel.collection.find({ _id: { $in: [...siblingsOf.keys()] as any[] }, status: { $in: ["submitted", "sending"] } }, { projection: { _id: 1 } }).toArray()).map((m) => String(m._id)),
  );
  const settled = siblingsOf.size ? await settleMessages(siblingsOf, new Set([...siblingsOf.keys()].filter((id) => !open.has(id)))) : new Map<string, Settled>();
  for (const s of settled.values()) onSettled?.(s);
  const recorded = new Set(parts.filter((p) => p.messageId).map((p) => String(p._id)));
  const dayAgo = Date.now() - 86_400_000;
  const forget = pending.filter((p) => recorded.has(String(p._id)) || !(p.at instanceof Date) || p.at.getTime() < dayAgo).map((p) => p._id);
  if (forget.length) await pendingReceipts().deleteMany({ _id: { $in: forget } });
  return settled.size;
}

// The life of SMS after they are queued, in batches: the dispatcher claims the due ones and
// prepares them (read, render), workers submit them, the SMPP node records the submits and
// the delivery receipts that follow. Every step is a unique insert or a write conditional on
// the message's status, so a retried step, a second worker or a late receipt cannot send a
// message twice or move it backwards. Round-trips are per batch, and the embedded database's
// dear operation, an update, is kept to two per SMS (its record and its final status).
import { Batcher } from "./batcher.ts";
import { findByIds, onlyDuplicateKeys } from "./db.ts";
import { clock } from "./clock.ts";
import { isEssential, optedOutAmong } from "./opt-out.ts";
import { normalizeSaudiMobile } from "./normalize.ts";
import { directory } from "./directory-cache.ts";
import { aggregatePartStatuses, messageIdAliases, type MessageStatus as ReceiptStatus } from "./smpp/dlr.ts";
import { retryTransient } from "./retry.ts";
import { ClaimModel } from "./exclusive.ts";
import { FINAL_MESSAGE_STATUSES, MessageModel, ReceiptModel, SmsPartModel, SmsQueueModel, TransactionModel, type MessageStatus } from "./models.ts";
import mongoose from "mongoose";
import { UNKNOWN_AGENCY } from "./templates.ts";

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
export type Submit = (req: { messageId: string } & SubmitRecord) => Promise<SubmitResult>;

/** What the dispatcher needs from the templates. */
export interface Renderer {
  render(name: string, lang: "ar" | "en", data: object): { text: string };
}

/**
 * How long a message may wait for data it needs (its transaction's registered event, its
 * employee) before it fails: below the 600 s `taqib_sms_queue_oldest_age_seconds` alert of
 * docs/operations.md, so a message waiting on data that never comes fails (and is counted in
 * `taqib_sms_finished{status="failed"}`) rather than holding the queue's age past the alert.
 */
export const MISSING_DATA_GRACE_MS = 5 * 60_000;

export interface PrepareDeps {
  render: Renderer;
  /** Encoding and part count of a text. */
  analyse(text: string): { encoding: string; partCount: number };
  maxParts: number;
  /** How long a message may wait for data it needs (the registered event, the employee). */
  dataGraceMs?: number;
  /** How long a worker may hold a message before it counts as dead and the message is handed out again. */
  staleSendingMs: number;
  /** Told of each agency or department a message names that is missing from the directory (the SMS shows a fallback name). */
  onDirectoryMissing?: (missing: DirectoryMissing, messageId: string) => void;
}

/** A directory entry a message needed and did not find. */
export interface DirectoryMissing {
  kind: "agency" | "department";
  code: string;
}

/**
 * A message ready to submit: its attempt claimed and rendered. Nothing is written to it until
 * the SMSC has taken it: the record writes the text, the attempt and "sending" and "submitted"
 * in one update (the claim holds it meanwhile).
 */
export interface ReadyMessage {
  messageId: string;
  attempt: number;
  to: string;
  text: string;
  lang: "ar" | "en";
  /** When the attempt was claimed (ms since the epoch): the "sending" entry of its history. */
  claimedAt: number;
}

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

/** Data missing for the template: retried while the grace period lasts. */
class MissingDataError extends Error {
  /** `final`: no later event will bring it (an employee who left): failed at once, not waited for. */
  constructor(public readonly code: string, message: string, public readonly final = false) {
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
export async function resolveMessage(msg: MessageInput, t: any | null | undefined): Promise<{ to: string; lang: "ar" | "en"; data: Record<string, unknown>; missing: DirectoryMissing[] }> {
  const missing: DirectoryMissing[] = [];
  const vars = (msg.vars ?? {}) as Record<string, any>;
  const data: Record<string, unknown> = { ...vars, today: new Date() };
  let to = msg.to ?? undefined;
  let lang = (msg.lang as "ar" | "en" | undefined) ?? undefined;
  if (msg.transactionNumber) {
    if (!t || !t.registered) throw new MissingDataError("TRANSACTION_NOT_REGISTERED", `transaction ${msg.transactionNumber} has no registered event yet`);
    data.transaction = { number: t.number, displayNumber: t.displayNumber ?? t.number, registeredAt: t.registeredAt, subject: t.subject ?? "", status: t.status };
    data.citizen = { name: t.citizen?.name };
    if (msg.role === "citizen") {
      to ??= t.citizen?.mobile ?? undefined;
      lang ??= (t.citizen?.language as "ar" | "en" | undefined) ?? "ar";
    }
    if (vars.outgoingNumber) {
      const o = (t.outgoing ?? []).find((x: any) => x.number === vars.outgoingNumber);
      if (!o) throw new MissingDataError("OUTGOING_NOT_FOUND", `outgoing ${vars.outgoingNumber} is not in transaction ${t.number}`);
      const agency = o.destination?.agencyCode ? await directory.agencies.get(o.destination.agencyCode) : null;
      // An agency missing from the directory: the name the event gave, else a neutral phrase,
      // never its bare code (the staff API flags it: see getTransaction).
      const name = agency?.name ? localName(agency.name) : o.destination?.name ? localName(undefined, o.destination.name) : UNKNOWN_AGENCY;
      if (!agency && o.destination?.agencyCode) missing.push({ kind: "agency", code: o.destination.agencyCode });
      data.outgoing = {
        number: o.number,
        displayNumber: o.displayNumber ?? o.number,
        date: o.date,
        destination: { code: o.destination?.agencyCode, name, inDirectory: !!agency },
      };
      if (o.reply) data.reply = { number: o.reply.number ?? "", date: o.reply.date ?? o.reply.receivedAt };
    }
  }
  // The department (also for a message of no transaction: a manager's digest).
  const deptCode = (vars.departmentCode as string | undefined) ?? t?.departmentCode;
  if (deptCode) {
    const dept = await directory.departments.get(deptCode);
    if (!dept) missing.push({ kind: "department", code: deptCode });
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
  if (msg.role === "employee") {
    const emp = vars.employeeId ? await directory.employees.get(vars.employeeId) : null;
    if (!emp) throw new MissingDataError("EMPLOYEE_NOT_FOUND", `employee ${vars.employeeId} is not in the directory`);
    if (emp.active === false) throw new MissingDataError("EMPLOYEE_INACTIVE", `employee ${vars.employeeId} is inactive in the directory: no SMS`, true);
    data.employee = { name: emp.name };
    to ??= emp.mobile;
  } else if (vars.employeeId) {
    // A notice about an employee to someone else (the manager): the name, or the id it was assigned under.
    const emp = await directory.employees.get(vars.employeeId);
    data.employee = { name: emp?.name ?? String(vars.employeeId) };
  }
  if (!to) throw new MissingDataError("NO_RECIPIENT", `no mobile number for the ${msg.role} of this message`);
  return { to, lang: lang ?? "ar", data, missing };
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
function retryOps(messageId: string, attempt: number, code: string, message: string, delayMs: number, history?: "retrying") {
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

async function bulk(model: mongoose.Model<any>, ops: any[], attempts?: number): Promise<void> {
  if (ops.length) await retryTransient(() => model.collection.bulkWrite(ops, { ordered: false }), attempts);
}

/**
 * Claims up to `limit` due messages and prepares them: claim each attempt (a unique insert),
 * read them and their transactions, render them (or fail them, or put them back in the queue
 * for missing data). Four or five round-trips whatever the batch's size. Answers the
 * messages ready to submit, and when to look again if none is due now.
 *
 * @example
 *   const { ready, nextDueAt } = await claimDueMessages(200, deps, { inFlight });
 */
export async function claimDueMessages(
  limit: number,
  deps: PrepareDeps,
  opts: { inFlight?: ReadonlySet<string>; now?: Date } = {},
): Promise<{ ready: ReadyMessage[]; failed: number; nextDueAt?: Date }> {
  const now = opts.now ?? clock.now();
  const inFlight = opts.inFlight ?? new Set<string>();
  // Messages this dispatcher still has out are never handed out again, however long they take.
  // Equal due times (messages deferred to the same morning) go in the order they were queued.
  const queue = (await SmsQueueModel.find({}).sort({ dueAt: 1, queuedAt: 1 }).limit(limit + inFlight.size).lean()).filter((q) => !inFlight.has(String(q._id)));
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

async function claimAndPrepare(due: Array<{ _id: unknown; attempts?: number | null }>, deps: PrepareDeps, now: Date): Promise<{ ready: ReadyMessage[]; failed: number; nextDueAt?: Date }> {
  // One sender per attempt: a unique insert, exclusive on any server.
  const claims = due.map((q) => ({ _id: `send:${q._id}:${(q.attempts ?? 0) + 1}`, at: now, by: `${process.pid}` }));
  const lost = new Set<number>();
  try {
    await ClaimModel.collection.insertMany(claims as any[], { ordered: false });
  } catch (err) {
    if (!onlyDuplicateKeys(err)) throw err;
    for (const e of (err as { writeErrors?: Array<{ index: number }> }).writeErrors ?? []) lost.add(e.index);
  }
  // A message is held by its claim: the next round tries the same attempt and loses, until the
  // claim is older than the stale time (its holder is dead) and the attempt after it is claimed.
  const heldUntil = lost.size ? await skipDeadClaims(due.filter((_, i) => lost.has(i)), now, deps.staleSendingMs) : undefined;
  const claimed = due.filter((_, i) => !lost.has(i));
  if (!claimed.length) return { ready: [], failed: 0, nextDueAt: heldUntil };
  const ids = claimed.map((q) => String(q._id));
  const attemptOf = new Map(claimed.map((q) => [String(q._id), (q.attempts ?? 0) + 1]));
  try {
    return await prepareClaimed(ids, attemptOf, deps, now, heldUntil);
  } catch (err) {
    // The round decided nothing (the database gone mid-read): give the attempts back, so the
    // messages are handed out again as soon as it returns rather than after the stale time.
    const keys = ids.map((id) => `send:${id}:${attemptOf.get(id)}`);
    await retryTransient(() => ClaimModel.collection.deleteMany({ _id: { $in: keys as any[] } })).catch(() => undefined);
    throw err;
  }
}

async function prepareClaimed(ids: string[], attemptOf: Map<string, number>, deps: PrepareDeps, now: Date, heldUntil: Date | undefined): Promise<{ ready: ReadyMessage[]; failed: number; nextDueAt?: Date }> {
  const messages = await MessageModel.collection.find({ _id: { $in: ids as any[] } }).toArray();
  const numbers = [...new Set(messages.map((m) => m.transactionNumber).filter(Boolean))];
  const transactions = new Map<string, any>();
  if (numbers.length) for (const t of await TransactionModel.collection.find({ _id: { $in: numbers } }).toArray()) transactions.set(String(t._id), t);
  await prefetchDirectory(messages, transactions);

  const messageOps: any[] = [];
  const queueOps: any[] = [];
  const drop: string[] = [];
  let ready: ReadyMessage[] = [];
  /** Ready messages a citizen's opt-out stops: message id -> mobile. */
  const optional = new Map<string, string>();
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
      const r = retryOps(messageId, attempt, prepared.code, prepared.message, 5000);
      messageOps.push(r.message);
      queueOps.push(r.queue);
    } else if (prepared.kind === "ready") {
      ready.push({ messageId, attempt, to: prepared.to, text: prepared.text, lang: prepared.lang, claimedAt: now.getTime() });
      if (!isEssential(msg as any)) optional.set(messageId, normalizeSaudiMobile(prepared.to) ?? prepared.to);
    }
  }
  // Citizens who sent "STOP" are not sent what they can do without, queued before or after.
  const stopped = await optedOutAmong([...optional.values()]);
  if (stopped.size) {
    for (const [messageId, mobile] of optional) {
      if (!stopped.has(mobile)) continue;
      messageOps.push(failOp(messageId, "opted-out", "OPTED_OUT", "the citizen opted out of non-essential SMS (not retryable)"));
      drop.push(messageId);
    }
    ready = ready.filter((r) => !(optional.has(r.messageId) && stopped.has(optional.get(r.messageId)!)));
  }
  await bulk(MessageModel, messageOps);
  if (drop.length) queueOps.push({ deleteMany: { filter: { _id: { $in: drop } } } });
  await bulk(SmsQueueModel, queueOps);
  return { ready, failed, nextDueAt: heldUntil };
}

/**
 * Claims of attempts that another holder has: past the stale time the holder counts as dead
 * (it never recorded the attempt), and the queue entry moves to the next attempt. Answers when
 * the earliest of the live ones turns stale (now, when one was dead).
 */
async function skipDeadClaims(entries: Array<{ _id: unknown; attempts?: number | null }>, now: Date, staleMs: number): Promise<Date | undefined> {
  const keys = entries.map((q) => `send:${q._id}:${(q.attempts ?? 0) + 1}`);
  const claims = await findByIds(ClaimModel.collection, keys, { projection: { at: 1 } });
  const staleBefore = now.getTime() - staleMs;
  const dead = claims.filter((c) => !(c.at instanceof Date) || c.at.getTime() < staleBefore).map((c) => String(c._id).replace(/^send:/, "").replace(/:\d+$/, ""));
  if (dead.length) {
    await SmsQueueModel.collection.updateMany({ _id: { $in: dead as any[] } }, { $inc: { attempts: 1 } });
    return now;
  }
  const earliest = Math.min(...claims.map((c) => (c.at as Date).getTime()));
  return Number.isFinite(earliest) ? new Date(earliest + staleMs + 10) : undefined;
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
      if (!err.final && age < (deps.dataGraceMs ?? MISSING_DATA_GRACE_MS)) return { kind: "wait", code: err.code, message: err.message };
      return { kind: "failed", code: err.code, message: err.message };
    }
    ({ to, lang } = resolved);
    for (const m of resolved.missing) deps.onDirectoryMissing?.(m, String(msg._id));
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
        await submit({ messageId: item.messageId, to: item.to, text: item.text, lang: item.lang, attempt: item.attempt, claimedAt: item.claimedAt });
        return "submitted";
      } catch (err) {
        const e = err as { name?: string; code?: string | number; message?: string; retryable?: boolean; data?: { code?: string; retryable?: boolean; result?: SubmitResult } };
        // No answer from the smpp service (our call timed out, or its node went away): it may
        // still send the message and record it. Its claim holds it: recorded as submitted when
        // it went out, handed out again once the claim is stale when it never did.
        if (e.name === "RequestTimeoutError" || e.name === "RequestRejectedError") return "retry";
        // At the SMSC, but the smpp node could not record it: recorded here, never sent again.
        if (e.data?.code === "RECORD_FAILED" && e.data.result) {
          await recordSubmitted(item.messageId, e.data.result, item);
          return "submitted";
        }
        const code = String(e.data?.code ?? e.code ?? "SUBMIT_FAILED");
        const retryable = e.data?.retryable ?? e.retryable ?? true;
        if (retryable && item.attempt < MAX_ATTEMPTS) {
          const r = retryOps(item.messageId, item.attempt, code, e.message ?? code, retryDelayMs(item.attempt), "retrying");
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

/** A final receipt of a part: what settling needs of it. */
interface PartReceipt {
  status: ReceiptStatus;
  doneAt?: Date;
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

export interface Receipt {
  messageId: string;
  status: ReceiptStatus;
  final: boolean;
  stat?: string;
  err?: string;
  doneAt?: Date;
}

/** Final receipts whose part was not recorded yet when they came (the pending-receipts sweep's list). */
const pendingReceipts = () => mongoose.connection.collection("receipts_pending");

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
async function settleMessages(siblingsOf: Map<string, string[]>, receipts: Map<string, PartReceipt>, now: Date, attempts?: number): Promise<Map<string, Settled>> {
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

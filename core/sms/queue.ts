// The SMS queue's side of sending: the dispatcher claims the due messages (one unique insert
// per attempt, so no two workers send the same attempt) and prepares them: reads them, their
// transactions and the directory, renders them, or fails them, or puts them back for data
// that has not come yet. Round-trips are per batch, whatever its size. The submit itself is
// in send.ts, the delivery receipts in receipts.ts.
import { findByIds, onlyDuplicateKeys } from "../store/db.ts";
import { clock } from "../platform/clock.ts";
import { isEssential, optedOutAmong } from "./opt-out.ts";
import { normalizeSaudiMobile } from "../text/normalize.ts";
import { directory } from "../directory/cache.ts";
import { retryTransient } from "../store/retry.ts";
import { ClaimModel } from "../store/models.ts";
import { TransactionModel } from "../events/models.ts";
import { MessageModel, SmsQueueModel } from "./models.ts";
import { UNKNOWN_AGENCY } from "./templates/engine.ts";
import { bulk, failOp, retryOps } from "./writes.ts";
import type { Lang } from "../text/lang.ts";

/** What the dispatcher needs from the templates. */
export interface Renderer {
  render(name: string, lang: Lang, data: object): { text: string };
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
  lang: Lang;
  /** When the attempt was claimed (ms since the epoch): the "sending" entry of its history. */
  claimedAt: number;
}

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
export async function resolveMessage(msg: MessageInput, t: any | null | undefined): Promise<{ to: string; lang: Lang; data: Record<string, unknown>; missing: DirectoryMissing[] }> {
  const missing: DirectoryMissing[] = [];
  const vars = (msg.vars ?? {}) as Record<string, any>;
  const data: Record<string, unknown> = { ...vars, today: new Date() };
  let to = msg.to ?? undefined;
  let lang = (msg.lang as Lang | undefined) ?? undefined;
  if (msg.transactionNumber) {
    if (!t || !t.registered) throw new MissingDataError("TRANSACTION_NOT_REGISTERED", `transaction ${msg.transactionNumber} has no registered event yet`);
    data.transaction = { number: t.number, displayNumber: t.displayNumber ?? t.number, registeredAt: t.registeredAt, subject: t.subject ?? "", status: t.status };
    data.citizen = { name: t.citizen?.name };
    if (msg.role === "citizen") {
      to ??= t.citizen?.mobile ?? undefined;
      lang ??= (t.citizen?.language as Lang | undefined) ?? "ar";
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
  | { kind: "ready"; to: string; lang: Lang; text: string; encoding: string; parts: number }
  | { kind: "wait" | "failed"; code: string; message: string };

async function prepare(msg: any, transaction: any, deps: PrepareDeps, now: Date): Promise<Prepared> {
  let to: string, lang: Lang, text: string;
  if (msg.text && msg.to) {
    // Rendered by its channel already (an inquiry answer), or by an earlier attempt.
    ({ to, text } = msg as { to: string; text: string });
    lang = (msg.lang as Lang | undefined) ?? "ar";
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

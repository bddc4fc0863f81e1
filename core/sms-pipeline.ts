// The life of one SMS after it is queued: render, claim, submit, record; and the
// delivery receipts that follow. Every step is a conditional write on the message's
// status, so a retried job, a second worker or a late receipt cannot send it twice or
// move it backwards.
import mongoose from "mongoose";
import { aggregatePartStatuses, messageIdAliases, type MessageStatus as ReceiptStatus } from "./smpp/dlr.ts";
import { ClaimModel, claimOnce, serialized } from "./exclusive.ts";
import { retryTransient } from "./retry.ts";
import { AgencyModel, DepartmentModel, EmployeeModel, FINAL_MESSAGE_STATUSES, MessageModel, TransactionModel, type MessageStatus } from "./models.ts";

/**
 * What a send job needs from the SMPP side: the smpp service's `submit` action, which also
 * records the submit on the message (see recordSubmitted) on the node that talked to the
 * SMSC, so a worker that dies after asking cannot cause a second send.
 */
export type Submit = (req: { messageId: string; to: string; text: string }) => Promise<SubmitResult>;
export interface SubmitResult {
  messageIds: string[];
  encoding: string;
  partCount: number;
}

/** What a send job needs from the templates. */
export interface Renderer {
  render(name: string, lang: "ar" | "en", data: object): { text: string };
}

export interface SendDeps {
  render: Renderer;
  submit: Submit;
  /** Encoding and part count of a text, and the configured limit. */
  analyse(text: string): { encoding: string; partCount: number };
  maxParts: number;
  /** How long a message may wait for data it needs (the registered event, the employee). */
  dataGraceMs?: number;
  /** A message left in "sending" this long by a dead worker is sent again. */
  staleSendingMs?: number;
  log?: { warn(...a: unknown[]): void; info(...a: unknown[]): void };
}

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

/** The recipient, language and template data of a message, from the current model. */
export async function resolveMessage(msg: {
  template: string;
  role: string;
  to?: string | null;
  lang?: string | null;
  transactionNumber?: string | null;
  vars?: any;
}): Promise<{ to: string; lang: "ar" | "en"; data: Record<string, unknown> }> {
  const vars = (msg.vars ?? {}) as Record<string, any>;
  const data: Record<string, unknown> = { ...vars, today: new Date() };
  let to = msg.to ?? undefined;
  let lang = (msg.lang as "ar" | "en" | undefined) ?? undefined;
  if (msg.transactionNumber) {
    const t = await TransactionModel.findById(msg.transactionNumber).lean();
    if (!t || !t.registered) throw new MissingDataError("TRANSACTION_NOT_REGISTERED", `transaction ${msg.transactionNumber} has no registered event yet`);
    data.transaction = { number: t.number, registeredAt: t.registeredAt, subject: t.subject ?? "", status: t.status };
    data.citizen = { name: t.citizen?.name };
    if (msg.role === "citizen") {
      to ??= t.citizen?.mobile ?? undefined;
      lang ??= (t.citizen?.language as "ar" | "en" | undefined) ?? "ar";
    }
    if (vars.outgoingNumber) {
      const o = t.outgoing.find((x) => x.number === vars.outgoingNumber);
      if (!o) throw new MissingDataError("OUTGOING_NOT_FOUND", `outgoing ${vars.outgoingNumber} is not in transaction ${t.number}`);
      const agency = await AgencyModel.findById(o.destination?.agencyCode).lean();
      data.outgoing = {
        number: o.number,
        date: o.date,
        destination: { code: o.destination?.agencyCode, name: localName(agency?.name, o.destination?.name ?? o.destination?.agencyCode ?? "") },
      };
      if (o.reply) data.reply = { number: o.reply.number ?? "", date: o.reply.date ?? o.reply.receivedAt };
    }
    const deptCode = (vars.departmentCode as string | undefined) ?? t.departmentCode;
    if (deptCode) {
      const dept = await DepartmentModel.findById(deptCode).lean();
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
    const emp = await EmployeeModel.findById(vars.employeeId).lean();
    if (!emp) throw new MissingDataError("EMPLOYEE_NOT_FOUND", `employee ${vars.employeeId} is not in the directory`);
    data.employee = { name: emp.name };
    to ??= emp.mobile;
  }
  if (!to) throw new MissingDataError("NO_RECIPIENT", `no mobile number for the ${msg.role} of this message`);
  return { to, lang: lang ?? "ar", data };
}

function history(status: MessageStatus | "retrying", detail?: string) {
  return { $push: { statusHistory: { status, at: new Date(), ...(detail ? { detail } : {}) } } };
}

/** Delay before retry number `attempt` (1-based) of a transient failure: 1 s doubling to 5 min, ±20 %. */
export function retryDelayMs(attempt: number): number {
  const base = Math.min(1000 * 2 ** (Math.max(attempt, 1) - 1), 300_000);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** How many transient failures a message survives (about a day at the 5-minute cap). */
export const MAX_ATTEMPTS = 300;

export type SendOutcome = "submitted" | "skipped" | "failed" | "retry";

/**
 * Sends one queued message: render, claim the attempt, submit. Returns what happened;
 * on a transient failure the message goes back to the queue with its next attempt time.
 *
 * @example
 *   await sendMessage("e1:registered:citizen", deps) // "submitted"
 */
export async function sendMessage(messageId: string, deps: SendDeps): Promise<SendOutcome> {
  const msg = await MessageModel.findById(messageId).lean();
  if (!msg) return "skipped";
  const staleBefore = new Date(Date.now() - (deps.staleSendingMs ?? 120_000));
  const stale = msg.status === "sending" && msg.sendingSince && msg.sendingSince < staleBefore;
  if (msg.status !== "queued" && !stale) return "skipped";

  let to: string, lang: "ar" | "en", text: string;
  if (msg.text && msg.to) {
    // Rendered by its channel already (an inquiry answer).
    ({ to, text } = msg as { to: string; text: string });
    lang = (msg.lang as "ar" | "en" | undefined) ?? "ar";
  } else {
    let resolved: Awaited<ReturnType<typeof resolveMessage>>;
    try {
      resolved = await resolveMessage(msg);
    } catch (err) {
      // Anything but missing data (the database gone mid-read) is thrown: the message stays
      // queued and is handed out again. Only the data itself can fail a message here.
      if (!(err instanceof MissingDataError)) throw err;
      if (Date.now() - msg.createdAt.getTime() < (deps.dataGraceMs ?? 15 * 60_000)) {
        // The data may come with a later event: look again in a few seconds.
        await MessageModel.updateOne(
          { _id: messageId, status: "queued" },
          { $set: { error: { code: err.code, message: err.message }, nextAttemptAt: new Date(Date.now() + 5000), updatedAt: new Date() } },
        );
        return "retry";
      }
      await fail(messageId, "failed", err.code, err.message);
      return "failed";
    }
    ({ to, lang } = resolved);
    try {
      text = deps.render.render(msg.template, lang, { ...resolved.data, lang }).text;
    } catch (err) {
      // A template that does not render is an error on the message, never a half-rendered SMS.
      await fail(messageId, "failed", (err as { code?: string }).code ?? "RENDER_FAILED", (err as Error).message);
      return "failed";
    }
  }
  const { encoding, partCount } = deps.analyse(text);
  if (partCount > deps.maxParts) {
    await fail(messageId, "failed", "TOO_MANY_PARTS", `${partCount} parts, more than the ${deps.maxParts} allowed`);
    return "failed";
  }
  const rendered = { to, lang, text, encoding, parts: partCount };

  // One sender per attempt: the claim is a unique insert, exclusive on any server.
  const attempt = await claimAttempt(messageId, msg.attempts ?? 0, staleBefore);
  if (attempt === undefined) return "skipped";
  await retryTransient(() =>
    MessageModel.updateOne(
      { _id: messageId },
      {
        $set: { status: "sending", sendingSince: new Date(), updatedAt: new Date(), attempts: attempt, ...rendered },
        $unset: { error: 1 },
        ...history("sending"),
      },
    ),
  );

  try {
    await deps.submit({ messageId, to: rendered.to, text: rendered.text });
    return "submitted";
  } catch (err) {
    const e = err as { name?: string; code?: string | number; message?: string; retryable?: boolean; data?: { code?: string; retryable?: boolean; result?: SubmitResult } };
    // No answer from the smpp service (our call timed out, or its node went away): it may
    // still send the message and record it. It stays "sending": recorded as submitted when
    // it went out, handed out again by the stale-sending sweep when it never did.
    if (e.name === "RequestTimeoutError" || e.name === "RequestRejectedError") return "retry";
    // At the SMSC, but the smpp node could not record it: recorded here, never sent again.
    if (e.data?.code === "RECORD_FAILED" && e.data.result) {
      await retryTransient(() => recordSubmitted(messageId, e.data!.result!));
      return "submitted";
    }
    const code = String(e.data?.code ?? e.code ?? "SUBMIT_FAILED");
    const retryable = e.data?.retryable ?? e.retryable ?? true;
    if (retryable && attempt < MAX_ATTEMPTS) {
      const nextAttemptAt = new Date(Date.now() + retryDelayMs(attempt));
      await retryTransient(() => MessageModel.updateOne(
        { _id: messageId, status: "sending" },
        {
          $set: { status: "queued", nextAttemptAt, error: { code, message: e.message ?? code }, updatedAt: new Date() },
          $unset: { sendingSince: 1 },
          ...history("retrying", code),
        },
      ));
      return "retry";
    }
    // The SMSC refused it for good (an ESME_ code), or it cannot be sent as it is.
    await fail(messageId, code.startsWith("ESME_") ? "rejected" : "failed", code, e.message ?? code);
    return "failed";
  }
}

/**
 * Claims the next attempt of a message. A claim whose holder never recorded it (it died
 * between the claim and its write) blocks only until it is stale; then the attempt after it
 * is claimed.
 */
async function claimAttempt(messageId: string, attempts: number, staleBefore: Date): Promise<number | undefined> {
  for (let attempt = attempts + 1; attempt <= attempts + 5; attempt++) {
    const key = `send:${messageId}:${attempt}`;
    if (await claimOnce(key)) return attempt;
    const held = await ClaimModel.findById(key).lean();
    if (!held?.at || held.at >= staleBefore) return undefined;
  }
  return undefined;
}

/**
 * Records an accepted submit on its message (status submitted, the SMSC ids of every part)
 * and applies receipts that arrived before it: the message's final status when they settle it.
 */
export async function recordSubmitted(messageId: string, result: SubmitResult): Promise<Settled | undefined> {
  const aliases = [...new Set(result.messageIds.flatMap((id) => messageIdAliases(id)))];
  await MessageModel.updateOne(
    { _id: messageId, status: "sending" },
    {
      $set: { status: "submitted", smscIds: aliases, partIds: result.messageIds, submittedAt: new Date(), updatedAt: new Date(), encoding: result.encoding, parts: result.partCount },
      $unset: { sendingSince: 1 },
      ...history("submitted"),
    },
  );
  // Receipts that arrived before the submit was recorded wait in the receipt log.
  return settleFromReceipts(messageId);
}

async function fail(messageId: string, status: MessageStatus, code: string, message: string): Promise<void> {
  await retryTransient(() => MessageModel.updateOne(
    { _id: messageId, status: { $nin: FINAL_MESSAGE_STATUSES } },
    { $set: { status, error: { code, message }, finalAt: new Date(), updatedAt: new Date() }, $unset: { sendingSince: 1 }, ...history(status, code) },
  ));
}

/** The log of every delivery receipt received, one document per SMSC message id (part). */
const receiptSchema = new mongoose.Schema(
  {
    _id: { type: String, required: true },
    status: String,
    final: Boolean,
    stat: String,
    err: String,
    at: Date,
    receivedAt: Date,
  },
  { versionKey: false },
);
export const ReceiptModel = mongoose.model("Receipt", receiptSchema, "receipts");

export interface Receipt {
  messageId: string;
  status: ReceiptStatus;
  final: boolean;
  stat?: string;
  err?: string;
  doneAt?: Date;
}

/**
 * Records a delivery receipt and applies it to its message. A receipt that arrives twice,
 * late (a non-final one after a final one) or before the submit was recorded is applied
 * correctly: each part keeps its own receipt document, and the message's status is derived
 * from all of them.
 */
export function applyReceipt(r: Receipt): Promise<Settled | undefined> {
  return retryTransient(() => applyReceiptOnce(r));
}

async function applyReceiptOnce(r: Receipt): Promise<Settled | undefined> {
  const at = r.doneAt ?? new Date();
  await serialized(`receipt:${r.messageId}`, async () => {
    const known = await ReceiptModel.findById(r.messageId).lean();
    if (known?.final && !r.final) return;
    await ReceiptModel.updateOne(
      { _id: r.messageId },
      { $set: { status: r.status, final: r.final, stat: r.stat, err: r.err, at, receivedAt: new Date() } },
      { upsert: true },
    );
  });
  const find = () => MessageModel.findOne({ smscIds: { $in: messageIdAliases(r.messageId) } }, { _id: 1 }).lean();
  let msg = await find();
  // Not found: the submit is not recorded yet (under load a receipt can beat the record).
  // Wait for the record a little with the receipt still unacknowledged, so that a crash
  // between the record and its settling leaves the receipt to be delivered again; past
  // that, the record applies the receipts log when it comes.
  for (const deadline = Date.now() + RECORD_WAIT_MS; !msg && Date.now() < deadline; ) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    msg = await find();
  }
  if (msg) return settleFromReceipts(msg._id);
  // Still not recorded: the record settles it when it comes. Noted before the receipt is
  // acknowledged, so that settlePendingReceipts does it if the record's own settling is cut
  // short (the node killed between the two).
  await PendingReceiptModel.updateOne({ _id: r.messageId }, { $setOnInsert: { at: new Date() } }, { upsert: true });
  return undefined;
}

/** Receipts acknowledged before their submit was recorded (see applyReceipt). */
const pendingReceiptSchema = new mongoose.Schema({ _id: { type: String, required: true }, at: Date }, { versionKey: false });
const PendingReceiptModel = mongoose.model("PendingReceipt", pendingReceiptSchema, "receipts_pending");

/**
 * Settles the messages whose receipts were acknowledged before the submit was recorded,
 * once it is (run periodically by the smpp service). A receipt whose submit is never
 * recorded (a copy sent again after a crash or a link cut) is forgotten after a day.
 */
export async function settlePendingReceipts(limit = 200, onSettled?: (s: Settled) => void): Promise<number> {
  const pending = await PendingReceiptModel.find({}).limit(limit).lean();
  let settled = 0;
  for (const p of pending) {
    const msg = await MessageModel.findOne({ smscIds: { $in: messageIdAliases(p._id) } }, { _id: 1 }).lean();
    if (msg) {
      const s = await settleFromReceipts(msg._id);
      if (s) onSettled?.(s);
      settled++;
    }
    if (msg || !p.at || p.at.getTime() < Date.now() - 86_400_000) await PendingReceiptModel.deleteOne({ _id: p._id });
  }
  return settled;
}

/** How long a receipt waits for the submit it reports to be recorded (past it, the pending-receipts sweep settles it): short, the SMSC waits for our answer meanwhile. */
const RECORD_WAIT_MS = 1000;

/** A message that reached its final status: which, and how long after its submit. */
export interface Settled {
  status: ReceiptStatus;
  latencyMs: number;
}

/** Sets a submitted message's final status once every part has a final receipt (or one failed). */
async function settleFromReceipts(messageId: string): Promise<Settled | undefined> {
  return serialized(`message:${messageId}`, async () => {
    const msg = await MessageModel.findById(messageId).lean();
    if (!msg || msg.status !== "submitted") return undefined;
    const partIds = msg.partIds?.length ? msg.partIds : msg.smscIds.slice(0, 1);
    const receipts = await ReceiptModel.find({ _id: { $in: msg.smscIds } }).lean();
    const statusOf = (part: string) => {
      const aliases = messageIdAliases(part);
      return receipts.find((r) => aliases.includes(r._id))?.status as ReceiptStatus | undefined;
    };
    // The message's status is its parts': delivered only when every part is, failed when any part failed.
    const { status, final } = aggregatePartStatuses(partIds.map(statusOf));
    if (!final) return undefined;
    const at = receipts.reduce<Date | undefined>((max, r) => (r.at && (!max || r.at > max) ? r.at : max), undefined) ?? new Date();
    await MessageModel.updateOne(
      { _id: messageId, status: "submitted" },
      { $set: { status, finalAt: at, updatedAt: new Date() }, ...history(status) },
    );
    return { status, latencyMs: Math.max(0, Date.now() - (msg.submittedAt ?? msg.createdAt).getTime()) };
  });
}

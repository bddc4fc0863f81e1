// The transaction model and the directory, as mongoose schemas. Every collection uses a
// natural key as _id (transaction number, event id, department code, ...) so that a
// retried write is an idempotent upsert rather than a second document.
import mongoose, { Schema, type InferSchemaType } from "mongoose";

export const EVENT_TYPES = ["registered", "referred", "assigned", "issued", "reply-received", "closed"] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type Language = "ar" | "en";

const names = { ar: { type: String, required: true }, en: { type: String, required: true } };

/** An event as received from the correspondence system (or an agency webhook), kept forever. */
const eventSchema = new Schema(
  {
    _id: { type: String, required: true },
    type: { type: String, enum: EVENT_TYPES, required: true },
    transactionNumber: { type: String, required: true, index: true },
    occurredAt: { type: Date, required: true },
    receivedAt: { type: Date, required: true },
    data: { type: Schema.Types.Mixed, default: {} },
    /** sha256 of the canonical content: tells a duplicate from a reused id. */
    hash: { type: String, required: true },
    source: { type: String, required: true },
  },
  { versionKey: false, minimize: false },
);

const outgoingSchema = new Schema(
  {
    number: { type: String, required: true },
    /** As the source wrote it ("1448/00512"); shown everywhere, `number` is the lookup key. */
    displayNumber: String,
    date: { type: Date, required: true },
    destination: { agencyCode: { type: String, required: true }, name: String },
    requiresReply: { type: Boolean, default: false },
    eventId: String,
    reply: {
      type: new Schema(
        { number: String, date: Date, receivedAt: Date, eventId: String, summary: String, via: String },
        { _id: false },
      ),
      default: undefined,
    },
  },
  { _id: false },
);

const historySchema = new Schema(
  {
    eventId: String,
    type: String,
    occurredAt: Date,
    receivedAt: Date,
    data: Schema.Types.Mixed,
  },
  { _id: false },
);

/** The current state of a transaction, derived from its events (see core/lifecycle.ts). */
const transactionSchema = new Schema(
  {
    _id: { type: String, required: true },
    number: { type: String, required: true },
    /** As the source wrote it ("1448/00512"); shown everywhere, `_id`/`number` are the canonical digits. Absent on old data: show `number`. */
    displayNumber: String,
    status: { type: String, required: true },
    registered: { type: Boolean, default: false },
    registeredAt: Date,
    citizen: { name: String, mobile: String, language: { type: String, enum: ["ar", "en"] } },
    subject: String,
    departmentCode: String,
    assigneeId: String,
    /** When the current assignee was assigned (absent on transactions stored before it was kept: see the history). */
    assignedAt: Date,
    outgoing: { type: [outgoingSchema], default: [] },
    history: { type: [historySchema], default: [] },
    eventCount: { type: Number, required: true },
    closedAt: Date,
    updatedAt: Date,
  },
  { versionKey: false, minimize: false },
);

transactionSchema.index({ "outgoing.number": 1 });
transactionSchema.index({ "citizen.mobile": 1 });

const departmentSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: names,
    manager: { name: { type: String, required: true }, mobile: { type: String, required: true } },
    replyPeriodDays: { type: Number, default: 10 },
    replyPeriodKind: { type: String, enum: ["calendar", "working"], default: "calendar" },
    reminderEveryDays: { type: Number, default: 3 },
    maxReminders: { type: Number, default: 3 },
    escalation: { type: new Schema({ name: String, mobile: String }, { _id: false }), default: undefined },
    /** Hours its staff are written to, `HH:MM-HH:MM` Riyadh time on working days (unset: STAFF_SMS_HOURS). */
    smsHours: String,
    /** Which events' SMS it sends (see DEFAULT_NOTIFICATIONS in core/notifications.ts); unset: the defaults. */
    notifications: { type: Schema.Types.Mixed, default: undefined },
    /** Follow-up of transactions assigned to its employees (see INTERNAL_DEFAULTS in core/followup.ts); unset: the defaults. */
    internalFollowup: { type: new Schema({ periodDays: Number, reminderEveryDays: Number, maxReminders: Number }, { _id: false }), default: undefined },
    updatedAt: Date,
  },
  { versionKey: false },
);

const employeeSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    mobile: { type: String, required: true },
    departmentCode: { type: String, required: true },
    /** Manages their department (shown to staff; the department's own `manager` receives its notices). */
    manager: { type: Boolean, default: false },
    /** An employee who left stays for the history, and is sent no SMS. Unset on old data: active. */
    active: { type: Boolean, default: true },
    updatedAt: Date,
  },
  { versionKey: false },
);

const agencySchema = new Schema(
  {
    _id: { type: String, required: true },
    name: names,
    updatedAt: Date,
  },
  { versionKey: false },
);

/**
 * One webhook signing secret of an agency, encrypted (see core/agency-secrets.ts): a create
 * is an insert and a revoke a one-document update, so concurrent calls never undo each other.
 */
const agencySecretSchema = new Schema(
  {
    /** The secret's id (a UUID), as the staff API shows it. */
    _id: { type: String, required: true },
    agencyCode: { type: String, required: true, index: true },
    createdAt: { type: Date, required: true },
    revokedAt: Date,
    keyId: { type: String, required: true },
    iv: { type: String, required: true },
    tag: { type: String, required: true },
    ciphertext: { type: String, required: true },
  },
  { versionKey: false },
);

export const MESSAGE_STATUSES = [
  "queued",
  "sending",
  "submitted",
  "delivered",
  "undeliverable",
  "expired",
  "rejected",
  "failed",
  /** Not sent: a citizen's non-essential SMS to a mobile that opted out (core/opt-out.ts). */
  "opted-out",
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
/** Statuses after which nothing is sent again for the message. */
export const FINAL_MESSAGE_STATUSES: readonly MessageStatus[] = ["delivered", "undeliverable", "expired", "rejected", "failed", "opted-out"];

/** One SMS (all its parts): what, to whom, and every status it went through. */
const messageSchema = new Schema(
  {
    _id: { type: String, required: true },
    transactionNumber: { type: String, index: true },
    eventId: String,
    template: { type: String, required: true },
    /** Who it is for: citizen, employee, manager, escalation, inquirer. */
    role: { type: String, required: true },
    /** Set when the message is created (inquiry replies) or resolved at render time. */
    to: String,
    lang: { type: String, enum: ["ar", "en"] },
    /** Extra values for the template (inquiry answers, reminder numbers). */
    vars: { type: Schema.Types.Mixed, default: undefined },
    text: String,
    encoding: String,
    parts: Number,
    /** Every form of every part's SMSC message id (hex and decimal), for matching receipts. */
    smscIds: { type: [String], default: [] },
    /** The SMSC message id of each part, as submit_sm_resp gave it. */
    partIds: { type: [String], default: undefined },
    status: { type: String, enum: MESSAGE_STATUSES, required: true },
    statusHistory: { type: [new Schema({ status: String, at: Date, detail: String }, { _id: false })], default: [] },
    attempts: { type: Number, default: 0 },
    /** When a queued message is next tried (now, or after a transient failure's backoff). */
    nextAttemptAt: Date,
    error: { type: new Schema({ code: String, message: String }, { _id: false }), default: undefined },
    /** Set while a worker holds the message between claiming it and recording the submit. */
    sendingSince: Date,
    createdAt: { type: Date, required: true },
    updatedAt: Date,
    submittedAt: Date,
    finalAt: Date,
  },
  { versionKey: false, minimize: false },
);
messageSchema.index({ status: 1, createdAt: 1 });

/**
 * The SMS queue: one small document per message that is queued or being sent, removed when
 * its submit is recorded or it fails for good. The dispatcher reads only this collection, so
 * its cost follows the backlog, not the history. `dueAt` is when the message is next handed
 * out: its first or next attempt, or, while a worker holds it, the moment that worker counts
 * as dead (a visibility timeout) and the message is handed out again.
 */
const smsQueueSchema = new Schema(
  {
    _id: { type: String, required: true },
    dueAt: { type: Date, required: true },
    /** The last attempt claimed (a `send:<id>:<attempt>` claim). */
    attempts: { type: Number, default: 0 },
    queuedAt: Date,
  },
  { versionKey: false },
);
smsQueueSchema.index({ dueAt: 1 });
smsQueueSchema.index({ queuedAt: 1 });

/**
 * One document per SMSC message id (each part of each SMS), written at submit: the receipt for
 * a part finds its message here by _id.
 */
const smsPartSchema = new Schema(
  {
    /** The SMSC's id of the part, in canonical form (see canonicalPartId). */
    _id: { type: String, required: true },
    messageId: String,
    /** Every part of the same message (canonical ids), to settle it when all are final. */
    siblings: { type: [String], default: undefined },
    submittedAt: Date,
  },
  { versionKey: false },
);

/**
 * The final delivery receipt of a part (by the part's key), kept when its message is not
 * settled by the batch it came in: its other parts' receipts come later, or its submit was
 * not recorded yet.
 */
const receiptSchema = new Schema(
  {
    _id: { type: String, required: true },
    status: String,
    stat: String,
    err: String,
    doneAt: Date,
    receivedAt: Date,
  },
  { versionKey: false },
);

/**
 * Events stored and not yet applied: one entry per request, listing its events, written
 * before them and removed once they are applied. What the apply sweep reads after a crash.
 */
const pendingEventSchema = new Schema(
  {
    _id: { type: String, required: true },
    eventIds: { type: [String], required: true },
    receivedAt: { type: Date, required: true },
  },
  { versionKey: false },
);

export const EventModel = mongoose.model("Event", eventSchema, "events");
export const TransactionModel = mongoose.model("Transaction", transactionSchema, "transactions");
export const DepartmentModel = mongoose.model("Department", departmentSchema, "departments");
export const EmployeeModel = mongoose.model("Employee", employeeSchema, "employees");
export const AgencyModel = mongoose.model("Agency", agencySchema, "agencies");
export const AgencySecretModel = mongoose.model("AgencySecret", agencySecretSchema, "agency_secrets");
export const MessageModel = mongoose.model("Message", messageSchema, "messages");
export const SmsQueueModel = mongoose.model("SmsQueue", smsQueueSchema, "sms_queue");
export const SmsPartModel = mongoose.model("SmsPart", smsPartSchema, "sms_parts");
export const ReceiptModel = mongoose.model("Receipt", receiptSchema, "receipts");
export const PendingEventModel = mongoose.model("PendingEvent", pendingEventSchema, "events_pending");

export type EventDoc = InferSchemaType<typeof eventSchema>;
export type TransactionDoc = InferSchemaType<typeof transactionSchema>;
export type DepartmentDoc = InferSchemaType<typeof departmentSchema>;
export type EmployeeDoc = InferSchemaType<typeof employeeSchema>;
export type AgencyDoc = InferSchemaType<typeof agencySchema>;
export type AgencySecretDoc = InferSchemaType<typeof agencySecretSchema>;
export type MessageDoc = InferSchemaType<typeof messageSchema>;

/**
 * Creates every index the product's lookups use (idempotent): those of every model the
 * process has defined, here and in the modules beside (pending replies, receipts, claims,
 * webhook deliveries).
 */
export async function ensureIndexes(): Promise<void> {
  for (const model of Object.values(mongoose.models)) await model.createIndexes();
}

// The SMS: each message with its status history, the queue the dispatcher reads, the SMSC's
// parts and their receipts, citizens' opt-outs, staff notices kept for a digest, and the
// template versions saved in the staff console.
import mongoose, { Schema, type InferSchemaType } from "mongoose";

export const MESSAGE_STATUSES = [
  "queued",
  "sending",
  "submitted",
  "delivered",
  "undeliverable",
  "expired",
  "rejected",
  "failed",
  /** Not sent: a citizen's non-essential SMS to a mobile that opted out (core/sms/opt-out.ts). */
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
// The report reads an hour's SMS by their creation time (core/report/facts.ts): an index whose
// first key it is (the embedded database searches an index for a range of dates only through
// its first key).
messageSchema.index({ createdAt: 1 });

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

/** A citizen's opt-out of non-essential SMS, by mobile (see core/sms/opt-out.ts). */
const optOutSchema = new Schema(
  {
    _id: { type: String, required: true }, // the mobile, +9665XXXXXXXX
    optedOut: { type: Boolean, required: true },
    changedAt: { type: Date, required: true },
    /** The key of the request that made the latest change (an MO's), so that its duplicate answers alike. */
    changedBy: String,
    history: { type: [new Schema({ optedOut: Boolean, at: Date, via: String, key: String }, { _id: false })], default: [] },
  },
  { versionKey: false },
);

/** A staff notice kept for the next digest (see core/sms/digest.ts). */
const digestItemSchema = new Schema(
  {
    _id: { type: String, required: true }, // the notice's message id
    /** `employee:<id>` or `manager:<department code>`. */
    recipient: { type: String, required: true },
    /** The number the digest lists (the transaction, or the outgoing letter of a reply notice). */
    number: { type: String, required: true },
    /** Since when the item waits: the oldest are listed first. */
    since: { type: Date, required: true },
    digestAt: { type: Date, required: true },
    notice: { type: Schema.Types.Mixed, required: true },
    /** Set when the item is taken into a digest (its message id). */
    digestId: String,
  },
  { versionKey: false, minimize: false },
);
digestItemSchema.index({ digestAt: 1 });
digestItemSchema.index({ digestId: 1 }, { sparse: true });

/**
 * Final receipts whose part was not recorded yet when they came, `{ _id: part key, at }`: the
 * pending-receipts sweep's list (written with the driver: an upsert of a bare key).
 */
export const PENDING_RECEIPTS_COLLECTION = "receipts_pending";

export const MessageModel = mongoose.model("Message", messageSchema, "messages");
export const SmsQueueModel = mongoose.model("SmsQueue", smsQueueSchema, "sms_queue");
export const SmsPartModel = mongoose.model("SmsPart", smsPartSchema, "sms_parts");
export const ReceiptModel = mongoose.model("Receipt", receiptSchema, "receipts");
export const SmsOptOutModel = mongoose.model("SmsOptOut", optOutSchema, "sms_opt_outs");
export const DigestItemModel = mongoose.model("DigestItem", digestItemSchema, "staff_digest_items");

export type MessageDoc = InferSchemaType<typeof messageSchema>;

// Template versions saved in the staff console (core/sms/template-versions/store.ts).
const versionSchema = new Schema(
  {
    /** `<name>.<lang>@<version>`: two saves of the same version cannot both land. */
    _id: { type: String, required: true },
    template: { type: String, required: true },
    lang: { type: String, enum: ["ar", "en"], required: true },
    version: { type: Number, required: true },
    body: { type: String, required: true },
    /** The staff user name. */
    author: { type: String, required: true },
    at: { type: Date, required: true },
    /** The version this one restored (0: the file). */
    restoredFrom: Number,
  },
  { versionKey: false },
);
versionSchema.index({ template: 1, lang: 1, version: -1 });
export const SmsTemplateVersionModel = mongoose.model("SmsTemplateVersion", versionSchema, "sms_template_versions");

const headSchema = new Schema(
  {
    _id: { type: String, required: true }, // `<name>.<lang>`
    template: { type: String, required: true },
    lang: { type: String, required: true },
    version: { type: Number, required: true },
    body: { type: String, required: true },
    author: { type: String, required: true },
    at: { type: Date, required: true },
  },
  { versionKey: false },
);
export const SmsTemplateHeadModel = mongoose.model("SmsTemplateHead", headSchema, "sms_templates");

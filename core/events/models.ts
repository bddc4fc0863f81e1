// The events and the transactions derived from them, as mongoose schemas. Every collection
// uses a natural key as _id (transaction number, event id, ...) so that a retried write is an
// idempotent upsert rather than a second document.
import mongoose, { Schema, type InferSchemaType } from "mongoose";
import type { Lang } from "../text/lang.ts";

export const EVENT_TYPES = ["registered", "referred", "assigned", "issued", "reply-received", "closed"] as const;
export type EventType = (typeof EVENT_TYPES)[number];
/** A citizen's language (the one `Lang` of core/text/lang.ts). */
export type Language = Lang;

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

/** The current state of a transaction, derived from its events (see core/events/lifecycle.ts). */
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

/**
 * Which transaction holds each outgoing number (رقم الصادر): the office numbers its letters
 * once, so a number belongs to one transaction. A unique insert claims it before the first
 * `issued` event naming it is stored (core/events/outgoing.ts); a claim is never removed. The
 * agency reply webhook finds a letter's transaction here. `meta|claimed` marks the claims of
 * the transactions stored before claims existed as made.
 */
const outgoingNumberSchema = new Schema(
  {
    /** The outgoing number, canonical digits. */
    _id: { type: String, required: true },
    transactionNumber: { type: String, required: true },
    /** The issued event that claimed it. */
    eventId: String,
    at: Date,
  },
  { versionKey: false },
);

export const EventModel = mongoose.model("Event", eventSchema, "events");
export const TransactionModel = mongoose.model("Transaction", transactionSchema, "transactions");
export const PendingEventModel = mongoose.model("PendingEvent", pendingEventSchema, "events_pending");
export const OutgoingNumberModel = mongoose.model("OutgoingNumber", outgoingNumberSchema, "outgoing_numbers");

export type EventDoc = InferSchemaType<typeof eventSchema>;
export type TransactionDoc = InferSchemaType<typeof transactionSchema>;

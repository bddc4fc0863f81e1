// Agencies (the other government bodies the office writes to), their webhook signing secrets
// and the log of their verified webhook deliveries.
import mongoose, { Schema, type InferSchemaType } from "mongoose";
import { bilingualName } from "../directory/models.ts";

const agencySchema = new Schema(
  {
    _id: { type: String, required: true },
    name: bilingualName,
    updatedAt: Date,
  },
  { versionKey: false },
);

/**
 * One webhook signing secret of an agency, encrypted (see core/agencies/secrets.ts): a create
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

/**
 * Every verified webhook request of an agency, with its outcome (for the staff API). Only
 * requests whose signature checked out are kept, so nobody else can write here; each stays
 * WEBHOOK_LOG_TTL_DAYS (see purgeDeliveries).
 */
const deliverySchema = new Schema(
  {
    agencyCode: { type: String, index: true },
    webhookId: String,
    receivedAt: { type: Date, index: true },
    status: Number,
    outcome: String,
    outgoingNumber: String,
    ip: String,
  },
  { versionKey: false },
);
export const AgencyModel = mongoose.model("Agency", agencySchema, "agencies");
export const AgencySecretModel = mongoose.model("AgencySecret", agencySecretSchema, "agency_secrets");
export const WebhookDeliveryModel = mongoose.model("WebhookDelivery", deliverySchema, "webhook_deliveries");

export type AgencyDoc = InferSchemaType<typeof agencySchema>;
export type AgencySecretDoc = InferSchemaType<typeof agencySecretSchema>;

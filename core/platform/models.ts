// The platform's one collection: API keys made in the staff console (core/platform/stored-api-keys.ts).
import mongoose, { Schema } from "mongoose";

const storedKeySchema = new Schema(
  {
    _id: { type: String, required: true },
    /** SHA-256 of the key, hex. */
    hash: { type: String, required: true, unique: true },
    /** The first 8 hex digits of the hash, as the logs and the console show it. */
    fingerprint: { type: String, required: true },
    /** Who or what holds it: "نظام المراسلات", "Prometheus". */
    name: { type: String, required: true },
    scopes: { type: [String], required: true },
    createdAt: { type: Date, required: true },
    createdBy: String,
    revokedAt: Date,
    revokedBy: String,
  },
  { versionKey: false },
);
// The console's list, newest first; a node's read of the active keys.
storedKeySchema.index({ createdAt: -1 });
storedKeySchema.index({ revokedAt: 1 });
export const StoredApiKeyModel = mongoose.model("StoredApiKey", storedKeySchema, "api_keys");

// The store's own collections: the claims that make a step exclusive (see exclusive.ts).
import mongoose, { Schema } from "mongoose";

const claimSchema = new Schema({ _id: { type: String, required: true }, at: Date, by: String }, { versionKey: false });
/** Claims of send attempts (`send:<messageId>:<attempt>`): one per attempt, kept. */
export const ClaimModel = mongoose.model("Claim", claimSchema, "claims");
/** The leases' slots (`lease:<name>:<slot>`): a few, old ones removed (a collection of their own, so that removing them never reads the send claims). */
export const LeaseSlotModel = mongoose.model("LeaseSlot", claimSchema, "leases");

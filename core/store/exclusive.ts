// Exclusivity that holds on every MongoDB-wire server we run on. Unpatched FerretDB applies
// an update as read-modify-write without isolation, so two conditional updates can both
// "win"; an insert of a unique _id cannot. Claims are therefore inserts.
import mongoose, { Schema } from "mongoose";
import { isDuplicateKey } from "./db.ts";

const claimSchema = new Schema({ _id: { type: String, required: true }, at: Date, by: String }, { versionKey: false });
/** Claims of send attempts (`send:<messageId>:<attempt>`): one per attempt, kept. */
export const ClaimModel = mongoose.model("Claim", claimSchema, "claims");
/** The leases' slots (`lease:<name>:<slot>`): a few, old ones removed (a collection of their own, so that removing them never reads the send claims). */
export const LeaseSlotModel = mongoose.model("LeaseSlot", claimSchema, "leases");

/**
 * True for exactly one caller per key, across processes and restarts.
 *
 * @example
 *   if (await claimOnce(`lease:scheduler:${slot}`, LeaseSlotModel)) becomeLeader();
 */
export async function claimOnce(key: string, model: mongoose.Model<any> = ClaimModel): Promise<boolean> {
  try {
    await model.create({ _id: key, at: new Date(), by: `${process.pid}` });
    return true;
  } catch (err) {
    if (isDuplicateKey(err)) return false;
    throw err;
  }
}

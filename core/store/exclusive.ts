// Exclusivity that holds on every MongoDB-wire server we run on. Unpatched FerretDB applies
// an update as read-modify-write without isolation, so two conditional updates can both
// "win"; an insert of a unique _id cannot. Claims are therefore inserts.
import mongoose from "mongoose";
import { ClaimModel } from "./models.ts";
import { isDuplicateKey } from "./db.ts";

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

// Citizens' opt-out of non-essential SMS ("إيقاف" / "STOP" to the short code, "تشغيل" /
// "START" to resume). One document per mobile that ever opted out, with every change and its
// time. Honoured when a message is sent (not only when it is queued): one queued before the
// opt-out, or deferred to the morning, is not sent either.
import { isDuplicateKey } from "../store/db.ts";
import type { Role } from "./notifications.ts";
import { SmsOptOutModel } from "./models.ts";

/**
 * Citizens' templates sent even to a mobile that opted out: the outcome of their transaction
 * (a letter issued for them). Answers to what the citizen asked themselves (inquiry replies,
 * help, the opt-out confirmations) are the `inquirer` role and always sent. Staff are never
 * opted out this way.
 */
export const ESSENTIAL_CITIZEN_TEMPLATES: readonly string[] = ["issued"];

/**
 * Whether a message goes out whatever its recipient's opt-out.
 *
 * @example
 *   isEssential({ role: "citizen", template: "registered" }) // false
 *   isEssential({ role: "inquirer", template: "inquiry-reply" }) // true
 */
export function isEssential(msg: { role: Role | string; template: string }): boolean {
  return msg.role !== "citizen" || ESSENTIAL_CITIZEN_TEMPLATES.includes(msg.template);
}

/**
 * Records an opt-out (`optedOut` true) or its end for a mobile, at `at`. Answers whether it
 * changed anything: a second "STOP" changes nothing, and neither does a "START" from a mobile
 * that never stopped. Safe to repeat and to run on two nodes at once. `key` names the request
 * (an MO delivered twice has one key): a repeat of the request that made the change answers
 * `changed: true` as the first did, whichever of the two the database took first, so both
 * render the same confirmation.
 *
 * @example
 *   await setSmsOptOut("+966551234567", true, new Date(), "sms", "mo:3f2a…") // { changed: true }
 *   await setSmsOptOut("+966551234567", true, new Date(), "sms", "mo:3f2a…") // { changed: true } (the same MO again)
 *   await setSmsOptOut("+966551234567", true, new Date(), "sms", "mo:9c1d…") // { changed: false }
 */
export async function setSmsOptOut(mobile: string, optedOut: boolean, at: Date, via: string, key?: string): Promise<{ changed: boolean }> {
  const entry = { optedOut, at, via, ...(key ? { key } : {}) };
  const update = key
    ? { $set: { optedOut, changedAt: at, changedBy: key }, $push: { history: entry } }
    : { $set: { optedOut, changedAt: at }, $unset: { changedBy: 1 }, $push: { history: entry } };
  const r = await SmsOptOutModel.updateOne({ _id: mobile, optedOut: !optedOut }, update);
  if (r.modifiedCount) return { changed: true };
  if (optedOut) {
    try {
      await SmsOptOutModel.collection.insertOne({ _id: mobile as any, optedOut, changedAt: at, ...(key ? { changedBy: key } : {}), history: [entry] });
      return { changed: true };
    } catch (err) {
      if (!isDuplicateKey(err)) throw err; // else: opted out already
    }
  }
  // Nothing changed now: this request's duplicate may have made the latest change (read only then).
  return { changed: key !== undefined && (await SmsOptOutModel.exists({ _id: mobile, optedOut, changedBy: key })) !== null };
}

/** The mobiles among `mobiles` that are opted out now (one indexed read). */
export async function optedOutAmong(mobiles: string[]): Promise<Set<string>> {
  if (!mobiles.length) return new Set();
  const docs = await SmsOptOutModel.find({ _id: { $in: [...new Set(mobiles)] }, optedOut: true }, { _id: 1 }).lean();
  return new Set(docs.map((d) => String(d._id)));
}

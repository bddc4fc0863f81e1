// Outgoing numbers (رقم الصادر) belong to one transaction each: the office numbers its
// letters once. A second transaction issuing a number another one holds is an error of the
// source (its pending reply and its agency's reply would both be the other transaction's), so
// it is refused before anything of its request is stored. The claim is a unique insert, so two
// concurrent requests for two transactions cannot both win on any server (core/store/README.md).
import { OutgoingNumberModel, TransactionModel } from "./models.ts";
import { findByIds, IN_LIMIT, onlyDuplicateKeys } from "../store/db.ts";

/** One issued event's claim on its outgoing number. */
export interface OutgoingClaim {
  outgoingNumber: string;
  transactionNumber: string;
  eventId: string;
}

/** An issued event refused: its outgoing number is held by another transaction. */
export interface OutgoingConflict {
  /** The refused event. */
  id: string;
  outgoingNumber: string;
  /** The transaction that holds the number. */
  transactionNumber: string;
}

/** Where the claims are kept: the database (databaseOutgoingClaims), or a fake in unit tests. */
export interface OutgoingClaimStore {
  /** The transaction holding each of these numbers that is claimed. */
  holders(numbers: string[]): Promise<Map<string, string>>;
  /** Inserts the claims (each a unique key); false when some were claimed meanwhile by someone else. */
  insert(claims: OutgoingClaim[]): Promise<boolean>;
}

/** What claimOutgoingNumbers needs of an event. */
type ClaimingEvent = { id: string; type: string; transactionNumber: string; data: Record<string, any> };

/**
 * Claims the outgoing numbers of the issued events of several requests (a read, and an insert
 * of the new claims), answering each request's conflicts: an issued event whose number another
 * transaction holds, already or earlier in the same batch. A request with a conflict claims
 * nothing and must store nothing; `null` stands for a request refused already (not looked at).
 * Re-sending an issued event, or a transaction issuing the same number again, is no conflict.
 * A claim stays once made: a request that loses a race on one number keeps the others it
 * claimed in the same instant (the source re-sends it once corrected).
 *
 * @example
 *   await claimOutgoingNumbers([[issued("e1", "144500123", "4812077")], [issued("e2", "144500124", "4812077")]], store)
 *   // [[], [{ id: "e2", outgoingNumber: "4812077", transactionNumber: "144500123" }]]
 */
export async function claimOutgoingNumbers(requests: Array<ClaimingEvent[] | null>, store: OutgoingClaimStore): Promise<OutgoingConflict[][]> {
  const wanted = requests.map((events) =>
    (events ?? []).filter((e) => e.type === "issued").map((e): OutgoingClaim => ({ outgoingNumber: e.data.outgoingNumber, transactionNumber: e.transactionNumber, eventId: e.id })),
  );
  const numbers = [...new Set(wanted.flat().map((c) => c.outgoingNumber))];
  const conflicts: OutgoingConflict[][] = requests.map(() => []);
  if (!numbers.length) return conflicts;
  const held = await store.holders(numbers);
  const toInsert: OutgoingClaim[] = [];
  wanted.forEach((claims, r) => {
    // Within the request: the first event naming a number is its transaction's claim.
    const mine = new Map<string, string>();
    for (const c of claims) {
      const holder = held.get(c.outgoingNumber) ?? mine.get(c.outgoingNumber);
      if (holder !== undefined && holder !== c.transactionNumber) conflicts[r]!.push({ id: c.eventId, outgoingNumber: c.outgoingNumber, transactionNumber: holder });
      else if (holder === undefined) mine.set(c.outgoingNumber, c.transactionNumber);
    }
    if (conflicts[r]!.length) return;
    for (const c of claims) {
      if (held.has(c.outgoingNumber)) continue;
      held.set(c.outgoingNumber, c.transactionNumber); // later requests of the batch compare against it
      toInsert.push(c);
    }
  });
  if (!toInsert.length || (await store.insert(toInsert))) return conflicts;
  // Someone else claimed some of them between our read and our insert: whoever holds each now
  // won, against every request of the batch that counted on our claim.
  const raced = new Set(toInsert.map((c) => c.outgoingNumber));
  const now = await store.holders([...raced]);
  wanted.forEach((claims, r) => {
    if (conflicts[r]!.length) return;
    for (const c of claims) {
      if (!raced.has(c.outgoingNumber)) continue;
      const holder = now.get(c.outgoingNumber);
      if (holder === undefined) throw new Error(`outgoing number ${c.outgoingNumber}: neither claimed nor refused`);
      if (holder !== c.transactionNumber) conflicts[r]!.push({ id: c.eventId, outgoingNumber: c.outgoingNumber, transactionNumber: holder });
    }
  });
  return conflicts;
}

/** The claims on the database: `outgoing_numbers`, one document per number. */
export const databaseOutgoingClaims: OutgoingClaimStore = {
  async holders(numbers) {
    const docs = await findByIds(OutgoingNumberModel.collection, numbers, { projection: { transactionNumber: 1 } });
    return new Map(docs.map((d) => [String(d._id), String(d.transactionNumber)]));
  },
  async insert(claims) {
    const at = new Date();
    try {
      await OutgoingNumberModel.collection.insertMany(
        claims.map((c) => ({ _id: c.outgoingNumber, transactionNumber: c.transactionNumber, eventId: c.eventId, at })) as any[],
        { ordered: false },
      );
      return true;
    } catch (err) {
      if (onlyDuplicateKeys(err)) return false;
      throw err;
    }
  },
};

/** The marker of claimExistingOutgoing's work done (not a number: numbers are digits). */
const CLAIMED = "meta|claimed";
let complete = false;

/** Whether every outgoing number stored before claims existed is claimed (cached once true). */
export async function outgoingClaimsComplete(): Promise<boolean> {
  complete ||= !!(await OutgoingNumberModel.exists({ _id: CLAIMED }));
  return complete;
}

/**
 * Claims the outgoing numbers of the transactions stored before claims existed (once per
 * database: a marker records it; repeated after a crash, harmlessly). A number two of them
 * already share stays with the first read, and is answered in `shared` for the operator.
 *
 * @example
 *   await claimExistingOutgoing() // { ran: true, claimed: 1200, shared: [] }
 */
export async function claimExistingOutgoing(): Promise<{ ran: boolean; claimed: number; shared: string[] }> {
  if (await outgoingClaimsComplete()) return { ran: false, claimed: 0, shared: [] };
  const seen = new Map<string, string>();
  const shared = new Set<string>();
  let batch: Array<Record<string, unknown>> = [];
  let claimed = 0;
  const flush = async () => {
    if (!batch.length) return;
    try {
      await OutgoingNumberModel.collection.insertMany(batch as any[], { ordered: false });
      claimed += batch.length;
    } catch (err) {
      // Claimed already: by the events API since, or by an earlier run cut short.
      if (!onlyDuplicateKeys(err)) throw err;
      claimed += batch.length - ((err as { writeErrors?: unknown[] }).writeErrors?.length ?? 0);
    }
    batch = [];
  };
  const at = new Date();
  for await (const t of TransactionModel.find({ "outgoing.0": { $exists: true } }, { outgoing: 1 }).lean().cursor({ batchSize: IN_LIMIT })) {
    for (const o of t.outgoing ?? []) {
      const holder = seen.get(o.number);
      if (holder !== undefined) {
        if (holder !== String(t._id)) shared.add(o.number);
        continue;
      }
      seen.set(o.number, String(t._id));
      batch.push({ _id: o.number, transactionNumber: String(t._id), eventId: o.eventId, at });
    }
    if (batch.length >= IN_LIMIT) await flush();
  }
  await flush();
  await OutgoingNumberModel.collection.updateOne({ _id: CLAIMED as any }, { $set: { transactionNumber: "", at: new Date() } }, { upsert: true });
  complete = true;
  return { ran: true, claimed, shared: [...shared] };
}

/**
 * The transaction holding an outgoing number, by its claim (undefined: none). Before the
 * claims of older data are made, the older lookup (`legacy`) answers for a number not claimed.
 */
export async function outgoingHolder(outgoingNumber: string, legacy: () => Promise<string | undefined>): Promise<string | undefined> {
  const claim = await OutgoingNumberModel.findById(outgoingNumber, { transactionNumber: 1 }).lean();
  if (claim) return claim.transactionNumber;
  return (await outgoingClaimsComplete()) ? undefined : legacy();
}

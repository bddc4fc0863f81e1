// A transaction as the staff API shows it.
import { AgencyModel } from "../agencies/models.ts";
import { clientError } from "../platform/errors.ts";
import { TransactionModel } from "./models.ts";

/**
 * A transaction for staff: its number as the source wrote it (the canonical one on data stored
 * before it was kept), and each outgoing letter flagged when its agency is missing from the
 * directory. 404 TRANSACTION_NOT_FOUND.
 *
 * @example
 *   (await transactionView("144500123")).outgoing[0].agencyInDirectory // true
 */
export async function transactionView(number: string) {
  const doc = await TransactionModel.findById(number).lean();
  if (!doc) throw clientError(404, "TRANSACTION_NOT_FOUND", `No transaction ${number}`);
  const { _id, applyToken, ...rest } = doc as typeof doc & { applyToken?: string };
  const codes = [...new Set((rest.outgoing ?? []).map((o) => o.destination?.agencyCode).filter(Boolean))] as string[];
  const known = new Set((await AgencyModel.find({ _id: { $in: codes } }, { _id: 1 }).lean()).map((a) => String(a._id)));
  return {
    ...rest,
    displayNumber: rest.displayNumber || rest.number,
    outgoing: (rest.outgoing ?? []).map((o) => ({ ...o, displayNumber: o.displayNumber || o.number, agencyInDirectory: known.has(o.destination?.agencyCode ?? "") })),
  };
}

// SMS messages and opt-outs as the staff API shows them.
import { clientError } from "../platform/errors.ts";
import { maskMobile } from "../text/normalize.ts";
import { MESSAGE_STATUSES, MessageModel, SmsOptOutModel } from "./models.ts";

/**
 * A citizen's opt-out of non-essential SMS: now, and every change with its time (a mobile that
 * never sent STOP: not opted out).
 */
export async function optOutView(mobile: string) {
  const doc = await SmsOptOutModel.findById(mobile).lean();
  return {
    mobile,
    optedOut: doc?.optedOut ?? false,
    ...(doc ? { changedAt: doc.changedAt } : {}),
    history: (doc?.history ?? []).map((h) => ({ optedOut: h.optedOut, at: h.at, via: h.via })),
  };
}

/**
 * Messages in creation order, of one transaction and/or in one status (400 INVALID_STATUS for
 * an unknown one), at most `limit` (1 to 1000). Citizens' full numbers only when `mobiles` (the
 * key may read them); the masked one is enough to tell messages apart.
 *
 * @example
 *   await listMessages({ transactionNumber: "144500123", status: "delivered", limit: 100, mobiles: false })
 */
export async function listMessages(q: { transactionNumber?: string; status?: unknown; limit: number; mobiles: boolean }) {
  const filter: Record<string, unknown> = {};
  if (q.transactionNumber !== undefined) filter.transactionNumber = q.transactionNumber;
  if (q.status !== undefined) {
    if (!(MESSAGE_STATUSES as readonly unknown[]).includes(q.status)) {
      throw clientError(400, "INVALID_STATUS", `status must be one of: ${MESSAGE_STATUSES.join(", ")}`, { details: { statuses: MESSAGE_STATUSES } });
    }
    filter.status = q.status;
  }
  const docs = await MessageModel.find(filter).sort({ createdAt: 1 }).limit(Math.min(Math.max(q.limit, 1), 1000)).lean();
  return {
    messages: docs.map(({ _id, to, ...m }) => ({ id: _id, ...m, ...(q.mobiles ? { to } : {}), toMasked: maskMobile(to ?? undefined) })),
  };
}

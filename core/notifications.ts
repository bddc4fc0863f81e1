// Which SMS an applied event causes, and their creation as queued messages. Message ids
// are derived from the event, so applying an event again never creates a second SMS.
import type { LifecycleEvent, TransactionState } from "./lifecycle.ts";
import { MessageModel } from "./models.ts";
import { onlyDuplicateKeys } from "./db.ts";

/** Who a message goes to, resolved when it is rendered. */
export type Role = "citizen" | "employee" | "manager" | "escalation" | "inquirer";

/** A message to create: the template, the recipient's role and what the template needs. */
export interface PlannedMessage {
  _id: string;
  transactionNumber?: string;
  eventId?: string;
  template: string;
  role: Role;
  to?: string;
  lang?: "ar" | "en";
  vars?: Record<string, unknown>;
  /** Text rendered already (inquiry answers): sent as it is; needs `to`. */
  text?: string;
}

/** The trigger table of the follow-up services: event type -> template and recipient. */
export const EVENT_NOTIFICATIONS: Readonly<Record<string, { template: string; role: Role } | undefined>> = {
  registered: { template: "registered", role: "citizen" },
  issued: { template: "issued", role: "citizen" },
  assigned: { template: "assigned", role: "employee" },
  "reply-received": { template: "reply-received", role: "citizen" },
};

/**
 * The messages one event causes.
 *
 * @example
 *   plannedMessages(issuedEvent)
 *   // [{ _id: "e4:issued:citizen", template: "issued", role: "citizen", vars: { outgoingNumber: "5501" }, ... }]
 */
export function plannedMessages(event: LifecycleEvent, state?: TransactionState): PlannedMessage[] {
  const n = EVENT_NOTIFICATIONS[event.type];
  if (!n) return [];
  const vars: Record<string, unknown> = {};
  if (event.type === "issued" || event.type === "reply-received") vars.outgoingNumber = event.data.outgoingNumber;
  if (event.type === "assigned") vars.employeeId = event.data.employeeId;
  // A reply to an outgoing item that does not wait for one is not news to the citizen.
  if (event.type === "reply-received" && state) {
    const item = state.outgoing.find((o) => o.number === event.data.outgoingNumber);
    if (item && item.reply?.eventId !== event.id) return [];
  }
  return [{ _id: `${event.id}:${n.template}:${n.role}`, transactionNumber: event.transactionNumber, eventId: event.id, template: n.template, role: n.role, vars }];
}

/**
 * Queues the messages (those not there yet); the dispatcher picks them up. Idempotent.
 */
export async function enqueueMessages(messages: PlannedMessage[]): Promise<void> {
  if (!messages.length) return;
  const now = new Date();
  // Plain inserts: an id that exists already is left exactly as it is (an upsert would
  // rewrite it on servers that update by read-modify-write).
  await MessageModel.insertMany(
    messages.map((m) => ({ ...m, status: "queued", nextAttemptAt: now, statusHistory: [{ status: "queued", at: now }], attempts: 0, smscIds: [], createdAt: now, updatedAt: now })),
    { ordered: false },
  ).catch((err) => {
    if (!onlyDuplicateKeys(err)) throw err;
  });
}

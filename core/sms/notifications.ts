// Which SMS an applied event causes, and their creation as queued messages. Message ids
// are derived from the event, so applying an event again never creates a second SMS.
import type { ServiceBroker } from "moleculer";
import type { LifecycleEvent, TransactionState } from "../events/lifecycle.ts";
import { MessageModel, SmsQueueModel } from "./models.ts";
import { onlyDuplicateKeys } from "../store/db.ts";
import { clock } from "../platform/clock.ts";
import { smsCreated } from "../report/facts.ts";
import { sendTime, STAFF_ROLES } from "./sending-hours.ts";
import { directory } from "../directory/cache.ts";
import { DEFAULT_NOTIFICATIONS, notificationSwitches, type NotificationSwitches } from "./switches.ts";
import type { Lang } from "../text/lang.ts";

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
  lang?: Lang;
  vars?: Record<string, unknown>;
  /** Text rendered already (inquiry answers): sent as it is; needs `to`. */
  text?: string;
  /** The department whose staff hours apply to a staff message. */
  departmentCode?: string;
}

/** The trigger table of the follow-up services: event type -> template and recipient. */
export const EVENT_NOTIFICATIONS: Readonly<Record<string, { template: string; role: Role } | undefined>> = {
  registered: { template: "registered", role: "citizen" },
  referred: { template: "referred", role: "citizen" },
  issued: { template: "issued", role: "citizen" },
  assigned: { template: "assigned", role: "employee" },
  "reply-received": { template: "reply-received", role: "citizen" },
  closed: { template: "closed", role: "citizen" },
};

/**
 * The messages one event causes, under the switches of the transaction's department.
 *
 * @example
 *   plannedMessages(issuedEvent)
 *   // [{ _id: "e4:issued:citizen", template: "issued", role: "citizen", vars: { outgoingNumber: "5501" }, ... }]
 *   plannedMessages(closedEvent, state, notificationSwitches({ closed: true })) // the closing notice
 */
export function plannedMessages(event: LifecycleEvent, state?: TransactionState, switches: NotificationSwitches = DEFAULT_NOTIFICATIONS): PlannedMessage[] {
  const n = EVENT_NOTIFICATIONS[event.type];
  if (!n || !switches[event.type as keyof NotificationSwitches]) return [];
  const vars: Record<string, unknown> = {};
  if (event.type === "issued" || event.type === "reply-received") vars.outgoingNumber = event.data.outgoingNumber;
  if (event.type === "assigned") vars.employeeId = event.data.employeeId;
  // The department it went to, also when a later referral moved it on again.
  if (event.type === "referred") vars.departmentCode = event.data.departmentCode;
  if (event.type === "closed") vars.closedAt = event.occurredAt;
  // A reply to an outgoing item that does not wait for one is not news to the citizen.
  if (event.type === "reply-received" && state) {
    const item = state.outgoing.find((o) => o.number === event.data.outgoingNumber);
    if (item && item.reply?.eventId !== event.id) return [];
  }
  return [{ _id: `${event.id}:${n.template}:${n.role}`, transactionNumber: event.transactionNumber, eventId: event.id, template: n.template, role: n.role, vars, departmentCode: state?.departmentCode }];
}

/**
 * The messages of applied transactions' new events, each under its department's switches
 * (from the directory cache: no round-trip per message).
 */
export async function plannedForApplied(applied: Array<{ events: LifecycleEvent[]; state: TransactionState }>): Promise<PlannedMessage[]> {
  const codes = applied.map((a) => a.state.departmentCode).filter((c): c is string => !!c);
  const departments = codes.length ? await directory.departments.getMany(codes) : new Map();
  return applied.flatMap((a) => {
    const switches = notificationSwitches(a.state.departmentCode ? departments.get(a.state.departmentCode)?.notifications : undefined);
    return a.events.flatMap((e) => plannedMessages(e, a.state, switches));
  });
}

const queuedListeners = new Set<() => void>();

/**
 * Queues the messages (those not there yet) in the log and in the SMS queue, two inserts for
 * any number of messages; the dispatcher is told (see forwardQueuedToBroker). Idempotent.
 */
export async function enqueueMessages(messages: PlannedMessage[]): Promise<void> {
  if (!messages.length) return;
  const now = clock.now();
  const dueAt = await sendTimes(messages, now);
  await smsCreated(now);
  const ignoreDuplicates = (err: unknown) => {
    if (!onlyDuplicateKeys(err)) throw err;
  };
  // Plain inserts: an id that exists already is left exactly as it is (an upsert would
  // rewrite it on servers that update by read-modify-write). The log first: a queue entry
  // whose message is missing would be handed out for nothing.
  await MessageModel.collection
    .insertMany(
      messages.map((m, i) => ({ ...stripUndefined(m), status: "queued", nextAttemptAt: dueAt[i], statusHistory: [{ status: "queued", at: now }], attempts: 0, createdAt: now, updatedAt: now })) as any[],
      { ordered: false },
    )
    .catch(ignoreDuplicates);
  // A message queued again by a repeated apply keeps its queue entry if it has one; one
  // already sent gets a new entry, which the dispatcher drops when it sees the message's status.
  await SmsQueueModel.collection.insertMany(messages.map((m, i) => ({ _id: m._id, dueAt: dueAt[i], attempts: 0, queuedAt: now })) as any[], { ordered: false }).catch(ignoreDuplicates);
  for (const l of queuedListeners) l();
}

/** Each message's due time under the sending hours (staff hours of its department, citizens' quiet window). */
async function sendTimes(messages: PlannedMessage[], now: Date): Promise<Date[]> {
  const staff = messages.some((m) => STAFF_ROLES.includes(m.role));
  const holidays = staff ? await directory.holidays.dates() : [];
  return Promise.all(messages.map(async (m) => {
    const dept = STAFF_ROLES.includes(m.role) && m.departmentCode ? await directory.departments.get(m.departmentCode) : null;
    return sendTime(m.role, now, { departmentHours: dept?.smsHours ?? undefined, holidays });
  }));
}

function stripUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

const forwarding = new WeakSet<ServiceBroker>();

/**
 * Broadcasts `sms.queued` (to the dispatcher, on whichever node it runs) whenever this
 * process queues messages; once per broker, and at most once per turn of the event loop.
 */
export function forwardQueuedToBroker(broker: ServiceBroker): void {
  if (forwarding.has(broker)) return;
  forwarding.add(broker);
  let scheduled = false;
  const listener = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      void broker.broadcast("sms.queued").catch(() => undefined);
    });
  };
  queuedListeners.add(listener);
  broker.localBus.once("$broker.stopped", () => queuedListeners.delete(listener));
}

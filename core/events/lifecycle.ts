// The transaction lifecycle as a pure fold over events: the same events in any arrival
// order give the same state, which is what makes redelivery and late events harmless.
import type { EventType, Language } from "./models.ts";

/** A validated event, as stored. */
export interface LifecycleEvent {
  id: string;
  type: EventType;
  transactionNumber: string;
  occurredAt: Date;
  receivedAt: Date;
  data: Record<string, any>;
}

export interface OutgoingState {
  number: string;
  /** The number as the source wrote it ("1448/00512"); absent on data stored before it was kept. */
  displayNumber?: string;
  date: Date;
  destination: { agencyCode: string; name?: string };
  requiresReply: boolean;
  eventId: string;
  reply?: { number?: string; date?: Date; receivedAt: Date; eventId: string; summary?: string; via?: string };
}

export type TransactionStatus = EventType | "unregistered";

export interface TransactionState {
  number: string;
  /** The number as the source wrote it: the registered event's, else the first event's. */
  displayNumber?: string;
  status: TransactionStatus;
  registered: boolean;
  registeredAt?: Date;
  citizen?: { name: string; mobile: string; language: Language };
  subject?: string;
  departmentCode?: string;
  assigneeId?: string;
  /** When the current assignee was assigned (the last `assigned` event). */
  assignedAt?: Date;
  outgoing: OutgoingState[];
  history: Array<{ eventId: string; type: EventType; occurredAt: Date; receivedAt: Date; data: Record<string, any> }>;
  eventCount: number;
  closedAt?: Date;
}

/** Events in the order they happened: occurredAt, then arrival, then id (a total order). */
export function compareEvents(a: LifecycleEvent, b: LifecycleEvent): number {
  return (
    a.occurredAt.getTime() - b.occurredAt.getTime() ||
    a.receivedAt.getTime() - b.receivedAt.getTime() ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

/**
 * Folds a transaction's events into its current state.
 *
 * @example
 *   project("1445001", [registered, assigned]).status // "assigned"
 */
export function project(number: string, events: LifecycleEvent[]): TransactionState {
  const sorted = [...events].sort(compareEvents);
  const state: TransactionState = { number, status: "unregistered", registered: false, outgoing: [], history: [], eventCount: 0 };
  // A reply may arrive before its issued event: keep it and attach it when the item appears.
  const earlyReplies = new Map<string, NonNullable<OutgoingState["reply"]>>();
  let sawRegistered = false;
  for (const e of sorted) {
    state.history.push({ eventId: e.id, type: e.type, occurredAt: e.occurredAt, receivedAt: e.receivedAt, data: e.data });
    state.eventCount++;
    const d = e.data;
    if (typeof d.displayNumber === "string" && (state.displayNumber === undefined || (e.type === "registered" && !sawRegistered))) {
      state.displayNumber = d.displayNumber;
    }
    if (e.type === "registered") sawRegistered = true;
    switch (e.type) {
      case "registered":
        state.registered = true;
        state.registeredAt = e.occurredAt;
        state.citizen = { name: d.citizen.name, mobile: d.citizen.mobile, language: d.citizen.language ?? "ar" };
        if (d.subject !== undefined) state.subject = d.subject;
        if (d.departmentCode !== undefined) state.departmentCode = d.departmentCode;
        break;
      case "referred":
        state.departmentCode = d.departmentCode;
        break;
      case "assigned":
        state.assigneeId = d.employeeId;
        state.assignedAt = e.occurredAt;
        break;
      case "issued": {
        const item: OutgoingState = {
          number: d.outgoingNumber,
          ...(typeof d.outgoingDisplayNumber === "string" ? { displayNumber: d.outgoingDisplayNumber } : {}),
          date: d.outgoingDate ? new Date(d.outgoingDate) : e.occurredAt,
          destination: { agencyCode: d.destination.agencyCode, ...(d.destination.name ? { name: d.destination.name } : {}) },
          requiresReply: d.requiresReply === true,
          eventId: e.id,
        };
        const existing = state.outgoing.findIndex((o) => o.number === item.number);
        const reply = existing >= 0 ? state.outgoing[existing]!.reply : earlyReplies.get(item.number);
        if (reply) item.reply = reply;
        // A re-issue of the same outgoing number corrects it but keeps a reply already received.
        if (existing >= 0) state.outgoing[existing] = item;
        else state.outgoing.push(item);
        break;
      }
      case "reply-received": {
        const reply = {
          ...(d.replyNumber !== undefined ? { number: d.replyNumber } : {}),
          ...(d.replyDate !== undefined ? { date: new Date(d.replyDate) } : {}),
          ...(d.summary !== undefined ? { summary: d.summary } : {}),
          ...(d.via !== undefined ? { via: d.via } : {}),
          receivedAt: e.receivedAt,
          eventId: e.id,
        };
        const item = state.outgoing.find((o) => o.number === d.outgoingNumber);
        if (item) item.reply ??= reply;
        else if (!earlyReplies.has(d.outgoingNumber)) earlyReplies.set(d.outgoingNumber, reply);
        break;
      }
      case "closed":
        state.closedAt = e.occurredAt;
        break;
    }
    // Closed is terminal: late events are recorded in the history but do not reopen.
    if (state.closedAt === undefined || e.type === "closed") state.status = e.type;
  }
  return state;
}

/** Outgoing items still waiting for a reply (none once the transaction is closed). */
export function awaitingReply(state: TransactionState): OutgoingState[] {
  if (state.closedAt) return [];
  return state.outgoing.filter((o) => o.requiresReply && !o.reply);
}

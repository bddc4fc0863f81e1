/**
 * What the console's pages read: the overdue board and a transaction's timeline. Both read
 * the same records the follow-up and the API keep (pending replies, transactions, messages);
 * the board reads the pending-reply collection, which holds only the letters still waiting,
 * through indexes on the due date.
 *
 * @module
 */
import { PendingReplyModel } from "../followup/models.ts";
import { followupPolicy } from "../followup/policy.ts";
import { MessageModel } from "../sms/models.ts";
import { TransactionModel } from "../events/models.ts";
import { directory } from "../directory/cache.ts";
import { addDays, daysBetween } from "../text/calendar.ts";
import { isWorkingDay } from "../text/working-days.ts";
import { maskMobile } from "../text/normalize.ts";
import type { StaffUser } from "./accounts.ts";
import type { Lang } from "../text/lang.ts";

// The board's queries: overdue items, oldest first, all or per department or agency.
PendingReplyModel.schema.index({ dueAt: 1 });
PendingReplyModel.schema.index({ departmentCode: 1, dueAt: 1 });
PendingReplyModel.schema.index({ agencyCode: 1, dueAt: 1 });

/** Rows per page of the board. */
export const BOARD_PAGE = 50;

export interface BoardFilter {
  department?: string;
  agency?: string;
  /** 0-based page. */
  page?: number;
}

/** One overdue letter on the board. */
export interface BoardItem {
  outgoingNumber: string;
  transactionNumber: string;
  departmentCode?: string;
  department: string;
  agencyCode: string;
  agency: string;
  outgoingDate: Date;
  dueAt: Date;
  /** In the department's count: calendar days, or working days (weekend and holidays skipped). */
  daysOverdue: number;
  dayKind: "calendar" | "working";
  remindersSent: number;
  escalated: boolean;
}

/** A count of overdue letters per department or agency, with the oldest due date. */
export interface BoardGroup {
  code: string;
  label: string;
  count: number;
  oldestDue: Date;
}

export interface Board {
  items: BoardItem[];
  byDepartment: BoardGroup[];
  byAgency: BoardGroup[];
  page: number;
  hasNext: boolean;
  total: number;
}

/** The pending-reply filter a user may see (a manager: their departments only), overdue at `now`. */
export function boardScope(user: StaffUser, filter: BoardFilter, now: Date): Record<string, unknown> {
  // Letters waiting for an agency's reply; the same collection also holds internal items.
  const match: Record<string, unknown> = { dueAt: { $lt: now }, kind: { $ne: "internal" } };
  if (user.role === "manager") {
    const mine = user.departments ?? [];
    match.departmentCode = filter.department ? (mine.includes(filter.department) ? filter.department : { $in: [] }) : { $in: mine };
  } else if (filter.department) match.departmentCode = filter.department;
  if (filter.agency) match.agencyCode = filter.agency;
  return match;
}

/** Days from `from` to `to` in the given count (working: weekend and holidays skipped). */
export function daysOverdue(from: Date, to: Date, kind: "calendar" | "working", holidays: string[]): number {
  const calendar = Math.max(daysBetween(from, to), 0);
  if (kind === "calendar") return calendar;
  let n = 0;
  for (let i = 1; i <= calendar; i++) if (isWorkingDay(addDays(from, i), { holidays })) n++;
  return n;
}

const nameOf = (doc: { name?: { ar?: string; en?: string } | null } | null | undefined, code: string, lang: Lang) => doc?.name?.[lang] || code;

type Overdue = { _id: string; transactionNumber: string; departmentCode?: string | null; agencyCode?: string | null; outgoingDate?: Date | null; dueAt: Date; stage: number };

/** Overdue letters per department or agency, with each group's oldest due date. */
function groupsBy(field: "departmentCode" | "agencyCode", overdue: Overdue[]): Array<{ _id: string | null; count: number; oldestDue: Date }> {
  const out = new Map<string | null, { _id: string | null; count: number; oldestDue: Date }>();
  for (const p of overdue) {
    const code = p[field] ?? null;
    const g = out.get(code) ?? out.set(code, { _id: code, count: 0, oldestDue: p.dueAt }).get(code)!;
    g.count++;
    if (p.dueAt < g.oldestDue) g.oldestDue = p.dueAt;
  }
  return [...out.values()];
}

/**
 * The overdue board at `now`, as `user` may see it: one page of letters oldest first, and
 * the counts per department and per agency (of the whole filter, not just the page).
 *
 * @example
 *   const board = await overdueBoard({ username: "amal", role: "manager", departments: ["LEGAL"] }, {}, new Date(), "ar", 10);
 *   board.items[0].daysOverdue // 12
 */
export async function overdueBoard(user: StaffUser, filter: BoardFilter, now: Date, lang: Lang, defaultPeriod: number): Promise<Board> {
  const match = boardScope(user, filter, now);
  const page = Math.max(0, filter.page ?? 0);
  // One read of the fields the board shows, of every overdue letter (through the dueAt index, or
  // the department's or agency's when filtered): the groups need them all, and the page is the
  // slice of them oldest first. (A sorted page and a $group would each read them all again on
  // the embedded database, which sorts in memory and has no $min in $group.)
  const overdue = await PendingReplyModel.find(match, { transactionNumber: 1, departmentCode: 1, agencyCode: 1, outgoingDate: 1, dueAt: 1, stage: 1 }).batchSize(50_000).lean<Overdue[]>();
  overdue.sort((a, b) => a.dueAt.getTime() - b.dueAt.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
  const docs = overdue.slice(page * BOARD_PAGE, (page + 1) * BOARD_PAGE + 1);
  const byDept = groupsBy("departmentCode", overdue);
  const byAgency = groupsBy("agencyCode", overdue);
  const holidays = await directory.holidays.dates();
  const items: BoardItem[] = [];
  for (const p of docs.slice(0, BOARD_PAGE)) {
    // Reply items always carry their agency and letter date (internal ones are filtered out).
    const agencyCode = p.agencyCode ?? "";
    const policy = await followupPolicy("reply", p.departmentCode, defaultPeriod);
    const [dept, agency] = await Promise.all([p.departmentCode ? directory.departments.get(p.departmentCode) : null, directory.agencies.get(agencyCode)]);
    items.push({
      outgoingNumber: p._id,
      transactionNumber: p.transactionNumber,
      ...(p.departmentCode ? { departmentCode: p.departmentCode } : {}),
      department: nameOf(dept, p.departmentCode ?? "—", lang),
      agencyCode,
      agency: nameOf(agency, agencyCode, lang),
      outgoingDate: p.outgoingDate ?? p.dueAt,
      dueAt: p.dueAt,
      daysOverdue: daysOverdue(p.dueAt, now, policy.periodKind, holidays),
      dayKind: policy.periodKind,
      // Stage counts notices: 1 the overdue notice, then the reminders, then the escalation.
      remindersSent: Math.min(Math.max(p.stage - 1, 0), policy.maxReminders),
      escalated: policy.hasEscalation && p.stage >= policy.maxReminders + 2,
    });
  }
  const groups = async (rows: Array<{ _id: string | null; count: number; oldestDue: Date }>, get: (code: string) => Promise<any>) =>
    (await Promise.all(rows.map(async (r) => ({ code: r._id ?? "", label: r._id ? nameOf(await get(r._id), r._id, lang) : "—", count: r.count, oldestDue: r.oldestDue }))))
      .sort((a, b) => a.oldestDue.getTime() - b.oldestDue.getTime());
  return {
    items,
    byDepartment: await groups(byDept, (c) => directory.departments.get(c)),
    byAgency: await groups(byAgency, (c) => directory.agencies.get(c)),
    page,
    hasNext: docs.length > BOARD_PAGE,
    total: overdue.length,
  };
}

/** One line of a transaction's timeline. */
export interface TimelineEntry {
  at: Date;
  kind: "event" | "sms";
  /** Event type, or the SMS template. */
  type: string;
  /** Event: outgoing number, agency, reply's channel; SMS: to whom, status, parts. */
  detail: Record<string, string | number | undefined>;
}

export interface Timeline {
  number: string;
  departmentCode?: string;
  subject?: string;
  status: string;
  outgoing: Array<{ number: string; date: Date; agencyCode: string; agency: string; requiresReply: boolean; replied: boolean; replyDate?: Date; via?: string; pending: boolean }>;
  entries: TimelineEntry[];
}

/** The timeline of a transaction (events and SMS in time order), or undefined when it does not exist. */
export async function transactionTimeline(number: string, lang: Lang): Promise<Timeline | undefined> {
  const t = await TransactionModel.findById(number).lean();
  if (!t) return undefined;
  const [messages, pending] = await Promise.all([
    MessageModel.find({ transactionNumber: number }, { template: 1, role: 1, to: 1, status: 1, parts: 1, createdAt: 1, finalAt: 1 }).sort({ createdAt: 1 }).limit(500).lean(),
    PendingReplyModel.find({ transactionNumber: number }, { _id: 1 }).lean(),
  ]);
  const waiting = new Set(pending.map((p) => p._id));
  const outgoing = [];
  for (const o of t.outgoing ?? []) {
    const agencyCode = o.destination?.agencyCode ?? "";
    const agency = await directory.agencies.get(agencyCode);
    outgoing.push({
      number: o.number,
      date: o.date,
      agencyCode,
      agency: nameOf(agency, o.destination?.name || agencyCode, lang),
      requiresReply: !!o.requiresReply,
      replied: !!o.reply,
      ...(o.reply?.date ? { replyDate: o.reply.date } : o.reply?.receivedAt ? { replyDate: o.reply.receivedAt } : {}),
      ...(o.reply?.via ? { via: o.reply.via } : {}),
      pending: waiting.has(o.number),
    });
  }
  const entries: TimelineEntry[] = [
    ...(t.history ?? []).map((h) => ({
      at: h.occurredAt as Date,
      kind: "event" as const,
      type: String(h.type),
      detail: {
        outgoingNumber: h.data?.outgoingNumber,
        agency: h.data?.destination?.agencyCode,
        department: h.data?.departmentCode,
        via: h.data?.via,
        replyNumber: h.data?.replyNumber,
      },
    })),
    ...messages.map((m) => ({
      at: m.createdAt as Date,
      kind: "sms" as const,
      type: m.template,
      detail: { role: m.role, to: maskMobile(m.to ?? undefined), status: m.status, parts: m.parts ?? undefined },
    })),
  ].sort((a, b) => a.at.getTime() - b.at.getTime());
  return {
    number,
    ...(t.departmentCode ? { departmentCode: t.departmentCode } : {}),
    ...(t.subject ? { subject: t.subject } : {}),
    status: t.status,
    outgoing,
    entries,
  };
}

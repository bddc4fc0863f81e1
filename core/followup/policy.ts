// How an item is followed up: its period (calendar or working days), its reminders and its
// escalation, from the department's settings or the defaults; and the times that follow.
import { addDays } from "../text/calendar.ts";
import { addWorkingDays } from "../text/working-days.ts";
import { directory } from "../directory/cache.ts";
import type { DepartmentDoc } from "../directory/models.ts";

/** What a pending item waits for: an agency's reply, or its employee (see the module comment). */
export type FollowupKind = "reply" | "internal";

/** How an item is followed up: its period from the start, then reminders, then an escalation. */
export interface FollowupPolicy {
  periodDays: number;
  periodKind: "calendar" | "working";
  reminderEveryDays: number;
  /** Reminders are days apart in calendar days (replies) or working days (internal). */
  reminderKind: "calendar" | "working";
  maxReminders: number;
  hasEscalation: boolean;
}

/** The internal follow-up's defaults: 5 working days from assignment, a reminder 2 working days later, then the manager. */
export const INTERNAL_DEFAULTS = Object.freeze({ periodDays: 5, reminderEveryDays: 2, maxReminders: 1 });

/** The settings of a department that its follow-up reads. */
export type PolicySettings = Partial<Pick<DepartmentDoc, "replyPeriodDays" | "replyPeriodKind" | "reminderEveryDays" | "maxReminders" | "internalFollowup" | "manager" | "escalation">>;

/**
 * The policy of a kind of item in a department (from the directory cache).
 *
 * @example
 *   await followupPolicy("internal", "LEGAL", 10) // { periodDays: 5, periodKind: "working", reminderEveryDays: 2, ... }
 */
export async function followupPolicy(kind: FollowupKind, departmentCode: string | undefined | null, defaultPeriod: number): Promise<FollowupPolicy> {
  return policyOf(kind, departmentCode ? await directory.departments.get(departmentCode) : null, defaultPeriod);
}

/**
 * The policy of a kind of item under a department's settings (none: the defaults).
 *
 * @example
 *   policyOf("reply", { replyPeriodDays: 7, replyPeriodKind: "working" }, 10) // { periodDays: 7, periodKind: "working", reminderEveryDays: 3, ... }
 */
export function policyOf(kind: FollowupKind, d: PolicySettings | null | undefined, defaultPeriod: number): FollowupPolicy {
  if (kind === "internal") {
    const own = (d?.internalFollowup ?? {}) as Partial<typeof INTERNAL_DEFAULTS>;
    return {
      periodDays: own.periodDays ?? INTERNAL_DEFAULTS.periodDays,
      periodKind: "working",
      reminderEveryDays: own.reminderEveryDays ?? INTERNAL_DEFAULTS.reminderEveryDays,
      reminderKind: "working",
      maxReminders: own.maxReminders ?? INTERNAL_DEFAULTS.maxReminders,
      hasEscalation: !!d?.manager?.mobile,
    };
  }
  return {
    periodDays: d?.replyPeriodDays ?? defaultPeriod,
    periodKind: (d?.replyPeriodKind as "calendar" | "working" | undefined) ?? "calendar",
    reminderEveryDays: d?.reminderEveryDays ?? 3,
    reminderKind: "calendar",
    maxReminders: d?.maxReminders ?? 3,
    hasEscalation: !!d?.escalation?.mobile,
  };
}

/**
 * When an item falls due: its start plus the period, in calendar days or in working days
 * (Friday and Saturday off, and the holidays).
 *
 * @example
 *   dueDate(new Date("2026-11-01T09:00:00Z"), { periodDays: 10, periodKind: "calendar" }, []) // 2026-11-11T09:00:00Z
 */
export function dueDate(start: Date, policy: Pick<FollowupPolicy, "periodDays" | "periodKind">, holidays: string[]): Date {
  return policy.periodKind === "working" ? addWorkingDays(start, policy.periodDays, { holidays }) : addDays(start, policy.periodDays);
}

/** When notice number `stage` (0-based) is due, or undefined when the sequence has no such notice. */
export function noticeTime(dueAt: Date, stage: number, policy: FollowupPolicy, holidays: string[] = []): Date | undefined {
  if (stage > policy.maxReminders + 1 || (stage === policy.maxReminders + 1 && !policy.hasEscalation)) return undefined;
  const days = stage * policy.reminderEveryDays;
  return policy.reminderKind === "working" ? addWorkingDays(dueAt, days, { holidays }) : addDays(dueAt, days);
}

/**
 * The notice after `stage` still ahead of `now`, and its place in the sequence: after an
 * outage the notices missed meanwhile are skipped (one has just gone out) and the sequence
 * resumes at its next future slot. No `at`: the sequence is over.
 *
 * @example
 *   nextNotice(dueAt, 0, policy, [], now) // { stage: 1, at: dueAt + 3 days } when now is before that
 */
export function nextNotice(dueAt: Date, stage: number, policy: FollowupPolicy, holidays: string[], now: Date): { stage: number; at?: Date } {
  let next = stage + 1;
  let at = noticeTime(dueAt, next, policy, holidays);
  while (at && at <= now) at = noticeTime(dueAt, ++next, policy, holidays);
  return at ? { stage: next, at } : { stage: next };
}

/** Whether the item's dates need the holidays. */
export const usesHolidays = (p: FollowupPolicy) => p.periodKind === "working" || p.reminderKind === "working";

/** The holidays' Riyadh dates (from the directory cache). */
export function holidayKeys(): Promise<string[]> {
  return directory.holidays.dates();
}

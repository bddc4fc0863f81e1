// When an SMS may go out: staff are written to in working hours on working days only, citizens
// at any time unless a quiet window is configured. Applied once, when a message is queued, as
// its due time: the dispatcher sleeps until then, so deferred messages keep their order (queue
// order breaks ties) and are sent once like any other.
import { isWorkingDay } from "../text/working-days.ts";
import { RIYADH_OFFSET_MS } from "../text/calendar.ts";
import type { Role } from "./notifications.ts";

/** A span of the Riyadh day in minutes from midnight; `end < start` wraps past midnight (22:00-07:00). */
export interface DayWindow {
  start: number;
  end: number;
}

const DAY_MS = 86_400_000;
const HOURS = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$/;

/**
 * Reads `HH:MM-HH:MM`; undefined when it is not one (or the span is empty).
 *
 * @example
 *   parseWindow("07:30-15:30") // { start: 450, end: 930 }
 *   parseWindow("22:00-07:00") // { start: 1320, end: 420 }
 */
export function parseWindow(text: unknown): DayWindow | undefined {
  const m = typeof text === "string" ? HOURS.exec(text.trim()) : null;
  if (!m) return undefined;
  const start = Number(m[1]) * 60 + Number(m[2]);
  const end = Number(m[3]) * 60 + Number(m[4]);
  return start === end || end > 1440 ? undefined : { start, end };
}

function riyadhMidnight(d: Date): number {
  const local = d.getTime() + RIYADH_OFFSET_MS;
  return local - (((local % DAY_MS) + DAY_MS) % DAY_MS) - RIYADH_OFFSET_MS;
}

/**
 * The first moment at or after `at` inside the staff's hours on a working day (not a weekend
 * day, not a holiday). Hours that wrap midnight are not staff hours and are read as `start`-24:00.
 *
 * @example
 *   // Thursday 02:00 Riyadh, hours 07:30-15:30 → Thursday 07:30; Thursday 16:00 → Sunday 07:30
 *   staffSendTime(new Date("2026-11-25T23:00:00Z"), { start: 450, end: 930 }, []) // 2026-11-26T04:30:00Z
 */
export function staffSendTime(at: Date, hours: DayWindow, holidays: string[]): Date {
  const end = hours.end > hours.start ? hours.end : 1440;
  const first = riyadhMidnight(at);
  for (let day = 0; day < 800; day++) {
    const midnight = new Date(first + day * DAY_MS);
    if (!isWorkingDay(midnight, { holidays })) continue;
    const open = midnight.getTime() + hours.start * 60_000;
    if (at.getTime() < midnight.getTime() + end * 60_000) return new Date(Math.max(open, at.getTime()));
  }
  return at; // holidays covering two years: better sent than lost
}

/**
 * `at`, or the end of the citizens' quiet window when `at` falls inside it.
 *
 * @example
 *   citizenSendTime(new Date("2026-11-25T20:30:00Z"), { start: 1320, end: 420 }) // 23:30 Riyadh → 2026-11-26T04:00:00Z (07:00)
 */
export function citizenSendTime(at: Date, quiet: DayWindow | undefined): Date {
  if (!quiet) return at;
  const midnight = riyadhMidnight(at);
  const minute = (at.getTime() - midnight) / 60_000;
  const wraps = quiet.end < quiet.start;
  if (wraps && minute >= quiet.start) return new Date(midnight + DAY_MS + quiet.end * 60_000);
  if ((wraps && minute < quiet.end) || (!wraps && minute >= quiet.start && minute < quiet.end)) return new Date(midnight + quiet.end * 60_000);
  return at;
}

/** The roles written to as staff (the office's employees, managers and escalation contacts). */
export const STAFF_ROLES: readonly Role[] = ["employee", "manager", "escalation"];

/** The node's defaults (STAFF_SMS_HOURS, CITIZEN_QUIET_HOURS). */
export interface SendingHours {
  /** Unset: staff are written to at any time (STAFF_SMS_HOURS=always). */
  staff?: DayWindow;
  citizenQuiet?: DayWindow;
}

let hours: SendingHours = { staff: { start: 450, end: 930 } };

/** Set once at node start from the configuration. */
export function setSendingHours(h: SendingHours): void {
  hours = h;
}

/**
 * When a message for `role` queued at `now` may be sent. Inquiry answers go at once: the
 * citizen has just asked.
 *
 * @example
 *   sendTime("employee", now, { departmentHours: "08:00-14:00", holidays: ["2026-11-29"] })
 */
export function sendTime(role: Role, now: Date, opts: { departmentHours?: string; holidays: string[] }): Date {
  if (STAFF_ROLES.includes(role)) {
    const staff = parseWindow(opts.departmentHours) ?? hours.staff;
    return staff ? staffSendTime(now, staff, opts.holidays) : now;
  }
  if (role === "citizen") return citizenSendTime(now, hours.citizenQuiet);
  return now;
}

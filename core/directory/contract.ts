// Validation of the directory's documents (departments, employees, agencies).
import type { FieldError } from "../events/contract.ts";
import { clientError } from "../platform/errors.ts";
import { normalizeSaudiMobile } from "../text/normalize.ts";
import { safeText } from "../sms/text.ts";
import { parseWindow } from "../sms/sending-hours.ts";
import { INTERNAL_DEFAULTS } from "../followup/policy.ts";
import { DEFAULT_NOTIFICATIONS, notificationSwitches, type NotificationSwitches } from "../sms/switches.ts";

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
export const CODE = /^[A-Za-z0-9_.\-]{1,64}$/;

/**
 * A directory key from a path or cursor (a department or agency code, an employee id); a 400
 * INVALID_CODE naming `what` otherwise.
 *
 * @example
 *   parseCode("MOI", "agency code") // "MOI"
 *   parseCode("a b", "agency code") // throws 400 INVALID_CODE "The agency code must be 1 to 64 letters, …"
 */
export function parseCode(value: unknown, what: string): string {
  if (typeof value !== "string" || !CODE.test(value)) {
    throw clientError(400, "INVALID_CODE", `The ${what} must be 1 to 64 letters, digits, '.', '_' or '-'`);
  }
  return value;
}

class V {
  errors: FieldError[] = [];
  fail(field: string, message: string): undefined {
    this.errors.push({ field, message });
    return undefined;
  }
  text(o: Obj, key: string, field: string, required = true, max = 200): string | undefined {
    const v = o[key];
    if (v === undefined || v === null || v === "") return required ? this.fail(field, "is required") : undefined;
    if (typeof v !== "string" || v.trim() === "") return this.fail(field, "must be a non-empty string");
    if (v.length > max) return this.fail(field, `must be at most ${max} characters`);
    return v.trim();
  }
  names(o: Obj, key: string, field: string): { ar: string; en: string } | undefined {
    const v = o[key];
    if (!isObj(v)) return this.fail(field, "is required: { ar, en }");
    // Department and agency names are rendered into SMS (an agency's to citizens): one line, no links.
    const [ar, en] = (["ar", "en"] as const).map((lang) => {
      const t = this.text(v, lang, `${field}.${lang}`);
      if (t === undefined) return undefined;
      const r = safeText(t, 200);
      return r.ok ? r.value : this.fail(`${field}.${lang}`, r.message);
    });
    return ar && en ? { ar, en } : undefined;
  }
  mobile(o: Obj, key: string, field: string, required = true): string | undefined {
    const v = o[key];
    if (v === undefined || v === null || v === "") return required ? this.fail(field, "is required") : undefined;
    return normalizeSaudiMobile(v) ?? this.fail(field, "must be a Saudi mobile number (05XXXXXXXX, 9665XXXXXXXX or +9665XXXXXXXX)");
  }
  int(o: Obj, key: string, field: string, min: number, max: number, def: number): number | undefined {
    const v = o[key];
    if (v === undefined || v === null) return def;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) return this.fail(field, `must be a whole number from ${min} to ${max}`);
    return v;
  }
  unknown(o: Obj, known: string[], prefix = "") {
    for (const k of Object.keys(o)) if (!known.includes(k)) this.fail(prefix + k, "is not a known field");
  }
}

export interface DepartmentInput {
  name: { ar: string; en: string };
  manager: { name: string; mobile: string };
  replyPeriodDays: number;
  replyPeriodKind: "calendar" | "working";
  reminderEveryDays: number;
  maxReminders: number;
  escalation?: { name: string; mobile: string };
  smsHours?: string;
  notifications: NotificationSwitches;
  internalFollowup: { periodDays: number; reminderEveryDays: number; maxReminders: number };
}

/** `{ name: { ar, en }, manager: { name, mobile }, replyPeriodDays?, replyPeriodKind?, reminderEveryDays?, maxReminders?, escalation?, smsHours?, notifications?, internalFollowup?: { periodDays?, reminderEveryDays?, maxReminders? } }` */
export function validateDepartment(body: unknown, defaultPeriod: number): { value?: DepartmentInput; errors: FieldError[] } {
  const v = new V();
  if (!isObj(body)) return { errors: [{ field: "body", message: "must be a JSON object" }] };
  v.unknown(body, ["name", "manager", "replyPeriodDays", "replyPeriodKind", "reminderEveryDays", "maxReminders", "escalation", "smsHours", "notifications", "internalFollowup"]);
  const name = v.names(body, "name", "name");
  let manager: DepartmentInput["manager"] | undefined;
  if (!isObj(body.manager)) v.fail("manager", "is required: { name, mobile }");
  else {
    const n = v.text(body.manager, "name", "manager.name");
    const m = v.mobile(body.manager, "mobile", "manager.mobile");
    if (n && m) manager = { name: n, mobile: m };
  }
  const replyPeriodDays = v.int(body, "replyPeriodDays", "replyPeriodDays", 1, 365, defaultPeriod);
  const kind = body.replyPeriodKind ?? "calendar";
  if (kind !== "calendar" && kind !== "working") v.fail("replyPeriodKind", "must be calendar or working");
  const reminderEveryDays = v.int(body, "reminderEveryDays", "reminderEveryDays", 1, 365, 3);
  const maxReminders = v.int(body, "maxReminders", "maxReminders", 0, 100, 3);
  let escalation: DepartmentInput["escalation"];
  if (body.escalation !== undefined && body.escalation !== null) {
    if (!isObj(body.escalation)) v.fail("escalation", "must be { name, mobile }");
    else {
      const n = v.text(body.escalation, "name", "escalation.name");
      const m = v.mobile(body.escalation, "mobile", "escalation.mobile");
      if (n && m) escalation = { name: n, mobile: m };
    }
  }
  const smsHours = body.smsHours ?? undefined;
  if (smsHours !== undefined && !parseWindow(smsHours)) v.fail("smsHours", "must be HH:MM-HH:MM (Riyadh time), e.g. 07:30-15:30");
  // Switches given are set, the others keep their defaults: `{ "closed": true }`.
  const notifications = body.notifications ?? {};
  if (!isObj(notifications)) v.fail("notifications", `must be an object of true/false by event type (${Object.keys(DEFAULT_NOTIFICATIONS).join(", ")})`);
  else {
    for (const [k, on] of Object.entries(notifications)) {
      if (!Object.hasOwn(DEFAULT_NOTIFICATIONS, k)) v.fail(`notifications.${k}`, `is not a notification (${Object.keys(DEFAULT_NOTIFICATIONS).join(", ")})`);
      else if (typeof on !== "boolean") v.fail(`notifications.${k}`, "must be true or false");
    }
  }
  // Working days from assignment to the employee's notice, between reminders, and how many before the manager is told.
  let internalFollowup: DepartmentInput["internalFollowup"] | undefined;
  const internal = body.internalFollowup ?? {};
  if (!isObj(internal)) v.fail("internalFollowup", "must be { periodDays?, reminderEveryDays?, maxReminders? }");
  else {
    v.unknown(internal, ["periodDays", "reminderEveryDays", "maxReminders"], "internalFollowup.");
    const periodDays = v.int(internal, "periodDays", "internalFollowup.periodDays", 1, 365, INTERNAL_DEFAULTS.periodDays);
    const every = v.int(internal, "reminderEveryDays", "internalFollowup.reminderEveryDays", 1, 365, INTERNAL_DEFAULTS.reminderEveryDays);
    const max = v.int(internal, "maxReminders", "internalFollowup.maxReminders", 0, 100, INTERNAL_DEFAULTS.maxReminders);
    if (periodDays !== undefined && every !== undefined && max !== undefined) internalFollowup = { periodDays, reminderEveryDays: every, maxReminders: max };
  }
  if (v.errors.length || !internalFollowup || !name || !manager || replyPeriodDays === undefined || reminderEveryDays === undefined || maxReminders === undefined) {
    return { errors: v.errors };
  }
  return {
    value: { name, manager, replyPeriodDays, replyPeriodKind: kind as "calendar" | "working", reminderEveryDays, maxReminders, ...(escalation ? { escalation } : {}), ...(smsHours ? { smsHours: smsHours as string } : {}), notifications: notificationSwitches(notifications as Obj), internalFollowup },
    errors: [],
  };
}

/** An employee as stored: `manager` and `active` default to false and true. */
export interface EmployeeInput {
  name: string;
  mobile: string;
  departmentCode: string;
  manager: boolean;
  active: boolean;
}

/** `{ name, mobile, departmentCode, manager?, active? }` */
export function validateEmployee(body: unknown): { value?: EmployeeInput; errors: FieldError[] } {
  const v = new V();
  if (!isObj(body)) return { errors: [{ field: "body", message: "must be a JSON object" }] };
  v.unknown(body, ["name", "mobile", "departmentCode", "manager", "active"]);
  const name = v.text(body, "name", "name");
  const mobile = v.mobile(body, "mobile", "mobile");
  const departmentCode = v.text(body, "departmentCode", "departmentCode", true, 64);
  if (departmentCode && !CODE.test(departmentCode)) v.fail("departmentCode", "letters, digits, '.', '_' or '-' only");
  const flag = (key: "manager" | "active", def: boolean) => {
    const f = body[key] ?? def;
    return typeof f === "boolean" ? f : v.fail(key, "must be true or false");
  };
  const manager = flag("manager", false);
  const active = flag("active", true);
  if (v.errors.length || !name || !mobile || !departmentCode || manager === undefined || active === undefined) return { errors: v.errors };
  return { value: { name, mobile, departmentCode, manager, active }, errors: [] };
}

/** `{ name: { ar, en } }` */
export function validateAgency(body: unknown): { value?: { name: { ar: string; en: string } }; errors: FieldError[] } {
  const v = new V();
  if (!isObj(body)) return { errors: [{ field: "body", message: "must be a JSON object" }] };
  v.unknown(body, ["name"]);
  const name = v.names(body, "name", "name");
  if (v.errors.length || !name) return { errors: v.errors };
  return { value: { name }, errors: [] };
}

// The staff API's writes and reads of the directory (departments, employees, agencies,
// holidays): what a document must hold, what it depends on, how it is shown, and which changes
// matter to the follow-up. The caller announces the change (see events.ts).
import { clientError } from "../platform/errors.ts";
import { agencySecretSummaries } from "../agencies/secrets.ts";
import { AgencyModel } from "../agencies/models.ts";
import { INTERNAL_DEFAULTS } from "../followup/policy.ts";
import { notificationSwitches } from "../sms/switches.ts";
import { isCalendarDate } from "../text/calendar.ts";
import { parseCode, validateAgency, validateDepartment, validateEmployee, type DepartmentInput } from "./contract.ts";
import { DepartmentModel, EmployeeModel, HolidayModel } from "./models.ts";

/** The most documents one page of a directory list holds. */
export const MAX_PAGE = 500;

/** A written document: shown as the API shows it, and whether it is new (201) or replaced (200). */
export interface Written<T> {
  doc: T;
  created: boolean;
}

function invalid(errors: { field: string; message: string }[]) {
  return clientError(400, "INVALID_BODY", `${errors.length} invalid field(s)`, { details: errors });
}

function notFound(what: string, id: string) {
  return clientError(404, `${what.toUpperCase()}_NOT_FOUND`, `No ${what} ${id}`);
}

/** A document as the API shows it: its key under its own name, not MongoDB's `_id`. */
function withoutId<T extends { _id?: unknown }>(doc: T | null): Omit<T, "_id"> {
  const { _id, ...rest } = doc ?? ({} as T);
  return rest;
}

/** A department as the API shows it: its code, and its switches in full (defaults included). */
function departmentView(code: string, doc: any) {
  return { code, ...withoutId(doc), notifications: notificationSwitches(doc?.notifications), internalFollowup: { ...INTERNAL_DEFAULTS, ...doc?.internalFollowup } };
}

/** An agency as the API shows it: its secrets listed (ids and dates, never the secrets). */
async function agencyView(a: any) {
  const { _id, ...rest } = a;
  return { ...rest, code: _id, secrets: await agencySecretSummaries(_id) };
}

/**
 * Whether a department's new version changes what is pending (its reply period, reminders,
 * internal follow-up or manager): the pending items are then re-timed.
 *
 * @example
 *   followupPolicyChanged({ ...dept, replyPeriodDays: 10 }, { ...dept, replyPeriodDays: 15 }) // true
 */
export function followupPolicyChanged(before: Partial<DepartmentInput> | null, after: DepartmentInput): boolean {
  return (
    !before ||
    before.replyPeriodDays !== after.replyPeriodDays ||
    before.replyPeriodKind !== after.replyPeriodKind ||
    before.reminderEveryDays !== after.reminderEveryDays ||
    before.maxReminders !== after.maxReminders ||
    JSON.stringify(before.internalFollowup ?? null) !== JSON.stringify(after.internalFollowup) ||
    before.manager?.mobile !== after.manager.mobile
  );
}

/**
 * A page's bounds from the query: `limit` 1 to 500 (default 100), `after` the last key of the
 * previous page; 400 INVALID_LIMIT or INVALID_CODE otherwise.
 */
export function parsePage(query: { limit?: unknown; after?: unknown } = {}): { limit: number; after?: string } {
  const limit = query.limit === undefined ? 100 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw clientError(400, "INVALID_LIMIT", `limit must be a whole number from 1 to ${MAX_PAGE}`);
  }
  return { limit, ...(query.after === undefined ? {} : { after: parseCode(query.after, "after cursor") }) };
}

/** One page of a collection in `_id` order under `key`; `next` is set while more may follow. */
async function page(model: { find(filter: object): any }, key: string, show: (doc: any) => unknown, { limit, after }: { limit: number; after?: string }) {
  const docs: any[] = await model.find(after === undefined ? {} : { _id: { $gt: after } }).sort({ _id: 1 }).limit(limit).lean();
  const items = await Promise.all(docs.map(show));
  return { [key]: items, ...(docs.length === limit ? { next: String(docs[docs.length - 1]._id) } : {}) };
}

/**
 * Creates or replaces a department; `policyChanged` when what is pending must be re-timed.
 *
 * @example
 *   const { doc, created, policyChanged } = await putDepartment("LEGAL", body, 10);
 */
export async function putDepartment(code: string, body: unknown, defaultPeriod: number): Promise<Written<ReturnType<typeof departmentView>> & { policyChanged: boolean }> {
  const { value, errors } = validateDepartment(body, defaultPeriod);
  if (!value) throw invalid(errors);
  const before = await DepartmentModel.findById(code).lean();
  const doc = await DepartmentModel.findOneAndReplace({ _id: code }, { _id: code, ...value, updatedAt: new Date() }, { upsert: true, returnDocument: "after" }).lean();
  return { doc: departmentView(code, doc), created: !before, policyChanged: followupPolicyChanged(before as Partial<DepartmentInput> | null, value) };
}

export async function getDepartment(code: string) {
  const doc = await DepartmentModel.findById(code).lean();
  if (!doc) throw notFound("department", code);
  return departmentView(code, doc);
}

export const listDepartments = (bounds: { limit: number; after?: string }) => page(DepartmentModel, "departments", (d) => ({ code: d._id, ...withoutId(d) }), bounds);

/** Creates or replaces an employee, whose department must be in the directory (their SMS name it). */
export async function putEmployee(id: string, body: unknown) {
  const { value, errors } = validateEmployee(body);
  if (!value) throw invalid(errors);
  if (!(await DepartmentModel.exists({ _id: value.departmentCode }))) {
    throw clientError(400, "DEPARTMENT_NOT_FOUND", `No department ${value.departmentCode}: create it first (PUT /api/v1/departments/${value.departmentCode}), then retry`, {
      details: [{ field: "departmentCode", message: "is not a department in the directory" }],
    });
  }
  const before = await EmployeeModel.exists({ _id: id });
  const doc = await EmployeeModel.findOneAndReplace({ _id: id }, { _id: id, ...value, updatedAt: new Date() }, { upsert: true, returnDocument: "after" }).lean();
  return { doc: { id, ...withoutId(doc) }, created: !before };
}

export async function getEmployee(id: string) {
  const doc = await EmployeeModel.findById(id).lean();
  if (!doc) throw notFound("employee", id);
  return { id, ...withoutId(doc) };
}

export const listEmployees = (bounds: { limit: number; after?: string }) => page(EmployeeModel, "employees", (e) => ({ id: e._id, ...withoutId(e) }), bounds);

/** Creates an agency or renames it; its secrets are managed on their own endpoint and survive. */
export async function putAgency(code: string, body: unknown) {
  const { value, errors } = validateAgency(body);
  if (!value) throw invalid(errors);
  const before = await AgencyModel.exists({ _id: code });
  const doc = await AgencyModel.findOneAndUpdate({ _id: code }, { $set: { name: value.name, updatedAt: new Date() } }, { upsert: true, returnDocument: "after" }).lean();
  return { doc: await agencyView(doc), created: !before };
}

export async function getAgency(code: string) {
  const doc = await AgencyModel.findById(code).lean();
  if (!doc) throw notFound("agency", code);
  return agencyView(doc);
}

export const listAgencies = (bounds: { limit: number; after?: string }) => page(AgencyModel, "agencies", agencyView, bounds);

/** The route's holiday date; a day the calendar does not have (2026-02-30) is a 400. */
export function parseHolidayDate(date: unknown): string {
  if (!isCalendarDate(date)) throw clientError(400, "INVALID_DATE", "The holiday date must be a real Gregorian calendar date, YYYY-MM-DD (not retryable as is)");
  return date;
}

export async function listHolidays() {
  const docs = await HolidayModel.find({}).sort({ _id: 1 }).lean();
  return { holidays: docs.map((h) => ({ date: h._id, name: h.name })) };
}

/** Adds or renames a holiday: `{ name? }` (at most 200 characters). */
export async function putHoliday(date: string, body: unknown): Promise<{ date: string; name: string }> {
  const name = (body as { name?: unknown } | undefined)?.name;
  if (name !== undefined && (typeof name !== "string" || name.length > 200)) {
    throw clientError(400, "INVALID_BODY", "name must be a string of at most 200 characters", { details: [{ field: "name", message: "must be a string" }] });
  }
  await HolidayModel.updateOne({ _id: date }, { $set: { name: name ?? "" } }, { upsert: true });
  return { date, name: name ?? "" };
}

export async function deleteHoliday(date: string): Promise<{ date: string; deleted: true }> {
  const r = await HolidayModel.deleteOne({ _id: date });
  if (!r.deletedCount) throw clientError(404, "HOLIDAY_NOT_FOUND", `No holiday on ${date}`);
  return { date, deleted: true };
}

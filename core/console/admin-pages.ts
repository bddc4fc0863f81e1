/**
 * The console's pages for employees, agencies' names, holidays and API keys (administrators),
 * and "my employees" (department managers). Changes go through the actions behind the staff
 * API (`directory.putEmployee`, `directory.putAgency`, `followup.putHoliday`,
 * `followup.deleteHoliday`) or the functions behind the API's own key check
 * (core/stored-api-keys.ts), so a refusal is the API's, shown as a 400 page naming the field;
 * each change is audited with before and after.
 *
 * Routes: `GET team`, `GET employees`, `GET employees/new`, `GET employees/:id/edit`,
 * `POST employees`, `POST employees/:id`, `POST agencies/:code/name`, `GET holidays`,
 * `POST holidays`, `POST holidays/:date/remove`, `GET api-keys`, `POST api-keys`,
 * `POST api-keys/:id/revoke`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServiceBroker } from "moleculer";
import type { Config } from "../platform/config.ts";
import type { Ctx, Req } from "./pages.ts";
import type { Lang } from "../text/lang.ts";
import type { Session } from "./sessions.ts";
import { clock } from "../platform/clock.ts";
import { CODE } from "../directory/contract.ts";
import { DepartmentModel, EmployeeModel, HolidayModel } from "../directory/models.ts";
import { AgencyModel } from "../agencies/models.ts";
import { isCalendarDate, riyadhDateKey } from "../text/calendar.ts";
import { maskMobile } from "../text/normalize.ts";
import { safeText } from "../sms/text.ts";
import { SCOPES, type Scope } from "../platform/api-keys.ts";
import { API_KEYS_CHANGED, createStoredKey, listStoredKeys, revokeStoredKey } from "../platform/stored-api-keys.ts";
import { can, type StaffUser } from "./accounts.ts";
import { audit } from "./audit.ts";
import { monthGrid } from "./calendar.ts";
import { MONTH, monthOf } from "./report.ts";
import { employeeHeld, teamPage } from "./team.ts";
import { MESSAGES, STRINGS } from "./strings.ts";
import { SCOPE_NAMES, WEEKDAYS } from "./admin-strings.ts";

type Handler = (this: { broker: ServiceBroker; logger: any }, req: Req, res: ServerResponse) => Promise<void>;

/** What pages.ts lends these pages: its page wrappers and answers. */
export interface ConsoleKit {
  config: Config;
  page(fn: (c: Ctx) => Promise<void>): Handler;
  pageFor(right: (u: StaffUser) => boolean, render: (c: Ctx, s: Session) => Promise<void>): Handler;
  posted(c: Ctx): Promise<Session | undefined>;
  notAllowed(c: Ctx, s: Session): void;
  agenciesPage(c: Ctx, s: Session, status?: number, extra?: Record<string, unknown>): Promise<void>;
  send(c: Ctx, status: number, name: string, data: Record<string, unknown>, session?: Session): void;
  refuse(c: Ctx, status: number, message: { ar: string; en: string }, session?: Session): void;
  redirect(c: Ctx, location: string): void;
  query(req: IncomingMessage): URLSearchParams;
  form(req: Req): Record<string, string>;
}

/** Rows per page of the employees list and of the API keys. */
export const EMPLOYEES_PAGE = 50;
export const KEYS_PAGE = 50;

const PAGE_NO = /^\d{1,6}$/;
const KEY_ID = /^[0-9a-f-]{36}$/;
const NOT_FOUND = { ar: STRINGS.ar.notFound, en: STRINGS.en.notFound };

/** A form's fields by the API's names, as the form labels them. */
const FIELD_LABELS = (lang: Lang): Record<string, string> => {
  const t = STRINGS[lang];
  return { id: t.employeeId, name: t.name, mobile: t.mobile, departmentCode: t.department, "name.ar": t.nameAr, "name.en": t.nameEn, date: t.date, scopes: t.scopes };
};

/** `رقم الجوال — mobile: must be …`: the field as the form labels it, and as the API names it. */
const fieldSaid = (lang: Lang, field: string, message: string) => {
  const label = FIELD_LABELS(lang)[field];
  return `${label ? `${label} — ` : ""}${field}: ${message}`;
};

/** A refusal by an action (the API's validation): its text naming the fields, and the fields; undefined for anything else. */
export function refusalOf(err: any, lang: Lang, fieldOfCode: Record<string, string> = {}): { text: string; fields: Set<string> } | undefined {
  if (!(err?.code >= 400 && err?.code < 500)) return undefined;
  const details: Array<{ field: string; message: string }> = Array.isArray(err.data?.details) ? err.data.details : [];
  const field = fieldOfCode[err.type];
  const named = details.length ? details : field ? [{ field, message: err.message }] : [];
  const said = named.length ? named.map((d) => fieldSaid(lang, d.field, d.message)).join("; ") : err.message;
  return { text: `${MESSAGES.badInput[lang]} ${said}`, fields: new Set(named.map((d) => d.field)) };
}

const flags = (fields: Set<string>, names: string[]) => Object.fromEntries(names.map((n) => [n, [...fields].some((f) => f === n || f.startsWith(`${n}.`))]));

/** The console's administration routes (spread into the console's aliases). */
export function adminRoutes(kit: ConsoleKit): Record<string, Handler> {
  const { send, refuse, redirect, query, form } = kit;

  /** A form post by an administrator with the session's CSRF token (answered otherwise). */
  const adminPost = (fn: (c: Ctx, s: Session) => Promise<void>) =>
    kit.page(async (c) => {
      const s = await kit.posted(c);
      if (!s) return;
      if (!can.administer(s.user)) return kit.notAllowed(c, s);
      await fn(c, s);
    });

  const departmentOptions = async (c: Ctx, selected: string, only?: string[]) => {
    const docs = await DepartmentModel.find(only ? { _id: { $in: only } } : {}, { name: 1 }).sort({ _id: 1 }).limit(500).lean();
    return docs.map((d) => ({ code: d._id, label: d.name?.[c.lang] || d._id, selected: d._id === selected }));
  };

  const pager = (base: string, params: Record<string, string>, page: number, hasNext: boolean) => {
    const link = (p: number) => `${base}?${new URLSearchParams({ ...Object.fromEntries(Object.entries(params).filter(([, v]) => v)), page: String(p) })}`;
    return { pageNumber: page + 1, prevHref: page > 0 ? link(page - 1) : "", nextHref: hasNext ? link(page + 1) : "" };
  };

  // ----------------------------------------------------------------- my employees

  const teamView = async (c: Ctx, s: Session) => {
    const q = query(c.req);
    const employee = q.get("employee") ?? "";
    const department = q.get("department") ?? "";
    const pageNo = q.get("page") ?? "0";
    if ((employee && !CODE.test(employee)) || (department && !CODE.test(department)) || !PAGE_NO.test(pageNo)) return refuse(c, 400, MESSAGES.badInput, s);
    const page = Number(pageNo);
    const now = clock.now();
    const period = kit.config.defaultReplyPeriodDays;
    if (employee) {
      const one = await employeeHeld(s.user, employee, page, now, c.lang, period);
      if (!one) return refuse(c, 404, NOT_FOUND, s);
      if (one === "forbidden") return kit.notAllowed(c, s);
      return send(c, 200, "team", { one: one.member, members: [], departments: [], ...pager("/console/team", { employee }, page, one.hasNext) }, s);
    }
    const team = await teamPage(s.user, { department: department || undefined, page }, now, c.lang, period);
    if (!team) return kit.notAllowed(c, s);
    send(c, 200, "team", {
      one: false,
      // Transactions are listed longest held first: the first is the longest.
      members: team.members.map((m) => ({ ...m, more: m.openCount > m.transactions.length, longest: m.transactions.find((x) => x.assignedAt) ?? false })),
      departments: await departmentOptions(c, department, s.user.role === "manager" ? (s.user.departments ?? []) : undefined),
      ...pager("/console/team", { department }, page, team.hasNext),
    }, s);
  };

  // -------------------------------------------------------------------- employees

  const employeesList = async (c: Ctx, s: Session) => {
    const q = query(c.req);
    const department = q.get("department") ?? "";
    const status = q.get("status") ?? "";
    const pageNo = q.get("page") ?? "0";
    if ((department && !CODE.test(department)) || !["", "active", "inactive"].includes(status) || !PAGE_NO.test(pageNo)) return refuse(c, 400, MESSAGES.badInput, s);
    const page = Number(pageNo);
    const match = {
      ...(department ? { departmentCode: department } : {}),
      ...(status === "active" ? { active: { $ne: false } } : status === "inactive" ? { active: false } : {}),
    };
    // Through the (departmentCode, _id) index, one row more to know if there is a next page.
    const docs = await EmployeeModel.find(match).sort({ departmentCode: 1, _id: 1 }).skip(page * EMPLOYEES_PAGE).limit(EMPLOYEES_PAGE + 1).lean();
    const departments = await departmentOptions(c, department);
    const labels = new Map(departments.map((d) => [d.code, d.label]));
    send(c, 200, "employees", {
      employees: docs.slice(0, EMPLOYEES_PAGE).map((e) => ({ id: e._id, name: e.name, mobile: maskMobile(e.mobile), department: labels.get(e.departmentCode) ?? e.departmentCode, manager: !!e.manager, active: e.active !== false })),
      departments,
      filter: { status },
      notice: q.get("saved") ? STRINGS[c.lang].saved : "",
      ...pager("/console/employees", { department, status }, page, docs.length > EMPLOYEES_PAGE),
    }, s);
  };

  interface EmployeeValues { id: string; name: string; mobile: string; departmentCode: string; manager: boolean; active: boolean }
  const employeeForm = async (c: Ctx, s: Session, status: number, values: EmployeeValues, isNew: boolean, error = "", fields = new Set<string>()) => {
    send(c, status, "employee", {
      isNew,
      heading: isNew ? STRINGS[c.lang].newEmployee : STRINGS[c.lang].editEmployee,
      values,
      action: isNew ? "/console/employees" : `/console/employees/${encodeURIComponent(values.id)}`,
      departments: await departmentOptions(c, values.departmentCode),
      invalid: flags(fields, ["id", "name", "mobile", "departmentCode", "manager", "active"]),
      error,
    }, s);
  };

  const editForm = async (c: Ctx, s: Session) => {
    const id = String(c.req.$params?.id ?? "");
    const e = CODE.test(id) ? await EmployeeModel.findById(id).lean() : null;
    if (!e) return refuse(c, 404, NOT_FOUND, s);
    await employeeForm(c, s, 200, { id, name: e.name, mobile: e.mobile, departmentCode: e.departmentCode, manager: !!e.manager, active: e.active !== false }, false);
  };

  /** Saves an employee through the API's action; answers the refusal as the form again (400) naming the field. */
  const saveEmployee = async (c: Ctx, s: Session, id: string, isNew: boolean) => {
    const f = form(c.req);
    const values: EmployeeValues = { id, name: f.name ?? "", mobile: f.mobile ?? "", departmentCode: f.departmentCode ?? "", manager: f.manager === "1", active: f.active === "1" };
    const before = CODE.test(id) ? await EmployeeModel.findById(id).lean() : null;
    if (isNew && before) return employeeForm(c, s, 400, values, true, `${MESSAGES.badInput[c.lang]} ${fieldSaid(c.lang, "id", STRINGS[c.lang].idTaken)}`, new Set(["id"]));
    if (!isNew && !before) return refuse(c, 404, NOT_FOUND, s);
    const { id: _, ...body } = values;
    let saved: Record<string, unknown>;
    try {
      saved = await c.broker.call("directory.putEmployee", { params: { id }, body });
    } catch (err) {
      const r = refusalOf(err, c.lang, { INVALID_CODE: "id" });
      if (r) return employeeForm(c, s, 400, values, isNew, r.text, r.fields);
      throw err;
    }
    const shown = (e: any) => e && { name: e.name, mobile: e.mobile, departmentCode: e.departmentCode, manager: !!e.manager, active: e.active !== false };
    await audit({ actor: s.user.username, action: isNew ? "employee-created" : "employee-updated", target: `employee:${id}`, before: shown(before), after: shown(saved), ip: c.ip });
    redirect(c, `/console/employees?saved=1&department=${encodeURIComponent(values.departmentCode)}`);
  };

  // ------------------------------------------------------------------- holidays

  const holidaysPage = async (c: Ctx, s: Session, status = 200, extra: { month?: string; error?: string; values?: { date: string; name: string }; fields?: Set<string> } = {}) => {
    const q = query(c.req);
    const month = extra.month ?? (q.get("month") || monthOf(clock.now()));
    if (!MONTH.test(month)) return refuse(c, 400, MESSAGES.badInput, s);
    // The month's holidays through the _id index (dates sort as text).
    const docs = await HolidayModel.find({ _id: { $gte: `${month}-01`, $lte: `${month}-31` } }).sort({ _id: 1 }).lean();
    const grid = monthGrid(month, new Map(docs.map((h) => [h._id, h.name ?? ""])), c.lang, riyadhDateKey(clock.now()));
    const words = STRINGS[c.lang];
    send(c, status, "holidays", {
      grid,
      weekdays: WEEKDAYS[c.lang],
      holidays: docs.map((h) => ({ date: h._id, name: h.name ?? "", at: new Date(`${h._id}T09:00:00Z`) })),
      values: extra.values ?? { date: q.get("date") && isCalendarDate(q.get("date")) ? q.get("date") : "", name: "" },
      invalid: flags(extra.fields ?? new Set(), ["date", "name"]),
      prevHref: `/console/holidays?month=${grid.prev}`,
      nextHref: `/console/holidays?month=${grid.next}`,
      notice: q.get("added") ? words.holidayAdded : q.get("removed") ? words.holidayRemoved : "",
      error: extra.error ?? "",
    }, s);
  };

  // ------------------------------------------------------------------- API keys

  const keysPage = async (c: Ctx, s: Session, status = 200, extra: { created?: { key: string; fingerprint: string }; error?: string; values?: { name: string; scopes: Scope[] }; fields?: Set<string> } = {}) => {
    const q = query(c.req);
    const pageNo = q.get("page") ?? "0";
    if (!PAGE_NO.test(pageNo)) return refuse(c, 400, MESSAGES.badInput, s);
    const page = Number(pageNo);
    const { keys, hasNext } = await listStoredKeys(page, KEYS_PAGE);
    const words = STRINGS[c.lang];
    const chosen = new Set(extra.values?.scopes ?? []);
    send(c, status, "api-keys", {
      keys: keys.map((k) => ({ ...k, createdBy: k.createdBy ?? "", scopeList: k.scopes.join(" + "), active: !k.revokedAt, revokedAt: k.revokedAt ?? "" })),
      scopes: SCOPES.map((scope) => ({ scope, label: SCOPE_NAMES[c.lang][scope], checked: chosen.has(scope) })),
      values: { name: extra.values?.name ?? "" },
      created: extra.created ?? false,
      invalid: flags(extra.fields ?? new Set(), ["name", "scopes"]),
      notice: q.get("revoked") ? words.keyRevoked : "",
      error: extra.error ?? "",
      ...pager("/console/api-keys", {}, page, hasNext),
    }, s);
  };

  return {
    "GET team": kit.pageFor(can.seeTeam, teamView),

    "GET employees": kit.pageFor(can.administer, employeesList),
    "GET employees/new": kit.pageFor(can.administer, async (c, s) => {
      const department = query(c.req).get("department") ?? "";
      await employeeForm(c, s, 200, { id: "", name: "", mobile: "", departmentCode: CODE.test(department) ? department : "", manager: false, active: true }, true);
    }),
    "GET employees/:id/edit": kit.pageFor(can.administer, editForm),
    "POST employees": adminPost((c, s) => saveEmployee(c, s, (form(c.req).id ?? "").trim(), true)),
    "POST employees/:id": adminPost((c, s) => saveEmployee(c, s, String(c.req.$params?.id ?? ""), false)),

    "POST agencies/:code/name": adminPost(async (c, s) => {
      const code = String(c.req.$params?.code ?? "");
      const before = CODE.test(code) ? await AgencyModel.findById(code).lean() : null;
      if (!before) return refuse(c, 404, NOT_FOUND, s);
      const f = form(c.req);
      const name = { ar: f.nameAr ?? "", en: f.nameEn ?? "" };
      let saved: { name: { ar: string; en: string } };
      try {
        saved = await c.broker.call("directory.putAgency", { params: { code }, body: { name } });
      } catch (err) {
        const r = refusalOf(err, c.lang);
        if (r) return kit.agenciesPage(c, s, 400, { forAgency: code, error: r.text, nameValues: name, nameInvalid: flags(r.fields, ["name.ar", "name.en"]) });
        throw err;
      }
      await audit({ actor: s.user.username, action: "agency-updated", target: `agency:${code}`, before: { name: { ar: before.name?.ar, en: before.name?.en } }, after: { name: saved.name }, ip: c.ip });
      redirect(c, `/console/agencies?agency=${encodeURIComponent(code)}&saved=1`);
    }),

    "GET holidays": kit.pageFor(can.administer, (c, s) => holidaysPage(c, s)),
    "POST holidays": adminPost(async (c, s) => {
      const f = form(c.req);
      const values = { date: (f.date ?? "").trim(), name: (f.name ?? "").trim() };
      const before = isCalendarDate(values.date) ? await HolidayModel.findById(values.date).lean() : null;
      try {
        await c.broker.call("followup.putHoliday", { params: { date: values.date }, body: values.name ? { name: values.name } : {} });
      } catch (err) {
        const r = refusalOf(err, c.lang, { INVALID_DATE: "date" });
        if (r) return holidaysPage(c, s, 400, { month: isCalendarDate(values.date) ? values.date.slice(0, 7) : undefined, error: r.text, values, fields: r.fields });
        throw err;
      }
      await audit({ actor: s.user.username, action: "holiday-added", target: `holiday:${values.date}`, before: before ? { date: values.date, name: before.name ?? "" } : null, after: values, ip: c.ip });
      redirect(c, `/console/holidays?month=${values.date.slice(0, 7)}&added=${values.date}`);
    }),
    "POST holidays/:date/remove": adminPost(async (c, s) => {
      const date = String(c.req.$params?.date ?? "");
      const before = isCalendarDate(date) ? await HolidayModel.findById(date).lean() : null;
      if (!before) return refuse(c, 404, NOT_FOUND, s);
      try {
        await c.broker.call("followup.deleteHoliday", { params: { date } });
      } catch (err: any) {
        if (err?.code === 404) return refuse(c, 404, NOT_FOUND, s);
        throw err;
      }
      await audit({ actor: s.user.username, action: "holiday-removed", target: `holiday:${date}`, before: { date, name: before.name ?? "" }, after: null, ip: c.ip });
      redirect(c, `/console/holidays?month=${date.slice(0, 7)}&removed=${date}`);
    }),

    "GET api-keys": kit.pageFor(can.administer, (c, s) => keysPage(c, s)),
    "POST api-keys": adminPost(async (c, s) => {
      const f = form(c.req);
      const scopes = SCOPES.filter((scope) => f[`scope.${scope}`] === "1");
      const values = { name: (f.name ?? "").trim(), scopes };
      const name = safeText(values.name, 100);
      const errors = [...(name.ok ? [] : [{ field: "name", message: name.message }]), ...(scopes.length ? [] : [{ field: "scopes", message: "choose at least one" }])];
      if (errors.length) {
        const said = errors.map((e) => fieldSaid(c.lang, e.field, e.message)).join("; ");
        return keysPage(c, s, 400, { error: `${MESSAGES.badInput[c.lang]} ${said}`, values, fields: new Set(errors.map((e) => e.field)) });
      }
      const key = await createStoredKey({ name: values.name, scopes, createdBy: s.user.username });
      await audit({ actor: s.user.username, action: "api-key-created", target: `api-key:${key.fingerprint}`, after: { id: key.id, fingerprint: key.fingerprint, name: key.name, scopes: key.scopes }, ip: c.ip });
      await c.broker.broadcast(API_KEYS_CHANGED);
      // The key is shown in this answer only (no redirect: it is never stored).
      await keysPage(c, s, 201, { created: { key: key.key, fingerprint: key.fingerprint } });
    }),
    "POST api-keys/:id/revoke": adminPost(async (c, s) => {
      const id = String(c.req.$params?.id ?? "");
      const revoked = KEY_ID.test(id) ? await revokeStoredKey(id, s.user.username) : undefined;
      if (!revoked) return refuse(c, 404, NOT_FOUND, s);
      await audit({ actor: s.user.username, action: "api-key-revoked", target: `api-key:${revoked.fingerprint}`, before: { id, active: true }, after: { id, active: false }, ip: c.ip });
      await c.broker.broadcast(API_KEYS_CHANGED);
      redirect(c, "/console/api-keys?revoked=1");
    }),
  };
}

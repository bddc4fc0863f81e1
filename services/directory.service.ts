import type { Context, ServiceSchema } from "moleculer";
import { databaseMixin } from "../core/platform/mixins.ts";
import { agencySecretSummaries } from "../core/agencies/secrets.ts";
import { AgencyModel } from "../core/agencies/models.ts";
import { DepartmentModel, EmployeeModel } from "../core/directory/models.ts";
import { MESSAGE_STATUSES, MessageModel, SmsOptOutModel } from "../core/sms/models.ts";
import { TransactionModel } from "../core/events/models.ts";
import { CODE, validateAgency, validateDepartment, validateEmployee } from "../core/directory/contract.ts";
import { clientError } from "../core/platform/errors.ts";
import { normalizeTransactionNumber, maskMobile, normalizeSaudiMobile } from "../core/text/normalize.ts";
import { configOf } from "../core/platform/broker.ts";
import { announceDirectoryChange } from "../core/directory/events.ts";
import { notificationSwitches } from "../core/sms/switches.ts";
import { INTERNAL_DEFAULTS } from "../core/followup/policy.ts";

/** A path or query parameter (the gateway passes { params, query, body }). */
function param(ctx: Context<any>, name: string): unknown {
  return ctx.params.params?.[name] ?? ctx.params.query?.[name] ?? ctx.params[name];
}

function code(value: unknown, what: string): string {
  if (typeof value !== "string" || !CODE.test(value)) {
    throw clientError(400, "INVALID_CODE", `The ${what} must be 1 to 64 letters, digits, '.', '_' or '-'`);
  }
  return value;
}

/** 201 with its Location for a new document, 200 for a replaced one. */
function created(ctx: Context<any>, existed: unknown, location: string) {
  const meta = ctx.meta as { $statusCode?: number; $location?: string };
  meta.$statusCode = existed ? 200 : 201;
  if (!existed) meta.$location = location;
}

function invalid(errors: { field: string; message: string }[]) {
  return clientError(400, "INVALID_BODY", `${errors.length} invalid field(s)`, { details: errors });
}

/** A department as the API shows it: its code, and its switches in full (defaults included). */
function departmentView(code: string, doc: any) {
  return { code, ...withoutId(doc), notifications: notificationSwitches(doc?.notifications), internalFollowup: { ...INTERNAL_DEFAULTS, ...doc?.internalFollowup } };
}

function notFound(what: string, id: string) {
  return clientError(404, `${what.toUpperCase()}_NOT_FOUND`, `No ${what} ${id}`);
}

/** A document as the API shows it: its key under its own name, not MongoDB's `_id`. */
function withoutId<T extends { _id?: unknown }>(doc: T | null): Omit<T, "_id"> {
  const { _id, ...rest } = doc ?? ({} as T);
  return rest;
}

/** The most documents one page of a directory list holds. */
export const MAX_PAGE = 500;

/**
 * One page of a directory collection in `_id` order: `?limit=` (1 to 500, default 100) and
 * `?after=<the last key of the previous page>`; `next` is set while more may follow.
 */
async function page(ctx: Context<any>, model: { find(filter: object): any }, key: string, show: (doc: any) => unknown) {
  const rawLimit = param(ctx, "limit");
  const limit = rawLimit === undefined ? 100 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw clientError(400, "INVALID_LIMIT", `limit must be a whole number from 1 to ${MAX_PAGE}`);
  }
  const after = param(ctx, "after");
  const filter = after === undefined ? {} : { _id: { $gt: code(after, "after cursor") } };
  const docs: any[] = await model.find(filter).sort({ _id: 1 }).limit(limit).lean();
  const items = await Promise.all(docs.map(show));
  return { [key]: items, ...(docs.length === limit ? { next: String(docs[docs.length - 1]._id) } : {}) };
}

/** An agency as the API shows it: its secrets listed (ids and dates, never the secrets). */
const withSecretList = async (a: any) => {
  const { _id, ...rest } = a;
  return { ...rest, code: _id, secrets: await agencySecretSummaries(_id) };
};

/** The staff API's directory (departments, employees, agencies) and read models. */
const DirectoryService: ServiceSchema = {
  name: "directory",
  mixins: [databaseMixin()],
  actions: {
    putDepartment: {
      async handler(ctx: Context<any>) {
        const c = code(param(ctx, "code"), "department code");
        const { value, errors } = validateDepartment(ctx.params.body, configOf(this.broker).defaultReplyPeriodDays);
        if (!value) throw invalid(errors);
        const before = await DepartmentModel.findById(c).lean();
        const doc = await DepartmentModel.findOneAndReplace({ _id: c }, { _id: c, ...value, updatedAt: new Date() }, { upsert: true, returnDocument: "after" }).lean();
        // A changed reply period applies to what is still pending.
        const changed = !before || before.replyPeriodDays !== value.replyPeriodDays || before.replyPeriodKind !== value.replyPeriodKind ||
          before.reminderEveryDays !== value.reminderEveryDays || before.maxReminders !== value.maxReminders ||
          JSON.stringify(before.internalFollowup ?? null) !== JSON.stringify(value.internalFollowup) || before.manager?.mobile !== value.manager.mobile;
        await announceDirectoryChange(this.broker, { kind: "department", id: c });
        if (changed) this.broker.emit("department.changed", { code: c });
        created(ctx, before, `/api/v1/departments/${c}`);
        return departmentView(c, doc);
      },
    },
    listDepartments: {
      handler: (ctx: Context<any>) => page(ctx, DepartmentModel, "departments", (d) => ({ code: d._id, ...withoutId(d) })),
    },
    getDepartment: {
      async handler(ctx: Context<any>) {
        const c = code(param(ctx, "code"), "department code");
        const doc = await DepartmentModel.findById(c).lean();
        if (!doc) throw notFound("department", c);
        return departmentView(c, doc);
      },
    },
    putEmployee: {
      async handler(ctx: Context<any>) {
        const id = code(param(ctx, "id"), "employee id");
        const { value, errors } = validateEmployee(ctx.params.body);
        if (!value) throw invalid(errors);
        // An employee's SMS name their department: one that is not in the directory is refused, not stored dangling.
        if (!(await DepartmentModel.exists({ _id: value.departmentCode }))) {
          throw clientError(400, "DEPARTMENT_NOT_FOUND", `No department ${value.departmentCode}: create it first (PUT /api/v1/departments/${value.departmentCode}), then retry`, {
            details: [{ field: "departmentCode", message: "is not a department in the directory" }],
          });
        }
        const before = await EmployeeModel.exists({ _id: id });
        const doc = await EmployeeModel.findOneAndReplace({ _id: id }, { _id: id, ...value, updatedAt: new Date() }, { upsert: true, returnDocument: "after" }).lean();
        await announceDirectoryChange(this.broker, { kind: "employee", id });
        created(ctx, before, `/api/v1/employees/${id}`);
        return { id, ...withoutId(doc) };
      },
    },
    listEmployees: {
      handler: (ctx: Context<any>) => page(ctx, EmployeeModel, "employees", (e) => ({ id: e._id, ...withoutId(e) })),
    },
    getEmployee: {
      async handler(ctx: Context<any>) {
        const id = code(param(ctx, "id"), "employee id");
        const doc = await EmployeeModel.findById(id).lean();
        if (!doc) throw notFound("employee", id);
        return { id, ...withoutId(doc) };
      },
    },
    putAgency: {
      async handler(ctx: Context<any>) {
        const c = code(param(ctx, "code"), "agency code");
        const { value, errors } = validateAgency(ctx.params.body);
        if (!value) throw invalid(errors);
        const before = await AgencyModel.exists({ _id: c });
        // Secrets are managed on their own endpoint and survive a PUT of the names.
        const doc = await AgencyModel.findOneAndUpdate({ _id: c }, { $set: { name: value.name, updatedAt: new Date() } }, { upsert: true, returnDocument: "after" }).lean();
        await announceDirectoryChange(this.broker, { kind: "agency", id: c });
        created(ctx, before, `/api/v1/agencies/${c}`);
        return withSecretList(doc);
      },
    },
    listAgencies: {
      handler: (ctx: Context<any>) => page(ctx, AgencyModel, "agencies", withSecretList),
    },
    getAgency: {
      async handler(ctx: Context<any>) {
        const c = code(param(ctx, "code"), "agency code");
        const doc = await AgencyModel.findById(c).lean();
        if (!doc) throw notFound("agency", c);
        return withSecretList(doc);
      },
    },
    getTransaction: {
      async handler(ctx: Context<any>) {
        const number = normalizeTransactionNumber(param(ctx, "number"));
        if (!number) throw clientError(400, "INVALID_TRANSACTION_NUMBER", "A transaction number is 1 to 20 digits");
        const doc = await TransactionModel.findById(number).lean();
        if (!doc) throw notFound("transaction", number);
        const { _id, applyToken, ...rest } = doc as typeof doc & { applyToken?: string };
        // The number as the source wrote it (the canonical one on data stored before it was kept);
        // an outgoing letter whose agency is missing from the directory is flagged for staff.
        const codes = [...new Set((rest.outgoing ?? []).map((o) => o.destination?.agencyCode).filter(Boolean))] as string[];
        const known = new Set((await AgencyModel.find({ _id: { $in: codes } }, { _id: 1 }).lean()).map((a) => String(a._id)));
        return {
          ...rest,
          displayNumber: rest.displayNumber || rest.number,
          outgoing: (rest.outgoing ?? []).map((o) => ({ ...o, displayNumber: o.displayNumber || o.number, agencyInDirectory: known.has(o.destination?.agencyCode ?? "") })),
        };
      },
    },
    /** A citizen's opt-out of non-essential SMS: now, and every change with its time (a mobile that never sent STOP: not opted out). */
    getOptOut: {
      async handler(ctx: Context<any>) {
        const mobile = normalizeSaudiMobile(param(ctx, "mobile"));
        if (!mobile) throw clientError(400, "INVALID_MOBILE", "A Saudi mobile number is 05XXXXXXXX, 9665XXXXXXXX or +9665XXXXXXXX (not retryable as is)");
        const doc = await SmsOptOutModel.findById(mobile).lean();
        return {
          mobile,
          optedOut: doc?.optedOut ?? false,
          ...(doc ? { changedAt: doc.changedAt } : {}),
          history: (doc?.history ?? []).map((h) => ({ optedOut: h.optedOut, at: h.at, via: h.via })),
        };
      },
    },
    listMessages: {
      async handler(ctx: Context<any>) {
        const filter: Record<string, unknown> = {};
        const tn = param(ctx, "transactionNumber");
        if (tn !== undefined) {
          const n = normalizeTransactionNumber(tn);
          if (!n) throw clientError(400, "INVALID_TRANSACTION_NUMBER", "A transaction number is 1 to 20 digits");
          filter.transactionNumber = n;
        }
        const status = param(ctx, "status");
        if (status !== undefined) {
          if (!(MESSAGE_STATUSES as readonly unknown[]).includes(status)) {
            throw clientError(400, "INVALID_STATUS", `status must be one of: ${MESSAGE_STATUSES.join(", ")}`, { details: { statuses: MESSAGE_STATUSES } });
          }
          filter.status = status;
        }
        const limit = Math.min(Math.max(Number(param(ctx, "limit") ?? 100) || 100, 1), 1000);
        const docs = await MessageModel.find(filter).sort({ createdAt: 1 }).limit(limit).lean();
        // Citizens' full numbers only for a key allowed to read them; the masked one is enough to tell messages apart.
        const mobiles = ((ctx.meta as { user?: { scopes?: string[] } }).user?.scopes ?? []).includes("messages:read-mobiles");
        return {
          messages: docs.map(({ _id, to, ...m }) => ({ id: _id, ...m, ...(mobiles ? { to } : {}), toMasked: maskMobile(to ?? undefined) })),
        };
      },
    },
  },
};

export default DirectoryService;

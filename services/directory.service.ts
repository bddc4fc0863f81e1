import type { Context } from "moleculer";
import type { Config } from "../core/platform/config.ts";
import { databaseMixin, routeParams, type RouteParams, type TypedService } from "../core/platform/mixins.ts";
import { clientError } from "../core/platform/errors.ts";
import { normalizeTransactionNumber, normalizeSaudiMobile } from "../core/text/normalize.ts";
import { parseCode } from "../core/directory/contract.ts";
import { announceDirectoryChange } from "../core/directory/events.ts";
import * as admin from "../core/directory/admin.ts";
import { transactionView } from "../core/events/views.ts";
import { listMessages, optOutView } from "../core/sms/views.ts";

type Meta = { $statusCode?: number; $location?: string; user?: { scopes?: string[] } };
type PageQuery = "limit" | "after";

/** 201 with its Location for a new document, 200 for a replaced one. */
function answerWritten<T>(ctx: Context<unknown, Meta>, written: { doc: T; created: boolean }, location: string): T {
  ctx.meta.$statusCode = written.created ? 201 : 200;
  if (written.created) ctx.meta.$location = location;
  return written.doc;
}

function transactionNumber(value: unknown): string {
  const number = normalizeTransactionNumber(value);
  if (!number) throw clientError(400, "INVALID_TRANSACTION_NUMBER", "A transaction number is 1 to 20 digits");
  return number;
}

/** The staff API's directory (departments, employees, agencies) and read models (core/directory/admin.ts). */
export default function directoryService(config: Config): TypedService {
  return {
    name: "directory",
    mixins: [databaseMixin(config)],
    actions: {
      putDepartment: {
        params: routeParams(["code"]),
        async handler(ctx: Context<RouteParams<"code">, Meta>) {
          const code = parseCode(ctx.params.params.code, "department code");
          const written = await admin.putDepartment(code, ctx.params.body, config.defaultReplyPeriodDays);
          await announceDirectoryChange(this.broker, { kind: "department", id: code });
          // A changed reply period applies to what is still pending.
          if (written.policyChanged) this.broker.emit("department.changed", { code });
          return answerWritten(ctx, written, `/api/v1/departments/${code}`);
        },
      },
      listDepartments: {
        params: routeParams([], ["limit", "after"]),
        handler: (ctx: Context<RouteParams<never, PageQuery>>) => admin.listDepartments(admin.parsePage(ctx.params.query)),
      },
      getDepartment: {
        params: routeParams(["code"]),
        handler: (ctx: Context<RouteParams<"code">>) => admin.getDepartment(parseCode(ctx.params.params.code, "department code")),
      },
      putEmployee: {
        params: routeParams(["id"]),
        async handler(ctx: Context<RouteParams<"id">, Meta>) {
          const id = parseCode(ctx.params.params.id, "employee id");
          const written = await admin.putEmployee(id, ctx.params.body);
          await announceDirectoryChange(this.broker, { kind: "employee", id });
          return answerWritten(ctx, written, `/api/v1/employees/${id}`);
        },
      },
      listEmployees: {
        params: routeParams([], ["limit", "after"]),
        handler: (ctx: Context<RouteParams<never, PageQuery>>) => admin.listEmployees(admin.parsePage(ctx.params.query)),
      },
      getEmployee: {
        params: routeParams(["id"]),
        handler: (ctx: Context<RouteParams<"id">>) => admin.getEmployee(parseCode(ctx.params.params.id, "employee id")),
      },
      putAgency: {
        params: routeParams(["code"]),
        async handler(ctx: Context<RouteParams<"code">, Meta>) {
          const code = parseCode(ctx.params.params.code, "agency code");
          const written = await admin.putAgency(code, ctx.params.body);
          await announceDirectoryChange(this.broker, { kind: "agency", id: code });
          return answerWritten(ctx, written, `/api/v1/agencies/${code}`);
        },
      },
      listAgencies: {
        params: routeParams([], ["limit", "after"]),
        handler: (ctx: Context<RouteParams<never, PageQuery>>) => admin.listAgencies(admin.parsePage(ctx.params.query)),
      },
      getAgency: {
        params: routeParams(["code"]),
        handler: (ctx: Context<RouteParams<"code">>) => admin.getAgency(parseCode(ctx.params.params.code, "agency code")),
      },
      getTransaction: {
        params: routeParams(["number"]),
        handler: (ctx: Context<RouteParams<"number">>) => transactionView(transactionNumber(ctx.params.params.number)),
      },
      getOptOut: {
        params: routeParams(["mobile"]),
        handler(ctx: Context<RouteParams<"mobile">>) {
          const mobile = normalizeSaudiMobile(ctx.params.params.mobile);
          if (!mobile) throw clientError(400, "INVALID_MOBILE", "A Saudi mobile number is 05XXXXXXXX, 9665XXXXXXXX or +9665XXXXXXXX (not retryable as is)");
          return optOutView(mobile);
        },
      },
      listMessages: {
        params: routeParams([], ["transactionNumber", "status", "limit"]),
        handler(ctx: Context<RouteParams<never, "transactionNumber" | "status" | "limit">, Meta>) {
          const q = ctx.params.query ?? {};
          return listMessages({
            ...(q.transactionNumber === undefined ? {} : { transactionNumber: transactionNumber(q.transactionNumber) }),
            status: q.status,
            limit: Number(q.limit ?? 100) || 100,
            mobiles: (ctx.meta.user?.scopes ?? []).includes("messages:read-mobiles"),
          });
        },
      },
    },
  };
}

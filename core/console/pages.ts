/**
 * The staff console under `/console`: server-rendered Arabic pages (English by preference)
 * with the citizen pages' template engine and security headers. Changes go through the
 * same actions as the staff API (`events.ingest`, `directory.putDepartment`), so the rules
 * live in one place; each is written to the audit log.
 *
 * Routes: `GET login`, `POST login`, `POST logout`, `GET board`, `GET transactions/:number`,
 * `POST transactions/:number/replies`, `GET departments`, `POST departments/:code`,
 * `GET lang/:lang`, and the SMS template editor's (sms-templates.ts). Every POST form carries the session's CSRF token (the login form a
 * double-submit cookie), checked before anything else.
 *
 * @module
 */
import path from "node:path";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServiceBroker } from "moleculer";
import type { Config } from "../platform/config.ts";
import { createChannelTemplates } from "../../channels/templates.ts";
import { clientAddress } from "../../channels/host.ts";
import { clock } from "../platform/clock.ts";
import { CODE } from "../directory/contract.ts";
import { AgencyModel } from "../agencies/models.ts";
import { DepartmentModel } from "../directory/models.ts";
import { PendingReplyModel } from "../followup/models.ts";
import { normalizeTransactionNumber } from "../text/normalize.ts";
import { can, passwordLogin, type StaffUser } from "./accounts.ts";
import { audit } from "./audit.ts";
import { overdueBoard, transactionTimeline } from "./board.ts";
import { leadershipReport, MONTH, monthOf, REPORT_FIRST_MONTH, toCsv, type LetterRow, type Report, type ReportFilter, type TrendRow } from "./report.ts";
import { directory } from "../directory/cache.ts";
import { AuditModel } from "./models.ts";
import { agencySecretSummaries, createAgencySecret, revokeAgencySecret } from "../agencies/secrets.ts";
import { WebhookDeliveryModel } from "../agencies/models.ts";
import { attemptSucceeded, csrfMatches, findSession, reserveAttempt, revokeSession, SESSION_COOKIE, sessionCookie, startSession, type Session } from "./sessions.ts";
import { CHANNEL_NAMES, MESSAGES, STRINGS } from "./strings.ts";
import { smsTemplateRoutes } from "./sms-templates.ts";
import { adminRoutes, refusalOf } from "./admin-pages.ts";
import type { Lang } from "../text/lang.ts";

export type { Lang };
export type Req = IncomingMessage & { $params?: Record<string, any>; body?: unknown };
export interface Ctx {
  req: Req;
  res: ServerResponse;
  broker: ServiceBroker;
  lang: Lang;
  ip: string;
  nonce: string;
}

const templates = createChannelTemplates(path.join(path.dirname(fileURLToPath(import.meta.url)), "templates"));
const LANG_COOKIE = "taqib_console_lang";
const LOGIN_COOKIE = "taqib_console_login";
const require = createRequire(import.meta.url);

/** The scripts the console serves itself (CSP 'self'): the chart library from node_modules, and the page's own. */
const ASSETS: Record<string, string> = {
  "chart.umd.min.js": path.join(path.dirname(require.resolve("chart.js")), "chart.umd.min.js"),
  "report-charts.js": path.join(path.dirname(fileURLToPath(import.meta.url)), "assets", "report-charts.js"),
  "template-editor.js": path.join(path.dirname(fileURLToPath(import.meta.url)), "assets", "template-editor.js"),
};

/** Audit log rows per page. */
export const AUDIT_PAGE = 50;

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? "").split(";")) {
    const i = part.indexOf("=");
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

function query(req: IncomingMessage): URLSearchParams {
  return new URL(req.url ?? "/", "http://x").searchParams;
}

function form(req: Req): Record<string, string> {
  const b = req.body;
  if (!b || typeof b !== "object") return {};
  // Repeated fields arrive as arrays: the first counts, nothing else is trusted.
  return Object.fromEntries(Object.entries(b as Record<string, unknown>).map(([k, v]) => [k, String(Array.isArray(v) ? v[0] : v ?? "")]));
}

const SECURITY_HEADERS = (nonce: string, scripts: boolean, fetches = false) => ({
  "content-type": "text/html; charset=utf-8",
  // Scripts only where a page needs them (the report's charts, the template editor's preview), and only the console's own files.
  "content-security-policy": `default-src 'none';${scripts ? " script-src 'self';" : ""}${fetches ? " connect-src 'self';" : ""} style-src 'nonce-${nonce}'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
});

function send(c: Ctx, status: number, name: string, data: Record<string, unknown>, session?: Session, headers: Record<string, string | string[]> = {}) {
  const other: Lang = c.lang === "ar" ? "en" : "ar";
  // The gateway strips the route's path from req.url: the language link comes back to the whole address.
  const here = (c.req as { originalUrl?: string }).originalUrl ?? c.req.url ?? "";
  const back = here.startsWith("/console/") && c.req.method === "GET" ? here : "/console/board";
  const html = templates.render(`${name}.html`, c.lang, {
    lang: c.lang,
    dir: c.lang === "ar" ? "rtl" : "ltr",
    nonce: c.nonce,
    digits: "latin",
    t: STRINGS[c.lang],
    user: session ? { name: session.user.username, role: session.user.role, admin: can.editDepartments(session.user), templates: can.editTemplates(session.user), team: can.seeTeam(session.user) } : false,
    csrf: session?.csrf ?? "",
    switchHref: `/console/lang/${other}?back=${encodeURIComponent(back)}`,
    notice: "",
    error: "",
    scripts: [],
    ...data,
  });
  c.res.writeHead(status, { ...SECURITY_HEADERS(c.nonce, Array.isArray(data.scripts) && data.scripts.length > 0, data.fetches === true), "content-language": c.lang, ...headers });
  c.res.end(html);
}

function redirect(c: Ctx, location: string, setCookie: string[] = []) {
  c.res.writeHead(303, { location, "cache-control": "no-store", ...(setCookie.length ? { "set-cookie": setCookie } : {}) });
  c.res.end();
}

/** A refusal page: 4xx with the reason in the page's language. */
function refuse(c: Ctx, status: number, message: { ar: string; en: string }, session?: Session) {
  send(c, status, "error", { status, message: message[c.lang] }, session);
}

const sameToken = (a: string | undefined, b: string | undefined) =>
  !!a && !!b && a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The console's pages for a gateway route (see services/api.service.ts). */
export function consoleRoute(config: Config) {
  const secure = config.publicUrl?.startsWith("https:") ?? false;
  const attr = secure ? "; Secure" : "";

  /** Wraps a page: language, nonce, client address; any unexpected failure is a 503 page that says to retry. */
  const page = (fn: (c: Ctx) => Promise<void>) =>
    async function (this: { broker: ServiceBroker; logger: any }, req: Req, res: ServerResponse) {
      const lang: Lang = cookies(req)[LANG_COOKIE] === "en" ? "en" : "ar";
      const c: Ctx = { req, res, broker: this.broker, lang, ip: clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"] as string | undefined, config.trustProxy), nonce: randomBytes(16).toString("base64") };
      try {
        await fn(c);
      } catch (err) {
        this.logger.error(`console ${req.method} ${req.url} failed:`, err);
        if (!res.headersSent) refuse(c, 503, { ar: "الخدمة غير متاحة مؤقتًا، حاول بعد قليل.", en: "Temporarily unavailable: try again in a moment." });
        else res.end();
      }
    };

  /** The signed-in session, or a redirect to the login page (undefined: answered). */
  const signedIn = async (c: Ctx): Promise<Session | undefined> => {
    const s = await findSession(cookies(c.req)[SESSION_COOKIE], clock.now());
    if (!s) redirect(c, "/console/login");
    return s;
  };
  /** The session of a POST whose CSRF token is right (undefined: answered 403 or redirected). */
  const posted = async (c: Ctx): Promise<Session | undefined> => {
    const s = await signedIn(c);
    if (s && !csrfMatches(s, form(c.req).csrf)) {
      refuse(c, 403, MESSAGES.csrf, s);
      return undefined;
    }
    return s;
  };

  const loginPage = (c: Ctx, status: number, error: string, username = "") => {
    const token = randomBytes(32).toString("base64url");
    send(c, status, "login", { loginToken: token, username, error }, undefined, {
      "set-cookie": `${LOGIN_COOKIE}=${token}; Path=/console; HttpOnly; SameSite=Strict${attr}`,
    });
  };

  const boardPage = async (c: Ctx, s: Session) => {
    const q = query(c.req);
    const department = q.get("department") || undefined;
    const agency = q.get("agency") || undefined;
    const pageNo = q.get("page") ?? "0";
    if ((department && !CODE.test(department)) || (agency && !CODE.test(agency)) || !/^\d{1,6}$/.test(pageNo)) return refuse(c, 400, MESSAGES.badInput, s);
    const board = await overdueBoard(s.user, { department, agency, page: Number(pageNo) }, clock.now(), c.lang, config.defaultReplyPeriodDays);
    const link = (p: number) => `/console/board?${new URLSearchParams({ ...(department ? { department } : {}), ...(agency ? { agency } : {}), page: String(p) })}`;
    send(c, 200, "board", {
      board,
      filter: { department: department ?? "", agency: agency ?? "" },
      pageNumber: board.page + 1,
      prevHref: board.page > 0 ? link(board.page - 1) : "",
      nextHref: board.hasNext ? link(board.page + 1) : "",
    }, s);
  };

  const timelinePage = async (c: Ctx, s: Session, status = 200, extra: Record<string, unknown> = {}) => {
    const number = normalizeTransactionNumber(c.req.$params?.number);
    const t = number ? await transactionTimeline(number, c.lang) : undefined;
    if (!t) return refuse(c, 404, { ar: STRINGS.ar.notFound, en: STRINGS.en.notFound }, s);
    // A manager sees the transactions of their departments only.
    if (!can.seeDepartment(s.user, t.departmentCode)) return notAllowed(c, s);
    const recorded = query(c.req).get("recorded");
    const words = STRINGS[c.lang];
    send(c, status, "timeline", {
      tx: { number: t.number, subject: t.subject ?? "", status: t.status, department: t.departmentCode ?? "" },
      outgoing: t.outgoing.map((o) => ({ ...o, replyDate: o.replyDate ?? "", via: o.via ? (words as Record<string, string>)[o.via] ?? o.via : "" })),
      entries: t.entries.map((e) => ({
        at: e.at,
        sms: e.kind === "sms",
        label: e.kind === "sms" ? `${words.sms}: ${e.type}` : e.type,
        detail: Object.entries(e.detail).filter(([, v]) => v !== undefined && v !== "").map(([k, v]) => `${k}: ${v}`).join(" · "),
      })),
      pendingOutgoing: t.outgoing.filter((o) => o.pending),
      canRecord: can.recordReply(s.user) && t.outgoing.some((o) => o.pending),
      notice: recorded ? words.recorded : "",
      ...extra,
    }, s);
  };

  const departmentsPage = async (c: Ctx, s: Session, status = 200, extra: Record<string, unknown> = {}) => {
    const docs = await DepartmentModel.find({}).sort({ _id: 1 }).limit(500).lean();
    send(c, status, "departments", {
      departments: docs.map((d) => ({ code: d._id, label: d.name?.[c.lang] ?? d._id, replyPeriodDays: d.replyPeriodDays, working: d.replyPeriodKind === "working" })),
      notice: query(c.req).get("saved") ? STRINGS[c.lang].saved : "",
      ...extra,
    }, s);
  };

  const notAllowed = (c: Ctx, s: Session) => refuse(c, 403, { ar: STRINGS.ar.notAllowed, en: STRINGS.en.notAllowed }, s);

  /** A page for signed-in staff holding `right` (the sign-in page otherwise; 403 without the right). */
  const pageFor = (right: (u: StaffUser) => boolean, render: (c: Ctx, s: Session) => Promise<void>) =>
    page(async (c) => {
      const s = await signedIn(c);
      if (!s) return;
      if (!right(s.user)) return notAllowed(c, s);
      await render(c, s);
    });

  /** Whether an agency or department code (none: yes) is one of the directory's. */
  const inDirectory = async (code: string | undefined, entries: { get(id: string): Promise<unknown> }) => !code || (CODE.test(code) && !!(await entries.get(code)));

  /**
   * The report of the month asked for (default: this month) with its trend, narrowed to one
   * agency or one department; undefined when refused (answered): 400 for a malformed month or
   * one outside REPORT_FIRST_MONTH to this month, an unknown code or both filters at once, 403 for a manager's filter on another department.
   */
  const reportOf = async (c: Ctx, s: Session): Promise<{ report: Report; filter: ReportFilter } | undefined> => {
    const q = query(c.req);
    const thisMonth = monthOf(clock.now());
    const month = q.get("month") || thisMonth;
    const filter: ReportFilter = { ...(q.get("agency") ? { agency: q.get("agency")! } : {}), ...(q.get("department") ? { department: q.get("department")! } : {}) };
    // Months from the first the report knows to this one: year 0000 or 9999 has no calendar behind it.
    if (!MONTH.test(month) || month < REPORT_FIRST_MONTH || month > thisMonth) {
      return void refuse(c, 400, { ar: MESSAGES.badMonth.ar(REPORT_FIRST_MONTH, thisMonth), en: MESSAGES.badMonth.en(REPORT_FIRST_MONTH, thisMonth) }, s);
    }
    const valid = !(filter.agency && filter.department) && (await inDirectory(filter.agency, directory.agencies)) && (await inDirectory(filter.department, directory.departments));
    if (!valid) return void refuse(c, 400, MESSAGES.badFilter, s);
    if (filter.department && !can.seeDepartment(s.user, filter.department)) return void notAllowed(c, s);
    return { report: await leadershipReport(s.user, month, clock.now(), c.lang, { filter, trend: true }), filter };
  };
  /** The report's own address with another path (the CSV's), keeping the month and the filter. */
  const reportHref = (path: string, report: Report, filter: ReportFilter) => `${path}?${new URLSearchParams({ month: report.month, ...filter })}`;
  const percent = (share: number) => Math.round(share * 100);
  const channelName = (lang: "ar" | "en", channel: string) => CHANNEL_NAMES[lang][channel] ?? channel;
  const shown = <T extends Pick<LetterRow, "medianDays" | "p90Days" | "withinPeriod">>(r: T) => ({ ...r, medianDays: r.medianDays ?? "—", p90Days: r.p90Days ?? "—", withinPeriod: percent(r.withinPeriod) });
  /** The trend's line chart: median and 90th-percentile days per month (gaps where none was replied). */
  const trendChart = (trend: TrendRow[], words: (typeof STRINGS)[Lang]) =>
    JSON.stringify({
      type: "line",
      labels: trend.map((r) => r.names.gregorian),
      series: [
        { label: words.medianDays, values: trend.map((r) => r.medianDays ?? null) },
        { label: words.p90Days, values: trend.map((r) => r.p90Days ?? null) },
      ],
    });

  const reportPage = async (c: Ctx, s: Session) => {
    const asked = await reportOf(c, s);
    if (!asked) return;
    const { report, filter } = asked;
    const trend = report.trend ?? [];
    const words = STRINGS[c.lang];
    const agencies = report.byAgency.slice(0, 20);
    const inquiries = report.inquiries?.map((r) => ({ ...r, label: channelName(c.lang, r.channel) }));
    send(c, 200, "report", {
      report,
      csvHref: reportHref("/console/report.csv", report, filter),
      filter: { agency: filter.agency ?? "", department: filter.department ?? "" },
      filtered: !!(filter.agency || filter.department),
      allHref: `/console/report?month=${report.month}`,
      trend: trend.map(shown),
      trendSms: trend.some((r) => r.sms),
      trendChart: trend.some((r) => r.medianDays !== undefined) ? trendChart(trend, words) : "",
      tables: [
        { id: "by-agency", caption: words.byAgency, rows: report.byAgency.map((r) => ({ ...r, ...shown(r) })), totals: shown(report.totals) },
        { id: "by-department", caption: words.byDepartment, rows: report.byDepartment.map((r) => ({ ...r, ...shown(r) })), totals: shown(report.totals) },
      ],
      sms: report.sms ?? false,
      // Shown to this user, if there were any (a manager's report has none: see smsManagerNote).
      smsShown: !!report.sms,
      chart: agencies.length
        ? JSON.stringify({ labels: agencies.map((r) => r.label), max: 100, series: [{ label: `${words.withinPeriod} %`, values: agencies.map((r) => percent(r.withinPeriod)) }] })
        : "",
      chartHeight: 60 + 28 * agencies.length,
      showInquiries: !!inquiries,
      inquiries: inquiries ?? [],
      inquiriesChart: inquiries?.length ? JSON.stringify({ labels: inquiries.map((r) => r.label), series: [{ label: words.inquiries, values: inquiries.map((r) => r.count) }] }) : "",
      inquiriesChartHeight: 60 + 28 * (inquiries?.length ?? 0),
      scripts: ["/console/assets/chart.umd.min.js", "/console/assets/report-charts.js"],
    }, s);
  };

  /** The trend as the CSV's last sections, each with its header row: the letters per month, then (office-wide) the SMS per month. */
  const trendCsv = (trend: TrendRow[], words: (typeof STRINGS)[Lang], wide: (r: unknown[]) => unknown[]) => {
    const months = `${words.gregorianMonth} / ${words.hijriMonth}`;
    const smsKind = `${words.trend} — ${words.sms}`;
    const sms = trend.flatMap((r) => (r.sms ? [wide([smsKind, r.month, `${r.names.gregorian} / ${r.names.hijri}`, r.sms.sent, r.sms.delivered, r.sms.failed, r.sms.parts])] : []));
    return [
      wide([words.trend, words.month, months, words.lettersSent, words.repliedCount, words.medianDays, words.p90Days, `${words.withinPeriod} %`]),
      ...trend.map((r) => wide([words.trend, r.month, `${r.names.gregorian} / ${r.names.hijri}`, r.sent, r.replied, r.medianDays ?? "", r.p90Days ?? "", r.sent ? percent(r.withinPeriod) : ""])),
      ...(sms.length ? [wide([smsKind, words.month, months, words.smsSent, words.delivered, words.failed, words.parts]), ...sms] : []),
    ];
  };

  const reportCsv = async (c: Ctx, s: Session) => {
    const asked = await reportOf(c, s);
    if (!asked) return;
    const { report, filter } = asked;
    const words = STRINGS[c.lang];
    const line = (kind: string, r: LetterRow) => [kind, r.code, r.label, r.sent, r.replied, r.medianDays ?? "", r.p90Days ?? "", r.sent ? percent(r.withinPeriod) : "", r.overdueNow];
    // The SMS and the inquiries follow as sections with their own header row, as wide as the letters' rows.
    const wide = (r: unknown[]) => [...r, ...Array(Math.max(0, 9 - r.length)).fill("")];
    const csv = toCsv(
      [`${words.agency} / ${words.department}`, words.code, words.name, words.lettersSent, words.repliedCount, words.medianDays, words.p90Days, `${words.withinPeriod} %`, words.overdueNow],
      [
        ...report.byAgency.map((r) => line(words.agency, r)),
        ...report.byDepartment.map((r) => line(words.department, r)),
        ...(report.sms ? [wide([words.smsByTemplate, words.template, "", words.smsSent, words.delivered, words.failed, words.parts]), ...report.sms.map((r) => wide([words.sms, r.template, "", r.sent, r.delivered, r.failed, r.parts]))] : []),
        ...(report.inquiries ? [wide([words.inquiriesByChannel, words.channel, words.name, words.inquiries]), ...report.inquiries.map((r) => wide([words.inquiries, r.channel, channelName(c.lang, r.channel), r.count]))] : []),
        ...trendCsv(report.trend ?? [], words, wide),
      ],
    );
    c.res.writeHead(200, {
      "content-type": "text/csv; charset=utf-8",
      "content-disposition": `attachment; filename="taqib-report-${[report.month, filter.agency ?? filter.department].filter(Boolean).join("-")}.csv"`,
      "x-content-type-options": "nosniff",
      "cache-control": "no-store",
    });
    c.res.end(csv);
  };

  const auditPage = async (c: Ctx, s: Session) => {
    const q = query(c.req);
    const actor = (q.get("actor") ?? "").trim().toLowerCase();
    const action = (q.get("action") ?? "").trim();
    const pageNo = q.get("page") ?? "0";
    if ((actor && !/^[a-z0-9._-]{1,64}$/.test(actor)) || (action && !/^[a-z-]{1,40}$/.test(action)) || !/^\d{1,6}$/.test(pageNo)) return refuse(c, 400, MESSAGES.badInput, s);
    const filter = { ...(actor ? { actor } : {}), ...(action ? { action } : {}) };
    const page = Number(pageNo);
    // Newest first through the (at) or (actor, at) index, one page more to know if there is a next.
    const docs = await AuditModel.find(filter).sort({ at: -1, _id: -1 }).skip(page * AUDIT_PAGE).limit(AUDIT_PAGE + 1).lean();
    const link = (p: number) => `/console/audit?${new URLSearchParams({ ...(actor ? { actor } : {}), ...(action ? { action } : {}), page: String(p) })}`;
    const json = (v: unknown) => (v === undefined || v === null ? "" : JSON.stringify(v));
    send(c, 200, "audit", {
      entries: docs.slice(0, AUDIT_PAGE).map((d) => ({ at: d.at, actor: d.actor, action: d.action, target: d.target ?? "", before: json(d.before), after: json(d.after), ip: d.ip ?? "" })),
      filter: { actor, action },
      pageNumber: page + 1,
      prevHref: page > 0 ? link(page - 1) : "",
      nextHref: docs.length > AUDIT_PAGE ? link(page + 1) : "",
    }, s);
  };

  const agenciesPage = async (c: Ctx, s: Session, status = 200, extra: Record<string, unknown> = {}) => {
    const agencies = await AgencyModel.find({}).sort({ _id: 1 }).limit(500).lean();
    const q = query(c.req);
    const { forAgency, ...rest } = extra;
    const selected = (forAgency as string | undefined) ?? q.get("agency") ?? "";
    if (selected && !CODE.test(selected)) return refuse(c, 400, MESSAGES.badInput, s);
    const [secrets, deliveries] = selected
      ? await Promise.all([agencySecretSummaries(selected), WebhookDeliveryModel.find({ agencyCode: selected }).sort({ receivedAt: -1 }).limit(50).lean()])
      : [[], []];
    send(c, status, "agencies", {
      agencies: agencies.map((a) => ({ code: a._id, label: a.name?.[c.lang] ?? a._id, selected: a._id === selected })),
      agency: selected ? { code: selected, label: agencies.find((a) => a._id === selected)?.name?.[c.lang] ?? selected, names: agencies.find((a) => a._id === selected)?.name ?? { ar: "", en: "" } } : false,
      secrets: secrets.map((x) => ({ ...x, revokedAt: x.revokedAt ?? "" })),
      deliveries: deliveries.map((d) => ({ receivedAt: d.receivedAt, webhookId: d.webhookId ?? "", status: d.status ?? "", outcome: d.outcome ?? "", outgoingNumber: d.outgoingNumber ?? "", ip: d.ip ?? "" })),
      notice: q.get("revoked") ? STRINGS[c.lang].revoked : q.get("saved") ? STRINGS[c.lang].saved : "",
      ...rest,
    }, s);
  };

  /** The agency of a secrets form, or undefined when the user may not or it does not exist (answered). */
  const secretsForm = async (c: Ctx): Promise<{ s: Session; code: string } | undefined> => {
    const s = await posted(c);
    if (!s) return undefined;
    if (!can.administer(s.user)) return void notAllowed(c, s);
    const code = String(c.req.$params?.code ?? "");
    if (!CODE.test(code) || !(await AgencyModel.exists({ _id: code }))) return void refuse(c, 404, { ar: STRINGS.ar.notFound, en: STRINGS.en.notFound }, s);
    return { s, code };
  };

  // What the pages of admin-pages.ts build on.
  const kit = { config, page, pageFor, posted, notAllowed, agenciesPage, send, refuse, redirect, query, form };

  return {
    path: "/console",
    // Forms only: small urlencoded bodies, no JSON.
    bodyParsers: { json: false, urlencoded: { extended: false, limit: "16kb" } },
    mappingPolicy: "restrict",
    aliases: {
      "GET /": page(async (c) => redirect(c, "/console/board")),
      "GET lang/:lang": page(async (c) => {
        const to = c.req.$params?.lang === "en" ? "en" : "ar";
        const back = query(c.req).get("back") ?? "";
        // Only back into the console: never an open redirect.
        const target = /^\/console\/[A-Za-z0-9/_.?=&%-]*$/.test(back) && !back.startsWith("//") ? back : "/console/board";
        redirect(c, target, [`${LANG_COOKIE}=${to}; Path=/console; SameSite=Lax; Max-Age=31536000${attr}`]);
      }),
      "GET login": page(async (c) => loginPage(c, 200, "")),
      "POST login": page(async (c) => {
        const f = form(c.req);
        if (!sameToken(cookies(c.req)[LOGIN_COOKIE], f.csrf)) return loginPage(c, 403, MESSAGES.csrf[c.lang]);
        const username = (f.username ?? "").trim().toLowerCase().slice(0, 64);
        const now = clock.now();
        // Reserved before the password is checked (counted as a failure until it proves right).
        const reserved = await reserveAttempt(username, c.ip, now);
        if ("minutes" in reserved) return loginPage(c, 429, MESSAGES.locked[c.lang](reserved.minutes), username);
        const user = await passwordLogin.authenticate({ username, password: f.password });
        if (!user) {
          await audit({ actor: username || "-", action: "login-failed", ip: c.ip }, now);
          return loginPage(c, 401, MESSAGES.badLogin[c.lang], username);
        }
        await attemptSucceeded(reserved.attempt);
        const id = await startSession(user, passwordLogin.name, c.ip, now);
        await audit({ actor: user.username, action: "login", after: { method: passwordLogin.name, role: user.role }, ip: c.ip }, now);
        redirect(c, "/console/board", [sessionCookie(id, secure), `${LOGIN_COOKIE}=; Path=/console; Max-Age=0`]);
      }),
      "POST logout": page(async (c) => {
        const s = await posted(c);
        if (!s) return;
        await revokeSession(s.hash);
        await audit({ actor: s.user.username, action: "logout", ip: c.ip });
        redirect(c, "/console/login", [`${SESSION_COOKIE}=; Path=/console; HttpOnly; SameSite=Lax; Max-Age=0${attr}`]);
      }),
      "GET board": page(async (c) => {
        const s = await signedIn(c);
        if (s) await boardPage(c, s);
      }),
      "GET transactions/:number": page(async (c) => {
        const s = await signedIn(c);
        if (s) await timelinePage(c, s);
      }),
      "POST transactions/:number/replies": page(async (c) => {
        const s = await posted(c);
        if (!s) return;
        if (!can.recordReply(s.user)) return notAllowed(c, s);
        const number = normalizeTransactionNumber(c.req.$params?.number);
        const f = form(c.req);
        const outgoing = normalizeTransactionNumber(f.outgoingNumber);
        const pending = number && outgoing ? await PendingReplyModel.findById(outgoing).lean() : null;
        if (!pending || pending.transactionNumber !== number || !can.seeDepartment(s.user, pending.departmentCode)) {
          return timelinePage(c, s, 400, { error: MESSAGES.badInput[c.lang] });
        }
        const data = {
          outgoingNumber: outgoing,
          via: f.via,
          ...(f.replyNumber?.trim() ? { replyNumber: f.replyNumber.trim() } : {}),
          ...(f.summary?.trim() ? { summary: f.summary.trim() } : {}),
        };
        if (f.via !== "phone" && f.via !== "paper") return timelinePage(c, s, 400, { error: MESSAGES.badInput[c.lang] });
        const event = { id: `console-${randomUUID()}`, type: "reply-received", transactionNumber: number, occurredAt: clock.now().toISOString(), data };
        try {
          await c.broker.call("events.ingest", { body: event, source: `console:${s.user.username}` });
        } catch (err: any) {
          const refused = refusalOf(err, c.lang);
          if (refused) return timelinePage(c, s, 400, { error: refused.text });
          throw err;
        }
        await audit({ actor: s.user.username, action: "reply-recorded", target: `outgoing:${outgoing}`, before: { pending: true }, after: { eventId: event.id, ...data }, ip: c.ip });
        redirect(c, `/console/transactions/${number}?recorded=${outgoing}`);
      }),
      "GET report": pageFor(can.seeReport, reportPage),
      "GET report.csv": pageFor(can.seeReport, reportCsv),
      "GET assets/:file": page(async (c) => {
        const file = ASSETS[String(c.req.$params?.file ?? "")];
        if (!file) return refuse(c, 404, { ar: STRINGS.ar.notFound, en: STRINGS.en.notFound });
        c.res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "x-content-type-options": "nosniff", "cache-control": "public, max-age=3600" });
        c.res.end(await readFile(file));
      }),
      "GET audit": pageFor(can.administer, auditPage),
      "GET agencies": pageFor(can.administer, agenciesPage),
      "POST agencies/:code/secrets": page(async (c) => {
        const f = await secretsForm(c);
        if (!f) return;
        // Fails closed: without SECRETS_KEY no secret can be stored encrypted.
        if (!config.secretsKey) return refuse(c, 503, { ar: "مفتاح التشفير SECRETS_KEY غير مضبوط؛ لا يمكن إنشاء مفاتيح.", en: "SECRETS_KEY is not set: secrets cannot be created." }, f.s);
        const { id, secret } = await createAgencySecret(config.secretsKey, f.code);
        await audit({ actor: f.s.user.username, action: "agency-secret-created", target: `agency:${f.code}`, after: { id }, ip: c.ip });
        // The secret is shown in this answer only (no redirect: it is never stored in clear).
        await agenciesPage(c, f.s, 201, { forAgency: f.code, created: { id, secret } });
      }),
      "POST agencies/:code/secrets/:id/revoke": page(async (c) => {
        const f = await secretsForm(c);
        if (!f) return;
        const id = String(c.req.$params?.id ?? "");
        if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) return refuse(c, 404, { ar: STRINGS.ar.notFound, en: STRINGS.en.notFound }, f.s);
        try {
          await revokeAgencySecret(f.code, id);
        } catch (err: any) {
          if (err?.code === 404) return refuse(c, 404, { ar: STRINGS.ar.notFound, en: STRINGS.en.notFound }, f.s);
          throw err;
        }
        await audit({ actor: f.s.user.username, action: "agency-secret-revoked", target: `agency:${f.code}`, before: { id, active: true }, after: { id, active: false }, ip: c.ip });
        redirect(c, `/console/agencies?agency=${encodeURIComponent(f.code)}&revoked=1`);
      }),
      ...smsTemplateRoutes({ config, page, pageFor, posted, send, refuse, notAllowed, form }),
      "GET departments": pageFor(can.editDepartments, departmentsPage),
      "POST departments/:code": page(async (c) => {
        const s = await posted(c);
        if (!s) return;
        if (!can.editDepartments(s.user)) return notAllowed(c, s);
        const code = String(c.req.$params?.code ?? "");
        const before = CODE.test(code) ? await DepartmentModel.findById(code).lean() : null;
        if (!before) return refuse(c, 404, { ar: STRINGS.ar.notFound, en: STRINGS.en.notFound }, s);
        const f = form(c.req);
        const { _id, updatedAt, ...current } = before as any;
        // The form changes the period; the API's validation judges it, as it does a PUT.
        const body = { ...current, replyPeriodDays: /^\d{1,6}$/.test(f.replyPeriodDays ?? "") ? Number(f.replyPeriodDays) : f.replyPeriodDays, replyPeriodKind: f.replyPeriodKind };
        try {
          await c.broker.call("directory.putDepartment", { params: { code }, body });
        } catch (err: any) {
          const refused = refusalOf(err, c.lang);
          if (refused) return departmentsPage(c, s, 400, { error: refused.text });
          throw err;
        }
        await audit({
          actor: s.user.username,
          action: "department-updated",
          target: `department:${code}`,
          before: { replyPeriodDays: before.replyPeriodDays, replyPeriodKind: before.replyPeriodKind },
          after: { replyPeriodDays: body.replyPeriodDays, replyPeriodKind: body.replyPeriodKind },
          ip: c.ip,
        });
        redirect(c, "/console/departments?saved=1");
      }),
      ...adminRoutes(kit),
    },
  };
}


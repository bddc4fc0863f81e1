// The console's remaining pages over a real node and database, in headless Chromium and over
// plain HTTP: a manager's employees and their open transactions (days assigned in the
// department's count, paged, scoped), the employees admin through the API's validation (a
// refusal is a 400 page naming the field; an inactive employee is sent no SMS), agencies'
// names, holidays on a month calendar that move the working-day counts, API keys made in the
// console that work on the API with their scopes until revoked, and a 403 page on every new
// page for a role without the right. Screenshots (desktop 1366×768, tablet 768×1024) in test-artifacts/.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import mongoose from "mongoose";
import type { Browser, Page } from "playwright-core";
import { api, eventually, http, smsNode } from "./support/harness.ts";
import { consoleBrowserSignIn, consolePost, consoleSignIn } from "./support/console.ts";
import { artifactPath, launchChromium } from "../channels/testing.ts";
import { putStaffUser } from "../core/console/accounts.ts";
import { AuditModel } from "../core/console/models.ts";
import { TEAM_PAGE } from "../core/console/team.ts";
import { StoredApiKeyModel } from "../core/platform/models.ts";
import { EmployeeModel } from "../core/directory/models.ts";
import { MessageModel } from "../core/sms/models.ts";
import { TransactionModel } from "../core/events/models.ts";
import { addDays, riyadhDateKey } from "../core/text/calendar.ts";
import { isWorkingDay } from "../core/text/working-days.ts";

const PASSWORD = "console-pass-0123";
const DAY = 86_400_000;
const NOW = Date.now();
const DESKTOP = { width: 1366, height: 768 };
const TABLET = { width: 768, height: 1024 };
// LEGAL counts working days; E100 holds two open transactions (12 and 3 days) and a closed one; HR's H200 one.
const ASSIGNED = [
  { tx: "144900101", dept: "LEGAL", employee: "E100", age: 12 },
  { tx: "144900102", dept: "LEGAL", employee: "E100", age: 3 },
  { tx: "144900103", dept: "LEGAL", employee: "E100", age: 20, closed: true },
  { tx: "144900104", dept: "HR", employee: "H200", age: 5 },
];
/** LEGAL's employees besides E100: enough for a second page of the team page. */
const MORE_LEGAL = Array.from({ length: TEAM_PAGE + 1 }, (_, i) => `E${101 + i}`);
const at = (age: number) => new Date(NOW - age * DAY);

let browser: Browser;
const world = smsNode({
  async then({ node }) {
    await api(node.url, "PUT", "/api/v1/departments/LEGAL", { name: { ar: "الإدارة القانونية", en: "Legal Affairs" }, manager: { name: "سعد الحربي", mobile: "0559990001" }, replyPeriodKind: "working" });
    await api(node.url, "PUT", "/api/v1/departments/HR", { name: { ar: "الموارد البشرية", en: "Human Resources" }, manager: { name: "نورة", mobile: "0559990011" } });
    for (const [i, id] of MORE_LEGAL.entries()) await api(node.url, "PUT", `/api/v1/employees/${id}`, { name: `موظف ${i + 1}`, mobile: `05599901${String(i).padStart(2, "0")}`, departmentCode: "LEGAL" });
    for (const id of ["H200", "H201"]) await api(node.url, "PUT", `/api/v1/employees/${id}`, { name: `موظفة ${id}`, mobile: `0559990${id.slice(1)}`, departmentCode: "HR" });
    const events = ASSIGNED.flatMap((a, i) => [
      { id: `a${i}-1`, type: "registered", transactionNumber: a.tx, occurredAt: at(a.age + 1).toISOString(), data: { citizen: { name: "محمد", mobile: "0551234567" }, subject: `طلب ${i + 1}`, departmentCode: a.dept } },
      { id: `a${i}-2`, type: "assigned", transactionNumber: a.tx, occurredAt: at(a.age).toISOString(), data: { employeeId: a.employee } },
      ...(a.closed ? [{ id: `a${i}-3`, type: "closed", transactionNumber: a.tx, occurredAt: at(a.age - 1).toISOString(), data: {} }] : []),
    ]);
    assert.equal((await api(node.url, "POST", "/api/v1/events", events)).status, 202);
    await eventually(async () => (await TransactionModel.countDocuments({ assignedAt: { $exists: true } })) === ASSIGNED.length, 20000, "the assignments applied");
    for (const [username, role, departments] of [["admin1", "admin"], ["officer", "followup"], ["viewer1", "viewer"], ["mgr", "manager", ["LEGAL"]]] as const) {
      await putStaffUser({ username, role, password: PASSWORD, ...(departments ? { departments: [...departments] } : {}) });
    }
    browser = await launchChromium();
  },
  async teardown() {
    await browser?.close();
  },
});

/** Working days after `from` up to today (Riyadh), the holidays skipped: what the page should say. */
function workingDaysSince(from: Date, holidays: string[] = []): number {
  let n = 0;
  for (let d = addDays(from, 1); riyadhDateKey(d) <= riyadhDateKey(new Date()); d = addDays(d, 1)) if (isWorkingDay(d, { holidays })) n++;
  return n;
}

const signIn = (username: string, password = PASSWORD) => consoleSignIn(world.node.url, username, password);

const post = (p: string, cookie: string, fields: Record<string, string>) => consolePost(world.node.url, p, cookie, fields);

const browserLogin = (username: string, viewport = DESKTOP) => consoleBrowserSignIn(browser, world.node.url, username, PASSWORD, { viewport });

/** Desktop and tablet screenshots of a page as `username` sees it. */
async function screenshots(username: string, path: string, name: string) {
  for (const [size, viewport] of [["desktop", DESKTOP], ["tablet", TABLET]] as const) {
    const page = await browserLogin(username, viewport);
    assert.equal((await page.goto(world.node.url + path))!.status(), 200, path);
    await page.screenshot({ path: artifactPath(`console-${name}-${size}.png`), fullPage: true });
    await page.close();
  }
}

const daysOf = (page: Page, tx: string) => page.getAttribute(`tr[data-transaction="${tx}"] td[data-days]`, "data-days");

test("my employees: a manager sees their department's employees and each one's open transactions, longest held first, days in working days; paged; other departments refused", async () => {
  const page = await browserLogin("mgr");
  await page.click("header a[href='/console/team']");
  await page.waitForURL(/\/console\/team$/);
  const shown = await page.locator("#team tbody tr").evaluateAll((s) => s.map((x) => x.getAttribute("data-employee")));
  assert.equal(shown.length, TEAM_PAGE);
  assert.deepEqual(shown.slice(0, 2), ["E100", "E101"]);
  assert.ok(!shown.includes("H200"), "not another department's");
  assert.equal((await page.locator("#team tr[data-employee=E100] .open-count").textContent())!.trim(), "2", "the closed one is not open");
  assert.equal((await page.locator("#team tr[data-employee=E101] .open-count").textContent())!.trim(), "0");
  const e100 = page.locator("section[data-employee=E100]");
  assert.deepEqual(await e100.locator("tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-transaction"))), ["144900101", "144900102"]);
  assert.equal(await daysOf(page, "144900101"), String(workingDaysSince(at(12))));
  assert.equal(await daysOf(page, "144900102"), String(workingDaysSince(at(3))));
  assert.equal(await page.getAttribute(`tr[data-transaction="144900101"] td[data-days]`, "data-kind"), "working");
  assert.match((await e100.textContent())!, /هـ/, "Hijri beside Gregorian");
  // Page 2: the rest of LEGAL's employees.
  await page.click("a[rel=next]");
  assert.deepEqual(await page.locator("#team tbody tr").evaluateAll((s) => s.map((x) => x.getAttribute("data-employee"))), MORE_LEGAL.slice(TEAM_PAGE - 1));
  // One employee's own list; the timeline from it.
  await page.goto(`${world.node.url}/console/team?employee=E100`);
  assert.equal(await page.locator("tbody tr").count(), 2);
  await page.click(`tr[data-transaction="144900101"] a`);
  await page.waitForURL(/\/console\/transactions\/144900101$/);
  // Another department, as a filter or an employee: 403.
  for (const p of ["/console/team?department=HR", "/console/team?employee=H200"]) {
    const res = (await page.goto(world.node.url + p))!;
    assert.equal(res.status(), 403, p);
    assert.match((await page.textContent("main"))!, /ليست لديك صلاحية/);
  }
  assert.equal((await page.goto(`${world.node.url}/console/team?page=x`))!.status(), 400);
  await page.close();
  // An administrator sees every department's.
  const admin = await signIn("admin1");
  assert.match((await http(world.node.url, "GET", "/console/team?department=HR", undefined, { cookie: admin.cookie })).text, /data-employee="H200"/);
  // The indexes that serve the two lists.
  assert.ok((await TransactionModel.collection.indexes()).some((i) => JSON.stringify(i.key) === '{"assigneeId":1,"status":1,"assignedAt":1}'));
  assert.ok((await EmployeeModel.collection.indexes()).some((i) => JSON.stringify(i.key) === '{"departmentCode":1,"_id":1}'));
  await screenshots("mgr", "/console/team", "team");
});

test("refused: every new page is a 403 page for a role without the right (Chromium), and their forms refuse a follow-up officer's posts", async () => {
  const refusals: Record<string, string[]> = {
    viewer1: ["/console/team", "/console/employees", "/console/employees/new", "/console/employees/E100/edit", "/console/holidays", "/console/api-keys"],
    officer: ["/console/team", "/console/employees", "/console/holidays", "/console/api-keys"],
    mgr: ["/console/employees", "/console/employees/E100/edit", "/console/holidays", "/console/api-keys", "/console/agencies?agency=MOI"],
  };
  for (const [user, paths] of Object.entries(refusals)) {
    const page = await browserLogin(user);
    for (const p of paths) {
      const res = (await page.goto(world.node.url + p))!;
      assert.equal(res.status(), 403, `${user} ${p}`);
      assert.match((await page.textContent("[role=alert]"))!, /ليست لديك صلاحية لهذا الإجراء/);
    }
    // No link to what they may not open.
    await page.goto(`${world.node.url}/console/board`);
    assert.equal(await page.locator("header a[href='/console/employees'], header a[href='/console/api-keys'], header a[href='/console/holidays']").count(), 0, user);
    await page.close();
  }
  const officer = await signIn("officer");
  const posts: Array<[string, Record<string, string>]> = [
    ["/console/employees", { id: "X1", name: "x", mobile: "0551112233", departmentCode: "LEGAL", active: "1" }],
    ["/console/employees/E100", { name: "x", mobile: "0551112233", departmentCode: "LEGAL", active: "1" }],
    ["/console/agencies/MOI/name", { nameAr: "x", nameEn: "x" }],
    ["/console/holidays", { date: "2030-01-01", name: "x" }],
    ["/console/api-keys", { name: "x", "scope.events:write": "1" }],
  ];
  for (const [p, fields] of posts) assert.equal((await post(p, officer.cookie, { csrf: officer.csrf, ...fields })).status, 403, p);
  assert.equal((await api(world.node.url, "GET", "/api/v1/employees/X1")).status, 404, "nothing saved");
  assert.equal((await api(world.node.url, "GET", "/api/v1/employees/E100")).body.name, "خالد العتيبي");
  assert.equal(await StoredApiKeyModel.countDocuments({}), 0);
  // And without the CSRF token, an administrator's post is refused too.
  const admin = await signIn("admin1");
  assert.equal((await post("/console/holidays", admin.cookie, { date: "2030-01-01" })).status, 403);
});

test("employees: an admin lists and filters on the server, creates one (a bad mobile is a 400 page naming the field), edits manager and active; the API shows the same; audited; an inactive employee gets no SMS", async () => {
  const page = await browserLogin("admin1");
  await page.goto(`${world.node.url}/console/employees?department=HR`);
  assert.deepEqual(await page.locator("#employees tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-employee"))), ["H200", "H201"]);
  assert.match((await page.textContent("tr[data-employee=H200]"))!, /05••••••00/, "mobiles masked in the list");
  await page.goto(`${world.node.url}/console/employees`);
  assert.equal(await page.locator("#employees tbody tr").count(), 2 + 1 + MORE_LEGAL.length);
  await page.click("#new-employee");
  await page.fill("#id", "E900");
  await page.fill("#name", "ريم القحطاني");
  await page.fill("#mobile", "12345");
  await page.selectOption("#departmentCode", "LEGAL");
  const bad = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), page.click("#employee-form button[type=submit]")]);
  assert.equal(bad[0].status(), 400);
  assert.match((await page.textContent("#form-error"))!, /mobile: must be a Saudi mobile number/);
  assert.equal(await page.getAttribute("#mobile", "aria-invalid"), "true");
  assert.equal(await page.inputValue("#name"), "ريم القحطاني", "what was typed is kept");
  await page.screenshot({ path: artifactPath("console-employee-form-desktop.png"), fullPage: true });
  await page.fill("#mobile", "0551230900");
  await page.click("#employee-form button[type=submit]");
  await page.waitForURL(/\/console\/employees\?saved=1/);
  assert.match((await page.textContent("[role=status]"))!, /حُفظت/);
  let e900 = (await api(world.node.url, "GET", "/api/v1/employees/E900")).body;
  assert.deepEqual([e900.mobile, e900.departmentCode, e900.manager, e900.active], ["+966551230900", "LEGAL", false, true]);
  // Edit: manager, and no longer active.
  await page.goto(`${world.node.url}/console/employees/E900/edit`);
  await page.check("#manager");
  await page.uncheck("#active");
  await page.click("#employee-form button[type=submit]");
  await page.waitForURL(/saved=1/);
  e900 = (await api(world.node.url, "GET", "/api/v1/employees/E900")).body;
  assert.deepEqual([e900.manager, e900.active], [true, false]);
  await page.goto(`${world.node.url}/console/employees?status=inactive`);
  assert.deepEqual(await page.locator("#employees tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-employee"))), ["E900"]);
  await page.close();
  // The API's refusals, as 400 pages naming the field: a taken id, a department not in the directory.
  const s = await signIn("admin1");
  const taken = await post("/console/employees", s.cookie, { csrf: s.csrf, id: "E100", name: "x", mobile: "0551112233", departmentCode: "LEGAL", active: "1" });
  assert.equal(taken.status, 400);
  assert.match(await taken.text(), /id: الرقم الوظيفي مستخدم/);
  const noDept = await post("/console/employees/E900", s.cookie, { csrf: s.csrf, name: "ريم", mobile: "0551230900", departmentCode: "NOPE" });
  assert.equal(noDept.status, 400);
  assert.match(await noDept.text(), /departmentCode: is not a department in the directory/);
  assert.equal((await post("/console/employees/NOBODY", s.cookie, { csrf: s.csrf, name: "x", mobile: "0551112233", departmentCode: "LEGAL" })).status, 404);
  const audits = await AuditModel.find({ target: "employee:E900" }).sort({ at: 1 }).lean();
  assert.deepEqual(audits.map((a) => a.action), ["employee-created", "employee-updated"]);
  assert.equal(audits[0]!.before, null);
  assert.deepEqual(audits[1]!.before, { name: "ريم القحطاني", mobile: "+966551230900", departmentCode: "LEGAL", manager: false, active: true });
  assert.deepEqual(audits[1]!.after, { name: "ريم القحطاني", mobile: "+966551230900", departmentCode: "LEGAL", manager: true, active: false });
  // Inactive: the "assigned" SMS to them is not sent.
  const t = new Date().toISOString();
  await api(world.node.url, "POST", "/api/v1/events", [
    { id: "i-1", type: "registered", transactionNumber: "144900199", occurredAt: t, data: { citizen: { name: "محمد", mobile: "0551234567" }, departmentCode: "LEGAL" } },
    { id: "i-2", type: "assigned", transactionNumber: "144900199", occurredAt: t, data: { employeeId: "E900" } },
  ]);
  const msg = await eventually(async () => {
    const m = await MessageModel.findOne({ transactionNumber: "144900199", role: "employee" }).lean();
    return m?.status === "failed" ? m : undefined;
  }, 20000, "the employee's SMS failed");
  assert.equal(msg.error?.code, "EMPLOYEE_INACTIVE");
  assert.equal(msg.submittedAt ?? null, null, "never submitted");
  await screenshots("admin1", "/console/employees", "employees");
});

test("agencies: an admin edits an agency's Arabic and English names (through the API's validation); audited with before and after", async () => {
  const page = await browserLogin("admin1");
  await page.goto(`${world.node.url}/console/agencies?agency=MOI`);
  assert.equal(await page.inputValue("#name-ar"), "وزارة الداخلية");
  await page.fill("#name-en", "Ministry of the Interior");
  await page.click("#agency-name button[type=submit]");
  await page.waitForURL(/agency=MOI&saved=1/);
  assert.equal(await page.inputValue("#name-en"), "Ministry of the Interior");
  assert.deepEqual((await api(world.node.url, "GET", "/api/v1/agencies/MOI")).body.name, { ar: "وزارة الداخلية", en: "Ministry of the Interior" });
  await page.fill("#name-ar", "وزارة www.example.com");
  const bad = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), page.click("#agency-name button[type=submit]")]);
  assert.equal(bad[0].status(), 400);
  assert.match((await page.textContent("#form-error"))!, /name\.ar:/);
  assert.equal(await page.getAttribute("#name-ar", "aria-invalid"), "true");
  assert.equal(await page.inputValue("#name-ar"), "وزارة www.example.com", "what was typed is kept");
  assert.equal((await api(world.node.url, "GET", "/api/v1/agencies/MOI")).body.name.ar, "وزارة الداخلية", "nothing saved");
  await page.close();
  const entry = await AuditModel.findOne({ action: "agency-updated", target: "agency:MOI" }).lean();
  assert.deepEqual(entry?.before, { name: { ar: "وزارة الداخلية", en: "Ministry of Interior" } });
  assert.deepEqual(entry?.after, { name: { ar: "وزارة الداخلية", en: "Ministry of the Interior" } });
  await screenshots("admin1", "/console/agencies?agency=MOI", "agencies");
});

test("holidays: an admin adds one on the month calendar (Hijri beside Gregorian); the working-day counts skip it; removed, they count it again; audited", async () => {
  // The first working day after 144900101's assignment: one of its working days.
  let day = addDays(at(12), 1);
  while (!isWorkingDay(day)) day = addDays(day, 1);
  const date = riyadhDateKey(day);
  const mgr = await signIn("mgr");
  const days = async () => /data-transaction="144900101"[\s\S]*?data-days="(\d+)"/.exec((await http(world.node.url, "GET", "/console/team", undefined, { cookie: mgr.cookie })).text)![1];
  const before = await days();
  assert.equal(before, String(workingDaysSince(at(12))));

  const page = await browserLogin("admin1");
  await page.click("header a[href='/console/holidays']");
  assert.match((await page.textContent("#calendar caption"))!, /هـ/);
  assert.equal(await page.locator("#calendar thead th").first().textContent(), "الأحد");
  await page.goto(`${world.node.url}/console/holidays?month=${date.slice(0, 7)}`);
  assert.equal(await page.locator(`td[data-date="${date}"][data-holiday]`).count(), 0);
  await page.fill("#date", date);
  await page.fill("#holiday-name", "إجازة اختبار");
  await page.click("#holiday-form button[type=submit]");
  await page.waitForURL(/added=/);
  assert.match((await page.textContent(`td[data-date="${date}"]`))!, /إجازة اختبار/);
  assert.equal(await page.locator(`td[data-date="${date}"][data-holiday]`).count(), 1);
  assert.ok((await api(world.node.url, "GET", "/api/v1/holidays")).body.holidays.some((h: any) => h.date === date), "the API's holidays");
  assert.equal(await days(), String(Number(before) - 1), "a working day fewer");
  await page.screenshot({ path: artifactPath("console-holidays-desktop.png"), fullPage: true });
  await page.setViewportSize(TABLET);
  await page.screenshot({ path: artifactPath("console-holidays-tablet.png"), fullPage: true });
  await page.setViewportSize(DESKTOP);
  await page.click(`tr[data-holiday="${date}"] button`);
  await page.waitForURL(/removed=/);
  assert.equal(await page.locator(`td[data-date="${date}"][data-holiday]`).count(), 0);
  assert.equal(await days(), before);
  await page.close();
  // A day the calendar does not have: a 400 page naming the field.
  const s = await signIn("admin1");
  const bad = await post("/console/holidays", s.cookie, { csrf: s.csrf, date: "2026-02-30", name: "x" });
  assert.equal(bad.status, 400);
  assert.match(await bad.text(), /date: The holiday date must be a real Gregorian calendar date/);
  assert.equal((await post(`/console/holidays/2031-01-01/remove`, s.cookie, { csrf: s.csrf })).status, 404);
  // Every new page in English too (by preference), dates still Hijri beside Gregorian.
  for (const p of ["/console/holidays", "/console/employees", "/console/employees/new", "/console/employees/E100/edit", "/console/api-keys", "/console/team", "/console/team?employee=E100", "/console/agencies?agency=MOI"]) {
    const en = await http(world.node.url, "GET", p, undefined, { cookie: `${s.cookie}; taqib_console_lang=en` });
    assert.equal(en.status, 200, p);
    assert.match(en.text, /<html lang="en" dir="ltr">/, p);
  }
  const en = (await http(world.node.url, "GET", "/console/holidays?month=2026-11", undefined, { cookie: `${s.cookie}; taqib_console_lang=en` })).text;
  assert.match(en, /href="\/console\/lang\/ar\?back&#x3D;%2Fconsole%2Fholidays%3Fmonth%3D2026-11"/, "the language link comes back to this page");
  assert.match(en, /<th scope="col">Sunday<\/th>/);
  assert.match(en, /November 2026<\/span> — <span id="hijri-title">Jumada al-Ula – Jumada al-Akhirah 1448 AH/);
  const audits = await AuditModel.find({ target: `holiday:${date}` }).sort({ at: 1 }).lean();
  assert.deepEqual(audits.map((a) => [a.action, a.before, a.after]), [
    ["holiday-added", null, { date, name: "إجازة اختبار" }],
    ["holiday-removed", { date, name: "إجازة اختبار" }, null],
  ]);
});

test("API keys: a key made in the console (shown once, stored as a hash) works on the API with its scope, another scope is 403 FORBIDDEN_SCOPE, no round-trip per request; revoked, it is 401; audited", async () => {
  const page = await browserLogin("admin1");
  await page.click("header a[href='/console/api-keys']");
  // No scope: refused, naming it.
  await page.fill("#key-name", "نظام المراسلات");
  const none = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), page.click("#key-form button[type=submit]")]);
  assert.equal(none[0].status(), 400);
  assert.match((await page.textContent("#form-error"))!, /scopes:/);
  await page.check("#scope-messages\\:read");
  const made = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST"), page.click("#key-form button[type=submit]")]);
  assert.equal(made[0].status(), 201);
  const key = (await page.textContent("#key-value"))!.trim();
  const fingerprint = (await page.textContent("#key-fingerprint"))!.trim();
  assert.match(key, /^tqk_[A-Za-z0-9_-]{43}$/);
  const doc = await StoredApiKeyModel.findOne({ fingerprint }).lean();
  assert.equal(doc!.hash, createHash("sha256").update(key).digest("hex"));
  assert.doesNotMatch(JSON.stringify(doc), new RegExp(key.slice(4)), "the key itself is not stored");
  assert.deepEqual(doc!.scopes, ["messages:read"]);
  await page.goto(`${world.node.url}/console/api-keys`);
  assert.doesNotMatch(await page.content(), new RegExp(key.slice(4).replace(/[-]/g, "\\-")), "shown once only");
  assert.equal(await page.locator(`tr[data-fingerprint="${fingerprint}"][data-active="true"]`).count(), 1);

  const withKey = (method: string, p: string, body?: unknown) => http(world.node.url, method, p, body, { authorization: `Bearer ${key}` });
  assert.equal((await withKey("GET", "/api/v1/messages?limit=1")).status, 200);
  const forbidden = await withKey("PUT", "/api/v1/departments/LEGAL", { name: { ar: "x", en: "x" }, manager: { name: "x", mobile: "0551112233" } });
  assert.equal(forbidden.status, 403);
  assert.equal(forbidden.body.error.code, "FORBIDDEN_SCOPE");
  assert.equal((await api(world.node.url, "GET", "/api/v1/departments/LEGAL")).body.name.ar, "الإدارة القانونية", "nothing changed");
  // The keys are read once per TTL: twenty requests, no read of api_keys.
  let reads = 0;
  const count = (e: { commandName: string; command: Record<string, unknown> }) => void (e.commandName === "find" && e.command.find === "api_keys" && reads++);
  const client = mongoose.connection.getClient();
  client.on("commandStarted", count);
  for (let i = 0; i < 20; i++) assert.equal((await withKey("GET", "/api/v1/messages?limit=1")).status, 200);
  client.off("commandStarted", count);
  assert.equal(reads, 0, "no database round-trip for the key");
  await page.screenshot({ path: artifactPath("console-api-keys-desktop.png"), fullPage: true });
  await page.setViewportSize(TABLET);
  await page.screenshot({ path: artifactPath("console-api-keys-tablet.png"), fullPage: true });
  await page.setViewportSize(DESKTOP);

  await page.click(`tr[data-fingerprint="${fingerprint}"] button`);
  await page.waitForURL(/revoked=1/);
  assert.equal(await page.locator(`tr[data-fingerprint="${fingerprint}"][data-active="false"]`).count(), 1);
  const revoked = await withKey("GET", "/api/v1/messages?limit=1");
  assert.equal(revoked.status, 401);
  assert.equal(revoked.body.error.code, "UNAUTHORIZED");
  await page.close();
  const audits = await AuditModel.find({ target: `api-key:${fingerprint}` }).sort({ at: 1 }).lean();
  assert.deepEqual(audits.map((a) => a.action), ["api-key-created", "api-key-revoked"]);
  assert.deepEqual((audits[0]!.after as any).scopes, ["messages:read"]);
  assert.doesNotMatch(JSON.stringify(audits), new RegExp(key.slice(4).replace(/[-]/g, "\\-")), "nor in the audit log");
  // The environment's key still works beside them.
  assert.equal((await api(world.node.url, "GET", "/api/v1/messages?limit=1")).status, 200);
});

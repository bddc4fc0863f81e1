// The staff console over a real node and database, in headless Chromium and over plain HTTP:
// each role signs in, the overdue board on seeded letters (grouped, a manager's scope), a
// timeline, a reply by phone that leaves the board, a viewer refused, a period change that
// moves letters off the board, CSRF refusal, lockout, and logout revoking the session.
// Screenshots in test-artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import type { Browser, Page } from "playwright-core";
import { api, eventually, http, smsNode } from "./support/harness.ts";
import { consolePost, consoleSignIn } from "./support/console.ts";
import { artifactPath, launchChromium } from "../channels/testing.ts";
import { putStaffUser, verifyPassword } from "../core/console/accounts.ts";
import { AuditModel, StaffUserModel } from "../core/console/models.ts";
import { PendingReplyModel } from "../core/followup/models.ts";

const PASSWORD = "console-pass-0123";
const DAY = 86_400_000;
// Six letters, 15 to 20 days old (period 10 days: all overdue): LEGAL to MOI and MOH, HR to MOI.
const LETTERS = [
  { tx: "144700101", dept: "LEGAL", agency: "MOI", age: 20 },
  { tx: "144700102", dept: "LEGAL", agency: "MOH", age: 19 },
  { tx: "144700103", dept: "LEGAL", agency: "MOI", age: 18 },
  { tx: "144700104", dept: "HR", agency: "MOI", age: 17 },
  { tx: "144700105", dept: "HR", agency: "MOH", age: 16 },
  { tx: "144700106", dept: "LEGAL", agency: "MOH", age: 15 },
];
const out = (tx: string) => `9${tx}`;

let browser: Browser;
const world = smsNode({
  async then({ node }) {
    await api(node.url, "PUT", "/api/v1/departments/HR", { name: { ar: "الموارد البشرية", en: "Human Resources" }, manager: { name: "نورة", mobile: "0559990011" } });
    await api(node.url, "PUT", "/api/v1/agencies/MOH", { name: { ar: "وزارة الصحة", en: "Ministry of Health" } });
    const now = Date.now();
    const events = LETTERS.flatMap((l, i) => [
      { id: `c${i}-1`, type: "registered", transactionNumber: l.tx, occurredAt: new Date(now - (l.age + 1) * DAY).toISOString(), data: { citizen: { name: "محمد", mobile: "0551234567" }, subject: "طلب إفادة", departmentCode: l.dept } },
      { id: `c${i}-2`, type: "issued", transactionNumber: l.tx, occurredAt: new Date(now - l.age * DAY).toISOString(), data: { outgoingNumber: out(l.tx), outgoingDate: new Date(now - l.age * DAY).toISOString(), destination: { agencyCode: l.agency }, requiresReply: true } },
    ]);
    assert.equal((await api(node.url, "POST", "/api/v1/events", events)).status, 202);
    await eventually(async () => (await PendingReplyModel.countDocuments({})) === LETTERS.length, 20000, "the pending replies");
    for (const [username, role, departments] of [["admin1", "admin"], ["officer", "followup"], ["viewer1", "viewer"], ["mgr", "manager", ["LEGAL"]], ["locked1", "viewer"]] as const) {
      await putStaffUser({ username, role, password: PASSWORD, ...(departments ? { departments: [...departments] } : {}) });
    }
    browser = await launchChromium();
  },
  async teardown() {
    await browser?.close();
  },
});

const signIn = (username: string, password = PASSWORD) => consoleSignIn(world.node.url, username, password);

const post = (p: string, cookie: string, fields: Record<string, string>) => consolePost(world.node.url, p, cookie, fields);

const onBoard = (html: string) => [...html.matchAll(/<tr data-outgoing="(\d+)"/g)].map((m) => m[1]);

async function browserLogin(username: string, viewport = { width: 1366, height: 768 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(`${world.node.url}/console/board`);
  assert.match(page.url(), /\/console\/login$/, "not signed in: the login page");
  await page.fill("#username", username);
  await page.fill("#password", PASSWORD);
  await page.click("button[type=submit]:not(header button)");
  await page.waitForURL(/\/console\/board$/);
  return page;
}

test("console: an admin signs in; the board lists every overdue letter oldest first, grouped by department and agency, Hijri beside Gregorian; screenshots", async () => {
  const page = await browserLogin("admin1");
  assert.equal(await page.getAttribute("html", "dir"), "rtl");
  const rows = await page.locator("#overdue tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-outgoing")));
  assert.deepEqual(rows, LETTERS.map((l) => out(l.tx)), "oldest first");
  assert.equal(await page.getAttribute(`tr[data-outgoing="${out(LETTERS[0]!.tx)}"] td[data-days]`, "data-days"), "10");
  const byDept = await page.locator("#by-department tbody tr").allTextContents();
  assert.match(byDept[0]!, /الإدارة القانونية/);
  assert.match(byDept[0]!, /4/);
  assert.match(byDept[1]!, /الموارد البشرية/);
  assert.equal(await page.locator("#by-agency tbody tr").count(), 2);
  assert.match((await page.textContent("#overdue"))!, /هـ/, "Hijri dates");
  const headers = (await page.goto(`${world.node.url}/console/board`))!.headers();
  assert.match(headers["content-security-policy"]!, /frame-ancestors 'none'/);
  assert.doesNotMatch(headers["content-security-policy"]!, /script-src|unsafe-inline/);
  assert.equal(headers["x-content-type-options"], "nosniff");
  await page.screenshot({ path: artifactPath("console-board-desktop.png"), fullPage: true });
  const tablet = await browserLogin("admin1", { width: 820, height: 1180 });
  await tablet.screenshot({ path: artifactPath("console-board-tablet.png"), fullPage: true });
  // Filtered on the server.
  await page.goto(`${world.node.url}/console/board?agency=MOH`);
  assert.deepEqual(await page.locator("#overdue tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-outgoing"))), LETTERS.filter((l) => l.agency === "MOH").map((l) => out(l.tx)));
  await page.close();
  await tablet.close();
});

test("console: a manager sees only their departments; another department's timeline is refused (403)", async () => {
  const s = await signIn("mgr");
  assert.equal(s.status, 303);
  assert.deepEqual(onBoard(s.text), LETTERS.filter((l) => l.dept === "LEGAL").map((l) => out(l.tx)));
  assert.deepEqual(onBoard((await http(world.node.url, "GET", "/console/board?department=HR", undefined, { cookie: s.cookie })).text), []);
  assert.equal((await http(world.node.url, "GET", "/console/transactions/144700104", undefined, { cookie: s.cookie })).status, 403);
  assert.equal((await http(world.node.url, "GET", "/console/transactions/144700101", undefined, { cookie: s.cookie })).status, 200);
});

test("console: a viewer sees a timeline without the reply form, and a reply posted anyway is refused with 403", async () => {
  const s = await signIn("viewer1");
  const page = await http(world.node.url, "GET", "/console/transactions/144700102", undefined, { cookie: s.cookie });
  assert.equal(page.status, 200);
  assert.doesNotMatch(page.text, /name="via"/);
  const res = await post("/console/transactions/144700102/replies", s.cookie, { csrf: s.csrf, outgoingNumber: out("144700102"), via: "phone" });
  assert.equal(res.status, 403);
  assert.match(await res.text(), /ليست لديك صلاحية/);
  assert.ok(await PendingReplyModel.exists({ _id: out("144700102") }), "nothing recorded");
  assert.equal((await http(world.node.url, "GET", "/console/departments", undefined, { cookie: s.cookie })).status, 403);
});

test("console: a follow-up officer records a reply by phone in Chromium; it leaves the board and shows on the timeline; audited; screenshots", async () => {
  const page = await browserLogin("officer");
  await page.goto(`${world.node.url}/console/transactions/144700101`);
  await page.screenshot({ path: artifactPath("console-timeline-desktop.png"), fullPage: true });
  await page.setViewportSize({ width: 820, height: 1180 });
  await page.screenshot({ path: artifactPath("console-timeline-tablet.png"), fullPage: true });
  assert.match((await page.textContent("#timeline"))!, /issued/);
  await page.check("input[name=via][value=phone]");
  await page.fill("#replyNumber", "R-2001");
  await page.click("form[action$='/replies'] button[type=submit]");
  await page.waitForURL(/recorded=/);
  assert.match((await page.textContent("[role=status]"))!, /سُجّل الرد/);
  await eventually(async () => !(await PendingReplyModel.exists({ _id: out("144700101") })), 15000, "the reply applied");
  await page.goto(`${world.node.url}/console/board`);
  assert.ok(!onBoard(await page.content()).includes(out("144700101")), "off the board");
  await page.goto(`${world.node.url}/console/transactions/144700101`);
  assert.match((await page.textContent(`#outgoing tr[data-outgoing="${out("144700101")}"]`))!, /ورد الرد.*هاتف/s);
  // The same event as the API's, with via.
  const tx = await api(world.node.url, "GET", "/api/v1/transactions/144700101");
  assert.equal(JSON.stringify(tx.body).includes('"via":"phone"'), true);
  const entry = await AuditModel.findOne({ action: "reply-recorded", actor: "officer" }).lean();
  assert.equal((entry?.after as any)?.outgoingNumber, out("144700101"));
  await page.close();
});

test("console: an admin changes HR's reply period to 30 days; HR's letters leave the board; audited with before and after", async () => {
  const s = await signIn("admin1");
  const hr = LETTERS.filter((l) => l.dept === "HR").map((l) => out(l.tx));
  assert.ok(hr.every((o) => onBoard(s.text).includes(o)));
  const bad = await post("/console/departments/HR", s.cookie, { csrf: s.csrf, replyPeriodDays: "0", replyPeriodKind: "calendar" });
  assert.equal(bad.status, 400, "the API's validation: 1 to 365");
  assert.match(await bad.text(), /replyPeriodDays/);
  const res = await post("/console/departments/HR", s.cookie, { csrf: s.csrf, replyPeriodDays: "30", replyPeriodKind: "calendar" });
  assert.equal(res.status, 303);
  assert.equal((await api(world.node.url, "GET", "/api/v1/departments/HR")).body.replyPeriodDays, 30);
  await eventually(async () => {
    const board = onBoard((await http(world.node.url, "GET", "/console/board", undefined, { cookie: s.cookie })).text);
    return hr.every((o) => !board.includes(o)) && board.includes(out("144700102"));
  }, 15000, "HR's letters off the board");
  const entry = await AuditModel.findOne({ action: "department-updated", target: "department:HR" }).lean();
  assert.deepEqual(entry?.before, { replyPeriodDays: 10, replyPeriodKind: "calendar" });
  assert.deepEqual(entry?.after, { replyPeriodDays: 30, replyPeriodKind: "calendar" });
});

test("console: a POST without the CSRF token (or with another session's) is 403 and changes nothing", async () => {
  const a = await signIn("admin1");
  const b = await signIn("officer");
  assert.equal((await post("/console/departments/LEGAL", a.cookie, { replyPeriodDays: "99", replyPeriodKind: "calendar" })).status, 403);
  assert.equal((await post("/console/departments/LEGAL", a.cookie, { csrf: b.csrf, replyPeriodDays: "99", replyPeriodKind: "calendar" })).status, 403);
  assert.equal((await post("/console/transactions/144700102/replies", b.cookie, { outgoingNumber: out("144700102"), via: "phone" })).status, 403);
  assert.equal((await api(world.node.url, "GET", "/api/v1/departments/LEGAL")).body.replyPeriodDays, 10);
  // The login form's own token: a cross-site login post is refused.
  const res = await fetch(`${world.node.url}/console/login`, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ username: "admin1", password: PASSWORD }) });
  assert.equal(res.status, 403);
});

test("console: five wrong passwords lock the user name (429, Arabic message), even for the right password; audited", async () => {
  for (let i = 0; i < 5; i++) assert.equal((await signIn("locked1", "wrong-password-xyz")).status, 401);
  const locked = await signIn("locked1");
  assert.equal(locked.status, 429);
  assert.equal(locked.cookie, "");
  assert.match(locked.text, /أُوقف الدخول مؤقتًا/);
  assert.equal(await AuditModel.countDocuments({ action: "login-failed", actor: "locked1" }), 5);
  assert.equal((await signIn("viewer1")).status, 303, "another user is not locked");
});

test("console: logout revokes the session; its cookie opens nothing afterwards; the cookie is HttpOnly, SameSite=Lax, Path=/console", async () => {
  const form = await fetch(`${world.node.url}/console/login`);
  const loginCookie = form.headers.getSetCookie()[0]!.split(";")[0]!;
  const token = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const res = await post("/console/login", loginCookie, { csrf: token, username: "viewer1", password: PASSWORD });
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith("taqib_console="))!;
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Lax/);
  assert.match(setCookie, /Path=\/console/);
  const cookie = setCookie.split(";")[0]!;
  const board = await http(world.node.url, "GET", "/console/board", undefined, { cookie });
  assert.equal(board.status, 200);
  const csrf = /name="csrf" value="([^"]+)"/.exec(board.text)![1]!;
  assert.equal((await post("/console/logout", cookie, { csrf })).status, 303);
  const after = await fetch(`${world.node.url}/console/board`, { redirect: "manual", headers: { cookie } });
  assert.equal(after.status, 303);
  assert.equal(after.headers.get("location"), "/console/login");
});

test("console: npm run staff -- add creates an account with a scrypt hash (password from stdin)", async () => {
  const child = execFile("npx", ["tsx", "scripts/staff.ts", "add", "cli-admin", "--role", "admin"], { env: { ...process.env, MONGO_URL: world.db.url } });
  child.stdin!.end("cli-password-0123\n");
  const output = await new Promise<string>((resolve, reject) => {
    let text = "";
    child.stdout!.on("data", (b) => (text += b));
    child.stderr!.on("data", (b) => (text += b));
    child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}: ${text}`))));
  });
  assert.match(output, /staff account cli-admin \(admin\) saved/);
  assert.doesNotMatch(output, /cli-password/);
  const doc = await StaffUserModel.findById("cli-admin").lean();
  assert.match(doc!.passwordHash!, /^scrypt\$15\$8\$1\$/);
  assert.ok(await verifyPassword("cli-password-0123", doc!.passwordHash!));
  assert.equal((await signIn("cli-admin", "cli-password-0123")).status, 303);
});


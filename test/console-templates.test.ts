// The console's SMS template editor over two real Taqib nodes on NATS: the console's gateway
// (api, events, directory) in this process, the SMS sender (notifier, smpp) in another. An
// administrator edits the Arabic `registered` template in headless Chromium: the preview
// follows the typing with its parts; a text that does not compile and one over its part
// budget are refused (400, the field named), a valid one saved; the next SMS the SMSC
// simulator receives, sent by the other node, carries the new text. Non-administrators are
// refused (403); a restore saves the old text as a new version, which the next SMS uses.
// Every change is in the audit log. Screenshots of the editor in test-artifacts/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import type { Browser, Page } from "playwright-core";
import { api, eventually, http, seedDirectory, startNats, testDatabase, testNode, testSmsc } from "./support/harness.ts";
import { consoleBrowserSignIn, consolePost, consoleSignIn } from "./support/console.ts";
import { spawnTaqib, type TaqibProcess } from "./support/processes.ts";
import { artifactPath, launchChromium } from "../channels/testing.ts";
import { putStaffUser } from "../core/console/accounts.ts";
import { AuditModel } from "../core/console/models.ts";
import { SmsTemplateVersionModel } from "../core/sms/models.ts";
import { checkDraft } from "../core/sms/template-versions/check.ts";
import { loadConfig } from "../core/platform/config.ts";

const PASSWORD = "console-pass-0123";
const FILE = fs.readFileSync(path.join(loadConfig({}).templatesDir, "registered.ar.hbs"), "utf8");
// A new wording of the registration SMS, within its two parts.
const NEW_TEXT = "{{#if (nameFits citizen.name)}}{{firstName citizen.name}}، {{/if}}تم تسجيل طلبكم رقم {{ltr transaction.displayNumber}} بتاريخ {{hijri transaction.registeredAt}}.\nللاستعلام أرسلوا الرقم إلى {{ltr shortCode}}";
const BROKEN = "{{#if citizen.name}}تم تسجيل طلبكم رقم {{ltr transaction.displayNumber}}";
// The file's text and a thank-you: the sample fits, the longest realistic data takes a third part.
const OVER = `${FILE.trim()} شكرًا.`;
const config = loadConfig({});

let db: Awaited<ReturnType<typeof testDatabase>>;
let nats: Awaited<ReturnType<typeof startNats>>;
let smsc: Awaited<ReturnType<typeof testSmsc>>;
let gateway: Awaited<ReturnType<typeof testNode>>;
let sender: TaqibProcess;
let browser: Browser;

before(async () => {
  db = await testDatabase();
  nats = await startNats();
  smsc = await testSmsc({ dlrDelayMs: 20 });
  gateway = await testNode(db.url, { SERVICES: "api,events,directory", TRANSPORTER: nats.url, NODE_ID: "gateway" });
  sender = await spawnTaqib("sender", { MONGO_URL: db.url, TRANSPORTER: nats.url, SMPP_URL: smsc.url, SERVICES: "notifier,smpp" });
  await seedDirectory(gateway.url);
  for (const [username, role] of [["admin1", "admin"], ["officer", "followup"], ["viewer1", "viewer"]] as const) await putStaffUser({ username, role, password: PASSWORD });
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await sender?.kill();
  await gateway?.stop();
  await smsc?.stop();
  await nats?.stop();
  await db?.remove();
});

let serial = 0;
/** Registers a transaction for its own mobile; answers the SMS the SMSC receives for it. */
async function nextRegistrationSms(): Promise<string> {
  const n = ++serial;
  const mobile = `05600000${String(n).padStart(2, "0")}`;
  const event = { id: `tpl-${n}`, type: "registered", transactionNumber: `14480090${n}`, occurredAt: new Date().toISOString(), data: { citizen: { name: "محمد بن عبدالله", mobile }, subject: "طلب إفادة", departmentCode: "LEGAL" } };
  assert.equal((await api(gateway.url, "POST", "/api/v1/events", event)).status, 202);
  const to = `966${mobile.slice(1)}`;
  const got = await eventually(async () => smsc.received.find((m) => m.to === to), 30000, `the SMS to ${to}`);
  return got.text;
}

const signIn = (username: string, password = PASSWORD) => consoleSignIn(gateway.url, username, password);

const post = (p: string, cookie: string, fields: Record<string, string>) => consolePost(gateway.url, p, cookie, fields);

const browserLogin = (username: string, viewport = { width: 1366, height: 768 }) => consoleBrowserSignIn(browser, gateway.url, username, PASSWORD, { viewport });

/** Types a new text into the editor and waits for the preview of it. */
async function typeText(page: Page, text: string): Promise<void> {
  const seq = Number(await page.getAttribute("#preview", "data-seq"));
  await page.fill("#body", text);
  await page.waitForFunction((s) => Number((globalThis as any).document.getElementById("preview").dataset.seq) > s, seq, { timeout: 10000 });
}

const figure = (page: Page, id: string) => page.textContent(`#${id}`).then((t) => t!.trim());

test("templates: an admin edits the Arabic registration SMS in Chromium: live preview with parts, a broken and an over-budget text refused, a valid one saved; the next SMS, sent by the other node, carries it; screenshots", async () => {
  assert.match(await nextRegistrationSms(), /سُجلت معاملتكم/, "before: the file's text");

  const page = await browserLogin("admin1");
  await page.click("header a[href='/console/templates']");
  await page.waitForURL(/\/console\/templates$/);
  assert.equal(await page.getAttribute("tr[data-template=registered][data-lang=ar]", "data-version"), "0", "the file, not yet edited");
  await page.click("tr[data-template=registered][data-lang=ar] a");
  await page.waitForURL(/\/console\/templates\/registered\/ar$/);
  const csp = (await page.reload())!.headers()["content-security-policy"]!;
  assert.match(csp, /script-src 'self'; connect-src 'self';/);
  assert.doesNotMatch(csp, /unsafe-inline/);
  assert.equal(await page.inputValue("#body"), FILE);
  assert.match(await figure(page, "preview-text"), /سُجلت معاملتكم/, "the preview of the text in use, rendered on the server");
  assert.equal(await figure(page, "preview-encoding"), "UCS-2");
  assert.equal(await figure(page, "preview-budget"), "2");

  // Broken: the preview says so as it is typed, and saving is refused naming the field.
  await typeText(page, BROKEN);
  assert.equal(await page.getAttribute("#preview", "data-state"), "problem");
  assert.match(await figure(page, "preview-problem"), /صياغة القالب غير صحيحة/);
  let [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/console/templates/registered/ar")), page.click("#template-form button[type=submit]")]);
  assert.equal(res.status(), 400);
  assert.match(await figure(page, "form-error"), /^نص القالب: صياغة القالب غير صحيحة/);
  assert.equal(await page.getAttribute("#body", "aria-invalid"), "true");
  assert.equal(await page.inputValue("#body"), BROKEN, "the text typed is kept");

  // Over budget: the sample fits, the longest realistic data takes three parts.
  await typeText(page, OVER);
  assert.equal(await page.getAttribute("#preview", "data-state"), "problem");
  assert.equal(await figure(page, "preview-longest-parts"), "3");
  assert.ok(Number(await figure(page, "preview-longest-left")) < 0);
  [res] = await Promise.all([page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/console/templates/registered/ar")), page.click("#template-form button[type=submit]")]);
  assert.equal(res.status(), 400);
  assert.match(await figure(page, "form-error"), /نص القالب: .*3 أجزاء، وحدّ هذا القالب 2/);
  assert.equal(await SmsTemplateVersionModel.countDocuments({}), 0, "nothing saved");

  // Valid: the preview shows the new text, its encoding, parts and what is left in the part.
  await typeText(page, NEW_TEXT);
  const expected = checkDraft(config, "registered", "ar", NEW_TEXT);
  assert.equal(await page.getAttribute("#preview", "data-state"), "ok");
  assert.equal(await figure(page, "preview-text"), expected.sample!.text.trim());
  assert.match(expected.sample!.text, /تم تسجيل طلبكم/);
  assert.equal(await figure(page, "preview-parts"), String(expected.sample!.parts));
  assert.equal(await figure(page, "preview-left"), String(expected.sample!.leftInPart));
  assert.equal(await figure(page, "preview-longest-parts"), String(expected.longest!.parts));
  assert.equal(await page.isHidden("#preview-problem"), true);
  assert.equal(await page.isHidden("#form-error"), true, "the last refusal is hidden once the text changes");

  await page.click("#template-form button[type=submit]");
  await page.waitForURL(/\?saved=1$/);
  assert.match((await page.textContent("[role=status]"))!, /حُفظت النسخة 1/);
  const saved = await SmsTemplateVersionModel.findById("registered.ar@1").lean();
  assert.equal(saved?.author, "admin1");
  assert.equal(saved?.body, NEW_TEXT, "line breaks as LF, as in the files");
  const entry = await AuditModel.findOne({ action: "sms-template-saved", target: "template:registered.ar" }).lean();
  assert.deepEqual(entry?.before, { version: 0, body: FILE });
  assert.deepEqual(entry?.after, { version: 1, body: NEW_TEXT });

  // The next SMS, rendered on the sender node, has the new text (templates.changed over NATS).
  const next = await nextRegistrationSms();
  assert.match(next, /تم تسجيل طلبكم رقم/);
  assert.doesNotMatch(next, /سُجلت معاملتكم/);
  // The staff API's preview (on the sender node) shows the saved version too.
  assert.match((await api(gateway.url, "POST", "/api/v1/templates/registered/preview", { lang: "ar" })).body.text, /تم تسجيل طلبكم/);
  await page.close();
});

test("templates: staff without the right get 403 on the list, the editor, the preview and a save; no link in their menu", async () => {
  for (const user of ["officer", "viewer1"]) {
    const s = await signIn(user);
    const board = await http(gateway.url, "GET", "/console/board", undefined, { cookie: s.cookie });
    assert.doesNotMatch(board.text, /href="\/console\/templates"/);
    assert.equal((await http(gateway.url, "GET", "/console/templates", undefined, { cookie: s.cookie })).status, 403);
    assert.equal((await http(gateway.url, "GET", "/console/templates/registered/ar", undefined, { cookie: s.cookie })).status, 403);
    assert.equal((await post("/console/templates/registered/ar/preview", s.cookie, { csrf: s.csrf, body: NEW_TEXT })).status, 403);
    const res = await post("/console/templates/registered/ar", s.cookie, { csrf: s.csrf, body: "نص آخر", baseVersion: "1" });
    assert.equal(res.status, 403);
    assert.match(await res.text(), /ليست لديك صلاحية/);
  }
  assert.equal(await SmsTemplateVersionModel.countDocuments({}), 1);
});

test("templates: the preview needs the session's CSRF token; a save from a stale editor is refused (409) and keeps the text", async () => {
  const s = await signIn("admin1");
  assert.equal((await post("/console/templates/registered/ar/preview", s.cookie, { body: NEW_TEXT })).status, 403);
  const preview = await post("/console/templates/registered/ar/preview", s.cookie, { csrf: s.csrf, body: "{{citizen.nmae}}" });
  assert.equal(preview.status, 200);
  const r = (await preview.json()) as { ok: boolean; problem: string };
  assert.equal(r.ok, false);
  assert.match(r.problem, /«citizen\.nmae»/);
  const stale = await post("/console/templates/registered/ar", s.cookie, { csrf: s.csrf, body: FILE, baseVersion: "0" });
  assert.equal(stale.status, 409);
  assert.match(await stale.text(), /النسخة الحالية 1/);
  assert.equal((await post("/console/templates/no-such/ar", s.cookie, { csrf: s.csrf, body: FILE, baseVersion: "0" })).status, 404);
  // In English: the page, and a refusal naming the field.
  const en = `${s.cookie}; taqib_console_lang=en`;
  const page = await http(gateway.url, "GET", "/console/templates/registered/en", undefined, { cookie: en });
  assert.equal(page.status, 200);
  assert.match(page.text, /<h1>Edit template: <bdi dir="ltr">registered<\/bdi> \(English\)<\/h1>/);
  const broken = await post("/console/templates/registered/en", en, { csrf: s.csrf, body: "Dear {{citizen.name", baseVersion: "0" });
  assert.equal(broken.status, 400);
  assert.match(await broken.text(), /Template text: The template does not compile/);
});

test("templates: a second version shows what it changed; restoring version 1 saves it again as version 3, audited, and the next SMS uses it", async () => {
  const s = await signIn("admin1");
  const v2 = NEW_TEXT.replace("تم تسجيل طلبكم", "قُيّد طلبكم");
  assert.equal((await post("/console/templates/registered/ar", s.cookie, { csrf: s.csrf, body: v2, baseVersion: "1" })).status, 303);
  assert.match(await nextRegistrationSms(), /قُيّد طلبكم/);

  const page = await browserLogin("admin1");
  await page.goto(`${gateway.url}/console/templates/registered/ar`);
  assert.equal(await page.textContent("#current-version"), "2");
  assert.match((await page.textContent("tr[data-version='2'] td.diff del"))!, /تم/);
  assert.match((await page.textContent("tr[data-version='2'] td.diff ins"))!, /قُيّد/);
  assert.equal(await page.locator("tr[data-version='2'] form").count(), 0, "the current version has no restore button");
  await page.click("tr[data-version='1'] button[type=submit]");
  await page.waitForURL(/\?restored=3$/);
  assert.equal(await page.textContent("#current-version"), "3");
  assert.equal(await page.inputValue("#body"), NEW_TEXT);
  const v3 = await SmsTemplateVersionModel.findById("registered.ar@3").lean();
  assert.deepEqual([v3?.body, v3?.restoredFrom, v3?.author], [NEW_TEXT, 1, "admin1"]);
  const entry = await AuditModel.findOne({ action: "sms-template-restored" }).lean();
  assert.deepEqual(entry?.before, { version: 2, body: v2 });
  assert.deepEqual(entry?.after, { version: 3, body: NEW_TEXT, restoredFrom: 1 });
  assert.match(await nextRegistrationSms(), /تم تسجيل طلبكم/);

  // Screenshots: the editor with a draft previewed and the versions with their changes.
  const draft = NEW_TEXT.replace("بتاريخ", "في");
  await typeText(page, draft);
  await page.screenshot({ path: artifactPath("console-template-editor-desktop.png"), fullPage: true });
  const tablet = await browser.newPage({ viewport: { width: 768, height: 1024 }, storageState: await page.context().storageState() });
  await tablet.goto(page.url());
  await typeText(tablet, draft);
  assert.equal(await tablet.evaluate(() => (globalThis as any).document.documentElement.scrollWidth), 768, "nothing wider than the tablet");
  await tablet.screenshot({ path: artifactPath("console-template-editor-tablet.png"), fullPage: true });
  await tablet.close();
  // The list shows who changed it last.
  await page.goto(`${gateway.url}/console/templates`);
  assert.equal(await page.getAttribute("tr[data-template=registered][data-lang=ar]", "data-version"), "3");
  assert.match((await page.textContent("tr[data-template=registered][data-lang=ar]"))!, /admin1/);
  await page.close();
});

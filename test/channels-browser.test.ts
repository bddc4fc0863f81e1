// The web page and the kiosk in headless Chromium: type or tap a number, see the answer,
// the idle reset; screenshots in test-artifacts/. Needs Debian's chromium
// (apt-get install -y chromium).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { testDatabase, testNode, api, sampleLifecycle, seedDirectory, eventually } from "./support/harness.ts";
import { applyDigits } from "../core/text/digits.ts";
import { artifactPath, launchChromium } from "../channels/testing.ts";

const NUMBER = "1445000501";
const arabic = (s: string) => applyDigits(s, "arabic");

let db: Awaited<ReturnType<typeof testDatabase>>;
let node: Awaited<ReturnType<typeof testNode>>;
let browser: Browser;

before(async () => {
  browser = await launchChromium();
  db = await testDatabase();
  node = await testNode(db.url, { SERVICES: "api,events,directory,channels", CHANNELS: "web,kiosk" });
  await seedDirectory(node.url);
  await api(node.url, "POST", "/api/v1/events", sampleLifecycle(NUMBER).slice(0, 4));
  await eventually(async () => (await api(node.url, "GET", `/api/v1/transactions/${NUMBER}`)).body.status === "issued", 15000, "the transaction");
});
after(async () => {
  await browser?.close();
  await node?.stop();
  await db?.remove();
});

async function shot(page: Page, name: string) {
  await page.screenshot({ path: artifactPath(name), fullPage: true });
}

test("web: Arabic RTL page; type a number, see its stage on the same page; the verifier shows the details", async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  await page.goto(`${node.url}/`);
  assert.equal(await page.getAttribute("html", "lang"), "ar");
  assert.equal(await page.getAttribute("html", "dir"), "rtl");
  assert.equal(await page.locator("label[for=number]").textContent(), "رقم المعاملة");
  await shot(page, "web-ar-form.png");

  // Keyboard: the skip link first, then the language switch, then the number field, with a visible focus.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate("document.activeElement && document.activeElement.className"), "skip");
  await page.keyboard.press("Tab");
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate("document.activeElement && document.activeElement.id"), "number");
  const outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle");
  assert.equal(outline, "solid");

  await page.keyboard.type(`${arabic(NUMBER.slice(0, 4))}-${arabic(NUMBER.slice(4))}`);
  await page.keyboard.press("Enter");
  await page.waitForSelector("#answer[data-outcome=found]");
  assert.equal(await page.getAttribute("#answer", "data-stage"), "issued");
  assert.equal(await page.getAttribute("#answer", "data-level"), "coarse");
  assert.match((await page.textContent("#answer"))!, /صدرت بتاريخ/);
  assert.doesNotMatch((await page.textContent("body"))!, /وزارة الداخلية/);
  assert.equal(await page.inputValue("#number"), `${arabic(NUMBER.slice(0, 4))}-${arabic(NUMBER.slice(4))}`, "the form keeps what was typed");
  await shot(page, "web-ar-coarse.png");

  await page.fill("#verifier", "٤٥٦٧");
  await page.click("button[type=submit]");
  await page.waitForSelector("#answer[data-level=detail]");
  const text = (await page.textContent("#answer"))!;
  for (const s of ["الإدارة القانونية", `9${NUMBER}`, "وزارة الداخلية", "بانتظار الرد"]) assert.ok(text.includes(s), s);
  await shot(page, "web-ar-detail.png");

  await page.fill("#verifier", "12");
  await page.click("button[type=submit]");
  await page.waitForSelector("#answer[data-outcome=invalid-verifier]");
  assert.equal(await page.getAttribute("#verifier", "aria-invalid"), "true");
  await page.close();
});

test("web: works without JavaScript, in English, with a polite answer for an unknown number", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 800, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${node.url}/`);
  await page.click("text=English");
  assert.equal(await page.getAttribute("html", "lang"), "en");
  assert.equal(await page.getAttribute("html", "dir"), "ltr");
  await page.fill("#number", NUMBER);
  await page.click("button[type=submit]");
  await page.waitForSelector("#answer[data-outcome=found]");
  assert.match((await page.textContent("#answer"))!, /Issued on/);
  assert.match(page.url(), /lang=en/);
  await shot(page, "web-en-coarse.png");
  await page.fill("#number", "8000000002");
  await page.click("button[type=submit]");
  await page.waitForSelector("#answer[data-outcome=not-found]");
  assert.match((await page.textContent("#answer"))!, /No transaction with the number 8000000002/);
  await page.fill("#number", "abc");
  await page.click("button[type=submit]");
  await page.waitForSelector("#answer[data-outcome=invalid-number]");
  assert.equal(await page.getAttribute("#number", "aria-invalid"), "true");
  await shot(page, "web-en-invalid.png");
  await context.close();
});

async function tapNumber(page: Page, digits: string) {
  for (const d of digits) await page.tap(`.keypad button[data-key="${d}"]`);
}

test("kiosk: tap a number on the keypad, see the answer in large type, reset after idle", async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, hasTouch: true, isMobile: false });
  const page = await context.newPage();
  await page.goto(`${node.url}/kiosk?kiosk=gate-1&idle=2`);
  assert.equal(await page.getAttribute("html", "dir"), "rtl");
  assert.equal(await page.getAttribute("body", "data-idle-ms"), "2000");
  // Large keys in the DIGITS style (here the default, Latin).
  const labels = await page.locator(".keypad .key").allTextContents();
  assert.deepEqual(labels.map((l) => l.trim()), ["1", "2", "3", "4", "5", "6", "7", "8", "9", "مسح", "0", "⌫"]);
  const box = (await page.locator('.keypad button[data-key="5"]').boundingBox())!;
  assert.ok(box.height >= 80 && box.width >= 100, `key ${box.width}x${box.height}`);

  await tapNumber(page, "99");
  await page.tap('.keypad button[data-key="back"]');
  await page.tap('.keypad button[data-key="clear"]');
  await tapNumber(page, NUMBER);
  assert.equal(await page.inputValue("#number"), NUMBER);
  await shot(page, "kiosk-typed.png");
  await page.tap("#submit");
  await page.waitForSelector("#result:not([hidden]) .card[data-stage=issued]");
  const answeredAt = Date.now();
  assert.equal(await page.getAttribute(".card", "data-level"), "coarse");
  const card = (await page.textContent(".card"))!;
  assert.match(card, new RegExp(`المعاملة رقم ${NUMBER}`));
  assert.match(card, /صدرت بتاريخ [0-9]{4}\/[0-9]{2}\/[0-9]{2}هـ الموافق [0-9]{4}\/[0-9]{2}\/[0-9]{2}م، ولا يلزم حضوركم/);
  const size = await page.evaluate<number>("parseFloat(getComputedStyle(document.querySelector('.card .stage')).fontSize)");
  assert.ok(size >= 40, `answer in ${size}px`);
  await shot(page, "kiosk-answer.png");

  // Idle: back to the start screen, emptied.
  await page.waitForSelector("#start:not([hidden])", { timeout: 6000 });
  const idle = Date.now() - answeredAt;
  assert.ok(idle >= 1500, `reset after ${idle} ms`);
  assert.equal(await page.isHidden("#result"), true);
  assert.equal(await page.inputValue("#number"), "");
  await shot(page, "kiosk-reset.png");
  await context.close();
});

test("kiosk: the details only with the verifier keyed in; portrait screen", async () => {
  const context = await browser.newContext({ viewport: { width: 1080, height: 1920 }, hasTouch: true });
  const page = await context.newPage();
  await page.goto(`${node.url}/kiosk?kiosk=gate-2`);
  assert.equal(await page.getAttribute("body", "data-idle-ms"), "60000");
  await tapNumber(page, NUMBER);
  await page.tap("#verifier");
  await tapNumber(page, "45678");
  assert.equal(await page.inputValue("#verifier"), "4567", "four digits at most");
  await shot(page, "kiosk-portrait-typed.png");
  await page.tap("#submit");
  await page.waitForSelector(".card[data-level=detail]");
  const card = (await page.textContent(".card"))!;
  for (const s of ["الإدارة القانونية", `9${NUMBER}`, "وزارة الداخلية"]) assert.ok(card.includes(s), s);
  await shot(page, "kiosk-portrait-detail.png");
  await page.tap("#again");
  await page.waitForSelector("#start:not([hidden])");
  assert.equal(await page.inputValue("#verifier"), "");
  // An unknown number: a clear answer, not a blank screen.
  await tapNumber(page, "8000000003");
  await page.tap("#submit");
  await page.waitForSelector(".card[data-outcome=not-found]");
  assert.match((await page.textContent(".card"))!, /لم نعثر على معاملة بالرقم/);
  await context.close();
});

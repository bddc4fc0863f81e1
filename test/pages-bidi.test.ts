// The pages in Chromium (issue #12): numbers and dates in order inside Arabic text, read from
// the rendered glyph positions; the office on every page; the kiosk in portrait; the 429 wait
// as the header says; the English page in a Latin font. Screenshots in test-artifacts/ at
// phone (390×844), desktop (1366×768), kiosk portrait (1080×1920) and of the English page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { testDatabase, testNode, api, http, seedDirectory, eventually } from "./support/harness.ts";
import { formatGregorian, formatHijri } from "../core/text/calendar.ts";
import { waitTime } from "../channels/host.ts";
import { artifactPath, launchChromium } from "../channels/testing.ts";
import type { Lang } from "../core/text/lang.ts";

/** As the correspondence system writes it: every page shows it in this form. */
const SOURCE_NUMBER = "1448/00512";
const OUTGOING = "1448/7788";
const ISSUED = new Date("2026-11-28T09:00:00+03:00");
const OFFICE = { OFFICE_NAME_AR: "إمارة منطقة الاختبار", OFFICE_NAME_EN: "Test Region Emirate", OFFICE_PHONE: "011-4010000", OFFICE_HOURS_AR: "الأحد إلى الخميس 7:30 - 14:30", OFFICE_HOURS_EN: "Sunday to Thursday 7:30 - 14:30" };

let db: Awaited<ReturnType<typeof testDatabase>>;
let node: Awaited<ReturnType<typeof testNode>>;
/** DIGITS=arabic and a small rate limit, on the same database. */
let arabicNode: Awaited<ReturnType<typeof testNode>>;
let browser: Browser;
/** What the API says the number and the outgoing number look like. */
let shown: { number: string; outgoing: string };

before(async () => {
  browser = await launchChromium();
  db = await testDatabase();
  node = await testNode(db.url, { SERVICES: "api,events,directory,channels", CHANNELS: "web,kiosk", ...OFFICE });
  arabicNode = await testNode(db.url, { SERVICES: "api,channels", CHANNELS: "web,kiosk", DIGITS: "arabic", INQUIRY_RATE_LIMIT: "4", INQUIRY_RATE_WINDOW_MS: "5000", ...OFFICE });
  await seedDirectory(node.url);
  const at = (min: number) => new Date(ISSUED.getTime() - (60 - min) * 60_000).toISOString();
  const events = [
    { id: "bidi-1", type: "registered", transactionNumber: SOURCE_NUMBER, occurredAt: at(0), data: { citizen: { name: "محمد", mobile: "0551234567" }, subject: "طلب إفادة", departmentCode: "LEGAL" } },
    { id: "bidi-2", type: "issued", transactionNumber: SOURCE_NUMBER, occurredAt: at(30), data: { outgoingNumber: OUTGOING, outgoingDate: ISSUED.toISOString(), destination: { agencyCode: "MOI", name: "وزارة الداخلية" }, requiresReply: true } },
  ];
  assert.equal((await api(node.url, "POST", "/api/v1/events", events)).status, 202);
  const answer = await eventually(async () => {
    const r = await http(node.url, "GET", `/api/v1/inquiry?number=${encodeURIComponent(SOURCE_NUMBER)}&verifier=4567`);
    return r.body.stage === "issued" && r.body;
  }, 15000, "the transaction");
  shown = { number: answer.displayNumber, outgoing: answer.details.outgoing[0].displayNumber };
  assert.equal(shown.number, SOURCE_NUMBER, "the inquiry answers the number as the source wrote it");
});
after(async () => {
  await browser?.close();
  await arabicNode?.stop();
  await node?.stop();
  await db?.remove();
});

/**
 * The x of each character of every occurrence of `needle` in the text under `scope`, in
 * logical order, as Chromium laid them out.
 */
async function glyphXs(page: Page, needle: string, scope = "body"): Promise<number[][]> {
  // A string: the test's TypeScript has no DOM types; this runs in the page.
  return page.evaluate<number[][]>(
    `(([n, sel]) => {
      const out = [];
      const walker = document.createTreeWalker(document.querySelector(sel), NodeFilter.SHOW_TEXT);
      while (walker.nextNode()) {
        const t = walker.currentNode;
        for (let i = t.data.indexOf(n); i >= 0; i = t.data.indexOf(n, i + 1)) {
          const xs = [];
          for (let k = 0; k < n.length; k++) {
            const r = document.createRange();
            r.setStart(t, i + k);
            r.setEnd(t, i + k + 1);
            xs.push(r.getBoundingClientRect().left);
          }
          out.push(xs);
        }
      }
      return out;
    })(${JSON.stringify([needle, scope])})`,
  );
}

/** Fails unless `needle` is on the page and every occurrence reads left to right, character by character. */
async function assertInOrder(page: Page, needle: string, scope = "body") {
  const all = await glyphXs(page, needle, scope);
  assert.ok(all.length > 0, `"${needle}" is not on the page (${scope})`);
  for (const xs of all) {
    for (let k = 1; k < xs.length; k++) assert.ok(xs[k]! > xs[k - 1]!, `"${needle}" reordered on screen: glyph ${k} at x=${xs[k]} is not right of glyph ${k - 1} at x=${xs[k - 1]} (${xs.join(", ")})`);
  }
}

/** The numeric part of a date as the page shows it: `1448/05/27` of `1448/05/27هـ`. */
const datePart = (s: string) => s.replace(/[^0-9\u0660-\u0669/]/g, "");
const hijri = (digits: "latin" | "arabic" = "latin") => datePart(formatHijri(ISSUED, { lang: "ar", digits }));
const gregorian = (digits: "latin" | "arabic" = "latin") => datePart(formatGregorian(ISSUED, { lang: "ar", digits }));

async function shot(page: Page, name: string) {
  await page.screenshot({ path: artifactPath(name), fullPage: true });
}

const arabicDigits = (s: string) => s.replace(/[0-9]/g, (d) => "٠١٢٣٤٥٦٧٨٩"[Number(d)]!);

async function officeShown(page: Page, lang: Lang, digits: "latin" | "arabic" = "latin") {
  const footer = (await page.textContent("footer.office"))!;
  const d = digits === "arabic" ? arabicDigits : (s: string) => s;
  assert.ok(footer.includes(lang === "ar" ? OFFICE.OFFICE_NAME_AR : OFFICE.OFFICE_NAME_EN), footer);
  await assertInOrder(page, d(OFFICE.OFFICE_PHONE), "footer.office");
  await assertInOrder(page, d("7:30"), "footer.office");
}

test("web, Arabic, phone and desktop: the number, the outgoing number, both dates and the hint's examples read in order; the office on the page", async () => {
  for (const [size, viewport] of [["phone", { width: 390, height: 844 }], ["desktop", { width: 1366, height: 768 }]] as const) {
    const page = await browser.newPage({ viewport });
    await page.goto(`${node.url}/`);
    // The hint's examples: "1445-00123" rendered "00123-1445" before isolation.
    await assertInOrder(page, "1445-00123", "#number-hint");
    await assertInOrder(page, "1448/00512", "#number-hint");
    await officeShown(page, "ar");
    await page.fill("#number", SOURCE_NUMBER);
    await page.fill("#verifier", "4567");
    await page.click("button[type=submit]");
    await page.waitForSelector("#answer[data-level=detail]");
    await assertInOrder(page, shown.number, "#answer-title");
    await assertInOrder(page, shown.outgoing, "#answer");
    await assertInOrder(page, hijri(), "#answer .stage");
    await assertInOrder(page, gregorian(), "#answer .stage");
    assert.match((await page.textContent("#answer .stage"))!, new RegExp(`صدرت بتاريخ ${hijri()}هـ الموافق ${gregorian()}م، ولا يلزم حضوركم`));
    await shot(page, `web-ar-${size}.png`);
    await page.close();
  }
});

test("web, English page: numbers in order, the office named, punctuation from a Latin font (not the Arabic page's font)", async () => {
  const page = await browser.newPage({ viewport: { width: 1366, height: 768 } });
  const fontOf = async (selector: string) => {
    const cdp = await page.context().newCDPSession(page);
    const { root } = await cdp.send("DOM.getDocument");
    await cdp.send("CSS.enable");
    const { nodeId } = await cdp.send("DOM.querySelector", { nodeId: root.nodeId, selector });
    const { fonts } = await cdp.send("CSS.getPlatformFontsForNode", { nodeId });
    await cdp.detach();
    return fonts.map((f) => f.familyName);
  };
  await page.goto(`${node.url}/`);
  const arabicFonts = await fontOf(".lead");
  await page.goto(`${node.url}/?lang=en&number=${encodeURIComponent(SOURCE_NUMBER)}&verifier=4567`);
  await page.waitForSelector("#answer[data-level=detail]");
  await assertInOrder(page, shown.number, "#answer-title");
  await assertInOrder(page, shown.outgoing, "#answer");
  await officeShown(page, "en");
  assert.match((await page.textContent("header .brand"))!, new RegExp(OFFICE.OFFICE_NAME_EN));
  const englishFonts = await fontOf(".lead");
  assert.ok(englishFonts.length > 0);
  for (const f of englishFonts) {
    assert.doesNotMatch(f, /Arab|Naskh|Kufi/i);
    assert.ok(!arabicFonts.includes(f), `the English page's text is set in ${f}, the Arabic page's font (${arabicFonts.join(", ")})`);
  }
  await shot(page, "web-en-desktop.png");
  await page.close();
});

test("web: the verifier's error is linked to its field; a 429 page says the wait its Retry-After header says", async () => {
  const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
  await page.goto(`${arabicNode.url}/?number=${encodeURIComponent(SOURCE_NUMBER)}&verifier=12`);
  await page.waitForSelector("#answer[data-outcome=invalid-verifier]");
  const described = (await page.getAttribute("#verifier", "aria-describedby"))!.split(" ");
  assert.ok(described.includes("answer-title") && described.includes("answer-text"), described.join(" "));
  for (const id of described) assert.ok(await page.$(`#${id}`), `#${id} exists`);
  assert.match((await page.textContent("#answer-text"))!, /أربعة أرقام/);

  let limited: Awaited<ReturnType<typeof http>> | undefined;
  for (let i = 0; i < 8 && !limited; i++) {
    const r = await http(arabicNode.url, "GET", `/?number=${encodeURIComponent(SOURCE_NUMBER)}`);
    if (r.status === 429) limited = r;
  }
  assert.ok(limited, "rate-limited within 8 inquiries");
  const seconds = Number(limited.headers.get("retry-after"));
  assert.ok(seconds >= 1 && seconds <= 5, `Retry-After ${seconds}`);
  assert.ok(limited.text.includes(`يرجى المحاولة بعد ${waitTime(seconds * 1000, "ar", { seconds: true })}.`), "the page's wait is the header's");
  assert.doesNotMatch(limited.text, /بعد دقيقة/);
  await page.close();
});

async function tap(page: Page, digits: string) {
  for (const d of digits) await page.tap(`.keypad button[data-key="${d}"]`);
}

test("kiosk, portrait 1080×1920 and DIGITS=arabic: keypad and answer fill the screen, verifier masked, ⌫ mirrored, dates in order, office shown", async () => {
  // Wait for the rate-limit window of the test above to pass on this node.
  await new Promise((r) => setTimeout(r, 5200));
  const context = await browser.newContext({ viewport: { width: 1080, height: 1920 }, hasTouch: true });
  const page = await context.newPage();
  await page.goto(`${arabicNode.url}/kiosk?kiosk=gate-1`);
  assert.deepEqual((await page.locator(".keypad .key").allTextContents()).map((l) => l.trim()), ["١", "٢", "٣", "٤", "٥", "٦", "٧", "٨", "٩", "مسح", "٠", "⌫"]);
  const transform = await page.evaluate<string>(`getComputedStyle(document.querySelector('.key[data-key="back"] .glyph')).transform`);
  assert.equal(transform, "matrix(-1, 0, 0, 1, 0, 0)", "⌫ mirrored in RTL");
  const submit = (await page.locator("#submit").boundingBox())!;
  assert.ok(submit.y + submit.height > 1920 * 0.8, `the keypad ends at y=${submit.y + submit.height} of 1920`);
  assert.equal(await page.getAttribute("#verifier", "type"), "password");
  await officeShown(page, "ar", "arabic");
  await tap(page, "144800512");
  await page.tap("#verifier");
  await tap(page, "4567");
  await shot(page, "kiosk-portrait-typed.png");
  const urls: string[] = [];
  page.on("request", (r) => urls.push(r.url()));
  await page.tap("#submit");
  await page.waitForSelector("#result:not([hidden]) .card[data-level=detail]");
  for (const u of urls) assert.doesNotMatch(u, /verifier|4567/, "the verifier is in no address");
  await assertInOrder(page, arabicDigits(shown.number), ".card h2");
  await assertInOrder(page, hijri("arabic"), ".card .stage");
  await assertInOrder(page, gregorian("arabic"), ".card .stage");
  assert.match((await page.textContent(".card .stage"))!, /ولا يلزم حضوركم/);
  const again = (await page.locator("#again").boundingBox())!;
  assert.ok(again.y + again.height > 1920 * 0.8, `the answer ends at y=${again.y + again.height} of 1920`);
  await shot(page, "kiosk-portrait-answer.png");
  await context.close();
});

test("kiosk without JavaScript: the form posts, the verifier never enters the address", async () => {
  const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 390, height: 844 } });
  const page = await context.newPage();
  await page.goto(`${node.url}/kiosk?kiosk=gate-3`);
  // Masked, with the phone's numeric keyboard.
  assert.equal(await page.getAttribute("#verifier", "type"), "password");
  assert.equal(await page.getAttribute("#verifier", "inputmode"), "numeric");
  await page.fill("#number", SOURCE_NUMBER);
  await page.fill("#verifier", "4567");
  await page.click("#submit");
  await page.waitForSelector(".card[data-level=detail]");
  assert.doesNotMatch(page.url(), /verifier|4567|number=/);
  await assertInOrder(page, shown.number, ".card h2");
  await assertInOrder(page, hijri(), ".card .stage");
  await shot(page, "kiosk-phone-nojs.png");
  await context.close();
});

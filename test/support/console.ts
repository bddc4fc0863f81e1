// Staff console sessions over HTTP, for the console tests.
import type { Browser, Page } from "playwright-core";
import { http } from "./harness.ts";

/** A signed-in session: its cookie, its CSRF token, and the board page it landed on. */
export interface ConsoleSession {
  status: number;
  cookie: string;
  csrf: string;
  text: string;
}

/**
 * Signs in as the login form does (its double-submit token), then reads the board for the
 * session's own CSRF token. A refused sign-in answers an empty cookie and the page's text.
 *
 * @example
 *   const s = await consoleSignIn(node.url, "admin1", PASSWORD);
 *   await consolePost(node.url, "/console/departments/LEGAL", s.cookie, { csrf: s.csrf, replyPeriodDays: "7" });
 */
export async function consoleSignIn(base: string, username: string, password: string): Promise<ConsoleSession> {
  const form = await fetch(`${base}/console/login`);
  const loginCookie = form.headers.getSetCookie()[0]!.split(";")[0]!;
  const token = /name="csrf" value="([^"]+)"/.exec(await form.text())![1]!;
  const res = await fetch(`${base}/console/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: loginCookie },
    body: new URLSearchParams({ csrf: token, username, password }),
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith("taqib_console="))?.split(";")[0] ?? "";
  if (!cookie) return { status: res.status, cookie, csrf: "", text: await res.text() };
  const board = await http(base, "GET", "/console/board", undefined, { cookie });
  return { status: res.status, cookie, csrf: /name="csrf" value="([^"]+)"/.exec(board.text)?.[1] ?? "", text: board.text };
}

/** A form post with the session's cookie, redirects not followed. */
export const consolePost = (base: string, path: string, cookie: string, fields: Record<string, string>) =>
  fetch(base + path, { method: "POST", redirect: "manual", headers: { "content-type": "application/x-www-form-urlencoded", cookie }, body: new URLSearchParams(fields) });

/**
 * Signs in through the login form in a new browser page (desktop size unless told), and
 * answers the page on the board.
 *
 * @example
 *   const page = await consoleBrowserSignIn(browser, node.url, "admin1", PASSWORD, { viewport: { width: 768, height: 1024 } });
 */
export async function consoleBrowserSignIn(
  browser: Browser,
  base: string,
  username: string,
  password: string,
  opts: { viewport?: { width: number; height: number }; acceptDownloads?: boolean } = {},
): Promise<Page> {
  const page = await browser.newPage({ viewport: opts.viewport ?? { width: 1366, height: 768 }, acceptDownloads: opts.acceptDownloads });
  await page.goto(`${base}/console/login`);
  await page.fill("#username", username);
  await page.fill("#password", password);
  await page.click("button[type=submit]:not(header button)");
  await page.waitForURL(/\/console\/board$/);
  return page;
}

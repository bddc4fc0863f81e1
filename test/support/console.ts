// Staff console sessions over HTTP, for the console tests.
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

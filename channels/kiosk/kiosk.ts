/**
 * kiosk: the touch screen at the building's gate.
 *
 * - `GET /kiosk?kiosk=gate-1` — a full-screen Arabic page with an on-screen keypad (large
 *   keys, Arabic-Indic digits), the answer in large type, and a reset to the start screen
 *   after 60 s idle (`?idle=2` seconds, or the page's `data-idle-ms`, for tests and
 *   installers). Only the coarse status shows unless the citizen keys in the verifier (the
 *   last 4 digits of their mobile) too. The page asks `/kiosk/answer` with fetch; without
 *   JavaScript its form still works (a GET to the same page).
 * - `GET /kiosk/answer?kiosk=&number=&verifier=&lang=` — `{ outcome, html }`, the answer
 *   rendered by this plugin's templates, with the same statuses as the web API.
 *
 * The kiosk id (with the client's address) is the rate-limit identity.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import {
  definePlugin,
  langOf,
  queryValue,
  type ChannelContext,
  type ChannelRequest,
  type ChannelResponse,
  type InquiryAnswer,
  type Lang,
} from "../contract.ts";

export interface KioskConfig {
  /** Idle time before the screen resets (default 60 s). */
  idleMs: number;
}

export interface KioskQuestion {
  /** The kiosk id, or undefined when missing or malformed. */
  kiosk: string | undefined;
  lang: Lang;
  number: string;
  verifier: string;
  asked: boolean;
  /** The idle reset, from `?idle=<seconds>` (1..3600) or the configured default. */
  idleMs: number;
}

const KIOSK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$/;

/** Reads the query of the page or of `/kiosk/answer`. */
export function parseKioskQuery(query: ChannelRequest["query"], config: KioskConfig): KioskQuestion {
  const kiosk = queryValue(query, "kiosk");
  const idle = Number(queryValue(query, "idle"));
  return {
    kiosk: kiosk && KIOSK_ID.test(kiosk) ? kiosk : undefined,
    lang: langOf(queryValue(query, "lang")),
    number: (queryValue(query, "number") ?? "").slice(0, 100),
    verifier: (queryValue(query, "verifier") ?? "").slice(0, 20),
    asked: queryValue(query, "number") !== undefined,
    idleMs: Number.isFinite(idle) && idle >= 1 && idle <= 3600 ? Math.round(idle * 1000) : config.idleMs,
  };
}

/** Same statuses as the web channel. */
export function statusOf(answer: InquiryAnswer): number {
  return { found: 200, "invalid-number": 400, "invalid-verifier": 400, "not-found": 404, "rate-limited": 429, unavailable: 503 }[answer.outcome];
}

/** The answer as an HTML fragment in large type. */
export function renderAnswer(answer: InquiryAnswer, ctx: Pick<ChannelContext, "templates" | "format">, lang: Lang): string {
  return ctx.templates.render("answer.html", lang, {
    answer,
    details: (answer.outcome === "found" && answer.details) || {},
    wait: answer.outcome === "rate-limited" ? ctx.format.waitTime(answer.retryAfterMs, lang) : "",
  });
}

function ask(q: KioskQuestion, req: ChannelRequest, ctx: ChannelContext<KioskConfig>): Promise<InquiryAnswer> {
  return ctx.inquiry.ask({
    number: q.number,
    verifier: q.verifier,
    identities: [
      { kind: "kiosk", value: q.kiosk! },
      { kind: "ip", value: req.ip },
    ],
  });
}

const headers = (nonce: string, lang: Lang): Record<string, string> => ({
  "content-type": "text/html; charset=utf-8",
  "content-language": lang,
  "content-security-policy": `default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  "referrer-policy": "no-referrer",
  "cache-control": "no-store",
});

const retryAfter = (answer: InquiryAnswer | undefined): Record<string, string> =>
  answer?.outcome === "rate-limited" ? { "retry-after": String(Math.max(1, Math.ceil(answer.retryAfterMs / 1000))) } : {};

/** The kiosk page: the keypad, and the answer when the (no-JavaScript) form asked. */
export function renderPage(q: KioskQuestion, answer: InquiryAnswer | undefined, ctx: Pick<ChannelContext, "templates" | "format">, nonce: string): string {
  const switchQuery = new URLSearchParams({ kiosk: q.kiosk ?? "" });
  if (q.lang === "ar") switchQuery.set("lang", "en");
  if (q.idleMs) switchQuery.set("idle", String(q.idleMs / 1000));
  return ctx.templates.render("page.html", q.lang, {
    lang: q.lang,
    dir: q.lang === "ar" ? "rtl" : "ltr",
    nonce,
    kiosk: q.kiosk ?? "",
    badKiosk: !q.kiosk,
    idleMs: q.idleMs,
    switchHref: `?${switchQuery.toString()}`,
    form: { number: q.number, verifier: q.verifier },
    asked: !!answer,
    answerHtml: answer ? renderAnswer(answer, ctx, q.lang) : "",
    keys: ["1", "2", "3", "4", "5", "6", "7", "8", "9"].map((d) => ({ value: d, label: q.lang === "ar" ? ctx.format.arabicDigits(d) : d })),
    zero: { value: "0", label: q.lang === "ar" ? ctx.format.arabicDigits("0") : "0" },
  });
}

async function page(req: ChannelRequest, ctx: ChannelContext<KioskConfig>): Promise<ChannelResponse> {
  const q = parseKioskQuery(req.query, ctx.config);
  const answer = q.kiosk && q.asked ? await ask(q, req, ctx) : undefined;
  const nonce = randomBytes(16).toString("base64");
  return {
    status: !q.kiosk ? 400 : answer ? statusOf(answer) : 200,
    headers: { ...headers(nonce, q.lang), ...retryAfter(answer) },
    body: renderPage(q, answer, ctx, nonce),
  };
}

async function answerRoute(req: ChannelRequest, ctx: ChannelContext<KioskConfig>): Promise<ChannelResponse> {
  const q = parseKioskQuery(req.query, ctx.config);
  const json = (status: number, body: object, extra: Record<string, string> = {}): ChannelResponse => ({
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...extra },
    body: JSON.stringify(body),
  });
  if (!q.kiosk) {
    return json(400, {
      error: {
        code: "INVALID_KIOSK",
        message: "The kiosk id is missing or invalid: add ?kiosk=<id> (letters, digits, . _ -) to the kiosk's address",
        messageAr: "معرّف الجهاز مفقود أو غير صحيح: أضف ‎?kiosk=<المعرف>‎ إلى عنوان صفحة الجهاز",
      },
    });
  }
  const answer = await ask(q, req, ctx);
  return json(
    statusOf(answer),
    {
      outcome: answer.outcome,
      ...(answer.outcome === "found" ? { stage: answer.stage, level: answer.level } : {}),
      html: renderAnswer(answer, ctx, q.lang),
    },
    retryAfter(answer),
  );
}

export default definePlugin<KioskConfig>({
  name: "kiosk",
  description: "touch-screen kiosk page with an on-screen keypad",
  routes: [
    { method: "GET", path: "/kiosk", handler: page },
    { method: "GET", path: "/kiosk/answer", handler: answerRoute },
  ],
});

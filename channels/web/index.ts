/**
 * web: the public inquiry page (Arabic, RTL; English with `?lang=en`) and the JSON API.
 *
 * - `GET /` — the page. Its form is a plain GET form to the same page, so it works
 *   without JavaScript; the answer appears on the same page.
 * - `GET /api/v1/inquiry?number=&verifier=&lang=` — the same answer as JSON (public, no
 *   key): 200 with the answer, or `{ error: { code, message, messageAr } }` with 400 (bad
 *   number, verifier or language), 404 (unknown number), 429 (+ Retry-After) or 503.
 *
 * The client's address is the rate-limit identity.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import {
  definePlugin,
  shownNumber,
  langOf,
  queryValue,
  retryAfterSeconds,
  withDisplayNumbers,
  type ChannelContext,
  type ChannelRequest,
  type ChannelResponse,
  type InquiryAnswer,
  type Lang,
  type Office,
} from "../contract.ts";

export interface WebConfig {
  /** Where the language switch and form point: the page's own path. */
  pagePath: string;
  /** The SMS short code the page mentions. */
  shortCode: string;
  /** The digits of the Arabic page (DIGITS); the English page always has Latin digits. */
  digits: "latin" | "arabic";
  /** The office named on every page (OFFICE_*). */
  office: Office;
}

/** The office in the page's language, for templates (`office.name`, `office.phone`, `office.hours`). */
export function officeData(office: Office, lang: Lang) {
  return { name: lang === "ar" ? office.nameAr : office.nameEn, phone: office.phone, hours: lang === "ar" ? office.hoursAr : office.hoursEn };
}

/** What the page or the API was asked. */
export interface WebQuestion {
  lang: Lang;
  /** Raw values as typed (kept to refill the form). */
  number: string;
  verifier: string;
  /** True when a number was submitted (even an empty one: `?number=`). */
  asked: boolean;
  /** A `lang` value other than ar/en (the API refuses it; the page ignores it). */
  badLang: boolean;
}

/** Reads the query of the page or the API. */
export function parseWebQuery(query: ChannelRequest["query"]): WebQuestion {
  const rawLang = queryValue(query, "lang");
  const number = (queryValue(query, "number") ?? "").slice(0, 200);
  const verifier = (queryValue(query, "verifier") ?? "").slice(0, 50);
  return {
    lang: langOf(rawLang),
    number,
    verifier,
    asked: queryValue(query, "number") !== undefined,
    badLang: rawLang !== undefined && rawLang !== "" && !/^(ar|en)$/i.test(rawLang),
  };
}

/** HTTP status of an answer, the same for the page and the API. */
export function statusOf(answer: InquiryAnswer): number {
  switch (answer.outcome) {
    case "found":
      return 200;
    case "invalid-number":
    case "invalid-verifier":
      return 400;
    case "not-found":
      return 404;
    case "rate-limited":
      return 429;
    case "unavailable":
      return 503;
  }
}

/** Stable error codes of the API. */
export function errorCodeOf(answer: InquiryAnswer): string | undefined {
  switch (answer.outcome) {
    case "invalid-number":
      return answer.reason === "empty" ? "NUMBER_REQUIRED" : "INVALID_TRANSACTION_NUMBER";
    case "invalid-verifier":
      return "INVALID_VERIFIER";
    case "not-found":
      return "TRANSACTION_NOT_FOUND";
    case "rate-limited":
      return "RATE_LIMITED";
    case "unavailable":
      return "SERVICE_UNAVAILABLE";
    default:
      return undefined;
  }
}

const retryHeaders = (answer: InquiryAnswer): Record<string, string> =>
  answer.outcome === "rate-limited" ? { "retry-after": String(retryAfterSeconds(answer.retryAfterMs)) } : answer.outcome === "unavailable" ? { "retry-after": "30" } : {};

/** The data every template of this plugin gets for an answer. */
export function answerData(answer: InquiryAnswer, ctx: Pick<ChannelContext, "format">, lang: Lang, digits: WebConfig["digits"] = "latin") {
  const shown = withDisplayNumbers(answer);
  return {
    answer: shown,
    /** The details, or {} at the coarse level (templates test `details.department`). */
    details: (shown.outcome === "found" && shown.details) || {},
    // The same wait as the Retry-After header, in seconds under a minute.
    wait: answer.outcome === "rate-limited" ? ctx.format.waitTime(answer.retryAfterMs, lang, { seconds: true }) : "",
    digits,
  };
}

const iso = (d: Date | undefined) => (d ? new Date(d).toISOString() : undefined);

/** The API's JSON for an answer (dates in ISO 8601, both languages' sentence). */
export function answerJson(answer: InquiryAnswer, ctx: Pick<ChannelContext, "format" | "templates">, lang: Lang, digits: WebConfig["digits"] = "latin"): { status: number; body: object } {
  const message = ctx.templates.render("message.txt", "en", answerData(answer, ctx, "en"));
  const messageAr = ctx.templates.render("message.txt", "ar", answerData(answer, ctx, "ar", digits));
  const status = statusOf(answer);
  if (answer.outcome !== "found") {
    return { status, body: { error: { code: errorCodeOf(answer), message, messageAr } } };
  }
  const d = answer.details;
  return {
    status,
    body: {
      number: answer.number,
      displayNumber: shownNumber(answer),
      stage: answer.stage,
      ...(answer.issuedOn ? { issuedOn: iso(answer.issuedOn) } : {}),
      level: answer.level,
      proof: answer.proof,
      verification: answer.verification,
      ...(d
        ? {
            details: {
              ...(d.registeredAt ? { registeredAt: iso(d.registeredAt) } : {}),
              ...(d.department ? { department: d.department } : {}),
              outgoing: d.outgoing.map((o) => ({
                number: o.number,
                displayNumber: shownNumber(o),
                date: iso(o.date),
                destination: o.destination,
                requiresReply: o.requiresReply,
                replied: o.replied,
                ...(o.replyDate ? { replyDate: iso(o.replyDate) } : {}),
              })),
              ...(d.closedAt ? { closedAt: iso(d.closedAt) } : {}),
            },
          }
        : {}),
      lang,
      text: lang === "ar" ? messageAr : message,
      message,
      messageAr,
    },
  };
}

/** The page's HTML for a question and its answer (none before a number is asked). */
export function renderPage(
  q: WebQuestion,
  answer: InquiryAnswer | undefined,
  ctx: Pick<ChannelContext<WebConfig>, "format" | "templates" | "config">,
  nonce: string,
): string {
  const other: Lang = q.lang === "ar" ? "en" : "ar";
  const switchQuery = new URLSearchParams();
  if (other === "en") switchQuery.set("lang", "en");
  if (q.number) switchQuery.set("number", q.number);
  const qs = switchQuery.toString();
  return ctx.templates.render("page.html", q.lang, {
    lang: q.lang,
    dir: q.lang === "ar" ? "rtl" : "ltr",
    nonce,
    action: ctx.config.pagePath,
    shortCode: ctx.config.shortCode,
    office: officeData(ctx.config.office, q.lang),
    switchHref: ctx.config.pagePath + (qs ? `?${qs}` : ""),
    form: { number: q.number, verifier: q.verifier },
    asked: !!answer,
    digits: ctx.config.digits,
    ...(answer ? answerData(answer, ctx, q.lang, ctx.config.digits) : { answer: { outcome: "none" }, wait: "" }),
  });
}

const SECURITY_HEADERS = (nonce: string) => ({
  "content-security-policy": `default-src 'none'; style-src 'nonce-${nonce}'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-store",
});

async function page(req: ChannelRequest, ctx: ChannelContext<WebConfig>): Promise<ChannelResponse> {
  const q = parseWebQuery(req.query);
  const answer = q.asked ? await ctx.inquiry.ask({ number: q.number, verifier: q.verifier, identities: [{ kind: "ip", value: req.ip }] }) : undefined;
  const nonce = randomBytes(16).toString("base64");
  return {
    status: answer ? statusOf(answer) : 200,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-language": q.lang,
      ...SECURITY_HEADERS(nonce),
      ...(answer ? retryHeaders(answer) : {}),
    },
    body: renderPage(q, answer, ctx, nonce),
  };
}

async function api(req: ChannelRequest, ctx: ChannelContext<WebConfig>): Promise<ChannelResponse> {
  const q = parseWebQuery(req.query);
  const json = (status: number, body: object, extra: Record<string, string> = {}): ChannelResponse => ({
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "access-control-allow-origin": "*", ...extra },
    body: JSON.stringify(body),
  });
  if (q.badLang) {
    return json(400, { error: { code: "INVALID_LANG", message: 'lang must be "ar" or "en"', messageAr: 'قيمة اللغة يجب أن تكون "ar" أو "en"' } });
  }
  const answer = await ctx.inquiry.ask({ number: q.number, verifier: q.verifier, identities: [{ kind: "ip", value: req.ip }] });
  const { status, body } = answerJson(answer, ctx, q.lang, ctx.config.digits);
  return json(status, body, retryHeaders(answer));
}

export default definePlugin({
  name: "web",
  description: "public inquiry page (Arabic RTL, English switch) and JSON API",
  config: (_env, host): WebConfig => ({ pagePath: "/", shortCode: host.shortCode, digits: host.digits, office: host.office }),
  routes: [
    { method: "GET", path: "/", handler: page },
    { method: "GET", path: "/api/v1/inquiry", handler: api },
  ],
});

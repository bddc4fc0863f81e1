/**
 * ivr: the phone line. Twilio-compatible webhooks answering TwiML, and the same flow in
 * VoiceXML for platforms that speak it.
 *
 * The call (each arrow is a webhook; the count of attempts travels in the action URL):
 *
 *     /voice   → greeting, Gather the number (DTMF, finish with #)
 *     /number  → Digits: the status in Arabic speech (numbers digit by digit, the Hijri date
 *                in words), then Gather 1 (repeat) or 2 (end) → /menu
 *                no or bad input, unknown number: say so and Gather again, up to 3 times,
 *                then goodbye and hang up; rate-limited or unavailable: say so, hang up
 *     /menu    → 1: the status again; 2: goodbye; anything else: ask again (3 times)
 *
 * TwiML at `/channels/ivr/{voice,number,menu}`, VoiceXML at `/channels/ivr/vxml/{voice,number,menu}`.
 * Every request must carry a valid `X-Twilio-Signature` when `TWILIO_AUTH_TOKEN` is set
 * (403 otherwise). The caller number (`From`) is the rate-limit identity and, when it is the
 * citizen's mobile, the proof of ownership. `?lang=en` on the first URL gives an English line.
 *
 * @module
 */
import {
  definePlugin,
  langOf,
  parseForm,
  queryValue,
  type ChannelContext,
  type ChannelRequest,
  type ChannelResponse,
  type ChannelRoute,
  type InquiryAnswer,
  type Lang,
} from "../contract.ts";
import { validTwilioSignature, type FormParams } from "./signature.ts";

export interface IvrConfig {
  /** TWILIO_AUTH_TOKEN; unset: requests are not checked (development only). */
  authToken?: string;
}

export type Platform = "twiml" | "vxml";
export type Step = "voice" | "number" | "menu";

/** Times a caller is asked again after no or bad input, before goodbye. */
export const MAX_REPROMPTS = 3;

/** What a webhook request says, whatever the platform. */
export interface CallInput {
  /** The keys pressed; undefined when none (timeout). */
  digits: string | undefined;
  /** The caller's number as the platform gave it (`+9665…`, or "" when withheld). */
  from: string;
  /** Which prompt this is an answer to: 1 for the first. */
  attempt: number;
  /** The transaction number being discussed (menu step). */
  number: string | undefined;
  lang: Lang;
}

/** A platform-neutral step of the call: statements, then a question or a hang-up. */
export interface IvrScript {
  say: string[];
  gather?: { kind: "number" | "menu"; prompt: string; action: string };
  hangup: boolean;
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The form parameters a request is signed over (none for a GET or a JSON body). */
export function signedParams(req: ChannelRequest): FormParams {
  if (req.method !== "POST") return {};
  if (/json/i.test(req.headers["content-type"] ?? "")) return {};
  return parseForm(req.rawBody);
}

/** Reads a webhook request: POST form fields (Twilio, VoiceXML submit) and our own query parameters. */
export function parseCall(req: ChannelRequest): CallInput {
  const form = signedParams(req);
  const field = (k: string) => first(form[k]) ?? queryValue(req.query, k);
  const digits = field("Digits");
  const rawFrom = (field("From") ?? field("Caller") ?? "").trim();
  // VoiceXML gives a URI: tel:+9665…, sip:+9665…@host
  const from = rawFrom.replace(/^(tel|sip|sips):/i, "").replace(/[@;].*$/, "").slice(0, 32);
  const attempt = Number.parseInt(queryValue(req.query, "attempt") ?? "1", 10);
  const number = queryValue(req.query, "number");
  return {
    digits: digits === undefined || digits.trim() === "" ? undefined : digits.trim().slice(0, 40),
    from: /^(anonymous|restricted|unknown|private|blocked)$/i.test(from) ? "" : from,
    attempt: Number.isInteger(attempt) && attempt >= 1 && attempt <= MAX_REPROMPTS + 1 ? attempt : MAX_REPROMPTS + 1,
    number: number && /^\d{1,20}$/.test(number) ? number : undefined,
    lang: langOf(queryValue(req.query, "lang")),
  };
}

/** Absolute URLs of the flow's steps, on the URL the platform used (so proxies and prefixes work). */
export function stepUrls(req: ChannelRequest, platform: Platform, lang: Lang) {
  const base = req.url.split("?")[0]!;
  const root = base.endsWith(req.path) ? base.slice(0, base.length - req.path.length) : new URL(req.url).origin;
  const prefix = `${root}/channels/ivr${platform === "vxml" ? "/vxml" : ""}`;
  const q = (params: Record<string, string | number>) => {
    const s = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
    if (lang === "en") s.set("lang", "en");
    return s.toString();
  };
  return {
    number: (attempt: number) => `${prefix}/number?${q({ attempt })}`,
    menu: (number: string, attempt: number) => `${prefix}/menu?${q({ number, attempt })}`,
  };
}

type Urls = ReturnType<typeof stepUrls>;
type Ctx = Pick<ChannelContext<IvrConfig>, "templates" | "inquiry" | "format">;

function answerData(answer: InquiryAnswer, ctx: Pick<Ctx, "format">, lang: Lang) {
  const details = (answer.outcome === "found" && answer.details) || {};
  const outgoing = answer.outcome === "found" ? answer.details?.outgoing ?? [] : [];
  return {
    answer,
    details,
    latest: outgoing[outgoing.length - 1] ?? false,
    wait: answer.outcome === "rate-limited" ? ctx.format.waitTime(answer.retryAfterMs, lang) : "",
  };
}

/** The first prompt of a call. */
export function greetingScript(ctx: Ctx, urls: Urls, lang: Lang): IvrScript {
  return {
    say: [ctx.templates.render("greeting.txt", lang, {})],
    gather: { kind: "number", prompt: ctx.templates.render("enter.txt", lang, { again: false }), action: urls.number(1) },
    hangup: false,
  };
}

function goodbye(ctx: Ctx, lang: Lang, say: string[] = []): IvrScript {
  return { say: [...say, ctx.templates.render("goodbye.txt", lang, {})], hangup: true };
}

/** No, bad or unknown input: say what was wrong, then ask again or, after MAX_REPROMPTS, hang up. */
function tryAgain(ctx: Ctx, urls: Urls, input: CallInput, why: "no-input" | "invalid" | "not-found" | "menu", answer?: InquiryAnswer): IvrScript {
  const say = [ctx.templates.render("problem.txt", input.lang, { why, ...(answer ? answerData(answer, ctx, input.lang) : { answer: {} }) })];
  if (input.attempt > MAX_REPROMPTS) return goodbye(ctx, input.lang, say);
  if (why === "menu") {
    return { say, gather: { kind: "menu", prompt: ctx.templates.render("menu.txt", input.lang, {}), action: urls.menu(input.number!, input.attempt + 1) }, hangup: false };
  }
  return { say, gather: { kind: "number", prompt: ctx.templates.render("enter.txt", input.lang, { again: true }), action: urls.number(input.attempt + 1) }, hangup: false };
}

/** Asks the core and speaks the answer (then the repeat/end menu). */
async function statusScript(ctx: Ctx, urls: Urls, input: CallInput, number: string, onBad: (answer: InquiryAnswer) => IvrScript): Promise<IvrScript> {
  const answer = await ctx.inquiry.ask({
    number,
    identities: [{ kind: "caller", value: input.from || "withheld" }],
    ...(input.from ? { mobile: input.from } : {}),
  });
  const data = answerData(answer, ctx, input.lang);
  switch (answer.outcome) {
    case "found":
      return {
        say: [ctx.templates.render("answer.txt", input.lang, data)],
        gather: { kind: "menu", prompt: ctx.templates.render("menu.txt", input.lang, {}), action: urls.menu(answer.number, 1) },
        hangup: false,
      };
    case "rate-limited":
      return { say: [ctx.templates.render("limited.txt", input.lang, data)], hangup: true };
    case "unavailable":
      return { say: [ctx.templates.render("unavailable.txt", input.lang, data)], hangup: true };
    default:
      return onBad(answer);
  }
}

/** The script of a step for a request. */
export async function script(step: Step, input: CallInput, ctx: Ctx, urls: Urls): Promise<IvrScript> {
  if (step === "voice") return greetingScript(ctx, urls, input.lang);
  if (step === "number") {
    if (input.digits === undefined) return tryAgain(ctx, urls, input, "no-input");
    const digits = input.digits.replace(/[#*]+$/, "");
    if (!/^\d+$/.test(digits)) return tryAgain(ctx, urls, input, "invalid");
    return statusScript(ctx, urls, input, digits, (a) => tryAgain(ctx, urls, input, a.outcome === "not-found" ? "not-found" : "invalid", a));
  }
  // menu
  if (!input.number) return goodbye(ctx, input.lang);
  if (input.digits === "1") {
    return statusScript(ctx, urls, { ...input, attempt: 1 }, input.number, () => goodbye(ctx, input.lang));
  }
  if (input.digits === "2") return goodbye(ctx, input.lang);
  return tryAgain(ctx, urls, input, "menu");
}

/** The script as TwiML or VoiceXML. */
export function renderScript(s: IvrScript, platform: Platform, ctx: Pick<Ctx, "templates">, lang: Lang): ChannelResponse {
  const data = { ...s, gather: s.gather ?? false, voiceLang: lang === "ar" ? "ar-SA" : "en-US" };
  return platform === "twiml"
    ? { headers: { "content-type": "text/xml; charset=utf-8", "cache-control": "no-store" }, body: ctx.templates.render("twiml.xml", lang, data) }
    : { headers: { "content-type": "application/voicexml+xml; charset=utf-8", "cache-control": "no-store" }, body: ctx.templates.render("vxml.xml", lang, data) };
}

/** 403 unless the request is signed with the auth token (when one is configured). */
export function checkSignature(req: ChannelRequest, authToken: string | undefined): ChannelResponse | undefined {
  if (!authToken) return undefined;
  if (validTwilioSignature(authToken, req.headers["x-twilio-signature"], req.url, signedParams(req), req.rawBody)) return undefined;
  return {
    status: 403,
    headers: { "content-type": "text/plain; charset=utf-8" },
    body: req.headers["x-twilio-signature"] ? "Forbidden: the X-Twilio-Signature is not valid for this URL and body.\n" : "Forbidden: X-Twilio-Signature is missing.\n",
  };
}

function handler(step: Step, platform: Platform) {
  return async (req: ChannelRequest, ctx: ChannelContext<IvrConfig>): Promise<ChannelResponse> => {
    const refused = checkSignature(req, ctx.config.authToken);
    if (refused) {
      ctx.logger.warn(`IVR ${platform} ${step}: refused a request with a ${req.headers["x-twilio-signature"] ? "wrong" : "missing"} signature from ${req.ip}`);
      return refused;
    }
    const input = parseCall(req);
    const s = await script(step, input, ctx, stepUrls(req, platform, input.lang));
    return renderScript(s, platform, ctx, input.lang);
  };
}

const routes: ChannelRoute<IvrConfig>[] = [];
for (const platform of ["twiml", "vxml"] as const) {
  for (const step of ["voice", "number", "menu"] as const) {
    const path = `/channels/ivr${platform === "vxml" ? "/vxml" : ""}/${step}`;
    for (const method of ["POST", "GET"] as const) routes.push({ method, path, handler: handler(step, platform) });
  }
}

export default definePlugin<IvrConfig>({
  name: "ivr",
  description: "phone line: Twilio-compatible TwiML webhooks and a VoiceXML variant, Arabic speech",
  routes,
  started(ctx) {
    if (!ctx.config.authToken) ctx.logger.warn("TWILIO_AUTH_TOKEN is not set: IVR webhook signatures are NOT checked (development only)");
  },
});

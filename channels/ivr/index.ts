/**
 * ivr: the phone line. Twilio-compatible webhooks answering TwiML, and the same flow in
 * VoiceXML for platforms that speak it.
 *
 * The call (each arrow is a webhook; the count of attempts travels in the action URL):
 *
 *     /voice    → greeting, Gather the number (DTMF, finish with #)
 *     /number   → Digits: the coarse stage in Arabic speech (numbers digit by digit, the Hijri
 *                 date in words), then Gather the verifier → /verifier
 *                 no or bad input, unknown number: say so and Gather again, up to 3 times,
 *                 then goodbye and hang up; rate-limited or unavailable: say so, hang up
 *     /verifier → Digits: the last 4 digits of the citizen's registered mobile; matched: the
 *                 details (outgoing number, agency, reply), then Gather 1 (repeat) or 2 (end)
 *                 → /menu; wrong: say so and ask again (3 times); only # or nothing: goodbye
 *     /menu     → 1: the details again; 2: goodbye; anything else: ask again (3 times)
 *
 * TwiML at `/channels/ivr/{voice,number,verifier,menu}`, VoiceXML at `/channels/ivr/vxml/…`.
 * Every request must carry a valid `X-Twilio-Signature` (403 otherwise); TWILIO_AUTH_TOKEN
 * may be unset only with DEV_INSECURE=1, and then nothing is checked.
 *
 * Caller ID can be spoofed upstream, so it proves nothing: the details need the same
 * verifier the web asks for (the core's per-number lock applies), and both the caller and
 * the number asked about are rate-limit identities, so rotating callers does not help.
 *
 * Against replay, every action URL we generate carries its issue time (`at`), which the
 * signature covers: a step is refused after {@link STEP_WINDOW_MS}, and within that window
 * each signed request is answered once, on any node (its signature is inserted uniquely
 * in the database). A refused replay gets 403 (the platform ends the call with its error
 * message), never speech. "Press 1 to repeat" is a new request to a new URL, so it works.
 * The verifier travels between steps only sealed (AES-GCM with a key derived from the auth
 * token), bound to the call and the number. `?lang=en` on the first URL gives an English line.
 *
 * @module
 */
import {
  definePlugin,
  setting,
  langOf,
  withDisplayNumbers,
  parseForm,
  queryValue,
  type ChannelContext,
  type ChannelRequest,
  type ChannelResponse,
  type ChannelRoute,
  type InquiryAnswer,
  type Lang,
} from "../contract.ts";
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { validTwilioSignature, type FormParams } from "./signature.ts";

export interface IvrConfig {
  /** TWILIO_AUTH_TOKEN; unset (only with DEV_INSECURE=1): requests are not checked. */
  authToken?: string;
  /** IVR_VOICE: the voice of the Arabic `<Say>` (`Polly.Zeina`, `Google.ar-XA-Standard-A`); unset: the platform's default, which speaks no Arabic on Twilio. */
  voice?: string;
  /** IVR_LANGUAGE: the language of the Arabic `<Say>` (default `ar-SA`; `arb` for Polly.Zeina, `ar-XA` for Google voices). */
  language?: string;
}

export type Platform = "twiml" | "vxml";
export type Step = "voice" | "number" | "verifier" | "menu";

/** Times a caller is asked again after no or bad input, before goodbye. */
export const MAX_REPROMPTS = 3;
/** How long an action URL we generate may be answered (a Gather waits seconds, not minutes). */
export const STEP_WINDOW_MS = 10 * 60_000;
/** Clock difference between nodes tolerated on `at`. */
const CLOCK_SKEW_MS = 60_000;

/** What a webhook request says, whatever the platform. */
export interface CallInput {
  /** The keys pressed; undefined when none (timeout). */
  digits: string | undefined;
  /** The caller's number as the platform gave it (`+9665…`, or "" when withheld). */
  from: string;
  /** Which prompt this is an answer to: 1 for the first. */
  attempt: number;
  /** The transaction number being discussed (verifier and menu steps). */
  number: string | undefined;
  /** The platform's call id (Twilio's CallSid), "" when none. */
  callSid: string;
  /** The sealed verifier of the menu step (`v`), undefined when absent. */
  sealed: string | undefined;
  lang: Lang;
}

/** A platform-neutral step of the call: statements, then a question or a hang-up. */
export interface IvrScript {
  say: string[];
  gather?: { kind: "number" | "verifier" | "menu"; prompt: string; action: string };
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
  const sealed = queryValue(req.query, "v");
  return {
    digits: digits === undefined || digits.trim() === "" ? undefined : digits.trim().slice(0, 40),
    from: /^(anonymous|restricted|unknown|private|blocked)$/i.test(from) ? "" : from,
    attempt: Number.isInteger(attempt) && attempt >= 1 && attempt <= MAX_REPROMPTS + 1 ? attempt : MAX_REPROMPTS + 1,
    number: number && /^\d{1,20}$/.test(number) ? number : undefined,
    callSid: (field("CallSid") ?? "").slice(0, 64),
    sealed: sealed && /^[\w-]{1,200}$/.test(sealed) ? sealed : undefined,
    lang: langOf(queryValue(req.query, "lang")),
  };
}

// ------------------------------------------------------------------ the verifier between steps

const DEV_SEAL_KEY = "taqib development only: no TWILIO_AUTH_TOKEN";
const sealKey = (authToken: string | undefined) => createHash("sha256").update(`taqib ivr verifier\0${authToken ?? DEV_SEAL_KEY}`).digest();

/**
 * The verifier sealed for the menu's action URL (AES-256-GCM, bound to the call and the
 * number), so it is in no log and cannot be moved to another call or number.
 *
 * @example
 *   unsealVerifier(token, sealVerifier(token, "4567", "CA1", "144500123"), "CA1", "144500123") // "4567"
 */
export function sealVerifier(authToken: string | undefined, verifier: string, callSid: string, number: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", sealKey(authToken), iv).setAAD(Buffer.from(`${callSid}\0${number}`));
  const data = Buffer.concat([cipher.update(verifier, "utf8"), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), data]).toString("base64url");
}

/** The verifier {@link sealVerifier} sealed, or undefined when it was not sealed for this call and number. */
export function unsealVerifier(authToken: string | undefined, sealed: string | undefined, callSid: string, number: string): string | undefined {
  if (!sealed) return undefined;
  try {
    const raw = Buffer.from(sealed, "base64url");
    const decipher = createDecipheriv("aes-256-gcm", sealKey(authToken), raw.subarray(0, 12)).setAAD(Buffer.from(`${callSid}\0${number}`));
    decipher.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString("utf8");
  } catch {
    return undefined;
  }
}

/**
 * Absolute URLs of the flow's steps, on the URL the platform used (so proxies and prefixes
 * work), each stamped with its issue time `at` (see {@link STEP_WINDOW_MS}).
 */
export function stepUrls(req: ChannelRequest, platform: Platform, lang: Lang, now = Date.now()) {
  const base = req.url.split("?")[0]!;
  const root = base.endsWith(req.path) ? base.slice(0, base.length - req.path.length) : new URL(req.url).origin;
  const prefix = `${root}/channels/ivr${platform === "vxml" ? "/vxml" : ""}`;
  const q = (params: Record<string, string | number>) => {
    const s = new URLSearchParams(Object.entries(params).map(([k, v]): [string, string] => [k, String(v)]));
    if (lang === "en") s.set("lang", "en");
    s.set("at", String(now));
    return s.toString();
  };
  return {
    number: (attempt: number) => `${prefix}/number?${q({ attempt })}`,
    verifier: (number: string, attempt: number) => `${prefix}/verifier?${q({ number, attempt })}`,
    menu: (number: string, attempt: number, sealed: string) => `${prefix}/menu?${q({ number, attempt, v: sealed })}`,
  };
}

type Urls = ReturnType<typeof stepUrls>;
type Ctx = Pick<ChannelContext<IvrConfig>, "templates" | "inquiry" | "format" | "config">;

function answerData(raw: InquiryAnswer, ctx: Pick<Ctx, "format">, lang: Lang) {
  // Spoken as the source wrote it, group by group ("1448 / 00512").
  const answer = withDisplayNumbers(raw);
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

type Problem = "no-input" | "invalid" | "not-found" | "menu" | "verifier-invalid" | "mismatch";

/** No, bad or unknown input: say what was wrong, then ask again or, after MAX_REPROMPTS, hang up. */
function tryAgain(ctx: Ctx, urls: Urls, input: CallInput, why: Problem, answer?: InquiryAnswer): IvrScript {
  const say = [ctx.templates.render("problem.txt", input.lang, { why, ...(answer ? answerData(answer, ctx, input.lang) : { answer: {} }) })];
  if (input.attempt > MAX_REPROMPTS) return goodbye(ctx, input.lang, say);
  const again = input.attempt + 1;
  if (why === "menu") {
    return { say, gather: { kind: "menu", prompt: ctx.templates.render("menu.txt", input.lang, {}), action: urls.menu(input.number!, again, input.sealed ?? "") }, hangup: false };
  }
  if (why === "verifier-invalid" || why === "mismatch") {
    return { say, gather: { kind: "verifier", prompt: ctx.templates.render("verifier.txt", input.lang, {}), action: urls.verifier(input.number!, again) }, hangup: false };
  }
  return { say, gather: { kind: "number", prompt: ctx.templates.render("enter.txt", input.lang, { again: true }), action: urls.number(again) }, hangup: false };
}

/** The rate-limit identities of a question: the caller, and the number asked about. */
function identities(ctx: Ctx, input: CallInput, number: string) {
  return [
    { kind: "caller", value: input.from || "withheld" },
    { kind: "number", value: ctx.inquiry.findNumber(number) ?? number },
  ];
}

/** Asks the core (with the verifier, when given) and speaks the answer, then what comes next. */
async function statusScript(ctx: Ctx, urls: Urls, input: CallInput, number: string, verifier: string | undefined, onBad: (answer: InquiryAnswer) => IvrScript): Promise<IvrScript> {
  // No `mobile`: a caller id is no proof of ownership (it can be spoofed upstream).
  const asked = await ctx.inquiry.ask({ number, identities: identities(ctx, input, number), ...(verifier ? { verifier } : {}) });
  // Details are spoken only against the verifier keyed in this call, whatever else proved ownership.
  const answer: InquiryAnswer = asked.outcome === "found" && asked.level === "detail" && !verifier ? { ...asked, level: "coarse", proof: "none", details: undefined } : asked;
  const data = answerData(answer, ctx, input.lang);
  switch (answer.outcome) {
    case "found":
      if (answer.level === "detail" && verifier) {
        const sealed = sealVerifier(ctx.config.authToken, verifier!, input.callSid, answer.number);
        return {
          say: [ctx.templates.render("answer.txt", input.lang, data)],
          gather: { kind: "menu", prompt: ctx.templates.render("menu.txt", input.lang, {}), action: urls.menu(answer.number, 1, sealed) },
          hangup: false,
        };
      }
      if (answer.verification === "locked") return goodbye(ctx, input.lang, [ctx.templates.render("problem.txt", input.lang, { why: "locked", ...data })]);
      if (answer.verification === "mismatch") return tryAgain(ctx, urls, { ...input, number: answer.number }, "mismatch", answer);
      return {
        say: [ctx.templates.render("answer.txt", input.lang, data)],
        gather: { kind: "verifier", prompt: ctx.templates.render("verifier.txt", input.lang, {}), action: urls.verifier(answer.number, 1) },
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
    return statusScript(ctx, urls, input, digits, undefined, (a) => tryAgain(ctx, urls, input, a.outcome === "not-found" ? "not-found" : "invalid", a));
  }
  if (!input.number) return goodbye(ctx, input.lang);
  if (step === "verifier") {
    // Only # (or nothing): the caller wanted the stage only.
    const digits = (input.digits ?? "").replace(/[#*]+$/, "");
    if (digits === "") return goodbye(ctx, input.lang);
    if (!/^\d{4}$/.test(digits)) return tryAgain(ctx, urls, input, "verifier-invalid");
    return statusScript(ctx, urls, input, input.number, digits, () => goodbye(ctx, input.lang));
  }
  // menu
  if (input.digits === "1") {
    const verifier = unsealVerifier(ctx.config.authToken, input.sealed, input.callSid, input.number);
    if (!verifier) return goodbye(ctx, input.lang);
    return statusScript(ctx, urls, { ...input, attempt: 1 }, input.number, verifier, () => goodbye(ctx, input.lang));
  }
  if (input.digits === "2") return goodbye(ctx, input.lang);
  return tryAgain(ctx, urls, input, "menu");
}

/** The script as TwiML or VoiceXML. */
export function renderScript(s: IvrScript, platform: Platform, ctx: Pick<Ctx, "templates" | "config">, lang: Lang): ChannelResponse {
  const arabic = lang === "ar";
  const data = {
    ...s,
    gather: s.gather ?? false,
    voiceLang: arabic ? ctx.config.language ?? "ar-SA" : "en-US",
    // The configured voice is an Arabic one: English calls keep the platform's default.
    voice: (arabic && ctx.config.voice) || false,
  };
  return platform === "twiml"
    ? { headers: { "content-type": "text/xml; charset=utf-8", "cache-control": "no-store" }, body: ctx.templates.render("twiml.xml", lang, data) }
    : { headers: { "content-type": "application/voicexml+xml; charset=utf-8", "cache-control": "no-store" }, body: ctx.templates.render("vxml.xml", lang, data) };
}

const forbidden = (reason: string): ChannelResponse => ({ status: 403, headers: { "content-type": "text/plain; charset=utf-8" }, body: `Forbidden: ${reason}\n` });

/** 403 unless the request is signed with the auth token (when one is configured). */
export function checkSignature(req: ChannelRequest, authToken: string | undefined): ChannelResponse | undefined {
  if (!authToken) return undefined;
  if (validTwilioSignature(authToken, req.headers["x-twilio-signature"], req.url, signedParams(req), req.rawBody)) return undefined;
  return forbidden(req.headers["x-twilio-signature"] ? "the X-Twilio-Signature is not valid for this URL and body." : "X-Twilio-Signature is missing.");
}

/**
 * 403 for a signed step request that is stale (its `at` outside {@link STEP_WINDOW_MS}) or
 * already answered; undefined when it may be answered. The greeting is exempt: it has no
 * `at` (its URL is the platform's configuration) and reveals nothing.
 */
export async function checkFresh(req: ChannelRequest, step: Step, ctx: Pick<ChannelContext<IvrConfig>, "config" | "once">, now = Date.now()): Promise<ChannelResponse | undefined> {
  if (!ctx.config.authToken || step === "voice") return undefined;
  const at = Number(queryValue(req.query, "at"));
  if (!Number.isSafeInteger(at) || at < now - STEP_WINDOW_MS || at > now + CLOCK_SKEW_MS) {
    return forbidden("this step's address has expired or was not issued by this service; do not retry: start a new call.");
  }
  // A captured request replays with the very same signature: answered once, by any node.
  if (!(await ctx.once(`step:${req.headers["x-twilio-signature"]}`, STEP_WINDOW_MS + 2 * CLOCK_SKEW_MS))) {
    return forbidden("this signed request was already answered (a replay); do not retry.");
  }
  return undefined;
}

function handler(step: Step, platform: Platform) {
  return async (req: ChannelRequest, ctx: ChannelContext<IvrConfig>): Promise<ChannelResponse> => {
    const refused = checkSignature(req, ctx.config.authToken);
    if (refused) {
      ctx.logger.warn(`IVR ${platform} ${step}: refused a request with a ${req.headers["x-twilio-signature"] ? "wrong" : "missing"} signature from ${req.ip}`);
      return refused;
    }
    const input = parseCall(req);
    let stale: ChannelResponse | undefined;
    try {
      stale = await checkFresh(req, step, ctx);
    } catch (err) {
      // Cannot tell a replay from a first request: fail closed, politely.
      ctx.logger.warn(`IVR ${platform} ${step}: replay check failed, answering "unavailable":`, err);
      return renderScript({ say: [ctx.templates.render("unavailable.txt", input.lang, {})], hangup: true }, platform, ctx, input.lang);
    }
    if (stale) {
      ctx.logger.warn(`IVR ${platform} ${step}: refused a stale or replayed signed request from ${req.ip}`);
      return stale;
    }
    const s = await script(step, input, ctx, stepUrls(req, platform, input.lang));
    return renderScript(s, platform, ctx, input.lang);
  };
}

const routes: ChannelRoute<IvrConfig>[] = [];
for (const platform of ["twiml", "vxml"] as const) {
  for (const step of ["voice", "number", "verifier", "menu"] as const) {
    const path = `/channels/ivr${platform === "vxml" ? "/vxml" : ""}/${step}`;
    for (const method of ["POST", "GET"] as const) routes.push({ method, path, handler: handler(step, platform) });
  }
}

export default definePlugin({
  name: "ivr",
  description: "phone line: Twilio-compatible TwiML webhooks and a VoiceXML variant, Arabic speech",
  env: {
    authToken: setting("TWILIO_AUTH_TOKEN", "checks `X-Twilio-Signature` on every IVR request (TwiML and VoiceXML)", { secret: true }),
    voice: setting("IVR_VOICE", "the voice of the Arabic prompts (`<Say voice=…>`), e.g. `Polly.Zeina` or `Google.ar-XA-Standard-A`: Twilio's default voice does not speak Arabic; English calls keep the default voice"),
    language: setting("IVR_LANGUAGE", "the language of the Arabic prompts (`arb` for `Polly.Zeina`, `ar-XA` for Google voices)", { default: "ar-SA" }),
  },
  config: (env): IvrConfig => env,
  routes,
});

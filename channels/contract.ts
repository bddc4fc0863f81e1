/**
 * The channel plugin contract: everything a channel plugin may use.
 *
 * A channel plugin (a folder `channels/<name>/`) turns a citizen's question, asked in the
 * channel's own form (a web form, an SMS, a phone call, a kiosk keypad, a WhatsApp
 * message), into an inquiry, and renders the inquiry's answer back in that form. It
 * imports this file and nothing else of Taqib: the host hands it, through its
 * {@link ChannelContext}, the inquiry core, its own templates, its slice of the
 * configuration (built by its own `config` from the environment variables it declares in
 * `env`: core knows none of them), a logger and the outbound sending functions. Node's built-in modules
 * (`node:crypto`, ...) are fine.
 *
 * The host (`channels/registry.ts`, `services/channels.service.ts`) runs each enabled
 * plugin as its own Moleculer service, `channel-<name>`, so a channel can run on a node of
 * its own; the HTTP gateway forwards the plugin's routes to that service as plain
 * {@link ChannelRequest}s and writes back the {@link ChannelResponse}.
 *
 * @example
 * // channels/echo/index.ts: answers `GET /channels/echo?number=...` with plain text.
 * import { definePlugin, setting } from "../contract.ts";
 *
 * export default definePlugin({
 *   name: "echo",
 *   description: "plain-text answers over HTTP",
 *   // Its own environment variables: the host reads and checks them (ECHO_GREETING=...).
 *   env: { greeting: setting("ECHO_GREETING", "the first line of every answer", { default: "أهلاً" }) },
 *   config: (env, host) => ({ greeting: env.greeting ?? "أهلاً", digits: host.digits }),
 *   routes: [
 *     {
 *       method: "GET",
 *       path: "/channels/echo",
 *       async handler(req, ctx) {
 *         const answer = await ctx.inquiry.ask({
 *           number: String(req.query.number ?? ""),
 *           identities: [{ kind: "ip", value: req.ip }],
 *         });
 *         return {
 *           headers: { "content-type": "text/plain; charset=utf-8" },
 *           body: ctx.config.greeting + "\n" + ctx.templates.render("answer.txt", "ar", { answer }),
 *         };
 *       },
 *     },
 *   ],
 * });
 *
 * // channels/registry.ts: one entry in the list enables it by name (CHANNELS=...,echo)
 * //   export const CHANNEL_PLUGINS = [web, sms, ivr, kiosk, whatsapp, echo];
 *
 * @module
 */
import type {
  Identity,
  InquiryAnswer,
  InquiryDetails,
  InquiryQuestion,
  InquiryStage,
  LocalName,
  OutgoingFact,
} from "../core/inquiry/inquiry.ts";
import type { Lang } from "../core/text/lang.ts";

export type { Identity, InquiryAnswer, InquiryDetails, InquiryQuestion, InquiryStage, Lang, LocalName, OutgoingFact };

// ------------------------------------------------------------------ HTTP

/**
 * An HTTP request as a plugin sees it: plain data, no streams, no framework objects.
 * Header names are lower case. `rawBody` is the body exactly as received (needed to
 * check signatures), `""` when there is none.
 */
export interface ChannelRequest {
  method: string;
  /** The path without the query string, e.g. `/channels/ivr/voice`. */
  path: string;
  /** Values of the route's `:name` path parameters. */
  params: Record<string, string>;
  /** The query string, decoded; a repeated key gives an array. */
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  rawBody: string;
  /** The client's address (the socket peer, or the forwarded client behind a trusted proxy). */
  ip: string;
  /**
   * The full URL as the client used it (scheme, host, path and query). With `PUBLIC_URL`
   * set it is `PUBLIC_URL` + the path and query, whatever proxy is in between: the URL a
   * webhook signature is computed over.
   */
  url: string;
}

/** What a route answers. `status` defaults to 200; `body` is sent as UTF-8. */
export interface ChannelResponse {
  status?: number;
  headers?: Record<string, string>;
  body: string;
}

export type HttpMethod = "GET" | "POST" | "PUT" | "DELETE" | "PATCH";

/** One HTTP endpoint of a plugin. `path` is absolute and may hold `:name` parameters. */
export interface ChannelRoute<C = unknown> {
  method: HttpMethod;
  path: string;
  handler(req: ChannelRequest, ctx: ChannelContext<C>): Promise<ChannelResponse> | ChannelResponse;
}

// ------------------------------------------------------------------ messages

/** A mobile-originated SMS received on the short code (SMPP deliver_sm). */
export interface MobileOriginated {
  /** The sender's address as the SMSC gave it, e.g. `966551234567`. */
  from: string;
  /** The short code it was sent to, e.g. `74747`. */
  to: string;
  text: string;
  receivedAt: Date;
}

// ------------------------------------------------------------------ context

/** The inquiry core, as handed to plugins (one for all channels). */
export interface ChannelInquiry {
  /**
   * Answers a question: normalises the number, applies the rate limits of the question's
   * identities, looks the transaction up and decides what may be revealed. Never throws
   * for bad input: every outcome is an {@link InquiryAnswer}.
   */
  ask(question: InquiryQuestion): Promise<InquiryAnswer>;
  /**
   * Counts a request that is not an inquiry (a "help" SMS, a message without a number)
   * against the same rate limits, so that answering it cannot be abused either.
   */
  limit(identities: Identity[]): { ok: true } | { ok: false; retryAfterMs: number; repeated: boolean };
  /** The first transaction number in free text (`"رقم ١٢٣-٤٥٦ لو سمحت"` → `"123456"`), or undefined. */
  findNumber(text: string): string | undefined;
  /** A Saudi mobile in E.164 (`+9665XXXXXXXX`) from any common form, or undefined. */
  normalizeMobile(input: string): string | undefined;
  /** Latin digits for Arabic-Indic ones, and bidi and format marks removed (they would split a number). */
  latinDigits(s: string): string;
}

/** The plugin's own Handlebars templates (`channels/<name>/templates/`). */
export interface ChannelTemplates {
  /**
   * Renders `templates/<lang>/<name>.hbs` (or the shared `templates/<name>.hbs`). A name
   * ending in `.html` or `.xml` is HTML/XML-escaped, any other (`.txt`) is not. Strict:
   * a missing value is an error, never a half-rendered answer. Helpers: the one set of every
   * Taqib template (core/text/template-helpers.ts): `ltr`, `isolate`, `hijri`, `gregorian`,
   * `hijriWords`, `spoken`, `digits`, `latin`, `name`, `eq`, `or`, `not` …; numbers in the
   * data's `digits` style in Arabic.
   */
  render(name: string, lang: Lang, data: object): string;
}

/** Date and number formatting in the office's conventions (Umm al-Qura, Riyadh time). */
export interface ChannelFormat {
  /** `1448/06/18هـ` (ar) / `18/06/1448 AH` (en); `long`: `18 جمادى الآخرة 1448هـ`. */
  hijri(d: Date, lang: Lang, opts?: { digits?: "latin" | "arabic"; style?: "numeric" | "long" }): string;
  /** `2026/11/28م` (ar) / `28/11/2026` (en). */
  gregorian(d: Date, lang: Lang, opts?: { digits?: "latin" | "arabic" }): string;
  /** The Hijri date in Arabic words, for speech: `الثامن عشر من جمادى الآخرة عام ...`. */
  hijriWordsAr(d: Date): string;
  /** Digit by digit in words: `"120"` → `"واحد اثنان صفر"` (ar) / `"one two zero"` (en). */
  spokenDigits(s: string, lang: Lang): string;
  /** Arabic-Indic digits: `"120"` → `"١٢٠"`. */
  arabicDigits(s: string): string;
  /**
   * A wait, rounded up to minutes, for "try again in …": `"دقيقتين"`, `"3 دقائق"` / `"2 minutes"`; under a minute: `"دقيقة واحدة"` / `"1 minute"`.
   * `seconds: true` (pages beside a `Retry-After` header): the wait {@link retryAfterSeconds} gives, in seconds under a minute (`"ثانيتين"` / `"2 seconds"`).
   */
  waitTime(ms: number, lang: Lang, opts?: { seconds?: boolean }): string;
}

/** A message for a channel with no network of its own in this deployment (see docs/channels.md). */
export interface OutgoingMessage {
  /** Recipient address in the channel's own form (a WhatsApp id, a phone number, ...). */
  to: string;
  text: string;
  lang: Lang;
  /** Makes the call idempotent: the same key queues one message. Derive it from the inbound message. */
  key: string;
}

/** A leveled logger (mobile numbers are masked by the host's log formatter). */
export interface ChannelLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** Everything the host hands a plugin. */
export interface ChannelContext<C = unknown> {
  /** The plugin's name, e.g. `"ivr"`. */
  name: string;
  inquiry: ChannelInquiry;
  templates: ChannelTemplates;
  format: ChannelFormat;
  /** The plugin's slice of the configuration (built by its own `config` from its settings). */
  config: C;
  logger: ChannelLogger;
  /**
   * Sends an SMS through Taqib's outbound pipeline (persisted job, SMPP, receipts).
   * `to` is a mobile (`+9665...`). With the same `key`, a second call sends nothing:
   * derive the key from what is being answered. Answers the message id.
   */
  sendSms(to: string, text: string, lang: Lang, opts?: { key?: string }): Promise<string>;
  /**
   * Queues a message for a channel whose delivery is done outside this process (here: the
   * WhatsApp outbox). Idempotent by `key`. Answers the message id.
   */
  queueOutgoing(message: OutgoingMessage): Promise<string>;
  /**
   * True the first time `key` is seen by any node of the deployment within `ttlMs`, false
   * after (a unique insert in the database): to refuse a replayed webhook. Throws when the
   * database cannot be asked (retry later); the caller should then refuse, not answer.
   *
   * @example
   *   if (!(await ctx.once(`ivr:${signature}`, 15 * 60_000))) return { status: 403, body: "replayed\n" };
   */
  once(key: string, ttlMs: number): Promise<boolean>;
  /**
   * Records a citizen's opt-out of non-essential SMS (`optedOut` true: "STOP") or its end
   * ("START") for a mobile (`+9665...`), with the time. Answers whether it changed anything;
   * with `key` (the request's, e.g. `moKey(mo)`), a repeat of the request that made the change
   * answers `changed: true` again, so a duplicate delivery renders the same confirmation.
   * Throws when the database cannot be asked (retry later).
   *
   * @example
   *   const { changed } = await ctx.setSmsOptOut("+966551234567", true, { key: moKey(mo) });
   */
  setSmsOptOut(mobile: string, optedOut: boolean, o?: { key?: string }): Promise<{ changed: boolean }>;
}

// ------------------------------------------------------------------ settings

/**
 * One environment variable a plugin reads: core knows none of them. The host reads it
 * (trimmed; blank is unset), parses it and hands the value to the plugin's `config`; a parse
 * error stops start-up with a configuration error naming the variable.
 */
export interface ChannelSetting<T = string | undefined> {
  /** The variable, e.g. `TWILIO_AUTH_TOKEN`. */
  variable: string;
  /** What it does, for the operator (docs/channels.md's table is generated from it). */
  description: string;
  /**
   * It authenticates the channel's callers: while the channel is enabled the node refuses to
   * start without it, unless DEV_INSECURE=1 (then the plugin gets it unset, must leave its
   * callers unchecked, and the host warns loudly).
   */
  secret: boolean;
  /** The default as the operator reads it; undefined: unset. */
  default?: string;
  /** The value from the raw one (undefined when unset); throws an Error saying what is wrong. */
  parse(raw: string | undefined): T;
}

/** A plugin's settings, by the name its `config` gets each value under. */
export type ChannelSettings = Record<string, ChannelSetting<any>>;

/** The parsed values of a plugin's settings. */
export type SettingValues<S extends ChannelSettings> = { [K in keyof S]: S[K] extends ChannelSetting<infer T> ? T : never };

/**
 * Declares an environment variable of a plugin; without `parse` its value is the string
 * (undefined when unset).
 *
 * @example
 *   env: {
 *     authToken: setting("TWILIO_AUTH_TOKEN", "checks X-Twilio-Signature on every request", { secret: true }),
 *     idleSeconds: setting("KIOSK_IDLE", "seconds before the start screen", { default: "60", parse: (raw) => Number(raw ?? 60) }),
 *   }
 */
export function setting<T = string | undefined>(
  variable: string,
  description: string,
  opts: { secret?: boolean; default?: string; parse?(raw: string | undefined): T } = {},
): ChannelSetting<T> {
  return { variable, description, secret: opts.secret ?? false, default: opts.default, parse: opts.parse ?? ((raw) => raw as T) };
}

/** The office every page and kiosk screen names (OFFICE_*). */
export interface Office {
  nameAr: string;
  nameEn: string;
  phone: string;
  hoursAr: string;
  hoursEn: string;
}

/** Taqib-wide settings the host hands every plugin's `config` (they are not any one channel's). */
export interface HostSettings {
  /** DIGITS: the digits of Arabic text, one style for every channel. */
  digits: "latin" | "arabic";
  /** OFFICE_*: the office. */
  office: Office;
  /** SMS_SENDER: the short code citizens write to. */
  shortCode: string;
}

// ------------------------------------------------------------------ plugin

/**
 * A channel plugin. `C` is the type of its configuration slice, `S` its settings.
 *
 * Conventions (see docs/channels.md): the entry is `channels/<name>/index.ts`; keep parsing
 * (request → question) and rendering (answer → response) in plain functions next to the
 * plugin and test them table-driven in `channels/<name>/index.test.ts`; templates in
 * `channels/<name>/templates/{ar,en}/`; sample inputs in `channels/<name>/fixtures/`.
 */
export interface ChannelPlugin<C = unknown, S extends ChannelSettings = ChannelSettings> {
  /** Lower-case name, the folder's name and the `CHANNELS` entry. */
  name: string;
  /** One line on what the channel is, for logs and docs. */
  description: string;
  /** The environment variables the plugin reads (none: omit). */
  env?: S;
  /** Its configuration slice, from its settings and the Taqib-wide ones; may throw like `parse`. */
  config(env: SettingValues<S>, host: HostSettings): C;
  /**
   * The folder of its `templates/` and `fixtures/`; default `channels/<name>/`. A plugin
   * kept elsewhere (a test fixture) sets `new URL(".", import.meta.url)`.
   */
  folder?: URL;
  routes?: ChannelRoute<C>[];
  /** Called for each mobile-originated SMS (the sms channel). Errors are logged. */
  onMobileOriginated?(mo: MobileOriginated, ctx: ChannelContext<C>): Promise<void>;
  /** Called once when the plugin's service starts (e.g. to warn about missing secrets). */
  started?(ctx: ChannelContext<C>): Promise<void> | void;
}

/**
 * Identity function that types a plugin (both types are inferred: annotate `config`'s result).
 *
 * @example
 *   export default definePlugin({ name: "x", description: "...", config: (_env, host): XConfig => ({ digits: host.digits }), routes: [...] });
 */
export function definePlugin<C, S extends ChannelSettings = {}>(plugin: ChannelPlugin<C, S>): ChannelPlugin<C, S> {
  return plugin;
}

// ------------------------------------------------------------------ small shared helpers

/** A query value as one string (the first when repeated), or undefined. */
export function queryValue(query: ChannelRequest["query"], key: string): string | undefined {
  const v = query[key];
  return Array.isArray(v) ? v[0] : v;
}

/** The fields of an `application/x-www-form-urlencoded` body; a repeated key gives an array. */
export function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * The `Retry-After` of a wait, in seconds: exact under a minute, else rounded up to whole
 * minutes, so that the header and the page's "try again in …" (`waitTime(ms, lang, { seconds: true })`) say the same.
 *
 * @example
 *   retryAfterSeconds(1_200) // 2
 *   retryAfterSeconds(61_000) // 120
 */
export function retryAfterSeconds(ms: number): number {
  const s = Math.max(1, Math.ceil(ms / 1000));
  return s < 60 ? s : Math.ceil(s / 60) * 60;
}

/** A transaction or outgoing number as the citizen should see it. */
export interface Numbered {
  /** Canonical digits (lookups, links). */
  number: string;
  /** The number as the source system wrote it (`1448/00512`), when known. */
  displayNumber?: string;
}

/**
 * The form a number is shown in: as the source wrote it, else its canonical digits.
 *
 * @example
 *   shownNumber({ number: "144800512", displayNumber: "1448/00512" }) // "1448/00512"
 */
export function shownNumber(n: Numbered): string {
  return n.displayNumber ?? n.number;
}

/**
 * The answer with `displayNumber` set on it and on each outgoing letter (templates render
 * `displayNumber`, whatever the core filled in), without changing the canonical `number`.
 */
export function withDisplayNumbers<T extends { outcome: string }>(answer: T): T {
  const a = answer as unknown as InquiryAnswer;
  if (a.outcome === "not-found") return { ...a, displayNumber: shownNumber(a) } as unknown as T;
  if (a.outcome !== "found") return answer;
  const details = a.details && { ...a.details, outgoing: a.details.outgoing.map((o) => ({ ...o, displayNumber: shownNumber(o) })) };
  return { ...a, displayNumber: shownNumber(a), ...(details ? { details } : {}) } as unknown as T;
}

/** `ar` unless `en` is asked for. */
export function langOf(value: string | undefined): Lang {
  return value?.toLowerCase() === "en" ? "en" : "ar";
}

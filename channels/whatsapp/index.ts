/**
 * whatsapp: a WhatsApp Cloud API webhook channel, built only through the public plugin
 * contract: the worked example of docs/channels.md.
 *
 * - `GET /channels/whatsapp/webhook` — Meta's verification handshake: with
 *   `hub.mode=subscribe` and `hub.verify_token` equal to WHATSAPP_VERIFY_TOKEN, answers
 *   `hub.challenge`; 403 otherwise.
 * - `POST /channels/whatsapp/webhook` — message notifications, signed by Meta with
 *   `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the raw body with WHATSAPP_APP_SECRET>`
 *   (403 when missing or wrong; the secret may be unset only with DEV_INSECURE=1). Each text message is read
 *   like an SMS to the short code (a number in any digits, or "help"), answered through the
 *   inquiry core, and the reply goes out through {@link send}.
 *
 * WhatsApp verifies the sender's number when the account is created, so the sender (`from`,
 * the `wa_id`) is the proof of ownership when it is the citizen's mobile, and the
 * rate-limit identity (shared with SMS: the same mobile).
 *
 * @module
 */
import { createHmac, timingSafeEqual, createHash } from "node:crypto";
import { definePlugin, queryValue, setting, withDisplayNumbers, type ChannelContext, type ChannelRequest, type ChannelResponse, type InquiryAnswer, type Lang } from "../contract.ts";

export interface WhatsAppConfig {
  /** WHATSAPP_VERIFY_TOKEN: what Meta's dashboard sends in the handshake. */
  verifyToken?: string;
  /** WHATSAPP_APP_SECRET: the app secret that signs every notification. */
  appSecret?: string;
  /** DIGITS: numbers and dates of Arabic replies in Latin or Arabic-Indic digits (default latin). */
  digits?: "latin" | "arabic";
}

/** One inbound message of a notification. */
export interface InboundMessage {
  /** The WhatsApp message id (`wamid.…`): the reply's idempotency key. */
  id: string;
  /** The sender's WhatsApp id: their number in international form, without "+". */
  from: string;
  /** The message's text; undefined for media, locations, reactions… */
  text: string | undefined;
}

// ------------------------------------------------------------------ parse

/** The messages of a webhook notification (statuses and other changes are ignored). */
export function parseNotification(payload: unknown): InboundMessage[] {
  const out: InboundMessage[] = [];
  const p = payload as { object?: unknown; entry?: unknown };
  if (!p || typeof p !== "object" || p.object !== "whatsapp_business_account" || !Array.isArray(p.entry)) return out;
  for (const entry of p.entry as Array<{ changes?: unknown }>) {
    for (const change of (Array.isArray(entry?.changes) ? entry.changes : []) as Array<{ field?: string; value?: any }>) {
      if (change?.field !== "messages" || !Array.isArray(change.value?.messages)) continue;
      for (const m of change.value.messages as Array<Record<string, any>>) {
        if (typeof m?.id !== "string" || typeof m?.from !== "string" || !/^\d{6,15}$/.test(m.from)) continue;
        const text = m.type === "text" && typeof m.text?.body === "string" ? m.text.body.slice(0, 1000) : undefined;
        out.push({ id: m.id.slice(0, 200), from: m.from, text });
      }
    }
  }
  return out;
}

/** Arabic unless the text has Latin letters and no Arabic ones. */
export function languageOf(text: string): Lang {
  if (/[\u0600-\u06ff]/.test(text)) return "ar";
  return /[A-Za-z]/.test(text) ? "en" : "ar";
}

const HELP = /^(مساعد[ةه]|help|\?|؟|hi|hello|مرحبا|السلام عليكم)$/i;

/** What a message asks: a number (as typed), help, or nothing understood. */
export function intentOf(text: string | undefined, latinDigits: (s: string) => string): { kind: "help" } | { kind: "inquiry"; raw: string } | { kind: "unknown" } {
  if (text === undefined) return { kind: "unknown" };
  const t = text.normalize("NFKC").trim();
  if (!t || HELP.test(t.replace(/[.!،,]+$/, ""))) return { kind: "help" };
  const digits = latinDigits(t).match(/\d[\d\s\-/]*/);
  return digits ? { kind: "inquiry", raw: digits[0].trim() } : { kind: "unknown" };
}

// ------------------------------------------------------------------ signatures

const equal = (a: string, b: string) => {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y);
};

/** True when `header` is `sha256=` + the hex HMAC-SHA256 of the raw body with the app secret. */
export function validHubSignature(appSecret: string, header: string | undefined, rawBody: string): boolean {
  if (!header || !header.startsWith("sha256=")) return false;
  const expected = "sha256=" + createHmac("sha256", appSecret).update(Buffer.from(rawBody, "utf8")).digest("hex");
  return equal(header.toLowerCase(), expected);
}

// ------------------------------------------------------------------ send

/**
 * Sends a reply. Here it queues it in Taqib's channel outbox through the context (this
 * deployment has no route to graph.facebook.com); a deployment with one replaces the body
 * with a POST to the Graph API (see docs/channels.md, "Sending for real").
 */
export function send(ctx: Pick<ChannelContext, "queueOutgoing">, to: string, text: string, lang: Lang, key: string): Promise<string> {
  return ctx.queueOutgoing({ to, text, lang, key });
}

// ------------------------------------------------------------------ render

/** The reply to one message, or undefined when none should be sent. */
export async function replyTo(m: InboundMessage, ctx: ChannelContext<WhatsAppConfig>): Promise<{ text: string; lang: Lang } | undefined> {
  const lang = languageOf(m.text ?? "");
  const mobile = `+${m.from}`;
  const identities = [{ kind: "mobile", value: ctx.inquiry.normalizeMobile(mobile) ?? mobile }];
  const intent = intentOf(m.text, ctx.inquiry.latinDigits);
  if (intent.kind !== "inquiry") {
    const allowed = ctx.inquiry.limit(identities);
    if (!allowed.ok && allowed.repeated) return undefined;
    const answer: InquiryAnswer | { outcome: "help" | "unknown" } = allowed.ok ? { outcome: intent.kind } : { outcome: "rate-limited", ...allowed };
    return { lang, text: render(answer, ctx, lang) };
  }
  const answer = await ctx.inquiry.ask({ number: intent.raw, identities, mobile });
  if (answer.outcome === "rate-limited" && answer.repeated) return undefined;
  return { lang, text: render(answer, ctx, lang) };
}

function render(asked: InquiryAnswer | { outcome: "help" | "unknown" }, ctx: Pick<ChannelContext<WhatsAppConfig>, "templates" | "format" | "config">, lang: Lang): string {
  const answer = withDisplayNumbers(asked);
  const outgoing = answer.outcome === "found" ? answer.details?.outgoing ?? [] : [];
  return ctx.templates.render("reply.txt", lang, {
    answer,
    details: (answer.outcome === "found" && answer.details) || {},
    latest: outgoing[outgoing.length - 1] ?? false,
    digits: ctx.config.digits ?? "latin",
    wait: answer.outcome === "rate-limited" ? ctx.format.waitTime(answer.retryAfterMs, lang) : "",
  });
}

// ------------------------------------------------------------------ routes

const text = (status: number, body: string): ChannelResponse => ({ status, headers: { "content-type": "text/plain; charset=utf-8" }, body });

function verify(req: ChannelRequest, ctx: ChannelContext<WhatsAppConfig>): ChannelResponse {
  const mode = queryValue(req.query, "hub.mode");
  const token = queryValue(req.query, "hub.verify_token");
  const challenge = queryValue(req.query, "hub.challenge");
  if (!mode || !token || challenge === undefined) return text(400, "Bad request: hub.mode, hub.verify_token and hub.challenge are required.\n");
  if (mode !== "subscribe" || !ctx.config.verifyToken || !equal(token, ctx.config.verifyToken)) return text(403, "Forbidden: verification token mismatch.\n");
  return text(200, challenge.slice(0, 200));
}

async function notify(req: ChannelRequest, ctx: ChannelContext<WhatsAppConfig>): Promise<ChannelResponse> {
  if (ctx.config.appSecret && !validHubSignature(ctx.config.appSecret, req.headers["x-hub-signature-256"], req.rawBody)) {
    ctx.logger.warn(`WhatsApp notification with a ${req.headers["x-hub-signature-256"] ? "wrong" : "missing"} signature refused (${req.ip})`);
    return text(403, "Forbidden: X-Hub-Signature-256 is missing or wrong.\n");
  }
  let payload: unknown;
  try {
    payload = JSON.parse(req.rawBody);
  } catch {
    return text(400, "Bad request: the body is not JSON.\n");
  }
  for (const m of parseNotification(payload)) {
    const reply = await replyTo(m, ctx);
    if (reply) await send(ctx, m.from, reply.text, reply.lang, m.id);
  }
  // Meta retries anything but a 200: statuses and other changes are acknowledged too.
  return text(200, "EVENT_RECEIVED");
}

export default definePlugin({
  name: "whatsapp",
  description: "WhatsApp Cloud API webhook: text in, text out",
  env: {
    appSecret: setting("WHATSAPP_APP_SECRET", "checks `X-Hub-Signature-256` on notifications", { secret: true }),
    verifyToken: setting("WHATSAPP_VERIFY_TOKEN", "the token of Meta's webhook handshake", { secret: true }),
  },
  config: (env, host): WhatsAppConfig => ({ ...env, digits: host.digits }),
  routes: [
    { method: "GET", path: "/channels/whatsapp/webhook", handler: verify },
    { method: "POST", path: "/channels/whatsapp/webhook", handler: notify },
  ],
});

/**
 * sms: the short code 74747. A mobile-originated SMS with a transaction number (in any
 * digits, with stray words: "رقم المعاملة ١٤٤٥-٠٠١٢٣ لو سمحت") is answered by SMS
 * through Taqib's outbound pipeline; "مساعدة" / "help" answers the usage.
 *
 * - The sender's mobile is the proof of ownership: sent from the citizen's own mobile, the
 *   answer has the details; from another, the stage only.
 * - The sender is the rate-limit identity. A sender refused by the limit is told once to
 *   try later; further messages in the same refusal get no answer (each answer costs an SMS).
 * - The reply's message id is derived from the MO (sender, text, minute received), so an
 *   MO the SMSC delivers twice is answered once.
 * - "إيقاف" / "STOP" stops the sender's non-essential SMS, "تشغيل" / "START" resumes them
 *   (see core/sms/opt-out.ts for which are essential); each is confirmed by SMS.
 * - Language: Arabic, unless the text is Latin-only ("help", "status 123").
 *
 * @module
 */
import { createHash } from "node:crypto";
import { definePlugin, withDisplayNumbers, type ChannelContext, type InquiryAnswer, type Lang, type MobileOriginated } from "../contract.ts";

export interface SmsConfig {
  /** The short code MOs are sent to (SMS_SENDER), e.g. "74747". */
  shortCode: string;
  /** DIGITS: numbers and dates of Arabic replies in Latin or Arabic-Indic digits (default latin). */
  digits?: "latin" | "arabic";
}

/** What an MO asks. */
export type SmsIntent =
  | { kind: "help" }
  /** Opt out of non-essential SMS ("إيقاف", "STOP") or back in ("تشغيل", "START"). */
  | { kind: "stop" }
  | { kind: "start" }
  /** A number-looking run of digits was found (`raw` is what the core is given). */
  | { kind: "inquiry"; raw: string }
  /** No digits at all. */
  | { kind: "no-number" };

const STOP_WORDS = new Set(["إيقاف", "ايقاف", "أيقاف", "وقف", "stop"]);
const START_WORDS = new Set(["تشغيل", "start"]);
const HELP_WORDS = new Set(["مساعدة", "مساعده", "المساعدة", "مساعدة؟", "تعليمات", "help", "info", "?", "؟"]);

/** Arabic unless the text has Latin letters and no Arabic ones. */
export function languageOf(text: string): Lang {
  if (/[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]/.test(text)) return "ar";
  return /[A-Za-z]/.test(text) ? "en" : "ar";
}

/**
 * Reads an MO's text.
 *
 * @example
 *   parseMo("رقم المعاملة ١٤٤٥-٠٠١٢٣ لو سمحت") // { intent: { kind: "inquiry", raw: "144500123" }, lang: "ar" }
 *   parseMo("HELP")                          // { intent: { kind: "help" }, lang: "en" }
 */
export function parseMo(text: string, findNumber: (t: string) => string | undefined, latinDigits: (s: string) => string): { intent: SmsIntent; lang: Lang } {
  const clean = String(text ?? "").normalize("NFKC").replace(/[\u064b-\u065f\u0640]/g, "").trim().slice(0, 500);
  const lang = languageOf(clean);
  const words = clean.toLowerCase().split(/[\s.,،!:;؛-]+/).filter(Boolean);
  const hasDigits = /\d/.test(latinDigits(clean));
  // The keyword alone (a "STOP" inside a sentence is no instruction).
  if (words.length === 1 && STOP_WORDS.has(words[0])) return { intent: { kind: "stop" }, lang };
  if (words.length === 1 && START_WORDS.has(words[0])) return { intent: { kind: "start" }, lang };
  if (!clean || (!hasDigits && words.some((w) => HELP_WORDS.has(w))) || HELP_WORDS.has(clean.toLowerCase())) return { intent: { kind: "help" }, lang };
  if (!hasDigits) return { intent: { kind: "no-number" }, lang };
  // A digit run that is no valid number (too long) goes to the core as typed: "malformed".
  const number = findNumber(clean);
  const raw = number ?? (latinDigits(clean).match(/\d[\d\s\-/]*/)?.[0] ?? clean).trim();
  return { intent: { kind: "inquiry", raw }, lang };
}

/** True when the MO was sent to the short code (or the SMSC left the address out). */
export function toShortCode(to: string, shortCode: string): boolean {
  const digits = (s: string) => s.replace(/\D/g, "");
  if (!/^\d+$/.test(shortCode)) return true; // an alphanumeric sender cannot be compared
  const t = digits(to ?? "");
  return t === "" || t === shortCode || t.endsWith(shortCode);
}

/** The key the reply's id is derived from: the same MO delivered twice gives the same key. */
export function moKey(mo: MobileOriginated): string {
  const minute = Math.floor(new Date(mo.receivedAt).getTime() / 60_000);
  return createHash("sha256").update(`${mo.from}\u0000${mo.text}\u0000${minute}`).digest("hex");
}

/** The template data of a reply. */
export function replyData(asked: InquiryAnswer | { outcome: "no-number" }, ctx: Pick<ChannelContext<SmsConfig>, "config" | "format">, lang: Lang) {
  const answer = withDisplayNumbers(asked);
  const latest = answer.outcome === "found" && answer.details?.outgoing.length ? answer.details.outgoing[answer.details.outgoing.length - 1] : undefined;
  return {
    answer,
    /** The details, or {} at the coarse level (templates test `details.department`). */
    details: (answer.outcome === "found" && answer.details) || {},
    latest: latest ?? false,
    shortCode: ctx.config.shortCode,
    digits: ctx.config.digits ?? "latin",
    wait: answer.outcome === "rate-limited" ? ctx.format.waitTime(answer.retryAfterMs, lang) : "",
  };
}

/** The reply to an MO, or undefined when none should be sent. */
export async function answerMo(mo: MobileOriginated, ctx: ChannelContext<SmsConfig>): Promise<{ to: string; text: string; lang: Lang } | undefined> {
  const mobile = ctx.inquiry.normalizeMobile(mo.from);
  const digits = mo.from.replace(/^\+|^00/, "");
  const replyTo = mobile ?? (/^\d{6,15}$/.test(digits) ? `+${digits}` : undefined);
  if (!replyTo) {
    ctx.logger.warn(`MO from an address that cannot be answered: ${JSON.stringify(mo.from.slice(0, 20))}`);
    return undefined;
  }
  const identities = [{ kind: "mobile", value: replyTo }];
  const { intent, lang } = parseMo(mo.text, ctx.inquiry.findNumber, ctx.inquiry.latinDigits);
  if (intent.kind !== "inquiry") {
    const allowed = ctx.inquiry.limit(identities);
    if (!allowed.ok) {
      if (allowed.repeated) return undefined;
      const limited: InquiryAnswer = { outcome: "rate-limited", ...allowed };
      return { to: replyTo, lang, text: ctx.templates.render("reply.txt", lang, replyData(limited, ctx, lang)) };
    }
    if (intent.kind === "stop" || intent.kind === "start") {
      // Only a Saudi mobile can be a citizen's: another sender has nothing to stop.
      if (!mobile) return undefined;
      // Keyed by the MO: a duplicate delivery is confirmed in the same words (its reply is then one SMS, see moKey).
      const { changed } = await ctx.setSmsOptOut(mobile, intent.kind === "stop", { key: moKey(mo) });
      return { to: replyTo, lang, text: ctx.templates.render(`${intent.kind}.txt`, lang, { shortCode: ctx.config.shortCode, changed }) };
    }
    const text = intent.kind === "help" ? ctx.templates.render("help.txt", lang, { shortCode: ctx.config.shortCode, digits: ctx.config.digits ?? "latin" }) : ctx.templates.render("reply.txt", lang, replyData({ outcome: "no-number" }, ctx, lang));
    return { to: replyTo, lang, text };
  }
  const answer = await ctx.inquiry.ask({ number: intent.raw, identities, ...(mobile ? { mobile } : {}) });
  if (answer.outcome === "rate-limited" && answer.repeated) return undefined;
  return { to: replyTo, lang, text: ctx.templates.render("reply.txt", lang, replyData(answer, ctx, lang)) };
}

export default definePlugin({
  name: "sms",
  description: `short code: answers mobile-originated SMS by SMS`,
  config: (_env, host): SmsConfig => ({ shortCode: host.shortCode, digits: host.digits }),
  async onMobileOriginated(mo, ctx) {
    if (!toShortCode(mo.to, ctx.config.shortCode)) {
      ctx.logger.debug(`MO to ${mo.to} is not for the short code ${ctx.config.shortCode}`);
      return;
    }
    const reply = await answerMo(mo, ctx);
    if (!reply) return;
    const id = await ctx.sendSms(reply.to, reply.text, reply.lang, { key: moKey(mo) });
    ctx.logger.info(`MO answered: ${id}`);
  },
});

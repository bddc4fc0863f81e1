// Text that others supply and Taqib renders into an SMS under its own short code (an
// agency's reply number, a citizen's name from the correspondence system, an agency's name):
// one line, no links, no invisible characters, so nobody can make 74747 say "pay here: https://…".
import { normalizeDigits } from "../text/digits.ts";

/** A value checked for an SMS: the cleaned value, or why it is refused. */
export type SmsTextCheck = { ok: true; value: string } | { ok: false; message: string };

// Line breaks, other control characters, format characters (bidi marks, embeddings,
// overrides and isolates, zero-width joiners) and line/paragraph separators.
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u;
// A scheme, "www.", or a host name: a label, a dot and a top-level domain of 2+ letters in
// any script ("bit.ly", "pay-fees.com/x", "بنك.السعودية"). Initials like "ق.م" pass.
const WEB_ADDRESS = /:\/\/|\bwww\.|[\p{L}\p{N}][\p{L}\p{N}-]*\.\p{L}{2,}/iu;
const REFERENCE_CHARS = /^[\p{L}\p{M}0-9 /.\-]+$/u;
const ARABIC_OR_LATIN = /^[\p{Script=Arabic}\p{Script=Latin}0-9 /.\-]+$/u;

/**
 * A reference such as a reply number: Arabic or Latin letters, digits (Arabic-Indic ones made
 * Latin), spaces and `/ - .`, at most `max` characters, no web address.
 *
 * @example
 *   safeReference("ر/١٤٤٧-٩٠٣١") // { ok: true, value: "ر/1447-9031" }
 *   safeReference("9031\nhttps://pay.example") // { ok: false, message: "…" }
 */
export function safeReference(input: unknown, max = 64): SmsTextCheck {
  if (typeof input !== "string" && !(typeof input === "number" && Number.isSafeInteger(input) && input >= 0)) {
    return { ok: false, message: "must be a string" };
  }
  // Checked before the digits are read (which drops format characters): a bidi override in
  // a reference is a refusal, not something to clean up silently.
  if (INVISIBLE.test(String(input))) return { ok: false, message: "must be one line with no control or bidi characters" };
  const value = normalizeDigits(String(input)).trim();
  if (!value) return { ok: false, message: "must not be empty" };
  if (value.length > max) return { ok: false, message: `must be at most ${max} characters` };
  if (!REFERENCE_CHARS.test(value) || !ARABIC_OR_LATIN.test(value) || WEB_ADDRESS.test(value)) {
    return { ok: false, message: "Arabic or Latin letters, digits, spaces and / - . only (one line, no web address)" };
  }
  return { ok: true, value };
}

/**
 * Free text shown in an SMS (a name, a subject): any letters and punctuation, but one line,
 * no control or bidi characters and no web address; at most `max` characters.
 *
 * @example
 *   safeText("وزارة الداخلية", 200) // { ok: true, value: "وزارة الداخلية" }
 *   safeText("Visit www.pay.example", 200) // { ok: false, message: "…" }
 */
export function safeText(input: unknown, max: number): SmsTextCheck {
  if (typeof input !== "string") return { ok: false, message: "must be a string" };
  const value = input.trim();
  if (!value) return { ok: false, message: "must not be empty" };
  if (value.length > max) return { ok: false, message: `must be at most ${max} characters` };
  if (INVISIBLE.test(value)) return { ok: false, message: "must be one line with no control or bidi characters" };
  if (WEB_ADDRESS.test(value)) return { ok: false, message: "must not contain a web address" };
  return { ok: true, value };
}

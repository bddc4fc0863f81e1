// Normalisation of what people type: transaction numbers and Saudi mobiles.
//
// Every place that reads a number (events API, webhooks, route parameters, SMS and WhatsApp
// text, IVR digits, web form, kiosk) goes through normalizeDigits first, so a number looks
// the same whatever the keyboard: Arabic-Indic and Persian digits become Latin ones, and
// the invisible bidi and format characters that Arabic keyboards and copy-paste insert
// (U+200F RIGHT-TO-LEFT MARK inside "1445‏00123", say) are removed instead of splitting it.
import { normalizeDigits } from "./digits.ts";

/** Transaction numbers: 1 to 20 digits once separators are removed (the correspondence system's numbers are digits). */
export const TRANSACTION_NUMBER = /^\d{1,20}$/;

/** What callers tell the sender of a transaction number that is not a string. */
export const NOT_A_DIGIT_STRING = "must be a string of digits (a JSON number loses digits and signs)";

/**
 * The canonical form of a transaction number as typed by anyone: digits in any script,
 * with spaces, dashes, slashes, dots and underscores (also Arabic ones) removed.
 * Strings only: a JSON number is refused, because by the time it is parsed `-5`, `1.5`
 * and `12345678901234567891` have already lost their meaning. Returns undefined when
 * what remains is not a number.
 *
 * @example
 *   normalizeTransactionNumber("١٤٤٥ / ٠٠١٢٣") // "144500123"
 *   normalizeTransactionNumber("abc")          // undefined
 *   normalizeTransactionNumber(12345)          // undefined
 *   normalizeTransactionNumber("-5")           // undefined
 */
export function normalizeTransactionNumber(input: unknown): string | undefined {
  if (typeof input !== "string") return undefined;
  const typed = normalizeDigits(input).normalize("NFKC").trim();
  // "-5" is a negative number to whoever wrote it, not transaction 5.
  if (/^[-+\u2212]/.test(typed)) return undefined;
  const s = typed.replace(/[\s\-\u2010-\u2015\u2212/\\._\u066b\u066c\u060c#]/g, "");
  return TRANSACTION_NUMBER.test(s) ? s : undefined;
}

/**
 * The display form of a transaction or outgoing number: as the source system wrote it, with
 * Latin digits, no bidi or format characters, and only `/`, `-` and single spaces between
 * digit groups (runs collapsed). Anything else in it (letters, other punctuation) gives the
 * canonical digits instead, so what is shown is always a number the lookup understands.
 *
 * @example
 *   displayNumberOf("١٤٤٨/٠٠٥١٢")     // "1448/00512"
 *   displayNumberOf(" 1448 // 00512 ") // "1448/00512"
 *   displayNumberOf("1448.00512")      // "144800512"
 */
export function displayNumberOf(input: string): string {
  const typed = normalizeDigits(String(input)).normalize("NFKC").trim();
  const canonical = normalizeTransactionNumber(typed) ?? typed.replace(/\D/g, "");
  // Dashes of other kinds are the same dash to a reader.
  const s = typed.replace(/[\u2010-\u2015\u2212]/g, "-").replace(/\s+/g, " ");
  if (!/^\d+(?:[ /-]+\d+)*$/.test(s)) return canonical;
  // "1448 / 00512" and "1448//00512" both read "1448/00512": a slash or dash wins over spaces.
  return s.replace(/[ /-]+/g, (sep) => (/[/-]/.test(sep) ? sep.replace(/ /g, "")[0]! : " "));
}

/**
 * Finds the first transaction number in free text, as sent to the short code:
 * "رقم المعاملة ١٢٣-٤٥٦ لو سمحت" -> "123456". Digit groups separated by spaces, dashes,
 * slashes or dots are one number ("1445 00123" -> "144500123": people group long numbers
 * as they read them, and an SMS asks about one transaction); bidi marks inside it are
 * ignored.
 *
 * @example
 *   findTransactionNumber("رقم 1445\u200f00123") // "144500123"
 */
export function findTransactionNumber(text: string): string | undefined {
  const m = normalizeDigits(text).match(/\d[\d\s\-/\u2010-\u2015.]*\d|\d/);
  return m ? normalizeTransactionNumber(m[0]) : undefined;
}

/**
 * A Saudi mobile in E.164 (+9665XXXXXXXX), from 05XXXXXXXX, 5XXXXXXXX, 9665XXXXXXXX,
 * 009665XXXXXXXX or +9665XXXXXXXX, in any digits, with spaces, dashes or bidi marks.
 * Strings only; undefined for anything else.
 *
 * @example
 *   normalizeSaudiMobile("055 123 4567") // "+966551234567"
 */
export function normalizeSaudiMobile(input: unknown): string | undefined {
  if (typeof input !== "string") return undefined;
  const s = normalizeDigits(input).replace(/[\s\-().]/g, "");
  const m = s.match(/^(?:\+966|00966|966|0)?(5\d{8})$/);
  return m ? `+966${m[1]}` : undefined;
}

/** The mobile without "+", as an SMSC wants the destination address. */
export function smppAddress(e164: string): string {
  return e164.replace(/^\+/, "");
}

/**
 * A mobile for logs and staff screens. A Saudi mobile, in whatever form it was written,
 * shows as `05••••••67`: the last two digits only, because the last four are the
 * verifier of the web inquiry. Anything else keeps only its last two digits.
 *
 * @example
 *   maskMobile("+966551234567") // "05••••••67"
 *   maskMobile("+12025550123")  // "•••••••••23"
 */
export function maskMobile(mobile: string | undefined): string {
  if (!mobile) return "";
  const saudi = normalizeSaudiMobile(mobile);
  if (saudi) return `05••••••${saudi.slice(-2)}`;
  const digits = normalizeDigits(mobile).replace(/\D/g, "");
  return `${"•".repeat(Math.max(0, digits.length - 2))}${digits.slice(-2)}`;
}

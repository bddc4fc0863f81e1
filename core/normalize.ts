// Normalisation of what people type: transaction numbers and Saudi mobiles.

const DIGIT_MAP: Record<string, string> = {};
for (let i = 0; i < 10; i++) {
  DIGIT_MAP[String.fromCharCode(0x0660 + i)] = String(i); // Arabic-Indic ٠-٩
  DIGIT_MAP[String.fromCharCode(0x06f0 + i)] = String(i); // Eastern Arabic-Indic ۰-۹
}

/** Latin digits for Arabic-Indic and Eastern Arabic-Indic ones; other characters unchanged. */
export function latinDigits(s: string): string {
  return s.replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (c) => DIGIT_MAP[c] ?? c);
}

/** Transaction numbers: 1 to 20 digits once separators are removed (the correspondence system's numbers are digits). */
export const TRANSACTION_NUMBER = /^\d{1,20}$/;

/**
 * The canonical form of a transaction number as typed by anyone: digits in any script,
 * with spaces, dashes, slashes, dots and underscores (also Arabic ones) removed.
 * Returns undefined when what remains is not a number.
 *
 * @example
 *   normalizeTransactionNumber("١٤٤٥ / ٠٠١٢٣") // "144500123"
 *   normalizeTransactionNumber("abc")          // undefined
 */
export function normalizeTransactionNumber(input: unknown): string | undefined {
  if (typeof input !== "string" && typeof input !== "number") return undefined;
  const s = latinDigits(String(input))
    .normalize("NFKC")
    .replace(/[\s\u200c-\u200f\u061c\-\u2010-\u2015\u2212/\\._\u066b\u066c\u060c#]/g, "");
  return TRANSACTION_NUMBER.test(s) ? s : undefined;
}

/**
 * Finds the first transaction number in free text, as sent to the short code:
 * "رقم المعاملة ١٢٣-٤٥٦ لو سمحت" -> "123456". Digit groups separated by spaces, dashes
 * or slashes are joined.
 */
export function findTransactionNumber(text: string): string | undefined {
  const latin = latinDigits(text);
  const m = latin.match(/\d[\d\s\-/\u2010-\u2015.]*\d|\d/);
  return m ? normalizeTransactionNumber(m[0]) : undefined;
}

/**
 * A Saudi mobile in E.164 (+9665XXXXXXXX), from 05XXXXXXXX, 5XXXXXXXX, 9665XXXXXXXX,
 * 009665XXXXXXXX or +9665XXXXXXXX, in any digits, with spaces or dashes.
 * Returns undefined for anything else.
 *
 * @example
 *   normalizeSaudiMobile("055 123 4567") // "+966551234567"
 */
export function normalizeSaudiMobile(input: unknown): string | undefined {
  if (typeof input !== "string" && typeof input !== "number") return undefined;
  const s = latinDigits(String(input)).replace(/[\s\-().\u200c-\u200f]/g, "");
  const m = s.match(/^(?:\+966|00966|966|0)?(5\d{8})$/);
  return m ? `+966${m[1]}` : undefined;
}

/** The mobile without "+", as an SMSC wants the destination address. */
export function smppAddress(e164: string): string {
  return e164.replace(/^\+/, "");
}

/** A mobile for logs and staff screens: only the last 4 digits show. */
export function maskMobile(mobile: string | undefined): string {
  if (!mobile) return "";
  const digits = mobile.replace(/\D/g, "");
  return `${"*".repeat(Math.max(0, digits.length - 4))}${digits.slice(-4)}`;
}

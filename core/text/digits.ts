// Digits: Latin (0-9) and Arabic-Indic (٠-٩), the two styles Taqib writes (DIGITS), and the
// normalisation of what people type (Arabic-Indic, Persian, invisible format characters).

export type DigitStyle = "latin" | "arabic";

const ARABIC_INDIC = "٠١٢٣٤٥٦٧٨٩";

/**
 * Replaces Latin digits 0-9 with Arabic-Indic digits ٠-٩ (other characters untouched).
 *
 * @example
 * toArabicIndicDigits("1448/06/18") // "١٤٤٨/٠٦/١٨"
 */
export function toArabicIndicDigits(s: string): string {
  return String(s).replace(/[0-9]/g, (c) => ARABIC_INDIC[c.charCodeAt(0) - 48]!);
}

/**
 * Replaces Arabic-Indic (٠-٩, U+0660..) and Extended Arabic-Indic / Persian
 * (۰-۹, U+06F0..) digits with Latin 0-9.
 *
 * @example
 * toLatinDigits("١٤٤٥-۱۲۳") // "1445-123"
 */
export function toLatinDigits(s: string): string {
  return String(s).replace(/[\u0660-\u0669\u06F0-\u06F9]/g, (c) => {
    const code = c.charCodeAt(0);
    return String(code >= 0x06f0 ? code - 0x06f0 : code - 0x0660);
  });
}

/** Converts every digit of `s` to the requested style. */
export function applyDigits(s: string, digits: DigitStyle): string {
  return digits === "arabic" ? toArabicIndicDigits(toLatinDigits(s)) : toLatinDigits(s);
}

// ---------------------------------------------------------- typed input

/**
 * Invisible format characters (Unicode category Cf): bidi marks and embeddings (U+200E,
 * U+200F, U+061C, U+202A–U+202E, U+2066–U+2069), zero-width characters (U+200B–U+200D,
 * U+2060, U+FEFF), the soft hyphen (U+00AD) and the like.
 */
const FORMAT_CHARACTERS = /\p{Cf}/gu;

/**
 * Typed text with Latin digits for Arabic-Indic and Persian ones and without bidi or format
 * characters (they would split a number); everything else unchanged.
 *
 * @example
 *   normalizeDigits("١٤٤٥\u200f٠٠١٢٣") // "144500123"
 */
export function normalizeDigits(s: string): string {
  return toLatinDigits(s.replace(FORMAT_CHARACTERS, ""));
}

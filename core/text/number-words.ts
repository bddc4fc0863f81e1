// Numbers in words, for text-to-speech (the IVR): digit by digit in Arabic and English, Arabic
// cardinals and ordinals, and a Hijri date read out in Arabic.
import { hijriMonthName, hijriParts } from "./calendar.ts";
import { toLatinDigits } from "./digits.ts";

const DIGIT_WORDS_AR = ["صفر", "واحد", "اثنان", "ثلاثة", "أربعة", "خمسة", "ستة", "سبعة", "ثمانية", "تسعة"];
const DIGIT_WORDS_EN = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"];

function digitsSpoken(s: string, words: readonly string[]): string {
  const out: string[] = [];
  for (const c of toLatinDigits(String(s))) {
    if (c >= "0" && c <= "9") out.push(words[c.charCodeAt(0) - 48]!);
  }
  return out.join(" ");
}

/**
 * Reads a number digit by digit in Arabic, e.g. for an IVR confirming a
 * transaction number. Any digit style is accepted; non-digits are skipped.
 *
 * @example
 * digitsSpokenAr("1203")   // "واحد اثنان صفر ثلاثة"
 * digitsSpokenAr("١-٢")    // "واحد اثنان"
 */
export function digitsSpokenAr(s: string): string {
  return digitsSpoken(s, DIGIT_WORDS_AR);
}

/**
 * Reads a number digit by digit in English. Non-digits are skipped.
 *
 * @example
 * digitsSpokenEn("1203") // "one two zero three"
 */
export function digitsSpokenEn(s: string): string {
  return digitsSpoken(s, DIGIT_WORDS_EN);
}

export interface NumberWordsOptions {
  /**
   * Grammatical case of the (masculine) cardinal:
   * - `nominative` (default, standalone reading): اثنان، عشرون، مئتان، ألفان
   * - `oblique` (genitive/accusative, e.g. after "عام"): اثنين، عشرين، مئتين، ألفين
   */
  case?: "nominative" | "oblique";
}

const ONES_AR = ["", "واحد", "اثنان", "ثلاثة", "أربعة", "خمسة", "ستة", "سبعة", "ثمانية", "تسعة"];
const TENS_STEM_AR = ["", "", "عشر", "ثلاث", "أربع", "خمس", "ست", "سبع", "ثمان", "تسع"];
const HUNDREDS_AR = ["", "مئة", "", "ثلاثمئة", "أربعمئة", "خمسمئة", "ستمئة", "سبعمئة", "ثمانمئة", "تسعمئة"];

/** 1..99 in words. */
function below100Ar(n: number, oblique: boolean): string {
  if (n < 10) return n === 2 ? (oblique ? "اثنين" : "اثنان") : ONES_AR[n]!;
  if (n === 10) return "عشرة";
  if (n === 11) return "أحد عشر";
  if (n === 12) return oblique ? "اثني عشر" : "اثنا عشر";
  if (n < 20) return `${ONES_AR[n - 10]} عشر`;
  const tens = `${TENS_STEM_AR[Math.floor(n / 10)]}${oblique ? "ين" : "ون"}`;
  const ones = n % 10;
  return ones === 0 ? tens : `${below100Ar(ones, oblique)} و${tens}`;
}

/**
 * A whole number 0..9999 in Arabic words (masculine cardinal, Modern
 * Standard Arabic, hundreds written as one word: أربعمئة).
 *
 * @example
 * numberToWordsAr(1448)                        // "ألف وأربعمئة وثمانية وأربعون"
 * numberToWordsAr(1448, { case: "oblique" })   // "ألف وأربعمئة وثمانية وأربعين"
 * numberToWordsAr(2000)                        // "ألفان"
 * numberToWordsAr(3000)                        // "ثلاثة آلاف"
 */
export function numberToWordsAr(n: number, opts: NumberWordsOptions = {}): string {
  if (!Number.isInteger(n) || n < 0 || n > 9999) {
    throw new RangeError(`numberToWordsAr: expected an integer 0..9999, got ${n}`);
  }
  if (n === 0) return "صفر";
  const oblique = opts.case === "oblique";
  const parts: string[] = [];
  const th = Math.floor(n / 1000);
  const h = Math.floor((n % 1000) / 100);
  const rest = n % 100;
  if (th === 1) parts.push("ألف");
  else if (th === 2) parts.push(oblique ? "ألفين" : "ألفان");
  else if (th >= 3) parts.push(`${ONES_AR[th]} آلاف`);
  if (h === 2) parts.push(oblique ? "مئتين" : "مئتان");
  else if (h > 0) parts.push(HUNDREDS_AR[h]!);
  if (rest > 0) parts.push(below100Ar(rest, oblique));
  return parts.join(" و");
}

const ORDINAL_UNITS_AR = ["", "الأول", "الثاني", "الثالث", "الرابع", "الخامس", "السادس", "السابع", "الثامن", "التاسع"];

/**
 * Masculine ordinal 1..30 in Arabic words, as used for the day of the month.
 *
 * @example
 * ordinalDayAr(1)  // "الأول"
 * ordinalDayAr(11) // "الحادي عشر"
 * ordinalDayAr(21) // "الحادي والعشرون"
 * ordinalDayAr(30) // "الثلاثون"
 */
export function ordinalDayAr(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 30) {
    throw new RangeError(`ordinalDayAr: expected an integer 1..30, got ${n}`);
  }
  if (n < 10) return ORDINAL_UNITS_AR[n]!;
  if (n === 10) return "العاشر";
  if (n === 20) return "العشرون";
  if (n === 30) return "الثلاثون";
  const unit = n % 10 === 1 ? "الحادي" : ORDINAL_UNITS_AR[n % 10]!;
  return n < 20 ? `${unit} عشر` : `${unit} والعشرون`;
}

// After "من" the month name is genitive: ذو القعدة → ذي القعدة.
const HIJRI_MONTHS_AR_GENITIVE = Array.from({ length: 12 }, (_, i) => hijriMonthName(i + 1, "ar").replace(/^ذو /, "ذي "));

/**
 * The Umm al-Qura date of `d` (in Riyadh) spoken in Arabic words, for
 * text-to-speech.
 *
 * @example
 * hijriDateInWordsAr(new Date("2024-03-11T09:00:00Z"))
 * // "الأول من رمضان عام ألف وأربعمئة وخمسة وأربعين للهجرة"
 * hijriDateInWordsAr(new Date("2026-11-28T09:00:00Z"))
 * // "الثامن عشر من جمادى الآخرة عام ألف وأربعمئة وثمانية وأربعين للهجرة"
 */
export function hijriDateInWordsAr(d: Date): string {
  const { year, month, day } = hijriParts(d);
  return `${ordinalDayAr(day)} من ${HIJRI_MONTHS_AR_GENITIVE[month - 1]} عام ${numberToWordsAr(year, { case: "oblique" })} للهجرة`;
}

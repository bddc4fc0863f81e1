// Directional isolation of numbers, dates and codes inside right-to-left text. Inside Arabic
// text the bidi algorithm turns the digits after an Arabic word into "Arabic numbers", and a
// dash between two of them is no longer part of the number: "مثل 1445-00123" shows as
// "00123-1445". A left-to-right isolate (LRI … PDI) keeps the run in its written order
// whatever surrounds it. Each isolate costs two characters of a UCS-2 SMS; Latin-only text
// (English SMS) needs none and would lose GSM-7 with one.

/** LEFT-TO-RIGHT ISOLATE and POP DIRECTIONAL ISOLATE. */
export const LRI = "\u2066";
export const PDI = "\u2069";

/**
 * The text as a left-to-right isolate: shown in its written order inside any text.
 *
 * @example
 *   isolate("1448/00512") // "\u20661448/00512\u2069"
 */
export function isolate(text: string): string {
  return `${LRI}${holdDashes(text)}${PDI}`;
}

/**
 * Arabic-Indic digits act as right-to-left to a dash beside them even inside a left-to-right
 * isolate (a dash is no number separator to the bidi algorithm, a slash or colon is): a
 * left-to-right mark after each dash keeps "١٤٤٥-٠٠١٢٣" in order. Latin digits need none.
 */
function holdDashes(text: string): string {
  return /[\u0660-\u0669]/.test(text) ? text.replace(/-/g, "-\u200E") : text;
}

/**
 * The text with its isolates made visible as ⟨…⟩: for tests and previews, where the invisible
 * marks would otherwise hide whether a number is isolated.
 *
 * @example
 *   showIsolates("رقم \u20661448/00512\u2069") // "رقم ⟨1448/00512⟩"
 */
export function showIsolates(text: string): string {
  return text.replaceAll(LRI, "⟨").replaceAll(PDI, "⟩");
}

/** A run of digits (either script) with the separators inside a number or date (`1448/00512`, `1445-00123`, `7:30`, `١٢٫٥`). */
export const NUMBER_RUN = /[0-9\u0660-\u0669](?:[0-9\u0660-\u0669/.:\u066B-]*[0-9\u0660-\u0669])?/g;

/**
 * Every number run of `text` isolated (dates included: "1448/06/18هـ" keeps its suffix outside).
 *
 * @example
 *   isolateNumbers("18 جمادى الآخرة 1448هـ") // "\u206618\u2069 جمادى الآخرة \u20661448\u2069هـ"
 */
export function isolateNumbers(text: string): string {
  return text.replace(NUMBER_RUN, (run) => isolate(run));
}

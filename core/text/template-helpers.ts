/**
 * The helpers of every Taqib template: SMS notifications (core/sms/templates), the channels'
 * replies and pages (channels/<name>/templates) and the staff console. Both engines register
 * this one set, so a helper means the same wherever it is written.
 *
 * A render tells the helpers three things in Handlebars' data (`{ data: { lang, digits, kind } }`):
 * the language, the digit style of Arabic text (DIGITS) and the kind of output. Numbers and dates
 * never reorder inside Arabic text: the helpers marked "isolated" keep each number left-to-right
 * the way the output needs it: `<bdi dir="ltr">` in `.html` (both languages), LRI…PDI in Arabic
 * `.txt` (SMS, WhatsApp, IVR text; see core/text/bidi.ts), nothing in English `.txt` or `.xml`.
 * Their digits: in Arabic the style a template names, else DIGITS; English is always Latin.
 *
 * | helper | example | output (ar, `.txt`, DIGITS=latin) |
 * |---|---|---|
 * | `ltr value [digits]` | `{{ltr transaction.displayNumber}}` | `⁦1448/00512⁩`: the whole value isolated, in the digits |
 * | `isolate text` | `{{isolate office.hours}}` | `من ⁦7:30⁩ صباحًا …`: every number in a text isolated, in the digits |
 * | `hijri date [digits] [style="long"]` | `{{hijri outgoing.date}}` | `⁦1448/06/18⁩هـ` (en `18/06/1448 AH`), isolated |
 * | `gregorian date [digits] [style="long"]` | `{{gregorian transaction.registeredAt}}` | `⁦2026/11/28⁩م` (en `28/11/2026`), isolated |
 * | `time date [digits]` | `{{time outgoing.date}}` | `⁦10:30⁩` (Riyadh), isolated |
 * | `count n unit` | `{{count daysOverdue "day"}}` | `يوم واحد`، `يومين`، `⁦3⁩ أيام`، `⁦12⁩ يومًا` (genitive: after منذ/بعد); en `3 days` |
 * | `digits value [style]` | `{{digits n}}` | the value in the style named (in either language), else as above; not isolated |
 * | `latin value` | `{{latin n}}` | the value in Latin digits, not isolated |
 * | `spoken value` | `{{spoken n}}` | `واحد أربعة، شرطة، صفر اثنان` for `14/02` (en `one four, slash, zero two`), for speech |
 * | `hijriWords date` | `{{hijriWords d}}` | `الثامن عشر من جمادى الآخرة عام …` (en: long Hijri date), for speech |
 * | `ordinal n` | `{{ordinal reminderNumber}}` | `الثاني` (1..30, else `رقم 31`); en `2nd` |
 * | `name obj` | `{{name outgoing.destination.name}}` | `.ar`/`.en` by language, else the other one; a plain string as is |
 * | `firstName name` | `{{firstName citizen.name}}` | `عبد الرحمن` of `عبد الرحمن بن …` |
 * | `truncate text max` | `{{truncate transaction.subject 30}}` | at most `max` characters, cut at a word when possible, ending `…` (en `...`) |
 * | `fits text` | `{{#if (fits transaction.subject)}}` | whether the text has no letters of the other language's script |
 * | `nameFits name` | `{{#if (nameFits citizen.name)}}` | whether the name is in the language's script |
 * | `eq a b`, `or a b …`, `not a` | `{{#if (eq answer.stage "issued")}}` | |
 *
 * A helper throws {@link TemplateValueError} when its value is missing or of the wrong kind,
 * naming the field when the engine tracks ids (the SMS engine does).
 *
 * @module
 */
import type Handlebars from "handlebars";
import { isolate, isolateNumbers, NUMBER_RUN } from "./bidi.ts";
import { formatGregorian, formatHijri, formatTime } from "./calendar.ts";
import { applyDigits, type DigitStyle } from "./digits.ts";
import type { Lang } from "./lang.ts";
import { digitsSpokenAr, digitsSpokenEn, hijriDateInWordsAr, ordinalDayAr } from "./number-words.ts";

/** What a template writes: plain text (SMS, IVR speech), HTML pages, or XML (IVR documents). */
export type OutputKind = "txt" | "html" | "xml";

/**
 * What a render passes to the helpers, as Handlebars' data.
 *
 * @example
 *   hb.compile(source)(data, { data: { lang: "ar", digits: config.digits, kind: "txt" } satisfies RenderContext })
 */
export interface RenderContext {
  lang: Lang;
  /** The digits of numbers and dates in Arabic text (DIGITS); English is Latin. */
  digits: DigitStyle;
  kind: OutputKind;
}

/** A helper's value is missing or unusable; `field` is its path in the data when known. */
export class TemplateValueError extends Error {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "TemplateValueError";
  }
}

type Opts = Handlebars.HelperOptions & { ids?: unknown[]; name?: string; data?: Partial<RenderContext> };

const langOf = (o: Opts): Lang => (o.data?.lang === "en" ? "en" : "ar");
const kindOf = (o: Opts): OutputKind => o.data?.kind ?? "txt";

function fieldName(o: Opts, i: number): string | undefined {
  const id = o.ids?.[i];
  return typeof id === "string" ? id : undefined;
}

function need(value: unknown, o: Opts, i: number): unknown {
  if (value === undefined || value === null || (typeof value === "string" && value.trim() === "")) {
    throw new TemplateValueError(`is missing (in {{${o.name}}})`, fieldName(o, i) ?? `argument ${i + 1} of ${o.name}`);
  }
  return value;
}

function toDate(value: unknown, o: Opts, i: number): Date {
  need(value, o, i);
  const d = value instanceof Date ? value : typeof value === "string" || typeof value === "number" ? new Date(value) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw new TemplateValueError(`is not a valid date: ${JSON.stringify(value)} (in {{${o.name}}})`, fieldName(o, i));
  return d;
}

function toCount(value: unknown, o: Opts, i: number): number {
  need(value, o, i);
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isInteger(n) || n < 0) throw new TemplateValueError(`must be a whole number, got ${JSON.stringify(value)} (in {{${o.name}}})`, fieldName(o, i));
  return n;
}

/** The style a template names (`"latin"` or `"arabic"`), if any. */
function namedStyle(named: unknown, o: Opts): DigitStyle | undefined {
  if (named === undefined || named === "latin" || named === "arabic") return named;
  throw new TemplateValueError(`{{${o.name}}}: digits must be "latin" or "arabic", got ${JSON.stringify(named)}`);
}

/**
 * The digits of shown numbers and dates: in Arabic the style a template names, else DIGITS;
 * English is Latin whatever the template asks (Arabic-Indic digits would force an English SMS
 * into UCS-2).
 */
function digitsOf(named: unknown, o: Opts): DigitStyle {
  const style = namedStyle(named, o);
  return langOf(o) === "en" ? "latin" : (style ?? o.data?.digits ?? "latin");
}

function dateStyle(o: Opts): "numeric" | "long" {
  const s = (o.hash as Record<string, unknown> | undefined)?.style;
  if (s === undefined || s === "numeric" || s === "long") return s ?? "numeric";
  throw new TemplateValueError(`{{${o.name}}}: style must be "numeric" or "long", got ${JSON.stringify(s)}`);
}

/**
 * `text` (already in its digits) with its numbers, or all of it with `whole`, kept
 * left-to-right for the output (see the module doc); `escape` is the engine's HTML escaping.
 *
 * @example
 *   isolateFor("1448/06/18هـ", "html", "ar", false, hb.escapeExpression) // '<bdi dir="ltr">1448/06/18</bdi>هـ'
 *   isolateFor("1448/06/18هـ", "txt", "ar", false, hb.escapeExpression)  // "\u20661448/06/18\u2069هـ"
 */
function isolateFor(text: string, kind: OutputKind, lang: Lang, whole: boolean, escape: (s: string) => string): string {
  if (kind === "txt") return lang === "ar" ? (whole ? isolate(text) : isolateNumbers(text)) : text;
  if (kind === "xml") return text;
  let out = "";
  let last = 0;
  for (const m of text.matchAll(whole ? /^[\s\S]+$/g : new RegExp(NUMBER_RUN.source, "g"))) {
    out += escape(text.slice(last, m.index)) + `<bdi dir="ltr">${escape(m[0])}</bdi>`;
    last = m.index + m[0].length;
  }
  return out + escape(text.slice(last));
}

/**
 * A number read aloud in its groups, digit by digit, the separators named.
 *
 * @example
 *   spokenGroups("1448/00512", "ar") // "واحد أربعة أربعة ثمانية، شرطة، صفر صفر خمسة واحد اثنان"
 */
export function spokenGroups(value: string, lang: Lang): string {
  const groups = String(value).split(/[^0-9\u0660-\u0669\u06F0-\u06F9]+/).filter(Boolean);
  const separator = lang === "ar" ? "، شرطة، " : /\//.test(value) ? ", slash, " : ", dash, ";
  return groups.map((g) => (lang === "ar" ? digitsSpokenAr(g) : digitsSpokenEn(g))).join(separator);
}

const NOUNS: Record<string, { ar: { one: string; two: string; few: string; many: string; hundred: string }; en: [string, string] }> = {
  day: { ar: { one: "يوم واحد", two: "يومين", few: "أيام", many: "يومًا", hundred: "يوم" }, en: ["day", "days"] },
  reminder: {
    ar: { one: "تذكير واحد", two: "تذكيرين", few: "تذكيرات", many: "تذكيرًا", hundred: "تذكير" },
    en: ["reminder", "reminders"],
  },
};

/**
 * "n units" with Arabic number agreement, genitive (as after منذ / بعد / رغم), Latin digits.
 *
 * @example
 *   countText(12, "day", "ar") // "12 يومًا" (1 يوم واحد، 2 يومين، 3-10 أيام، 11-99 يومًا، 100 يوم، 103 أيام)
 */
export function countText(n: number, unit: string, lang: Lang): string {
  const noun = NOUNS[unit];
  if (!noun) throw new TemplateValueError(`{{count}}: unknown unit ${JSON.stringify(unit)} (known: ${Object.keys(NOUNS).join(", ")})`);
  if (lang === "en") return `${n} ${n === 1 ? noun.en[0] : noun.en[1]}`;
  const a = noun.ar;
  if (n === 1) return a.one;
  if (n === 2) return a.two;
  const r = n % 100;
  if (r >= 3 && r <= 10) return `${n} ${a.few}`;
  if (r >= 11) return `${n} ${a.many}`;
  return `${n} ${a.hundred}`; // 0, 100, 101, 102, 200 …
}

function ordinalText(n: number, lang: Lang): string {
  if (lang === "ar") return n >= 1 && n <= 30 ? ordinalDayAr(n) : `رقم ${n}`;
  const r100 = n % 100;
  const suffix = r100 >= 11 && r100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${suffix}`;
}

const ARABIC_LETTER = /\p{Script=Arabic}/u;
const LATIN_LETTER = /\p{Script=Latin}/u;

/**
 * Whether a name is written in the script of the text's language: an Arabic name in an English
 * SMS forces UCS-2 (a third of the room) and reads oddly, so templates greet without it.
 *
 * @example
 *   nameFitsLang("سالم بن ناصر العنزي", "en") // false
 *   nameFitsLang("Salem Al-Anazi", "en")       // true
 */
export function nameFitsLang(name: string, lang: Lang): boolean {
  if (!name.trim()) return false;
  return lang === "ar" ? ARABIC_LETTER.test(name) && !LATIN_LETTER.test(name) : LATIN_LETTER.test(name) && !ARABIC_LETTER.test(name);
}

/**
 * The given name of a full name, for a short greeting: "عبد"/"أبو" keep the word that follows.
 *
 * @example
 *   firstNameOf("عبد الرحمن بن عبدالعزيز آل سعود") // "عبد الرحمن"
 */
export function firstNameOf(name: string): string {
  const words = name.trim().split(/\s+/);
  return /^(عبد|ابو|أبو|Abdul|Abd|Abu)$/i.test(words[0] ?? "") && words[1] ? `${words[0]} ${words[1]}` : (words[0] ?? "");
}

/**
 * Whether text (a subject, a reference) has no letters of the other language's script, so it
 * can go into a text of `lang` without changing its encoding or direction.
 *
 * @example
 *   textFitsLang("ر/1448-90312", "en") // false
 *   textFitsLang("9031", "en")          // true
 */
export function textFitsLang(text: string, lang: Lang): boolean {
  return text.trim() !== "" && !(lang === "ar" ? LATIN_LETTER : ARABIC_LETTER).test(text);
}

/**
 * Registers the helpers of the module doc on a Handlebars instance.
 *
 * @example
 *   const hb = Handlebars.create();
 *   registerTemplateHelpers(hb);
 *   hb.compile("رقم {{ltr n}}")({ n: "1448/00512" }, { data: { lang: "ar", digits: "arabic", kind: "txt" } })
 *   // "رقم \u2066١٤٤٨/٠٠٥١٢\u2069"
 */
export function registerTemplateHelpers(hb: typeof Handlebars): void {
  /** Registers `fn(params, options)`: Handlebars passes its options last. */
  const helper = (name: string, fn: (params: unknown[], o: Opts) => unknown) =>
    hb.registerHelper(name, (...args: unknown[]) => fn(args.slice(0, -1), args[args.length - 1] as Opts));
  // Isolated output; HTML comes back as a SafeString (its text escaped, the <bdi> kept).
  const isolated = (text: string, o: Opts, whole = false) => {
    const out = isolateFor(text, kindOf(o), langOf(o), whole, hb.escapeExpression);
    return kindOf(o) === "html" ? new hb.SafeString(out) : out;
  };

  helper("ltr", ([v, digits], o) => isolated(applyDigits(String(need(v, o, 0)), digitsOf(digits, o)), o, true));
  helper("isolate", ([v], o) => isolated(applyDigits(String(need(v, o, 0)), digitsOf(undefined, o)), o));
  helper("hijri", ([d, digits], o) => isolated(applyDigits(formatHijri(toDate(d, o, 0), { lang: langOf(o), digits: "latin", style: dateStyle(o) }), digitsOf(digits, o)), o));
  helper("gregorian", ([d, digits], o) => isolated(applyDigits(formatGregorian(toDate(d, o, 0), { lang: langOf(o), digits: "latin", style: dateStyle(o) }), digitsOf(digits, o)), o));
  helper("time", ([d, digits], o) => isolated(formatTime(toDate(d, o, 0), digitsOf(digits, o)), o));
  helper("count", ([n, unit], o) => isolated(applyDigits(countText(toCount(n, o, 0), String(unit), langOf(o)), digitsOf(undefined, o)), o));
  helper("digits", ([v, digits], o) => {
    const value = need(v, o, 0);
    if (typeof value !== "string" && typeof value !== "number") throw new TemplateValueError(`must be a number or string (in {{${o.name}}})`, fieldName(o, 0));
    return applyDigits(String(value), namedStyle(digits, o) ?? digitsOf(undefined, o));
  });
  helper("latin", ([v], o) => applyDigits(String(need(v, o, 0)), "latin"));
  helper("spoken", ([v], o) => spokenGroups(String(need(v, o, 0)), langOf(o)));
  helper("hijriWords", ([d], o) => {
    const date = toDate(d, o, 0);
    return langOf(o) === "ar" ? hijriDateInWordsAr(date) : formatHijri(date, { lang: "en", digits: "latin", style: "long" });
  });
  helper("ordinal", ([v], o) => {
    const n = toCount(v, o, 0);
    if (n < 1) throw new TemplateValueError(`must be 1 or more (in {{ordinal}})`, fieldName(o, 0));
    return ordinalText(n, langOf(o));
  });
  helper("name", ([v], o) => {
    const value = need(v, o, 0);
    if (typeof value === "string") return value;
    if (typeof value !== "object") throw new TemplateValueError(`must be {ar, en} or a string (in {{name}})`, fieldName(o, 0));
    const { ar, en } = value as { ar?: unknown; en?: unknown };
    const pick = (langOf(o) === "ar" ? [ar, en] : [en, ar]).find((x): x is string => typeof x === "string" && x.trim() !== "");
    if (pick === undefined) throw new TemplateValueError(`has neither "ar" nor "en" (in {{name}})`, fieldName(o, 0));
    return pick;
  });
  helper("firstName", ([v], o) => firstNameOf(String(need(v, o, 0))));
  helper("truncate", ([v, max], o) => {
    const s = String(need(v, o, 0)).replace(/\s+/g, " ").trim();
    const room = Number(max);
    if (!Number.isInteger(room) || room < 2) throw new TemplateValueError(`{{truncate}}: max must be an integer >= 2`);
    if (s.length <= room) return s;
    const ellipsis = langOf(o) === "ar" ? "…" : "...";
    let cut = s.slice(0, room - ellipsis.length + 1);
    // prefer a word boundary when it keeps at least half of the room
    const space = cut.lastIndexOf(" ");
    cut = space >= room / 2 ? cut.slice(0, space) : cut.slice(0, room - ellipsis.length);
    return cut.trimEnd().replace(/[\s.,،؛:!?؟-]+$/, "") + ellipsis;
  });
  helper("fits", ([v], o) => textFitsLang(String(v ?? ""), langOf(o)));
  helper("nameFits", ([v], o) => nameFitsLang(String(v ?? ""), langOf(o)));
  helper("eq", ([a, b]) => a === b);
  helper("or", (params) => params.some(Boolean));
  helper("not", ([a]) => !a);
}

/**
 * The template engine the host hands each channel plugin: Handlebars over the plugin's
 * `templates/` folder.
 *
 * Layout of a plugin's folder:
 *
 *     channels/<name>/templates/<file>.<kind>.hbs       shared by both languages (layouts, styles)
 *     channels/<name>/templates/ar/<file>.<kind>.hbs    Arabic
 *     channels/<name>/templates/en/<file>.<kind>.hbs    English
 *
 * `render("page.html", "ar", data)` uses `ar/page.html.hbs`, else the shared
 * `page.html.hbs`. Every file is also a partial named without its extensions
 * (`{{> layout}}` for `layout.html.hbs`), the language's own file winning over the shared one.
 *
 * Kinds: `.html` and `.xml` output is escaped (`{{x}}` → `&lt;…`); `.txt` output is not
 * escaped and is cleaned like an SMS (lines trimmed, blank lines dropped). Rendering is
 * strict: a missing value is an error naming the template, never a half-rendered answer.
 *
 * Helpers (`@lang` is the language being rendered):
 *
 * | helper | example | output (ar) |
 * |---|---|---|
 * | `hijri date [digits] [style="long"]` | `{{hijri d}}` | `<bdi dir="ltr">1448/06/18</bdi>هـ` (en `18/06/1448 AH`) |
 * | `hijriWords date` | `{{hijriWords d}}` | `الثامن عشر من جمادى الآخرة عام …` (en: long Hijri date) |
 * | `gregorian date [digits]` | `{{gregorian d}}` | `<bdi dir="ltr">2026/11/28</bdi>م` |
 * | `num value` | `{{num answer.displayNumber}}` | `<bdi dir="ltr">1448/00512</bdi>` |
 * | `isolate text` | `{{isolate office.hours}}` | `… <bdi dir="ltr">7:30</bdi> صباحًا …` (every number in a text) |
 * | `digits value [style]` | `{{digits n "arabic"}}` | `١٢٣` (default `latin`) |
 * | `spoken value` | `{{spoken n}}` | `واحد أربعة، شرطة، صفر اثنان` for `14/02` (en `one four, slash, zero two`) |
 *
 * Numbers and dates never reorder inside Arabic text: `num`, `isolate`, `hijri` and `gregorian`
 * isolate every run of digits and separators, as `<bdi dir="ltr">` in `.html` and between
 * LRI and PDI (U+2066, U+2069) in Arabic `.txt` (with Arabic-Indic digits, a left-to-right mark
 * after each separator; pages set `bdi[dir=ltr]` to `unicode-bidi: isolate-override`). Their digits are the channel's style: the
 * `digits` field of the data (`"latin"` or `"arabic"`, from DIGITS) in Arabic, Latin in English.
 * | `name obj` | `{{name agency.name}}` | `.ar` / `.en` by language |
 * | `ltr value [digits]` | `{{ltr answer.displayNumber digits}}` | `⁦1448/00512⁩` isolated (LRI…PDI) in Arabic text (see core/text/bidi.ts) |
 * | `isolateNumbers text [digits]` | `{{isolateNumbers (hijri d) digits}}` | `⁦1448/06/18⁩هـ` |
 * | `eq a b`, `or a b …`, `not a` | `{{#if (eq stage "issued")}}` | |
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import Handlebars from "handlebars";
import { applyDigits, type DigitStyle } from "../core/text/digits.ts";
import { digitsSpokenAr, digitsSpokenEn, hijriDateInWordsAr } from "../core/text/number-words.ts";
import { formatGregorian, formatHijri } from "../core/text/calendar.ts";
import { isolate, NUMBER_RUN, registerBidiHelpers } from "../core/text/bidi.ts";
import { cleanSmsText } from "../core/sms/templates/engine.ts";
import type { ChannelTemplates, Lang } from "./contract.ts";

const LANGS: Lang[] = ["ar", "en"];
const FILE = /^([a-z0-9][a-z0-9_-]*)\.(html|xml|txt)\.hbs$/i;

/** A template that does not exist or does not render. */
export class ChannelTemplateError extends Error {
  constructor(
    readonly template: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`channel template "${template}": ${message}`, options);
    this.name = "ChannelTemplateError";
  }
}

type Opts = Handlebars.HelperOptions & { data?: { lang?: Lang; kind?: Compiled["kind"]; root?: { digits?: unknown } } };

function split(args: unknown[]): { params: unknown[]; options: Opts } {
  return { params: args.slice(0, -1), options: args[args.length - 1] as Opts };
}
const langOf = (o: Opts): Lang => (o.data?.lang === "en" ? "en" : "ar");

function toDate(v: unknown, helper: string): Date {
  const d = v instanceof Date ? v : typeof v === "string" || typeof v === "number" ? new Date(v) : new Date(NaN);
  if (Number.isNaN(d.getTime())) throw new Error(`{{${helper}}}: not a date: ${JSON.stringify(v)}`);
  return d;
}
function digitStyle(v: unknown, helper: string): DigitStyle {
  if (v === undefined || v === "latin" || v === "arabic") return (v as DigitStyle | undefined) ?? "latin";
  throw new Error(`{{${helper}}}: digits must be "latin" or "arabic", got ${JSON.stringify(v)}`);
}
/** The channel's digits (the data's `digits`) in Arabic, Latin in English, unless the template names a style. */
const channelDigits = (v: unknown, o: Opts, helper: string): DigitStyle =>
  v !== undefined ? digitStyle(v, helper) : langOf(o) === "ar" ? digitStyle(o.data?.root?.digits, helper) : "latin";


/**
 * `text` with its numbers isolated left-to-right (all of it with `whole`): `<bdi dir="ltr">`
 * in HTML, LRI…PDI in Arabic plain text, untouched in XML and English plain text.
 *
 * @example
 *   isolateNumbers("1448/06/18هـ", "html", "ar") // '<bdi dir="ltr">1448/06/18</bdi>هـ'
 */
export function isolateNumbers(text: string, kind: "html" | "xml" | "txt", lang: Lang, whole = false): string {
  const runs = whole ? /^[\s\S]+$/g : new RegExp(NUMBER_RUN.source, "g");
  if (kind === "html") {
    let out = "";
    let last = 0;
    for (const m of text.matchAll(runs)) {
      out += Handlebars.escapeExpression(text.slice(last, m.index)) + `<bdi dir="ltr">${Handlebars.escapeExpression(m[0])}</bdi>`;
      last = m.index + m[0].length;
    }
    return out + Handlebars.escapeExpression(text.slice(last));
  }
  if (kind === "txt" && lang === "ar") return text.replace(runs, (m) => isolate(m));
  return text;
}

function isolated(hb: typeof Handlebars, text: string, o: Opts, whole = false): string | Handlebars.SafeString {
  const kind = o.data?.kind ?? "txt";
  const out = isolateNumbers(text, kind, langOf(o), whole);
  return kind === "html" ? new hb.SafeString(out) : out;
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

function registerHelpers(hb: typeof Handlebars): void {
  hb.registerHelper("hijri", (...args: unknown[]) => {
    const { params, options } = split(args);
    const style = (options.hash as { style?: string }).style === "long" ? "long" : "numeric";
    return isolated(hb, formatHijri(toDate(params[0], "hijri"), { lang: langOf(options), digits: channelDigits(params[1], options, "hijri"), style }), options);
  });
  hb.registerHelper("hijriWords", (...args: unknown[]) => {
    const { params, options } = split(args);
    const d = toDate(params[0], "hijriWords");
    return langOf(options) === "ar" ? hijriDateInWordsAr(d) : formatHijri(d, { lang: "en", digits: "latin", style: "long" });
  });
  hb.registerHelper("gregorian", (...args: unknown[]) => {
    const { params, options } = split(args);
    return isolated(hb, formatGregorian(toDate(params[0], "gregorian"), { lang: langOf(options), digits: channelDigits(params[1], options, "gregorian") }), options);
  });
  hb.registerHelper("isolate", (...args: unknown[]) => {
    const { params, options } = split(args);
    if (params[0] === undefined || params[0] === null) throw new Error("{{isolate}}: value is missing");
    return isolated(hb, applyDigits(String(params[0]), channelDigits(undefined, options, "isolate")), options);
  });
  hb.registerHelper("num", (...args: unknown[]) => {
    const { params, options } = split(args);
    if (params[0] === undefined || params[0] === null) throw new Error("{{num}}: value is missing");
    return isolated(hb, applyDigits(String(params[0]), channelDigits(params[1], options, "num")), options, true);
  });
  hb.registerHelper("digits", (...args: unknown[]) => {
    const { params } = split(args);
    if (params[0] === undefined || params[0] === null) throw new Error("{{digits}}: value is missing");
    return applyDigits(String(params[0]), digitStyle(params[1], "digits"));
  });
  hb.registerHelper("spoken", (...args: unknown[]) => {
    const { params, options } = split(args);
    if (params[0] === undefined || params[0] === null) throw new Error("{{spoken}}: value is missing");
    return spokenGroups(String(params[0]), langOf(options));
  });
  hb.registerHelper("name", (...args: unknown[]) => {
    const { params, options } = split(args);
    const v = params[0] as { ar?: string; en?: string } | string | undefined;
    if (typeof v === "string") return v;
    if (!v || typeof v !== "object") throw new Error("{{name}}: value is missing");
    return (langOf(options) === "ar" ? v.ar || v.en : v.en || v.ar) ?? "";
  });
  hb.registerHelper("eq", (...args: unknown[]) => split(args).params[0] === split(args).params[1]);
  hb.registerHelper("or", (...args: unknown[]) => split(args).params.some(Boolean));
  hb.registerHelper("not", (...args: unknown[]) => !split(args).params[0]);
}

interface Compiled {
  fn: Handlebars.TemplateDelegate;
  kind: "html" | "xml" | "txt";
}

/**
 * The templates of one plugin. Files are read and compiled when the engine is created,
 * so a syntax error stops the channel's start rather than a citizen's request.
 *
 * @example
 *   const t = createChannelTemplates("channels/web/templates");
 *   t.render("page.html", "ar", { ... });
 */
export function createChannelTemplates(dir: string): ChannelTemplates & { names(lang: Lang): string[] } {
  const readDir = (d: string) => (fs.existsSync(d) ? fs.readdirSync(d).filter((f) => FILE.test(f)) : []);
  const shared = readDir(dir);
  const perLang = new Map<Lang, Map<string, Compiled>>();

  for (const lang of LANGS) {
    const hb = Handlebars.create();
    registerHelpers(hb);
    registerBidiHelpers(hb);
    const files = new Map<string, string>(); // name.kind -> path
    for (const f of shared) files.set(f.replace(/\.hbs$/, ""), path.join(dir, f));
    for (const f of readDir(path.join(dir, lang))) files.set(f.replace(/\.hbs$/, ""), path.join(dir, lang, f));
    const compiled = new Map<string, Compiled>();
    for (const [name, file] of files) {
      const source = fs.readFileSync(file, "utf8");
      const kind = FILE.exec(path.basename(file))![2]!.toLowerCase() as Compiled["kind"];
      try {
        hb.registerPartial(name.replace(/\.(html|xml|txt)$/i, ""), source);
        const fn = hb.compile(source, { strict: true, noEscape: kind === "txt" });
        compiled.set(name, { fn, kind });
      } catch (err) {
        throw new ChannelTemplateError(`${lang}/${name}`, `syntax error: ${(err as Error).message}`, { cause: err });
      }
    }
    // Force compilation now: Handlebars compiles lazily.
    for (const [name, file] of files) {
      try {
        hb.precompile(fs.readFileSync(file, "utf8"), { strict: true });
      } catch (err) {
        throw new ChannelTemplateError(`${lang}/${name}`, `syntax error: ${(err as Error).message}`, { cause: err });
      }
    }
    perLang.set(lang, compiled);
  }

  return {
    render(name: string, lang: Lang, data: object): string {
      const t = perLang.get(lang === "en" ? "en" : "ar")!.get(name);
      if (!t) throw new ChannelTemplateError(`${lang}/${name}`, `no file ${path.join(dir, lang, `${name}.hbs`)} nor ${path.join(dir, `${name}.hbs`)}`);
      let out: string;
      try {
        out = t.fn(data, { data: { lang, kind: t.kind } });
      } catch (err) {
        throw new ChannelTemplateError(`${lang}/${name}`, (err as Error).message, { cause: err });
      }
      return t.kind === "txt" ? cleanSmsText(out) : out.trim() + "\n";
    },
    names(lang: Lang): string[] {
      return [...(perLang.get(lang)?.keys() ?? [])].sort();
    },
  };
}

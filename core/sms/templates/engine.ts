/**
 * SMS templates: Handlebars files `<dir>/<name>.<lang>.hbs`, editable without
 * code changes, rendered strictly (a missing value is an error, never a
 * half-rendered SMS).
 *
 * @example
 * import { createTemplateEngine } from "./core/sms/templates/engine.ts";
 * const templates = createTemplateEngine({ dir: "core/sms/templates" });
 * const sms = templates.render("registered", "ar", {
 *   transaction: { number: "144800512", displayNumber: "1448/00512", registeredAt: new Date() },
 *   citizen: { name: "سليمان الحربي" },
 * });
 * // sms = { text: "سليمان الحربي، نفيدكم بتسجيل معاملتكم …", lang: "ar", template: "registered", … }
 *
 * Helpers: the one set of every Taqib template (core/text/template-helpers.ts), e.g.
 * `{{ltr transaction.displayNumber}}`, `{{hijri outgoing.date}}`, `{{count daysOverdue "day"}}`,
 * `{{name outgoing.destination.name}}`, `{{#if (nameFits citizen.name)}}`. In Arabic, numbers and
 * dates come in the engine's `digits` (DIGITS) unless a template names a style, isolated
 * (LRI…PDI, see core/text/bidi.ts) so right-to-left text never reorders them; English is Latin.
 * Every helper throws when its value is missing, naming the field, and so does a plain
 * `{{path}}` whose value is missing, empty, a date or an object.
 *
 * Output is cleaned for SMS: each line trimmed, runs of spaces collapsed,
 * blank lines dropped (a line break in the template is a line break in the
 * SMS), no space before `.` `,` `،` `؛` `:` `!` `?` `؟`, no full stop right after
 * an ellipsis (`…` or `...`, e.g. a truncated subject). Nothing is HTML-escaped.
 *
 * @module
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import Handlebars from "handlebars";
import type { Config } from "../../platform/config.ts";
import { type DigitStyle } from "../../text/digits.ts";
import { registerTemplateHelpers, TemplateValueError, type RenderContext } from "../../text/template-helpers.ts";
import { SAMPLE_DATA } from "./samples.ts";
import type { Lang } from "../../text/lang.ts";

// ------------------------------------------------------------ data shapes

/** A name in both languages, e.g. an agency: `{ ar: "أمانة منطقة القصيم", en: "Qassim Region Municipality" }`. At least one must be set. */
export interface LocalizedName {
  ar?: string;
  en?: string;
}
/** Transaction and outgoing numbers are shown as given (strings keep leading zeros and dashes). */
export type RefNumber = string | number;
/** Dates are `Date`s; ISO strings and epoch milliseconds are accepted too (e.g. from a JSON file). */
export type DateLike = Date | string | number;
/** A transaction as templates see it: `displayNumber` is the number as the source wrote it ("1448/00512"), `number` the canonical digits. */
export interface TransactionRef {
  number: RefNumber;
  displayNumber: RefNumber;
}

/** What citizens are shown for an agency neither the directory nor the event names (never its bare code). */
export const UNKNOWN_AGENCY: Readonly<{ ar: string; en: string }> = { ar: "جهة أخرى", en: "another agency" };

/** An outgoing letter (صادر) of the office to another agency. */
export interface OutgoingRef {
  number: RefNumber;
  displayNumber: RefNumber;
  date: DateLike;
  destination: { name: LocalizedName };
}

/** `registered` → citizen: the petition was registered with number N on date D. */
export interface RegisteredData {
  transaction: TransactionRef & { registeredAt: DateLike; subject?: string };
  citizen: { name: string };
  /** Where to text for the status (SMS_SENDER). */
  shortCode: string;
}
/** `issued` → citizen: issued with outgoing number N, date D, to agency X; no need to visit. */
export interface IssuedData {
  transaction: TransactionRef;
  outgoing: OutgoingRef;
}
/** `assigned` → employee: transaction N dated D is now assigned to you. */
export interface AssignedData {
  transaction: TransactionRef & { registeredAt: DateLike };
  employee: { name: string };
  department?: { name: LocalizedName };
}
/** `overdue` → department manager: outgoing N dated D to X not answered as of today. */
export interface OverdueData {
  transaction: TransactionRef;
  outgoing: OutgoingRef;
  today: DateLike;
  /** Days since the reply period ended. */
  daysOverdue: number;
  manager: { name: string };
}
/** `reminder` → department manager: the same, reminder number K (1 = first reminder after the overdue notice). */
export interface ReminderData extends OverdueData {
  reminderNumber: number;
}
/** `escalation` → escalation contact: after K reminders, outgoing N to X, department Y, still unanswered. */
export interface EscalationData extends Omit<OverdueData, "manager"> {
  manager?: { name: string };
  department: { name: LocalizedName };
  reminderCount: number;
}
/** `reply-received` → citizen: a reply from agency X to your transaction N arrived. */
export interface ReplyReceivedData {
  transaction: TransactionRef;
  outgoing: OutgoingRef;
  reply: { number?: RefNumber; date?: DateLike };
}
/** `referred` → citizen: your transaction N was referred to department Y. */
export interface ReferredData {
  transaction: TransactionRef;
  department: { name: LocalizedName };
}
/** `closed` → citizen: the work on transaction N is over, closed on date D. */
export interface ClosedData {
  transaction: TransactionRef;
  closedAt: DateLike;
}
/** `internal-due` → employee: transaction N, assigned to you on D, has not moved for K days. */
export interface InternalDueData {
  transaction: TransactionRef;
  assignedAt: DateLike;
  daysHeld: number;
}
/** `internal-reminder` → employee: the same, reminder number K. */
export interface InternalReminderData extends InternalDueData {
  reminderNumber: number;
}
/** `internal-escalation` → department manager: transaction N, assigned to employee E on D, has not moved after K reminders. */
export interface InternalEscalationData extends InternalDueData {
  employee: { name: string };
  reminderCount: number;
}
/** `employee-digest` / `manager-digest` → staff: T items waiting, the oldest numbers listed. */
export interface DigestData {
  total: number;
  numbers: RefNumber[];
}

/** What each template receives, by template name. */
export interface TemplateDataMap {
  registered: RegisteredData;
  issued: IssuedData;
  assigned: AssignedData;
  overdue: OverdueData;
  reminder: ReminderData;
  escalation: EscalationData;
  "reply-received": ReplyReceivedData;
  referred: ReferredData;
  closed: ClosedData;
  "internal-due": InternalDueData;
  "internal-reminder": InternalReminderData;
  "internal-escalation": InternalEscalationData;
  "employee-digest": DigestData;
  "manager-digest": DigestData;
}
export type TemplateName = keyof TemplateDataMap;

/** The names of the templates the services rely on (each exists in ar and en). */
export const TEMPLATE_NAMES: readonly TemplateName[] = [
  "registered",
  "issued",
  "assigned",
  "overdue",
  "reminder",
  "escalation",
  "reply-received",
  "referred",
  "closed",
  "internal-due",
  "internal-reminder",
  "internal-escalation",
  "employee-digest",
  "manager-digest",
];

// ------------------------------------------------------------ results, errors

/** A rendered SMS text. */
export interface RenderedText {
  /** The final text, cleaned (see module doc). */
  text: string;
  /** The language actually rendered: `"ar"` when the requested one had no template. */
  lang: Lang;
  /** The template name, e.g. `"registered"`. */
  template: string;
  /** The language that was asked for. */
  requestedLang: Lang;
  /** True when the requested language had no template and Arabic was used instead. */
  fallback: boolean;
}

/**
 * Any failure to render: missing template, syntax error, missing or invalid
 * value. The message names the template and, when known, the field.
 *
 * @example
 * try { engine.render("issued", "ar", {}) }
 * catch (e) {
 *   if (e instanceof TemplateError) {
 *     e.code     // "TEMPLATE_ERROR"
 *     e.template // "issued.ar"
 *     e.field    // "transaction.number"
 *     e.message  // 'template "issued.ar": field "transaction.number" is missing (line 1)'
 *   }
 * }
 */
export class TemplateError extends Error {
  readonly code = "TEMPLATE_ERROR" as const;
  /** `<name>.<lang>`, or the bare name when no file was found. */
  readonly template: string;
  /** Dotted path of the offending value, when known. */
  readonly field: string | undefined;

  /** Set when the text breaks one of the engine's limits (see `templateRestrictions`, `MAX_BLOCK_RUNS`). */
  readonly limit: TemplateLimit | undefined;

  constructor(template: string, message: string, opts: { field?: string; cause?: unknown; limit?: TemplateLimit } = {}) {
    super(`template "${template}": ${message}`, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "TemplateError";
    this.template = template;
    this.field = opts.field;
    this.limit = opts.limit;
  }
}

// ------------------------------------------------------------ limits

/**
 * Which limit a text breaks: blocks nested too deep, a partial or decorator, a name of
 * the object prototype, more block runs than one rendering may make, or too long an output.
 */
export type TemplateLimit = "depth" | "partial" | "prototype" | "runs" | "output";

/** How deep blocks may nest (an `{{else if}}` chain is one level); the shipped templates use 2 (each › unless). */
export const MAX_BLOCK_DEPTH = 4;
/** Block bodies one rendering may run: every element of every `{{#each}}`, at every level. */
export const MAX_BLOCK_RUNS = 1000;
/** Characters one rendering may produce (above the longest SMS of SMS_MAX_PARTS 255, 255 × 153). */
export const MAX_RENDERED_CHARS = 50_000;

/** Names a template may not use as a path segment: the object prototype's. */
const PROTOTYPE_NAMES = new Set([...Object.getOwnPropertyNames(Object.prototype), "prototype"]);

/** Thrown inside a rendering that breaks a limit; the engine answers it as a TemplateError. */
class TemplateLimitError extends Error {
  constructor(
    readonly limit: TemplateLimit,
    message: string,
  ) {
    super(message);
  }
}

/**
 * What in a parsed template breaks the engine's limits: blocks nested deeper than
 * MAX_BLOCK_DEPTH (each nesting level of `{{#each}}` multiplies the work of a rendering),
 * partials and inline partials (`{{> p}}`, `{{#*inline "p"}}`: SMS templates need none, and
 * the field check cannot follow them), and path segments of the object prototype
 * (`constructor`, `__proto__`). Empty when none.
 *
 * @example
 *   templateRestrictions(Handlebars.parse("{{> p}}"))[0]  // { limit: "partial", message: "uses a partial or an inline block ({{> …}}, {{#*inline}}), which SMS templates do not support" }
 */
export function templateRestrictions(ast: hbs.AST.Program): Array<{ limit: TemplateLimit; message: string }> {
  const out = new Map<TemplateLimit, string>();
  const walk = (node: unknown, depth: number): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, depth));
    if (!node || typeof node !== "object") return;
    const n = node as AstNode;
    switch (n.type) {
      case "PartialStatement":
      case "PartialBlockStatement":
      case "DecoratorBlock":
      case "Decorator":
        out.set("partial", "uses a partial or an inline block ({{> …}}, {{#*inline}}), which SMS templates do not support");
        return;
      case "PathExpression":
        for (const part of (n.parts as string[]) ?? []) if (PROTOTYPE_NAMES.has(part)) out.set("prototype", `names "${part}", which templates may not use`);
        return;
      case "BlockStatement": {
        const own = depth + 1;
        if (own > MAX_BLOCK_DEPTH) out.set("depth", `nests blocks deeper than ${MAX_BLOCK_DEPTH} levels`);
        walk(n.path, depth);
        walk(n.params, depth);
        walk(n.hash, depth);
        if (own > MAX_BLOCK_DEPTH) return; // deep enough to refuse; don't recurse further
        walk(n.program, own);
        // `{{else if}}`: the chained block is at this block's level, not inside it.
        const inverse = n.inverse as AstNode | undefined;
        walk(inverse, inverse?.chained ? depth : own);
        return;
      }
    }
    for (const [k, v] of Object.entries(n)) if (k !== "loc" && v && typeof v === "object") walk(v, depth);
  };
  walk(ast, 0);
  return [...out].map(([limit, message]) => ({ limit, message }));
}

// ------------------------------------------------------------ engine

export interface TemplateEngineOptions {
  /** Directory holding `<name>.<lang>.hbs` files, e.g. `core/sms/templates`. */
  dir: string;
  /** Digits of numbers and dates in Arabic text (DIGITS); English is always Latin. Default `latin`. */
  digits?: DigitStyle;
  /** Values every template may use unless its data sets them, e.g. `{ shortCode: config.smsSender }`. */
  globals?: Record<string, unknown>;
  /** Saved versions that take the place of the files (the console's editor); asked on every render, so it answers from memory. */
  overrides?: TemplateSource;
}

/**
 * Where a template's text comes from before its file: the newest saved version, if any.
 *
 * @example
 *   const source: TemplateSource = { get: (name, lang) => (name === "registered" && lang === "ar" ? { version: 3, body: "…" } : undefined) };
 *   createTemplateEngine({ dir: "core/sms/templates", overrides: source });
 */
export interface TemplateSource {
  get(name: string, lang: Lang): { version: number; body: string } | undefined;
}

export interface TemplateEngine {
  /**
   * Renders a template. Falls back to Arabic when the requested language has
   * no file (see `RenderedText.fallback`). Throws `TemplateError`.
   */
  render<N extends TemplateName>(name: N, lang: Lang, data: TemplateDataMap[N]): RenderedText;
  render(name: string, lang: Lang, data: object): RenderedText;
  /** Template names found in the directory (any language), sorted. */
  names(): string[];
  /** Whether `<dir>/<name>.<lang>.hbs` exists. */
  has(name: string, lang: Lang): boolean;
  /** Forgets compiled templates so edited files are read again on next render. */
  reload(): void;
  /** Parses and compiles every template file; returns the errors (empty when all are valid). */
  check(): TemplateError[];
}

const NAME_RE = /^[a-z0-9][a-z0-9_-]*$/i;
const FILE_RE = /^([a-z0-9][a-z0-9_-]*)\.(ar|en)\.hbs$/i;

const COMPILE_OPTIONS = { strict: true, noEscape: true, trackIds: true } as const;

interface Compiled {
  fn: Handlebars.TemplateDelegate;
  ast: hbs.AST.Program;
  /** Every path expression of the template, for naming a missing field. */
  paths: Array<{ path: string; parts: string[]; line: number; column: number }>;
  /** The saved version compiled (undefined: the file). */
  version?: number;
}

/**
 * The engine of `$TEMPLATES_DIR` as a node renders it: in DIGITS, with SMS_SENDER as
 * every template's `shortCode`. Whatever renders an SMS outside the notifier (tests, benches,
 * the preview script) uses this too, so its text is the one the node sends.
 *
 * @example
 *   smsTemplateEngine(loadConfig()).render("closed", "en", SAMPLE_DATA.closed).text
 *   // "Your transaction No. 4800231 was completed and closed on 15/07/1448 AH. Thank you."
 */
export function smsTemplateEngine(config: Pick<Config, "templatesDir" | "digits" | "smsSender">, overrides?: TemplateSource): TemplateEngine {
  return createTemplateEngine({ dir: config.templatesDir, digits: config.digits, globals: { shortCode: config.smsSender }, overrides });
}

/**
 * Creates a template engine over a directory. Templates are read and
 * compiled on first use and cached; call `reload()` after editing them.
 *
 * @example
 * const engine = createTemplateEngine({ dir: new URL(".", import.meta.url).pathname });
 * engine.names()                  // ["assigned", "escalation", …]
 * engine.has("registered", "en")  // true
 * engine.render("referred", "en", SAMPLE_DATA.referred).text
 * // "Your transaction No. 4800231 has been referred to Civil Rights and Legal Affairs Department for further study."
 */
export function createTemplateEngine(options: TemplateEngineOptions): TemplateEngine {
  const dir = options.dir;
  const hb = Handlebars.create();
  registerHelpers(hb);
  // The work of one rendering is bounded: every block body `{{#each}}` runs (also a section
  // over a list, which Handlebars renders through `each`) counts against MAX_BLOCK_RUNS, and
  // its output against MAX_RENDERED_CHARS, so no text and no data can stall the node.
  let runsLeft = 0;
  let charsLeft = 0;
  const each = hb.helpers.each as (this: unknown, context: unknown, options: Handlebars.HelperOptions) => string;
  hb.registerHelper("each", function (this: unknown, context: unknown, options: Handlebars.HelperOptions) {
    const fn = options.fn;
    const counted = ((ctx: unknown, o?: Handlebars.RuntimeOptions) => {
      if (--runsLeft < 0) throw new TemplateLimitError("runs", `repeats its blocks more than ${MAX_BLOCK_RUNS} times in one rendering`);
      const text = fn(ctx, o);
      charsLeft -= text.length;
      if (charsLeft < 0) throw new TemplateLimitError("output", `gives a text longer than ${MAX_RENDERED_CHARS} characters`);
      return text;
    }) as Handlebars.TemplateDelegate;
    return each.call(this, context, { ...options, fn: counted });
  });
  const digits: DigitStyle = options.digits ?? "latin";
  const cache = new Map<string, Compiled>();

  const fileOf = (name: string, lang: Lang) => join(dir, `${name}.${lang}.hbs`);

  function has(name: string, lang: Lang): boolean {
    return NAME_RE.test(name) && (options.overrides?.get(name, lang) !== undefined || existsSync(fileOf(name, lang)));
  }

  function load(name: string, lang: Lang): Compiled {
    const id = `${name}.${lang}`;
    const saved = options.overrides?.get(name, lang);
    const hit = cache.get(id);
    if (hit && hit.version === saved?.version) return hit;
    let source: string;
    try {
      source = saved ? saved.body : readFileSync(fileOf(name, lang), "utf8");
    } catch (e) {
      throw new TemplateError(id, `cannot read ${fileOf(name, lang)}: ${(e as Error).message}`, { cause: e });
    }
    let compiled: Compiled;
    try {
      const ast = hb.parse(source);
      const restricted = templateRestrictions(ast)[0];
      if (restricted) throw new TemplateError(id, restricted.message, { limit: restricted.limit });
      const unknown = unknownHelpers(ast, hb.helpers);
      if (unknown.length > 0) throw new TemplateError(id, `unknown helper ${unknown.map((h) => `"${h}"`).join(", ")}`);
      requireValues(ast, hb.helpers);
      const fn = hb.compile(ast, COMPILE_OPTIONS);
      compiled = { fn, ast, paths: collectPaths(ast), version: saved?.version };
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      throw new TemplateError(id, `syntax error: ${(e as Error).message}`, { cause: e });
    }
    cache.set(id, compiled);
    return compiled;
  }

  function render(name: string, lang: Lang, data: object): RenderedText {
    if (!NAME_RE.test(name)) throw new TemplateError(name, "invalid template name");
    if (lang !== "ar" && lang !== "en") throw new TemplateError(name, `invalid language ${JSON.stringify(lang)}`);
    let used: Lang = lang;
    if (!has(name, lang)) {
      if (lang !== "ar" && has(name, "ar")) used = "ar";
      else {
        const tried = lang === "ar" ? fileOf(name, "ar") : `${fileOf(name, lang)} nor ${fileOf(name, "ar")}`;
        throw new TemplateError(`${name}.${lang}`, `no template file ${tried}`);
      }
    }
    const id = `${name}.${used}`;
    const compiled = load(name, used);
    if (data === null || typeof data !== "object") throw new TemplateError(id, "data must be an object");
    let raw: string;
    try {
      // Compile is lazy in Handlebars: syntax errors beyond the parser surface here too.
      runsLeft = MAX_BLOCK_RUNS;
      charsLeft = MAX_RENDERED_CHARS;
      raw = compiled.fn(options.globals ? { ...options.globals, ...data } : data, {
        data: { lang: used, digits, kind: "txt" } satisfies RenderContext,
        // No template reaches an object's prototype (the defaults of Handlebars 4.6+, made explicit).
        allowProtoPropertiesByDefault: false,
        allowProtoMethodsByDefault: false,
      });
    } catch (e) {
      throw toTemplateError(id, e, compiled, data);
    }
    if (raw.length > MAX_RENDERED_CHARS) throw new TemplateError(id, `gives a text longer than ${MAX_RENDERED_CHARS} characters`, { limit: "output" });
    return { text: cleanSmsText(raw), lang: used, template: name, requestedLang: lang, fallback: used !== lang };
  }

  function names(): string[] {
    let files: string[];
    try {
      files = readdirSync(dir);
    } catch {
      return [];
    }
    const out = new Set<string>();
    for (const f of files) {
      const m = FILE_RE.exec(f);
      if (m) out.add(m[1]!);
    }
    return [...out].sort();
  }

  function check(): TemplateError[] {
    const errors: TemplateError[] = [];
    for (const name of names()) {
      for (const lang of ["ar", "en"] as const) {
        if (!has(name, lang)) continue;
        try {
          const c = load(name, lang);
          // Handlebars compiles lazily: force the full compilation now.
          hb.precompile(c.ast, COMPILE_OPTIONS);
          // A known template must render its sample data.
          if (Object.hasOwn(SAMPLE_DATA, name)) render(name, lang, SAMPLE_DATA[name as TemplateName]);
        } catch (e) {
          errors.push(e instanceof TemplateError ? e : new TemplateError(`${name}.${lang}`, (e as Error).message, { cause: e }));
        }
      }
    }
    return errors;
  }

  return {
    render: render as TemplateEngine["render"],
    names,
    has,
    reload: () => cache.clear(),
    check,
  };
}

/**
 * Cleans rendered text for SMS: trims lines, collapses spaces, drops blank
 * lines, removes spaces before punctuation and a full stop after an ellipsis.
 *
 * @example
 * cleanSmsText("  نفيدكم   بتسجيل  .\n\n\nشكرًا ") // "نفيدكم بتسجيل.\nشكرًا"
 */
export function cleanSmsText(s: string): string {
  return s
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) =>
      line
        .replace(/[ \t\u00A0\u200B]+/g, " ")
        .replace(/ +([.,،؛:!?؟])/g, "$1")
        .replace(/(…|\.\.\.)\./g, "$1")
        .trim(),
    )
    .filter((line) => line.length > 0)
    .join("\n");
}

// ------------------------------------------------------------ AST: required values

/** Names called as helpers (with arguments, or as blocks / sub-expressions) that are not registered. */
function unknownHelpers(ast: unknown, helpers: Record<string, unknown>): string[] {
  const out = new Set<string>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!node || typeof node !== "object") return;
    const n = node as AstNode;
    if (n.type === "MustacheStatement" || n.type === "BlockStatement" || n.type === "SubExpression") {
      const path = n.path as AstNode;
      const called = n.type !== "MustacheStatement" || (n.params as unknown[]).length > 0 || !!n.hash;
      const isBlockOverValue = n.type === "BlockStatement" && (n.params as unknown[]).length === 0 && !n.hash;
      if (called && !isBlockOverValue && path.type === "PathExpression" && !path.data && !Object.hasOwn(helpers, String(path.original))) {
        out.add(String(path.original));
      }
    }
    for (const [k, v] of Object.entries(n)) if (k !== "loc" && v && typeof v === "object") walk(v);
  };
  walk(ast);
  return [...out];
}

/** The helper every plain `{{path}}` is routed through (see requireValues). */
const VALUE_HELPER = "__value";

/**
 * Handlebars' strict mode only checks that a property exists: a value that is
 * `undefined`, `null` or `""` still renders as nothing. Every plain `{{path}}`
 * is rewritten to `{{__value path}}`, whose helper throws on such a value (and
 * on objects and dates, which have no sensible SMS text without a helper).
 */
function requireValues(ast: unknown, helpers: Record<string, unknown>): void {
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!node || typeof node !== "object") return;
    const n = node as AstNode;
    if (n.type === "MustacheStatement") {
      const path = n.path as AstNode;
      const params = n.params as unknown[];
      const isHelper = path.type === "PathExpression" && !path.data && Object.hasOwn(helpers, String(path.original));
      if (path.type === "PathExpression" && params.length === 0 && !n.hash && !isHelper) {
        n.params = [path];
        n.path = { type: "PathExpression", data: false, depth: 0, parts: [VALUE_HELPER], original: VALUE_HELPER, loc: path.loc };
      }
      return;
    }
    for (const [k, v] of Object.entries(n)) if (k !== "loc" && v && typeof v === "object") walk(v);
  };
  walk(ast);
}

// ------------------------------------------------------------ errors → field names

type AstNode = { type?: string; [k: string]: unknown };

function collectPaths(ast: unknown): Compiled["paths"] {
  const out: Compiled["paths"] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    if (!node || typeof node !== "object") return;
    const n = node as AstNode;
    if (n.type === "PathExpression" && !n.data && Array.isArray(n.parts) && n.parts.length > 0) {
      const loc = n.loc as { start: { line: number; column: number } } | undefined;
      out.push({
        path: String(n.original),
        parts: n.parts as string[],
        line: loc?.start.line ?? 0,
        column: loc?.start.column ?? 0,
      });
    }
    for (const [k, v] of Object.entries(n)) if (k !== "loc" && v && typeof v === "object") walk(v);
  };
  walk(ast);
  return out;
}

/** The first missing segment of `parts` in `data`, as a dotted path, or undefined if it resolves. */
function firstMissing(data: unknown, parts: string[]): string | undefined {
  let cur: unknown = data;
  for (let i = 0; i < parts.length; i++) {
    if (cur === null || typeof cur !== "object" || !(parts[i]! in (cur as object)) || (cur as Record<string, unknown>)[parts[i]!] === undefined) {
      return parts.slice(0, i + 1).join(".");
    }
    cur = (cur as Record<string, unknown>)[parts[i]!];
  }
  return undefined;
}

function toTemplateError(id: string, e: unknown, compiled: Compiled, data: object): TemplateError {
  if (e instanceof TemplateError) return e;
  if (e instanceof TemplateLimitError) return new TemplateError(id, e.message, { limit: e.limit, cause: e });
  const err = e as Error & { lineNumber?: number; column?: number };
  const msg = String(err?.message ?? e);
  if (e instanceof TemplateValueError) {
    return new TemplateError(id, e.field ? `field "${e.field}" ${e.message}` : e.message, { field: e.field, cause: e });
  }
  // Handlebars strict mode: '"number" not defined in [object Object] - 1:23'
  const strict = /^"([^"]+)" not defined in .* - (\d+):(\d+)$/.exec(msg);
  if (strict) {
    const [, key, line, col] = strict;
    const at = compiled.paths.find((p) => p.line === Number(line) && p.column === Number(col) && p.parts.includes(key!));
    const field = at ? (firstMissing(data, at.parts) ?? at.path) : key!;
    return new TemplateError(id, `field "${field}" is missing (line ${line})`, { field, cause: e });
  }
  // A helper argument below a missing object: "Cannot read properties of undefined (reading 'name')"
  const reading = /\(reading '([^']+)'\)/.exec(msg);
  if (e instanceof TypeError && reading) {
    for (const p of compiled.paths) {
      const idx = p.parts.indexOf(reading[1]!);
      if (idx <= 0) continue;
      const missing = firstMissing(data, p.parts.slice(0, idx));
      if (missing) return new TemplateError(id, `field "${missing}" is missing`, { field: missing, cause: e });
    }
  }
  return new TemplateError(id, msg, { cause: e });
}

// ------------------------------------------------------------ helpers

/** The shared helpers, and `__value` behind every plain `{{path}}` (see requireValues). */
function registerHelpers(hb: typeof Handlebars): void {
  registerTemplateHelpers(hb);
  // `lookup` reads any property by a name in a string (the field check cannot follow it),
  // `log` writes to the console: SMS templates need neither.
  hb.unregisterHelper("lookup");
  hb.unregisterHelper("log");
  hb.registerHelper(VALUE_HELPER, (...args: unknown[]) => {
    const v = args[0];
    const id = (args[args.length - 1] as { ids?: unknown[] }).ids?.[0];
    const field = typeof id === "string" ? id : undefined;
    if (v === undefined || v === null || (typeof v === "string" && v.trim() === "")) throw new TemplateValueError("is missing", field ?? "value");
    if (v instanceof Date) throw new TemplateValueError("is a date: write {{hijri …}} or {{gregorian …}}", field);
    if (typeof v === "object") throw new TemplateValueError("is an object: write {{name …}} or a sub-field", field);
    return v;
  });
}

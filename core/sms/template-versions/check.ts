// Whether a template's new text may be saved, and what it gives: it must compile, name only
// the fields its data has and helpers that exist, and render within its part budget with the
// longest realistic data (in both digit styles, so a change of DIGITS cannot break it). The
// editor's live preview and the save run this same check.
import Handlebars from "handlebars";
import type { Config } from "../../platform/config.ts";
import { checkBudget, longestDataOf, SMS_PART_BUDGETS, type BudgetCheck } from "../budget.ts";
import { smsTemplateEngine, TemplateError, type TemplateName } from "../templates/engine.ts";
import { SAMPLE_DATA } from "../templates/samples.ts";
import type { Lang } from "../../text/lang.ts";
import { MAX_TEMPLATE_SOURCE } from "./store.ts";

/** Why a text is refused; `field` is the form field at fault, `message` what the editor shows. */
export interface TemplateProblem {
  code: "TEMPLATE_EMPTY" | "TEMPLATE_TOO_LONG" | "TEMPLATE_SYNTAX" | "TEMPLATE_UNKNOWN_FIELD" | "TEMPLATE_UNKNOWN_HELPER" | "TEMPLATE_RENDER" | "TEMPLATE_OVER_BUDGET";
  field: "body";
  message: { ar: string; en: string };
}

/** A rendered text measured as the SMSC will bill it. */
export interface Measured {
  text: string;
  encoding: BudgetCheck["encoding"];
  characters: number;
  parts: number;
  /** Characters (encoding units) still free in the last part. */
  leftInPart: number;
}

export interface DraftCheck {
  /** The text with the sample data (what the editor shows), when it renders. */
  sample?: Measured;
  /** The longest realistic rendering against the template's part budget, when it renders. */
  longest?: Measured & { budget: number; leftInBudget: number; withinBudget: boolean };
  /** Set when the text may not be saved. */
  problem?: TemplateProblem;
}

/** Templates the console can edit: those with a part budget and data to check them with. */
export function isEditable(name: string): name is TemplateName {
  return SMS_PART_BUDGETS[name] !== undefined && Object.hasOwn(SAMPLE_DATA, name);
}

const measure = (text: string): Measured => {
  const c = checkBudget(text, 1);
  return { text, encoding: c.encoding, characters: c.characters, parts: c.parts, leftInPart: checkBudget(text, c.parts).left };
};

/**
 * Checks a template's new text as the node's engine would render it.
 *
 * @example
 *   checkDraft(config, "registered", "ar", "سُجلت معاملتكم رقم {{ltr transaction.displayNumber}}.").problem // undefined
 *   checkDraft(config, "registered", "ar", "{{citizen.nmae}}").problem?.code                               // "TEMPLATE_UNKNOWN_FIELD"
 */
export function checkDraft(config: Pick<Config, "templatesDir" | "digits" | "smsSender">, name: TemplateName, lang: Lang, body: string): DraftCheck {
  const refuse = (code: TemplateProblem["code"], ar: string, en: string, rest: Omit<DraftCheck, "problem"> = {}): DraftCheck => ({ ...rest, problem: { code, field: "body", message: { ar, en } } });
  if (body.trim() === "") return refuse("TEMPLATE_EMPTY", "نص القالب فارغ.", "The template is empty.");
  if (body.length > MAX_TEMPLATE_SOURCE) return refuse("TEMPLATE_TOO_LONG", `نص القالب أطول من ${MAX_TEMPLATE_SOURCE} حرف.`, `The template is longer than ${MAX_TEMPLATE_SOURCE} characters.`);
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(body);
  } catch (e) {
    const detail = (e as Error).message.split("\n")[0]!;
    return refuse("TEMPLATE_SYNTAX", `صياغة القالب غير صحيحة: ${detail}`, `The template does not compile: ${detail}`);
  }
  const shape = shapeOf(name);
  const unknown = unknownFields(ast, shape);
  if (unknown.length) {
    const list = unknown.map((f) => `«${f}»`).join("، ");
    const known = knownFields(shape).join(", ");
    return refuse("TEMPLATE_UNKNOWN_FIELD", `حقل غير معروف في هذا القالب: ${list}. الحقول المتاحة: ${known}`, `Unknown field ${unknown.map((f) => `"${f}"`).join(", ")} for this template. Available: ${known}`);
  }
  const draft = { get: (n: string, l: Lang) => (n === name && l === lang ? { version: -1, body } : undefined) };
  let sample: Measured;
  let longest: Measured[];
  try {
    sample = measure(smsTemplateEngine(config, draft).render(name, lang, SAMPLE_DATA[name]).text);
    longest = (["latin", "arabic"] as const).map((digits) => measure(smsTemplateEngine({ ...config, digits }, draft).render(name, lang, longestDataOf(name)!).text));
  } catch (e) {
    if (!(e instanceof TemplateError)) throw e;
    const detail = e.message.replace(/^template "[^"]+": /, "");
    if (/^unknown helper/.test(detail)) return refuse("TEMPLATE_UNKNOWN_HELPER", `دالة غير معروفة في القالب: ${detail.replace(/^unknown helpers? /, "")}`, `The template uses an ${detail}.`);
    if (/^syntax error/.test(detail)) return refuse("TEMPLATE_SYNTAX", `صياغة القالب غير صحيحة: ${detail}`, `The template does not compile: ${detail}`);
    return refuse("TEMPLATE_RENDER", `تعذّر توليد الرسالة من القالب: ${detail}`, `The template does not render: ${detail}`);
  }
  const budget = SMS_PART_BUDGETS[name]!;
  // The longer of the two digit styles is the one that must fit.
  const worst = longest.reduce((a, b) => (checkBudget(b.text, budget).left < checkBudget(a.text, budget).left ? b : a));
  const fit = checkBudget(worst.text, budget);
  const checked: DraftCheck = { sample, longest: { ...worst, budget, leftInBudget: fit.left, withinBudget: fit.ok } };
  if (!fit.ok) {
    return refuse(
      "TEMPLATE_OVER_BUDGET",
      `بأطول بيانات واقعية تبلغ الرسالة ${worst.parts} أجزاء، وحدّ هذا القالب ${budget}؛ زادت ${-fit.left} حرفًا. اختصر النص.`,
      `With the longest realistic data the SMS takes ${worst.parts} parts; this template's budget is ${budget} (${-fit.left} characters over). Shorten it.`,
      checked,
    );
  }
  return checked;
}

// ------------------------------------------------------------ fields a template may name

/** What a template's data looks like: its sample and longest data merged, with the engine's globals. */
function shapeOf(name: TemplateName): unknown {
  return merge(merge({ shortCode: "", lang: "" }, SAMPLE_DATA[name]), longestDataOf(name));
}

function merge(a: unknown, b: unknown): unknown {
  if (!isRecord(a) || !isRecord(b)) return b === undefined ? a : b;
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = merge(a[k], v);
  return out;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);

/**
 * The fields a template's data has, as its text names them.
 *
 * @example
 *   templateFields("closed") // ["shortCode", "transaction.number", "transaction.displayNumber", "closedAt"]
 */
export function templateFields(name: TemplateName): string[] {
  return knownFields(shapeOf(name));
}

/** The dotted paths of a shape's values, e.g. `transaction.displayNumber`. */
function knownFields(shape: unknown, prefix = ""): string[] {
  if (!isRecord(shape)) return prefix ? [prefix] : [];
  return Object.entries(shape).flatMap(([k, v]) => (k === "lang" && !prefix ? [] : knownFields(v, prefix ? `${prefix}.${k}` : k)));
}

/** Where a path leads in a shape (undefined: nowhere). Arrays answer `length` and their elements. */
function resolve(shape: unknown, parts: string[]): unknown {
  let cur = shape;
  for (const p of parts) {
    if (Array.isArray(cur)) cur = p === "length" ? 0 : /^\d+$/.test(p) ? cur[0] : undefined;
    else if (typeof cur === "string" && p === "length") cur = 0;
    else cur = isRecord(cur) && Object.hasOwn(cur, p) ? cur[p] : undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

type Node = { type?: string; [k: string]: any };

/**
 * The value paths of a template that its data does not have. Helper names are not values:
 * a helper is what is called with arguments (or a block's name); `{{#each}}` and `{{#with}}`
 * move the context to the element or the value, and `../` goes back out. Data variables
 * (`@lang`, `@last`) are the engine's.
 */
export function unknownFields(ast: hbs.AST.Program, shape: unknown): string[] {
  const out = new Set<string>();
  const value = (p: Node, scopes: unknown[]) => {
    if (p.type !== "PathExpression" || p.data) return undefined;
    const scope = scopes[p.depth ?? 0];
    if (scope === undefined && (p.depth ?? 0) >= scopes.length) {
      out.add(p.original);
      return undefined;
    }
    if ((p.parts as string[]).length === 0) return scope; // this
    const found = resolve(scope, p.parts);
    if (found === undefined) out.add(p.original);
    return found;
  };
  const args = (n: Node, scopes: unknown[]) => {
    for (const a of n.params ?? []) (a.type === "SubExpression" ? call(a, scopes) : value(a, scopes));
    for (const pair of n.hash?.pairs ?? []) (pair.value.type === "SubExpression" ? call(pair.value, scopes) : value(pair.value, scopes));
  };
  const call = (n: Node, scopes: unknown[]) => args(n, scopes);
  const inner = (v: unknown) => (Array.isArray(v) ? v[0] : v);
  const walk = (program: Node | undefined, scopes: unknown[]) => {
    for (const n of (program?.body ?? []) as Node[]) {
      if (n.type === "MustacheStatement") {
        if ((n.params?.length ?? 0) === 0 && !n.hash) value(n.path, scopes);
        else args(n, scopes);
      } else if (n.type === "BlockStatement") {
        const helper = n.path.original as string;
        let scope = scopes;
        if ((n.params?.length ?? 0) === 0 && !n.hash) {
          // {{#transaction}}…{{/transaction}}: a section over a value
          const v = value(n.path, scopes);
          scope = [inner(v), ...scopes];
        } else {
          args(n, scopes);
          if (helper === "each" || helper === "with") scope = [inner(resolve(scopes[n.params[0].depth ?? 0], n.params[0].parts ?? [])), ...scopes];
        }
        walk(n.program, scope);
        walk(n.inverse, scopes);
      }
    }
  };
  walk(ast as unknown as Node, [shape]);
  return [...out];
}

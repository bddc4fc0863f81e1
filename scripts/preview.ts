/**
 * Preview an SMS template: the rendered text, its length, encoding and parts, and how it fits
 * its part budget (core/sms/budget.ts) with this data and with the longest realistic data.
 *
 * Usage:
 *   npx tsx scripts/preview.ts <name> [ar|en] [data.json|-]   one template (built-in sample data when no file; "-" reads stdin)
 *   npx tsx scripts/preview.ts --all                          every template in both languages, with sample data
 *   npx tsx scripts/preview.ts --list                         template names
 *
 * Templates are read from $TEMPLATES_DIR (default core/sms/templates) and rendered as the node
 * renders them: in $DIGITS, with $SMS_SENDER as the short code. Isolates (LRI…PDI around numbers
 * and dates in Arabic text) are shown as ⟨…⟩; they count in the length.
 * In a JSON data file, dates are ISO strings ("2026-11-28T07:30:00Z").
 *
 * @example
 *   npx tsx scripts/preview.ts registered
 *   npx tsx scripts/preview.ts issued en ./my-issued.json
 *   echo '{"transaction":{"number":"4800231","displayNumber":"4800231"},"closedAt":"2026-12-24T10:00:00Z"}' | npx tsx scripts/preview.ts closed ar -
 */
import { readFileSync } from "node:fs";
import { showIsolates } from "../core/text/bidi.ts";
import { loadConfig } from "../core/platform/config.ts";
import { checkBudget, longestDataOf, SMS_PART_BUDGETS } from "../core/sms/budget.ts";
import { SAMPLE_DATA } from "../core/sms/templates/samples.ts";
import { smsTemplateEngine, TemplateError, type TemplateName } from "../core/sms/templates/engine.ts";
import { type Lang } from "../core/text/lang.ts";

const config = loadConfig();
const dir = config.templatesDir;
const engine = smsTemplateEngine(config);

function usage(code: number): never {
  const out = code === 0 ? console.log : console.error;
  out("usage: npx tsx scripts/preview.ts <name> [ar|en] [data.json|-]");
  out("       npx tsx scripts/preview.ts --all | --list");
  out(`templates in ${dir}: ${engine.names().join(", ") || "(none)"}`);
  process.exit(code);
}

function sampleFor(name: string): object | undefined {
  return Object.hasOwn(SAMPLE_DATA, name) ? SAMPLE_DATA[name as TemplateName] : undefined;
}

const partsText = (n: number) => `${n} part${n === 1 ? "" : "s"}`;

/** "budget 2 parts: 31 characters left" (or over), of a text. */
function budgetLine(name: string, text: string): { line: string; ok: boolean } {
  const budget = SMS_PART_BUDGETS[name];
  if (budget === undefined) return { line: "no part budget (add one to SMS_PART_BUDGETS in core/sms/budget.ts)", ok: false };
  const c = checkBudget(text, budget);
  return { line: `budget ${partsText(budget)}: ${c.ok ? `${c.left} characters left` : `OVER by ${-c.left} characters`}`, ok: c.ok };
}

/** Prints the text and its figures; false when it, or the template with the longest realistic data, is over budget. */
function show(name: string, lang: Lang, data: object): boolean {
  const r = engine.render(name, lang, data);
  const c = checkBudget(r.text, 1);
  const note = r.fallback ? `  (no ${r.requestedLang} template: fell back to ${r.lang})` : "";
  const here = budgetLine(name, r.text);
  console.log(`── ${r.template}.${r.lang}${note}`);
  console.log(showIsolates(r.text));
  console.log(`── ${c.characters} characters, ${c.encoding}, ${partsText(c.parts)}; ${here.line}`);
  const longest = longestDataOf(name);
  let ok = here.ok;
  if (longest && longest !== data) {
    const text = engine.render(name, lang, longest).text;
    const worst = budgetLine(name, text);
    console.log(`── longest realistic data: ${partsText(checkBudget(text, 1).parts)}; ${worst.line}`);
    ok &&= worst.ok;
  }
  console.log("");
  return ok;
}

const [arg, langArg, file] = process.argv.slice(2);
try {
  if (!arg || arg === "-h" || arg === "--help") usage(arg ? 0 : 1);
  if (arg === "--list") {
    for (const n of engine.names()) console.log(`${n}\t${(["ar", "en"] as const).filter((l) => engine.has(n, l)).join(" ")}`);
    process.exit(0);
  }
  if (arg === "--all") {
    const errors = engine.check();
    let fits = true;
    for (const name of engine.names()) {
      const data = sampleFor(name);
      if (!data) {
        console.log(`── ${name}: no sample data (pass a JSON file)\n`);
        continue;
      }
      for (const lang of ["ar", "en"] as const) if (engine.has(name, lang)) fits = show(name, lang, data) && fits;
    }
    for (const e of errors) console.error(`✖ ${e.message}`);
    if (!fits) console.error("✖ a template is over its part budget");
    process.exit(errors.length > 0 || !fits ? 1 : 0);
  }
  if (langArg !== undefined && langArg !== "ar" && langArg !== "en") {
    console.error(`language must be "ar" or "en", got ${JSON.stringify(langArg)}`);
    usage(1);
  }
  const lang: Lang = langArg ?? "ar";
  if (!engine.has(arg, "ar") && !engine.has(arg, lang)) {
    console.error(`no template "${arg}"`);
    usage(1);
  }
  let data: object | undefined;
  if (file !== undefined) {
    const json = readFileSync(file === "-" ? 0 : file, "utf8");
    const parsed: unknown = JSON.parse(json);
    if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) throw new Error(`${file}: expected a JSON object`);
    data = parsed;
  } else {
    data = sampleFor(arg);
    if (!data) {
      console.error(`no built-in sample data for "${arg}": pass a JSON data file`);
      process.exit(1);
    }
  }
  show(arg, lang, data);
} catch (e) {
  if (e instanceof TemplateError) console.error(`✖ ${e.message}`);
  else console.error(`✖ ${(e as Error).message}`);
  process.exit(1);
}

/**
 * Preview an SMS template: the rendered text, its length, encoding and parts.
 *
 * Usage:
 *   npx tsx scripts/preview.ts <name> [ar|en] [data.json|-]   one template (built-in sample data when no file; "-" reads stdin)
 *   npx tsx scripts/preview.ts --all                          every template in both languages, with sample data
 *   npx tsx scripts/preview.ts --list                         template names
 *
 * Templates are read from $TEMPLATES_DIR/sms (default ./templates/sms).
 * In a JSON data file, dates are ISO strings ("2026-11-28T07:30:00Z").
 *
 * @example
 *   npx tsx scripts/preview.ts registered
 *   npx tsx scripts/preview.ts issued en ./my-issued.json
 *   echo '{"shortCode":"74747"}' | npx tsx scripts/preview.ts inquiry-help ar -
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { analyseSms } from "../core/sms/encoding.ts";
import { createTemplateEngine, SAMPLE_DATA, TemplateError, type Lang, type TemplateName } from "../core/templates.ts";

const dir = process.env.TEMPLATES_DIR
  ? path.resolve(process.env.TEMPLATES_DIR, "sms")
  : fileURLToPath(new URL("../templates/sms", import.meta.url));
const engine = createTemplateEngine({ dir });

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

function show(name: string, lang: Lang, data: object): void {
  const r = engine.render(name, lang, data);
  const a = analyseSms(r.text);
  const note = r.fallback ? `  (no ${r.requestedLang} template: fell back to ${r.lang})` : "";
  console.log(`── ${r.template}.${r.lang}${note}`);
  console.log(r.text);
  console.log(`── ${a.characters} characters, ${a.encoding}, ${a.partCount} part${a.partCount === 1 ? "" : "s"}\n`);
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
    for (const name of engine.names()) {
      const data = sampleFor(name);
      if (!data) {
        console.log(`── ${name}: no sample data (pass a JSON file)\n`);
        continue;
      }
      for (const lang of ["ar", "en"] as const) if (engine.has(name, lang)) show(name, lang, data);
    }
    for (const e of errors) console.error(`✖ ${e.message}`);
    process.exit(errors.length > 0 ? 1 : 0);
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

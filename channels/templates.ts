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
 * Helpers: the one set of every Taqib template, in core/text/template-helpers.ts (`{{ltr n}}`,
 * `{{hijri d}}`, `{{isolate text}}`, `{{name obj}}`, `{{spoken n}}` …). Numbers and dates are
 * isolated as `<bdi dir="ltr">` in `.html` (pages set `bdi[dir=ltr]` to
 * `unicode-bidi: isolate-override`) and between LRI and PDI in Arabic `.txt`; their digits in
 * Arabic are the data's `digits` field (`"latin"` or `"arabic"`, from DIGITS; Latin when absent).
 *
 * @module
 */
import fs from "node:fs";
import path from "node:path";
import Handlebars from "handlebars";
import { registerTemplateHelpers, type OutputKind, type RenderContext } from "../core/text/template-helpers.ts";
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

interface Compiled {
  fn: Handlebars.TemplateDelegate;
  kind: OutputKind;
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
    registerTemplateHelpers(hb);
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
      const digits = (data as { digits?: unknown }).digits ?? "latin";
      if (digits !== "latin" && digits !== "arabic") throw new ChannelTemplateError(`${lang}/${name}`, `digits must be "latin" or "arabic", got ${JSON.stringify(digits)}`);
      let out: string;
      try {
        out = t.fn(data, { data: { lang, digits, kind: t.kind } satisfies RenderContext });
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

/**
 * The console's SMS template editor (administrators, `can.editTemplates`): the list of
 * templates, an editor per template and language with a live preview on sample data, and
 * the versions with what each changed. A save or a restore is checked as the preview is
 * (core/sms/template-versions/check.ts), saved as a new version, written to the audit log
 * with the text before and after, and announced to every node (`templates.changed`), whose
 * SMS engine uses it from the next SMS on.
 *
 * Routes (registered by pages.ts): `GET templates`, `GET templates/:name/:lang`,
 * `POST templates/:name/:lang` (save), `POST templates/:name/:lang/preview` (JSON for the
 * editor's script), `POST templates/:name/:lang/restore`.
 *
 * @module
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import type { ServerResponse } from "node:http";
import type { ServiceBroker } from "moleculer";
import type { Config } from "../platform/config.ts";
import { TEMPLATE_NAMES, type TemplateName } from "../sms/templates/engine.ts";
import type { Lang } from "../text/lang.ts";
import { checkDraft, isEditable, templateFields, type DraftCheck } from "../sms/template-versions/check.ts";
import { wordDiff } from "../sms/template-versions/diff.ts";
import { MAX_TEMPLATE_SOURCE, saveTemplateVersion, TemplateConflictError, templateHeads, templateVersion, templateVersions, TEMPLATES_CHANGED, type TemplateVersion } from "../sms/template-versions/store.ts";
import { can, type StaffUser } from "./accounts.ts";
import { audit } from "./audit.ts";
import type { Ctx } from "./pages.ts";
import type { Session } from "./sessions.ts";
import { MESSAGES, STRINGS } from "./strings.ts";

type Handler = (this: { broker: ServiceBroker; logger: any }, req: any, res: ServerResponse) => Promise<void>;

/** What the editor needs from the console's page machinery (pages.ts). */
export interface ConsoleKit {
  config: Config;
  page(fn: (c: Ctx) => Promise<void>): Handler;
  pageFor(right: (u: StaffUser) => boolean, render: (c: Ctx, s: Session) => Promise<void>): Handler;
  /** The session of a POST whose CSRF token is right (undefined: answered). */
  posted(c: Ctx): Promise<Session | undefined>;
  send(c: Ctx, status: number, name: string, data: Record<string, unknown>, session?: Session): void;
  refuse(c: Ctx, status: number, message: { ar: string; en: string }, session?: Session): void;
  notAllowed(c: Ctx, s: Session): void;
  form(req: Ctx["req"]): Record<string, string>;
}

/** The editor's words (the nav link is `templates` in strings.ts). */
export const TEMPLATE_WORDS = {
  ar: {
    lead: "نصوص الرسائل النصية التي تُرسل للمراجعين والموظفين. كل حفظ نسخة جديدة، ويمكن الرجوع إلى أي نسخة سابقة.",
    language: "اللغة",
    ar: "العربية",
    en: "الإنجليزية",
    version: "النسخة",
    file: "الملف الأصلي",
    lastChange: "آخر تعديل",
    longestParts: "الأجزاء بأطول بيانات / الحد",
    edit: "تحرير",
    editor: "تحرير القالب",
    body: "نص القالب",
    bodyHint: "بصيغة Handlebars، مثل",
    fieldsLabel: "الحقول المتاحة:",
    preview: "معاينة ببيانات نموذجية",
    previewLead: "تتحدّث أثناء الكتابة.",
    encoding: "الترميز",
    parts: "عدد الأجزاء",
    leftInPart: "الأحرف المتبقية في الجزء الحالي",
    budget: "حد الأجزاء لهذا القالب",
    longest: "بأطول بيانات واقعية",
    partsOf: "أجزاء من",
    leftInBudget: "حرفًا متبقيًا",
    sep: "،",
    save: "حفظ نسخة جديدة",
    versions: "النسخ",
    versionsLead: "من غيّر ماذا ومتى؛ المحذوف مشطوب والمضاف مسطَّر.",
    author: "بواسطة",
    changes: "التغييرات",
    restore: "استعادة هذه النسخة",
    restoredFrom: "استعادة للنسخة",
    current: "الحالية",
    removed: "حُذف:",
    added: "أُضيف:",
    saved: "حُفظت النسخة",
    restored: "استُعيدت في النسخة",
    unchanged: "لم يتغير النص؛ لم تُحفظ نسخة جديدة.",
    unavailable: "تعذّرت المعاينة الآن؛ الحفظ يتحقق من القالب على أي حال.",
    conflict: "حفظ مستخدم آخر هذا القالب بعد فتحك له (النسخة الحالية {n}). راجع التغييرات ثم احفظ مجددًا.",
    fileLabel: "النسخة 0: الملف",
  },
  en: {
    lead: "The texts of the SMS sent to citizens and staff. Every save is a new version; any earlier version can be restored.",
    language: "Language",
    ar: "Arabic",
    en: "English",
    version: "Version",
    file: "the file",
    lastChange: "Last changed",
    longestParts: "Parts with the longest data / budget",
    edit: "Edit",
    editor: "Edit template",
    body: "Template text",
    bodyHint: "In Handlebars, e.g.",
    fieldsLabel: "Fields available:",
    preview: "Preview with sample data",
    previewLead: "Updates as you type.",
    encoding: "Encoding",
    parts: "Parts",
    leftInPart: "Characters left in this part",
    budget: "This template's part budget",
    longest: "With the longest realistic data",
    partsOf: "parts of",
    leftInBudget: "characters left",
    sep: ",",
    save: "Save as a new version",
    versions: "Versions",
    versionsLead: "Who changed what, and when; removed text is struck through, added text underlined.",
    author: "By",
    changes: "Changes",
    restore: "Restore this version",
    restoredFrom: "restores version",
    current: "current",
    removed: "removed:",
    added: "added:",
    saved: "Saved as version",
    restored: "Restored as version",
    unchanged: "The text has not changed: no new version was saved.",
    unavailable: "The preview is unavailable just now; saving checks the template anyway.",
    conflict: "Someone else saved this template after you opened it (now version {n}). Review the changes and save again.",
    fileLabel: "Version 0: the file",
  },
} as const;

const LANGS = ["ar", "en"] as const;
/** Versions listed on the editor page. */
const VERSIONS_SHOWN = 50;

const ENCODING_LABEL = { GSM7: "GSM-7", UCS2: "UCS-2" } as const;

/** The preview as the page and the script show it. */
function shownCheck(check: DraftCheck, lang: Lang) {
  return {
    ok: !check.problem,
    sample: check.sample ? { ...check.sample, encoding: ENCODING_LABEL[check.sample.encoding] } : false,
    longest: check.longest ? { ...check.longest, encoding: ENCODING_LABEL[check.longest.encoding] } : false,
    problem: check.problem ? check.problem.message[lang] : "",
  };
}

/** The console routes of the template editor, for pages.ts's aliases. */
export function smsTemplateRoutes(kit: ConsoleKit): Record<string, Handler> {
  const { config } = kit;
  const fileOf = (name: string, lang: Lang) => path.join(config.templatesDir, `${name}.${lang}.hbs`);

  /** The template and language of the path, or undefined (answered 404). */
  const target = (c: Ctx, s: Session): { name: TemplateName; lang: Lang } | undefined => {
    const name = String(c.req.$params?.name ?? "");
    const lang = String(c.req.$params?.lang ?? "");
    if (!isEditable(name) || (lang !== "ar" && lang !== "en")) return void kit.refuse(c, 404, { ar: STRINGS.ar.notFound, en: STRINGS.en.notFound }, s);
    return { name, lang };
  };

  /** The text in use: the newest saved version, else the file (version 0). */
  const current = async (name: string, lang: Lang): Promise<{ version: number; body: string }> => {
    const [newest] = await templateVersions(name, lang, 1);
    return newest ?? { version: 0, body: await readFile(fileOf(name, lang), "utf8") };
  };

  // The list's parts per text: thirty checks take a few hundred milliseconds, and texts rarely change.
  const partsOf = new Map<string, { parts: number | string; budget: number | string; over: boolean }>();
  const listed = (name: TemplateName, lang: Lang, body: string) => {
    const key = `${name}.${lang}\n${body}`;
    let hit = partsOf.get(key);
    if (!hit) {
      const check = checkDraft(config, name, lang, body);
      hit = { parts: check.longest?.parts ?? "—", budget: check.longest?.budget ?? "—", over: !!check.problem };
      if (partsOf.size >= 200) partsOf.clear();
      partsOf.set(key, hit);
    }
    return hit;
  };

  const listPage = async (c: Ctx, s: Session) => {
    const heads = new Map((await templateHeads()).map((h) => [`${h.template}.${h.lang}`, h]));
    const w = TEMPLATE_WORDS[c.lang];
    const rows = [];
    for (const name of TEMPLATE_NAMES.filter(isEditable)) {
      for (const lang of LANGS) {
        const head = heads.get(`${name}.${lang}`);
        rows.push({
          template: name,
          lang,
          langLabel: w[lang],
          version: head?.version ?? 0,
          author: head?.author ?? "",
          at: head?.at ?? "",
          href: `/console/templates/${name}/${lang}`,
          ...listed(name, lang, head?.body ?? (await readFile(fileOf(name, lang), "utf8"))),
        });
      }
    }
    kit.send(c, 200, "sms-templates", { w, rows }, s);
  };

  const editorPage = async (c: Ctx, s: Session, t: { name: TemplateName; lang: Lang }, status = 200, draft?: { body: string; baseVersion: number; error: string }) => {
    const w = TEMPLATE_WORDS[c.lang];
    const [versions, now, file] = await Promise.all([templateVersions(t.name, t.lang, VERSIONS_SHOWN + 1), current(t.name, t.lang), readFile(fileOf(t.name, t.lang), "utf8")]);
    const body = draft?.body ?? now.body;
    // One more version is read than shown: the oldest shown is compared with it, version 1 with the file.
    const previous = (i: number) => versions[i + 1]?.body ?? file;
    const q = new URL(c.req.url ?? "/", "http://x").searchParams;
    const notice = q.get("saved") ? `${w.saved} ${q.get("saved")}.` : q.get("restored") ? `${w.restored} ${q.get("restored")}.` : q.get("unchanged") ? w.unchanged : "";
    const diffOf = (before: string, after: string) => wordDiff(before, after).map((p) => ({ same: p.op === "same", del: p.op === "del", ins: p.op === "ins", text: p.text }));
    kit.send(c, status, "sms-template", {
      w,
      tpl: {
        name: t.name,
        lang: t.lang,
        langLabel: w[t.lang],
        dir: t.lang === "ar" ? "rtl" : "ltr",
        body,
        baseVersion: draft?.baseVersion ?? now.version,
        version: now.version,
        action: `/console/templates/${t.name}/${t.lang}`,
        max: MAX_TEMPLATE_SOURCE,
        fields: templateFields(t.name).join(", "),
        example: "{{ltr transaction.displayNumber}}",
        invalid: !!draft?.error,
      },
      check: shownCheck(checkDraft(config, t.name, t.lang, body), c.lang),
      versions: versions.slice(0, VERSIONS_SHOWN).map((v: TemplateVersion, i) => ({
        version: v.version,
        author: v.author,
        at: v.at,
        restoredFrom: v.restoredFrom ?? "",
        hasRestored: v.restoredFrom !== undefined,
        current: v.version === now.version,
        diff: diffOf(previous(i), v.body),
      })),
      hasVersions: versions.length > 0,
      error: draft?.error ?? "",
      notice,
      scripts: ["/console/assets/template-editor.js"],
      fetches: true,
    }, s);
  };

  /** Checks, saves, audits and announces a new version; answers the editor (303, or 400/409 with the text kept). */
  const saveVersion = async (c: Ctx, s: Session, t: { name: TemplateName; lang: Lang }, body: string, baseVersion: number, restoredFrom?: number) => {
    const w = TEMPLATE_WORDS[c.lang];
    const check = checkDraft(config, t.name, t.lang, body);
    if (check.problem) return editorPage(c, s, t, 400, { body, baseVersion, error: `${w.body}: ${check.problem.message[c.lang]}` });
    const before = await current(t.name, t.lang);
    if (before.version === baseVersion && before.body === body) return redirect(c, `/console/templates/${t.name}/${t.lang}?unchanged=1`);
    let saved: TemplateVersion;
    try {
      saved = await saveTemplateVersion({ template: t.name, lang: t.lang, body, author: s.user.username, baseVersion, restoredFrom });
    } catch (err) {
      if (err instanceof TemplateConflictError) return editorPage(c, s, t, 409, { body, baseVersion: err.current, error: w.conflict.replace("{n}", String(err.current)) });
      throw err;
    }
    await audit({
      actor: s.user.username,
      action: restoredFrom === undefined ? "sms-template-saved" : "sms-template-restored",
      target: `template:${t.name}.${t.lang}`,
      before: { version: before.version, body: before.body },
      after: { version: saved.version, body, ...(restoredFrom === undefined ? {} : { restoredFrom }) },
      ip: c.ip,
    });
    // Every node's engine takes it from the next SMS (the body travels with the event); were
    // the event lost, the nodes read the versions again within their time-to-live.
    await Promise.resolve(c.broker.broadcast(TEMPLATES_CHANGED, { template: t.name, lang: t.lang, version: saved.version, body })).catch((err) =>
      c.broker.logger.warn(`${TEMPLATES_CHANGED} not broadcast (the nodes read the new version within their time-to-live):`, err),
    );
    redirect(c, `/console/templates/${t.name}/${t.lang}?${restoredFrom === undefined ? "saved" : "restored"}=${saved.version}`);
  };

  const redirect = (c: Ctx, location: string) => {
    c.res.writeHead(303, { location, "cache-control": "no-store" });
    c.res.end();
  };

  /** A POST of the editor by someone holding the right, on an editable template (undefined: answered). */
  const editorPost = async (c: Ctx) => {
    const s = await kit.posted(c);
    if (!s) return undefined;
    if (!can.editTemplates(s.user)) return void kit.notAllowed(c, s);
    const t = target(c, s);
    return t && { s, t, f: kit.form(c.req) };
  };
  const VERSION = /^\d{1,9}$/;

  return {
    "GET templates": kit.pageFor(can.editTemplates, listPage),
    "GET templates/:name/:lang": kit.pageFor(can.editTemplates, async (c, s) => {
      const t = target(c, s);
      if (t) await editorPage(c, s, t);
    }),
    "POST templates/:name/:lang/preview": kit.page(async (c) => {
      const p = await editorPost(c);
      if (!p) return;
      // A textarea posts its line breaks as CRLF; the files have LF.
      const check = checkDraft(config, p.t.name, p.t.lang, (p.f.body ?? "").replace(/\r\n?/g, "\n"));
      c.res.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" });
      c.res.end(JSON.stringify(shownCheck(check, c.lang)));
    }),
    "POST templates/:name/:lang": kit.page(async (c) => {
      const p = await editorPost(c);
      if (!p) return;
      const body = (p.f.body ?? "").replace(/\r\n?/g, "\n");
      if (!VERSION.test(p.f.baseVersion ?? "")) return editorPage(c, p.s, p.t, 400, { body, baseVersion: 0, error: MESSAGES.badInput[c.lang] });
      await saveVersion(c, p.s, p.t, body, Number(p.f.baseVersion));
    }),
    "POST templates/:name/:lang/restore": kit.page(async (c) => {
      const p = await editorPost(c);
      if (!p) return;
      if (!VERSION.test(p.f.version ?? "") || !VERSION.test(p.f.baseVersion ?? "")) return kit.refuse(c, 400, MESSAGES.badInput, p.s);
      const version = Number(p.f.version);
      // Version 0 is the file.
      const old = version === 0 ? { body: await readFile(fileOf(p.t.name, p.t.lang), "utf8") } : await templateVersion(p.t.name, p.t.lang, version);
      if (!old) return kit.refuse(c, 404, { ar: STRINGS.ar.notFound, en: STRINGS.en.notFound }, p.s);
      await saveVersion(c, p.s, p.t, old.body, Number(p.f.baseVersion), version);
    }),
  };
}

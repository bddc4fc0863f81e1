/**
 * Saved versions of the SMS templates, edited in the staff console. Every save is a new
 * version document (template, language, version n, body, author, time); a template's newest
 * version takes the place of its file in `core/sms/templates` (version 0). Restoring an old
 * version saves its body again as a new version, so the history only grows.
 *
 * `sms_template_versions` is the history; `sms_templates` holds the newest version of each
 * template and language (a few dozen documents), which is all an SMS engine reads.
 *
 * @module
 */
import { SmsTemplateHeadModel, SmsTemplateVersionModel } from "../models.ts";
import { isDuplicateKey } from "../../store/db.ts";
import type { Lang } from "../../text/lang.ts";


/** One saved version. */
export interface TemplateVersion {
  template: string;
  lang: Lang;
  version: number;
  body: string;
  author: string;
  at: Date;
  restoredFrom?: number;
}

/** What `templates.changed` carries to every node: the newest version of one template. */
export type TemplateChange = Pick<TemplateVersion, "template" | "lang" | "version" | "body">;

/** The broker event every node's SMS engine listens to (broadcast). */
export const TEMPLATES_CHANGED = "templates.changed";

/** The most characters of a template's source (a 2-part SMS is a few hundred; the console's forms take 16 kB, percent-encoded). */
export const MAX_TEMPLATE_SOURCE = 2000;

/** Someone saved the template since the editor was opened: nothing was saved. */
export class TemplateConflictError extends Error {
  readonly code = "TEMPLATE_CONFLICT" as const;
  constructor(readonly current: number) {
    super(`the template was saved meanwhile (now version ${current})`);
  }
}

const idOf = (template: string, lang: Lang) => `${template}.${lang}`;

/** The newest saved version of every template (one query; a few dozen documents). */
export async function templateHeads(): Promise<TemplateVersion[]> {
  return (await SmsTemplateHeadModel.find({}).lean()).map((d) => ({ template: d.template, lang: d.lang as Lang, version: d.version, body: d.body, author: d.author, at: d.at }));
}

/** A template's versions, newest first (at most `limit`). */
export async function templateVersions(template: string, lang: Lang, limit = 100): Promise<TemplateVersion[]> {
  const docs = await SmsTemplateVersionModel.find({ template, lang }).sort({ version: -1 }).limit(limit).lean();
  return docs.map(({ _id, ...d }) => ({ ...d, lang: d.lang as Lang, restoredFrom: d.restoredFrom ?? undefined }));
}

/** One version of a template, or undefined. */
export async function templateVersion(template: string, lang: Lang, version: number): Promise<TemplateVersion | undefined> {
  const d = await SmsTemplateVersionModel.findById(`${idOf(template, lang)}@${version}`).lean();
  return d ? { template: d.template, lang: d.lang as Lang, version: d.version, body: d.body, author: d.author, at: d.at, restoredFrom: d.restoredFrom ?? undefined } : undefined;
}

/**
 * Saves `body` as the next version of a template, if its newest version is still
 * `baseVersion` (0: none saved yet, the file). The caller checks the body first
 * (check.ts) and announces the change (`templates.changed`).
 *
 * @example
 *   const v = await saveTemplateVersion({ template: "registered", lang: "ar", body: "…", author: "amal", baseVersion: 0 });
 *   v.version // 1
 *   // TemplateConflictError when another save landed since version 0 was read
 */
export async function saveTemplateVersion(input: { template: string; lang: Lang; body: string; author: string; baseVersion: number; restoredFrom?: number }, at = new Date()): Promise<TemplateVersion> {
  const { template, lang, body, author, baseVersion } = input;
  const id = idOf(template, lang);
  const newest = await SmsTemplateVersionModel.findOne({ template, lang }, { version: 1 }).sort({ version: -1 }).lean();
  const current = newest?.version ?? 0;
  if (current !== baseVersion) throw new TemplateConflictError(current);
  const version = current + 1;
  const saved: TemplateVersion = { template, lang, version, body, author, at, ...(input.restoredFrom !== undefined ? { restoredFrom: input.restoredFrom } : {}) };
  try {
    // The unique _id is the lock: of two saves from the same version, one lands.
    await SmsTemplateVersionModel.create({ _id: `${id}@${version}`, ...saved });
  } catch (err) {
    if (isDuplicateKey(err)) throw new TemplateConflictError(version);
    throw err;
  }
  const head = { template, lang, version, body, author, at };
  const moved = await SmsTemplateHeadModel.updateOne({ _id: id, version: { $lt: version } }, { $set: head });
  if (moved.matchedCount === 0) {
    // First save of this template (or a newer head is there already: it stays).
    await SmsTemplateHeadModel.create({ _id: id, ...head }).catch((err) => {
      if (!isDuplicateKey(err)) throw err;
    });
  }
  return saved;
}

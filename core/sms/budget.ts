// What each SMS may cost: a part budget per template, the longest realistic data to check it
// with, and the room a text leaves in its budget. A citizen's registration that needs a third
// UCS-2 part costs half as much again, on every registration.
import { analyseSms, SMS_LIMITS, type SmsEncoding } from "./encoding.ts";
import { SAMPLE_DATA } from "./templates/samples.ts";
import { TemplateError, type TemplateDataMap, type TemplateEngine, type TemplateName } from "./templates/engine.ts";
import { clientError } from "../platform/errors.ts";
import type { Lang } from "../text/lang.ts";

/**
 * The most parts each SMS template may take, in either language, with the longest realistic
 * data. Every file in `core/sms/templates` must have an entry (the budget test fails otherwise);
 * `sms-channel/<file>` are the short code's replies (channels/sms/templates).
 */
export const SMS_PART_BUDGETS: Readonly<Record<string, number>> = {
  registered: 2,
  issued: 2,
  assigned: 2,
  overdue: 2,
  reminder: 2,
  escalation: 2,
  "reply-received": 2,
  referred: 2,
  closed: 2,
  "internal-due": 2,
  "internal-reminder": 2,
  "internal-escalation": 2,
  "employee-digest": 2,
  "manager-digest": 2,
  "sms-channel/help.txt": 2,
  "sms-channel/reply.txt": 2,
  "sms-channel/stop.txt": 1,
  "sms-channel/start.txt": 1,
};

/** The most characters of one WhatsApp text message (Cloud API): its replies have no parts to pay for. */
export const WHATSAPP_TEXT_LIMIT = 4096;

const d = (iso: string) => new Date(iso);
/** A four-part Arabic name with a compound given name, as long as they come. */
export const LONGEST_ARABIC_NAME = "عبدالرحمن بن عبدالعزيز بن عبدالله آل عبداللطيف";
/** A subject of 40 characters. */
export const LONGEST_SUBJECT = "طلب إعادة النظر في قرار صرف الإعانة السكن";
/** A long agency name, in both languages. */
export const LONGEST_AGENCY = { ar: "وزارة الموارد البشرية والتنمية الاجتماعية", en: "Ministry of Human Resources and Social Development" };
/** A long department name, in both languages. */
export const LONGEST_DEPARTMENT = { ar: "إدارة الحقوق الخاصة والأحوال الشخصية", en: "Private Rights and Personal Status Department" };
// Numbers as the correspondence system writes them, at their longest; dates with two-digit days and months.
const TRANSACTION = { number: "144800512", displayNumber: "1448/00512" };
const OUTGOING = { number: "1448009771", displayNumber: "1448/009771", date: d("2026-12-23T09:15:00Z"), destination: { name: LONGEST_AGENCY } };

/**
 * The longest realistic data per template: what the budget test renders (SAMPLE_DATA for a
 * template not listed).
 */
export const LONGEST_DATA: { readonly [N in TemplateName]: TemplateDataMap[N] } = {
  registered: {
    transaction: { ...TRANSACTION, registeredAt: d("2026-12-23T07:30:00Z"), subject: LONGEST_SUBJECT },
    citizen: { name: LONGEST_ARABIC_NAME },
    shortCode: "74747",
  },
  issued: { transaction: TRANSACTION, outgoing: OUTGOING },
  assigned: {
    transaction: { ...TRANSACTION, registeredAt: d("2026-12-23T07:30:00Z") },
    employee: { name: LONGEST_ARABIC_NAME },
    department: { name: LONGEST_DEPARTMENT },
  },
  overdue: { transaction: TRANSACTION, outgoing: OUTGOING, today: d("2027-01-13T05:00:00Z"), daysOverdue: 112, manager: { name: LONGEST_ARABIC_NAME } },
  reminder: { transaction: TRANSACTION, outgoing: OUTGOING, today: d("2027-01-23T05:00:00Z"), daysOverdue: 122, manager: { name: LONGEST_ARABIC_NAME }, reminderNumber: 12 },
  escalation: {
    transaction: TRANSACTION,
    outgoing: OUTGOING,
    today: d("2027-01-23T05:00:00Z"),
    daysOverdue: 122,
    department: { name: LONGEST_DEPARTMENT },
    reminderCount: 12,
  },
  "reply-received": { transaction: TRANSACTION, outgoing: OUTGOING, reply: { number: "ر/1448-90312", date: d("2027-01-13T10:00:00Z") } },
  referred: { transaction: TRANSACTION, department: { name: LONGEST_DEPARTMENT } },
  closed: { transaction: TRANSACTION, closedAt: d("2027-01-23T05:00:00Z") },
  "internal-due": { transaction: TRANSACTION, assignedAt: d("2026-12-23T07:30:00Z"), daysHeld: 122 },
  "internal-reminder": { transaction: TRANSACTION, assignedAt: d("2026-12-23T07:30:00Z"), daysHeld: 122, reminderNumber: 12 },
  "internal-escalation": { transaction: TRANSACTION, assignedAt: d("2026-12-23T07:30:00Z"), daysHeld: 122, employee: { name: LONGEST_ARABIC_NAME }, reminderCount: 12 },
  "employee-digest": { total: 1250, numbers: ["1448/009771", "1448/009772", "1448/009773"] },
  "manager-digest": { total: 1250, numbers: ["1448/009771", "1448/009772", "1448/009773"] },
};

/** The data a template's budget is checked with, or undefined when none is known. */
export function longestDataOf(name: string): object | undefined {
  if (Object.hasOwn(LONGEST_DATA, name)) return LONGEST_DATA[name as TemplateName];
  return Object.hasOwn(SAMPLE_DATA, name) ? SAMPLE_DATA[name as TemplateName] : undefined;
}

/** A text measured against a part budget. */
export interface BudgetCheck {
  encoding: SmsEncoding;
  characters: number;
  parts: number;
  budget: number;
  /** Characters (encoding units) still free within the budget; negative when over. */
  left: number;
  ok: boolean;
}

/**
 * How a text fits `budget` parts.
 *
 * @example
 *   checkBudget("سُجلت معاملتكم", 2) // { encoding: "UCS2", characters: 14, parts: 1, budget: 2, left: 120, ok: true }
 */
export function checkBudget(text: string, budget: number): BudgetCheck {
  const a = analyseSms(text);
  const limits = SMS_LIMITS[a.encoding];
  const room = budget <= 1 ? limits.single : limits.multi * budget;
  return { encoding: a.encoding, characters: a.characters, parts: a.partCount, budget, left: room - a.units, ok: a.partCount <= budget };
}

/** A template's text and how it fits its budget (POST /api/v1/templates/:name/preview). */
export interface TemplatePreview {
  name: string;
  lang: Lang;
  text: string;
  encoding: SmsEncoding;
  characters: number;
  parts: number;
  budget: number;
  charactersLeft: number;
  withinBudget: boolean;
  data: "given" | "longest realistic";
}

/**
 * Renders an SMS template with the data given, else its longest realistic data, and measures
 * it against its budget; 404 TEMPLATE_NOT_FOUND for a name without a budget, 400 TEMPLATE_ERROR
 * naming the field the data lacks.
 *
 * @example
 *   previewTemplate(engine, "registered", "ar").withinBudget // true
 */
export function previewTemplate(engine: Pick<TemplateEngine, "render">, name: string, lang: Lang, given?: object): TemplatePreview {
  const budget = SMS_PART_BUDGETS[name];
  const data = given ?? longestDataOf(name);
  if (budget === undefined || data === undefined) throw clientError(404, "TEMPLATE_NOT_FOUND", `No SMS template ${name}`);
  let text: string;
  try {
    text = engine.render(name, lang, data).text;
  } catch (err) {
    if (err instanceof TemplateError) throw clientError(400, "TEMPLATE_ERROR", err.message, { details: err.field ? [{ field: err.field, message: "is missing or invalid" }] : undefined });
    throw err;
  }
  const c = checkBudget(text, budget);
  return { name, lang, text, encoding: c.encoding, characters: c.characters, parts: c.parts, budget, charactersLeft: c.left, withinBudget: c.ok, data: given ? "given" : "longest realistic" };
}

// Sample data for every SMS template: what previews render and tests check against.
import type { TemplateDataMap, TemplateName } from "./engine.ts";

const d = (iso: string) => new Date(iso);

/**
 * Realistic sample data per template, for previews (scripts/preview.ts, a
 * staff API) and tests. Dates are fixed instants (Riyadh = UTC+3).
 *
 * @example
 * engine.render("issued", "ar", SAMPLE_DATA.issued).text
 */
export const SAMPLE_DATA: { readonly [N in TemplateName]: TemplateDataMap[N] } = {
  registered: {
    transaction: { number: "144800512", displayNumber: "1448/00512", registeredAt: d("2026-11-28T07:30:00Z"), subject: "طلب إصدار صك إعالة" },
    citizen: { name: "سليمان بن عبدالعزيز الحربي" },
    shortCode: "74747",
  },
  issued: {
    transaction: { number: "144800512", displayNumber: "1448/00512" },
    outgoing: {
      number: "144800977",
      displayNumber: "1448/00977",
      date: d("2026-12-03T09:15:00Z"),
      destination: { name: { ar: "وزارة الموارد البشرية والتنمية الاجتماعية", en: "Ministry of Human Resources and Social Development" } },
    },
  },
  assigned: {
    transaction: { number: "144800512", displayNumber: "1448/00512", registeredAt: d("2026-11-28T07:30:00Z") },
    employee: { name: "فهد بن صالح السالم" },
    department: { name: { ar: "إدارة الحقوق المدنية", en: "Civil Rights Department" } },
  },
  overdue: {
    transaction: { number: "144800512", displayNumber: "1448/00512" },
    outgoing: {
      number: "144800977",
      displayNumber: "1448/00977",
      date: d("2026-12-03T09:15:00Z"),
      destination: { name: { ar: "أمانة منطقة القصيم", en: "Qassim Region Municipality" } },
    },
    today: d("2026-12-20T05:00:00Z"),
    daysOverdue: 3,
    manager: { name: "خالد بن إبراهيم الرشيد" },
  },
  reminder: {
    transaction: { number: "144800512", displayNumber: "1448/00512" },
    outgoing: {
      number: "144800977",
      displayNumber: "1448/00977",
      date: d("2026-12-03T09:15:00Z"),
      destination: { name: { ar: "أمانة منطقة القصيم", en: "Qassim Region Municipality" } },
    },
    today: d("2026-12-27T05:00:00Z"),
    daysOverdue: 10,
    manager: { name: "خالد بن إبراهيم الرشيد" },
    reminderNumber: 2,
  },
  escalation: {
    transaction: { number: "144800512", displayNumber: "1448/00512" },
    outgoing: {
      number: "144800977",
      displayNumber: "1448/00977",
      date: d("2026-12-03T09:15:00Z"),
      destination: { name: { ar: "أمانة منطقة القصيم", en: "Qassim Region Municipality" } },
    },
    today: d("2027-01-03T05:00:00Z"),
    daysOverdue: 17,
    manager: { name: "خالد بن إبراهيم الرشيد" },
    department: { name: { ar: "إدارة الحقوق المدنية", en: "Civil Rights Department" } },
    reminderCount: 3,
  },
  "reply-received": {
    transaction: { number: "144800512", displayNumber: "1448/00512" },
    outgoing: {
      number: "144800977",
      displayNumber: "1448/00977",
      date: d("2026-12-03T09:15:00Z"),
      destination: { name: { ar: "أمانة منطقة القصيم", en: "Qassim Region Municipality" } },
    },
    reply: { number: "9031", date: d("2026-12-22T10:00:00Z") },
  },
  referred: {
    transaction: { number: "4800231", displayNumber: "4800231" },
    department: { name: { ar: "إدارة الحقوق المدنية والشؤون القانونية", en: "Civil Rights and Legal Affairs Department" } },
  },
  closed: { transaction: { number: "4800231", displayNumber: "4800231" }, closedAt: d("2026-12-24T10:00:00Z") },
  "internal-due": { transaction: { number: "4800231", displayNumber: "4800231" }, assignedAt: d("2026-11-26T07:00:00Z"), daysHeld: 10 },
  "internal-reminder": { transaction: { number: "4800231", displayNumber: "4800231" }, assignedAt: d("2026-11-26T07:00:00Z"), daysHeld: 12, reminderNumber: 1 },
  "internal-escalation": {
    transaction: { number: "4800231", displayNumber: "4800231" },
    assignedAt: d("2026-11-26T07:00:00Z"),
    daysHeld: 14,
    employee: { name: "فهد بن صالح السالم" },
    reminderCount: 1,
  },
  "employee-digest": { total: 4, numbers: ["4800231", "4800377", "4801002"] },
  "manager-digest": { total: 6, numbers: ["4812077", "4800231", "4800377"] },
};

// The office's follow-up and switchable notices (referred, closed, internal-*, the staff digests)
// fit in 2 SMS parts with the longest realistic data: Arabic at most 134 UCS-2 characters.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createTemplateEngine } from "./templates.ts";
import { analyseSms } from "./sms/encoding.ts";

const engine = createTemplateEngine({ dir: fileURLToPath(new URL("../templates/sms", import.meta.url)) });
const longDept = { ar: "إدارة الشؤون الأمنية والحقوق الخاصة", en: "Department of Security Affairs and Private Rights" };
const person = { name: "عبدالرحمن بن عبدالعزيز بن سليمان الحربي" };
const t = { number: "1448012345" };
const assignedAt = new Date("2026-12-03T09:15:00Z");

export const LONGEST: Record<string, object> = {
  referred: { transaction: t, department: { name: longDept } },
  closed: { transaction: t, closedAt: new Date("2026-12-24T10:00:00Z") },
  "internal-due": { transaction: t, assignedAt, daysHeld: 125 },
  "internal-reminder": { transaction: t, assignedAt, daysHeld: 125, reminderNumber: 12 },
  "internal-escalation": { transaction: t, assignedAt, daysHeld: 125, employee: person, reminderCount: 12 },
  "employee-digest": { total: 125, numbers: ["1448012345", "1448012346", "1448012347"] },
  "manager-digest": { total: 125, numbers: ["1448012345", "1448012346", "1448012347"] },
};

test("the office's new templates fit in 2 parts with the longest realistic data (Arabic ≤ 134 characters)", () => {
  for (const [name, data] of Object.entries(LONGEST)) {
    if (!engine.has(name, "ar")) continue;
    for (const lang of ["ar", "en"] as const) {
      const { text } = engine.render(name, lang, data);
      const a = analyseSms(text);
      assert.ok(a.partCount <= 2, `${name}.${lang}: ${text.length} chars, ${a.partCount} parts\n${text}`);
      if (lang === "ar") assert.ok(text.length <= 134, `${name}.ar: ${text.length} characters\n${text}`);
    }
  }
});

import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { createChannelTemplates } from "../channels/templates.ts";
import { checkBudget, longestDataOf, LONGEST_AGENCY, LONGEST_ARABIC_NAME, SMS_PART_BUDGETS } from "./sms-budget.ts";
import { createTemplateEngine } from "./templates.ts";

const DIR = path.resolve("templates/sms");

test("every SMS template has a part budget and fits it with the longest realistic data, in both languages and digit styles", async (t) => {
  for (const digits of ["latin", "arabic"] as const) {
    const engine = createTemplateEngine({ dir: DIR, digits });
    for (const name of engine.names()) {
      const budget = SMS_PART_BUDGETS[name];
      const data = longestDataOf(name);
      await t.test(`${name} (${digits})`, () => {
        assert.ok(budget !== undefined, `templates/sms/${name}: no part budget in SMS_PART_BUDGETS (core/sms-budget.ts)`);
        assert.ok(data !== undefined, `templates/sms/${name}: no longest data in LONGEST_DATA (core/sms-budget.ts)`);
        for (const lang of ["ar", "en"] as const) {
          if (!engine.has(name, lang)) continue;
          const text = engine.render(name, lang, data!).text;
          const c = checkBudget(text, budget!);
          assert.ok(c.ok, `${name}.${lang}: ${c.characters} characters, ${c.encoding}, ${c.parts} parts > budget ${budget} (${-c.left} over)\n${text}`);
        }
      });
    }
  }
});

test("the short code's replies fit their budgets with the longest realistic answer", () => {
  const t = createChannelTemplates(path.resolve("channels/sms/templates"));
  const date = new Date("2026-12-23T09:15:00Z");
  const answer = { outcome: "found", number: "144800512", displayNumber: "1448/00512", stage: "under-study", level: "detailed", issuedOn: date };
  const details = { registeredAt: date, department: { name: { ar: "إدارة الحقوق الخاصة والأحوال الشخصية", en: "Private Rights and Personal Status Department" } }, outgoing: [] };
  const latest = { number: "1448009771", displayNumber: "1448/009771", date, destination: { name: LONGEST_AGENCY }, requiresReply: true, replied: false };
  for (const lang of ["ar", "en"] as const) {
    for (const stage of ["registered", "under-study", "issued", "closed"]) {
      const text = t.render("reply.txt", lang, { answer: { ...answer, stage }, details, latest, shortCode: "74747", wait: "" });
      const c = checkBudget(text, SMS_PART_BUDGETS["sms-channel/reply.txt"]!);
      assert.ok(c.ok, `reply.txt ${lang} ${stage}: ${c.parts} parts\n${text}`);
    }
    const help = t.render("help.txt", lang, { shortCode: "74747" });
    assert.ok(checkBudget(help, SMS_PART_BUDGETS["sms-channel/help.txt"]!).ok, help);
  }
  assert.ok(LONGEST_ARABIC_NAME.split(" ").length >= 4);
});

test("a template over its budget fails the check", () => {
  const c = checkBudget("ب".repeat(135), 2);
  assert.deepEqual([c.parts, c.left, c.ok], [3, -1, false]);
  assert.deepEqual(checkBudget("ب".repeat(134), 2).left, 0);
});

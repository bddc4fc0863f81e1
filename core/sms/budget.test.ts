import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createChannelTemplates } from "../../channels/templates.ts";
import { replyData } from "../../channels/sms/index.ts";
import { waitTime } from "../../channels/host.ts";
import type { InquiryAnswer } from "../inquiry/inquiry.ts";
import { checkBudget, longestDataOf, LONGEST_AGENCY, LONGEST_ARABIC_NAME, LONGEST_DEPARTMENT, SMS_PART_BUDGETS, WHATSAPP_TEXT_LIMIT } from "./budget.ts";
import { createTemplateEngine } from "./templates/engine.ts";

const DIR = fileURLToPath(new URL("./templates", import.meta.url));

test("every SMS template has a part budget and fits it with the longest realistic data, in both languages and digit styles", async (t) => {
  for (const digits of ["latin", "arabic"] as const) {
    const engine = createTemplateEngine({ dir: DIR, digits });
    for (const name of engine.names()) {
      const budget = SMS_PART_BUDGETS[name];
      const data = longestDataOf(name);
      await t.test(`${name} (${digits})`, () => {
        assert.ok(budget !== undefined, `core/sms/templates/${name}: no part budget in SMS_PART_BUDGETS (core/sms/budget.ts)`);
        assert.ok(data !== undefined, `core/sms/templates/${name}: no longest data in LONGEST_DATA (core/sms/budget.ts)`);
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

// Every answer a reply can carry, with the longest realistic data: coarse answers have no
// details; a transaction still in the registered stage has no outgoing letter yet.
function replyAnswers(): Array<[string, object]> {
  const date = new Date("2026-12-23T09:15:00Z");
  const latest = { number: "1448009771", displayNumber: "1448/009771", date, destination: { code: "MHRSD", name: LONGEST_AGENCY }, requiresReply: true, replied: false };
  const details = { registeredAt: date, closedAt: date, department: { code: "PRIV", name: LONGEST_DEPARTMENT }, outgoing: [latest] };
  const found = { outcome: "found", number: "1448009771", displayNumber: "1448/009771", issuedOn: date, proof: "none", verification: "not-given" };
  const out: Array<[string, object]> = [];
  for (const stage of ["registered", "under-study", "issued", "closed"]) {
    out.push([`${stage} coarse`, { ...found, stage, level: "coarse" }]);
    const d = stage === "registered" ? { ...details, outgoing: [] } : details;
    for (const replied of [false, true]) out.push([`${stage} detail${replied ? " replied" : ""}`, { ...found, stage, level: "detail", proof: "mobile", details: { ...d, outgoing: d.outgoing.map((o) => ({ ...o, replied })) } }]);
  }
  out.push(["not-found", { outcome: "not-found", number: "14480097711448009771", displayNumber: "1448/009771/1448/009771" }]);
  out.push(["limited", { outcome: "rate-limited", retryAfterMs: 59 * 60_000, repeated: false }]);
  for (const outcome of ["invalid-number", "invalid-verifier", "unavailable", "no-number", "help", "unknown"]) out.push([outcome, { outcome, reason: "malformed" }]);
  return out;
}

test("the short code's replies fit their part budgets, and WhatsApp replies its length limit, with the longest realistic answers", async (t) => {
  const ctx = { config: { shortCode: "74747" }, format: { waitTime } } as Parameters<typeof replyData>[1];
  const sms = createChannelTemplates(path.resolve("channels/sms/templates"));
  const wa = createChannelTemplates(path.resolve("channels/whatsapp/templates"));
  for (const file of sms.names("ar")) assert.ok(SMS_PART_BUDGETS[`sms-channel/${file}`] !== undefined, `channels/sms/templates/ar/${file}: no part budget in SMS_PART_BUDGETS`);
  for (const digits of ["latin", "arabic"] as const) {
    await t.test(digits, () => {
      for (const lang of ["ar", "en"] as const) {
        for (const [name, answer] of replyAnswers()) {
          const data = { ...replyData(answer as InquiryAnswer, { ...ctx, config: { shortCode: "74747", digits } }, lang), digits };
          if (!["help", "unknown"].includes(name)) {
            const text = sms.render("reply.txt", lang, data);
            const c = checkBudget(text, SMS_PART_BUDGETS["sms-channel/reply.txt"]!);
            assert.ok(c.ok, `sms reply.txt ${lang} ${name}: ${c.characters} characters, ${c.parts} parts (${-c.left} over)\n${text}`);
          }
          if (name !== "no-number") {
            const text = wa.render("reply.txt", lang, data);
            assert.ok(text.length <= WHATSAPP_TEXT_LIMIT && text.length > 10, `whatsapp reply.txt ${lang} ${name}: ${text.length} characters`);
          }
        }
        const help = sms.render("help.txt", lang, { shortCode: "74747", digits });
        assert.ok(checkBudget(help, SMS_PART_BUDGETS["sms-channel/help.txt"]!).ok, help);
      }
    });
  }
  assert.ok(LONGEST_ARABIC_NAME.split(" ").length >= 4);
});

test("a template over its budget fails the check", () => {
  const c = checkBudget("ب".repeat(135), 2);
  assert.deepEqual([c.parts, c.left, c.ok], [3, -1, false]);
  assert.deepEqual(checkBudget("ب".repeat(134), 2).left, 0);
});

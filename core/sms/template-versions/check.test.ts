import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../platform/config.ts";
import { TEMPLATE_NAMES } from "../templates/engine.ts";
import { checkDraft, isEditable } from "./check.ts";

const config = loadConfig({});
const file = (name: string, lang: string) => readFileSync(path.join(config.templatesDir, `${name}.${lang}.hbs`), "utf8");

test("every template file passes the editor's check as it is, in both languages (no field the data has is called unknown)", () => {
  for (const name of TEMPLATE_NAMES) {
    assert.ok(isEditable(name), name);
    for (const lang of ["ar", "en"] as const) {
      const c = checkDraft(config, name, lang, file(name, lang));
      assert.equal(c.problem, undefined, `${name}.${lang}: ${c.problem?.message.en}`);
      assert.ok(c.sample!.text.length > 10 && c.longest!.withinBudget);
    }
  }
});

test("the preview measures the sample text: encoding, parts and characters left in the part; the longest against the budget", () => {
  const c = checkDraft(config, "closed", "en", "Text your number to {{ltr shortCode}}.");
  assert.deepEqual(c.sample, { text: "Text your number to 74747.", encoding: "GSM7", characters: 26, parts: 1, leftInPart: 134 });
  assert.equal(c.longest!.budget, 2);
  assert.equal(c.longest!.leftInBudget, 2 * 153 - 26, "two GSM-7 parts of 153");
  const ar = checkDraft(config, "closed", "ar", "أرسلوا الرقم إلى {{ltr shortCode}}");
  assert.equal(ar.sample!.encoding, "UCS2");
  assert.equal(ar.sample!.leftInPart, 70 - ar.sample!.characters);
});

test("refused: a text that does not compile, an unknown field (also in a branch the data does not take), an unknown helper, a helper misused, empty", () => {
  const code = (body: string, name: (typeof TEMPLATE_NAMES)[number] = "registered") => checkDraft(config, name, "ar", body).problem?.code;
  assert.equal(code("سُجلت {{#if transaction.subject}}بشأن"), "TEMPLATE_SYNTAX");
  assert.equal(code("{{ltr transaction.displayNumber"), "TEMPLATE_SYNTAX");
  const unknown = checkDraft(config, "registered", "ar", "{{#if (eq @lang \"en\")}}{{citizen.nmae}}{{/if}}سُجلت {{ltr transaction.displayNumber}}");
  assert.equal(unknown.problem?.code, "TEMPLATE_UNKNOWN_FIELD");
  assert.match(unknown.problem!.message.ar, /«citizen\.nmae»/);
  assert.match(unknown.problem!.message.en, /Available: .*citizen\.name/);
  assert.equal(code("{{outgoing.number}}"), "TEMPLATE_UNKNOWN_FIELD", "registered has no outgoing letter");
  assert.equal(code("{{#each numbers}}{{ltr this}}{{/each}}", "employee-digest"), undefined, "each moves the context to the element");
  assert.equal(code("{{#each numbers}}{{ltr ../total}} {{this.number}}{{/each}}", "employee-digest"), "TEMPLATE_UNKNOWN_FIELD");
  assert.equal(code("{{shout citizen.name}}"), "TEMPLATE_UNKNOWN_HELPER");
  assert.equal(code("{{hijri citizen.name}}"), "TEMPLATE_RENDER", "not a date");
  assert.equal(code("  \n"), "TEMPLATE_EMPTY");
  assert.equal(code("x".repeat(2001)), "TEMPLATE_TOO_LONG");
});

test("refused: a text over its part budget with the longest realistic data, though the sample fits", () => {
  const body = `${file("registered", "ar").trim()} شكرًا.`;
  const c = checkDraft(config, "registered", "ar", body);
  assert.equal(c.problem?.code, "TEMPLATE_OVER_BUDGET");
  assert.equal(c.problem?.field, "body");
  assert.ok(c.longest!.parts > 2 && !c.longest!.withinBudget && c.longest!.leftInBudget < 0);
  assert.ok(c.sample!.parts <= 2, "the sample data is shorter than the longest");
  assert.match(c.problem!.message.ar, /أجزاء/);
});

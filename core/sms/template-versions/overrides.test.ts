import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { loadConfig } from "../../platform/config.ts";
import { smsTemplateEngine } from "../templates/engine.ts";
import { SAMPLE_DATA } from "../templates/samples.ts";
import { TemplateOverrides } from "./overrides.ts";
import type { TemplateChange } from "./store.ts";

const config = loadConfig({});

test("the engine renders the newest saved version from memory: one read for a thousand SMS, the file when none is saved", async () => {
  let reads = 0;
  let heads: TemplateChange[] = [{ template: "closed", lang: "en", version: 2, body: "Saved v2: text {{ltr shortCode}}." }];
  let now = 0;
  const overrides = new TemplateOverrides(async () => (reads++, heads), { ttlMs: 30_000, now: () => now });
  await overrides.refresh();
  const engine = smsTemplateEngine(config, overrides);
  for (let i = 0; i < 1000; i++) assert.equal(engine.render("closed", "en", SAMPLE_DATA.closed).text, "Saved v2: text 74747.");
  assert.match(engine.render("closed", "ar", SAMPLE_DATA.closed).text, /نفيدكم بانتهاء الإجراءات/, "no saved Arabic version: the file");
  assert.equal(reads, 1);

  // templates.changed: the next render uses the new body, still without a read.
  overrides.apply({ template: "closed", lang: "en", version: 3, body: "Saved v3 {{ltr shortCode}}" });
  assert.equal(engine.render("closed", "en", {}).text, "Saved v3 74747");
  overrides.apply({ template: "closed", lang: "en", version: 2, body: "late, older" });
  assert.equal(engine.render("closed", "en", {}).text, "Saved v3 74747", "an older version never replaces a newer one");
  assert.equal(reads, 1);

  // A lost event: after the time-to-live the versions are read again in the background.
  heads = [{ template: "closed", lang: "en", version: 4, body: "Saved v4 {{ltr shortCode}}" }];
  now = 30_001;
  assert.equal(engine.render("closed", "en", {}).text, "Saved v3 74747", "served from memory while reading");
  await new Promise((r) => setImmediate(r));
  assert.equal(reads, 2);
  assert.equal(engine.render("closed", "en", {}).text, "Saved v4 74747");
  assert.equal(reads, 2);
});

test("a failed read keeps the versions in memory and is reported", async () => {
  const errors: unknown[] = [];
  let fail = false;
  let now = 0;
  const overrides = new TemplateOverrides(async () => {
    if (fail) throw new Error("database down");
    return [{ template: "closed", lang: "ar", version: 1, body: "أُغلقت" }];
  }, { now: () => now, onError: (e) => errors.push(e) });
  await overrides.refresh();
  fail = true;
  now = 60_000;
  assert.equal(overrides.get("closed", "ar")?.body, "أُغلقت");
  await new Promise((r) => setImmediate(r));
  for (let i = 0; i < 100; i++) assert.equal(overrides.get("closed", "ar")?.body, "أُغلقت");
  await new Promise((r) => setImmediate(r));
  assert.equal(errors.length, 1, "tried again after the time-to-live, not on every SMS");
});

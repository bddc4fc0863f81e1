// The staff preview of an SMS template: its text, parts and the characters left in its budget.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { api, http, testDatabase, testNode } from "./support/harness.ts";

let db: Awaited<ReturnType<typeof testDatabase>>;
let node: Awaited<ReturnType<typeof testNode>>;
before(async () => {
  db = await testDatabase();
  node = await testNode(db.url, { SERVICES: "api,notifier", CHANNELS: "web", API_KEYS: "test-key-0123456789abcdef,events-only-key-0123456789=events:write" });
});
after(async () => {
  await node?.stop();
  await db?.remove();
});

test("POST /api/v1/templates/:name/preview: text, encoding, parts and characters left, with the longest data or the given one", async () => {
  const longest = await api(node.url, "POST", "/api/v1/templates/registered/preview", { lang: "ar" });
  assert.equal(longest.status, 200, longest.text);
  assert.equal(longest.body.encoding, "UCS2");
  assert.equal(longest.body.budget, 2);
  assert.ok(longest.body.parts <= 2 && longest.body.withinBudget, longest.text);
  assert.ok(longest.body.charactersLeft >= 0);
  assert.match(longest.body.text, /\u20661448\/00512\u2069/, "the number as written, isolated");

  const given = await api(node.url, "POST", "/api/v1/templates/registered/preview", {
    lang: "en",
    data: { transaction: { number: "144800512", displayNumber: "1448/00512", registeredAt: "2026-11-28T07:30:00Z" }, citizen: { name: "Sara" } },
  });
  assert.equal(given.status, 200, given.text);
  assert.equal(given.body.encoding, "GSM7");
  assert.match(given.body.text, /Sara/);

  const missing = await api(node.url, "POST", "/api/v1/templates/registered/preview", { lang: "ar", data: { citizen: { name: "سارة" } } });
  assert.equal(missing.status, 400, missing.text);
  assert.equal(missing.body.error.code, "TEMPLATE_ERROR");
  assert.equal((await api(node.url, "POST", "/api/v1/templates/no-such/preview", {})).status, 404);
  const scoped = await http(node.url, "POST", "/api/v1/templates/registered/preview", {}, { authorization: "Bearer events-only-key-0123456789" });
  assert.equal(scoped.status, 403);
});

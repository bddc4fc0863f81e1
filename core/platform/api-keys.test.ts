// API_KEYS parsing and scoped look-up.
import { test } from "node:test";
import assert from "node:assert/strict";
import { describeApiKeys, findApiKey, keyFingerprint, parseApiKeys, SCOPES } from "./api-keys.ts";
import { ConfigError, loadConfig } from "./config.ts";

const A = "aaaaaaaaaaaaaaaa-events";
const B = "bbbbbbbbbbbbbbbb-admin";
const C = "cccccccccccccccc-all";

test("parseApiKeys: a bare key has every scope; key=scope+scope has those", () => {
  const keys = parseApiKeys(`${A}=events:write, ${B}=directory:admin+messages:read+metrics:read,${C}`);
  assert.deepEqual(keys.map((k) => [...k.scopes]), [["events:write"], ["directory:admin", "messages:read", "metrics:read"], [...SCOPES]]);
  assert.equal(keys[0]!.fingerprint, keyFingerprint(A));
  assert.doesNotMatch(describeApiKeys(keys), /aaaa|bbbb|cccc/, "the description never shows a key");
});

test("parseApiKeys: unknown scopes and short keys are configuration errors naming API_KEYS", () => {
  assert.throws(() => loadConfig({ API_KEYS: `${A}=events:wrte` }), (e: unknown) => e instanceof ConfigError && /API_KEYS.*unknown scope "events:wrte"/.test(e.message));
  assert.throws(() => loadConfig({ API_KEYS: "short=events:write" }), (e: unknown) => e instanceof ConfigError && /API_KEYS.*16/.test(e.message));
  assert.throws(() => loadConfig({ API_KEYS: `${A}=` }), ConfigError);
});

test("findApiKey: the matching key, or none", () => {
  const keys = parseApiKeys(`${A}=events:write,${B}=metrics:read`);
  assert.equal(findApiKey(`Bearer ${B}`, keys)?.key, B);
  assert.equal(findApiKey(`bearer   ${A}  `, keys)?.key, A);
  for (const h of [undefined, "", `Bearer ${A}x`, `Basic ${A}`, `Bearer ${A} ${B}`]) assert.equal(findApiKey(h, keys), undefined, String(h));
});

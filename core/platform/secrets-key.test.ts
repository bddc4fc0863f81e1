import { test } from "node:test";
import assert from "node:assert/strict";
import { SecretsKeyring, SecretsKeyError } from "./secrets-key.ts";
import { loadConfig, ConfigError } from "./config.ts";

const key = (id: string, fill: number) => `${id}:${Buffer.alloc(32, fill).toString("base64")}`;

test("SecretsKeyring: the first key encrypts, every key decrypts; the ciphertext is bound to its owner", () => {
  const old = SecretsKeyring.parse(key("k1", 1));
  const stored = old.encrypt("whsec_abc", "MOI/1");
  assert.equal(stored.keyId, "k1");
  assert.ok(!JSON.stringify(stored).includes("whsec_abc"));
  const rotated = SecretsKeyring.parse(`${key("k2", 2)},${key("k1", 1)}`);
  assert.equal(rotated.decrypt(stored, "MOI/1"), "whsec_abc");
  assert.equal(rotated.encrypt("x", "MOI/1").keyId, "k2");
  assert.throws(() => rotated.decrypt(stored, "MOJ/1"), (e: unknown) => e instanceof SecretsKeyError && e.reason === "wrong-key");
  assert.throws(() => SecretsKeyring.parse(key("k2", 2)).decrypt(stored, "MOI/1"), (e: unknown) => e instanceof SecretsKeyError && e.reason === "unknown-key" && e.keyId === "k1");
  assert.throws(() => SecretsKeyring.parse(key("k1", 9)).decrypt(stored, "MOI/1"), (e: unknown) => e instanceof SecretsKeyError && e.reason === "wrong-key");
  // The key bytes never leave in the configuration's JSON (should it ever be serialised).
  assert.equal(JSON.stringify({ secretsKey: rotated }), '{"secretsKey":{"keyIds":["k2","k1"]}}');
});

test("SECRETS_KEY: malformed values and a missing key with an external database are ConfigErrors naming it", () => {
  for (const raw of ["nokey", ":abc", "k1:c2hvcnQ=", `${key("k1", 1)},${key("k1", 2)}`, `bad id:${Buffer.alloc(32).toString("base64")}`]) {
    assert.throws(() => loadConfig({ SECRETS_KEY: raw }), (e: unknown) => e instanceof ConfigError && e.variable === "SECRETS_KEY", raw);
  }
  assert.throws(() => loadConfig({ MONGO_URL: "mongodb://db/taqib" }), (e: unknown) => e instanceof ConfigError && e.variable === "SECRETS_KEY");
  assert.doesNotThrow(() => loadConfig({ MONGO_URL: "mongodb://db/taqib", SERVICES: "api,events" }));
  assert.doesNotThrow(() => loadConfig({}));
  assert.deepEqual(loadConfig({ SECRETS_KEY: key("a", 1) }).secretsKey?.keyIds, ["a"]);
});

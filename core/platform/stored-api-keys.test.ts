// The stored keys' cache: one read per TTL, a re-read on an unknown key at most every MISS_REFRESH_MS,
// a revoke seen at once after invalidate() and within the TTL without it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { MISS_REFRESH_MS, STORED_KEYS_TTL_MS, StoredKeyCache } from "./stored-api-keys.ts";

const hash = (k: string) => createHash("sha256").update(k).digest("hex");
const KEY = "tqk_0123456789abcdef0123456789abcdef";

function world() {
  let now = 1_000_000;
  let rows = [{ hash: hash(KEY), fingerprint: "f1", scopes: ["events:write", "not-a-scope"] }];
  let reads = 0;
  const cache = new StoredKeyCache(async () => (reads++, rows), STORED_KEYS_TTL_MS, MISS_REFRESH_MS, () => now);
  return {
    cache,
    reads: () => reads,
    tick: (ms: number) => (now += ms),
    set: (r: typeof rows) => (rows = r),
  };
}

test("stored keys: a known key costs one read per TTL; unknown scopes are dropped", async () => {
  const w = world();
  for (let i = 0; i < 50; i++) assert.deepEqual([...(await w.cache.find(`Bearer ${KEY}`))!.scopes], ["events:write"]);
  assert.equal(w.reads(), 1);
  w.tick(STORED_KEYS_TTL_MS + 1);
  await w.cache.find(`Bearer ${KEY}`);
  assert.equal(w.reads(), 2);
});

test("stored keys: an unknown key re-reads at most once per MISS_REFRESH_MS (a key made on another node works within it; guessing costs little)", async () => {
  const w = world();
  await w.cache.find(`Bearer ${KEY}`);
  for (let i = 0; i < 20; i++) assert.equal(await w.cache.find("Bearer tqk_unknown-unknown-unknown"), undefined);
  assert.equal(w.reads(), 1, "the copy is fresh: no re-read");
  const other = "tqk_made-on-another-node-0000000000";
  w.set([{ hash: hash(KEY), fingerprint: "f1", scopes: ["events:write"] }, { hash: hash(other), fingerprint: "f2", scopes: ["metrics:read"] }]);
  w.tick(MISS_REFRESH_MS + 1);
  assert.equal((await w.cache.find(`Bearer ${other}`))?.fingerprint, "f2");
  assert.equal(w.reads(), 2);
  assert.equal(await w.cache.find(undefined), undefined, "no header: no read");
  assert.equal(await w.cache.find("Basic abc"), undefined);
  assert.equal(w.reads(), 2);
});

test("stored keys: a revoked key stops at once after invalidate(), and within the TTL without it", async () => {
  const w = world();
  assert.ok(await w.cache.find(`Bearer ${KEY}`));
  w.set([]);
  w.tick(STORED_KEYS_TTL_MS - 1);
  assert.ok(await w.cache.find(`Bearer ${KEY}`), "a node that missed the event still has its copy");
  w.tick(2);
  assert.equal(await w.cache.find(`Bearer ${KEY}`), undefined, "gone once the TTL has passed");
  w.set([{ hash: hash(KEY), fingerprint: "f1", scopes: ["events:write"] }]);
  w.tick(MISS_REFRESH_MS + 1);
  assert.ok(await w.cache.find(`Bearer ${KEY}`));
  w.set([]);
  w.cache.invalidate();
  assert.equal(await w.cache.find(`Bearer ${KEY}`), undefined, "invalidated: read again at once");
});

test("stored keys: a read started before an invalidation is not trusted after it", async () => {
  let release!: () => void;
  let rows = [{ hash: hash(KEY), fingerprint: "f1", scopes: ["events:write"] }];
  const cache = new StoredKeyCache(async () => {
    const mine = rows;
    await new Promise<void>((r) => (release = r));
    return mine;
  });
  const first = cache.find(`Bearer ${KEY}`);
  await new Promise((r) => setImmediate(r));
  rows = [];
  cache.invalidate();
  release();
  await new Promise((r) => setImmediate(r));
  release();
  assert.equal(await first, undefined, "the revoke wins over the older read");
});

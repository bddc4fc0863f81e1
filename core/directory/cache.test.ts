import { test } from "node:test";
import assert from "node:assert/strict";
import { KeyedCache } from "./cache.ts";

test("KeyedCache: one load for the missing ids, negative answers kept, invalidation and TTL", async () => {
  const loads: string[][] = [];
  let now = 0;
  const db = new Map([["E1", { _id: "E1", name: "أحمد" }], ["E2", { _id: "E2", name: "سارة" }]]);
  const cache = new KeyedCache<{ _id: string; name: string }>(async (ids) => (loads.push(ids), ids.flatMap((id) => (db.has(id) ? [db.get(id)!] : []))), 1000, () => now);
  const got = await cache.getMany(["E1", "E2", "E3", "E1"]);
  assert.equal(got.get("E1")?.name, "أحمد");
  assert.equal(got.get("E3"), null);
  assert.deepEqual(loads, [["E1", "E2", "E3"]]);
  // Cached, including the absent one; concurrent gets of a loading id share its load.
  await Promise.all([cache.get("E1"), cache.get("E3")]);
  assert.equal(loads.length, 1);
  // A change is announced: that entry is read again, the others are not.
  db.set("E1", { _id: "E1", name: "أحمد علي" });
  cache.invalidate("E1");
  assert.equal((await cache.get("E1"))?.name, "أحمد علي");
  assert.deepEqual(loads[1], ["E1"]);
  // Past the time-to-live everything is read again (a lost announcement heals).
  now += 1001;
  await cache.getMany(["E2", "E3"]);
  assert.deepEqual(loads[2], ["E2", "E3"]);
});

test("KeyedCache: a failed load is not cached", async () => {
  let fail = true;
  const cache = new KeyedCache<{ _id: string }>(async (ids) => {
    if (fail) throw new Error("database down");
    return ids.map((_id) => ({ _id }));
  });
  await assert.rejects(cache.get("D1"), /database down/);
  fail = false;
  assert.deepEqual(await cache.get("D1"), { _id: "D1" });
});

test("KeyedCache: a load in flight when the entry changes answers its callers but is not kept", async () => {
  const db = new Map([["E1", { _id: "E1", mobile: "966559990002" }]]);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let reads = 0;
  const cache = new KeyedCache<{ _id: string; mobile: string }>(async (ids) => {
    const seen = ids.flatMap((id) => (db.has(id) ? [{ ...db.get(id)! }] : []));
    if (reads++ === 0) await gate; // the first read is slow: it saw the old mobile
    return seen;
  });
  const before = cache.get("E1");
  db.set("E1", { _id: "E1", mobile: "966559990099" });
  cache.invalidate("E1");
  // A get after the change does not wait for the stale read: it reads again.
  assert.equal((await cache.get("E1"))?.mobile, "966559990099");
  release();
  assert.equal((await before)?.mobile, "966559990002");
  assert.equal((await cache.get("E1"))?.mobile, "966559990099", "the stale read was not kept");
  cache.invalidate();
  assert.equal(reads, 2);
});

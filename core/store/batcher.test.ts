import { test } from "node:test";
import assert from "node:assert/strict";
import { Batcher } from "./batcher.ts";

const tick = () => new Promise((r) => setImmediate(r));

test("calls made together share a flush; calls made during a flush wait for the next one", async () => {
  const flushes: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const b = new Batcher<number, number>(async (items) => {
    flushes.push(items);
    if (flushes.length === 1) await gate;
    return items.map((i) => i * 10);
  });
  const first = [b.add(1), b.add(2), b.add(3)];
  await tick();
  const later = [b.add(4), b.add(5)];
  await tick();
  assert.deepEqual(flushes, [[1, 2, 3]], "the second batch waits for the first");
  release();
  assert.deepEqual(await Promise.all([...first, ...later]), [10, 20, 30, 40, 50]);
  assert.deepEqual(flushes, [[1, 2, 3], [4, 5]]);
});

test("a failed flush rejects its own calls only", async () => {
  const b = new Batcher<number, number>(async (items) => {
    if (items.includes(0)) throw new Error("boom");
    return items;
  });
  const bad = assert.rejects(b.add(0), /boom/);
  await tick();
  const good = b.add(7);
  await bad;
  assert.equal(await good, 7);
});

test("maxBatch and maxWeight cut batches; an item heavier than maxWeight goes alone", async () => {
  const sizes: number[][] = [];
  const b = new Batcher<number, number>(async (items) => (sizes.push(items), items), { maxBatch: 3, weight: (n) => n, maxWeight: 10 });
  await Promise.all([4, 4, 4, 1, 1, 1, 1, 25, 2].map((n) => b.add(n)));
  assert.deepEqual(sizes, [[4, 4], [4, 1, 1], [1, 1], [25], [2]]);
});

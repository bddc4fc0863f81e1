// The lease's decisions over an in-memory slot store and a clock the test moves: who leads,
// when the lead passes on, and (fast-check) that two processes never lead the same slot.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Lease, type LeaseSlots } from "./lease.ts";

const SLOT = 1000;

/** Unique keys in a map, as the database's unique _id keeps them. */
class MemorySlots implements LeaseSlots {
  readonly keys = new Map<string, number>();
  pruned: string[] = [];
  constructor(private readonly clock: { t: number }) {}
  async claim(key: string): Promise<boolean> {
    if (this.keys.has(key)) return false;
    this.keys.set(key, this.clock.t);
    return true;
  }
  async release(keys: string[]): Promise<void> {
    for (const k of keys) this.keys.delete(k);
  }
  async prune(prefix: string, before: Date): Promise<void> {
    this.pruned.push(prefix);
    for (const [k, at] of this.keys) if (k.startsWith(prefix) && at < before.getTime()) this.keys.delete(k);
  }
}

/** Processes sharing one slot store and one clock; each counts its acquisitions and losses. */
function cluster(n: number, start = 100 * SLOT) {
  const clock = { t: start };
  const slots = new MemorySlots(clock);
  const nodes = Array.from({ length: n }, (_, i) => {
    const counts = { acquired: 0, lost: 0 };
    const lease = new Lease({
      name: "scheduler", slotMs: SLOT, slots, now: () => clock.t,
      onAcquire: () => void counts.acquired++,
      onLose: () => void counts.lost++,
    });
    return { id: i, lease, counts, alive: true };
  });
  const leaders = () => nodes.filter((x) => x.alive && x.lease.isLeader).map((x) => x.id);
  /** Every live node looks, as start() does, five times a slot, for `slots` slots. */
  async function run(slotsToRun: number): Promise<void> {
    for (let i = 0; i < slotsToRun * 5; i++) {
      clock.t += SLOT / 5;
      for (const x of nodes) if (x.alive) await x.lease.tick();
    }
  }
  return { clock, slots, nodes, leaders, run };
}

describe("Lease", () => {
  it("a process alone leads at its first look and keeps the lead slot after slot", async () => {
    const c = cluster(1);
    await c.nodes[0]!.lease.tick();
    assert.deepEqual(c.leaders(), [0]);
    await c.run(10);
    assert.deepEqual(c.leaders(), [0]);
    assert.deepEqual(c.nodes[0]!.counts, { acquired: 1, lost: 0 });
  });

  it("of several, exactly one leads, and keeps it", async () => {
    const c = cluster(3);
    await c.run(10);
    assert.deepEqual(c.leaders(), [0]);
    assert.deepEqual(c.nodes.map((x) => x.counts.acquired), [1, 0, 0]);
  });

  it("a leader that dies is replaced within two slots", async () => {
    const c = cluster(3);
    await c.run(3);
    c.nodes[0]!.alive = false;
    // It had taken the next slot halfway through its own: the others wait for the one after.
    await c.run(2);
    assert.equal(c.leaders().length, 1);
    assert.notEqual(c.leaders()[0], 0);
  });

  it("a leader that stops gives the lead away at once (onLose, keys released)", async () => {
    const c = cluster(2);
    await c.run(2);
    await c.nodes[0]!.lease.stop();
    c.nodes[0]!.alive = false;
    assert.deepEqual(c.nodes[0]!.counts, { acquired: 1, lost: 1 });
    // Past slots' keys stay until pruned; the current and next are free.
    const current = Math.floor(c.clock.t / SLOT);
    assert.deepEqual([...c.slots.keys.keys()].filter((k) => Number(k.split(":").at(-1)) >= current), []);
    await c.nodes[1]!.lease.tick();
    assert.deepEqual(c.leaders(), [1]);
  });

  it("a leader that stalls past its slots loses the lead at its next look", async () => {
    const c = cluster(2);
    await c.run(2);
    c.nodes[0]!.alive = false;
    await c.run(3);
    c.nodes[0]!.alive = true;
    await c.nodes[0]!.lease.tick();
    assert.deepEqual(c.nodes[0]!.counts, { acquired: 1, lost: 1 });
    assert.deepEqual(c.leaders(), [1]);
  });

  it("old slots' keys are pruned every twentieth slot", async () => {
    const c = cluster(1, 0);
    await c.run(41);
    assert.ok(c.slots.pruned.length >= 2);
    assert.ok(c.slots.keys.size <= 12, `${c.slots.keys.size} keys kept`);
  });

  it("never two leaders of one slot, whatever the looks, stalls and stops (fast-check)", async () => {
    type Step = { advance: number; who: number[]; stop: number | undefined };
    const step: fc.Arbitrary<Step> = fc.record({
      advance: fc.integer({ min: 0, max: 1.5 * SLOT }),
      who: fc.subarray([0, 1, 2]),
      stop: fc.oneof({ arbitrary: fc.constant(undefined), weight: 12 }, { arbitrary: fc.integer({ min: 0, max: 2 }), weight: 1 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 60 }), async (steps) => {
        const c = cluster(3);
        const leaderOf = new Map<number, number>(); // slot -> the process that led it
        for (const s of steps) {
          c.clock.t += s.advance;
          if (s.stop !== undefined && c.nodes[s.stop]!.alive) {
            // A stopped process gives its slots away: from now on others may lead them.
            await c.nodes[s.stop]!.lease.stop();
            c.nodes[s.stop]!.alive = false;
            for (const [slot, i] of leaderOf) if (i === s.stop) leaderOf.delete(slot);
          }
          // The chosen processes look at the same moment.
          const looking = s.who.filter((i) => c.nodes[i]!.alive);
          await Promise.all(looking.map((i) => c.nodes[i]!.lease.tick()));
          const slot = Math.floor(c.clock.t / SLOT);
          for (const i of looking) {
            const x = c.nodes[i]!;
            // onAcquire and onLose alternate, and say what isLeader says.
            assert.equal(x.counts.acquired - x.counts.lost, x.lease.isLeader ? 1 : 0);
            if (!x.lease.isLeader) continue;
            const other = leaderOf.get(slot);
            assert.ok(other === undefined || other === i, `slot ${slot} led by ${other} and ${i}`);
            leaderOf.set(slot, i);
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});

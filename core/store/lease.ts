// Leadership among processes without atomic updates: time is cut into slots, and the
// holder of a slot is whoever inserted its unique key first. The holder inserts the next
// slot's key halfway through its own, so it keeps the lead while it lives; when it dies,
// the others race for the next slot and one wins within one slot.
import { LeaseSlotModel } from "./models.ts";
import { claimOnce } from "./exclusive.ts";

export interface LeaseOptions {
  name: string;
  slotMs: number;
  onAcquire: () => Promise<void> | void;
  onLose: () => Promise<void> | void;
  log?: (msg: string) => void;
  /** Where slots are claimed; default the database's unique keys. */
  slots?: LeaseSlots;
  /** Default Date.now. */
  now?: () => number;
}

/** Where slots are claimed: a key claimed once is nobody else's (see claimOnce). */
export interface LeaseSlots {
  claim(key: string): Promise<boolean>;
  release(keys: string[]): Promise<void>;
  /** Forgets the keys starting with `prefix` claimed before `before`. */
  prune(prefix: string, before: Date): Promise<void>;
}

const databaseSlots: LeaseSlots = {
  claim: (key) => claimOnce(key, LeaseSlotModel),
  async release(keys) {
    await LeaseSlotModel.deleteMany({ _id: { $in: keys } }).catch(() => undefined);
  },
  async prune(prefix, before) {
    await LeaseSlotModel.deleteMany({ _id: { $regex: `^${prefix}` }, at: { $lt: before } }).catch(() => undefined);
  },
};

/**
 * Runs until stopped, calling onAcquire when this process becomes the leader and onLose
 * when it stops being one.
 *
 * @example
 *   const lease = new Lease({ name: "scheduler", slotMs: 15000, onAcquire: start, onLose: stop });
 *   lease.start(); ... await lease.stop();
 */
export class Lease {
  private held = new Set<number>();
  private leader = false;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<void>;
  private stopped = false;
  private readonly slots: LeaseSlots;
  private readonly now: () => number;

  constructor(private readonly opts: LeaseOptions) {
    this.slots = opts.slots ?? databaseSlots;
    this.now = opts.now ?? Date.now;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    const loop = () => {
      if (this.stopped) return;
      this.ticking = this.tick().catch((err) => this.opts.log?.(`lease ${this.opts.name}: ${(err as Error).message}`));
      this.ticking.finally(() => {
        if (!this.stopped) this.timer = setTimeout(loop, Math.max(this.opts.slotMs / 5, 50));
      });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.ticking;
    if (this.leader) {
      this.leader = false;
      await this.opts.onLose();
    }
    // Give the lead away at once: the next slots are free for the others.
    await this.slots.release([...this.held].map((s) => this.key(s)));
  }

  private key(slot: number): string {
    return `lease:${this.opts.name}:${slot}`;
  }

  /** One look at the slots (start() looks five times a slot); public for tests that drive the clock. */
  async tick(): Promise<void> {
    const now = this.now();
    const slot = Math.floor(now / this.opts.slotMs);
    if (!this.held.has(slot) && (await this.slots.claim(this.key(slot)))) this.held.add(slot);
    // Halfway through a held slot, take the next one too.
    if (this.held.has(slot) && now - slot * this.opts.slotMs > this.opts.slotMs / 2 && !this.held.has(slot + 1)) {
      if (await this.slots.claim(this.key(slot + 1))) this.held.add(slot + 1);
    }
    for (const s of this.held) if (s < slot) this.held.delete(s);
    const lead = this.held.has(slot);
    if (lead && !this.leader) {
      this.leader = true;
      this.opts.log?.(`lease ${this.opts.name}: acquired`);
      await this.opts.onAcquire();
    } else if (!lead && this.leader) {
      this.leader = false;
      this.opts.log?.(`lease ${this.opts.name}: lost`);
      await this.opts.onLose();
    }
    // Old slots' keys are of no use to anyone.
    if (slot % 20 === 0) await this.slots.prune(`lease:${this.opts.name}:`, new Date(now - 10 * this.opts.slotMs));
  }
}

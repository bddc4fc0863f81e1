// The SMS dispatcher: one process at a time (the holder of the dispatcher lease) claims the
// due messages of the queue in batches, prepares them and hands them to the workers in
// shares. It sleeps until it is woken (messages queued, a share done) or the next message
// falls due; a slow safety check covers a wake-up lost between nodes.
import { Lease } from "../store/lease.ts";
import type { ReadyMessage } from "./queue.ts";
import type { SendOutcome } from "./send.ts";
import { clock } from "../platform/clock.ts";

export interface DispatcherOptions {
  /** Claims and prepares up to `limit` due messages (see claimDueMessages). */
  claim(limit: number, inFlight: ReadonlySet<string>): Promise<{ ready: ReadyMessage[]; failed: number; nextDueAt?: Date }>;
  /** Hands a share of the ready messages to a worker (the notifier service's `send` action). */
  send(items: ReadyMessage[]): Promise<SendOutcome[]>;
  /** Messages in flight at once, over all workers. */
  window: number;
  /** Messages per worker share. */
  share: number;
  leaseMs: number;
  /** Longest sleep without a wake-up. */
  idleCheckMs?: number;
  log?: { info(...a: unknown[]): void; warn(...a: unknown[]): void };
}

/**
 * @example
 *   const d = new Dispatcher({ claim: (n, inFlight) => claimDueMessages(n, deps, { inFlight }), send: (items) => broker.call("notifier.send", { items }), window: 200, share: 50, leaseMs: 10000 });
 *   d.start(); ... await d.stop();
 */
export class Dispatcher {
  private readonly inFlight = new Set<string>();
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private again = false;
  private active = false;
  private readonly lease: Lease;
  private unwatchClock?: () => void;
  /** Counters for metrics. */
  readonly counts = { dispatched: 0, submitted: 0, retried: 0, failed: 0, skipped: 0, errors: 0 };

  constructor(private readonly opts: DispatcherOptions) {
    this.lease = new Lease({
      name: "sms-dispatcher",
      slotMs: opts.leaseMs,
      log: (m) => opts.log?.info(m),
      onAcquire: () => this.activate(),
      onLose: () => this.deactivate(),
    });
  }

  get isActive(): boolean {
    return this.active;
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  start(): void {
    this.lease.start();
    // Due times are on the schedule clock: when it is moved, what it made due goes now.
    this.unwatchClock = clock.onChange(() => this.wake());
  }

  /** Stops handing out work; waits (bounded) for what is in flight. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.unwatchClock?.();
    await this.lease.stop();
    await this.deactivate();
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  /** Looks for due messages now (after new ones were queued, or a share was done). */
  wake(): void {
    if (!this.active) return;
    if (this.round) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.round = this.fill().finally(() => {
      this.round = undefined;
      if (this.again) {
        this.again = false;
        this.wake();
      }
    });
  }

  private activate(): void {
    this.active = true;
    this.wake();
  }

  private async deactivate(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    await this.round;
  }

  private sleep(ms: number): void {
    clearTimeout(this.timer);
    if (!this.active) return;
    this.timer = setTimeout(() => this.wake(), Math.max(ms, 0));
    this.timer.unref?.();
  }

  private async fill(): Promise<void> {
    const idle = this.opts.idleCheckMs ?? 30_000;
    try {
      const free = this.opts.window - this.inFlight.size;
      // Full: the next share that is done wakes us.
      if (free < Math.min(this.opts.share, this.opts.window)) return;
      // Claimed in slices of a few shares: the first go out while the next are being prepared.
      const { ready, failed, nextDueAt } = await this.opts.claim(Math.min(free, this.opts.share * 4), this.inFlight);
      this.counts.failed += failed;
      for (let i = 0; i < ready.length; i += this.opts.share) this.dispatch(ready.slice(i, i + this.opts.share));
      if (ready.length >= Math.min(free, this.opts.share * 4) * 0.9) this.again = true; // more may be due
      else this.sleep(nextDueAt ? Math.min(nextDueAt.getTime() - clock.now().getTime() + 5, idle) : idle);
    } catch (err) {
      this.counts.errors++;
      this.opts.log?.warn("dispatcher round failed:", (err as Error).message);
      this.sleep(1000);
    }
  }

  private dispatch(items: ReadyMessage[]): void {
    for (const i of items) this.inFlight.add(i.messageId);
    this.counts.dispatched += items.length;
    this.opts
      .send(items)
      .then((outcomes) => {
        for (const o of outcomes) {
          if (o === "submitted") this.counts.submitted++;
          else if (o === "retry") this.counts.retried++;
          else if (o === "failed") this.counts.failed++;
          else this.counts.skipped++;
        }
      })
      .catch((err) => {
        // The worker did not answer (gone, timed out): the messages are still in the queue,
        // held until their time runs out; they are handed out again then.
        this.counts.errors++;
        this.opts.log?.warn(`dispatch of ${items.length} message(s) failed:`, (err as Error).message);
      })
      .finally(() => {
        for (const i of items) this.inFlight.delete(i.messageId);
        this.wake();
      });
  }
}

// The SMS dispatcher: the message log is the queue. One process at a time (the holder of
// the dispatcher lease) reads the messages that are due and hands each to a worker; the
// workers claim each attempt with a unique insert, so a message is sent once even when two
// dispatchers overlap for a moment or a worker dies mid-send.
import { MessageModel } from "./models.ts";
import { Lease } from "./lease.ts";
import type { SendOutcome } from "./sms-pipeline.ts";

export interface DispatcherOptions {
  /** Hands one message to a worker (the notifier service's `send` action). */
  send(messageId: string): Promise<SendOutcome | undefined>;
  /** Messages in flight at once, over all workers. */
  window: number;
  pollMs: number;
  /** A message left "sending" this long by a dead worker is handed out again. */
  staleSendingMs: number;
  leaseMs: number;
  log?: { info(...a: unknown[]): void; warn(...a: unknown[]): void };
}

/**
 * @example
 *   const d = new Dispatcher({ send: (id) => broker.call("notifier.send", { messageId: id }), window: 20, pollMs: 200, staleSendingMs: 120000, leaseMs: 10000 });
 *   d.start(); ... await d.stop();
 */
export class Dispatcher {
  private readonly inFlight = new Set<string>();
  private timer?: NodeJS.Timeout;
  private round?: Promise<void>;
  private active = false;
  private readonly lease: Lease;
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
  }

  /** Stops handing out work; waits (bounded) for what is in flight. */
  async stop(timeoutMs = 10_000): Promise<void> {
    await this.lease.stop();
    await this.deactivate();
    const deadline = Date.now() + timeoutMs;
    while (this.inFlight.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  }

  /** Looks for due messages now (after new ones were queued). */
  wake(): void {
    if (this.active && !this.round) this.round = this.fill().finally(() => (this.round = undefined));
  }

  private activate(): void {
    this.active = true;
    const tick = () => {
      this.wake();
      if (this.active) this.timer = setTimeout(tick, this.opts.pollMs);
    };
    tick();
  }

  private async deactivate(): Promise<void> {
    this.active = false;
    clearTimeout(this.timer);
    await this.round;
  }

  private async fill(): Promise<void> {
    try {
      const free = this.opts.window - this.inFlight.size;
      if (free <= 0) return;
      const now = new Date();
      const busy = [...this.inFlight];
      const due = await MessageModel.find({ status: "queued", nextAttemptAt: { $lte: now }, _id: { $nin: busy } }, { _id: 1 })
        .sort({ nextAttemptAt: 1 })
        .limit(free)
        .lean();
      if (due.length < free) {
        const stale = await MessageModel.find(
          { status: "sending", sendingSince: { $lt: new Date(now.getTime() - this.opts.staleSendingMs) }, _id: { $nin: busy } },
          { _id: 1 },
        )
          .limit(free - due.length)
          .lean();
        due.push(...stale);
      }
      for (const { _id } of due) this.dispatch(_id);
    } catch (err) {
      this.counts.errors++;
      this.opts.log?.warn("dispatcher round failed:", (err as Error).message);
    }
  }

  private dispatch(messageId: string): void {
    this.inFlight.add(messageId);
    this.counts.dispatched++;
    this.opts
      .send(messageId)
      .then((outcome) => {
        if (outcome === "submitted") this.counts.submitted++;
        else if (outcome === "retry") this.counts.retried++;
        else if (outcome === "failed") this.counts.failed++;
        else this.counts.skipped++;
      })
      .catch((err) => {
        // The worker did not answer (gone, timed out): the message is still in the log,
        // queued or "sending"; it is handed out again in a later round.
        this.counts.errors++;
        this.opts.log?.warn(`dispatch of ${messageId} failed:`, (err as Error).message);
      })
      .finally(() => {
        this.inFlight.delete(messageId);
        this.wake();
      });
  }
}

/**
 * Inquiries per channel and day for the report, counted in memory and added to the database
 * a few seconds later in one bulk write: asking costs no round-trip. A failed write keeps
 * its counts for the next one; stopping writes what is left.
 *
 * @module
 */
import { riyadhDateKey } from "../text/calendar.ts";
import { clock } from "../platform/clock.ts";
import { addInquiries } from "./facts.ts";

/** How long counts wait before they are written. */
export const INQUIRY_FLUSH_MS = 5_000;

/** A channel's name as a field of the day's counts (a plugin's name: no dots, no `$`). */
const CHANNEL = /^[a-z0-9_-]{1,40}$/;

export class InquiryCounter {
  /** day → channel → count, not written yet. */
  private counts = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly flushMs = INQUIRY_FLUSH_MS) {}

  /**
   * Counts one inquiry on `channel`.
   *
   * @example
   *   inquiryCounter.count("web");
   */
  count(channel: string, at = clock.now()): void {
    if (CHANNEL.test(channel)) this.add(riyadhDateKey(at), channel, 1);
  }

  private add(day: string, channel: string, n: number): void {
    const perDay = this.counts.get(day) ?? this.counts.set(day, new Map()).get(day)!;
    perDay.set(channel, (perDay.get(channel) ?? 0) + n);
    this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.flushMs).unref();
  }

  /** Writes what was counted (one bulk upsert); the counts stay for the next flush if it fails. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.counts;
    this.counts = new Map();
    // One write at a time: a flush waits for the one under way (whether it failed or not).
    this.writing = this.writing.catch(() => undefined).then(async () => {
      if (!batch.size) return;
      try {
        await addInquiries(batch);
      } catch (err) {
        for (const [day, channels] of batch) for (const [channel, n] of channels) this.add(day, channel, n);
        throw err;
      }
    });
    return this.writing;
  }
}

/** The process's counter (every channel of the process shares it). */
export const inquiryCounter = new InquiryCounter();

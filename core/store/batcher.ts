// Natural batching: calls that arrive while a flush is running wait for the next one, which
// takes them all at once. At low load every call flushes alone (no added latency); under
// load the batches grow by themselves, and the database sees one round-trip per batch.

/**
 * Collects items and hands them to `flush` in batches; each `add` resolves with the result
 * `flush` gave for its item (or rejects with the flush's error).
 *
 * @example
 *   const recorder = new Batcher<Submit, void>((items) => recordAll(items), { maxBatch: 500 });
 *   await recorder.add(submit); // written together with whatever else arrived meanwhile
 */
export class Batcher<I, R> {
  private waiting: Array<{ item: I; resolve: (r: R) => void; reject: (e: unknown) => void }> = [];
  private running = 0;
  private scheduled = false;

  constructor(
    /** Handles a batch; answers one result per item, in order. */
    private readonly flush: (items: I[]) => Promise<R[]>,
    private readonly opts: {
      /** Items per batch at most. */
      maxBatch?: number;
      /** With `weight`: the most weight a batch holds (an item heavier than that goes alone). */
      maxWeight?: number;
      weight?: (item: I) => number;
      concurrency?: number;
    } = {},
  ) {}

  add(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      this.kick();
    });
  }

  /** Items waiting for a flush. */
  get pending(): number {
    return this.waiting.length;
  }

  private kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Let the calls made in the same tick join the batch.
    queueMicrotask(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  /** How many of the waiting items make the next batch. */
  private batchSize(): number {
    const max = Math.min(this.opts.maxBatch ?? 1000, this.waiting.length);
    if (!this.opts.weight || this.opts.maxWeight === undefined) return max;
    let n = 0;
    for (let total = 0; n < max; n++) {
      total += this.opts.weight(this.waiting[n]!.item);
      if (total > this.opts.maxWeight && n > 0) break;
    }
    return n;
  }

  private drain(): void {
    while (this.waiting.length && this.running < (this.opts.concurrency ?? 1)) {
      const batch = this.waiting.splice(0, this.batchSize());
      this.running++;
      Promise.resolve()
        .then(() => this.flush(batch.map((b) => b.item)))
        .then(
          (results) => batch.forEach((b, i) => b.resolve(results[i] as R)),
          (err) => batch.forEach((b) => b.reject(err)),
        )
        .finally(() => {
          this.running--;
          this.drain();
        });
    }
  }
}

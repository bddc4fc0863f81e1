// The SMPP client's throughput limit: every submit_sm (each part) takes a token.

/**
 * Token bucket: `rate` tokens per second, at most `capacity` stored.
 *
 * @example
 *   const bucket = new TokenBucket(50, 50);
 *   const waitMs = bucket.take(); // 0: go now; otherwise try again after waitMs
 */
export class TokenBucket {
  private tokens: number;
  private last = performance.now();
  constructor(
    private readonly rate: number,
    private readonly capacity: number,
  ) {
    this.tokens = capacity;
  }
  /** Takes a token and returns 0, or returns the ms to wait for one. */
  take(): number {
    const now = performance.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) * this.rate) / 1000);
    this.last = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.rate));
  }
}

// Transient database errors (a busy SQLite under FerretDB, a replica-set election, a dropped
// connection) are retried in place for the writes that must not be lost halfway.

/** True for errors that go away by themselves: retry the same operation. */
export function isTransientDbError(err: unknown): boolean {
  const e = err as { name?: string; message?: string; code?: number; errorLabels?: string[]; errorLabelSet?: Set<string> };
  if (!e) return false;
  if (e.errorLabels?.includes("RetryableWriteError") || e.errorLabelSet?.has("RetryableWriteError")) return true;
  if (["MongoNetworkError", "MongoServerSelectionError", "MongoNotConnectedError", "MongoNetworkTimeoutError", "MongoPoolClearedError"].includes(e.name ?? "")) return true;
  if ([6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436].includes(e.code ?? -1)) return true;
  // mongoose's own: an operation buffered while the connection was down, past its wait.
  return /database is locked|SQLITE_BUSY|connection .* closed|ECONNRESET|ECONNREFUSED|buffering timed out/i.test(e.message ?? "");
}

export interface RetryOptions {
  /** Tries in all, the first included. */
  attempts: number;
  /** The wait before try `i + 1` (1-based `i`). */
  delayMs: (i: number) => number;
  /** Which errors are worth another try. */
  when: (err: unknown) => boolean;
}

/**
 * Runs `fn` until it succeeds, an error is not worth another try, or the tries run out (the
 * last error is thrown).
 *
 * @example
 *   await retry(() => record(), { attempts: 30, delayMs: (i) => Math.min(200 * i, 2000), when: () => true });
 */
export async function retry<T>(fn: () => Promise<T>, opts: RetryOptions): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= opts.attempts || !opts.when(err)) throw err;
      await new Promise((r) => setTimeout(r, opts.delayMs(i)));
    }
  }
}

/**
 * Runs `fn`, retrying transient database errors with a short backoff (about 10 s in all).
 *
 * @example
 *   await retryTransient(() => MessageModel.updateOne(filter, update));
 */
export function retryTransient<T>(fn: () => Promise<T>, attempts = 12): Promise<T> {
  return retry(fn, { attempts, when: isTransientDbError, delayMs: (i) => Math.min(50 * 2 ** (i - 1), 2000) * (0.5 + Math.random()) });
}

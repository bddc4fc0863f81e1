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

/**
 * Runs `fn`, retrying transient database errors with a short backoff (about 10 s in all).
 *
 * @example
 *   await retryTransient(() => MessageModel.updateOne(filter, update));
 */
export async function retryTransient<T>(fn: () => Promise<T>, attempts = 12): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= attempts || !isTransientDbError(err)) throw err;
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** (i - 1), 2000) * (0.5 + Math.random())));
    }
  }
}

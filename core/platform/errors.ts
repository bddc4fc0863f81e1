import { Errors } from "moleculer";

/**
 * A 4xx answer: an HTTP status, a stable code, an English message and, where a citizen
 * may read it, an Arabic one. Never retried.
 *
 * @example
 *   throw clientError(404, "TRANSACTION_NOT_FOUND", "No transaction with this number", { messageAr: "لا توجد معاملة بهذا الرقم" });
 */
export function clientError(
  status: number,
  code: string,
  message: string,
  extra: { messageAr?: string; details?: unknown; retryAfterSeconds?: number } = {},
): Errors.MoleculerClientError {
  return new Errors.MoleculerClientError(message, status, code, extra);
}

/** A failure worth retrying (database or SMSC unavailable, timeouts). */
export function retryableError(code: string, message: string, data?: unknown): Errors.MoleculerRetryableError {
  return new Errors.MoleculerRetryableError(message, 503, code, data);
}

/** The error body every HTTP endpoint answers with. */
export interface ErrorBody {
  error: { code: string; message: string; messageAr?: string; details?: unknown };
}

// The errors services answer each other with, declared once. Between nodes Moleculer sends an
// error's name, code, type, retryable flag and data, and rebuilds only its own classes: the
// receiving side decodes by `type` and `retryable` (see submitFailure), never by class or name.
import { Errors } from "moleculer";
import type { SubmitResult } from "../smpp/client.ts";

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

/**
 * Something this node needs is not available now (a key it cannot use, a link that is down):
 * a 503 the caller retries.
 *
 * @example
 *   throw new UnavailableError("SERVICE_UNAVAILABLE", "The agency's secrets cannot be read now; try again");
 */
export class UnavailableError extends Errors.MoleculerRetryableError {
  constructor(code: string, message: string) {
    super(message, 503, code);
    this.name = "UnavailableError";
  }
}

/**
 * `smpp.submit` failed before the SMSC took the SMS. `retryable`: worth another try later
 * (no bind up, the SMSC throttling, a timeout); not: refused for good (an `ESME_` status the
 * SMSC will answer again, an address or text that cannot be sent). `type` is the reason's code.
 *
 * @example
 *   throw new SubmitError("ESME_RINVDSTADR", "destination refused", false); // 422, the message fails
 */
export class SubmitError extends Errors.MoleculerError {
  constructor(code: string, message: string, retryable: boolean) {
    super(message, retryable ? 503 : 422, code);
    this.name = "SubmitError";
    this.retryable = retryable;
  }
}

/**
 * The SMSC accepted the SMS but the smpp node could not record it: the caller records
 * `data.result` itself and never sends the message again.
 *
 * @example
 *   throw new RecordFailedError({ messageIds: ["a1"], encoding: "GSM7", partCount: 1 });
 */
export class RecordFailedError extends Errors.MoleculerError {
  static readonly TYPE = "RECORD_FAILED";
  declare data: { result: SubmitResult };
  constructor(result: SubmitResult) {
    super("submitted but not recorded", 500, RecordFailedError.TYPE, { result });
    this.name = "RecordFailedError";
  }
}

/** What a failed `smpp.submit` call means for its message. */
export type SubmitFailure =
  /** No answer (our call timed out, the node went away): the smpp node may still send and record it. */
  | { kind: "unanswered" }
  /** At the SMSC, not recorded there: record it here. */
  | { kind: "unrecorded"; result: SubmitResult }
  | { kind: "failed"; code: string; message: string; retryable: boolean };

/**
 * Decodes an error from `smpp.submit`, thrown here or rebuilt from another node, by its
 * `type` and `retryable` flag. Anything unknown is a retryable failure.
 *
 * @example
 *   submitFailure(new SubmitError("LINK_DOWN", "No SMPP bind is up", true))
 *   // { kind: "failed", code: "LINK_DOWN", message: "No SMPP bind is up", retryable: true }
 */
export function submitFailure(err: unknown): SubmitFailure {
  const e = (err ?? {}) as { type?: unknown; code?: unknown; message?: string; retryable?: boolean; data?: { result?: SubmitResult } };
  if (e.type === "REQUEST_TIMEOUT" || e.type === "REQUEST_REJECTED") return { kind: "unanswered" };
  if (e.type === RecordFailedError.TYPE && e.data?.result) return { kind: "unrecorded", result: e.data.result };
  const code = String(typeof e.type === "string" && e.type ? e.type : (e.code ?? "SUBMIT_FAILED"));
  return { kind: "failed", code, message: e.message || code, retryable: e.retryable ?? true };
}

/** The error body every HTTP endpoint answers with. */
export interface ErrorBody {
  error: { code: string; message: string; messageAr?: string; details?: unknown };
}

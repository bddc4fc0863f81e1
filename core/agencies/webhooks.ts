// Agencies' reply webhooks: the signature check, what a reply body must hold, the log of
// verified deliveries and the brake on addresses that keep sending unsigned requests.
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { clientError } from "../platform/errors.ts";
import type { FieldError } from "../events/contract.ts";
import { identityKey, RateLimiter } from "../inquiry/inquiry.ts";
import { newSecret } from "./secrets.ts";
import { normalizeTransactionNumber } from "../text/normalize.ts";
import { safeReference } from "../sms/text.ts";
import { WebhookDeliveryModel } from "./models.ts";

/** The most deliveries the staff API lists at once (the newest). */
export const MAX_DELIVERIES_LISTED = 500;

/** Removes deliveries older than `ttlDays` (an indexed range delete, safe on every node). */
export async function purgeDeliveries(ttlDays: number, now = Date.now()): Promise<number> {
  const r = await WebhookDeliveryModel.deleteMany({ receivedAt: { $lt: new Date(now - ttlDays * 86_400_000) } });
  return r.deletedCount ?? 0;
}

/** An agency's newest verified deliveries, newest first (up to `limit`), as the staff API lists them. */
export async function listDeliveries(agencyCode: string, limit: number) {
  const docs = await WebhookDeliveryModel.find({ agencyCode }).sort({ receivedAt: -1 }).limit(limit).lean();
  return docs.map(({ _id, ...d }) => ({ id: String(_id), ...d }));
}

type Headers = Record<string, string | string[] | undefined>;

// Checked when an agency has no active secret or does not exist, so that an unknown code is
// answered exactly as a bad signature, after the same work.
const DECOY = [newSecret()];

/**
 * Checks a request against an agency's active secrets per Standard Webhooks:
 * `webhook-id`, `webhook-timestamp` (within 5 minutes), `webhook-signature` (`v1,<base64 HMAC-SHA256>`,
 * several space-separated allowed). Returns the webhook id; throws a 401 client error naming
 * what is wrong, the same for an unknown agency as for a wrong secret.
 *
 * @example
 *   const webhookId = verifySignature(rawBody, req.headers, await activeAgencySecrets(keys, "MOI"));
 */
export function verifySignature(rawBody: string, headers: Headers, secrets: string[]): string {
  const h = (k: string) => {
    const v = headers[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = h("webhook-id");
  const timestamp = h("webhook-timestamp");
  const signature = h("webhook-signature");
  if (!id || !timestamp || !signature) {
    throw clientError(401, "SIGNATURE_MISSING", "webhook-id, webhook-timestamp and webhook-signature headers are required");
  }
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) {
    throw clientError(401, "TIMESTAMP_OUT_OF_TOLERANCE", "webhook-timestamp is not within 5 minutes of our clock");
  }
  for (const secret of secrets.length ? secrets : DECOY) {
    try {
      new Webhook(secret).verify(rawBody, { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature }, { jsonParse: false } as any);
      if (secrets.length) return id;
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
    }
  }
  throw clientError(401, "SIGNATURE_INVALID", "webhook-signature does not match any active secret of this agency");
}

/**
 * A brake on addresses that send requests which fail the signature check: after
 * `limitPerMinute` such refusals (in a token bucket refilling at that rate) the address is
 * answered 429 with Retry-After before any work is done. Verified requests are not counted.
 *
 * @example
 *   const guard = new RefusalGuard(20);
 *   guard.check(ip);          // throws 429 RATE_LIMITED once the address (an IPv6 /64) has used its refusals
 *   guard.refused(ip);        // after a 401
 */
export class RefusalGuard {
  private readonly limiter: RateLimiter;
  constructor(limitPerMinute: number) {
    this.limiter = new RateLimiter({ limit: limitPerMinute, windowMs: 60_000, maxKeys: 50_000 });
  }
  check(address: string): void {
    // A cost of 0 passes while the bucket is not in debt; refusals put it there.
    const taken = this.limiter.take([identityKey({ kind: "ip", value: address })], 0);
    if (taken.ok) return;
    const retryAfterSeconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    throw clientError(429, "RATE_LIMITED", `Too many refused webhook requests from this address; retry after ${retryAfterSeconds} s`, { retryAfterSeconds });
  }
  refused(address: string): void {
    this.limiter.charge([identityKey({ kind: "ip", value: address })], 1);
  }
}

/** A reply as the webhook body holds it, validated. */
export interface AgencyReply {
  outgoingNumber: string;
  replyNumber: string;
  replyDate: Date;
  summary?: string;
}

/**
 * Validates the body of a reply webhook; throws 400 naming each bad field. The reply number
 * is rendered into the citizen's SMS, so it must be a plain reference (see safeReference).
 *
 * @example
 *   parseReply('{"outgoingNumber":"4812077","replyNumber":"9031","replyDate":"2026-11-28T10:15:00+03:00"}')
 *   // { outgoingNumber: "4812077", replyNumber: "9031", replyDate: Date, summary: undefined }
 */
export function parseReply(rawBody: string): AgencyReply {
  let body: any;
  try {
    body = JSON.parse(rawBody);
  } catch {
    throw clientError(400, "INVALID_JSON", "The body is not valid JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw clientError(400, "INVALID_BODY", "The body must be a JSON object");
  const fields: FieldError[] = [];
  for (const k of Object.keys(body)) if (!["outgoingNumber", "replyNumber", "replyDate", "summary"].includes(k)) fields.push({ field: k, message: "is not a known field" });
  const outgoingNumber = normalizeTransactionNumber(body.outgoingNumber);
  if (!outgoingNumber) fields.push({ field: "outgoingNumber", message: "is required: 1 to 20 digits" });
  const replyNumber = body.replyNumber === undefined ? undefined : safeReference(body.replyNumber);
  if (!replyNumber) fields.push({ field: "replyNumber", message: "is required" });
  else if (!replyNumber.ok) fields.push({ field: "replyNumber", message: replyNumber.message });
  if (typeof body.replyDate !== "string" || Number.isNaN(Date.parse(body.replyDate))) fields.push({ field: "replyDate", message: "is required: an ISO 8601 date" });
  if (body.summary !== undefined && (typeof body.summary !== "string" || body.summary.length > 1000)) fields.push({ field: "summary", message: "must be a string of at most 1000 characters" });
  if (fields.length || !outgoingNumber || !replyNumber?.ok) throw clientError(400, "INVALID_BODY", `${fields.length} invalid field(s)`, { details: fields });
  return { outgoingNumber, replyNumber: replyNumber.value, replyDate: new Date(body.replyDate), ...(body.summary ? { summary: body.summary } : {}) };
}

import { randomBytes, randomUUID } from "node:crypto";
import mongoose, { Schema } from "mongoose";
import type { Context, ServiceSchema } from "moleculer";
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import type { Config } from "../core/config.ts";
import { databaseMixin } from "../core/mixins.ts";
import { AgencyModel, TransactionModel } from "../core/models.ts";
import { PendingReplyModel } from "../core/followup.ts";
import { clientError } from "../core/errors.ts";
import { CODE } from "../core/directory-contract.ts";
import { normalizeTransactionNumber } from "../core/normalize.ts";
import { validateEvent } from "../core/event-contract.ts";
import { storeEvents } from "../core/ingest.ts";

/** Every webhook request an agency made, with its outcome (kept for the staff API). */
const deliverySchema = new Schema(
  {
    agencyCode: { type: String, index: true },
    webhookId: String,
    receivedAt: { type: Date, index: true },
    status: Number,
    outcome: String,
    outgoingNumber: String,
    ip: String,
  },
  { versionKey: false },
);
export const WebhookDeliveryModel = mongoose.model("WebhookDelivery", deliverySchema, "webhook_deliveries");

/** A new `whsec_` secret: 32 random bytes, base64, as the Standard Webhooks spec has it. */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * Checks a request against an agency's active secrets per Standard Webhooks:
 * `webhook-id`, `webhook-timestamp` (within 5 minutes), `webhook-signature` (`v1,<base64 HMAC-SHA256>`,
 * several space-separated allowed). Throws a 401 client error naming what is wrong.
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
  for (const secret of secrets) {
    try {
      new Webhook(secret).verify(rawBody, { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature }, { jsonParse: false } as any);
      return id;
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err;
    }
  }
  throw clientError(401, "SIGNATURE_INVALID", "webhook-signature does not match any active secret of this agency");
}

function agencyCode(ctx: Context<any>): string {
  const code = ctx.params.params?.agencyCode ?? ctx.params.params?.code;
  if (typeof code !== "string" || !CODE.test(code)) throw clientError(400, "INVALID_CODE", "The agency code must be 1 to 64 letters, digits, '.', '_' or '-'");
  return code;
}

/**
 * Agencies' reply webhooks (signed per Standard Webhooks) and the staff API for their secrets
 * and deliveries. A verified reply becomes a reply-received event of the transaction.
 */
export default function agenciesService(_config: Config): ServiceSchema {
  return {
    name: "agencies",
    mixins: [databaseMixin()],
    actions: {
      /** POST /webhooks/agencies/:agencyCode/replies — body `{ outgoingNumber, replyNumber, replyDate, summary? }`. */
      reply: {
        async handler(ctx: Context<any>) {
          const code = agencyCode(ctx);
          const meta = ctx.meta as { headers?: Headers; ip?: string; $statusCode?: number };
          const record = (status: number, outcome: string, extra: Record<string, unknown> = {}) =>
            WebhookDeliveryModel.create({ agencyCode: code, receivedAt: new Date(), status, outcome, ip: meta.ip, ...extra }).catch(() => undefined);
          const webhookIdHeader = meta.headers?.["webhook-id"];
          try {
            const agency = await AgencyModel.findById(code).lean();
            if (!agency) throw clientError(404, "AGENCY_NOT_FOUND", `No agency ${code}`);
            const secrets = (agency.secrets ?? []).filter((s) => !s.revokedAt && s.secret).map((s) => s.secret as string);
            const rawBody = typeof ctx.params.body === "string" ? ctx.params.body : "";
            const webhookId = verifySignature(rawBody, meta.headers ?? {}, secrets);
            let body: any;
            try {
              body = JSON.parse(rawBody);
            } catch {
              throw clientError(400, "INVALID_JSON", "The body is not valid JSON");
            }
            const fields: Array<{ field: string; message: string }> = [];
            if (typeof body !== "object" || body === null || Array.isArray(body)) throw clientError(400, "INVALID_BODY", "The body must be a JSON object");
            for (const k of Object.keys(body)) if (!["outgoingNumber", "replyNumber", "replyDate", "summary"].includes(k)) fields.push({ field: k, message: "is not a known field" });
            const outgoingNumber = normalizeTransactionNumber(body.outgoingNumber);
            if (!outgoingNumber) fields.push({ field: "outgoingNumber", message: "is required: 1 to 20 digits" });
            if (typeof body.replyNumber !== "string" && typeof body.replyNumber !== "number") fields.push({ field: "replyNumber", message: "is required" });
            if (typeof body.replyDate !== "string" || Number.isNaN(Date.parse(body.replyDate))) fields.push({ field: "replyDate", message: "is required: an ISO 8601 date" });
            if (body.summary !== undefined && (typeof body.summary !== "string" || body.summary.length > 1000)) fields.push({ field: "summary", message: "must be a string of at most 1000 characters" });
            if (fields.length) throw clientError(400, "INVALID_BODY", `${fields.length} invalid field(s)`, { details: fields });

            // An item waiting for a reply is found by its pending record's _id (indexed on every
            // server); only an item that waits for none needs the search by outgoing number.
            const pending = await PendingReplyModel.findById(outgoingNumber, { transactionNumber: 1 }).lean();
            const tx = pending
              ? await TransactionModel.findById(pending.transactionNumber, { number: 1, outgoing: 1 }).lean()
              : await TransactionModel.findOne({ "outgoing.number": outgoingNumber }, { number: 1, outgoing: 1 }).lean();
            const item = tx?.outgoing.find((o) => o.number === outgoingNumber);
            if (!tx || !item) throw clientError(404, "OUTGOING_NOT_FOUND", `No outgoing transaction ${outgoingNumber}`);
            if (item.destination?.agencyCode !== code) throw clientError(403, "OUTGOING_OF_ANOTHER_AGENCY", `Outgoing ${outgoingNumber} was not sent to agency ${code}`);

            const { event, errors } = validateEvent({
              id: `agency:${code}:${webhookId}`,
              type: "reply-received",
              transactionNumber: tx.number,
              occurredAt: new Date(body.replyDate).toISOString(),
              data: { outgoingNumber, replyNumber: String(body.replyNumber), replyDate: new Date(body.replyDate).toISOString(), via: "webhook", ...(body.summary ? { summary: body.summary } : {}) },
            });
            if (!event) throw clientError(400, "INVALID_BODY", "invalid reply", { details: errors });
            const stored = await storeEvents([event], `agency:${code}`);
            if (stored.conflicts.length) throw clientError(409, "WEBHOOK_ID_CONFLICT", "This webhook-id was already used for a different reply");
            const outcome = stored.outcomes[0]!;
            if (outcome === "accepted") await ctx.call("events.apply").catch(() => undefined);
            meta.$statusCode = 200;
            await record(200, outcome === "accepted" ? "accepted" : "duplicate", { webhookId, outgoingNumber });
            return { outcome: outcome === "accepted" ? "accepted" : "duplicate", transactionNumber: tx.number, outgoingNumber };
          } catch (err: any) {
            await record(typeof err?.code === "number" ? err.code : 500, err?.type ?? "ERROR", { webhookId: webhookIdHeader });
            throw err;
          }
        },
      },
      /** Issues a new secret (shown once); older ones stay valid until revoked. */
      createSecret: {
        async handler(ctx: Context<any>) {
          const code = agencyCode(ctx);
          const secret = newSecret();
          const id = randomUUID();
          const r = await AgencyModel.updateOne({ _id: code }, { $push: { secrets: { id, secret, createdAt: new Date() } } });
          if (!r.matchedCount) throw clientError(404, "AGENCY_NOT_FOUND", `No agency ${code}`);
          Object.assign(ctx.meta as object, { $statusCode: 201, $location: `/api/v1/agencies/${encodeURIComponent(code)}/secrets/${id}` });
          return { id, secret };
        },
      },
      revokeSecret: {
        async handler(ctx: Context<any>) {
          const code = agencyCode(ctx);
          const id = ctx.params.params?.id;
          const agency = await AgencyModel.findById(code).lean();
          if (!agency) throw clientError(404, "AGENCY_NOT_FOUND", `No agency ${code}`);
          const secret = (agency.secrets ?? []).find((s) => s.id === id);
          if (!secret) throw clientError(404, "SECRET_NOT_FOUND", `No secret ${id} for agency ${code}`);
          if (!secret.revokedAt) {
            // The whole list is written back (no positional operator: FerretDB lacks it).
            const secrets = (agency.secrets ?? []).map((s) => (s.id === id ? { ...s, revokedAt: new Date() } : s));
            await AgencyModel.updateOne({ _id: code }, { $set: { secrets } });
          }
          return { id, revoked: true };
        },
      },
      deliveries: {
        async handler(ctx: Context<any>) {
          const code = agencyCode(ctx);
          const limit = Math.min(Math.max(Number(ctx.params.query?.limit ?? 50) || 50, 1), 500);
          const docs = await WebhookDeliveryModel.find({ agencyCode: code }).sort({ receivedAt: -1 }).limit(limit).lean();
          return { deliveries: docs.map(({ _id, ...d }) => ({ id: String(_id), ...d })) };
        },
      },
    },
  };
}

import type { Context, ServiceSchema } from "moleculer";
import { ConfigError, type Config } from "../core/platform/config.ts";
import { databaseMixin, periodic } from "../core/platform/mixins.ts";
import { TransactionModel } from "../core/events/models.ts";
import { PendingReplyModel } from "../core/followup/models.ts";
import { clientError } from "../core/platform/errors.ts";
import { CODE } from "../core/directory/contract.ts";
import { validateEvent } from "../core/events/contract.ts";
import { storeEvents } from "../core/events/ingest.ts";
import { registerMetrics } from "../core/platform/metrics.ts";
import { activeAgencySecrets, createAgencySecret, prepareAgencySecrets, revokeAgencySecret } from "../core/agencies/secrets.ts";
import { MAX_DELIVERIES_LISTED, parseReply, purgeDeliveries, RefusalGuard, verifySignature } from "../core/agencies/webhooks.ts";
import { WebhookDeliveryModel } from "../core/agencies/models.ts";

type Headers = Record<string, string | string[] | undefined>;

function agencyCode(ctx: Context<any>): string {
  const code = ctx.params.params?.agencyCode ?? ctx.params.params?.code;
  if (typeof code !== "string" || !CODE.test(code)) throw clientError(400, "INVALID_CODE", "The agency code must be 1 to 64 letters, digits, '.', '_' or '-'");
  return code;
}

/**
 * Agencies' reply webhooks (signed per Standard Webhooks) and the staff API for their secrets
 * and deliveries. A verified reply becomes a reply-received event of the transaction.
 */
export default function agenciesService(config: Config): ServiceSchema {
  const keys = config.secretsKey;
  if (!keys) throw new ConfigError("SECRETS_KEY", "is required by the agencies service (agencies' webhook secrets are encrypted with it)");
  const guard = new RefusalGuard(config.webhookRefusalLimit);
  return {
    name: "agencies",
    mixins: [databaseMixin(), periodic("webhook log purge", () => 3_600_000, async () => { await purgeDeliveries(config.webhookLogTtlDays); })],
    created() {
      registerMetrics(this.broker);
    },
    async started() {
      const r = await prepareAgencySecrets(keys);
      if (r.migrated || r.reencrypted) this.logger.info(`agency secrets: ${r.migrated} moved out of agency documents, ${r.reencrypted} re-encrypted under key "${keys.currentId}"`);
    },
    actions: {
      /** POST /webhooks/agencies/:agencyCode/replies — body `{ outgoingNumber, replyNumber, replyDate, summary? }`. */
      reply: {
        async handler(ctx: Context<any>) {
          const meta = ctx.meta as { headers?: Headers; ip?: string; $statusCode?: number };
          const address = meta.ip ?? "";
          const refuse = (reason: string) => this.broker.metrics.increment("taqib.webhooks.refused", { reason });
          try {
            guard.check(address);
          } catch (err) {
            refuse("RATE_LIMITED");
            throw err;
          }
          const code = agencyCode(ctx);
          const rawBody = typeof ctx.params.body === "string" ? ctx.params.body : "";
          let webhookId: string;
          try {
            webhookId = verifySignature(rawBody, meta.headers ?? {}, await activeAgencySecrets(keys, code, this.logger));
          } catch (err: any) {
            if (err?.code === 401) {
              guard.refused(address);
              refuse(err.type);
            }
            throw err;
          }
          // Verified: from here on, every outcome is the agency's own and is logged for its staff.
          const record = (status: number, outcome: string, outgoingNumber?: string) =>
            WebhookDeliveryModel.create({ agencyCode: code, webhookId, receivedAt: new Date(), status, outcome, outgoingNumber, ip: address }).catch(() => undefined);
          try {
            const reply = parseReply(rawBody);
            const { outgoingNumber } = reply;
            // An item waiting for a reply is found by its pending record's _id (indexed on every
            // server); only an item that waits for none needs the search by outgoing number.
            const pending = await PendingReplyModel.findById(outgoingNumber, { transactionNumber: 1 }).lean();
            const tx = pending
              ? await TransactionModel.findById(pending.transactionNumber, { number: 1, outgoing: 1 }).lean()
              : await TransactionModel.findOne({ "outgoing.number": outgoingNumber }, { number: 1, outgoing: 1 }).lean();
            const item = tx?.outgoing.find((o) => o.number === outgoingNumber);
            if (!tx || !item) throw clientError(404, "OUTGOING_NOT_FOUND", `No outgoing transaction ${outgoingNumber}`);
            if (item.destination?.agencyCode !== code) throw clientError(403, "OUTGOING_OF_ANOTHER_AGENCY", `Outgoing ${outgoingNumber} was not sent to agency ${code}`);

            const replyDate = reply.replyDate.toISOString();
            const { event, errors } = validateEvent({
              id: `agency:${code}:${webhookId}`,
              type: "reply-received",
              transactionNumber: tx.number,
              occurredAt: replyDate,
              data: { outgoingNumber, replyNumber: reply.replyNumber, replyDate, via: "webhook", ...(reply.summary ? { summary: reply.summary } : {}) },
            });
            if (!event) throw clientError(400, "INVALID_BODY", "invalid reply", { details: errors });
            const stored = await storeEvents([event], `agency:${code}`);
            if (stored.conflicts.length) throw clientError(409, "WEBHOOK_ID_CONFLICT", "This webhook-id was already used for a different reply");
            const outcome = stored.outcomes[0] === "accepted" ? "accepted" : "duplicate";
            if (outcome === "accepted") await ctx.call("events.apply").catch(() => undefined);
            meta.$statusCode = 200;
            await record(200, outcome, outgoingNumber);
            return { outcome, transactionNumber: tx.number, outgoingNumber };
          } catch (err: any) {
            await record(typeof err?.code === "number" ? err.code : 500, err?.type ?? "ERROR");
            throw err;
          }
        },
      },
      /** Issues a new secret (shown once); older ones stay valid until revoked. */
      createSecret: {
        async handler(ctx: Context<any>) {
          const code = agencyCode(ctx);
          const { id, secret } = await createAgencySecret(keys, code);
          Object.assign(ctx.meta as object, { $statusCode: 201, $location: `/api/v1/agencies/${encodeURIComponent(code)}/secrets/${id}` });
          return { id, secret };
        },
      },
      revokeSecret: {
        async handler(ctx: Context<any>) {
          const id = ctx.params.params?.id;
          if (typeof id !== "string" || !/^[A-Za-z0-9-]{1,64}$/.test(id)) throw clientError(404, "SECRET_NOT_FOUND", "No such secret");
          return revokeAgencySecret(agencyCode(ctx), id);
        },
      },
      deliveries: {
        async handler(ctx: Context<any>) {
          const code = agencyCode(ctx);
          const limit = Math.min(Math.max(Number(ctx.params.query?.limit ?? 50) || 50, 1), MAX_DELIVERIES_LISTED);
          const docs = await WebhookDeliveryModel.find({ agencyCode: code }).sort({ receivedAt: -1 }).limit(limit).lean();
          return { deliveries: docs.map(({ _id, ...d }) => ({ id: String(_id), ...d })) };
        },
      },
    },
  };
}

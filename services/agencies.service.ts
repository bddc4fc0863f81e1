import type { Context } from "moleculer";
import { ConfigError, type Config } from "../core/platform/config.ts";
import { databaseMixin, periodic, routeParams, type RouteParams, type TypedService } from "../core/platform/mixins.ts";
import { clientError } from "../core/platform/errors.ts";
import { parseCode } from "../core/directory/contract.ts";
import { registerMetrics } from "../core/platform/metrics.ts";
import { createAgencySecret, prepareAgencySecrets, revokeAgencySecret } from "../core/agencies/secrets.ts";
import { listDeliveries, MAX_DELIVERIES_LISTED, purgeDeliveries } from "../core/agencies/webhooks.ts";
import { databaseReplyStore, replyReceiver, type ReplyAnswer } from "../core/agencies/replies.ts";

type Meta = { headers?: Record<string, string | string[] | undefined>; ip?: string; $statusCode?: number; $location?: string };

const agencyCode = (ctx: Context<RouteParams<"code">>) => parseCode(ctx.params.params.code, "agency code");

interface Vars {
  replies: ReturnType<typeof replyReceiver>;
}

/**
 * Agencies' reply webhooks (signed per Standard Webhooks) and the staff API for their secrets
 * and deliveries. A verified reply becomes a reply-received event of the transaction
 * (core/agencies/replies.ts).
 */
export default function agenciesService(config: Config): TypedService<Vars> {
  const keys = config.secretsKey;
  if (!keys) throw new ConfigError("SECRETS_KEY", "is required by the agencies service (agencies' webhook secrets are encrypted with it)");
  return {
    name: "agencies",
    mixins: [databaseMixin(config), periodic("webhook log purge", 3_600_000, () => purgeDeliveries(config.webhookLogTtlDays))],
    created() {
      registerMetrics(this.broker);
      this.replies = replyReceiver({
        store: databaseReplyStore(keys, () => this.broker.call("events.apply"), this.logger),
        refusalLimitPerMinute: config.webhookRefusalLimit,
        onRefused: (reason) => this.broker.metrics.increment("taqib.webhooks.refused", { reason }),
      });
    },
    async started() {
      const r = await prepareAgencySecrets(keys);
      if (r.migrated || r.reencrypted) this.logger.info(`agency secrets: ${r.migrated} moved out of agency documents, ${r.reencrypted} re-encrypted under key "${keys.currentId}"`);
    },
    actions: {
      /** POST /webhooks/agencies/:agencyCode/replies — body `{ outgoingNumber, replyNumber, replyDate, summary? }`, as signed text. */
      reply: {
        params: routeParams(["agencyCode"]),
        async handler(ctx: Context<RouteParams<"agencyCode">, Meta>): Promise<ReplyAnswer> {
          const answer = await this.replies.receive({
            agencyCode: ctx.params.params.agencyCode,
            rawBody: typeof ctx.params.body === "string" ? ctx.params.body : "",
            headers: ctx.meta.headers ?? {},
            address: ctx.meta.ip ?? "",
          });
          ctx.meta.$statusCode = 200;
          return answer;
        },
      },
      /** Issues a new secret (shown once); older ones stay valid until revoked. */
      createSecret: {
        params: routeParams(["code"]),
        async handler(ctx: Context<RouteParams<"code">, Meta>) {
          const code = agencyCode(ctx);
          const { id, secret } = await createAgencySecret(keys, code);
          Object.assign(ctx.meta, { $statusCode: 201, $location: `/api/v1/agencies/${encodeURIComponent(code)}/secrets/${id}` });
          return { id, secret };
        },
      },
      revokeSecret: {
        params: routeParams(["code", "id"]),
        async handler(ctx: Context<RouteParams<"code" | "id">>) {
          const { id } = ctx.params.params;
          if (!/^[A-Za-z0-9-]{1,64}$/.test(id)) throw clientError(404, "SECRET_NOT_FOUND", "No such secret");
          return revokeAgencySecret(agencyCode(ctx), id);
        },
      },
      deliveries: {
        params: routeParams(["code"], ["limit"]),
        async handler(ctx: Context<RouteParams<"code", "limit">>) {
          const code = agencyCode(ctx);
          const limit = Math.min(Math.max(Number(ctx.params.query?.limit ?? 50) || 50, 1), MAX_DELIVERIES_LISTED);
          return { deliveries: await listDeliveries(code, limit) };
        },
      },
    },
  };
}

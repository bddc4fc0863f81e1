import type { IncomingMessage, ServerResponse } from "node:http";
import ApiGateway from "moleculer-web";
import type { ServiceSchema } from "moleculer";
import type { Config } from "../core/config.ts";
import { clientError } from "../core/errors.ts";
import { apiKeyValid } from "../core/api-keys.ts";
import { httpError } from "../core/http-errors.ts";
import { databaseMixin } from "../core/mixins.ts";
import { databaseReachable } from "../core/db.ts";
import { channelRoutes } from "../channels/registry.ts";
import { clientAddress } from "../channels/host.ts";
import { collectDatabaseGauges, prometheusText, registerMetrics } from "../core/metrics.ts";

type Req = IncomingMessage & { $service: any; $ctx?: any; $params: Record<string, any>; body?: unknown; query?: Record<string, string> };

function onError(this: any, req: Req, res: ServerResponse, err: any) {
  const { status, body, retryable } = httpError(err);
  if (status >= 500) this.logger.error(`${req.method} ${req.url} failed:`, err);
  if (res.headersSent) return res.end();
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  if (retryable) res.setHeader("Retry-After", "5");
  if (status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="taqib"');
  res.writeHead(status);
  res.end(JSON.stringify(body));
}

/**
 * The HTTP front door: the staff and events API (API key), health, agencies' webhooks and
 * the channels' public routes.
 */
export default function apiService(config: Config): ServiceSchema {
  const json = { json: { limit: "1mb", strict: false }, urlencoded: false };
  return {
    name: "api",
    mixins: [ApiGateway as any, databaseMixin()],
    settings: {
      port: config.port,
      ip: config.host,
      log4XXResponses: false,
      logRequest: "debug",
      logResponse: "debug",
      onError,
      routes: [
        {
          path: "/health",
          bodyParsers: false,
          mappingPolicy: "restrict",
          aliases: {
            "GET live": "api.live",
            "GET ready": "api.ready",
          },
          onError,
        },
        {
          path: "/metrics",
          bodyParsers: false,
          mappingPolicy: "restrict",
          aliases: {
            async "GET /"(this: any, _req: Req, res: ServerResponse) {
              await collectDatabaseGauges(this.broker).catch((err) => this.logger.warn("metrics from the database unavailable:", err.message));
              res.setHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
              res.end(prometheusText(this.broker));
            },
          },
          onError,
        },
        {
          path: "/api/v1",
          authentication: true,
          bodyParsers: json,
          mappingPolicy: "restrict",
          mergeParams: false,
          aliases: {
            "POST events": "events.ingest",
            "PUT departments/:code": "directory.putDepartment",
            "GET departments/:code": "directory.getDepartment",
            "PUT employees/:id": "directory.putEmployee",
            "GET employees/:id": "directory.getEmployee",
            "PUT agencies/:code": "directory.putAgency",
            "GET agencies/:code": "directory.getAgency",
            "GET transactions/:number": "directory.getTransaction",
            "GET messages": "directory.listMessages",
            "POST agencies/:code/secrets": "agencies.createSecret",
            "DELETE agencies/:code/secrets/:id": "agencies.revokeSecret",
            "GET agencies/:code/deliveries": "agencies.deliveries",
            "GET holidays": "followup.listHolidays",
            "PUT holidays/:date": "followup.putHoliday",
            "DELETE holidays/:date": "followup.deleteHoliday",
            "POST followup/sweep": "followup.sweep",
          },
          onBeforeCall(ctx: any, _route: unknown, req: Req) {
            ctx.meta.apiKey = true;
            ctx.meta.ip = req.socket.remoteAddress;
          },
          onError,
        },
        {
          // Signatures are over the exact bytes: the body reaches the action as text.
          path: "/webhooks",
          bodyParsers: { json: false, urlencoded: false, text: { type: () => true, limit: "64kb" } },
          mappingPolicy: "restrict",
          mergeParams: false,
          aliases: { "POST agencies/:agencyCode/replies": "agencies.reply" },
          onBeforeCall(ctx: any, _route: unknown, req: Req) {
            ctx.meta.headers = req.headers;
            // Refusals are rate-limited per client address.
            ctx.meta.ip = clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"] as string | undefined, config.trustProxy);
          },
          onError(this: any, req: Req, res: ServerResponse, err: any) {
            const retryAfter = err?.data?.retryAfterSeconds;
            if (err?.code === 429 && typeof retryAfter === "number") res.setHeader("Retry-After", String(retryAfter));
            return onError.call(this, req, res, err);
          },
        },
        ...channelRoutes(config, onError),
      ],
    } as Record<string, unknown>,
    actions: {
      live: { visibility: "published", handler: () => ({ status: "ok" }) },
      /** Ready: the database answers, the broker is connected (multi-node), and this node's SMPP binds (if any) are up. */
      ready: {
        visibility: "published",
        async handler(this: any, ctx: any) {
          const checks: Record<string, string> = {};
          checks.database = (await databaseReachable()) ? "ok" : "unreachable";
          if (config.transporter) checks.broker = this.broker.transit?.connected ? "ok" : "disconnected";
          if (this.broker.getLocalService("smpp")) {
            const binds = (await ctx.call("smpp.status", {}, { nodeID: this.broker.nodeID }).catch(() => [])) as Array<{ state: string }>;
            checks.smpp = binds.some((b) => b.state === "bound") ? "ok" : "unbound";
          }
          const ok = Object.values(checks).every((v) => v === "ok");
          if (!ok) ctx.meta.$statusCode = 503;
          return { status: ok ? "ok" : "unavailable", node: this.broker.nodeID, checks };
        },
      },
    },
    created() {
      registerMetrics(this.broker);
    },
    methods: {
      async authenticate(_ctx: unknown, _route: unknown, req: Req) {
        if (!apiKeyValid(req.headers.authorization, config.apiKeys)) {
          throw clientError(401, "UNAUTHORIZED", "A valid API key is required: Authorization: Bearer <key>");
        }
        return { apiKey: true };
      },
    },
  };
}

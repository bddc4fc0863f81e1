import type { IncomingMessage, ServerResponse } from "node:http";
import ApiGateway from "moleculer-web";
import type { Context, Service } from "moleculer";
import type { Config } from "../core/platform/config.ts";
import { clientError } from "../core/platform/errors.ts";
import { describeApiKeys, findApiKey, SCOPES, type Scope } from "../core/platform/api-keys.ts";
import { httpError, safeBodyParsers, strictQuery, type BodyParsers, type Middleware } from "../core/platform/http-errors.ts";
import { databaseMixin, type TypedService } from "../core/platform/mixins.ts";
import { databaseReachable } from "../core/store/db.ts";
import { channelRoutes } from "../channels/registry.ts";
import { clientAddress, isTrustedProxy } from "../channels/host.ts";
import { collectDatabaseGauges, prometheusText, registerMetrics } from "../core/platform/metrics.ts";
import { consoleRoute } from "../core/console/pages.ts";
import { API_KEYS_CHANGED, storedApiKeys } from "../core/platform/stored-api-keys.ts";

type Req = IncomingMessage & { $service?: Service; $ctx?: Context; $params: Record<string, unknown>; body?: unknown; query?: Record<string, string> };
/** What the routes put on a call's meta, and what the actions answer through it. */
type Meta = { apiKey?: boolean; ip?: string; headers?: IncomingMessage["headers"]; user?: { scopes?: string[] }; $statusCode?: number };

function onError(this: Service, req: Req, res: ServerResponse, err: any) {
  const { status, body, retryable } = httpError(err);
  if (status >= 500) this.logger.error(`${req.method} ${req.url} failed:`, err);
  if (res.headersSent) return res.end();
  res.setHeader("Content-Type", "application/json; charset=utf-8");
  const retryAfter = err?.data?.retryAfterSeconds;
  if (status === 429 && typeof retryAfter === "number") res.setHeader("Retry-After", String(retryAfter));
  else if (retryable) res.setHeader("Retry-After", "5");
  if (status === 401) res.setHeader("WWW-Authenticate", 'Bearer realm="taqib"');
  res.writeHead(status);
  res.end(JSON.stringify(body));
}

/**
 * Every staff and events API route: the action it calls and the scope its key needs.
 *
 * @example
 *   API_V1["POST events"] // { action: "events.ingest", scope: "events:write" }
 */
export const API_V1: Record<string, { action: string; scope: Scope }> = {
  "POST events": { action: "events.ingest", scope: "events:write" },
  "GET departments": { action: "directory.listDepartments", scope: "directory:admin" },
  "GET employees": { action: "directory.listEmployees", scope: "directory:admin" },
  "GET agencies": { action: "directory.listAgencies", scope: "directory:admin" },
  "PUT departments/:code": { action: "directory.putDepartment", scope: "directory:admin" },
  "GET departments/:code": { action: "directory.getDepartment", scope: "directory:admin" },
  "PUT employees/:id": { action: "directory.putEmployee", scope: "directory:admin" },
  "GET employees/:id": { action: "directory.getEmployee", scope: "directory:admin" },
  "PUT agencies/:code": { action: "directory.putAgency", scope: "directory:admin" },
  "GET agencies/:code": { action: "directory.getAgency", scope: "directory:admin" },
  "GET transactions/:number": { action: "directory.getTransaction", scope: "messages:read" },
  "GET messages": { action: "directory.listMessages", scope: "messages:read" },
  "GET opt-outs/:mobile": { action: "directory.getOptOut", scope: "messages:read" },
  "POST agencies/:code/secrets": { action: "agencies.createSecret", scope: "directory:admin" },
  "DELETE agencies/:code/secrets/:id": { action: "agencies.revokeSecret", scope: "directory:admin" },
  "GET agencies/:code/deliveries": { action: "agencies.deliveries", scope: "messages:read" },
  "GET holidays": { action: "followup.listHolidays", scope: "directory:admin" },
  "PUT holidays/:date": { action: "followup.putHoliday", scope: "directory:admin" },
  "DELETE holidays/:date": { action: "followup.deleteHoliday", scope: "directory:admin" },
  "POST followup/sweep": { action: "followup.sweep", scope: "directory:admin" },
  "POST templates/:name/preview": { action: "notifier.preview", scope: "directory:admin" },
};
const SCOPE_OF_ACTION = new Map(Object.values(API_V1).map((r) => [r.action, r.scope]));

/**
 * Warns (once an hour per peer) when a request carries X-Forwarded-For from a peer not in
 * TRUST_PROXY: behind a proxy that is not trusted every citizen shares the proxy's rate limit.
 */
function untrustedForwardingWarning(trusted: readonly string[]): Middleware {
  const warned = new Map<string, number>();
  return function (req, _res, next) {
    const peer = req.socket?.remoteAddress ?? "";
    if (req.headers["x-forwarded-for"] !== undefined && !isTrustedProxy(peer, trusted)) {
      const now = Date.now();
      if ((warned.get(peer) ?? 0) < now - 3_600_000) {
        if (warned.size >= 1000) warned.clear();
        warned.set(peer, now);
        (req as Req).$service?.logger.warn(
          `X-Forwarded-For from ${peer}, which is not in TRUST_PROXY: the header is ignored and rate limits count this peer as the client. ` +
            `Behind a reverse proxy, set TRUST_PROXY to its address or range.`,
        );
      }
    }
    next();
  };
}

/**
 * A route as every route of the gateway must be: paths matched case-sensitively (so
 * `/METRICS` is not `/metrics` to a proxy's rule but the same route here), every body
 * parser error a 4xx, and bodies and query strings decoded strictly (400 INVALID_TEXT for
 * invalid UTF-8 or a lone surrogate: core/platform/strict-text.ts).
 */
function hardened(route: Record<string, any>, warning: Middleware): Record<string, unknown> {
  return {
    ...route,
    pathToRegexpOptions: { ...route.pathToRegexpOptions, sensitive: true },
    bodyParsers: false,
    // Health reads no query, and a probe's may hold anything: it answers whatever it is.
    use: [warning, ...(route.path === "/health" ? [] : [strictQuery]), ...safeBodyParsers(route.bodyParsers as BodyParsers), ...(route.use ?? [])],
  };
}

/**
 * The HTTP front door: the staff and events API (API key), health, agencies' webhooks and
 * the channels' public routes.
 */
export default function apiService(config: Config): TypedService {
  const json = { json: { limit: "1mb", strict: false }, urlencoded: false };
  const warning = untrustedForwardingWarning(config.trustProxy ?? []);
  return {
    name: "api",
    mixins: [ApiGateway, databaseMixin(config)],
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
          authentication: true,
          authorization: true,
          mappingPolicy: "restrict",
          aliases: {
            async "GET /"(this: Service, _req: Req, res: ServerResponse) {
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
          authorization: true,
          aliases: Object.fromEntries(Object.entries(API_V1).map(([alias, r]) => [alias, r.action])),
          onBeforeCall(ctx: Context<unknown, Meta>, _route: unknown, req: Req) {
            ctx.meta.apiKey = true;
            ctx.meta.ip = clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"] as string | undefined, config.trustProxy);
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
          onBeforeCall(ctx: Context<unknown, Meta>, _route: unknown, req: Req) {
            ctx.meta.headers = req.headers;
            // Refusals are rate-limited per client address.
            ctx.meta.ip = clientAddress(req.socket.remoteAddress, req.headers["x-forwarded-for"] as string | undefined, config.trustProxy);
          },
        },
        // The staff console's pages (sessions of their own, not API keys): core/console/pages.ts.
        { ...consoleRoute(config), onError },
        ...channelRoutes(config, onError),
      ].map((route) => hardened(route, warning)),
    } as Record<string, unknown>,
    actions: {
      live: { visibility: "published", params: {}, handler: () => ({ status: "ok" }) },
      /** Ready: the database answers, the broker is connected (multi-node), and this node's SMPP binds (if any) are up. */
      ready: {
        visibility: "published",
        params: {},
        async handler(ctx: Context<unknown, Meta>) {
          const checks: Record<string, string> = {};
          checks.database = (await databaseReachable()) ? "ok" : "unreachable";
          if (config.transporter) checks.broker = this.broker.transit?.connected ? "ok" : "disconnected";
          if (this.broker.getLocalService("smpp")) {
            const binds = (await ctx.call("smpp.status", {}, { nodeID: this.broker.nodeID }).catch(() => [])) as Array<{ state: string }>;
            checks.smpp = binds.some((b) => b.state === "bound") ? "ok" : "unbound";
          }
          const ok = Object.values(checks).every((v) => v === "ok");
          if (!ok) ctx.meta.$statusCode = 503;
          // Public: no node id (it is derived from the host name); logs and metrics name the node.
          return { status: ok ? "ok" : "unavailable", checks };
        },
      },
    },
    events: {
      // A key made or revoked in the console on another node: read the stored keys again.
      [API_KEYS_CHANGED]() {
        storedApiKeys.invalidate();
      },
    },
    created() {
      registerMetrics(this.broker);
    },
    started() {
      if (config.apiKeys.length) this.logger.info(`API keys: ${describeApiKeys(config.apiKeys)}`);
    },
    methods: {
      async authenticate(_ctx: unknown, _route: unknown, req: Req) {
        // API_KEYS first (no round-trip), then the keys made in the console (cached: see core/stored-api-keys.ts).
        const key = findApiKey(req.headers.authorization, config.apiKeys) ?? (await storedApiKeys.find(req.headers.authorization));
        if (!key) throw clientError(401, "UNAUTHORIZED", "A valid API key is required: Authorization: Bearer <key>");
        return { apiKey: key.fingerprint, scopes: [...key.scopes] };
      },
      /** The scope the alias needs, from API_V1 (or metrics:read): a route with none is refused. */
      async authorize(ctx: Context<unknown, Meta>, route: { opts?: { path?: string } }, _req: Req, _res: unknown, alias: { action?: string }) {
        const needed: Scope | undefined = alias.action ? SCOPE_OF_ACTION.get(alias.action) : route.opts?.path === "/metrics" ? "metrics:read" : undefined;
        const scopes: string[] = ctx.meta.user?.scopes ?? [];
        if (!needed || !scopes.includes(needed)) {
          throw clientError(403, "FORBIDDEN_SCOPE", `This API key lacks the scope "${needed ?? SCOPES.join("|")}" needed here; ask for a key with it (do not retry with this one)`, { details: { scope: needed } });
        }
      },
    },
  };
}

// The job dashboard (Agendash) as its own small Express app on its own port, behind the
// staff API key with the `jobs:admin` scope: `Authorization: Bearer <key>`, or HTTP Basic
// with the key as password so a browser can open it. It listens on loopback unless
// AGENDASH_HOST says otherwise.
import http from "node:http";
import express from "express";
import { createExpressMiddleware } from "agendash";
import { openJobs, type JobSettings } from "./jobs.ts";
import { findApiKey, type ApiKey } from "./api-keys.ts";
import { storedApiKeys } from "./stored-api-keys.ts";

/** The parts of a request the cross-site check reads. */
export interface DashboardRequest {
  method: string;
  headers: { host?: string; origin?: string; "content-type"?: string; "sec-fetch-site"?: string };
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Why a request that changes jobs is refused, or undefined when it may go on.
 *
 * A browser keeps Basic credentials for the dashboard's origin and sends them with a form that
 * any other site submits to it (cross-site request forgery). Such a form can only send
 * `application/x-www-form-urlencoded`, `multipart/form-data` or `text/plain`, and carries the
 * page's Origin; the dashboard's own script sends JSON from its own origin. So a change must be
 * JSON and, when the browser names an origin or a fetch site, come from the dashboard's own.
 * A cross-site `fetch` with a JSON body is stopped by the browser's preflight, which the
 * dashboard never grants.
 *
 * @example
 *   crossSiteRefusal({ method: "POST", headers: { host: "127.0.0.1:3100", "content-type": "application/x-www-form-urlencoded" } })
 *   // { status: 415, code: "JSON_REQUIRED", … }
 *   crossSiteRefusal({ method: "POST", headers: { host: "127.0.0.1:3100", origin: "http://127.0.0.1:3100", "content-type": "application/json" } })
 *   // undefined
 */
export function crossSiteRefusal(req: DashboardRequest): { status: number; code: string; message: string } | undefined {
  if (SAFE_METHODS.has(req.method.toUpperCase())) return undefined;
  const { host, origin, "sec-fetch-site": site } = req.headers;
  const type = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") {
    return { status: 415, code: "JSON_REQUIRED", message: "Changes to jobs must be sent as application/json" };
  }
  if (site !== undefined && site !== "same-origin" && site !== "none") {
    return { status: 403, code: "CROSS_SITE", message: `Changes to jobs are accepted from the dashboard's own pages only (Sec-Fetch-Site: ${site})` };
  }
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      originHost = new URL(origin).host;
    } catch {
      originHost = undefined;
    }
    if (!host || originHost !== host.toLowerCase()) {
      return { status: 403, code: "CROSS_SITE", message: "Changes to jobs are accepted from the dashboard's own origin only" };
    }
  }
  return undefined;
}

/**
 * @example
 *   const dash = await startAgendash({ port: 3100, apiKeys: parseApiKeys("..."), jobs: config });
 *   await dash.close();
 */
export async function startAgendash(opts: { port: number; host?: string; apiKeys: readonly ApiKey[]; jobs: JobSettings }): Promise<{ port: number; host: string; close(): Promise<void> }> {
  const app = express();
  app.disable("x-powered-by");
  app.use(async (req, res, next) => {
    const header = req.headers.authorization ?? "";
    const basic = /^Basic\s+(\S+)$/i.exec(header);
    const key = basic ? Buffer.from(basic[1]!, "base64").toString().split(":").slice(1).join(":") : undefined;
    const bearer = key !== undefined ? `Bearer ${key}` : header;
    const found = findApiKey(bearer, opts.apiKeys) ?? (await storedApiKeys.find(bearer).catch(() => undefined));
    if (found?.scopes.has("jobs:admin")) {
      const refused = crossSiteRefusal(req as DashboardRequest);
      if (!refused) return next();
      res.status(refused.status).json({ error: { code: refused.code, message: refused.message } });
      return;
    }
    if (found) {
      res.status(403).json({ error: { code: "FORBIDDEN_SCOPE", message: 'This API key lacks the scope "jobs:admin"' } });
      return;
    }
    res.setHeader("WWW-Authenticate", 'Basic realm="Taqib jobs"');
    res.status(401).json({ error: { code: "UNAUTHORIZED", message: "The staff API key is required (Bearer, or Basic with the key as password)" } });
  });
  // An Agenda of the dashboard's own, never started: it reads and edits the jobs the scheduler runs.
  app.use("/", createExpressMiddleware((await openJobs(opts.jobs)).agenda as any));
  const server = http.createServer(app);
  const host = opts.host ?? "127.0.0.1";
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, host, () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    host: (server.address() as { address: string }).address,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

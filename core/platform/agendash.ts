// The job dashboard (Agendash) as its own small Express app on its own port, behind the
// staff API key with the `jobs:admin` scope: `Authorization: Bearer <key>`, or HTTP Basic
// with the key as password so a browser can open it.
import http from "node:http";
import express from "express";
import { createExpressMiddleware } from "agendash";
import { openJobs, type JobSettings } from "./jobs.ts";
import { findApiKey, type ApiKey } from "./api-keys.ts";
import { storedApiKeys } from "./stored-api-keys.ts";

/**
 * @example
 *   const dash = await startAgendash({ port: 3100, apiKeys: parseApiKeys("..."), jobs: config });
 *   await dash.close();
 */
export async function startAgendash(opts: { port: number; host?: string; apiKeys: readonly ApiKey[]; jobs: JobSettings }): Promise<{ port: number; close(): Promise<void> }> {
  const app = express();
  app.disable("x-powered-by");
  app.use(async (req, res, next) => {
    const header = req.headers.authorization ?? "";
    const basic = /^Basic\s+(\S+)$/i.exec(header);
    const key = basic ? Buffer.from(basic[1]!, "base64").toString().split(":").slice(1).join(":") : undefined;
    const bearer = key !== undefined ? `Bearer ${key}` : header;
    const found = findApiKey(bearer, opts.apiKeys) ?? (await storedApiKeys.find(bearer).catch(() => undefined));
    if (found?.scopes.has("jobs:admin")) return next();
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
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host ?? "0.0.0.0", () => resolve());
  });
  return {
    port: (server.address() as { port: number }).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

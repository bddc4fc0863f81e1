// The job dashboard (Agendash) as its own small Express app on its own port, behind the
// staff API key: `Authorization: Bearer <key>`, or HTTP Basic with the key as password so a
// browser can open it.
import http from "node:http";
import express from "express";
import { createExpressMiddleware } from "agendash";
import { getAgenda } from "./jobs.ts";
import { apiKeyValid } from "./api-keys.ts";

/**
 * @example
 *   const dash = await startAgendash({ port: 3100, apiKeys: ["..."] });
 *   await dash.close();
 */
export async function startAgendash(opts: { port: number; host?: string; apiKeys: string[] }): Promise<{ port: number; close(): Promise<void> }> {
  const app = express();
  app.disable("x-powered-by");
  app.use((req, res, next) => {
    const header = req.headers.authorization ?? "";
    const basic = /^Basic\s+(\S+)$/i.exec(header);
    const key = basic ? Buffer.from(basic[1]!, "base64").toString().split(":").slice(1).join(":") : undefined;
    if (apiKeyValid(key !== undefined ? `Bearer ${key}` : header, opts.apiKeys)) return next();
    res.setHeader("WWW-Authenticate", 'Basic realm="Taqib jobs"');
    res.status(401).json({ error: { code: "UNAUTHORIZED", message: "The staff API key is required (Bearer, or Basic with the key as password)" } });
  });
  app.use("/", createExpressMiddleware((await getAgenda()) as any));
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

// Test harness: real servers on free ports in temporary directories, removed afterwards.
import fs from "node:fs";
import nodeHttp from "node:http";
import os from "node:os";
import path from "node:path";
import { before, after } from "node:test";
import { loadConfig, type Config } from "../../core/platform/config.ts";
import { freePort, startFerretDB, startNats, type LocalServer } from "../../core/platform/servers.ts";
import { startTaqib, type RunningNode } from "../../core/platform/node.ts";
import type { Lang } from "../../core/text/lang.ts";

export const API_KEY = "test-key-0123456789abcdef";
/** The SECRETS_KEY of test nodes (agencies' secrets are encrypted with it). */
export const SECRETS_KEY = `test:${Buffer.alloc(32, 7).toString("base64")}`;

export function tempDir(prefix = "taqib-test-"): { dir: string; remove(): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A FerretDB of its own for a test file. */
export async function testDatabase(): Promise<LocalServer & { dir: string; remove(): Promise<void> }> {
  const tmp = tempDir("taqib-db-");
  const db = await startFerretDB({ dataDir: tmp.dir });
  return Object.assign(db, { dir: tmp.dir, remove: async () => { await db.stop(); tmp.remove(); } });
}

export { startNats, freePort };

/** The environment of a test node; `env` overrides. */
export async function testConfig(env: Record<string, string | undefined> = {}): Promise<Config> {
  return loadConfig({
    PORT: String(await freePort()),
    HOST: "127.0.0.1",
    API_KEYS: API_KEY,
    SECRETS_KEY,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "warn",
    SWEEP_INTERVAL_MS: "500",
    DATA_DIR: tempDir("taqib-data-").dir,
    // The default CHANNELS include ivr and kiosk: unset secrets are allowed in tests unless a test turns this off.
    DEV_INSECURE: "1",
    // Tests run at any hour: staff SMS are not held for office hours unless a test sets them.
    STAFF_SMS_HOURS: "always",
    ...env,
  });
}

/** Starts an in-process Taqib node against the given database. */
export async function testNode(mongoUrl: string, env: Record<string, string | undefined> = {}): Promise<RunningNode & { url: string }> {
  const config = await testConfig({ MONGO_URL: mongoUrl, ...env });
  const node = await startTaqib(config);
  // The node's DATA_DIR is a temporary directory of its own: removed with the node.
  const stop = node.stop.bind(node);
  return Object.assign(node, {
    url: `http://127.0.0.1:${config.port}`,
    stop: async () => {
      await stop();
      if (!env.DATA_DIR) fs.rmSync(config.dataDir, { recursive: true, force: true });
    },
  });
}

/** One request with exactly these headers and bytes (fetch refuses some of them); the body as text and, when it is JSON, parsed. */
export function rawRequest(base: string, method: string, p: string, headers: Record<string, string>, body?: Buffer | string): Promise<{ status: number; text: string; json: any }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = nodeHttp.request({ host: url.hostname, port: url.port, method, path: p, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString();
        let json: any;
        try {
          json = JSON.parse(text);
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** An HTTP call with JSON; answers status, headers and parsed body (text when not JSON). */
export async function http(
  base: string,
  method: string,
  p: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === "string" ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)["content-type"] ??= "application/json";
  }
  const res = await fetch(base + p, init);
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed, text, headers: res.headers };
}

/** The same with the staff API key. */
export function api(base: string, method: string, p: string, body?: unknown) {
  return http(base, method, p, body, { authorization: `Bearer ${API_KEY}` });
}

/** Polls `fn` until it returns a truthy value, or fails after timeoutMs. */
export async function eventually<T>(fn: () => Promise<T | undefined | false | null>, timeoutMs = 15000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const T0 = Date.now() - 60 * 60_000;

/** A sample lifecycle of one transaction, as the correspondence system posts it (the same content on every call). */
export function sampleLifecycle(number: string, opts: { mobile?: string; prefix?: string; lang?: Lang; issuedDaysAgo?: number } = {}) {
  const p = opts.prefix ?? `t${number}`;
  const at = (min: number) => new Date(T0 + min * 60_000).toISOString();
  const outgoingDate = opts.issuedDaysAgo !== undefined ? new Date(T0 - opts.issuedDaysAgo * 86_400_000).toISOString() : at(30);
  return [
    { id: `${p}-1`, type: "registered", transactionNumber: number, occurredAt: at(0), data: { citizen: { name: "محمد بن عبدالله", mobile: opts.mobile ?? "0551234567", language: opts.lang ?? "ar" }, subject: "طلب إفادة", departmentCode: "LEGAL" } },
    { id: `${p}-2`, type: "referred", transactionNumber: number, occurredAt: at(10), data: { departmentCode: "LEGAL" } },
    { id: `${p}-3`, type: "assigned", transactionNumber: number, occurredAt: at(20), data: { employeeId: "E100" } },
    { id: `${p}-4`, type: "issued", transactionNumber: number, occurredAt: at(30), data: { outgoingNumber: `9${number}`, outgoingDate, destination: { agencyCode: "MOI", name: "وزارة الداخلية" }, requiresReply: true } },
    { id: `${p}-5`, type: "reply-received", transactionNumber: number, occurredAt: at(40), data: { outgoingNumber: `9${number}`, replyNumber: "R-77", replyDate: at(40) } },
    { id: `${p}-6`, type: "closed", transactionNumber: number, occurredAt: at(50), data: {} },
  ];
}

/** The directory the sample lifecycle refers to. */
export async function seedDirectory(base: string, opts: { replyPeriodDays?: number } = {}) {
  await api(base, "PUT", "/api/v1/departments/LEGAL", {
    name: { ar: "الإدارة القانونية", en: "Legal Affairs" },
    manager: { name: "سعد الحربي", mobile: "0559990001" },
    replyPeriodDays: opts.replyPeriodDays ?? 10,
  });
  await api(base, "PUT", "/api/v1/employees/E100", { name: "خالد العتيبي", mobile: "0559990002", departmentCode: "LEGAL" });
  await api(base, "PUT", "/api/v1/agencies/MOI", { name: { ar: "وزارة الداخلية", en: "Ministry of Interior" } });
}

/** An SMSC simulator of its own for a test, and the SMPP_URL that reaches it. */
export async function testSmsc(opts: Partial<import("../../dev/smsc/simulator.ts").SmscSimulatorOptions> = {}) {
  const { SmscSimulator } = await import("../../dev/smsc/simulator.ts");
  const smsc = new SmscSimulator({ systemId: "taqib", password: "secret", dlrDelayMs: 50, failureShare: 0, maxPerSecond: 1000, ...opts });
  const { port } = await smsc.start();
  return Object.assign(smsc, { port, url: `smpp://taqib:secret@127.0.0.1:${port}` });
}

export interface SmsNode {
  db: Awaited<ReturnType<typeof testDatabase>>;
  smsc: Awaited<ReturnType<typeof testSmsc>>;
  node: Awaited<ReturnType<typeof testNode>>;
}

/**
 * The usual world of a test file: a database, an SMSC simulator and an in-process node on
 * them (`SMPP_URL` set), with the sample directory seeded; started before the file's tests
 * and stopped after them. The fields are set by `before`: read them inside the tests.
 *
 * @example
 *   const world = smsNode({ smsc: { dlrDelayMs: 20 }, env: { SERVICES: "api,events,directory,notifier,smpp" } });
 *   test("…", async () => { const { node, smsc } = world; ... });
 */
export function smsNode(
  opts: {
    smsc?: Parameters<typeof testSmsc>[0];
    env?: Record<string, string>;
    /** Seed the sample directory (default true). */
    seed?: boolean;
    /** The URL the node uses for the database (a proxy in front of it, say); default the database's own. */
    mongoUrl?: (dbUrl: string) => string | Promise<string>;
    /** More set-up once the node is up (root-level `before` hooks of a file do not wait for each other). */
    then?: (world: SmsNode) => Promise<void>;
    /** More tear-down once the node has stopped, before the servers do. */
    teardown?: () => Promise<void>;
  } = {},
): SmsNode {
  const world = {} as SmsNode;
  before(async () => {
    world.db = await testDatabase();
    world.smsc = await testSmsc(opts.smsc);
    const mongoUrl = (await opts.mongoUrl?.(world.db.url)) ?? world.db.url;
    world.node = await testNode(mongoUrl, { SMPP_URL: world.smsc.url, ...opts.env });
    if (opts.seed ?? true) await seedDirectory(world.node.url);
    await opts.then?.(world);
  });
  after(async () => {
    await world.node?.stop();
    await opts.teardown?.();
    await world.smsc?.stop();
    await world.db?.remove();
  });
  return world;
}

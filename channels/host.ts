/**
 * The host side of the channel plugin contract: builds the context a plugin gets, turns a
 * Node HTTP request into the plain {@link ChannelRequest} and writes the plugin's
 * {@link ChannelResponse}. Plugins never import this file.
 *
 * @module
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { IncomingMessage, ServerResponse } from "node:http";
import mongoose from "mongoose";
import type { Context, ServiceSchema } from "moleculer";
import type { TypedService } from "../core/platform/mixins.ts";
import type { Config } from "../core/platform/config.ts";
import { applyDigits } from "../core/text/digits.ts";
import { digitsSpokenAr, digitsSpokenEn, hijriDateInWordsAr } from "../core/text/number-words.ts";
import { formatGregorian, formatHijri } from "../core/text/calendar.ts";
import { createInquiryCore, findTransactionNumber, identityKey, normalizeDigits, normalizeSaudiMobile, type InquiryCore } from "../core/inquiry/inquiry.ts";
import { setSmsOptOut } from "../core/sms/opt-out.ts";
import { clock } from "../core/platform/clock.ts";
import { enqueueMessages } from "../core/sms/notifications.ts";
import { inquiryCounter } from "../core/report/inquiries.ts";
import type {
  ChannelContext,
  ChannelFormat,
  ChannelInquiry,
  ChannelLogger,
  ChannelPlugin,
  ChannelRequest,
  ChannelResponse,
  ChannelTemplates,
  Lang,
  OutgoingMessage,
} from "./contract.ts";
import { retryAfterSeconds } from "./contract.ts";
import { createChannelTemplates } from "./templates.ts";
import { ONCE_COLLECTION, OUTBOX_COLLECTION } from "./models.ts";

export const CHANNELS_DIR = path.dirname(fileURLToPath(import.meta.url));

/** A plugin's folder (its `templates/`, `fixtures/`): `channels/<name>/` unless it says otherwise. */
export function pluginFolder(plugin: Pick<ChannelPlugin<any, any>, "name" | "folder">): string {
  return plugin.folder ? fileURLToPath(plugin.folder) : path.join(CHANNELS_DIR, plugin.name);
}


/** Per database connection: whether it expires documents by a TTL index, and when expired keys were last removed by hand. */
const onceStores = new WeakMap<object, { ttl: Promise<boolean>; prunedAt: number }>();
const PRUNE_EVERY_MS = 60_000;

/**
 * True the first time `key` is inserted (a unique `_id`, so across nodes too); false when
 * already there. Expired keys go by a TTL index (MongoDB) or, where TTL indexes are not
 * implemented (the embedded FerretDB), by a delete at most once a minute per process.
 */
export async function firstTime(key: string, ttlMs: number): Promise<boolean> {
  const db = mongoose.connection.db;
  if (!db) throw new Error("once: database not connected (retry later)");
  const collection = db.collection(ONCE_COLLECTION);
  let store = onceStores.get(db);
  if (!store) {
    const ttl = collection.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0, name: "expiresAt" }).then(
      () => true,
      () => collection.createIndex({ expiresAt: 1 }, { name: "expiresAt" }).then(() => false),
    );
    store = { ttl, prunedAt: 0 };
    onceStores.set(db, store);
    ttl.catch(() => onceStores.delete(db));
  }
  const now = Date.now();
  if (!(await store.ttl) && now - store.prunedAt > PRUNE_EVERY_MS) {
    store.prunedAt = now;
    await collection.deleteMany({ expiresAt: { $lt: new Date(now) } });
  }
  try {
    await collection.insertOne({ _id: createHash("sha256").update(key).digest("hex") as any, expiresAt: new Date(now + ttlMs) });
    return true;
  } catch (err) {
    if ((err as { code?: number }).code !== 11000) throw err;
  }
  // Already there: still valid, or expired and not yet removed (then it counts as new).
  const taken = await collection.updateOne(
    { _id: createHash("sha256").update(key).digest("hex") as any, expiresAt: { $lt: new Date(now) } },
    { $set: { expiresAt: new Date(now + ttlMs) } },
  );
  return taken.modifiedCount === 1;
}

// ------------------------------------------------------------------ context

/** One inquiry core per owner (a broker): its rate limits are shared by the node's channels. */
const cores = new WeakMap<object, InquiryCore>();

export function inquiryCoreFor(owner: object, config: Config, logger?: ChannelLogger): InquiryCore {
  let core = cores.get(owner);
  if (!core) {
    core = createInquiryCore({
      limit: config.inquiryRateLimit,
      windowMs: config.inquiryRateWindowMs,
      logger,
      failureBudget: { limit: config.verifyFailureBudget, windowMs: config.verifyFailureWindowMs, rangeLimit: config.verifyRangeFailureLimit },
    });
    cores.set(owner, core);
  }
  return core;
}

/** How often a node announces its failed-verifier count to the others. */
export const BUDGET_SHARE_MS = 5_000;
const BUDGET_EVENT = "inquiry.verifyFailures";
/** The one service per broker that announces and counts (a node runs several channel services). */
const budgetSharers = new WeakMap<object, { service: object; reported: number; timer: NodeJS.Timeout }>();

/**
 * A mixin for the channel services: every {@link BUDGET_SHARE_MS} the node broadcasts its
 * failed verifiers within the window, sums what the other nodes announce into its
 * {@link FailureBudget}, and updates `taqib_verify_failures_total` and
 * `taqib_verify_budget_exhausted`.
 *
 * @example
 *   mixins: [failureBudgetMixin(config)]
 */
export function failureBudgetMixin(config: Config): Partial<ServiceSchema> {
  const mixin: Partial<TypedService> = {
    events: {
      [BUDGET_EVENT](ctx: Context<{ count?: unknown }>) {
        if (ctx.nodeID && ctx.nodeID !== this.broker.nodeID) inquiryCoreFor(this.broker, config).budget.hear(ctx.nodeID, Number(ctx.params?.count));
      },
    },
    started() {
      if (budgetSharers.has(this.broker)) return;
      const core = inquiryCoreFor(this.broker, config, this.logger);
      const state = { service: this, reported: core.budget.recordedTotal, timer: undefined as unknown as NodeJS.Timeout };
      state.timer = setInterval(() => {
        const m = this.broker.metrics;
        if (core.budget.recordedTotal > state.reported) m.increment("taqib.verify.failures", {}, core.budget.recordedTotal - state.reported);
        state.reported = core.budget.recordedTotal;
        m.set("taqib.verify.budget_exhausted", core.budget.exhausted() ? 1 : 0);
        if (config.transporter) Promise.resolve(this.broker.broadcast(BUDGET_EVENT, { count: core.budget.local() })).catch(() => undefined);
      }, BUDGET_SHARE_MS);
      state.timer.unref();
      budgetSharers.set(this.broker, state);
    },
    stopped() {
      const state = budgetSharers.get(this.broker);
      if (!state || state.service !== this) return;
      clearInterval(state.timer);
      budgetSharers.delete(this.broker);
    },
  };
  return mixin as Partial<ServiceSchema>;
}

export const format: ChannelFormat = {
  hijri: (d, lang, opts = {}) => formatHijri(d, { lang, digits: opts.digits ?? "latin", style: opts.style ?? "numeric" }),
  gregorian: (d, lang, opts = {}) => formatGregorian(d, { lang, digits: opts.digits ?? "latin" }),
  hijriWordsAr: (d) => hijriDateInWordsAr(d),
  spokenDigits: (s, lang) => (lang === "ar" ? digitsSpokenAr(s) : digitsSpokenEn(s)),
  arabicDigits: (s) => applyDigits(s, "arabic"),
  waitTime,
};

/** "try again in …" wording: minutes, rounded up (or seconds under a minute, as `Retry-After` says), with Arabic number agreement. */
export function waitTime(ms: number, lang: Lang, opts: { seconds?: boolean } = {}): string {
  const s = retryAfterSeconds(ms);
  if (opts.seconds && s < 60) {
    if (lang === "en") return s === 1 ? "1 second" : `${s} seconds`;
    if (s === 1) return "ثانية واحدة";
    if (s === 2) return "ثانيتين";
    return s <= 10 ? `${s} ثوانٍ` : `${s} ثانية`;
  }
  const n = Math.max(1, Math.ceil(ms / 60_000));
  if (lang === "en") return n === 1 ? "1 minute" : `${n} minutes`;
  if (n === 1) return "دقيقة واحدة";
  if (n === 2) return "دقيقتين";
  if (n <= 10) return `${n} دقائق`;
  return `${n} دقيقة`;
}

const missingTemplates = (name: string): ChannelTemplates => ({
  render(t) {
    throw new Error(`channel "${name}" has no templates folder (wanted "${t}")`);
  },
});

/** A message id from a key: stable, short, and safe as a MongoDB _id. */
export function messageId(channel: string, key: string | undefined): string {
  const k = key === undefined ? randomUUID() : createHash("sha256").update(key).digest("hex").slice(0, 32);
  return `inquiry:${channel}:${k}`;
}

/**
 * The context of one plugin in one service.
 *
 * @example
 *   const ctx = createContext(plugin, slice, config, { owner: broker, logger: svc.logger });
 */
export function createContext<C>(
  plugin: ChannelPlugin<C, any>,
  slice: C,
  config: Config,
  opts: { owner: object; logger: ChannelLogger; templatesDir?: string },
): ChannelContext<C> {
  const core = inquiryCoreFor(opts.owner, config, opts.logger);
  const inquiry: ChannelInquiry = {
    ask: (q) => {
      inquiryCounter.count(plugin.name);
      return core.ask({ ...q, channel: plugin.name });
    },
    limit: (identities) => core.limiter.take([...new Set(identities.map(identityKey))]),
    findNumber: (text) => findTransactionNumber(String(text ?? "").slice(0, 1000)),
    normalizeMobile: (input) => normalizeSaudiMobile(input),
    latinDigits: normalizeDigits,
  };
  const dir = opts.templatesDir ?? path.join(pluginFolder(plugin), "templates");
  const templates = fs.existsSync(dir) ? createChannelTemplates(dir) : missingTemplates(plugin.name);
  return {
    name: plugin.name,
    inquiry,
    templates,
    format,
    config: slice,
    logger: opts.logger,
    async sendSms(to: string, text: string, lang: Lang, o: { key?: string } = {}) {
      const mobile = normalizeSaudiMobile(to) ?? (/^\+?\d{6,15}$/.test(to) ? `+${to.replace(/^\+/, "")}` : undefined);
      if (!mobile) throw new Error(`sendSms: not a phone number: ${JSON.stringify(to)}`);
      if (!text.trim()) throw new Error("sendSms: empty text");
      const _id = messageId(plugin.name, o.key);
      await enqueueMessages([{ _id, role: "inquirer", template: "inquiry-reply", to: mobile, lang, text }]);
      return _id;
    },
    async queueOutgoing(m: OutgoingMessage) {
      const db = mongoose.connection.db;
      if (!db) throw new Error("queueOutgoing: database not connected");
      const _id = messageId(plugin.name, m.key);
      const now = new Date();
      await db.collection(OUTBOX_COLLECTION).updateOne(
        { _id: _id as any },
        { $setOnInsert: { channel: plugin.name, to: m.to, text: m.text, lang: m.lang, status: "queued", createdAt: now } },
        { upsert: true },
      );
      return _id;
    },
    once: (key, ttlMs) => firstTime(`${plugin.name}:${key}`, ttlMs),
    setSmsOptOut: (mobile, optedOut, o = {}) => setSmsOptOut(mobile, optedOut, clock.now(), plugin.name, o.key && `${plugin.name}:${o.key}`),
  };
}

// ------------------------------------------------------------------ HTTP

/** A client address without the IPv4-mapped prefix or an IPv6 zone. */
function plainAddress(a: string | undefined): string {
  return (a ?? "").replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1").replace(/%.*$/, "");
}

/** TRUST_PROXY compiled once per list: addresses and CIDR ranges of both families. */
const compiled = new WeakMap<readonly string[], net.BlockList>();

function trustedList(trusted: readonly string[]): net.BlockList {
  let list = compiled.get(trusted);
  if (!list) {
    list = new net.BlockList();
    for (const entry of trusted) {
      const [addr, bits] = plainAddress(entry).split("/");
      const family = net.isIP(addr!) === 6 ? "ipv6" : "ipv4";
      if (!net.isIP(addr!)) continue;
      if (bits === undefined) list.addAddress(addr!, family);
      else list.addSubnet(addr!, Number(bits), family);
    }
    compiled.set(trusted, list);
  }
  return list;
}

/**
 * True when `address` is one of the trusted proxies (an address or inside a CIDR range).
 *
 * @example
 *   isTrustedProxy("10.0.3.7", ["10.0.3.0/24"]) // true
 */
export function isTrustedProxy(address: string | undefined, trusted: readonly string[] = []): boolean {
  const a = plainAddress(address);
  const family = net.isIP(a);
  if (!trusted.length || !family) return false;
  return trustedList(trusted).check(a, family === 6 ? "ipv6" : "ipv4");
}

/**
 * The client's address: the socket peer, or, when the peer is a trusted proxy, the
 * right-most address in X-Forwarded-For that is not itself a trusted proxy. TRUST_PROXY
 * entries may be addresses or CIDR ranges.
 *
 * @example
 *   clientAddress("10.0.0.9", "6.6.6.6, 1.2.3.4", ["10.0.0.0/24"]) // "1.2.3.4"
 */
export function clientAddress(peer: string | undefined, forwardedFor: string | undefined, trusted: readonly string[] = []): string {
  const p = plainAddress(peer);
  if (!forwardedFor || !isTrustedProxy(p, trusted)) return p;
  const chain = forwardedFor.split(",").map((s) => plainAddress(s.trim())).filter(Boolean);
  for (let i = chain.length - 1; i >= 0; i--) if (!isTrustedProxy(chain[i], trusted)) return chain[i]!;
  return chain[0] ?? p;
}

/** The full URL the client used: PUBLIC_URL + path and query when set, else from the Host header. */
export function requestUrl(originalUrl: string, host: string | undefined, publicUrl: string | undefined): string {
  const pathAndQuery = originalUrl.startsWith("/") ? originalUrl : `/${originalUrl}`;
  if (publicUrl) return publicUrl.replace(/\/+$/, "") + pathAndQuery;
  return `http://${host && /^[\w.\-:[\]]+$/.test(host) ? host : "localhost"}${pathAndQuery}`;
}

/** The query string of a URL as plain strings (repeated keys give arrays). */
export function parseQuery(originalUrl: string): Record<string, string | string[]> {
  const i = originalUrl.indexOf("?");
  const out: Record<string, string | string[]> = {};
  if (i < 0) return out;
  for (const [k, v] of new URLSearchParams(originalUrl.slice(i + 1))) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/** A moleculer-web request as a plain {@link ChannelRequest}. */
export function toChannelRequest(req: IncomingMessage & Record<string, any>, config: Config): ChannelRequest {
  const originalUrl: string = req.originalUrl ?? req.url ?? "/";
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(", ") : v;
  }
  const params: Record<string, string> = {};
  for (const key of (req.$alias?.keys ?? []) as Array<{ name: string }>) {
    const v = req.$params?.[key.name];
    if (typeof v === "string") params[key.name] = v;
  }
  const q = originalUrl.indexOf("?");
  return {
    method: String(req.method ?? "GET").toUpperCase(),
    path: q < 0 ? originalUrl : originalUrl.slice(0, q),
    params,
    query: parseQuery(originalUrl),
    headers,
    rawBody: typeof req.body === "string" ? req.body : "",
    ip: clientAddress(req.socket?.remoteAddress, headers["x-forwarded-for"], config.trustProxy),
    url: requestUrl(originalUrl, headers.host, config.publicUrl),
  };
}

/** Checks what a plugin answered: a clear error instead of a broken response. */
export function checkResponse(r: unknown, where: string): ChannelResponse {
  const res = r as ChannelResponse | undefined;
  if (!res || typeof res !== "object" || typeof res.body !== "string") throw new Error(`${where}: a route must answer { status?, headers?, body: string }`);
  const status = res.status ?? 200;
  if (!Number.isInteger(status) || status < 100 || status > 599) throw new Error(`${where}: invalid status ${String(res.status)}`);
  return { status, headers: res.headers ?? {}, body: res.body };
}

/** Writes a plugin's response. */
export function writeResponse(res: ServerResponse, r: ChannelResponse): void {
  const headers: Record<string, string> = { "x-content-type-options": "nosniff", ...lowerKeys(r.headers ?? {}) };
  headers["content-type"] ??= "text/plain; charset=utf-8";
  const body = Buffer.from(r.body, "utf8");
  headers["content-length"] = String(body.length);
  res.writeHead(r.status ?? 200, headers);
  res.end(body);
}

function lowerKeys(h: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(h).map(([k, v]) => [k.toLowerCase(), String(v)]));
}

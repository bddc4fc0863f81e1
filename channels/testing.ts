/**
 * Support for plugins' unit tests: a context with the plugin's real templates and
 * formatting, and a scripted inquiry core that records what it was asked and what was sent.
 *
 * @example
 *   const ctx = testContext("web", { pagePath: "/", shortCode: "74747" }, { answer: () => answers["issued-coarse"] });
 *   await plugin.routes[0].handler(request("GET", "/?number=1"), ctx);
 *   ctx.questions // [{ number: "1", ... }]
 */
import fs from "node:fs";
import path from "node:path";
import { findTransactionNumber, normalizeDigits, normalizeSaudiMobile } from "../core/inquiry/inquiry.ts";
import type { ChannelContext, ChannelPlugin, ChannelRequest, InquiryAnswer, InquiryQuestion, Lang, OutgoingMessage } from "./contract.ts";
import { CHANNELS_DIR, format, pluginFolder } from "./host.ts";
import { createChannelTemplates } from "./templates.ts";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** A plugin by name (`channels/<name>/`), or the plugin itself (a plugin kept elsewhere says where: `folder`). */
type PluginRef = string | Pick<ChannelPlugin<any, any>, "name" | "folder">;
const folderOf = (p: PluginRef) => pluginFolder(typeof p === "string" ? { name: p } : p);

/** `channels/<name>/fixtures/<file>` as JSON, ISO date strings revived as Dates. */
export function loadFixture<T = any>(plugin: PluginRef, file: string): T {
  return JSON.parse(fixtureText(plugin, file), (_k, v) => (typeof v === "string" && ISO.test(v) ? new Date(v) : v)) as T;
}

/** The raw text of a fixture file. */
export function fixtureText(plugin: PluginRef, file: string): string {
  return fs.readFileSync(path.join(folderOf(plugin), "fixtures", file), "utf8");
}

export interface TestContext<C> extends ChannelContext<C> {
  questions: InquiryQuestion[];
  sms: Array<{ to: string; text: string; lang: Lang; key?: string }>;
  outgoing: OutgoingMessage[];
  logs: string[];
}

/** A context for the plugin whose inquiry answers with `opts.answer(question)`. */
export function testContext<C>(plugin: PluginRef, config: C, opts: { answer?: (q: InquiryQuestion) => InquiryAnswer; limited?: boolean | "repeated" } = {}): TestContext<C> {
  const questions: InquiryQuestion[] = [];
  const sms: TestContext<C>["sms"] = [];
  const outgoing: OutgoingMessage[] = [];
  const logs: string[] = [];
  const seen = new Set<string>();
  const optOuts = new Map<string, boolean>();
  const lastOptOutKey = new Map<string, string | undefined>();
  const log = (level: string) => (...a: unknown[]) => logs.push(`${level}: ${a.map(String).join(" ")}`);
  return {
    name: typeof plugin === "string" ? plugin : plugin.name,
    questions,
    sms,
    outgoing,
    logs,
    config,
    format,
    templates: createChannelTemplates(path.join(folderOf(plugin), "templates")),
    logger: { debug: log("debug"), info: log("info"), warn: log("warn"), error: log("error") },
    inquiry: {
      async ask(q) {
        questions.push(q);
        if (!opts.answer) throw new Error("testContext: no answer scripted");
        return opts.answer(q);
      },
      limit: () => (opts.limited ? { ok: false, retryAfterMs: 60_000, repeated: opts.limited === "repeated" } : { ok: true }),
      findNumber: findTransactionNumber,
      normalizeMobile: normalizeSaudiMobile,
      latinDigits: normalizeDigits,
    },
    async sendSms(to, text, lang, o = {}) {
      sms.push({ to, text, lang, ...(o.key !== undefined ? { key: o.key } : {}) });
      return `sms-${sms.length}`;
    },
    async queueOutgoing(m) {
      outgoing.push(m);
      return `out-${outgoing.length}`;
    },
    async setSmsOptOut(mobile, optedOut, o = {}) {
      const changed = optOuts.get(mobile) !== optedOut && (optedOut || optOuts.has(mobile));
      optOuts.set(mobile, optedOut);
      if (changed) lastOptOutKey.set(mobile, o.key);
      return { changed: changed || (o.key !== undefined && lastOptOutKey.get(mobile) === o.key) };
    },
    async once(key) {
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    },
  };
}

/** A plain request as the host would build it. */
export function request(method: string, url: string, opts: { body?: string; headers?: Record<string, string>; ip?: string; params?: Record<string, string> } = {}): ChannelRequest {
  const u = new URL(url, "http://taqib.test");
  const query: ChannelRequest["query"] = {};
  for (const [k, v] of u.searchParams) {
    const prev = query[k];
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return {
    method,
    path: u.pathname,
    params: opts.params ?? {},
    query,
    headers: Object.fromEntries(Object.entries(opts.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
    rawBody: opts.body ?? "",
    ip: opts.ip ?? "203.0.113.9",
    url: u.toString(),
  };
}

// ------------------------------------------------------------------ integration tests

/** XML character references and the five entities, decoded. */
export function xmlDecode(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCodePoint(Number.parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

/** What a TwiML document asks the platform to do, as Twilio reads it (enough for our flow). */
export interface Twiml {
  says: Array<{ language: string; text: string }>;
  gather?: { action: string; method: string; finishOnKey?: string; numDigits?: string; input?: string; prompt: string };
  redirect?: string;
  hangup: boolean;
}

export function parseTwiml(xml: string): Twiml {
  const attrs = (s: string) => Object.fromEntries([...s.matchAll(/([\w:-]+)="([^"]*)"/g)].map((m) => [m[1]!, xmlDecode(m[2]!)]));
  const gatherM = /<Gather\b([^>]*)>([\s\S]*?)<\/Gather>/.exec(xml);
  const outside = gatherM ? xml.replace(gatherM[0], "") : xml;
  const says = [...outside.matchAll(/<Say\b([^>]*)>([\s\S]*?)<\/Say>/g)].map((m) => ({ language: attrs(m[1]!).language ?? "", text: xmlDecode(m[2]!) }));
  const out: Twiml = { says, hangup: /<Hangup\s*\/>/.test(xml) };
  if (gatherM) {
    const a = attrs(gatherM[1]!);
    out.gather = {
      action: a.action!,
      method: a.method ?? "POST",
      ...(a.finishOnKey ? { finishOnKey: a.finishOnKey } : {}),
      ...(a.numDigits ? { numDigits: a.numDigits } : {}),
      ...(a.input ? { input: a.input } : {}),
      prompt: xmlDecode(/<Say\b[^>]*>([\s\S]*?)<\/Say>/.exec(gatherM[2]!)?.[1] ?? ""),
    };
  }
  const redirect = /<Redirect\b[^>]*>([\s\S]*?)<\/Redirect>/.exec(xml);
  if (redirect) out.redirect = xmlDecode(redirect[1]!.trim());
  return out;
}

/**
 * Posts a form to `publicUrl` as Twilio would: signed over the public URL (what Twilio
 * requested) and sent to the node behind it (`publicBase` replaced by `localBase`).
 */
export async function postAsTwilio(
  publicUrl: string,
  params: Record<string, string>,
  opts: { token: string; publicBase: string; localBase: string; signature?: string | null },
): Promise<{ status: number; text: string; contentType: string }> {
  const { twilioSignature } = await import("./ivr/signature.ts");
  const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
  const signature = opts.signature === undefined ? twilioSignature(opts.token, publicUrl, params) : opts.signature;
  if (signature !== null) headers["x-twilio-signature"] = signature;
  if (!publicUrl.startsWith(opts.publicBase)) throw new Error(`${publicUrl} is not under ${opts.publicBase}`);
  const res = await fetch(opts.localBase + publicUrl.slice(opts.publicBase.length), { method: "POST", headers, body: new URLSearchParams(params).toString() });
  return { status: res.status, text: await res.text(), contentType: res.headers.get("content-type") ?? "" };
}

/** The Chromium the browser tests drive, or a clear error naming the package. */
export async function launchChromium() {
  const executablePath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
  if (!fs.existsSync(executablePath)) {
    throw new Error(`Chromium is not installed at ${executablePath}. Install it with: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  }
  const { chromium } = await import("playwright-core");
  return chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-quic"],
  });
}

/** `test-artifacts/<file>` (created), for screenshots. */
export function artifactPath(file: string): string {
  const dir = path.resolve(CHANNELS_DIR, "..", "test-artifacts");
  fs.mkdirSync(dir, { recursive: true });
  return path.join(dir, file);
}

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
import { findTransactionNumber, latinDigits, normalizeSaudiMobile } from "../core/inquiry.ts";
import type { ChannelContext, ChannelRequest, InquiryAnswer, InquiryQuestion, Lang, OutgoingMessage } from "./contract.ts";
import { CHANNELS_DIR, format } from "./host.ts";
import { createChannelTemplates } from "./templates.ts";

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

/** `channels/<name>/fixtures/<file>` as JSON, ISO date strings revived as Dates. */
export function loadFixture<T = any>(name: string, file: string): T {
  const text = fs.readFileSync(path.join(CHANNELS_DIR, name, "fixtures", file), "utf8");
  return JSON.parse(text, (_k, v) => (typeof v === "string" && ISO.test(v) ? new Date(v) : v)) as T;
}

/** The raw text of a fixture file. */
export function fixtureText(name: string, file: string): string {
  return fs.readFileSync(path.join(CHANNELS_DIR, name, "fixtures", file), "utf8");
}

export interface TestContext<C> extends ChannelContext<C> {
  questions: InquiryQuestion[];
  sms: Array<{ to: string; text: string; lang: Lang; key?: string }>;
  outgoing: OutgoingMessage[];
  logs: string[];
}

/** A context for plugin `name` whose inquiry answers with `opts.answer(question)`. */
export function testContext<C>(name: string, config: C, opts: { answer?: (q: InquiryQuestion) => InquiryAnswer; limited?: boolean | "repeated" } = {}): TestContext<C> {
  const questions: InquiryQuestion[] = [];
  const sms: TestContext<C>["sms"] = [];
  const outgoing: OutgoingMessage[] = [];
  const logs: string[] = [];
  const log = (level: string) => (...a: unknown[]) => logs.push(`${level}: ${a.map(String).join(" ")}`);
  return {
    name,
    questions,
    sms,
    outgoing,
    logs,
    config,
    format,
    templates: createChannelTemplates(path.join(CHANNELS_DIR, name, "templates")),
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
      latinDigits,
    },
    async sendSms(to, text, lang, o = {}) {
      sms.push({ to, text, lang, ...(o.key !== undefined ? { key: o.key } : {}) });
      return `sms-${sms.length}`;
    },
    async queueOutgoing(m) {
      outgoing.push(m);
      return `out-${outgoing.length}`;
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

import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseApiKeys, type ApiKey } from "./api-keys.ts";
import { SecretsKeyring } from "./secrets-key.ts";
import { parseWindow, type DayWindow } from "../sms/sending-hours.ts";
import type { ChannelPlugin } from "../../channels/contract.ts";

/** The SMS templates Taqib ships (core/sms/templates), found from this file rather than the working directory. */
const SMS_TEMPLATES_DIR = fileURLToPath(new URL("../sms/templates", import.meta.url));

/** Service groups a node can run; `SERVICES` picks from these (default: all). */
export const KNOWN_SERVICES = ["api", "events", "directory", "notifier", "smpp", "followup", "agencies", "channels"] as const;

export type ServiceGroup = (typeof KNOWN_SERVICES)[number];

/**
 * Taqib's configuration, read once from the environment and validated.
 *
 * @example
 *   const config = loadConfig(process.env);
 *   config.port // 3000
 */
export interface Config {
  nodeId?: string;
  port: number;
  host: string;
  /** Unset: the embedded FerretDB is started under `dataDir`. */
  mongoUrl?: string;
  dataDir: string;
  /** Unset: one process, no broker server. */
  transporter?: string;
  /** Staff API keys and their scopes (`API_KEYS`). */
  apiKeys: ApiKey[];
  /** Unset: the embedded SMSC simulator. */
  smppUrl?: string;
  smsSender: string;
  smsMaxParts: number;
  digits: "latin" | "arabic";
  smppRatePerSecond: number;
  smppWindow: number;
  smppResponseTimeoutMs: number;
  smppEnquireLinkMs: number;
  smppBinds: number;
  smscPort: number;
  smscDlrDelayMs: number;
  smscFailureShare: number;
  smscMaxPerSecond: number;
  /** The embedded simulator prints message texts (local debugging only). */
  smscShowText: boolean;
  services: ServiceGroup[];
  /**
   * CHANNELS: the channel plugins this node enables, by name. Each plugin's own variables
   * (its secrets too) are declared by the plugin and read by channels/registry.ts, which
   * also checks these names against its list.
   */
  channels: string[];
  /** The plugins `channels` picks from; unset: channels/registry.ts's list (a test adds a fixture plugin). */
  channelPlugins?: readonly ChannelPlugin<any, any>[];
  defaultReplyPeriodDays: number;
  /** Staff SMS hours on working days (STAFF_SMS_HOURS) and the citizens' quiet window (CITIZEN_QUIET_HOURS, off when unset). */
  staffSmsHours?: DayWindow;
  citizenQuietHours?: DayWindow;
  /** STAFF_DIGEST_AT: the time of day (minutes after midnight, Riyadh) staff follow-up notices go as one digest per person; unset: each on its own. */
  staffDigestAt?: number;
  publicUrl?: string;
  /** Addresses or CIDR ranges of reverse proxies whose X-Forwarded-For names the client (rate limits by IP). */
  trustProxy?: string[];
  logLevel: "error" | "warn" | "info" | "debug";
  logFormat: "json" | "text";
  agendashPort?: number;
  /** The address the job dashboard listens on: loopback unless AGENDASH_HOST says otherwise. */
  agendashHost: string;
  /** The SMS templates (`<name>.<lang>.hbs`), TEMPLATES_DIR; default the ones beside their engine. */
  templatesDir: string;
  sweepIntervalMs: number;
  /** A message a dead worker left "sending" this long is sent again (at-least-once at a crash). */
  staleSendingMs: number;
  /** How long an Agenda job stays locked to a worker that stopped answering. */
  jobLockLifetimeMs: number;
  /** How often the scheduler looks for due jobs (those due before the next look are locked ahead and run on time). */
  jobProcessEveryMs: number;
  /** How long the scheduler lease lasts; a dead scheduler is replaced within about this long. */
  schedulerLeaseMs: number;
  metricsEnabled: boolean;
  /** Each node's own Prometheus port; unset: metrics only through the gateway's /metrics. */
  metricsPort?: number;
  /** The address METRICS_PORT listens on (a private one: the metrics need no key there). */
  metricsHost: string;
  inquiryRateLimit: number;
  inquiryRateWindowMs: number;
  /** Failed verifiers (all numbers, the whole cluster) per window before verifier checks slow down (a range that failed is not checked). */
  verifyFailureBudget: number;
  verifyFailureWindowMs: number;
  /** Failed verifiers one address range (IPv4 /24, IPv6 /48) may make per VERIFY_FAILURE_WINDOW_MS before its verifier checks pause. */
  verifyRangeFailureLimit: number;
  /** Encrypts agencies' signing secrets at rest; required with the agencies service on an external database. */
  secretsKey?: SecretsKeyring;
  /** Days a verified agency webhook delivery stays in the log. */
  webhookLogTtlDays: number;
  /** Refused (unsigned, badly signed) webhook requests one address may make per minute before 429. */
  webhookRefusalLimit: number;
  /** DEV_INSECURE=1: a channel whose secret is missing starts anyway, unchecked (development only). */
  devInsecure: boolean;
  /** The office the pages and kiosk name (OFFICE_*), so a citizen knows whom to call or visit. */
  office: { nameAr: string; nameEn: string; phone: string; hoursAr: string; hoursEn: string };
  /** The environment this was read from: the channel plugins' own variables are read from it. */
  env: Readonly<Env>;
}

/** A configuration value that is wrong; start-up stops with its message. */
export class ConfigError extends Error {
  constructor(public readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "ConfigError";
  }
}

export type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === "" ? undefined : v.trim();
}

function int(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return def;
  if (!/^-?\d+$/.test(raw)) throw new ConfigError(name, `expected a whole number, got "${raw}"`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** A span of the Riyadh day, `HH:MM-HH:MM`. */
function window(env: Env, name: string, def?: string): DayWindow | undefined {
  const raw = str(env, name) ?? def;
  if (raw === undefined) return undefined;
  return parseWindow(raw) ?? (() => { throw new ConfigError(name, `expected HH:MM-HH:MM (Riyadh time), got "${raw}"`); })();
}

/** `HH:MM` (Riyadh) as minutes after midnight. */
function timeOfDay(env: Env, name: string): number | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(raw.trim());
  if (!m) throw new ConfigError(name, `expected HH:MM (Riyadh time), got "${raw}"`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function num(env: Env, name: string, def: number, min: number, max: number): number {
  const raw = str(env, name);
  if (raw === undefined) return def;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new ConfigError(name, `expected a number, got "${raw}"`);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

function url(env: Env, name: string, protocols: string[]): string | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `not a valid URL: "${raw}"`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `expected a ${protocols.join(" or ")} URL, got "${parsed.protocol}"`);
  }
  return raw;
}

function list<T extends string>(env: Env, name: string, known: readonly T[], def: readonly T[]): T[] {
  const raw = str(env, name);
  if (raw === undefined) return [...def];
  const items = raw.split(",").map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    if (!known.includes(item as T)) throw new ConfigError(name, `unknown "${item}" (known: ${known.join(", ")})`);
  }
  return [...new Set(items)] as T[];
}

/** A comma-separated list of names, blanks and repeats dropped; checked by whoever owns the names. */
function names(env: Env, name: string, def: readonly string[]): string[] {
  const raw = str(env, name);
  if (raw === undefined) return [...def];
  return [...new Set(raw.split(",").map((s) => s.trim()).filter(Boolean))];
}

function oneOf<T extends string>(env: Env, name: string, values: readonly T[], def: T): T {
  const raw = str(env, name);
  if (raw === undefined) return def;
  if (!values.includes(raw as T)) throw new ConfigError(name, `expected one of ${values.join(", ")}, got "${raw}"`);
  return raw as T;
}

/** A list of IP addresses and CIDR ranges (`10.0.0.0/8`, `fd00::/8`). */
function proxies(env: Env, name: string): string[] {
  const items = (str(env, name) ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  for (const item of items) {
    const [addr, bits, extra] = item.split("/");
    const family = net.isIP(addr ?? "");
    const ok = family !== 0 && extra === undefined && (bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128)));
    if (!ok) throw new ConfigError(name, `not an IP address or CIDR range: "${item}"`);
  }
  return items;
}

function secretsKeyring(env: Env): SecretsKeyring | undefined {
  const raw = str(env, "SECRETS_KEY");
  if (raw === undefined) return undefined;
  try {
    return SecretsKeyring.parse(raw);
  } catch (err) {
    throw new ConfigError("SECRETS_KEY", (err as Error).message);
  }
}

/** Reads and validates the environment; throws ConfigError naming the variable. */
export function loadConfig(env: Env = process.env): Config {
  let apiKeys: ApiKey[];
  try {
    apiKeys = parseApiKeys(str(env, "API_KEYS"));
  } catch (err) {
    throw new ConfigError("API_KEYS", (err as Error).message);
  }
  const smsSender = str(env, "SMS_SENDER") ?? "74747";
  if (!/^(\d{1,15}|[A-Za-z0-9 .-]{1,11})$/.test(smsSender)) {
    throw new ConfigError("SMS_SENDER", "a short code or number of up to 15 digits, or up to 11 letters/digits");
  }
  const services = list(env, "SERVICES", KNOWN_SERVICES, KNOWN_SERVICES);
  const mongoUrl = url(env, "MONGO_URL", ["mongodb:", "mongodb+srv:"]);
  const secretsKey = secretsKeyring(env);
  // The embedded database makes its own key (core/platform/node.ts); a real one must be given the key.
  if (!secretsKey && mongoUrl && services.includes("agencies")) {
    throw new ConfigError("SECRETS_KEY", "is required by the agencies service: <keyId>:<base64 of 32 bytes>, e.g. k1:$(openssl rand -base64 32)");
  }
  const agendashPort = str(env, "AGENDASH_PORT") === undefined ? undefined : int(env, "AGENDASH_PORT", 0, 1, 65535);
  return {
    nodeId: str(env, "NODE_ID"),
    port: int(env, "PORT", 3000, 0, 65535),
    host: str(env, "HOST") ?? "0.0.0.0",
    mongoUrl,
    dataDir: path.resolve(str(env, "DATA_DIR") ?? "./data"),
    transporter: url(env, "TRANSPORTER", ["nats:"]),
    apiKeys,
    smppUrl: url(env, "SMPP_URL", ["smpp:"]),
    smsSender,
    smsMaxParts: int(env, "SMS_MAX_PARTS", 6, 1, 255),
    digits: oneOf(env, "DIGITS", ["latin", "arabic"] as const, "latin"),
    smppRatePerSecond: num(env, "SMPP_RATE", 50, 0.1, 10000),
    smppWindow: int(env, "SMPP_WINDOW", 10, 1, 1000),
    smppResponseTimeoutMs: int(env, "SMPP_RESPONSE_TIMEOUT_MS", 10000, 100, 600000),
    smppEnquireLinkMs: int(env, "SMPP_ENQUIRE_LINK_MS", 30000, 200, 3600000),
    smppBinds: int(env, "SMPP_BINDS", 1, 1, 64),
    smscPort: int(env, "SMSC_PORT", 0, 0, 65535),
    smscDlrDelayMs: int(env, "SMSC_DLR_DELAY_MS", 500, 0, 3600000),
    smscFailureShare: num(env, "SMSC_FAILURE_SHARE", 0, 0, 1),
    smscMaxPerSecond: int(env, "SMSC_MAX_PER_SECOND", 200, 1, 100000),
    smscShowText: oneOf(env, "SMSC_SHOW_TEXT", ["0", "1"] as const, "0") === "1",
    services,
    channels: names(env, "CHANNELS", ["web", "sms", "ivr", "kiosk"]),
    defaultReplyPeriodDays: int(env, "DEFAULT_REPLY_PERIOD_DAYS", 10, 1, 365),
    staffSmsHours: str(env, "STAFF_SMS_HOURS") === "always" ? undefined : window(env, "STAFF_SMS_HOURS", "07:30-15:30"),
    citizenQuietHours: window(env, "CITIZEN_QUIET_HOURS"),
    staffDigestAt: timeOfDay(env, "STAFF_DIGEST_AT"),
    publicUrl: url(env, "PUBLIC_URL", ["http:", "https:"]),
    trustProxy: proxies(env, "TRUST_PROXY"),
    logLevel: oneOf(env, "LOG_LEVEL", ["error", "warn", "info", "debug"] as const, "info"),
    logFormat: oneOf(env, "LOG_FORMAT", ["json", "text"] as const, "json"),
    agendashPort,
    agendashHost: str(env, "AGENDASH_HOST") ?? "127.0.0.1",
    templatesDir: path.resolve(str(env, "TEMPLATES_DIR") ?? SMS_TEMPLATES_DIR),
    sweepIntervalMs: int(env, "SWEEP_INTERVAL_MS", 5000, 100, 86400000),
    staleSendingMs: int(env, "STALE_SENDING_MS", 120000, 1000, 86400000),
    jobLockLifetimeMs: int(env, "JOB_LOCK_LIFETIME_MS", 60000, 1000, 3600000),
    jobProcessEveryMs: int(env, "JOB_PROCESS_EVERY_MS", 10000, 100, 600000),
    schedulerLeaseMs: int(env, "SCHEDULER_LEASE_MS", 10000, 500, 600000),
    metricsEnabled: oneOf(env, "METRICS", ["on", "off"] as const, "on") === "on",
    metricsPort: str(env, "METRICS_PORT") === undefined ? undefined : int(env, "METRICS_PORT", 3030, 1, 65535),
    metricsHost: str(env, "METRICS_HOST") ?? "127.0.0.1",
    inquiryRateLimit: int(env, "INQUIRY_RATE_LIMIT", 30, 1, 1000000),
    inquiryRateWindowMs: int(env, "INQUIRY_RATE_WINDOW_MS", 60000, 1000, 86400000),
    verifyFailureBudget: int(env, "VERIFY_FAILURE_BUDGET", 200, 1, 1000000),
    verifyFailureWindowMs: int(env, "VERIFY_FAILURE_WINDOW_MS", 600000, 1000, 86400000),
    verifyRangeFailureLimit: int(env, "VERIFY_RANGE_FAILURE_LIMIT", 30, 1, 1000000),
    secretsKey,
    webhookLogTtlDays: int(env, "WEBHOOK_LOG_TTL_DAYS", 90, 1, 3650),
    webhookRefusalLimit: int(env, "WEBHOOK_REFUSAL_LIMIT", 20, 1, 1000000),
    devInsecure: str(env, "DEV_INSECURE") === "1",
    office: {
      nameAr: str(env, "OFFICE_NAME_AR") ?? "الإمارة",
      nameEn: str(env, "OFFICE_NAME_EN") ?? "The Emirate",
      phone: str(env, "OFFICE_PHONE") ?? "920000000",
      hoursAr: str(env, "OFFICE_HOURS_AR") ?? "من الأحد إلى الخميس، من 7:30 صباحًا إلى 2:30 ظهرًا",
      hoursEn: str(env, "OFFICE_HOURS_EN") ?? "Sunday to Thursday, 7:30 am to 2:30 pm",
    },
    env: { ...env },
  };
}

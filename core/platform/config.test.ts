// The one config loader: its defaults, what it reads, and every refusal with the variable and
// message start-up stops with.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { ConfigError, KNOWN_SERVICES, loadConfig } from "./config.ts";

const KEY = `k1:${Buffer.alloc(32, 7).toString("base64")}`;

/** Asserts that `env` is refused naming `variable`, with `message`. */
function refused(env: Record<string, string>, variable: string, message: string | RegExp): void {
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.equal(err.variable, variable);
      if (typeof message === "string") assert.equal(err.message, `${variable}: ${message}`);
      else assert.match(err.message, message);
      return true;
    },
  );
}

describe("loadConfig: defaults", () => {
  it("an empty environment gives a working single-process node", () => {
    const c = loadConfig({});
    assert.partialDeepStrictEqual(c, {
      port: 3000, host: "0.0.0.0", dataDir: path.resolve("./data"), apiKeys: [],
      smsSender: "74747", smsMaxParts: 6, digits: "latin",
      smppRatePerSecond: 50, smppWindow: 10, smppResponseTimeoutMs: 10000, smppEnquireLinkMs: 30000, smppBinds: 1,
      smscPort: 0, smscDlrDelayMs: 500, smscFailureShare: 0, smscMaxPerSecond: 200, smscShowText: false,
      services: [...KNOWN_SERVICES], channels: ["web", "sms", "ivr", "kiosk"], defaultReplyPeriodDays: 10,
      staffSmsHours: { start: 450, end: 930 }, trustProxy: [], logLevel: "info", logFormat: "json",
      sweepIntervalMs: 5000, staleSendingMs: 120000, jobLockLifetimeMs: 60000, schedulerLeaseMs: 10000,
      metricsEnabled: true, metricsHost: "127.0.0.1", agendashHost: "127.0.0.1", inquiryRateLimit: 30, inquiryRateWindowMs: 60000,
      verifyFailureBudget: 200, verifyFailureWindowMs: 600000, verifyRangeFailureLimit: 30, webhookLogTtlDays: 90, webhookRefusalLimit: 20, devInsecure: false,
      office: { nameAr: "الإمارة", nameEn: "The Emirate", phone: "920000000", hoursAr: "من الأحد إلى الخميس، من 7:30 صباحًا إلى 2:30 ظهرًا", hoursEn: "Sunday to Thursday, 7:30 am to 2:30 pm" },
    });
    // Unset: the embedded database, SMSC and no broker server, no metrics port, no quiet window, no digest.
    for (const k of ["nodeId", "mongoUrl", "transporter", "smppUrl", "citizenQuietHours", "staffDigestAt", "publicUrl", "agendashPort", "metricsPort", "secretsKey"] as const) {
      assert.equal(c[k], undefined, k);
    }
    assert.equal(c.templatesDir, path.resolve(import.meta.dirname, "../sms/templates"));
  });

  it("blank values count as unset", () => {
    // `env` is the environment as given (the channel plugins read their own variables from it).
    const { env: _given, ...blank } = loadConfig({ PORT: "  ", SMS_SENDER: "", LOG_LEVEL: " " });
    const { env: _none, ...unset } = loadConfig({});
    assert.deepEqual(blank, unset);
  });
});

describe("loadConfig: what it reads", () => {
  it("values are trimmed and converted", () => {
    const c = loadConfig({
      NODE_ID: " n1 ", PORT: "8080", MONGO_URL: "mongodb://db:27017/taqib", SECRETS_KEY: KEY, TRANSPORTER: "nats://nats:4222",
      SMPP_URL: "smpp://u:p@smsc:2775", SMS_SENDER: "Emirate", SMPP_RATE: "2.5", SMSC_FAILURE_SHARE: "0.25", SMSC_SHOW_TEXT: "1", DIGITS: "arabic",
      SERVICES: "api, events,api", STAFF_SMS_HOURS: "08:00-14:00", CITIZEN_QUIET_HOURS: "22:00-07:00", STAFF_DIGEST_AT: "18:30",
      TRUST_PROXY: "10.0.0.0/8, 192.168.1.1, fd00::/8", PUBLIC_URL: "https://taqib.example", AGENDASH_PORT: "3100", AGENDASH_HOST: "10.1.2.3", METRICS: "off",
      METRICS_PORT: "9100", DEV_INSECURE: "1", DATA_DIR: "/var/taqib", TEMPLATES_DIR: "/etc/taqib/sms", OFFICE_PHONE: "0112345678",
    });
    assert.partialDeepStrictEqual(c, {
      nodeId: "n1", port: 8080, mongoUrl: "mongodb://db:27017/taqib", transporter: "nats://nats:4222", smppUrl: "smpp://u:p@smsc:2775",
      smsSender: "Emirate", smppRatePerSecond: 2.5, smscFailureShare: 0.25, smscShowText: true, digits: "arabic", services: ["api", "events"],
      staffSmsHours: { start: 480, end: 840 }, citizenQuietHours: { start: 1320, end: 420 }, staffDigestAt: 1110,
      trustProxy: ["10.0.0.0/8", "192.168.1.1", "fd00::/8"], publicUrl: "https://taqib.example", agendashPort: 3100, agendashHost: "10.1.2.3", metricsEnabled: false,
      metricsPort: 9100, devInsecure: true, dataDir: "/var/taqib", templatesDir: "/etc/taqib/sms", office: { phone: "0112345678" },
    });
    assert.deepEqual(c.secretsKey?.keyIds, ["k1"]);
  });

  it("STAFF_SMS_HOURS=always writes to staff at any time", () => {
    assert.equal(loadConfig({ STAFF_SMS_HOURS: "always" }).staffSmsHours, undefined);
  });

  it("an external database needs SECRETS_KEY only with the agencies service", () => {
    assert.equal(loadConfig({ MONGO_URL: "mongodb://db/taqib", SERVICES: "api,events" }).secretsKey, undefined);
  });

  it("API keys with their scopes", () => {
    const c = loadConfig({ API_KEYS: "k-0123456789abcdef=events:write" });
    assert.deepEqual(c.apiKeys.map((k) => [k.key, [...k.scopes]]), [["k-0123456789abcdef", ["events:write"]]]);
  });
});

describe("loadConfig: refusals", () => {
  const cases: Array<[env: Record<string, string>, variable: string, message: string | RegExp]> = [
    [{ API_KEYS: "short" }, "API_KEYS", "every key must be at least 16 characters"],
    [{ API_KEYS: "k-0123456789abcdef=fly" }, "API_KEYS", /^API_KEYS: unknown scope "fly"/],
    [{ SMS_SENDER: "Emirate of Riyadh" }, "SMS_SENDER", "a short code or number of up to 15 digits, or up to 11 letters/digits"],
    [{ SMS_SENDER: "1234567890123456" }, "SMS_SENDER", "a short code or number of up to 15 digits, or up to 11 letters/digits"],
    [{ SERVICES: "api,mail" }, "SERVICES", `unknown "mail" (known: ${KNOWN_SERVICES.join(", ")})`],
    [{ MONGO_URL: "db:27017" }, "MONGO_URL", 'expected a mongodb: or mongodb+srv: URL, got "db:"'],
    [{ MONGO_URL: "not a url" }, "MONGO_URL", 'not a valid URL: "not a url"'],
    [{ MONGO_URL: "mongodb://db/taqib" }, "SECRETS_KEY", "is required by the agencies service: <keyId>:<base64 of 32 bytes>, e.g. k1:$(openssl rand -base64 32)"],
    [{ SECRETS_KEY: "k1:c2hvcnQ=" }, "SECRETS_KEY", 'key "k1" is not 32 bytes of base64 (got 5 bytes); make one with: openssl rand -base64 32'],
    [{ SECRETS_KEY: `${KEY},${KEY}` }, "SECRETS_KEY", 'key id "k1" appears twice'],
    [{ TRANSPORTER: "redis://r:6379" }, "TRANSPORTER", 'expected a nats: URL, got "redis:"'],
    [{ SMPP_URL: "http://smsc" }, "SMPP_URL", 'expected a smpp: URL, got "http:"'],
    [{ PUBLIC_URL: "ftp://x" }, "PUBLIC_URL", 'expected a http: or https: URL, got "ftp:"'],
    [{ DIGITS: "hindi" }, "DIGITS", 'expected one of latin, arabic, got "hindi"'],
    [{ SMSC_SHOW_TEXT: "yes" }, "SMSC_SHOW_TEXT", 'expected one of 0, 1, got "yes"'],
    [{ LOG_LEVEL: "trace" }, "LOG_LEVEL", 'expected one of error, warn, info, debug, got "trace"'],
    [{ LOG_FORMAT: "xml" }, "LOG_FORMAT", 'expected one of json, text, got "xml"'],
    [{ METRICS: "yes" }, "METRICS", 'expected one of on, off, got "yes"'],
    [{ STAFF_SMS_HOURS: "8-14" }, "STAFF_SMS_HOURS", 'expected HH:MM-HH:MM (Riyadh time), got "8-14"'],
    [{ STAFF_SMS_HOURS: "08:00-08:00" }, "STAFF_SMS_HOURS", 'expected HH:MM-HH:MM (Riyadh time), got "08:00-08:00"'],
    [{ CITIZEN_QUIET_HOURS: "22:00" }, "CITIZEN_QUIET_HOURS", 'expected HH:MM-HH:MM (Riyadh time), got "22:00"'],
    [{ STAFF_DIGEST_AT: "24:00" }, "STAFF_DIGEST_AT", 'expected HH:MM (Riyadh time), got "24:00"'],
    [{ TRUST_PROXY: "10.0.0.0/33" }, "TRUST_PROXY", 'not an IP address or CIDR range: "10.0.0.0/33"'],
    [{ TRUST_PROXY: "proxy.local" }, "TRUST_PROXY", 'not an IP address or CIDR range: "proxy.local"'],
    [{ TRUST_PROXY: "10.0.0.1/8/1" }, "TRUST_PROXY", 'not an IP address or CIDR range: "10.0.0.1/8/1"'],
  ];
  for (const [env, variable, message] of cases) {
    it(`${variable}=${Object.values(env).at(-1)}`, () => refused(env, variable, message));
  }

  // Every whole-number setting: its bounds are accepted, one past them and fractions refused.
  const whole: Array<[name: string, min: number, max: number]> = [
    ["PORT", 0, 65535], ["SMS_MAX_PARTS", 1, 255], ["SMPP_WINDOW", 1, 1000], ["SMPP_RESPONSE_TIMEOUT_MS", 100, 600000],
    ["SMPP_ENQUIRE_LINK_MS", 200, 3600000], ["SMPP_BINDS", 1, 64], ["SMSC_PORT", 0, 65535], ["SMSC_DLR_DELAY_MS", 0, 3600000],
    ["SMSC_MAX_PER_SECOND", 1, 100000], ["DEFAULT_REPLY_PERIOD_DAYS", 1, 365], ["SWEEP_INTERVAL_MS", 100, 86400000],
    ["STALE_SENDING_MS", 1000, 86400000], ["JOB_LOCK_LIFETIME_MS", 1000, 3600000], ["SCHEDULER_LEASE_MS", 500, 600000],
    ["METRICS_PORT", 1, 65535], ["AGENDASH_PORT", 1, 65535], ["INQUIRY_RATE_LIMIT", 1, 1000000], ["INQUIRY_RATE_WINDOW_MS", 1000, 86400000],
    ["VERIFY_FAILURE_BUDGET", 1, 1000000], ["VERIFY_FAILURE_WINDOW_MS", 1000, 86400000], ["VERIFY_RANGE_FAILURE_LIMIT", 1, 1000000], ["WEBHOOK_LOG_TTL_DAYS", 1, 3650],
    ["WEBHOOK_REFUSAL_LIMIT", 1, 1000000],
  ];
  for (const [name, min, max] of whole) {
    it(`${name}: a whole number from ${min} to ${max}`, () => {
      assert.doesNotThrow(() => loadConfig({ [name]: String(min) }));
      assert.doesNotThrow(() => loadConfig({ [name]: String(max) }));
      refused({ [name]: String(min - 1) }, name, `must be between ${min} and ${max}, got ${min - 1}`);
      refused({ [name]: String(max + 1) }, name, `must be between ${min} and ${max}, got ${max + 1}`);
      refused({ [name]: "1.5" }, name, 'expected a whole number, got "1.5"');
      refused({ [name]: "ten" }, name, 'expected a whole number, got "ten"');
    });
  }

  const numbers: Array<[name: string, min: number, max: number, below: number, above: number]> = [
    ["SMPP_RATE", 0.1, 10000, 0.05, 10001],
    ["SMSC_FAILURE_SHARE", 0, 1, -0.1, 1.1],
  ];
  for (const [name, min, max, below, above] of numbers) {
    it(`${name}: a number from ${min} to ${max}`, () => {
      assert.doesNotThrow(() => loadConfig({ [name]: String(min) }));
      assert.doesNotThrow(() => loadConfig({ [name]: String(max) }));
      refused({ [name]: String(below) }, name, `must be between ${min} and ${max}, got ${below}`);
      refused({ [name]: String(above) }, name, `must be between ${min} and ${max}, got ${above}`);
      refused({ [name]: "fast" }, name, 'expected a number, got "fast"');
    });
  }
});

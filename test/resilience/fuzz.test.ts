// Property-based fuzzing (fast-check) of every public HTTP endpoint of a Taqib process:
// the events API, the directory PUTs, the agencies' reply webhook, the web inquiry (page and
// JSON), the IVR webhook, the kiosk and health, plus unknown routes. 2,400 requests with
// malformed bodies, headers, numbers and query strings, and at the edge: any method
// (PROPFIND, TRACE, …), Content-Encoding (corrupt gzip, unknown codings), charsets,
// Transfer-Encoding and huge or odd headers on every route. Always a 4xx (a 2xx only for a
// harmless GET or a correctly signed IVR call), never a 5xx, the process never dies, and
// nothing stored changes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import http from "node:http";
import zlib from "node:zlib";
import fc from "fast-check";
import { MongoClient } from "mongodb";
import { testDatabase, testSmsc, seedDirectory, api, eventually, sampleLifecycle, API_KEY } from "../support/harness.ts";
import { spawnTaqib, type TaqibProcess } from "../support/processes.ts";
import { validateEvent } from "../../core/events/contract.ts";
import { CODE, validateAgency, validateDepartment, validateEmployee } from "../../core/directory/contract.ts";
import { twilioSignature } from "../../channels/ivr/signature.ts";
import { report } from "./support.ts";

const TOKEN = "fuzz-twilio-auth-token";
const NUMBER = "1445071001";
/**
 * Written by the node's own timers, never by a request: claims and leases, and the receipts
 * the SMSC delivered before their submit was recorded (swept on their own schedule).
 * (webhook_deliveries is data: no fuzzed request is signed, so none may be logged.)
 */
const NOT_DATA = new Set(["claims", "leases", "receipts_pending"]);
// Counters a harmless request moves by design: an answered inquiry counts in the report's inquiries per channel.
const COUNTERS: Record<string, object> = { report_days: { kind: { $ne: "inquiries" } } };

let db: Awaited<ReturnType<typeof testDatabase>>;
let smsc: Awaited<ReturnType<typeof testSmsc>>;
let mongo: MongoClient;
let taqib: TaqibProcess;

before(async () => {
  db = await testDatabase();
  smsc = await testSmsc({ dlrDelayMs: 20 });
  mongo = await MongoClient.connect(db.url);
  taqib = await spawnTaqib("fuzz", {
    MONGO_URL: db.url,
    SMPP_URL: smsc.url,
    SERVICES: "api,events,directory,agencies,notifier,smpp,channels",
    CHANNELS: "web,ivr,kiosk",
    TWILIO_AUTH_TOKEN: TOKEN,
    // The fuzzer is one client asking a great deal: the enumeration limits would answer 429 to most.
    INQUIRY_RATE_LIMIT: "1000000",
    // Likewise for the brake on refused webhook requests: the fuzzer should reach the checks behind it.
    WEBHOOK_REFUSAL_LIMIT: "1000000",
  });
  await seedDirectory(taqib.url);
  assert.equal((await api(taqib.url, "POST", "/api/v1/agencies/MOI/secrets")).status, 201);
  assert.equal((await api(taqib.url, "POST", "/api/v1/events", sampleLifecycle(NUMBER).slice(0, 4))).status, 202);
  await eventually(async () => (await api(taqib.url, "GET", `/api/v1/messages?transactionNumber=${NUMBER}&status=delivered`)).body.messages?.length === 3, 30_000, "the lifecycle's SMS delivered");
});
after(async () => {
  await taqib?.kill();
  await mongo?.close();
  await smsc?.stop();
  await db?.remove();
});

/** Every stored document of every data collection, one string per collection. */
async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const names = (await mongo.db().listCollections().toArray()).map((c) => c.name).filter((n) => !NOT_DATA.has(n)).sort();
  for (const name of names) out[name] = JSON.stringify(await mongo.db().collection(name).find(COUNTERS[name] ?? {}).sort({ _id: 1 }).toArray());
  return out;
}

/** The collections whose documents differ between two snapshots. */
function changed(a: Record<string, string>, b: Record<string, string>): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((n) => a[n] !== b[n]).sort();
}

// ------------------------------------------------------------------ requests

type Req = { method: string; path: string; headers?: Record<string, string>; body?: string };
type Kind = "harmless" | "refused" | "signed";
const stats = new Map<string, { total: number; s2: number; s4: number; s5: number }>();

async function send(endpoint: string, req: Req): Promise<number> {
  let res: Response;
  try {
    res = await fetch(taqib.url + req.path, {
      method: req.method,
      headers: req.headers,
      body: req.body === undefined || req.method === "GET" || req.method === "HEAD" ? undefined : req.body,
      signal: AbortSignal.timeout(20_000),
    });
    await res.arrayBuffer();
  } catch (err) {
    // A request the client itself cannot build (fetch's own checks) is not a server's answer.
    if (err instanceof TypeError && !(err as { cause?: unknown }).cause) return -1;
    throw new Error(`${endpoint}: no answer to ${req.method} ${req.path.slice(0, 200)}: ${(err as Error).message} ${String((err as { cause?: unknown }).cause ?? "")}`);
  }
  const s = stats.get(endpoint) ?? { total: 0, s2: 0, s4: 0, s5: 0 };
  s.total++;
  if (res.status >= 500) s.s5++;
  else if (res.status >= 400) s.s4++;
  else s.s2++;
  stats.set(endpoint, s);
  return res.status;
}

/**
 * A request as sent by node:http, which lets through what fetch refuses (TRACE, bodies on
 * GET, Transfer-Encoding, Content-Encoding over arbitrary bytes). -1 when the client itself
 * cannot build it; 0 when the server closed the connection without an answer (Node's own
 * parser does for some malformed requests; the process must still be alive).
 */
async function sendRaw(endpoint: string, req: Req & { bytes?: Buffer }): Promise<number> {
  const url = new URL(taqib.url);
  let status: number;
  try {
    status = await new Promise<number>((resolve, reject) => {
      const r = http.request({ host: url.hostname, port: url.port, method: req.method, path: req.path, headers: req.headers, timeout: 20_000 }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", () => resolve(res.statusCode ?? 0));
      });
      r.on("timeout", () => r.destroy(new Error("timeout")));
      r.on("error", (err: NodeJS.ErrnoException) => (err.code === "ECONNRESET" || err.code === "EPIPE" ? resolve(0) : reject(err)));
      r.end(req.bytes ?? req.body);
    });
  } catch (err) {
    if (/^ERR_(INVALID|HTTP_INVALID|UNESCAPED)/.test((err as NodeJS.ErrnoException).code ?? "")) return -1;
    throw new Error(`${endpoint}: no answer to ${req.method} ${req.path.slice(0, 200)}: ${(err as Error).message}`);
  }
  if (status === 0) {
    closedWithoutAnswer++;
    return 0;
  }
  const s = stats.get(endpoint) ?? { total: 0, s2: 0, s4: 0, s5: 0 };
  s.total++;
  if (status >= 500) s.s5++;
  else if (status >= 400) s.s4++;
  else s.s2++;
  stats.set(endpoint, s);
  return status;
}
let closedWithoutAnswer = 0;

function check(endpoint: string, kind: Kind, status: number, req: Req): void {
  if (status === -1) return;
  const what = `${endpoint} ${req.method} ${req.path.slice(0, 300)} ${JSON.stringify(req.headers ?? {}).slice(0, 300)} ${(req.body ?? "").slice(0, 300)}`;
  assert.ok(status < 500, `5xx (${status}): ${what}`);
  if (kind === "refused") assert.ok(status >= 400, `not refused (${status}): ${what}`);
  if (kind === "signed") assert.ok(status === 200 || (status >= 400 && status < 500), `${status}: ${what}`);
}

/** The string with lone surrogates replaced by U+FFFD (String.prototype.toWellFormed, not in this tsconfig's lib). */
const wellFormed = (s: string) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");
const enc = (s: string) => encodeURIComponent(wellFormed(s));

// ------------------------------------------------------------------ arbitraries

/** Header values fetch can send (visible ASCII). */
const headerValue = fc.string({ unit: "grapheme-ascii", maxLength: 120 }).filter((s) => /^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$/.test(s) || s === "");

/** Malformed transaction numbers and mobiles: digits of three scripts, separators, signs, exponents, injections. */
const weirdNumber = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 30 }),
  fc.stringMatching(/^[0-9٠-٩۰-۹ \-/\\.+()]{0,30}$/),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt().map(String),
  fc.constantFrom("", " ", "0", "-1", "1e309", "NaN", "Infinity", "٠", "١٤٤٥/٠٠١٢٣", "05", "0555", "+966", "00966", "9665", "05512345678", "0".repeat(21), "9".repeat(500), "null", "[]", "{}", "%00", "\u0000", "<script>alert(1)</script>", "' OR 1=1 --", "$gt", '{"$ne":null}', "\u202e0551234567", "٠٥٥١٢٣٤٥٦٧٨"),
);
const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 3 }), weirdNumber, fc.constant(null), fc.constant(undefined));

function setPath(obj: any, path: string, value: unknown): any {
  const copy = structuredClone(obj);
  const keys = path.split(".");
  let o = copy;
  for (const k of keys.slice(0, -1)) {
    if (typeof o[k] !== "object" || o[k] === null) o[k] = {};
    o = o[k];
  }
  if (value === undefined) delete o[keys[keys.length - 1]!];
  else o[keys[keys.length - 1]!] = value;
  return copy;
}

/** The sample lifecycle's six events (every type) under fresh ids: bases to break. */
const bases = sampleLifecycle("1445079999", { prefix: "fuzz" });
const eventPaths = [
  "id", "type", "transactionNumber", "occurredAt", "data", "data.citizen", "data.citizen.mobile", "data.citizen.name", "data.citizen.language",
  "data.subject", "data.departmentCode", "data.employeeId", "data.outgoingNumber", "data.outgoingDate", "data.destination", "data.destination.agencyCode",
  "data.requiresReply", "data.replyNumber", "data.replyDate", "extra", "data.extra",
];
const brokenEvent = fc
  .record({ base: fc.constantFrom(...bases), edits: fc.array(fc.record({ path: fc.constantFrom(...eventPaths), value: anyValue }), { minLength: 1, maxLength: 3 }) })
  .map(({ base, edits }) => edits.reduce((e, { path, value }) => setPath(e, path, value), base as any));

/** True when the server would store it (a valid event, or a batch of valid events). */
function storable(wire: string): boolean {
  let body: unknown;
  try {
    body = JSON.parse(wire);
  } catch {
    return false;
  }
  if (Array.isArray(body)) return body.length > 0 && body.length <= 1000 && body.every((e) => validateEvent(e).event !== undefined);
  return validateEvent(body).event !== undefined;
}

const contentType = fc.oneof(
  { weight: 8, arbitrary: fc.constant("application/json") },
  { weight: 1, arbitrary: fc.constantFrom("text/plain", "application/x-www-form-urlencoded", "application/json; charset=utf-16", "application/json; charset=latin1", "multipart/form-data; boundary=x", "application/xml", "") },
  { weight: 1, arbitrary: headerValue },
);
const authorization = fc.oneof(
  { weight: 8, arbitrary: fc.constant(`Bearer ${API_KEY}`) },
  { weight: 1, arbitrary: fc.constantFrom("", "Bearer", "Bearer ", `bearer  ${API_KEY}x`, `Basic ${Buffer.from(`x:${API_KEY}`).toString("base64")}`, `Bearer ${API_KEY.slice(0, -1)}`) },
  { weight: 1, arbitrary: headerValue.map((v) => `Bearer ${v}`) },
);
const headersWith = (h: Record<string, string | undefined>) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== undefined)) as Record<string, string>;

const eventsRequest = fc
  .record({
    body: fc.oneof(
      { weight: 5, arbitrary: brokenEvent.map((e) => JSON.stringify(e)) },
      { weight: 2, arbitrary: fc.array(fc.oneof(brokenEvent, fc.constantFrom(...bases)), { minLength: 1, maxLength: 4 }).map((a) => JSON.stringify(a)) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? "null") },
      { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 200 }) },
      { weight: 1, arbitrary: fc.constantFrom("", "{", "[", "[]", "{}", "null", '{"__proto__":{"admin":true}}', '{"constructor":{"prototype":{"x":1}}}', JSON.stringify(Array.from({ length: 1001 }, () => bases[0]))) },
    ),
    contentType,
    authorization,
  })
  .filter((r) => !(r.authorization === `Bearer ${API_KEY}` && r.contentType === "application/json" && storable(r.body)));

const directoryBodies: Record<string, object> = {
  departments: { name: { ar: "إدارة", en: "Dept" }, manager: { name: "مدير", mobile: "0559990009" }, replyPeriodDays: 7 },
  employees: { name: "موظف", mobile: "0559990008", departmentCode: "LEGAL" },
  agencies: { name: { ar: "جهة", en: "Agency" } },
};
const directoryPaths = ["name", "name.ar", "name.en", "manager", "manager.mobile", "manager.name", "mobile", "departmentCode", "replyPeriodDays", "replyPeriodKind", "reminderEveryDays", "maxReminders", "escalation", "escalation.mobile", "extra"];
const validDirectory = (kind: string, body: unknown) =>
  kind === "departments" ? !!validateDepartment(body, 10).value : kind === "employees" ? !!validateEmployee(body).value : !!validateAgency(body).value;
const directoryRequest = fc
  .record({
    kind: fc.constantFrom("departments", "employees", "agencies"),
    code: fc.oneof(fc.constantFrom("LEGAL", "E100", "MOI", "NEW-1"), fc.string({ maxLength: 70 }), fc.string({ unit: "grapheme", maxLength: 20 })),
    edits: fc.array(fc.record({ path: fc.constantFrom(...directoryPaths), value: anyValue }), { minLength: 1, maxLength: 3 }),
    raw: fc.option(fc.oneof(fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"), fc.string({ maxLength: 100 })), { freq: 4 }),
    contentType,
    authorization,
  })
  .map((r) => ({ ...r, body: r.raw ?? JSON.stringify(r.edits.reduce((b, { path, value }) => setPath(b, path, value), directoryBodies[r.kind] as any)) }))
  .filter((r) => {
    if (r.authorization !== `Bearer ${API_KEY}` || r.contentType !== "application/json" || !CODE.test(r.code) || r.code === "." || r.code === "..") return true;
    try {
      return !validDirectory(r.kind, JSON.parse(r.body));
    } catch {
      return true;
    }
  });

const webhookRequest = fc.record({
  agency: fc.oneof(fc.constant("MOI"), fc.constant("NOPE"), fc.string({ maxLength: 70 })),
  id: fc.option(headerValue),
  timestamp: fc.option(fc.oneof(fc.constant(String(Math.floor(Date.now() / 1000))), fc.integer({ min: -1e9, max: 1e12 }).map(String), headerValue)),
  signature: fc.option(fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => `v1,${Buffer.from(b).toString("base64")}`), headerValue, fc.constantFrom("v1,", "v1", "v1a,abc", "v1,==", " v1,abc v2,def"))),
  body: fc.oneof(
    fc.constant(JSON.stringify({ outgoingNumber: `9${NUMBER}`, replyNumber: "R-1", replyDate: new Date().toISOString() })),
    fc.record({ outgoingNumber: weirdNumber, replyNumber: anyValue, replyDate: anyValue }).map((b) => JSON.stringify(b)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
    fc.string({ unit: "grapheme", maxLength: 200 }),
  ),
  contentType,
});

const inquiryKeys = ["number", "verifier", "lang", "kiosk", "idle", "page", "callback"];
const queryString = fc.oneof(
  fc.dictionary(fc.oneof(fc.constantFrom(...inquiryKeys), fc.string({ maxLength: 10 })), weirdNumber, { maxKeys: 5 }).map((d) =>
    Object.entries(d).map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&"),
  ),
  fc.constantFrom("number=%E0%A4%A", "number=%zz", "number=%", "number[]=1&number[]=2", "number=1&number=2", "lang=ar&lang=en", "kiosk=gate-1&number=%D9%A1%D9%A4", "=&&=", "%00=%00", "number=" + "9".repeat(5000)),
);
const inquiryRequest = fc.record({
  path: fc.constantFrom("/api/v1/inquiry", "/", "/kiosk", "/kiosk/answer"),
  // A kiosk asks with its id; most kiosk requests carry a valid one, so the number is what is fuzzed.
  query: fc.tuple(fc.constantFrom("kiosk=gate-1&", "kiosk=gate-1&", "kiosk=gate-1&", ""), queryString).map(([k, q]) => k + q),
  acceptLanguage: fc.option(headerValue),
  forwardedFor: fc.option(headerValue),
});

const ivrParams = fc.dictionary(
  fc.oneof(fc.constantFrom("Digits", "From", "Caller", "CallSid", "AccountSid", "To", "FinishedOnKey", "SpeechResult"), fc.string({ maxLength: 10 })),
  weirdNumber,
  { maxKeys: 6 },
);
const ivrRequest = fc.record({
  step: fc.constantFrom("/channels/ivr/voice", "/channels/ivr/number", "/channels/ivr/menu", "/channels/ivr/vxml/voice", "/channels/ivr/vxml/number", "/channels/ivr/vxml/menu"),
  method: fc.constantFrom("POST", "POST", "POST", "GET"),
  query: fc.oneof(fc.constant(""), fc.constantFrom("attempt=1", "attempt=99", "attempt=-1", "number=1445071001&attempt=2", "lang=en", "number=%zz", "attempt=1e3"), queryString),
  params: ivrParams,
  raw: fc.option(fc.string({ unit: "grapheme", maxLength: 200 }), { freq: 5 }),
  signature: fc.constantFrom("none", "random", "valid", "valid"),
  random: headerValue,
  contentType: fc.oneof({ weight: 6, arbitrary: fc.constant("application/x-www-form-urlencoded") }, { weight: 1, arbitrary: contentType }),
});

const otherRequest = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"),
  prefix: fc.constantFrom("/", "/api/", "/api/v1/", "/api/v2/", "/webhooks/", "/webhooks/agencies/MOI/", "/channels/", "/channels/ivr/", "/health/", "/kiosk/", "/metrics/", "/.."),
  rest: fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom("..", ".", "%2e%2e", "%2f", "events", "transactions", "secrets", "replies", "live")), { maxLength: 4 }),
  body: fc.option(fc.string({ maxLength: 100 })),
});

/** Every route of the process, with some of their neighbours. */
const edgePaths = [
  "/api/v1/events", "/api/v1/departments/LEGAL", "/api/v1/messages", "/api/v1/agencies/MOI/secrets", "/api/v1/inquiry?number=1445071001", "/",
  "/kiosk", "/kiosk/answer?kiosk=gate-1&number=1", "/webhooks/agencies/MOI/replies", "/channels/ivr/number", "/channels/ivr/vxml/voice",
  "/health/live", "/health/ready", "/metrics", "/METRICS", "/Api/V1/Events", "/nowhere", "/api/v1/events/", "//api//v1",
];
const edgeRequest = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "PROPFIND", "TRACE", "MKCOL", "LOCK", "PURGE", "SEARCH", "REPORT", "COPY", "MOVE"),
  path: fc.constantFrom(...edgePaths),
  encoding: fc.option(fc.oneof(fc.constantFrom("gzip", "deflate", "br", "zstd", "identity", "gzip, gzip", "GZIP", "x-gzip", "compress", "chunked", "*", ""), headerValue), { freq: 2 }),
  contentType: fc.option(
    fc.oneof(
      fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded"),
      fc.constantFrom("utf-8", "utf-16", "utf-16le", "utf-7", "latin1", "iso-8859-6", "windows-1256", "ucs-2", "x-unknown", "", '"utf-8"', "utf-8; x=y").map((c) => `application/json; charset=${c}`),
      fc.constantFrom("text/plain; charset=utf-16", "application/x-www-form-urlencoded; charset=x-unknown", "multipart/form-data", "application/json; charset"),
      headerValue,
    ),
    { freq: 3 },
  ),
  chunked: fc.boolean(),
  odd: fc.option(
    fc.constantFrom<Record<string, string>>(
      // Lengths that are invalid or shorter than the body (a longer one only makes the server wait).
      { "content-length": "0" },
      { "content-length": "-1" },
      { "content-length": "1e3" },
      { "content-length": "0x10" },
      { expect: "100-continue" },
      { "x-forwarded-for": "1.2.3.4, ::1, not-an-ip" },
      { "x-forwarded-for": "a".repeat(8000) },
      { "x-big": "b".repeat(20_000) },
      { "accept-language": "ar;q=x, *;q=-1" },
      { host: "evil.example" },
      { "x-request-id": "x".repeat(1000) },
      { authorization: "Bearer " + "k".repeat(4000) },
    ),
    { freq: 3 },
  ),
  body: fc.oneof(
    fc.constant(undefined),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
    fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v) ?? "null")),
    fc.jsonValue({ maxDepth: 2 }).map((v) => zlib.gzipSync(JSON.stringify(v) ?? "null")),
    fc.jsonValue({ maxDepth: 2 }).map((v) => zlib.gzipSync(JSON.stringify(v) ?? "null").subarray(0, 15)),
    fc.jsonValue({ maxDepth: 2 }).map((v) => zlib.brotliCompressSync(JSON.stringify(v) ?? "null")),
    fc.constant(zlib.gzipSync(Buffer.alloc(5_000_000))), // a small bomb: 5 MB of zeros in 5 kB
  ),
});

// ------------------------------------------------------------------ the properties

const SCALE = Number(process.env.FUZZ_SCALE ?? 1); // more runs for a hunt: FUZZ_SCALE=10
const RUNS = Object.fromEntries(
  Object.entries({ events: 600, directory: 300, webhook: 250, inquiry: 300, ivr: 300, health: 100, other: 150, edge: 400 }).map(([k, v]) => [k, Math.round(v * SCALE)]),
) as Record<"events" | "directory" | "webhook" | "inquiry" | "ivr" | "health" | "other" | "edge", number>;
const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

test(`fuzzing every public endpoint: 2,400 malformed requests, methods, encodings and headers, never a 5xx, nothing stored changed (seed ${seed})`, async () => {
  const before = await snapshot();
  // The snapshot is stable when nothing is asked (no timer writes to the data).
  await new Promise((r) => setTimeout(r, 1500));
  assert.deepEqual(changed(await snapshot(), before), [], "the stored data moves by itself: the snapshot cannot be compared");
  const smsBefore = smsc.received.length;
  const opts = (numRuns: number) => ({ numRuns, seed, endOnFailure: true });
  const t0 = Date.now();

  await fc.assert(
    fc.asyncProperty(eventsRequest, async (r) => {
      const req = { method: "POST", path: "/api/v1/events", headers: headersWith({ authorization: r.authorization, "content-type": r.contentType }), body: r.body };
      check("events", "refused", await send("events", req), req);
    }),
    opts(RUNS.events),
  );
  await fc.assert(
    fc.asyncProperty(directoryRequest, async (r) => {
      const req = { method: "PUT", path: `/api/v1/${r.kind}/${enc(r.code)}`, headers: headersWith({ authorization: r.authorization, "content-type": r.contentType }), body: r.body };
      check("directory PUT", "refused", await send("directory PUT", req), req);
      const get = { method: "GET", path: `/api/v1/${r.kind}/${enc(r.code)}`, headers: headersWith({ authorization: r.authorization }) };
      check("directory GET", "harmless", await send("directory GET", get), get);
    }),
    opts(RUNS.directory / 2),
  );
  await fc.assert(
    fc.asyncProperty(webhookRequest, async (r) => {
      const req = {
        method: "POST",
        path: `/webhooks/agencies/${enc(r.agency)}/replies`,
        headers: headersWith({ "content-type": r.contentType, "webhook-id": r.id ?? undefined, "webhook-timestamp": r.timestamp ?? undefined, "webhook-signature": r.signature ?? undefined }),
        body: r.body,
      };
      check("agency webhook", "refused", await send("agency webhook", req), req);
    }),
    opts(RUNS.webhook),
  );
  await fc.assert(
    fc.asyncProperty(inquiryRequest, async (r) => {
      const req = { method: "GET", path: `${r.path}?${r.query}`, headers: headersWith({ "accept-language": r.acceptLanguage ?? undefined, "x-forwarded-for": r.forwardedFor ?? undefined }) };
      const endpoint = r.path.startsWith("/kiosk") ? "kiosk" : "web inquiry";
      check(endpoint, "harmless", await send(endpoint, req), req);
    }),
    opts(RUNS.inquiry),
  );
  await fc.assert(
    fc.asyncProperty(ivrRequest, async (r) => {
      const path = r.query ? `${r.step}?${r.query}` : r.step;
      const form = new URLSearchParams(Object.entries(r.params).map(([k, v]): [string, string] => [wellFormed(k), wellFormed(v)]));
      const body = r.method === "POST" ? (r.raw ?? form.toString()) : undefined;
      // Signed as Twilio signs: the URL the node sees, and the form parameters it will parse.
      const signedParams = r.method === "POST" && r.raw === null && /urlencoded/.test(r.contentType) ? Object.fromEntries(new URLSearchParams(form.toString())) : {};
      const signature = r.signature === "none" ? undefined : r.signature === "random" ? r.random : twilioSignature(TOKEN, taqib.url + path, signedParams);
      const req = { method: r.method, path, headers: headersWith({ "content-type": r.contentType, "x-twilio-signature": signature }), body };
      // Signed with the real token (over what we meant to send): answered or refused, never a 5xx.
      // Unsigned or randomly signed: refused. (Tampering after signing is forgery.test.ts's.)
      check("IVR webhook", r.signature === "valid" ? "signed" : "refused", await send("IVR webhook", req), req);
    }),
    opts(RUNS.ivr),
  );
  await fc.assert(
    fc.asyncProperty(fc.constantFrom("/health/live", "/health/ready"), queryString, headerValue, async (p, q, h) => {
      const req = { method: "GET", path: `${p}?${q}`, headers: { "x-request-id": h, authorization: h } };
      const status = await send("health", req);
      assert.equal(status, 200, `${p}?${q}`);
    }),
    opts(RUNS.health),
  );
  await fc.assert(
    fc.asyncProperty(otherRequest, async (r) => {
      const req = { method: r.method, path: r.prefix + r.rest.map((s) => (/%|^\.\.?$/.test(s) ? s : enc(s))).join("/"), body: r.body ?? undefined };
      check("unknown routes", ["GET", "HEAD", "OPTIONS"].includes(r.method) ? "harmless" : "refused", await send("unknown routes", req), req);
    }),
    opts(RUNS.other),
  );
  // The edge: no API key is sent, so nothing can be stored; whatever the method, coding or header, never a 5xx.
  await fc.assert(
    fc.asyncProperty(edgeRequest, async (r) => {
      const headers = headersWith({ "content-encoding": r.encoding ?? undefined, "content-type": r.contentType ?? undefined, "transfer-encoding": r.chunked && r.body ? "chunked" : undefined, ...(r.odd ?? {}) });
      const req = { method: r.method, path: r.path, headers, bytes: r.body };
      check("edge (methods, codings, headers)", "harmless", await sendRaw("edge (methods, codings, headers)", req), { ...req, body: r.body?.subarray(0, 100).toString("hex") });
    }),
    opts(RUNS.edge),
  );

  const ms = Date.now() - t0;
  const total = [...stats.values()].reduce((s, x) => s + x.total, 0);
  const sum = (k: "s2" | "s4" | "s5") => [...stats.values()].reduce((s, x) => s + x[k], 0);
  for (const [endpoint, s] of stats) console.log(`#   ${endpoint}: ${s.total} requests, 2xx ${s.s2}, 4xx ${s.s4}, 5xx ${s.s5}`);
  console.log(`#   connections closed by the HTTP parser without an answer: ${closedWithoutAnswer}`);
  // Alive and unchanged.
  assert.equal(taqib.child.exitCode, null, "the Taqib process is still running");
  assert.equal((await fetch(`${taqib.url}/health/live`)).status, 200);
  await new Promise((r) => setTimeout(r, 1000));
  const after = await snapshot();
  const sent = smsc.received.length - smsBefore;
  report(
    "fuzzing every public endpoint",
    { accepted: 0, expected: 0, sent, duplicated: 0, lost: 0 },
    `${total} requests in ${Math.round(ms / 1000)} s (seed ${seed}): 2xx ${sum("s2")} (harmless GETs, signed IVR calls), 4xx ${sum("s4")}, 5xx ${sum("s5")}; process alive; stored data ${changed(before, after).length ? `CHANGED in ${changed(before, after).join(", ")}` : "unchanged"}`,
  );
  assert.equal(sum("s5"), 0);
  assert.ok(total >= 2250 * SCALE, `${total} requests sent`);
  assert.deepEqual(changed(before, after), [], "nothing stored changed");
  assert.equal(sent, 0, "no SMS sent");
});

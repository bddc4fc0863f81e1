// The HTTP edge against strangers and over-privileged keys: scoped API keys, /metrics,
// body decoding errors, rate-limit identities (IPv6 /64, proxies) and the budget of failed
// verifiers. Real nodes, real HTTP.
import { test } from "node:test";
import assert from "node:assert/strict";
import net from "node:net";
import os from "node:os";
import zlib from "node:zlib";
import { API_KEY, api, eventually, freePort, http as call, rawRequest, sampleLifecycle, smsNode } from "../support/harness.ts";
import { spawnTaqib } from "../support/processes.ts";

const EVENTS_KEY = "events-key-0123456789abcdef";
const ADMIN_KEY = "admin-key-0123456789abcdef";
const METRICS_KEY = "metrics-key-0123456789abcdef";
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

const world = smsNode({
  env: {
    API_KEYS: `${API_KEY},${EVENTS_KEY}=events:write,${ADMIN_KEY}=directory:admin+messages:read,${METRICS_KEY}=metrics:read`,
    // The test client is the "proxy": its X-Forwarded-For names the client.
    TRUST_PROXY: "127.0.0.0/8",
    INQUIRY_RATE_LIMIT: "3",
    VERIFY_FAILURE_BUDGET: "5",
    VERIFY_RANGE_FAILURE_LIMIT: "3",
    CHANNELS: "web,ivr",
    TWILIO_AUTH_TOKEN: "edge-test-twilio-token",
  },
});

test("API keys have scopes: a key without the scope gets 403 FORBIDDEN_SCOPE naming it", async () => {
  const { node } = world;
  const events = sampleLifecycle("1445090001", { prefix: "scopes" }).slice(0, 1);
  const cases: Array<[string, string, string, unknown, number, string?]> = [
    [ADMIN_KEY, "POST", "/api/v1/events", events, 403, "events:write"],
    [EVENTS_KEY, "PUT", "/api/v1/agencies/EVIL", { name: { ar: "جهة", en: "Evil" } }, 403, "directory:admin"],
    [EVENTS_KEY, "POST", "/api/v1/agencies/MOI/secrets", undefined, 403, "directory:admin"],
    [EVENTS_KEY, "GET", "/api/v1/messages", undefined, 403, "messages:read"],
    [METRICS_KEY, "GET", "/api/v1/transactions/1445090001", undefined, 403, "messages:read"],
    [METRICS_KEY, "POST", "/api/v1/followup/sweep", undefined, 403, "directory:admin"],
    ["not-a-key-0123456789abcdef", "GET", "/api/v1/messages", undefined, 401],
    [EVENTS_KEY, "POST", "/api/v1/events", events, 202],
    [ADMIN_KEY, "GET", "/api/v1/messages", undefined, 200],
    [ADMIN_KEY, "GET", "/api/v1/departments/LEGAL", undefined, 200],
  ];
  for (const [key, method, path, body, status, scope] of cases) {
    const res = await call(node.url, method, path, body, bearer(key));
    assert.equal(res.status, status, `${method} ${path} with ${key.split("-")[0]}: ${res.text.slice(0, 200)}`);
    if (status === 403) {
      assert.equal(res.body.error.code, "FORBIDDEN_SCOPE");
      assert.match(res.body.error.message, new RegExp(scope!));
    }
  }
  // Refused requests did nothing.
  assert.equal((await api(node.url, "GET", "/api/v1/agencies/EVIL")).status, 404);
});

test("/metrics needs a metrics:read key, its case is no way round, and it shows nothing of the host", async () => {
  const { node } = world;
  assert.equal((await call(node.url, "GET", "/metrics")).status, 401);
  const forbidden = await call(node.url, "GET", "/metrics", undefined, bearer(EVENTS_KEY));
  assert.equal(forbidden.status, 403);
  assert.match(forbidden.body.error.message, /metrics:read/);
  // Another spelling reaches no route (a proxy's rule on /metrics cannot be stepped around).
  for (const path of ["/METRICS", "/Metrics", "/metrics/", "/API/V1/MESSAGES", "/Health/Live"]) {
    const res = await call(node.url, "GET", path);
    assert.ok(res.status === 404 || res.status === 401, `${path}: ${res.status} ${res.text.slice(0, 100)}`);
    assert.doesNotMatch(res.text, /taqib_|process_/, path);
  }
  const m = await call(node.url, "GET", "/metrics", undefined, bearer(METRICS_KEY));
  assert.equal(m.status, 200);
  assert.match(m.text, /^taqib_events_ingested/m);
  for (const name of ["os_network_address", "os_network_mac", "os_hostname", "os_user_", "process_arguments", "process_pid", "os_cpu_info_model", "process_versions"]) {
    assert.doesNotMatch(m.text, new RegExp(`^${name}`, "m"), `${name} is not exported`);
  }
  const addresses = Object.values(os.networkInterfaces()).flat().filter((i) => i && !i.internal);
  for (const i of addresses) {
    assert.ok(!m.text.includes(`"${i!.address}"`), `no interface address ${i!.address}`);
    assert.ok(!m.text.includes(i!.mac), `no MAC ${i!.mac}`);
  }
  assert.ok(!m.text.includes(os.homedir()), "no home directory");
  assert.ok(!m.text.includes(process.cwd()), "no paths");
});

test("a broken Content-Encoding or charset is a 4xx with the error shape on every route", async () => {
  const { node } = world;
  const routes: Array<[string, string, Record<string, string>]> = [
    ["POST", "/api/v1/inquiry?number=1", {}],
    ["POST", "/api/v1/events", bearer(API_KEY)],
    ["PUT", "/api/v1/agencies/MOI", bearer(API_KEY)],
    ["POST", "/webhooks/agencies/MOI/replies", {}],
    ["POST", "/channels/ivr/number", {}],
    ["POST", "/no/such/route", {}],
    ["PROPFIND", "/", {}],
  ];
  const bodies: Array<[Record<string, string>, Buffer | string, number, string]> = [
    [{ "content-encoding": "gzip", "content-type": "application/json" }, "xx", 400, "INVALID_BODY"],
    [{ "content-encoding": "deflate", "content-type": "application/json" }, "xx", 400, "INVALID_BODY"],
    [{ "content-encoding": "br", "content-type": "application/json" }, "xx", 400, "INVALID_BODY"],
    [{ "content-encoding": "gzip", "content-type": "application/json" }, zlib.gzipSync(Buffer.from("{}")).subarray(0, 12), 400, "INVALID_BODY"],
    [{ "content-encoding": "x-unknown", "content-type": "application/json" }, "{}", 415, "UNSUPPORTED_ENCODING"],
    [{ "content-type": "application/json; charset=x-unknown" }, "{}", 415, "UNSUPPORTED_CHARSET"],
  ];
  for (const [method, path, auth] of routes) {
    for (const [headers, body, status, code] of bodies) {
      const res = await rawRequest(node.url, method, path, { ...auth, ...headers }, body);
      const what = `${method} ${path} ${JSON.stringify(headers)}: ${res.status} ${res.text.slice(0, 200)}`;
      assert.equal(res.status, status, what);
      assert.equal(res.json?.error?.code, code, what);
      assert.equal(typeof res.json.error.message, "string", what);
      assert.equal(typeof res.json.error.messageAr, "string", what);
    }
  }
  // A well-formed compressed body is still read.
  const events = sampleLifecycle("1445090002", { prefix: "gzip" }).slice(0, 1);
  const ok = await rawRequest(node.url, "POST", "/api/v1/events", { ...bearer(API_KEY), "content-type": "application/json", "content-encoding": "gzip" }, zlib.gzipSync(JSON.stringify(events)));
  assert.equal(ok.status, 202, ok.text);
});

test("IPv6 clients are limited by their /64, behind a trusted proxy given as a CIDR range", async () => {
  const { node } = world;
  const ask = (xff: string) => call(node.url, "GET", "/api/v1/inquiry?number=1445099999", undefined, { "x-forwarded-for": xff });
  // Four addresses of one /64: one client, three inquiries per window.
  const statuses = [];
  for (const a of ["2001:db8:77:1::1", "2001:db8:77:1::2", "2001:db8:77:1:abcd::1", "2001:db8:77:1:ffff:ffff:ffff:ffff"]) statuses.push((await ask(a)).status);
  assert.deepEqual(statuses, [404, 404, 404, 429]);
  // Another /64 is another client.
  assert.equal((await ask("2001:db8:77:2::1")).status, 404);
  // The proxy itself is not the client: another IPv4 client has its own bucket.
  assert.equal((await ask("198.51.100.7")).status, 404);
});

test("mass guessing across numbers: a guessing range is refused, a spent budget slows guessing but the owner's right verifier from a clean address still answers, with an alert metric", async () => {
  const { node } = world;
  const numbers = ["1445091001", "1445091002", "1445091003"];
  const events = numbers.flatMap((n) => sampleLifecycle(n, { prefix: `guess${n}`, mobile: "0551234567" }).slice(0, 3));
  assert.equal((await api(node.url, "POST", "/api/v1/events", events)).status, 202);
  const ask = (number: string, verifier: string, from: string) =>
    call(node.url, "GET", `/api/v1/inquiry?number=${number}&verifier=${verifier}`, undefined, { "x-forwarded-for": from });
  await eventually(async () => (await ask(numbers[2]!, "", "198.51.100.200")).status === 200, 20_000, "the transactions stored");
  // Three wrong guesses from three addresses of one /24 (below every per-number and per-address limit).
  for (let i = 0; i < 3; i++) {
    const res = await ask(numbers[i % 2]!, String(1000 + i), `203.0.113.${i + 1}`);
    assert.equal(res.body.verification, "mismatch", res.text);
  }
  // VERIFY_RANGE_FAILURE_LIMIT reached: the /24's next address is not checked, even with the right verifier.
  const fromRange = await ask(numbers[0]!, "4567", "203.0.113.4");
  assert.equal(fromRange.body.verification, "locked", fromRange.text);
  assert.equal(fromRange.body.details, undefined);
  // Two more wrong guesses from a second /24 spend the budget of five.
  for (let i = 0; i < 2; i++) assert.equal((await ask(numbers[i % 2]!, String(2000 + i), `198.18.0.${i + 1}`)).body.verification, "mismatch");
  // Slowed: a range that failed within the window is not checked, a clean one is, once.
  assert.equal((await ask(numbers[1]!, "2002", "198.18.0.3")).body.verification, "locked");
  assert.equal((await ask(numbers[1]!, "3000", "198.18.7.1")).body.verification, "mismatch");
  assert.equal((await ask(numbers[0]!, "3001", "198.18.7.2")).body.verification, "locked");
  // The owner of a third number, with the right verifier, from a fresh address: the transaction with its details.
  const owner = await ask(numbers[2]!, "4567", "192.0.2.77");
  assert.equal(owner.status, 200, owner.text);
  assert.equal(owner.body.verification, "matched", owner.text);
  assert.equal(owner.body.proof, "verifier", owner.text);
  assert.ok(owner.body.details, owner.text);
  const text = await eventually(async () => {
    const t = (await call(node.url, "GET", "/metrics", undefined, bearer(METRICS_KEY))).text;
    return /^taqib_verify_budget_exhausted\{[^}]*\} 1$/m.test(t) && t;
  }, 20_000, "the budget gauge at 1");
  const failures = Number(/^taqib_verify_failures\{[^}]*\} (\d+)/m.exec(text)?.[1]);
  assert.equal(failures, 6);
});

test("X-Forwarded-For from a peer not in TRUST_PROXY is logged once; METRICS_PORT listens on a private address only", async () => {
  const metricsPort = await freePort();
  const node = await spawnTaqib("edge-untrusted", { MONGO_URL: world.db.url, SERVICES: "api,channels", CHANNELS: "web", LOG_LEVEL: "warn", METRICS_PORT: String(metricsPort) });
  try {
    for (let i = 0; i < 3; i++) await call(node.url, "GET", "/api/v1/inquiry?number=1445099998", undefined, { "x-forwarded-for": `198.51.100.${i}` });
    const warnings = await eventually(async () => {
      const lines = node.output.filter((l) => /not in TRUST_PROXY/.test(l));
      return lines.length ? lines : undefined;
    }, 10_000, "the warning");
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(node.output.filter((l) => /not in TRUST_PROXY/.test(l)).length, 1, warnings.join("\n"));
    // Loopback answers; the host's other addresses do not (METRICS_HOST defaults to 127.0.0.1).
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).status, 200);
    const external = Object.values(os.networkInterfaces()).flat().find((i) => i && !i.internal && i.family === "IPv4");
    if (external) {
      const reachable = await new Promise<boolean>((resolve) => {
        const s = net.connect(metricsPort, external.address);
        s.once("connect", () => (s.destroy(), resolve(true)));
        s.once("error", () => resolve(false));
      });
      assert.equal(reachable, false, `METRICS_PORT answers on ${external.address}`);
    }
  } finally {
    await node.kill();
  }
});

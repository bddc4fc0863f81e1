// What a node tells the other nodes of the cluster: its services and a little metadata,
// never its configuration (API keys, tokens, the SMPP password, SECRETS_KEY); what one node
// changes that others cache (a failed-verifier budget, a revoked API key) reaches them at once.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { ServiceBroker } from "moleculer";
import { API_KEY, SECRETS_KEY, api, eventually, http, sampleLifecycle } from "../support/harness.ts";
import { createHash } from "node:crypto";
import { natsCluster } from "../support/processes.ts";
import { consolePost, consoleSignIn } from "../support/console.ts";
import { connectDatabase, disconnectDatabase } from "../../core/store/db.ts";
import { putStaffUser } from "../../core/console/accounts.ts";
import { StoredApiKeyModel } from "../../core/platform/models.ts";
import { STORED_KEYS_TTL_MS } from "../../core/platform/stored-api-keys.ts";

const cluster = natsCluster();
const STAFF_PASSWORD = "cluster-pass-0123";

test("a node's INFO over NATS carries none of its secrets", async () => {
  const secrets = { TWILIO_AUTH_TOKEN: "twilio-token-that-must-not-travel", SMS_SENDER: "74747" };
  const node = await cluster.spawn("gateway", { SERVICES: "api,events,directory,agencies,channels", CHANNELS: "web,ivr", ...secrets });
  // A bare broker on the same NATS sees what every node of the cluster sees.
  const listener = new ServiceBroker({ namespace: "taqib", nodeID: "listener", transporter: { type: "NATS", options: { url: cluster.nats.url } }, logger: false });
  await listener.start();
  try {
    const info = await eventually(async () => listener.registry.nodes.toArray().find((n: any) => n.id === "gateway"), 20000, "the gateway's INFO");
    const seen = JSON.stringify({ metadata: (info as any).metadata, rawInfo: (info as any).rawInfo });
    for (const [what, value] of [["API key", API_KEY], ["TWILIO_AUTH_TOKEN", secrets.TWILIO_AUTH_TOKEN], ["SECRETS_KEY", SECRETS_KEY.split(":")[1]!], ["SMPP URL", cluster.smsc.url], ["MONGO_URL", cluster.db.url]] as const) {
      assert.ok(!seen.includes(value), `the ${what} travels in the node's INFO`);
    }
  } finally {
    await listener.stop();
    await node.kill();
  }
});

test("the budget of failed verifiers is shared over NATS: wrong guesses on one node slow verifier checks on another, the owner still answered", async () => {
  const env = { SERVICES: "api,events,directory,channels", CHANNELS: "web", VERIFY_FAILURE_BUDGET: "4", TRUST_PROXY: "127.0.0.0/8" };
  const [a, b] = await Promise.all([cluster.spawn("budget-a", env), cluster.spawn("budget-b", env)]);
  try {
    const numbers = ["1445092001", "1445092002"];
    const events = numbers.flatMap((n) => sampleLifecycle(n, { prefix: `share${n}`, mobile: "0551234567" }).slice(0, 3));
    assert.equal((await api(a.url, "POST", "/api/v1/events", events)).status, 202);
    const ask = (url: string, number: string, verifier: string, from: string) =>
      http(url, "GET", `/api/v1/inquiry?number=${number}&verifier=${verifier}`, undefined, { "x-forwarded-for": from });
    await eventually(async () => (await ask(b.url, numbers[1]!, "", "198.51.100.9")).status === 200, 20_000, "the transactions stored");
    // One wrong guess on node B from 198.18.0.0/24: below the budget, the range is still checked there.
    assert.equal((await ask(b.url, numbers[1]!, "1999", "198.18.0.1")).body.verification, "mismatch");
    assert.equal((await ask(b.url, numbers[1]!, "4567", "198.18.0.2")).body.verification, "matched");
    // Three wrong guesses on node A, from three addresses: the cluster's count reaches the budget of four.
    for (let i = 0; i < 3; i++) assert.equal((await ask(a.url, numbers[0]!, String(1000 + i), `203.0.113.${i + 1}`)).body.verification, "mismatch");
    // Within a few announcements node B slows down: the range that failed there is not checked any more
    // (a fresh address of it each time, so that no address runs out of its own rate limit).
    let k = 10;
    const slowed = await eventually(async () => {
      const r = await ask(b.url, numbers[1]!, "4567", `198.18.0.${k++}`);
      return r.body.verification === "locked" && r.body;
    }, 20_000, "node B slowed by node A's failures");
    assert.equal(slowed.details, undefined);
    // The owner, from a clean address, still gets the details.
    const owner = await ask(b.url, numbers[1]!, "4567", "192.0.2.77");
    assert.equal(owner.body.verification, "matched", owner.text);
    assert.ok(owner.body.details, owner.text);
  } finally {
    await Promise.all([a.kill(), b.kill()]);
  }
});

test("an API key revoked in the console on one node is refused on another at once, not after its 30 s cache", async () => {
  await connectDatabase(cluster.db.url);
  after(() => disconnectDatabase());
  await putStaffUser({ username: "keys-admin", role: "admin", password: STAFF_PASSWORD });
  const env = { SERVICES: "api,events,directory" };
  const [a, b] = await Promise.all([cluster.spawn("keys-a", env), cluster.spawn("keys-b", env)]);
  try {
    // A broadcast reaches the nodes its sender has discovered: wait until A knows B (a node a
    // second old may miss it; its copy then lasts at most the cache's TTL).
    const listener = new ServiceBroker({ namespace: "taqib", nodeID: "keys-listener", transporter: { type: "NATS", options: { url: cluster.nats.url } }, logger: false });
    await listener.start();
    try {
      await eventually(async () => {
        const nodes = (await listener.call("$node.list", {}, { nodeID: "keys-a" }).catch(() => [])) as Array<{ id: string; available: boolean }>;
        return nodes.some((n) => n.id === "keys-b" && n.available);
      }, 20_000, "node A knows node B");
    } finally {
      await listener.stop();
    }
    const s = await consoleSignIn(a.url, "keys-admin", STAFF_PASSWORD);
    const made = await consolePost(a.url, "/console/api-keys", s.cookie, { csrf: s.csrf, name: "نظام المراسلات", "scope.messages:read": "1" });
    assert.equal(made.status, 201);
    const key = /id="key-value"[^>]*>\s*([^<\s]+)/.exec(await made.text())![1]!;
    const withKey = (url: string) => http(url, "GET", "/api/v1/messages?limit=1", undefined, { authorization: `Bearer ${key}` });
    // B learns the key (a miss reads the keys again) and keeps it in its copy.
    await eventually(async () => (await withKey(b.url)).status === 200, 10_000, "the key works on node B");
    const { _id: id } = (await StoredApiKeyModel.findOne({ hash: createHash("sha256").update(key).digest("hex") }).lean())!;
    const revokedAt = Date.now();
    assert.equal((await consolePost(a.url, `/console/api-keys/${id}/revoke`, s.cookie, { csrf: s.csrf })).status, 303);
    assert.equal((await withKey(a.url)).status, 401, "refused at once where it was revoked");
    await eventually(async () => (await withKey(b.url)).status === 401, 10_000, "refused on node B");
    const took = Date.now() - revokedAt;
    assert.ok(took < STORED_KEYS_TTL_MS / 2, `node B forgot it through apiKeys.changed (${took} ms), not its cache expiring`);
  } finally {
    await Promise.all([a.kill(), b.kill()]);
  }
});

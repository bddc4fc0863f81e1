// What a node tells the other nodes of the cluster: its services and a little metadata,
// never its configuration (API keys, tokens, the SMPP password, SECRETS_KEY).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ServiceBroker } from "moleculer";
import { API_KEY, SECRETS_KEY, api, eventually, http, sampleLifecycle } from "../support/harness.ts";
import { natsCluster } from "../support/processes.ts";

const cluster = natsCluster();

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

test("the budget of failed verifiers is shared over NATS: wrong guesses on one node lock verifiers on another", async () => {
  const env = { SERVICES: "api,events,directory,channels", CHANNELS: "web", VERIFY_FAILURE_BUDGET: "4", TRUST_PROXY: "127.0.0.0/8" };
  const [a, b] = await Promise.all([cluster.spawn("budget-a", env), cluster.spawn("budget-b", env)]);
  try {
    const numbers = ["1445092001", "1445092002"];
    const events = numbers.flatMap((n) => sampleLifecycle(n, { prefix: `share${n}`, mobile: "0551234567" }).slice(0, 3));
    assert.equal((await api(a.url, "POST", "/api/v1/events", events)).status, 202);
    const ask = (url: string, number: string, verifier: string, from: string) =>
      http(url, "GET", `/api/v1/inquiry?number=${number}&verifier=${verifier}`, undefined, { "x-forwarded-for": from });
    await eventually(async () => (await ask(b.url, numbers[1]!, "", "198.51.100.9")).status === 200, 20_000, "the transactions stored");
    // Four wrong guesses, all on node A, from four addresses: A's own count reaches the budget.
    for (let i = 0; i < 4; i++) assert.equal((await ask(a.url, numbers[0]!, String(1000 + i), `203.0.113.${i + 1}`)).body.verification, "mismatch");
    // Node B saw none of them; within a few announcements it locks verifiers too.
    const locked = await eventually(async () => {
      const r = await ask(b.url, numbers[1]!, "4567", "192.0.2.77");
      return r.body.verification === "locked" && r.body;
    }, 20_000, "node B locked by node A's failures");
    assert.equal(locked.details, undefined);
  } finally {
    await Promise.all([a.kill(), b.kill()]);
  }
});

// What a node tells the other nodes of the cluster: its services and a little metadata,
// never its configuration (API keys, tokens, the SMPP password, SECRETS_KEY).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ServiceBroker } from "moleculer";
import { API_KEY, SECRETS_KEY, eventually } from "../support/harness.ts";
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

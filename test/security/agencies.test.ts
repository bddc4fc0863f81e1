// Agencies as an attacker meets them (issue #11, findings 2, 5, 7 and 11), over real HTTP
// on a real database: concurrent secret changes all take effect, secrets are encrypted at
// rest under SECRETS_KEY, unsigned webhook posts are neither stored nor told which agency
// exists, and text an agency or the correspondence system sends cannot turn the short
// code's SMS into a link.
import { test, before, after } from "node:test";
import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { MongoClient } from "mongodb";
import mongoose from "mongoose";
import fs from "node:fs";
import { testDatabase, testNode, testConfig, tempDir, testSmsc, seedDirectory, api, http, eventually, sampleLifecycle, SECRETS_KEY } from "../support/harness.ts";
import { spawnTaqib, type TaqibProcess } from "../support/processes.ts";

const NUMBER = "1445091001";
const OUTGOING = `9${NUMBER}`;
const DAY = 86_400_000;

let db: Awaited<ReturnType<typeof testDatabase>>;
let smsc: Awaited<ReturnType<typeof testSmsc>>;
let node: Awaited<ReturnType<typeof testNode>>;
let mongo: MongoClient;
const spawned: TaqibProcess[] = [];

before(async () => {
  db = await testDatabase();
  smsc = await testSmsc({ dlrDelayMs: 20 });
  mongo = await MongoClient.connect(db.url);
  // Deliveries logged 100 and 80 days ago, before this node starts: the first is past the log's 90 days.
  await mongo.db().collection("webhook_deliveries").insertMany([
    { agencyCode: "MOI", webhookId: "msg_old", receivedAt: new Date(Date.now() - 100 * DAY), status: 200, outcome: "accepted" },
    { agencyCode: "MOI", webhookId: "msg_recent", receivedAt: new Date(Date.now() - 80 * DAY), status: 200, outcome: "accepted" },
  ]);
  node = await testNode(db.url, {
    SERVICES: "api,events,directory,agencies,notifier,smpp",
    SMPP_URL: smsc.url,
    // Each test speaks from its own address (X-Forwarded-For from the trusted local proxy).
    TRUST_PROXY: "127.0.0.1",
    WEBHOOK_REFUSAL_LIMIT: "5",
  });
  await seedDirectory(node.url);
  await api(node.url, "PUT", "/api/v1/agencies/MOJ", { name: { ar: "وزارة العدل", en: "Ministry of Justice" } });
  assert.equal((await api(node.url, "POST", "/api/v1/events", sampleLifecycle(NUMBER).slice(0, 4))).status, 202);
  await eventually(async () => (await api(node.url, "GET", `/api/v1/transactions/${NUMBER}`)).body.status === "issued", 20_000, "issued");
});
after(async () => {
  for (const p of spawned) await p.kill();
  await node?.stop();
  await mongo?.close();
  await smsc?.stop();
  await db?.remove();
});

/** A webhook post signed with `secret` (any string body), from `address`. */
function post(agency: string, secret: string, body: string, address: string, o: { id?: string; base?: string } = {}) {
  const id = o.id ?? `msg_${Math.random().toString(36).slice(2)}`;
  const ts = new Date();
  return http(o.base ?? node.url, "POST", `/webhooks/agencies/${agency}/replies`, body, {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)),
    "webhook-signature": new Webhook(secret).sign(id, ts, body),
    "x-forwarded-for": address,
  });
}

/** Whether a secret verifies: a signed empty object is a 400 (verified, bad body), a 401 when the secret is not accepted. */
async function verifies(agency: string, secret: string, base = node.url): Promise<boolean> {
  // From an address of its own each time: refusals of revoked secrets must not brake the next check.
  const r = await post(agency, secret, "{}", `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`, { base });
  assert.ok(r.status === 400 || r.status === 401, `${r.status} ${r.text}`);
  return r.status === 400;
}

/** Starts `npm start` with `env`; answers its output once it exits, or undefined once it is up (then stops it). */
function failedStart(env: Record<string, string>): Promise<string | undefined> {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "scripts/start.ts")], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "warn", HOST: "127.0.0.1", PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    const keep = (b: Buffer) => {
      output += b.toString();
      if (output.includes("Taqib is up")) child.kill("SIGTERM");
    };
    child.stdout!.on("data", keep);
    child.stderr!.on("data", keep);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(output.includes("Taqib is up") ? undefined : output);
    });
  });
}

const createSecret = async (agency: string) => {
  const r = await api(node.url, "POST", `/api/v1/agencies/${agency}/secrets`);
  assert.equal(r.status, 201, r.text);
  return r.body as { id: string; secret: string };
};

test("20 concurrent creates and revokes of an agency's secrets end exactly as requested (3 rounds)", async () => {
  for (let round = 0; round < 3; round++) {
    const agency = `AG${round}`;
    await api(node.url, "PUT", `/api/v1/agencies/${agency}`, { name: { ar: "جهة", en: "Agency" } });
    const old = [];
    for (let i = 0; i < 10; i++) old.push(await createSecret(agency));
    // 10 revokes of the old secrets and 10 creates, all at once.
    const results = await Promise.all([
      ...old.map((s) => api(node.url, "DELETE", `/api/v1/agencies/${agency}/secrets/${s.id}`)),
      ...Array.from({ length: 10 }, () => api(node.url, "POST", `/api/v1/agencies/${agency}/secrets`)),
    ]);
    assert.deepEqual(results.map((r) => r.status), [...Array(10).fill(200), ...Array(10).fill(201)]);
    const created = results.slice(10).map((r) => r.body as { id: string; secret: string });
    const list = (await api(node.url, "GET", `/api/v1/agencies/${agency}`)).body.secrets as Array<{ id: string; active: boolean }>;
    const active = list.filter((s) => s.active).map((s) => s.id).sort();
    const revoked = list.filter((s) => !s.active).map((s) => s.id).sort();
    assert.equal(list.length, 20, `round ${round}: ${list.length} secrets listed`);
    assert.deepEqual(active, created.map((s) => s.id).sort(), `round ${round}: the created secrets are the active ones`);
    assert.deepEqual(revoked, old.map((s) => s.id).sort(), `round ${round}: the revoked secrets are the old ones`);
    for (const s of old) assert.equal(await verifies(agency, s.secret), false, `round ${round}: revoked ${s.id} still verifies`);
    for (const s of created) assert.equal(await verifies(agency, s.secret), true, `round ${round}: new ${s.id} does not verify`);
  }
  // Revoking twice is answered the same; an unknown secret is 404.
  const s = await createSecret("MOJ");
  assert.equal((await api(node.url, "DELETE", `/api/v1/agencies/MOJ/secrets/${s.id}`)).status, 200);
  assert.equal((await api(node.url, "DELETE", `/api/v1/agencies/MOJ/secrets/${s.id}`)).status, 200);
  const missing = await api(node.url, "DELETE", "/api/v1/agencies/MOJ/secrets/00000000-0000-0000-0000-000000000000");
  assert.equal(missing.status, 404);
  assert.equal(missing.body.error.code, "SECRET_NOT_FOUND");
});

test("webhook refusals: unknown agency answered exactly as a bad signature, nothing stored, counted, rate-limited per address (429, Retry-After); the log has a TTL", async () => {
  const secret = (await createSecret("MOI")).secret;
  const wrong = `whsec_${Buffer.alloc(32, 3).toString("base64")}`;
  const body = JSON.stringify({ outgoingNumber: OUTGOING, replyNumber: "R-1", replyDate: new Date().toISOString() });
  const deliveries = () => mongo.db().collection("webhook_deliveries").countDocuments({});
  const refused = (reason: string) => (node.broker.metrics.getMetric("taqib.webhooks.refused")?.get({ reason })?.value as number | undefined) ?? 0;

  const stored = await deliveries();
  const invalidBefore = refused("SIGNATURE_INVALID");
  const unknown = await post("NO-SUCH-AGENCY", secret, body, "10.1.0.1", { id: "msg_attacker_chosen" });
  const badSignature = await post("MOI", wrong, body, "10.1.0.2", { id: "msg_attacker_chosen" });
  assert.equal(unknown.status, 401, unknown.text);
  assert.equal(unknown.text, badSignature.text, "an unknown agency is told exactly what a bad signature is");
  assert.equal(unknown.body.error.code, "SIGNATURE_INVALID");
  const unsignedUnknown = await http(node.url, "POST", "/webhooks/agencies/NO-SUCH-AGENCY/replies", body, { "x-forwarded-for": "10.1.0.3" });
  const unsignedKnown = await http(node.url, "POST", "/webhooks/agencies/MOI/replies", body, { "x-forwarded-for": "10.1.0.3" });
  assert.equal(unsignedUnknown.status, 401);
  assert.equal(unsignedUnknown.text, unsignedKnown.text);
  assert.equal(await deliveries(), stored, "refused requests are not stored");
  assert.equal(await mongo.db().collection("webhook_deliveries").countDocuments({ webhookId: "msg_attacker_chosen" }), 0);
  assert.equal(refused("SIGNATURE_INVALID") - invalidBefore, 2);
  assert.ok(refused("SIGNATURE_MISSING") >= 2);

  // One address sending bad signatures is braked after WEBHOOK_REFUSAL_LIMIT (5); others are not.
  const statuses: number[] = [];
  let limited: Awaited<ReturnType<typeof http>> | undefined;
  for (let i = 0; i < 10; i++) {
    const r = await post("MOI", wrong, body, "10.1.0.9");
    statuses.push(r.status);
    if (r.status === 429) limited ??= r;
  }
  assert.ok(limited, statuses.join(","));
  assert.ok(statuses.indexOf(429) <= 6, statuses.join(","));
  assert.equal(limited.body.error.code, "RATE_LIMITED");
  assert.ok(Number(limited.headers.get("retry-after")) >= 1, `Retry-After: ${limited.headers.get("retry-after")}`);
  assert.ok(refused("RATE_LIMITED") >= 1);
  assert.equal((await post("MOI", wrong, body, "10.1.0.10")).status, 401, "another address is still answered");
  assert.equal(await deliveries(), stored, "nothing stored for any of them");

  // A verified request is logged, with its outcome.
  const ok = await post("MOI", secret, JSON.stringify({ outgoingNumber: "1", replyNumber: "R-1", replyDate: new Date().toISOString() }), "10.1.0.11", { id: "msg_verified" });
  assert.equal(ok.status, 404, ok.text);
  const listed = (await api(node.url, "GET", "/api/v1/agencies/MOI/deliveries?limit=100000")).body.deliveries;
  assert.ok(listed.some((d: any) => d.webhookId === "msg_verified" && d.status === 404 && d.outcome === "OUTGOING_NOT_FOUND"));
  assert.ok(listed.length <= 500);

  // The log's TTL: the 100-day-old delivery was purged at start, the 80-day-old one kept.
  const old = await mongo.db().collection("webhook_deliveries").find({ webhookId: { $in: ["msg_old", "msg_recent"] } }).toArray();
  assert.deepEqual(old.map((d) => d.webhookId), ["msg_recent"]);
});

test("an agency cannot tell another agency's outgoing numbers from unknown ones: the same 404, body and database reads; the log keeps the reason", async () => {
  const secret = (await createSecret("MOJ")).secret;
  const lookups = ["outgoing_numbers", "transactions", "pending_replies"];
  /** The answer (its number masked) and the reads of the lookup collections while it was made. */
  const attempt = async (outgoingNumber: string, id: string) => {
    const reads: string[] = [];
    const listen = (op: { collectionName: string; method: string; params?: unknown[] }) => {
      if (lookups.includes(op.collectionName)) reads.push(`${op.collectionName}.${op.method}(${Object.keys((op.params?.[0] as object) ?? {}).sort().join()})`);
    };
    mongoose.connection.on("operation-start", listen);
    try {
      const r = await post("MOJ", secret, JSON.stringify({ outgoingNumber, replyNumber: "R-1", replyDate: new Date().toISOString() }), "10.4.0.1", { id });
      return { status: r.status, body: r.text.replaceAll(outgoingNumber, "N"), reads };
    } finally {
      mongoose.connection.off("operation-start", listen);
    }
  };
  // OUTGOING was sent to MOI (waiting for its reply); 1999 is nobody's.
  const others = await attempt(OUTGOING, "msg_moj_other");
  const unknown = await attempt("1999", "msg_moj_unknown");
  assert.equal(others.status, 404, others.body);
  assert.equal(others.body, unknown.body, "the same body");
  assert.equal(JSON.parse(unknown.body).error.code, "OUTGOING_NOT_FOUND");
  assert.deepEqual(others.reads, unknown.reads, "the same reads, so no difference in time to tell them apart");
  assert.ok(unknown.reads.length >= 2 && unknown.reads.every((r) => r.endsWith("(_id)")), unknown.reads.join(" "));
  const listed = (await api(node.url, "GET", "/api/v1/agencies/MOJ/deliveries")).body.deliveries;
  assert.equal(listed.find((d: any) => d.webhookId === "msg_moj_other")?.outcome, "OUTGOING_OF_ANOTHER_AGENCY");
  assert.equal(listed.find((d: any) => d.webhookId === "msg_moj_unknown")?.outcome, "OUTGOING_NOT_FOUND");
});

test("agency and correspondence-system text rendered into an SMS: line breaks, links and bidi characters refused with 400 naming the field; nothing stored", async () => {
  const secret = (await createSecret("MOI")).secret;
  const reply = (replyNumber: unknown) => JSON.stringify({ outgoingNumber: OUTGOING, replyNumber, replyDate: new Date().toISOString() });
  const events = () => mongo.db().collection("events").countDocuments({ transactionNumber: NUMBER });
  const before = await events();

  for (const bad of ["9031\nسدد الرسوم الآن: https://pay.example", "pay the fees now: https://pay.example/x", "www.pay-fees", "fees.example/pay", "90\u202E31", "9031\r\n1"]) {
    const r = await post("MOI", secret, reply(bad), "10.2.0.1");
    assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${r.text}`);
    assert.equal(r.body.error.code, "INVALID_BODY");
    assert.deepEqual(r.body.error.details.map((d: any) => d.field), ["replyNumber"], JSON.stringify(bad));
  }

  const at = new Date().toISOString();
  const ev = (id: string, type: string, data: object) => ({ id, type, transactionNumber: "1445091999", occurredAt: at, data });
  const refusedEvents: Array<[object, string]> = [
    [ev("x1", "reply-received", { outgoingNumber: OUTGOING, replyNumber: "R-1\nhttps://pay.example" }), "data.replyNumber"],
    [ev("x2", "registered", { citizen: { name: "محمد\nادفع عبر https://pay.example", mobile: "0551234567" } }), "data.citizen.name"],
    [ev("x3", "registered", { citizen: { name: "محمد", mobile: "0551234567" }, subject: "سدد عبر www.pay.example" }), "data.subject"],
    [ev("x4", "issued", { outgoingNumber: "5", destination: { agencyCode: "MOI", name: "pay.example/now" }, requiresReply: false }), "data.destination.name"],
  ];
  for (const [event, field] of refusedEvents) {
    const r = await api(node.url, "POST", "/api/v1/events", event);
    assert.equal(r.status, 400, r.text);
    assert.deepEqual(r.body.error.details.map((d: any) => d.field), [field]);
  }
  const agency = await api(node.url, "PUT", "/api/v1/agencies/EVIL", { name: { ar: "جهة\nسدد: https://pay.example", en: "Agency" } });
  assert.equal(agency.status, 400, agency.text);
  assert.deepEqual(agency.body.error.details.map((d: any) => d.field), ["name.ar"]);
  assert.equal(await events(), before, "nothing stored");
  assert.equal((await mongo.db().collection("events").countDocuments({ transactionNumber: "1445091999" })), 0);

  // A plain reference in Arabic-Indic digits is accepted and reaches the citizen's SMS in Latin digits.
  const good = await post("MOI", secret, reply("ر/١٤٤٧-٩٠٣١"), "10.2.0.1");
  assert.equal(good.status, 200, good.text);
  await eventually(async () => smsc.received.some((m) => m.text.includes("ر/1447-9031")), 30_000, "the reply SMS");
});

test("secrets at rest: encrypted under SECRETS_KEY; legacy plaintext secrets moved and encrypted; a wrong key stops start-up naming SECRETS_KEY; rotation re-encrypts", async () => {
  const s = await createSecret("MOI");
  // A secret as the first versions kept it: plaintext inside the agency document.
  const legacy = { id: "legacy-1", secret: `whsec_${Buffer.alloc(32, 9).toString("base64")}`, createdAt: new Date() };
  await mongo.db().collection("agencies").insertOne({ _id: "LEGACY" as any, name: { ar: "جهة قديمة", en: "Legacy agency" }, secrets: [legacy] });

  const base = { MONGO_URL: db.url, SERVICES: "api,directory,agencies" };
  const other = (id: string) => `${id}:${Buffer.alloc(32, 1).toString("base64")}`;
  // Without SECRETS_KEY, with another key id, and with the same key id but other bytes: refused at start.
  await assert.rejects(testConfig({ MONGO_URL: db.url, SECRETS_KEY: undefined }), /SECRETS_KEY/);
  for (const key of [other("k9"), `test:${Buffer.alloc(32, 1).toString("base64")}`]) {
    const output = await failedStart({ ...base, SECRETS_KEY: key });
    assert.ok(output !== undefined, `a node started with SECRETS_KEY=${key.split(":")[0]}:…`);
    assert.match(output, /Configuration error — SECRETS_KEY: cannot decrypt secret .* key id "test"/);
  }
  assert.ok((await mongo.db().collection("agencies").findOne({ _id: "LEGACY" as any }))?.secrets, "a refused start wrote nothing");

  // Rotation: a new key first, the old one after it. The start moves the legacy secret out and re-encrypts everything.
  const rotated = await spawnTaqib("rotated", { ...base, SECRETS_KEY: `${other("k2")},${SECRETS_KEY}` });
  spawned.push(rotated);
  // (Its gateway answers before the agencies service has started: wait for the re-encryption.)
  await eventually(async () => (await mongo.db().collection("agency_secrets").distinct("keyId")).join() === "k2", 20_000, "every secret re-encrypted under the first key");
  await eventually(async () => (await post("LEGACY", legacy.secret, "{}", "10.3.0.1", { base: rotated.url })).status !== 503, 20_000, "the rotated node's agencies service");
  const agencyDoc = await mongo.db().collection("agencies").findOne({ _id: "LEGACY" as any });
  assert.equal(agencyDoc?.secrets, undefined, "the plaintext array is gone from the agency");
  assert.equal(await verifies("LEGACY", legacy.secret, rotated.url), true, "the legacy secret still verifies");
  assert.equal(await verifies("MOI", s.secret, rotated.url), true, "a secret created before the rotation still verifies");
  assert.deepEqual((await api(rotated.url, "GET", "/api/v1/agencies/LEGACY")).body.secrets.map((x: any) => [x.id, x.active]), [["legacy-1", true]]);

  // A dump of the whole database holds no secret.
  for (const c of await mongo.db().listCollections().toArray()) {
    const dump = JSON.stringify(await mongo.db().collection(c.name).find({}).toArray());
    for (const plain of [s.secret, legacy.secret]) {
      assert.ok(!dump.includes(plain) && !dump.includes(plain.slice(6)), `${c.name} holds a secret in plaintext`);
    }
  }
  // The old key alone no longer decrypts them: start-up says so.
  assert.match((await failedStart({ ...base, SECRETS_KEY })) ?? "started", /Configuration error — SECRETS_KEY: .*key id "k2"/);
  // (This file's own node has the old key only: it now answers its agencies 503, retry — last test of the file.)
});

test("the embedded quickstart makes its SECRETS_KEY once, in DATA_DIR/secrets.key (mode 0600), and reuses it", async () => {
  const data = tempDir("taqib-quickstart-");
  try {
    const env = { DATA_DIR: data.dir, SERVICES: "api,directory,agencies" };
    assert.equal(await failedStart(env), undefined, "the quickstart starts without SECRETS_KEY");
    const file = path.join(data.dir, "secrets.key");
    const key = fs.readFileSync(file, "utf8");
    assert.match(key, /^k1:[A-Za-z0-9+/]{43}=\n$/);
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    assert.equal(await failedStart(env), undefined, "and again");
    assert.equal(fs.readFileSync(file, "utf8"), key, "with the same key");
  } finally {
    data.remove();
  }
});

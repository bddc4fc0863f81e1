// The events API end to end over HTTP, against a real FerretDB.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { testDatabase, testNode, api, http, sampleLifecycle, seedDirectory, eventually } from "./support/harness.ts";

let db: Awaited<ReturnType<typeof testDatabase>>;
let node: Awaited<ReturnType<typeof testNode>>;
// The SMS side is not under test here: no smpp or notifier service.
const SERVICES = "api,events,directory";

before(async () => {
  db = await testDatabase();
  node = await testNode(db.url, { SERVICES });
  await seedDirectory(node.url);
});
after(async () => {
  await node?.stop();
  await db?.remove();
});

const getTx = async (n: string) => (await api(node.url, "GET", `/api/v1/transactions/${n}`)).body;

/** The parts of a transaction that do not depend on arrival time. */
function facts(t: any) {
  const { updatedAt, history, ...rest } = t;
  return { ...rest, history: history.map(({ receivedAt, ...h }: any) => h), outgoing: t.outgoing.map((o: any) => ({ ...o, reply: o.reply && { ...o.reply, receivedAt: undefined } })) };
}

test("the sample lifecycle gives the right status and history at each step", async () => {
  const events = sampleLifecycle("1445000001");
  const expected = ["registered", "referred", "assigned", "issued", "reply-received", "closed"];
  for (const [i, e] of events.entries()) {
    const r = await api(node.url, "POST", "/api/v1/events", e);
    assert.equal(r.status, 202, JSON.stringify(r.body));
    assert.deepEqual(r.body, { id: e.id, outcome: "accepted" });
    const t = await eventually(async () => {
      const t = await getTx("1445000001");
      return t.history?.length === i + 1 && t;
    });
    assert.equal(t.status, expected[i]);
    assert.deepEqual(t.history.map((h: any) => h.type), expected.slice(0, i + 1));
  }
  const t = await getTx("1445000001");
  assert.equal(t.citizen.mobile, "+966551234567");
  assert.equal(t.assigneeId, "E100");
  assert.equal(t.departmentCode, "LEGAL");
  assert.equal(t.outgoing.length, 1);
  assert.equal(t.outgoing[0].number, "91445000001");
  assert.equal(t.outgoing[0].requiresReply, true);
  assert.equal(t.outgoing[0].reply.number, "R-77");
  assert.ok(t.closedAt);
});

test("posting the same events again changes nothing", async () => {
  const events = sampleLifecycle("1445000001");
  const beforeState = await getTx("1445000001");
  for (const e of events) {
    const r = await api(node.url, "POST", "/api/v1/events", e);
    assert.equal(r.status, 200);
    assert.equal(r.body.outcome, "duplicate");
  }
  const batch = await api(node.url, "POST", "/api/v1/events", events);
  assert.equal(batch.status, 200);
  assert.equal(batch.body.duplicates, 6);
  await new Promise((r) => setTimeout(r, 700));
  assert.deepEqual(await getTx("1445000001"), beforeState);
});

test("an id reused with other content is a 409 and stores nothing", async () => {
  const [first] = sampleLifecycle("1445000001");
  const changed = { ...first, data: { ...first!.data, subject: "موضوع آخر" } };
  const r = await api(node.url, "POST", "/api/v1/events", changed);
  assert.equal(r.status, 409);
  assert.equal(r.body.error.code, "EVENT_ID_CONFLICT");
  const fresh = { id: "fresh-in-conflicting-batch", type: "closed", transactionNumber: "1445000099", occurredAt: new Date().toISOString(), data: {} };
  const b = await api(node.url, "POST", "/api/v1/events", [fresh, changed]);
  assert.equal(b.status, 409);
  assert.equal((await api(node.url, "GET", "/api/v1/transactions/1445000099")).status, 404);
});

test("shuffled and batched order gives the same end state", async () => {
  const ordered = sampleLifecycle("1445000002", { prefix: "ord" });
  const shuffled = sampleLifecycle("1445000003", { prefix: "shf" });
  // Same content for another number, posted in reverse, in two batches.
  for (const e of ordered) await api(node.url, "POST", "/api/v1/events", e);
  const reversed = [...shuffled].reverse();
  const a = await api(node.url, "POST", "/api/v1/events", reversed.slice(0, 3));
  assert.equal(a.status, 202);
  await api(node.url, "POST", "/api/v1/events", reversed.slice(3));
  const t1 = await eventually(async () => { const t = await getTx("1445000002"); return t.eventCount === 6 && t; });
  const t2 = await eventually(async () => { const t = await getTx("1445000003"); return t.eventCount === 6 && t; });
  const norm = (t: any, prefix: string) =>
    JSON.parse(JSON.stringify(facts(t)).replaceAll(prefix, "X").replaceAll(t.number, "N"));
  assert.deepEqual(norm(t2, "shf"), norm(t1, "ord"));
  assert.equal(t2.status, "closed");
});

test("assigned before registered is kept and applied in occurredAt order", async () => {
  const [reg, , asg] = sampleLifecycle("1445000004", { prefix: "ooo" });
  await api(node.url, "POST", "/api/v1/events", asg);
  const early = await eventually(async () => { const t = await getTx("1445000004"); return t.eventCount === 1 && t; });
  assert.equal(early.registered, false);
  await api(node.url, "POST", "/api/v1/events", reg);
  const t = await eventually(async () => { const t = await getTx("1445000004"); return t.eventCount === 2 && t; });
  assert.deepEqual(t.history.map((h: any) => h.type), ["registered", "assigned"]);
  assert.equal(t.status, "assigned");
  assert.equal(t.registered, true);
});

test("bad input: 4xx with a code, never a 5xx, nothing stored changes", async () => {
  const beforeState = await getTx("1445000001");
  const valid = sampleLifecycle("1445000005")[0]!;
  const cases: Array<[string, unknown, number, string]> = [
    ["invalid JSON", "{not json", 400, "INVALID_JSON"],
    ["a number", 42, 400, "INVALID_EVENT"],
    ["null", "null", 400, "INVALID_EVENT"],
    ["empty array", [], 400, "EMPTY_BATCH"],
    ["unknown type", { ...valid, type: "exploded" }, 400, "INVALID_EVENT"],
    ["wrong types", { ...valid, id: 7, occurredAt: true, transactionNumber: {} }, 400, "INVALID_EVENT"],
    ["missing fields", { type: "registered" }, 400, "INVALID_EVENT"],
    ["bad mobile", { ...valid, data: { citizen: { name: "x", mobile: "12345" } } }, 400, "INVALID_EVENT"],
    ["bad date", { ...valid, occurredAt: "yesterday" }, 400, "INVALID_EVENT"],
    ["issued without destination", { ...valid, type: "issued", data: { outgoingNumber: "1", requiresReply: true } }, 400, "INVALID_EVENT"],
    ["over 1000 events", Array.from({ length: 1001 }, (_, i) => ({ ...valid, id: `big-${i}` })), 413, "BATCH_TOO_LARGE"],
    ["a 2 MB body", JSON.stringify({ ...valid, pad: "x".repeat(2 * 1024 * 1024) }), 413, "BODY_TOO_LARGE"],
    ["same id twice in a batch", [valid, { ...valid }], 400, "INVALID_EVENT"],
  ];
  for (const [what, body, status, code] of cases) {
    const r = await api(node.url, "POST", "/api/v1/events", typeof body === "string" ? body : body);
    assert.equal(r.status, status, `${what}: ${r.text.slice(0, 300)}`);
    assert.equal(r.body.error.code, code, what);
    assert.ok(r.body.error.message, what);
  }
  const missing = await api(node.url, "POST", "/api/v1/events", { type: "registered" });
  const fields = missing.body.error.details.map((d: any) => d.field);
  for (const f of ["id", "transactionNumber", "occurredAt", "data.citizen"]) assert.ok(fields.includes(f), `names ${f}: ${fields}`);

  const noKey = await http(node.url, "POST", "/api/v1/events", valid);
  assert.equal(noKey.status, 401);
  assert.equal(noKey.body.error.code, "UNAUTHORIZED");
  const wrongKey = await http(node.url, "POST", "/api/v1/events", valid, { authorization: "Bearer wrong-key-wrong-key" });
  assert.equal(wrongKey.status, 401);

  assert.equal((await http(node.url, "GET", "/health/live")).status, 200);
  assert.equal((await api(node.url, "GET", "/api/v1/transactions/1445000005")).status, 404);
  assert.deepEqual(await getTx("1445000001"), beforeState);
});

test("directory: validation, 201 then 200, and lookups", async () => {
  const bad = await api(node.url, "PUT", "/api/v1/departments/HR", { name: { ar: "الموارد" }, manager: { name: "x", mobile: "123" }, replyPeriodDays: 0 });
  assert.equal(bad.status, 400);
  const fields = bad.body.error.details.map((d: any) => d.field).sort();
  assert.deepEqual(fields, ["manager.mobile", "name.en", "replyPeriodDays"]);
  const body = { name: { ar: "الموارد البشرية", en: "Human Resources" }, manager: { name: "مدير", mobile: "+966551112222" } };
  assert.equal((await api(node.url, "PUT", "/api/v1/departments/HR", body)).status, 201);
  const again = await api(node.url, "PUT", "/api/v1/departments/HR", { ...body, replyPeriodDays: 7 });
  assert.equal(again.status, 200);
  const got = await api(node.url, "GET", "/api/v1/departments/HR");
  assert.equal(got.body.replyPeriodDays, 7);
  assert.equal(got.body.manager.mobile, "+966551112222");
  assert.equal((await api(node.url, "GET", "/api/v1/departments/NOPE")).status, 404);
  assert.equal((await api(node.url, "GET", "/api/v1/employees/E100")).body.mobile, "+966559990002");
  assert.equal((await api(node.url, "GET", "/api/v1/agencies/MOI")).body.name.en, "Ministry of Interior");
  assert.equal((await api(node.url, "GET", "/api/v1/transactions/abc")).status, 400);
});

test("data survives a restart of Taqib and of the database server", async () => {
  const beforeState = await getTx("1445000001");
  await node.stop();
  await db.stop();
  const { startFerretDB } = await import("../core/platform/servers.ts");
  const restarted = await startFerretDB({ dataDir: db.dir, port: db.port });
  Object.assign(db, restarted);
  node = await testNode(db.url, { SERVICES });
  assert.deepEqual(await getTx("1445000001"), beforeState);
  assert.equal((await api(node.url, "GET", "/api/v1/departments/LEGAL")).body.manager.name, "سعد الحربي");
  // And the database restarting under a running node: the node reconnects.
  db.kill();
  await new Promise((r) => setTimeout(r, 300));
  const down = await http(node.url, "GET", "/health/ready");
  assert.equal(down.status, 503);
  const again = await startFerretDB({ dataDir: db.dir, port: db.port });
  Object.assign(db, again);
  await eventually(async () => (await http(node.url, "GET", "/health/ready")).status === 200, 30000, "ready again");
  assert.deepEqual(await getTx("1445000001"), beforeState);
});

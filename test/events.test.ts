// The events API end to end over HTTP, against a real FerretDB.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { testDatabase, testNode, api, http, sampleLifecycle, seedDirectory, eventually } from "./support/harness.ts";
import { storeEventRequests } from "../core/events/ingest.ts";
import { validateEvent, type IncomingEvent } from "../core/events/contract.ts";

let db: Awaited<ReturnType<typeof testDatabase>>;
let node: Awaited<ReturnType<typeof testNode>>;
// The SMS side is not under test here: no smpp or notifier service.
const SERVICES = "api,events,directory";

/** A transaction stored before outgoing numbers were claimed: its number is claimed at the events service's start. */
const LEGACY = { number: "1445007001", outgoing: "71445007001" };

before(async () => {
  db = await testDatabase();
  const mongo = await MongoClient.connect(db.url);
  const at = new Date(Date.now() - 86_400_000);
  await mongo.db().collection("transactions").insertOne({
    _id: LEGACY.number as any, number: LEGACY.number, status: "issued", registered: false, eventCount: 1,
    outgoing: [{ number: LEGACY.outgoing, date: at, destination: { agencyCode: "MOI" }, requiresReply: false, eventId: "legacy-i" }],
    history: [{ eventId: "legacy-i", type: "issued", occurredAt: at, receivedAt: at, data: { outgoingNumber: LEGACY.outgoing, destination: { agencyCode: "MOI" }, requiresReply: false } }],
  });
  await mongo.close();
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

const issuedEvent = (id: string, transactionNumber: string, outgoingNumber: string) => ({
  id, type: "issued", transactionNumber, occurredAt: new Date().toISOString(),
  data: { outgoingNumber, destination: { agencyCode: "MOI" }, requiresReply: true },
});
const registeredEvent = (id: string, transactionNumber: string) => ({
  id, type: "registered", transactionNumber, occurredAt: new Date(Date.now() - 60_000).toISOString(),
  data: { citizen: { name: "مواطن", mobile: "0551234567" }, departmentCode: "LEGAL" },
});

test("an outgoing number another transaction holds is a 409 OUTGOING_NUMBER_CONFLICT naming it, storing nothing of the request; re-sends and the same transaction's other numbers still work", async () => {
  const first = issuedEvent("oc-a-i", "1445006001", "61445006001");
  assert.equal((await api(node.url, "POST", "/api/v1/events", [registeredEvent("oc-a-r", "1445006001"), first])).status, 202);
  await eventually(async () => (await getTx("1445006001")).outgoing?.length === 1, 10_000, "the first transaction's letter");

  const r = await api(node.url, "POST", "/api/v1/events", [registeredEvent("oc-b-r", "1445006002"), issuedEvent("oc-b-i", "1445006002", "61445006001")]);
  assert.equal(r.status, 409, r.text);
  assert.equal(r.body.error.code, "OUTGOING_NUMBER_CONFLICT");
  assert.match(r.body.error.message, /61445006001 is already used by transaction 1445006001/);
  assert.match(r.body.error.messageAr, /رقم الصادر 61445006001 مستخدم للمعاملة 1445006001/);
  assert.deepEqual(r.body.error.details, [{ id: "oc-b-i", outgoingNumber: "61445006001", transactionNumber: "1445006001" }]);
  await new Promise((res) => setTimeout(res, 700));
  assert.equal((await api(node.url, "GET", "/api/v1/transactions/1445006002")).status, 404, "nothing of the refused request was stored");
  // Written with a slash and Arabic-Indic digits, it is the same number.
  const arabic = await api(node.url, "POST", "/api/v1/events", issuedEvent("oc-b-i2", "1445006002", "٦١٤٤٥/٠٠٦٠٠١"));
  assert.equal(arabic.status, 409, arabic.text);

  // The first transaction: its issued event again is a duplicate; issuing the number again (a correction) and a second number are accepted.
  const again = await api(node.url, "POST", "/api/v1/events", first);
  assert.equal(again.status, 200, again.text);
  assert.equal(again.body.outcome, "duplicate");
  assert.equal((await api(node.url, "POST", "/api/v1/events", issuedEvent("oc-a-i2", "1445006001", "61445006001"))).status, 202);
  assert.equal((await api(node.url, "POST", "/api/v1/events", issuedEvent("oc-a-i3", "1445006001", "61445006009"))).status, 202);
  // The second transaction with a number of its own.
  assert.equal((await api(node.url, "POST", "/api/v1/events", [registeredEvent("oc-b-r", "1445006002"), issuedEvent("oc-b-i", "1445006002", "61445006002")])).status, 202);
  const both = await eventually(async () => {
    const [a, b] = [await getTx("1445006001"), await getTx("1445006002")];
    return a.outgoing?.length === 2 && b.outgoing?.length === 1 && [a, b];
  }, 10_000, "both transactions' letters");
  assert.deepEqual(both[0].outgoing.map((o: any) => o.number).sort(), ["61445006001", "61445006009"]);
  assert.deepEqual(both[1].outgoing.map((o: any) => o.number), ["61445006002"]);

  // A number held by a transaction stored before numbers were claimed is refused too.
  const legacy = await api(node.url, "POST", "/api/v1/events", issuedEvent("oc-c-i", "1445006003", LEGACY.outgoing));
  assert.equal(legacy.status, 409, legacy.text);
  assert.equal(legacy.body.error.details[0].transactionNumber, LEGACY.number);
});

test("two transactions posting the same outgoing number at once: exactly one wins, over HTTP and between separate stores on the database (10 rounds each)", async () => {
  for (let round = 0; round < 10; round++) {
    const outgoing = `6200${round}`;
    const posts = await Promise.all(["1445006100", "1445006200"].map((n) => api(node.url, "POST", "/api/v1/events", issuedEvent(`race-${round}-${n}`, `${n}${round}`, outgoing))));
    assert.deepEqual(posts.map((p) => p.status).sort(), [202, 409], `round ${round}: ${posts.map((p) => p.text).join(" | ")}`);
    const winner = posts.find((p) => p.status === 202)!;
    const loser = posts.find((p) => p.status === 409)!;
    assert.equal(loser.body.error.code, "OUTGOING_NUMBER_CONFLICT");
    assert.equal(loser.body.error.details[0].transactionNumber, `${winner.body.id.split("-")[2]}${round}`, "the loser is told the winner");
  }
  // Outside the events service's batcher: separate calls that each read the number free, as two processes would.
  const event = (id: string, number: string, outgoing: string): IncomingEvent => validateEvent(issuedEvent(id, number, outgoing)).event!;
  for (let round = 0; round < 10; round++) {
    const outgoing = `6300${round}`;
    const results = await Promise.all(
      Array.from({ length: 4 }, (_, i) => storeEventRequests([{ events: [event(`store-race-${round}-${i}`, `14450063${i}${round}`, outgoing)], source: "test" }])),
    );
    const winners = results.filter(([r]) => r!.outgoingConflicts.length === 0);
    assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
    assert.deepEqual(winners[0]![0]!.outcomes, ["accepted"]);
    for (const [r] of results) if (r!.outgoingConflicts.length) assert.deepEqual(r!.toApply, [], "a loser stores nothing");
  }
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

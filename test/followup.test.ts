// Overdue replies and agencies' signed reply webhooks, against a real FerretDB over HTTP.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Webhook } from "standardwebhooks";
import { testDatabase, testNode, api, http, seedDirectory, eventually } from "./support/harness.ts";
import type { Jobs } from "../core/platform/jobs.ts";

let db: Awaited<ReturnType<typeof testDatabase>>;
let node: Awaited<ReturnType<typeof testNode>>;
// No notifier: the messages stay queued in the log, where this test reads them.
const SERVICES = "api,events,directory,followup,agencies";

const DAY = 86_400_000;
function issued(number: string, outgoingNumber: string, daysAgo: number, agencyCode = "MOI") {
  const at = new Date(Date.now() - daysAgo * DAY).toISOString();
  return [
    { id: `${number}-r`, type: "registered", transactionNumber: number, occurredAt: at, data: { citizen: { name: "مواطن", mobile: "0551234567" }, departmentCode: "LEGAL" } },
    { id: `${number}-i`, type: "issued", transactionNumber: number, occurredAt: at, data: { outgoingNumber, outgoingDate: at, destination: { agencyCode }, requiresReply: true } },
  ];
}
const messages = async (n: string) => (await api(node.url, "GET", `/api/v1/messages?transactionNumber=${n}`)).body.messages as any[];
const overdueOf = async (n: string) => (await messages(n)).filter((m) => ["overdue", "reminder", "escalation"].includes(m.template));

before(async () => {
  db = await testDatabase();
  // The scheduler looks for due jobs every half second, and a job's lock is short: a test
  // waits neither for Agenda's next look (10 s by default) nor, at the end, for its lock check.
  node = await testNode(db.url, { SERVICES, JOB_PROCESS_EVERY_MS: "500", JOB_LOCK_LIFETIME_MS: "4000" });
  await seedDirectory(node.url, { replyPeriodDays: 10 });
  await api(node.url, "PUT", "/api/v1/agencies/MOH", { name: { ar: "وزارة الصحة", en: "Ministry of Health" } });
});
after(async () => {
  await node?.stop();
  await db?.remove();
});

test("an outgoing dated 11 days ago is overdue at once; one dated 9 days ago waits until the period drops to 8", async () => {
  await api(node.url, "POST", "/api/v1/events", [...issued("2001", "82001", 11), ...issued("2002", "82002", 9)]);
  const notice = await eventually(async () => (await overdueOf("2001"))[0], 10000, "overdue notice of 2001");
  assert.equal(notice.template, "overdue");
  assert.equal(notice.role, "manager");
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal((await overdueOf("2002")).length, 0, "9 days old is not overdue with a 10-day period");
  assert.equal((await overdueOf("2001")).length, 1, "and the first is noticed once");

  const dept = (await api(node.url, "GET", "/api/v1/departments/LEGAL")).body;
  const r = await api(node.url, "PUT", "/api/v1/departments/LEGAL", { name: dept.name, manager: dept.manager, replyPeriodDays: 8, reminderEveryDays: 30 });
  assert.equal(r.status, 200);
  const later = await eventually(async () => (await overdueOf("2002"))[0], 10000, "overdue notice after lowering the period");
  assert.equal(later.template, "overdue");
  // Posting the same events again, and a sweep, send nothing more.
  await api(node.url, "POST", "/api/v1/events", [...issued("2001", "82001", 11), ...issued("2002", "82002", 9)]);
  const sweep = await api(node.url, "POST", "/api/v1/followup/sweep");
  assert.equal(sweep.status, 200);
  assert.equal((await overdueOf("2001")).length, 1);
  assert.equal((await overdueOf("2002")).length, 1);
});

test("reminders every R days, then one escalation; each once", async () => {
  await api(node.url, "PUT", "/api/v1/departments/ESC", {
    name: { ar: "إدارة المتابعة", en: "Follow-up" },
    manager: { name: "مدير", mobile: "0559990003" },
    replyPeriodDays: 5,
    reminderEveryDays: 2,
    maxReminders: 2,
    escalation: { name: "وكيل الإمارة", mobile: "0559990004" },
  });
  const at = (d: number) => new Date(Date.now() - d * DAY).toISOString();
  const mk = (n: string, days: number) => [
    { id: `${n}-r`, type: "registered", transactionNumber: n, occurredAt: at(days), data: { citizen: { name: "x", mobile: "0551234567" }, departmentCode: "ESC" } },
    { id: `${n}-i`, type: "issued", transactionNumber: n, occurredAt: at(days), data: { outgoingNumber: `8${n}`, outgoingDate: at(days), destination: { agencyCode: "MOI" }, requiresReply: true } },
  ];
  // Due 1 day ago: only the overdue notice. Due 20 days ago (after an outage): one notice, not a burst.
  await api(node.url, "POST", "/api/v1/events", [...mk("3001", 6), ...mk("3002", 25)]);
  await eventually(async () => (await overdueOf("3001")).length === 1 && (await overdueOf("3002")).length === 1, 10000, "notices");
  await api(node.url, "POST", "/api/v1/followup/sweep");
  await new Promise((r) => setTimeout(r, 1000));
  assert.deepEqual((await overdueOf("3001")).map((m) => m.template), ["overdue"]);
  assert.deepEqual((await overdueOf("3002")).map((m) => m.template), ["overdue"]);
});

test("agency reply webhooks: signed reply stops reminders; forged, stale, replayed, cross-agency refused", async () => {
  const secretRes = await api(node.url, "POST", "/api/v1/agencies/MOI/secrets");
  assert.equal(secretRes.status, 201);
  assert.equal(secretRes.headers.get("location"), `/api/v1/agencies/MOI/secrets/${secretRes.body.id}`);
  const secret: string = secretRes.body.secret;
  assert.match(secret, /^whsec_/);
  const other = (await api(node.url, "POST", "/api/v1/agencies/MOH/secrets")).body.secret as string;
  await api(node.url, "POST", "/api/v1/events", issued("4001", "84001", 3));
  await eventually(async () => (await api(node.url, "GET", "/api/v1/transactions/4001")).body.outgoing?.length === 1);

  const send = (agency: string, body: unknown, key: string, opts: { id?: string; ts?: Date; tamper?: boolean } = {}) => {
    const payload = JSON.stringify(body);
    const id = opts.id ?? `msg_${Math.random().toString(36).slice(2)}`;
    const ts = opts.ts ?? new Date();
    const sig = new Webhook(key).sign(id, ts, payload);
    return http(node.url, "POST", `/webhooks/agencies/${agency}/replies`, opts.tamper ? payload.replace("R-1", "R-2") : payload, {
      "content-type": "application/json",
      "webhook-id": id,
      "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)),
      "webhook-signature": sig,
    });
  };
  const reply = { outgoingNumber: "84001", replyNumber: "R-1", replyDate: new Date().toISOString(), summary: "تمت الإفادة" };
  const before = (await api(node.url, "GET", "/api/v1/transactions/4001")).body;

  const cases: Array<[string, () => Promise<any>, number, string]> = [
    ["forged (wrong secret)", () => send("MOI", reply, "whsec_" + Buffer.from("x".repeat(32)).toString("base64")), 401, "SIGNATURE_INVALID"],
    ["tampered body", () => send("MOI", reply, secret, { tamper: true }), 401, "SIGNATURE_INVALID"],
    ["stale timestamp", () => send("MOI", reply, secret, { ts: new Date(Date.now() - 6 * 60_000) }), 401, "TIMESTAMP_OUT_OF_TOLERANCE"],
    ["future timestamp", () => send("MOI", reply, secret, { ts: new Date(Date.now() + 6 * 60_000) }), 401, "TIMESTAMP_OUT_OF_TOLERANCE"],
    ["no signature", () => http(node.url, "POST", "/webhooks/agencies/MOI/replies", reply), 401, "SIGNATURE_MISSING"],
    ["unknown agency (answered as a bad signature)", () => send("NOPE", reply, secret), 401, "SIGNATURE_INVALID"],
    ["cross-agency (answered as an unknown number)", () => send("MOH", reply, other), 404, "OUTGOING_NOT_FOUND"],
    ["unknown outgoing", () => send("MOI", { ...reply, outgoingNumber: "999999" }, secret), 404, "OUTGOING_NOT_FOUND"],
    ["invalid body", () => send("MOI", { outgoingNumber: "84001" }, secret), 400, "INVALID_BODY"],
  ];
  for (const [what, call, status, code] of cases) {
    const r = await call();
    assert.equal(r.status, status, `${what}: ${r.text}`);
    assert.equal(r.body.error.code, code, what);
  }
  assert.deepEqual((await api(node.url, "GET", "/api/v1/transactions/4001")).body, before, "refused requests change nothing");

  const ok = await send("MOI", reply, secret, { id: "msg_once" });
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.body.outcome, "accepted");
  const again = await send("MOI", reply, secret, { id: "msg_once" });
  assert.equal(again.status, 200);
  assert.equal(again.body.outcome, "duplicate");
  const t = await eventually(async () => { const t = (await api(node.url, "GET", "/api/v1/transactions/4001")).body; return t.outgoing[0].reply && t; });
  assert.equal(t.outgoing[0].reply.number, "R-1");
  assert.equal(t.history.filter((h: any) => h.type === "reply-received").length, 1);
  // The citizen is told, once; nothing is pending any more.
  await eventually(async () => (await messages("4001")).filter((m) => m.template === "reply-received").length === 1);

  // Rotation: a second secret works, the revoked one does not.
  const second = (await api(node.url, "POST", "/api/v1/agencies/MOI/secrets")).body;
  const list = (await api(node.url, "GET", "/api/v1/agencies/MOI")).body.secrets;
  assert.equal(list.length, 2);
  assert.ok(list.every((s: any) => s.secret === undefined), "secrets are never shown again");
  await api(node.url, "DELETE", `/api/v1/agencies/MOI/secrets/${secretRes.body.id}`);
  assert.equal((await send("MOI", reply, secret)).status, 401);
  assert.equal((await send("MOI", reply, second.secret, { id: "msg_once" })).body.outcome, "duplicate");
  const deliveries = (await api(node.url, "GET", "/api/v1/agencies/MOI/deliveries")).body.deliveries;
  // Only verified requests are logged: the cross-agency, unknown outgoing and invalid body ones, the replies; no 401.
  assert.ok(deliveries.length >= 5);
  assert.ok(deliveries.every((d: any) => d.status !== 401) && deliveries.some((d: any) => d.outcome === "accepted"));
});

test("a second transaction issuing the same outgoing number is refused: the first keeps its pending reply, its agency's reply reaches it", async () => {
  const { MongoClient } = await import("mongodb");
  const mongo = new MongoClient(db.url);
  await mongo.connect();
  try {
    assert.equal((await api(node.url, "POST", "/api/v1/events", issued("7001", "87001", 3))).status, 202);
    await eventually(async () => (await mongo.db().collection("pending_replies").findOne({ _id: "87001" as any }))?.transactionNumber === "7001", 10_000, "the first pending reply");
    // Another transaction, to another agency, with the same outgoing number.
    const second = await api(node.url, "POST", "/api/v1/events", issued("7002", "87001", 1, "MOH"));
    assert.equal(second.status, 409, second.text);
    assert.equal(second.body.error.code, "OUTGOING_NUMBER_CONFLICT");
    assert.equal(second.body.error.details[0].transactionNumber, "7001");
    await new Promise((r) => setTimeout(r, 700));
    const pending = await mongo.db().collection("pending_replies").findOne({ _id: "87001" as any });
    assert.equal(pending?.transactionNumber, "7001", "the first transaction keeps its follow-up");
    assert.equal(pending?.agencyCode, "MOI");
    assert.equal((await api(node.url, "GET", "/api/v1/transactions/7002")).status, 404);

    const secret = (await api(node.url, "POST", "/api/v1/agencies/MOI/secrets")).body.secret as string;
    const body = JSON.stringify({ outgoingNumber: "87001", replyNumber: "R-7", replyDate: new Date().toISOString() });
    const id = "msg_7001";
    const ts = new Date();
    const r = await http(node.url, "POST", "/webhooks/agencies/MOI/replies", body, {
      "content-type": "application/json", "webhook-id": id, "webhook-timestamp": String(Math.floor(ts.getTime() / 1000)), "webhook-signature": new Webhook(secret).sign(id, ts, body),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.transactionNumber, "7001");
    await eventually(async () => (await api(node.url, "GET", "/api/v1/transactions/7001")).body.outgoing[0].reply?.number === "R-7", 10_000, "the reply on the first transaction");
    await eventually(async () => !(await mongo.db().collection("pending_replies").findOne({ _id: "87001" as any })), 10_000, "its pending reply done");
  } finally {
    await mongo.close();
  }
});

test("a reply stops all further reminders", async () => {
  await api(node.url, "POST", "/api/v1/events", issued("5001", "85001", 11));
  await eventually(async () => (await overdueOf("5001")).length === 1, 10000, "overdue");
  await api(node.url, "POST", "/api/v1/events", { id: "5001-reply", type: "reply-received", transactionNumber: "5001", occurredAt: new Date().toISOString(), data: { outgoingNumber: "85001" } });
  await eventually(async () => (await api(node.url, "GET", "/api/v1/transactions/5001")).body.outgoing[0].reply);
  const dept = (await api(node.url, "GET", "/api/v1/departments/LEGAL")).body;
  // Lowering the period so far that every reminder would be due: nothing more is sent.
  await api(node.url, "PUT", "/api/v1/departments/LEGAL", { name: dept.name, manager: dept.manager, replyPeriodDays: 1, reminderEveryDays: 1 });
  await api(node.url, "POST", "/api/v1/followup/sweep");
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal((await overdueOf("5001")).length, 1);
});

test("ten items noticed by their jobs keep ten pending jobs, each moved to its reminder", async () => {
  const { MongoClient } = await import("mongodb");
  const mongo = new MongoClient(db.url);
  await mongo.connect();
  try {
    await api(node.url, "PUT", "/api/v1/departments/TEN", { name: { ar: "إدارة", en: "Dept" }, manager: { name: "مدير", mobile: "0559990005" }, replyPeriodDays: 10, reminderEveryDays: 30 });
    // Due a few seconds from now: the scheduler's own jobs send the overdue notices (not a sweep).
    const outgoingAt = new Date(Date.now() - 10 * DAY + 3000).toISOString();
    const numbers = Array.from({ length: 10 }, (_, i) => `60${String(i).padStart(2, "0")}`);
    await api(node.url, "POST", "/api/v1/events", numbers.flatMap((n) => [
      { id: `${n}-r`, type: "registered", transactionNumber: n, occurredAt: outgoingAt, data: { citizen: { name: "x", mobile: "0551234567" }, departmentCode: "TEN" } },
      { id: `${n}-i`, type: "issued", transactionNumber: n, occurredAt: outgoingAt, data: { outgoingNumber: `9${n}`, outgoingDate: outgoingAt, destination: { agencyCode: "MOI" }, requiresReply: true } },
    ]));
    // The configured settings are the scheduler's (JOB_LOCK_LIFETIME_MS once did nothing).
    const { agenda } = (node.broker.getLocalService("followup") as unknown as { jobs: Jobs }).jobs;
    assert.equal(agenda.definitions["followup.due"]?.lockLifetime, 4000, "JOB_LOCK_LIFETIME_MS is the follow-up jobs' lock");
    assert.equal(agenda.attrs.processEvery, 500, "JOB_PROCESS_EVERY_MS is the scheduler's look");
    const jobs = () => mongo.db().collection("agendaJobs").find({ name: "followup.due", "data.outgoingNumber": { $in: numbers.map((n) => `9${n}`) } }).toArray();
    await eventually(async () => (await jobs()).length === 10, 30_000, "ten jobs scheduled");
    await eventually(async () => {
      const sent = await Promise.all(numbers.map(async (n) => (await overdueOf(n)).length));
      return sent.every((c) => c === 1);
    }, 90_000, "ten overdue notices");
    // Each job was re-timed to its item's reminder (the department reminds every 30 days), none removed.
    const left = await eventually(async () => {
      const js = await jobs();
      return js.length === 10 && js.every((j) => !j.lockedAt && j.nextRunAt && j.nextRunAt.getTime() > Date.now() + 20 * DAY) && js;
    }, 30_000, "ten jobs moved to their reminders");
    assert.equal(left.length, 10);
    const pending = await mongo.db().collection("pending_replies").find({ _id: { $in: numbers.map((n) => `9${n}`) as any[] } }).toArray();
    assert.equal(pending.length, 10);
    for (const p of pending) assert.equal(p.stage, 1, "the overdue notice sent, the first reminder next");
  } finally {
    await mongo.close();
  }
});

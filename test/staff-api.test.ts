// The staff API a newcomer meets first: directory lists with paging, refusals of what would
// be stored dangling or silently match nothing, the message log's mobiles behind a scope,
// final times and histograms that read right.
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode, api, http, eventually, sampleLifecycle, API_KEY } from "./support/harness.ts";
import { claimDueMessages, MISSING_DATA_GRACE_MS } from "../core/sms/queue.ts";
import { MessageModel } from "../core/sms/models.ts";

const READER_KEY = "reader-key-0123456789abcdef";
const world = smsNode({ env: { API_KEYS: `${API_KEY},${READER_KEY}=messages:read+directory:admin` } });
const as = (key: string, p: string) => http(world.node.url, "GET", p, undefined, { authorization: `Bearer ${key}` });

test("GET departments, employees and agencies list the directory in pages of ?limit= with an ?after= cursor", async () => {
  const { node } = world;
  for (const c of ["D1", "D2", "D3"]) {
    assert.equal((await api(node.url, "PUT", `/api/v1/departments/${c}`, { name: { ar: "إدارة", en: "Dept" }, manager: { name: "مدير", mobile: "0559990009" } })).status, 201);
  }
  const first = await api(node.url, "GET", "/api/v1/departments?limit=2");
  assert.equal(first.status, 200);
  assert.deepEqual(first.body.departments.map((d: any) => d.code), ["D1", "D2"]);
  assert.equal(first.body.next, "D2");
  const second = await api(node.url, "GET", `/api/v1/departments?limit=2&after=${first.body.next}`);
  assert.deepEqual(second.body.departments.map((d: any) => d.code), ["D3", "LEGAL"]);
  const last = await api(node.url, "GET", `/api/v1/departments?limit=2&after=LEGAL`);
  assert.deepEqual(last.body, { departments: [] });
  assert.equal(second.body.departments[1].manager.mobile, "+966559990001");

  const employees = await api(node.url, "GET", "/api/v1/employees");
  assert.deepEqual(employees.body.employees.map((e: any) => [e.id, e.departmentCode]), [["E100", "LEGAL"]]);
  assert.equal(employees.body.next, undefined);
  const agencies = await api(node.url, "GET", "/api/v1/agencies");
  assert.deepEqual(agencies.body.agencies.map((a: any) => [a.code, a.name.en, a.secrets]), [["MOI", "Ministry of Interior", []]]);

  for (const q of ["limit=0", "limit=501", "limit=abc", "after=%20x"]) {
    const r = await api(node.url, "GET", `/api/v1/employees?${q}`);
    assert.equal(r.status, 400, q);
    assert.ok(["INVALID_LIMIT", "INVALID_CODE"].includes(r.body.error.code), q);
  }
  assert.equal((await api(node.url, "GET", "/api/v1/agencies?limit=500")).status, 200);
  // A key without directory:admin may not list the directory.
  const metricsOnly = await http(node.url, "GET", "/api/v1/departments", undefined, { authorization: "Bearer nobody-key-0000000000" });
  assert.equal(metricsOnly.status, 401);
});

test("an employee whose departmentCode is not in the directory is refused with 400 DEPARTMENT_NOT_FOUND, and nothing is stored", async () => {
  const { node } = world;
  const r = await api(node.url, "PUT", "/api/v1/employees/E777", { name: "موظف", mobile: "0559990077", departmentCode: "NOPE" });
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, "DEPARTMENT_NOT_FOUND");
  assert.match(r.body.error.message, /NOPE/);
  assert.equal((await api(node.url, "GET", "/api/v1/employees/E777")).status, 404);
  assert.equal((await api(node.url, "PUT", "/api/v1/employees/E777", { name: "موظف", mobile: "0559990077", departmentCode: "LEGAL" })).status, 201);
});

test("GET messages?status= with an unknown status is a 400 listing the valid ones", async () => {
  const r = await api(world.node.url, "GET", "/api/v1/messages?status=bogus");
  assert.equal(r.status, 400);
  assert.equal(r.body.error.code, "INVALID_STATUS");
  assert.match(r.body.error.message, /queued, sending, submitted, delivered, undeliverable, expired, rejected, failed/);
  assert.equal((await api(world.node.url, "GET", "/api/v1/messages?status=delivered")).status, 200);
});

test("the message log shows the full number only to a key with messages:read-mobiles; finalAt is never before submittedAt", async () => {
  const { node } = world;
  const [registered] = sampleLifecycle("1445000888");
  assert.equal((await api(node.url, "POST", "/api/v1/events", registered)).status, 202);
  const path = "/api/v1/messages?transactionNumber=1445000888";
  const [full] = await eventually(async () => {
    const l = (await api(node.url, "GET", path)).body.messages;
    return l?.[0]?.status === "delivered" && l;
  }, 20000, "the registered SMS delivered");
  assert.equal(full.to, "+966551234567");
  assert.equal(full.toMasked, "05••••••67");
  // Receipts carry their done time to the minute: the final time is the later of it and the submit.
  assert.ok(new Date(full.finalAt) >= new Date(full.submittedAt), `finalAt ${full.finalAt} before submittedAt ${full.submittedAt}`);

  const [masked] = (await as(READER_KEY, path)).body.messages;
  assert.equal(masked.to, undefined);
  assert.equal(masked.toMasked, "05••••••67");
  assert.equal(masked.id, full.id);
  assert.ok(!JSON.stringify(masked).includes("551234567"), "no full number anywhere in the answer");
});

test(`a message waiting for an employee not in the directory fails after ${MISSING_DATA_GRACE_MS / 1000} s, before the 600 s queue-age alert`, async () => {
  const { node } = world;
  const [registered, , assigned] = sampleLifecycle("1445000999", { prefix: "nf" });
  (assigned!.data as any).employeeId = "E404";
  for (const e of [registered, assigned]) assert.equal((await api(node.url, "POST", "/api/v1/events", e)).status, 202);
  const id = await eventually(async () => {
    const m = await MessageModel.findOne({ transactionNumber: "1445000999", role: "employee" }).lean();
    return m?.error?.code === "EMPLOYEE_NOT_FOUND" && m.status === "queued" && { id: m._id, createdAt: m.createdAt };
  }, 20000, "the employee's SMS waiting for its employee");
  assert.ok(MISSING_DATA_GRACE_MS < 600_000);
  const deps = { render: { render: () => ({ text: "" }) }, analyse: () => ({ encoding: "GSM7", partCount: 1 }), maxParts: 6, staleSendingMs: 120_000 };
  // A dispatcher's round at the end of the grace: the message fails for good (retried while the node's own dispatcher competes).
  const now = new Date(id.createdAt.getTime() + MISSING_DATA_GRACE_MS + 1000);
  const failed = await eventually(async () => {
    await claimDueMessages(500, deps, { now });
    const m = await MessageModel.findById(id.id).lean();
    return m?.status === "failed" && m;
  }, 20000, "the message failed");
  assert.equal(failed.error?.code, "EMPLOYEE_NOT_FOUND");
});

test("GET /metrics lists every histogram's buckets in ascending le order", async () => {
  const text = (await api(world.node.url, "GET", "/metrics")).text;
  const series = new Map<string, number[]>();
  for (const m of text.matchAll(/^(\S+_bucket)\{(.*?),?le="([^"]*)"\S*\} \S+$/gm)) {
    const key = `${m[1]}{${m[2]}}`;
    series.set(key, [...(series.get(key) ?? []), m[3] === "+Inf" ? Infinity : Number(m[3])]);
  }
  assert.ok([...series.keys()].some((k) => k.startsWith("taqib_sms_receipt_latency_seconds_bucket")), "the receipt latency histogram is there");
  for (const [key, les] of series) assert.deepEqual(les, [...les].sort((a, b) => a - b), key);
});

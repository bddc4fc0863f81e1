// Per-department notification switches over HTTP, counted at the SMSC simulator: the
// defaults send what was always sent (no referral or closing notice), a department that
// turns the referral and closing notices on and the registration off gets exactly that, and a
// bad switch is a 400 that changes nothing.
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode, api, eventually } from "./support/harness.ts";

const world = smsNode({ smsc: { dlrDelayMs: 20 }, env: { SERVICES: "api,events,directory,notifier,smpp" } });
const EMPLOYEE = "966559990002";

const at = (min: number) => new Date(Date.now() - 60 * 60_000 + min * 60_000).toISOString();
/** A whole lifecycle in department `dept`, the citizen's mobile 055123000<i>. */
const lifecycle = (n: string, dept: string, i: number) => [
  { id: `ns-${n}-r`, type: "registered", transactionNumber: n, occurredAt: at(0), data: { citizen: { name: "مواطن", mobile: `055123000${i}` }, departmentCode: "LEGAL" } },
  { id: `ns-${n}-f`, type: "referred", transactionNumber: n, occurredAt: at(1), data: { departmentCode: dept } },
  { id: `ns-${n}-a`, type: "assigned", transactionNumber: n, occurredAt: at(2), data: { employeeId: "E100" } },
  { id: `ns-${n}-i`, type: "issued", transactionNumber: n, occurredAt: at(3), data: { outgoingNumber: `9${n}`, outgoingDate: at(3), destination: { agencyCode: "MOI" }, requiresReply: false } },
  { id: `ns-${n}-c`, type: "closed", transactionNumber: n, occurredAt: at(4), data: {} },
];
const templates = async (n: string) => ((await api(world.node.url, "GET", `/api/v1/messages?transactionNumber=${n}`)).body.messages as any[]).map((m) => m.template).sort();

test("a department's switches decide which SMS its transactions cause; closed and referred off by default", async () => {
  const { node, smsc } = world;
  const to = (mobile: string) => smsc.received.filter((m) => m.to === mobile);
  const legal = (await api(node.url, "GET", "/api/v1/departments/LEGAL")).body;
  assert.deepEqual(legal.notifications, { registered: true, referred: false, assigned: true, issued: true, "reply-received": true, closed: false });

  // Bad switches: 400 naming the field, nothing changed.
  const body = { name: { ar: "إدارة الحقوق المدنية", en: "Civil Rights" }, manager: { name: "مدير", mobile: "0559990011" } };
  for (const [notifications, field] of [[{ closed: "yes" }, "notifications.closed"], [{ archived: true }, "notifications.archived"], [[true], "notifications"]] as const) {
    const r = await api(node.url, "PUT", "/api/v1/departments/CIVIL", { ...body, notifications });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.body.error.code, "INVALID_BODY");
    assert.ok(r.body.error.details.some((d: any) => d.field === field), r.text);
  }
  assert.equal((await api(node.url, "GET", "/api/v1/departments/CIVIL")).status, 404);

  const put = await api(node.url, "PUT", "/api/v1/departments/CIVIL", { ...body, notifications: { referred: true, closed: true, registered: false } });
  assert.equal(put.status, 201, put.text);
  assert.deepEqual(put.body.notifications, { registered: false, referred: true, assigned: true, issued: true, "reply-received": true, closed: true });

  // 8901 stays in LEGAL (defaults), 8902 is referred to CIVIL (its switches).
  const posted = await api(node.url, "POST", "/api/v1/events", [...lifecycle("8901", "LEGAL", 1), ...lifecycle("8902", "CIVIL", 2)]);
  assert.equal(posted.status, 202, posted.text);
  await eventually(async () => to("966551230001").length === 2 && to("966551230002").length === 3 && to(EMPLOYEE).length === 2, 20000, "the SMS of both");
  await new Promise((r) => setTimeout(r, 1000)); // time for an SMS that should not go, if one did
  assert.deepEqual(await templates("8901"), ["assigned", "issued", "registered"]);
  assert.deepEqual(await templates("8902"), ["assigned", "closed", "issued", "referred"]);
  const civil = to("966551230002").map((m) => m.text.replace(/[\u2066-\u2069]/g, "")); // numbers isolated in Arabic text
  assert.ok(civil.some((t) => t.includes("بإحالة معاملتكم رقم 8902 إلى إدارة الحقوق المدنية")), civil.join("\n"));
  assert.ok(civil.some((t) => t.includes("بانتهاء الإجراءات على معاملتكم رقم 8902")), civil.join("\n"));

  const expected = 7;
  const keys = smsc.received.map((m) => `${m.to}|${m.text}`);
  const sent = new Set(keys).size;
  console.log(`# notification switches: SMS expected ${expected}, sent ${sent}, duplicated ${keys.length - sent}, lost ${expected - sent}`);
  assert.equal(keys.length - sent, 0);
  assert.equal(sent, expected);
});

// The pure parts of the follow-up notices: which transaction waits for its employee, and which
// SMS each notice of a sequence is (the records and jobs are tested against a real server).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { internalItem, noticeOf } from "./notices.ts";
import { policyOf } from "./policy.ts";
import { project, type LifecycleEvent } from "../events/lifecycle.ts";
import type { EventType } from "../events/models.ts";

const DAY = 86_400_000;
const T0 = Date.parse("2026-11-01T06:00:00Z");
const ev = (id: string, type: EventType, day: number, data: Record<string, any> = {}): LifecycleEvent => ({
  id, type, transactionNumber: "1445001", occurredAt: new Date(T0 + day * DAY), receivedAt: new Date(T0 + day * DAY), data,
});
const registered = ev("r", "registered", 0, { citizen: { name: "سارة", mobile: "+966551234567" }, departmentCode: "LEGAL" });

describe("internalItem", () => {
  it("an assigned transaction waits for its employee from the last assignment", () => {
    assert.deepEqual(internalItem(project("1445001", [registered, ev("a1", "assigned", 1, { employeeId: "E1" }), ev("a2", "assigned", 2, { employeeId: "E2" })])), {
      itemId: "assigned:a2", employeeId: "E2", assignedAt: new Date(T0 + 2 * DAY),
    });
  });

  it("a reply received does not move it on; an issue, a referral or a closing does", () => {
    const assigned = ev("a1", "assigned", 1, { employeeId: "E1" });
    assert.equal(internalItem(project("1445001", [registered, assigned, ev("x", "reply-received", 2, { outgoingNumber: "1" })]))?.itemId, "assigned:a1");
    for (const type of ["issued", "referred", "closed"] as const) {
      const data = type === "issued" ? { outgoingNumber: "1", destination: { agencyCode: "MOI" } } : { departmentCode: "HR" };
      assert.equal(internalItem(project("1445001", [registered, assigned, ev("x", type, 2, data)])), undefined, type);
    }
  });

  it("assigned again after moving on: a new item", () => {
    const s = project("1445001", [registered, ev("a1", "assigned", 1, { employeeId: "E1" }), ev("f", "referred", 2, { departmentCode: "HR" }), ev("a2", "assigned", 3, { employeeId: "E9" })]);
    assert.equal(internalItem(s)?.itemId, "assigned:a2");
  });

  it("never assigned, or closed: nothing waits", () => {
    assert.equal(internalItem(project("1445001", [registered])), undefined);
    assert.equal(internalItem(project("1445001", [registered, ev("c", "closed", 1), ev("a", "assigned", 2, { employeeId: "E1" })])), undefined);
  });
});

describe("noticeOf", () => {
  const now = new Date(T0 + 14 * DAY);
  const replyItem = { _id: "5501", kind: "reply", transactionNumber: "1445001", departmentCode: "LEGAL", dueAt: new Date(T0 + 10 * DAY), stage: 0 } as any;
  const internalItemDoc = { _id: "assigned:a1", kind: "internal", transactionNumber: "1445001", departmentCode: "LEGAL", employeeId: "E1", assignedAt: new Date(T0 + 1 * DAY), dueAt: new Date(T0 + 8 * DAY), stage: 0 } as any;
  const withEscalation = policyOf("reply", { escalation: { name: "و", mobile: "+966500000002" } }, 10);

  it("replies: overdue, reminders, then the escalation, each once (id from the item and the stage)", () => {
    const base = { transactionNumber: "1445001", departmentCode: "LEGAL" };
    const vars = { outgoingNumber: "5501", departmentCode: "LEGAL", daysOverdue: 4 };
    assert.deepEqual(noticeOf(replyItem, 0, withEscalation, now), { ...base, _id: "followup:5501:0", template: "overdue", role: "manager", vars });
    assert.deepEqual(noticeOf(replyItem, 2, withEscalation, now), { ...base, _id: "followup:5501:2", template: "reminder", role: "manager", vars: { ...vars, reminderNumber: 2 } });
    assert.deepEqual(noticeOf(replyItem, 4, withEscalation, now), { ...base, _id: "followup:5501:4", template: "escalation", role: "escalation", vars: { ...vars, reminderCount: 3 } });
    assert.equal(noticeOf(replyItem, 4, policyOf("reply", null, 10), now), undefined);
    assert.equal(noticeOf(replyItem, 5, withEscalation, now), undefined);
  });

  it("internal items: the employee, then the manager; days held counted in calendar days", () => {
    const policy = policyOf("internal", { manager: { name: "م", mobile: "+966500000001" } }, 10);
    const vars = { employeeId: "E1", departmentCode: "LEGAL", assignedAt: internalItemDoc.assignedAt, daysHeld: 13 };
    assert.equal(noticeOf(internalItemDoc, 0, policy, now)?.template, "internal-due");
    assert.deepEqual(noticeOf(internalItemDoc, 1, policy, now)?.vars, { ...vars, reminderNumber: 1 });
    assert.deepEqual(noticeOf(internalItemDoc, 2, policy, now), {
      transactionNumber: "1445001", departmentCode: "LEGAL", _id: "followup:assigned:a1:2", template: "internal-escalation", role: "manager", vars: { ...vars, reminderCount: 1 },
    });
    assert.equal(noticeOf(internalItemDoc, 2, policyOf("internal", null, 10), now), undefined);
  });

  it("a notice sent before its due date (a clock set back) counts no negative days", () => {
    assert.equal(noticeOf(replyItem, 0, withEscalation, new Date(T0))!.vars!.daysOverdue, 0);
  });
});

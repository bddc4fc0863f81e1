// Which SMS an applied event plans, under a department's switches (no database: planning is
// pure, queueing is tested against a real server under test/).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { EVENT_NOTIFICATIONS, plannedMessages } from "./notifications.ts";
import { DEFAULT_NOTIFICATIONS, NOTIFICATION_TYPES, notificationSwitches } from "./switches.ts";
import { project, type LifecycleEvent } from "../events/lifecycle.ts";
import type { EventType } from "../events/models.ts";

const at = new Date("2026-11-01T08:00:00Z");
const ev = (id: string, type: EventType, data: Record<string, any> = {}): LifecycleEvent => ({ id, type, transactionNumber: "1445001", occurredAt: at, receivedAt: at, data });
const ALL_ON = notificationSwitches(Object.fromEntries(NOTIFICATION_TYPES.map((t) => [t, true])));

const registered = ev("e1", "registered", { citizen: { name: "سارة", mobile: "+966551234567" }, departmentCode: "LEGAL" });
const issued = ev("e2", "issued", { outgoingNumber: "5501", destination: { agencyCode: "MOI" }, requiresReply: true });

describe("plannedMessages", () => {
  const cases: Array<{ event: LifecycleEvent; template: string; role: string; vars: Record<string, unknown> }> = [
    { event: registered, template: "registered", role: "citizen", vars: {} },
    { event: ev("e3", "referred", { departmentCode: "HR" }), template: "referred", role: "citizen", vars: { departmentCode: "HR" } },
    { event: ev("e4", "assigned", { employeeId: "E7" }), template: "assigned", role: "employee", vars: { employeeId: "E7" } },
    { event: issued, template: "issued", role: "citizen", vars: { outgoingNumber: "5501" } },
    { event: ev("e5", "reply-received", { outgoingNumber: "5501" }), template: "reply-received", role: "citizen", vars: { outgoingNumber: "5501" } },
    { event: ev("e6", "closed"), template: "closed", role: "citizen", vars: { closedAt: at } },
  ];
  for (const c of cases) {
    it(`${c.event.type}: ${c.template} to the ${c.role}, id from the event`, () => {
      assert.deepEqual(plannedMessages(c.event, undefined, ALL_ON), [
        { _id: `${c.event.id}:${c.template}:${c.role}`, transactionNumber: "1445001", eventId: c.event.id, template: c.template, role: c.role, vars: c.vars, departmentCode: undefined },
      ]);
    });
  }

  it("the trigger table covers every event type the switches know", () => {
    assert.deepEqual(Object.keys(EVENT_NOTIFICATIONS).sort(), [...NOTIFICATION_TYPES].sort());
  });

  it("by default the referral and closing notices are off, the others on", () => {
    assert.equal(plannedMessages(ev("e3", "referred", { departmentCode: "HR" })).length, 0);
    assert.equal(plannedMessages(ev("e6", "closed")).length, 0);
    assert.equal(plannedMessages(registered).length, 1);
  });

  it("a department's switch turns a notice off or on", () => {
    assert.deepEqual(plannedMessages(issued, undefined, notificationSwitches({ issued: false })), []);
    assert.equal(plannedMessages(ev("e6", "closed"), undefined, notificationSwitches({ closed: true })).length, 1);
  });

  it("staff messages carry the transaction's department (its hours apply)", () => {
    const state = project("1445001", [registered, ev("e4", "assigned", { employeeId: "E7" })]);
    assert.equal(plannedMessages(ev("e4", "assigned", { employeeId: "E7" }), state)[0]!.departmentCode, "LEGAL");
  });

  it("a reply is news only once: a second reply to the same item plans nothing", () => {
    const first = ev("e7", "reply-received", { outgoingNumber: "5501" });
    const second = ev("e8", "reply-received", { outgoingNumber: "5501" });
    const state = project("1445001", [registered, issued, first, second]);
    assert.equal(plannedMessages(first, state).length, 1);
    assert.deepEqual(plannedMessages(second, state), []);
    // A reply to an item not (yet) issued is still told.
    assert.equal(plannedMessages(ev("e9", "reply-received", { outgoingNumber: "9999" }), state).length, 1);
  });

  it("applying the same event again plans the same ids (nothing is sent twice)", () => {
    const state = project("1445001", [registered, issued]);
    assert.deepEqual(plannedMessages(issued, state), plannedMessages(issued, state));
  });
});

describe("notificationSwitches", () => {
  it("a department's own booleans over the defaults; anything else ignored", () => {
    assert.deepEqual(notificationSwitches(undefined), DEFAULT_NOTIFICATIONS);
    assert.deepEqual(notificationSwitches(null), DEFAULT_NOTIFICATIONS);
    assert.deepEqual(notificationSwitches({ closed: true, issued: "no", registered: 0, bogus: true }), { ...DEFAULT_NOTIFICATIONS, closed: true });
    assert.deepEqual(notificationSwitches({ registered: false }), { ...DEFAULT_NOTIFICATIONS, registered: false });
  });
});

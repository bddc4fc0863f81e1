// The fold of events into a transaction's state: what each event does (a table), and the
// promise the module makes, checked with fast-check: the state depends on the set of events,
// not on the order they arrive in.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { awaitingReply, compareEvents, project, type LifecycleEvent, type TransactionState } from "./lifecycle.ts";
import type { EventType } from "./models.ts";

const T0 = Date.parse("2026-11-01T08:00:00Z");
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

let seq = 0;
/** An event `minutes` after T0, received at the same moment unless told otherwise. */
function ev(type: EventType, minutes: number, data: Record<string, any> = {}, more: Partial<LifecycleEvent> = {}): LifecycleEvent {
  return { id: `e${++seq}`, type, transactionNumber: "1445001", occurredAt: at(minutes), receivedAt: at(minutes), data, ...more };
}
const registered = (minutes: number, data: Record<string, any> = {}) =>
  ev("registered", minutes, { citizen: { name: "سارة", mobile: "+966551234567", language: "en" }, subject: "رخصة", departmentCode: "LEGAL", ...data });
const issued = (minutes: number, outgoingNumber: string, data: Record<string, any> = {}) =>
  ev("issued", minutes, { outgoingNumber, destination: { agencyCode: "MOI" }, requiresReply: true, ...data });
const reply = (minutes: number, outgoingNumber: string, data: Record<string, any> = {}) => ev("reply-received", minutes, { outgoingNumber, ...data });

describe("project: what each event does", () => {
  it("nothing yet: unregistered, empty", () => {
    assert.deepEqual(project("1445001", []), { number: "1445001", status: "unregistered", registered: false, outgoing: [], history: [], eventCount: 0 });
  });

  it("registered keeps the citizen, subject and department; assigned and referred move it on", () => {
    const r = registered(0);
    const s = project("1445001", [ev("assigned", 20, { employeeId: "E7" }), r, ev("referred", 10, { departmentCode: "HR" })]);
    assert.equal(s.status, "assigned");
    assert.equal(s.registered, true);
    assert.deepEqual(s.registeredAt, r.occurredAt);
    assert.deepEqual(s.citizen, { name: "سارة", mobile: "+966551234567", language: "en" });
    assert.equal(s.subject, "رخصة");
    assert.equal(s.departmentCode, "HR");
    assert.equal(s.assigneeId, "E7");
    assert.deepEqual(s.assignedAt, at(20));
    assert.deepEqual(s.history.map((h) => h.type), ["registered", "referred", "assigned"]);
    assert.equal(s.eventCount, 3);
  });

  it("a citizen without a language is written to in Arabic", () => {
    const s = project("1", [registered(0, { citizen: { name: "x", mobile: "+966500000000" } })]);
    assert.equal(s.citizen?.language, "ar");
  });

  it("events without a registration still project (late registration), status from the last", () => {
    const s = project("1", [ev("assigned", 5, { employeeId: "E1" })]);
    assert.equal(s.status, "assigned");
    assert.equal(s.registered, false);
    assert.equal(s.citizen, undefined);
  });

  it("closed is terminal: later events are kept in the history but do not reopen", () => {
    const closed = ev("closed", 10);
    const s = project("1", [registered(0), closed, ev("assigned", 20, { employeeId: "E1" })]);
    assert.equal(s.status, "closed");
    assert.deepEqual(s.closedAt, closed.occurredAt);
    assert.equal(s.assigneeId, "E1");
    assert.equal(s.eventCount, 3);
  });

  it("issued: the outgoing date defaults to the event's, the display number and name are kept when given", () => {
    const i = issued(5, "5501", { outgoingDisplayNumber: "1448/5501", destination: { agencyCode: "MOI", name: "الداخلية" }, requiresReply: false });
    const j = issued(6, "5502", { outgoingDate: "2026-10-30T00:00:00.000Z" });
    const s = project("1", [registered(0), i, j]);
    assert.deepEqual(s.outgoing, [
      { number: "5501", displayNumber: "1448/5501", date: i.occurredAt, destination: { agencyCode: "MOI", name: "الداخلية" }, requiresReply: false, eventId: i.id },
      { number: "5502", date: new Date("2026-10-30T00:00:00.000Z"), destination: { agencyCode: "MOI" }, requiresReply: true, eventId: j.id },
    ]);
    assert.deepEqual(awaitingReply(s).map((o) => o.number), ["5502"]);
  });

  it("a reply is attached to its item; only the first reply counts", () => {
    const first = reply(10, "5501", { replyNumber: "R1", replyDate: "2026-11-02", summary: "ok", via: "webhook" });
    const s = project("1", [issued(5, "5501"), reply(20, "5501", { replyNumber: "R2" }), first]);
    assert.deepEqual(s.outgoing[0]!.reply, { number: "R1", date: new Date("2026-11-02"), summary: "ok", via: "webhook", receivedAt: first.receivedAt, eventId: first.id });
    assert.equal(s.status, "reply-received");
    assert.deepEqual(awaitingReply(s), []);
  });

  it("a reply that arrives before its issued event is attached when the item appears", () => {
    const early = reply(3, "5501");
    const s = project("1", [early, issued(5, "5501")]);
    assert.equal(s.outgoing[0]!.reply?.eventId, early.id);
    assert.equal(s.status, "issued");
  });

  it("a re-issue of the same number corrects the item and keeps its reply", () => {
    const r = reply(10, "5501");
    const again = issued(20, "5501", { destination: { agencyCode: "MOJ" } });
    const s = project("1", [issued(5, "5501"), r, again]);
    assert.equal(s.outgoing.length, 1);
    assert.equal(s.outgoing[0]!.destination.agencyCode, "MOJ");
    assert.equal(s.outgoing[0]!.eventId, again.id);
    assert.equal(s.outgoing[0]!.reply?.eventId, r.id);
  });

  it("display number: the registered event's wins, else the first event's", () => {
    assert.equal(project("1", [ev("assigned", 0, { employeeId: "E", displayNumber: "1/A" }), registered(5, { displayNumber: "1/R" }), ev("closed", 9, { displayNumber: "1/C" })]).displayNumber, "1/R");
    assert.equal(project("1", [ev("assigned", 0, { employeeId: "E", displayNumber: "1/A" }), ev("closed", 9, { displayNumber: "1/C" })]).displayNumber, "1/A");
    assert.equal(project("1", [ev("closed", 9)]).displayNumber, undefined);
  });

  it("nothing awaits a reply once the transaction is closed", () => {
    assert.deepEqual(awaitingReply(project("1", [issued(5, "5501"), ev("closed", 9)])), []);
  });

  it("events order by occurredAt, then arrival, then id", () => {
    const a = ev("assigned", 5, {}, { id: "b", receivedAt: at(7) });
    const b = ev("assigned", 5, {}, { id: "a", receivedAt: at(8) });
    const c = ev("assigned", 5, {}, { id: "c", receivedAt: at(7) });
    assert.deepEqual([b, c, a].sort(compareEvents).map((e) => e.id), ["b", "c", "a"]);
  });
});

// Small pools so that ties (same minute, same outgoing number) and early replies are common.
const TYPES: EventType[] = ["registered", "referred", "assigned", "issued", "reply-received", "closed"];
const OUTGOING = ["11", "12", "13"];
const dataOf = (type: EventType): fc.Arbitrary<Record<string, any>> => {
  const display = fc.option(fc.constantFrom("1445/001", "1445-001", "١٤٤٥٠٠١"), { nil: undefined }).map((d) => (d === undefined ? {} : { displayNumber: d }));
  const own: Record<EventType, fc.Arbitrary<Record<string, any>>> = {
    registered: fc.record({
      citizen: fc.record({ name: fc.constantFrom("سارة", "Ali"), mobile: fc.constantFrom("+966551234567", "+966500000001"), language: fc.constantFrom("ar", "en") }),
      subject: fc.constantFrom("s1", "s2"),
      departmentCode: fc.constantFrom("LEGAL", "HR"),
    }, { requiredKeys: ["citizen"] }),
    referred: fc.record({ departmentCode: fc.constantFrom("LEGAL", "HR", "FIN") }),
    assigned: fc.record({ employeeId: fc.constantFrom("E1", "E2") }),
    issued: fc.record({
      outgoingNumber: fc.constantFrom(...OUTGOING),
      outgoingDate: fc.constantFrom("2026-10-01T00:00:00.000Z", "2026-10-02T00:00:00.000Z"),
      destination: fc.record({ agencyCode: fc.constantFrom("MOI", "MOJ"), name: fc.constantFrom("جهة", "") }),
      requiresReply: fc.boolean(),
    }, { requiredKeys: ["outgoingNumber", "destination", "requiresReply"] }),
    "reply-received": fc.record({ outgoingNumber: fc.constantFrom(...OUTGOING), replyNumber: fc.constantFrom("R1", "R2"), summary: fc.constantFrom("a", "b") }, { requiredKeys: ["outgoingNumber"] }),
    closed: fc.constant({}),
  };
  return fc.tuple(own[type], display).map(([d, extra]) => ({ ...d, ...extra }));
};
const anEvent = (id: string) =>
  fc.constantFrom(...TYPES).chain((type) =>
    fc.record({ occurred: fc.integer({ min: 0, max: 6 }), lag: fc.integer({ min: 0, max: 3 }), data: dataOf(type) }).map(
      ({ occurred, lag, data }): LifecycleEvent => ({ id, type, transactionNumber: "1445001", occurredAt: at(occurred), receivedAt: at(occurred + lag), data }),
    ),
  );
/** A transaction's events: distinct ids, as the store keeps them. */
const events = fc.uniqueArray(fc.stringMatching(/^[a-e][0-9]$/), { maxLength: 12 }).chain((ids) => fc.tuple(...ids.map(anEvent)));

/** The state without the log of what arrived (the part a duplicate adds to). */
const withoutLog = ({ history: _h, eventCount: _c, ...rest }: TransactionState) => rest;

describe("project: properties", () => {
  it("the same events in any order project the same state", () => {
    fc.assert(
      fc.property(events.chain((es) => fc.tuple(fc.constant(es), fc.shuffledSubarray(es, { minLength: es.length, maxLength: es.length }))), ([es, shuffled]) => {
        assert.deepEqual(project("1445001", shuffled), project("1445001", es));
      }),
      { numRuns: 300 },
    );
  });

  it("a redelivered event (same id, same content) changes only the log of arrivals", () => {
    fc.assert(
      fc.property(events, fc.array(fc.nat(), { maxLength: 5 }), (es, picks) => {
        const dup = [...es, ...(es.length ? picks.map((i) => es[i % es.length]!) : [])].reverse();
        const once = project("1445001", es);
        const twice = project("1445001", dup);
        assert.deepEqual(withoutLog(twice), withoutLog(once));
        assert.equal(twice.eventCount, dup.length);
      }),
      { numRuns: 200 },
    );
  });

  it("what the state says follows from the set of events", () => {
    fc.assert(
      fc.property(events, (es) => {
        const s = project("1445001", es);
        const sorted = [...es].sort(compareEvents);
        assert.equal(s.eventCount, es.length);
        assert.deepEqual(s.history.map((h) => h.eventId), sorted.map((e) => e.id));
        assert.equal(s.registered, es.some((e) => e.type === "registered"));
        const closes = sorted.filter((e) => e.type === "closed");
        if (closes.length) {
          assert.equal(s.status, "closed");
          assert.deepEqual(s.closedAt, closes.at(-1)!.occurredAt);
          assert.deepEqual(awaitingReply(s), []);
        } else {
          assert.equal(s.status, sorted.at(-1)?.type ?? "unregistered");
        }
        // One item per outgoing number, as its last issue says, with its first reply whenever it came.
        assert.deepEqual(s.outgoing.map((o) => o.number), [...new Set(sorted.filter((e) => e.type === "issued").map((e) => e.data.outgoingNumber))]);
        for (const o of s.outgoing) {
          assert.equal(o.eventId, sorted.filter((e) => e.type === "issued" && e.data.outgoingNumber === o.number).at(-1)!.id);
          assert.equal(o.reply?.eventId, sorted.find((e) => e.type === "reply-received" && e.data.outgoingNumber === o.number)?.id);
        }
      }),
      { numRuns: 300 },
    );
  });
});

// How items are followed up: their policy from a department's settings, the due date (calendar
// or working days), each notice's time and where the sequence resumes after an outage.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { dueDate, INTERNAL_DEFAULTS, nextNotice, noticeTime, policyOf, usesHolidays, type FollowupPolicy } from "./policy.ts";
import { riyadhDateKey } from "../text/calendar.ts";

const riyadh = (s: string) => new Date(`${s}+03:00`);
const DAY = 86_400_000;
const reply: FollowupPolicy = { periodDays: 10, periodKind: "calendar", reminderEveryDays: 3, reminderKind: "calendar", maxReminders: 3, hasEscalation: true };
const internal: FollowupPolicy = { periodDays: 5, periodKind: "working", reminderEveryDays: 2, reminderKind: "working", maxReminders: 1, hasEscalation: true };

describe("policyOf", () => {
  it("replies: the node's period in calendar days, a reminder every 3 days, 3 reminders; escalation only with a contact", () => {
    assert.deepEqual(policyOf("reply", null, 10), { ...reply, hasEscalation: false });
    assert.deepEqual(policyOf("reply", { manager: { name: "م", mobile: "+966500000001" } }, 14), { ...reply, periodDays: 14, hasEscalation: false });
    assert.equal(policyOf("reply", { escalation: { name: "و", mobile: "+966500000002" } }, 10).hasEscalation, true);
    assert.equal(policyOf("reply", { escalation: { name: "و" } }, 10).hasEscalation, false);
  });

  it("replies: a department's own period, kind, reminders", () => {
    assert.deepEqual(policyOf("reply", { replyPeriodDays: 7, replyPeriodKind: "working", reminderEveryDays: 1, maxReminders: 0 }, 10), {
      periodDays: 7, periodKind: "working", reminderEveryDays: 1, reminderKind: "calendar", maxReminders: 0, hasEscalation: false,
    });
  });

  it("internal items: working days throughout, the defaults or the department's, the manager escalates", () => {
    assert.deepEqual(policyOf("internal", undefined, 10), { ...INTERNAL_DEFAULTS, periodKind: "working", reminderKind: "working", hasEscalation: false });
    assert.deepEqual(policyOf("internal", { internalFollowup: { periodDays: 3, maxReminders: 2 }, manager: { name: "م", mobile: "+966500000001" }, replyPeriodDays: 30 }, 10), {
      periodDays: 3, periodKind: "working", reminderEveryDays: 2, reminderKind: "working", maxReminders: 2, hasEscalation: true,
    });
  });

  it("usesHolidays when either count is in working days", () => {
    assert.equal(usesHolidays(reply), false);
    assert.equal(usesHolidays(internal), true);
    assert.equal(usesHolidays({ ...reply, periodKind: "working" }), true);
  });
});

describe("dueDate", () => {
  it("calendar days keep the time of day, weekends included", () => {
    assert.deepEqual(dueDate(riyadh("2026-11-26T09:00:00"), reply, ["2026-11-29"]), riyadh("2026-12-06T09:00:00"));
  });

  it("working days skip Friday, Saturday and the holidays", () => {
    // Thursday + 5 working days: Sun, Mon, Tue, Wed, Thu → Thursday 3 December; a holiday on Monday moves it to Sunday 6.
    assert.deepEqual(dueDate(riyadh("2026-11-26T09:00:00"), internal, []), riyadh("2026-12-03T09:00:00"));
    assert.deepEqual(dueDate(riyadh("2026-11-26T09:00:00"), internal, ["2026-11-30"]), riyadh("2026-12-06T09:00:00"));
  });
});

describe("noticeTime", () => {
  const due = riyadh("2026-11-26T09:00:00"); // a Thursday

  it("the first notice at the due date, then a reminder every period, then the escalation, then none", () => {
    const times = [0, 1, 2, 3, 4, 5].map((stage) => noticeTime(due, stage, reply));
    assert.deepEqual(times, [due, new Date(due.getTime() + 3 * DAY), new Date(due.getTime() + 6 * DAY), new Date(due.getTime() + 9 * DAY), new Date(due.getTime() + 12 * DAY), undefined]);
  });

  it("without an escalation contact the sequence ends after the last reminder", () => {
    assert.equal(noticeTime(due, 3, { ...reply, hasEscalation: false })?.getTime(), due.getTime() + 9 * DAY);
    assert.equal(noticeTime(due, 4, { ...reply, hasEscalation: false }), undefined);
  });

  it("working-day reminders skip the weekend and holidays", () => {
    assert.equal(riyadhDateKey(noticeTime(due, 1, internal)!), "2026-11-30"); // Thu + 2 working days = Mon
    assert.equal(riyadhDateKey(noticeTime(due, 1, internal, ["2026-11-29"])!), "2026-12-01");
    assert.equal(riyadhDateKey(noticeTime(due, 2, internal)!), "2026-12-02"); // the manager
    assert.equal(noticeTime(due, 3, internal), undefined);
  });

  it("every notice of a sequence comes after the one before", () => {
    const policies = fc.record({
      periodDays: fc.integer({ min: 1, max: 30 }),
      periodKind: fc.constantFrom("calendar" as const, "working" as const),
      reminderEveryDays: fc.integer({ min: 1, max: 10 }),
      reminderKind: fc.constantFrom("calendar" as const, "working" as const),
      maxReminders: fc.integer({ min: 0, max: 5 }),
      hasEscalation: fc.boolean(),
    });
    fc.assert(
      fc.property(policies, fc.integer({ min: 0, max: 400 }), (policy, offset) => {
        const start = new Date(due.getTime() + offset * DAY);
        const times: Date[] = [];
        for (let stage = 0; ; stage++) {
          const t = noticeTime(start, stage, policy, ["2026-12-02"]);
          if (!t) break;
          times.push(t);
        }
        assert.equal(times.length, policy.maxReminders + 1 + (policy.hasEscalation ? 1 : 0));
        assert.deepEqual(times[0], start);
        for (let i = 1; i < times.length; i++) assert.ok(times[i]! > times[i - 1]!);
      }),
      { numRuns: 100 },
    );
  });
});

describe("nextNotice", () => {
  const due = riyadh("2026-11-01T09:00:00");
  const after = (days: number) => new Date(due.getTime() + days * DAY);

  it("the next notice when it is still ahead", () => {
    assert.deepEqual(nextNotice(due, 0, reply, [], after(0)), { stage: 1, at: after(3) });
  });

  it("after an outage the missed notices are skipped: the sequence resumes at its next future slot", () => {
    // Notice 0 sent on day 7: reminders 1 (day 3) and 2 (day 6) are skipped, reminder 3 at day 9.
    assert.deepEqual(nextNotice(due, 0, reply, [], after(7)), { stage: 3, at: after(9) });
    // A slot at exactly `now` is missed too (it would be sent in the same breath).
    assert.deepEqual(nextNotice(due, 0, reply, [], after(9)), { stage: 4, at: after(12) });
  });

  it("no time once the sequence is over", () => {
    assert.deepEqual(nextNotice(due, 4, reply, [], after(12)), { stage: 5 });
    assert.deepEqual(nextNotice(due, 0, reply, [], after(30)), { stage: 5 });
    assert.deepEqual(nextNotice(due, 3, { ...reply, hasEscalation: false }, [], after(9)), { stage: 4 });
  });
});

// The staff API's directory rules that need no database: which department changes re-time the
// follow-up, and a page's bounds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { followupPolicyChanged, MAX_PAGE, parsePage } from "./admin.ts";
import type { DepartmentInput } from "./contract.ts";

const dept: DepartmentInput = {
  name: { ar: "الشؤون القانونية", en: "Legal" },
  manager: { name: "سعد", mobile: "+966551110000" },
  replyPeriodDays: 10,
  replyPeriodKind: "calendar",
  reminderEveryDays: 3,
  maxReminders: 2,
  notifications: {} as DepartmentInput["notifications"],
  internalFollowup: { periodDays: 5, reminderEveryDays: 2, maxReminders: 1 },
};

test("only changes to what is pending re-time it: periods, reminders, internal follow-up, the manager's mobile", () => {
  assert.equal(followupPolicyChanged(null, dept), true, "a new department");
  assert.equal(followupPolicyChanged(structuredClone(dept), dept), false);
  assert.equal(followupPolicyChanged({ ...dept, name: { ar: "أخرى", en: "Other" }, smsHours: "08:00-16:00" }, dept), false, "names and SMS hours do not");
  for (const change of [
    { replyPeriodDays: 15 },
    { replyPeriodKind: "working" as const },
    { reminderEveryDays: 4 },
    { maxReminders: 3 },
    { internalFollowup: { ...dept.internalFollowup, periodDays: 6 } },
    { manager: { ...dept.manager, mobile: "+966551110001" } },
  ]) {
    assert.equal(followupPolicyChanged({ ...dept, ...change }, dept), true, JSON.stringify(change));
  }
});

test("a page is 1 to 500 documents (100 by default) after a valid key", () => {
  assert.deepEqual(parsePage(), { limit: 100 });
  assert.deepEqual(parsePage({ limit: "500", after: "LEGAL" }), { limit: 500, after: "LEGAL" });
  for (const limit of ["0", String(MAX_PAGE + 1), "1.5", "x"]) {
    assert.throws(() => parsePage({ limit }), (e: { type?: string }) => e.type === "INVALID_LIMIT", limit);
  }
  assert.throws(() => parsePage({ after: "a b" }), (e: { type?: string }) => e.type === "INVALID_CODE");
});

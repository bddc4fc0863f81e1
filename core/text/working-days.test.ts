import { test } from "node:test";
import assert from "node:assert/strict";
import { riyadhDateKey, riyadhWeekday } from "./calendar.ts";
import { addWorkingDays, isWorkingDay } from "./working-days.ts";

test("addWorkingDays skips the Friday-Saturday weekend and holidays", () => {
  const thu = new Date("2026-11-26T09:00:00Z"); // Thursday
  assert.equal(riyadhWeekday(thu), 4);
  assert.equal(riyadhDateKey(addWorkingDays(thu, 1)), "2026-11-29"); // Sunday
  assert.equal(riyadhDateKey(addWorkingDays(thu, 2)), "2026-11-30"); // Monday
  assert.equal(addWorkingDays(thu, 1).toISOString(), "2026-11-29T09:00:00.000Z"); // keeps time of day
  assert.equal(riyadhDateKey(addWorkingDays(thu, 0)), "2026-11-26");
  // ten working days = two weeks
  assert.equal(riyadhDateKey(addWorkingDays(thu, 10)), "2026-12-10");
  // a holiday on Sunday pushes to Monday
  assert.equal(riyadhDateKey(addWorkingDays(thu, 1, { holidays: ["2026-11-29"] })), "2026-11-30");
  // National Day 2026 (Wednesday 23 September) as a holiday
  const tue = new Date("2026-09-22T09:00:00Z");
  assert.equal(riyadhDateKey(addWorkingDays(tue, 2, { holidays: ["2026-09-23"] })), "2026-09-27");
  // backwards
  assert.equal(riyadhDateKey(addWorkingDays(new Date("2026-11-29T09:00:00Z"), -1)), "2026-11-26");
  // a different weekend (the pre-2013 Thursday-Friday)
  assert.equal(riyadhDateKey(addWorkingDays(new Date("2026-11-25T09:00:00Z"), 1, { weekend: [4, 5] })), "2026-11-28");
  // near midnight UTC: 22:30Z Thursday is already Friday in Riyadh → next working day Sunday
  assert.equal(riyadhDateKey(addWorkingDays(new Date("2026-11-26T22:30:00Z"), 1)), "2026-11-29");
  assert.equal(isWorkingDay(new Date("2026-11-27T09:00:00Z")), false);
  assert.equal(isWorkingDay(thu), true);
  assert.equal(isWorkingDay(thu, { holidays: ["2026-11-26"] }), false);
  assert.throws(() => addWorkingDays(thu, 1, { weekend: [0, 1, 2, 3, 4, 5, 6] }), RangeError);
});

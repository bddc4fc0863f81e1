import { test } from "node:test";
import assert from "node:assert/strict";
import { citizenSendTime, parseWindow, staffSendTime } from "./sending-hours.ts";

const riyadh = (s: string) => new Date(`${s}+03:00`);
const staff = parseWindow("07:30-15:30")!;

test("parseWindow reads HH:MM-HH:MM and refuses the rest", () => {
  assert.deepEqual(parseWindow("07:30-15:30"), { start: 450, end: 930 });
  assert.deepEqual(parseWindow("22:00-07:00"), { start: 1320, end: 420 });
  for (const bad of ["7:30-15:30", "07:30", "25:00-07:00", "07:30-07:30", 730, null]) assert.equal(parseWindow(bad), undefined, String(bad));
});

test("staff: inside hours at once; before, the same morning; after, the next working day skipping the weekend and holidays", () => {
  // 2026-11-26 is a Thursday; Friday and Saturday are the weekend.
  assert.deepEqual(staffSendTime(riyadh("2026-11-26T10:00:00"), staff, []), riyadh("2026-11-26T10:00:00"));
  assert.deepEqual(staffSendTime(riyadh("2026-11-26T02:00:00"), staff, []), riyadh("2026-11-26T07:30:00"));
  assert.deepEqual(staffSendTime(riyadh("2026-11-26T15:30:00"), staff, []), riyadh("2026-11-29T07:30:00"));
  assert.deepEqual(staffSendTime(riyadh("2026-11-27T02:00:00"), staff, ["2026-11-29"]), riyadh("2026-11-30T07:30:00"));
  assert.deepEqual(staffSendTime(riyadh("2026-11-26T02:00:00"), parseWindow("08:00-14:00")!, []), riyadh("2026-11-26T08:00:00"));
});

test("citizens: a quiet window across midnight defers to its end; none defers nothing", () => {
  const quiet = parseWindow("22:00-07:00")!;
  assert.deepEqual(citizenSendTime(riyadh("2026-11-26T23:30:00"), quiet), riyadh("2026-11-27T07:00:00"));
  assert.deepEqual(citizenSendTime(riyadh("2026-11-27T02:00:00"), quiet), riyadh("2026-11-27T07:00:00"));
  assert.deepEqual(citizenSendTime(riyadh("2026-11-27T07:00:00"), quiet), riyadh("2026-11-27T07:00:00"));
  assert.deepEqual(citizenSendTime(riyadh("2026-11-27T21:59:00"), quiet), riyadh("2026-11-27T21:59:00"));
  assert.deepEqual(citizenSendTime(riyadh("2026-11-27T02:00:00"), undefined), riyadh("2026-11-27T02:00:00"));
  assert.deepEqual(citizenSendTime(riyadh("2026-11-27T02:00:00"), parseWindow("01:00-06:00")!), riyadh("2026-11-27T06:00:00"));
});

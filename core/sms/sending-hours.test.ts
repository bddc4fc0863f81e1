import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { citizenSendTime, parseWindow, sendTime, setSendingHours, staffSendTime } from "./sending-hours.ts";
import { addDays, riyadhDateKey } from "../text/calendar.ts";
import { isWorkingDay } from "../text/working-days.ts";

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

// Properties over any moment from 2024 to 2030, any hours, holidays near it.
const DAY = 86_400_000;
const OFFSET = 3 * 3_600_000;
const minuteOf = (t: Date) => (((t.getTime() + OFFSET) % DAY) + DAY) % DAY / 60_000;
const moments = fc.date({ min: new Date("2024-01-01T00:00:00Z"), max: new Date("2030-12-31T00:00:00Z"), noInvalidDate: true });
const windows = fc.tuple(fc.integer({ min: 0, max: 1439 }), fc.integer({ min: 1, max: 1440 })).filter(([s, e]) => s !== e).map(([start, end]) => ({ start, end }));
const holidaysAround = (d: Date) => fc.uniqueArray(fc.integer({ min: -3, max: 20 }), { maxLength: 8 }).map((ks) => ks.map((k) => riyadhDateKey(addDays(d, k))));

test("staff: the first moment at or after `at` inside the hours of a working day", () => {
  fc.assert(
    fc.property(moments.chain((at) => fc.tuple(fc.constant(at), windows, holidaysAround(at))), ([at, hours, holidays]) => {
      const end = hours.end > hours.start ? hours.end : 1440;
      const open = (t: Date) => isWorkingDay(t, { holidays }) && minuteOf(t) >= hours.start && minuteOf(t) < end;
      const r = staffSendTime(at, hours, holidays);
      assert.ok(r >= at);
      assert.ok(open(r), `${r.toISOString()} is outside the hours`);
      if (r.getTime() === at.getTime()) return;
      // Later than asked: it is an opening, and no opening in between was open.
      assert.equal(minuteOf(r), hours.start);
      assert.ok(!open(at));
      const first = at.getTime() - minuteOf(at) * 60_000;
      for (let m = first; m + hours.start * 60_000 < r.getTime(); m += DAY) {
        const opening = new Date(m + hours.start * 60_000);
        if (opening > at) assert.ok(!open(opening), `${opening.toISOString()} was open`);
      }
    }),
    { numRuns: 200 },
  );
});

test("citizens: a moment outside the quiet window at once, one inside at the window's end", () => {
  fc.assert(
    fc.property(moments, windows, (at, quiet) => {
      const wraps = quiet.end < quiet.start;
      const quietAt = (m: number) => (wraps ? m >= quiet.start || m < quiet.end : m >= quiet.start && m < quiet.end);
      const r = citizenSendTime(at, quiet);
      if (!quietAt(minuteOf(at))) return assert.deepEqual(r, at);
      assert.ok(r > at && r.getTime() - at.getTime() <= DAY);
      assert.equal(minuteOf(r), quiet.end % 1440);
      assert.ok(!quietAt(minuteOf(r)) || quiet.end === 1440);
    }),
    { numRuns: 200 },
  );
});

test("sendTime: staff by their department's hours or the node's, citizens by the quiet window, inquirers at once", (t) => {
  t.after(() => setSendingHours({ staff: { start: 450, end: 930 } }));
  setSendingHours({ staff, citizenQuiet: parseWindow("22:00-07:00") });
  const night = riyadh("2026-11-26T02:00:00"); // Thursday
  assert.deepEqual(sendTime("employee", night, { holidays: [] }), riyadh("2026-11-26T07:30:00"));
  assert.deepEqual(sendTime("manager", night, { departmentHours: "09:00-13:00", holidays: [] }), riyadh("2026-11-26T09:00:00"));
  assert.deepEqual(sendTime("escalation", night, { departmentHours: "not hours", holidays: ["2026-11-26"] }), riyadh("2026-11-29T07:30:00"));
  assert.deepEqual(sendTime("citizen", night, { holidays: [] }), riyadh("2026-11-26T07:00:00"));
  assert.deepEqual(sendTime("inquirer", night, { holidays: [] }), night);
  setSendingHours({});
  assert.deepEqual(sendTime("employee", night, { holidays: [] }), night);
  assert.deepEqual(sendTime("citizen", night, { holidays: [] }), night);
});

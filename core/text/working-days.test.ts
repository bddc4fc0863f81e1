import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { addDays, daysBetween, riyadhDateKey, riyadhWeekday } from "./calendar.ts";
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

// Properties over any instant from 2020 to 2035, any count, any holidays near it.
const instants = fc.date({ min: new Date("2020-01-01T00:00:00Z"), max: new Date("2035-12-31T00:00:00Z"), noInvalidDate: true });
/** Holidays as Riyadh dates up to 60 days either side of `d`. */
const holidaysNear = (d: Date) => fc.uniqueArray(fc.integer({ min: -60, max: 60 }), { maxLength: 12 }).map((ks) => ks.map((k) => riyadhDateKey(addDays(d, k))));
const withHolidays = instants.chain((d) => fc.tuple(fc.constant(d), holidaysNear(d)));
const RUNS = { numRuns: 150 };

test("addWorkingDays lands on a working day, at the same time of day, n working days on", () => {
  fc.assert(
    fc.property(withHolidays, fc.integer({ min: -25, max: 25 }).filter((n) => n !== 0), ([d, holidays], n) => {
      const r = addWorkingDays(d, n, { holidays });
      assert.ok(isWorkingDay(r, { holidays }), `${riyadhDateKey(r)} is not a working day`);
      assert.ok((r.getTime() - d.getTime()) % 86_400_000 === 0);
      // The working days strictly between d and r, r included, number exactly |n|.
      const span = daysBetween(d, r);
      assert.equal(Math.sign(span), Math.sign(n));
      let count = 0;
      for (let i = 1; i <= Math.abs(span); i++) if (isWorkingDay(addDays(d, i * Math.sign(n)), { holidays })) count++;
      assert.equal(count, Math.abs(n));
    }),
    RUNS,
  );
});

test("addWorkingDays composes, grows with n, and going back undoes it from a working day", () => {
  fc.assert(
    fc.property(withHolidays, fc.nat(15), fc.nat(15), ([d, holidays], a, b) => {
      const opts = { holidays };
      assert.deepEqual(addWorkingDays(addWorkingDays(d, a, opts), b, opts), addWorkingDays(d, a + b, opts));
      if (b > 0) assert.ok(addWorkingDays(d, a + b, opts) > addWorkingDays(d, a, opts));
      const start = addWorkingDays(d, 1, opts); // a working day
      assert.deepEqual(addWorkingDays(addWorkingDays(start, a, opts), -a, opts), start);
    }),
    RUNS,
  );
});

test("a holiday moves a due date only when it falls inside the span it counts", () => {
  fc.assert(
    fc.property(instants, fc.integer({ min: 1, max: 20 }), fc.integer({ min: -5, max: 40 }), (d, n, k) => {
      const holiday = riyadhDateKey(addDays(d, k));
      const plain = addWorkingDays(d, n);
      const moved = addWorkingDays(d, n, { holidays: [holiday] });
      const inside = k >= 1 && k <= daysBetween(d, plain) && isWorkingDay(addDays(d, k));
      if (inside) assert.ok(moved > plain);
      else assert.deepEqual(moved, plain);
    }),
    RUNS,
  );
});

test("daysBetween counts Riyadh calendar days: antisymmetric, and addDays moves it exactly", () => {
  fc.assert(
    fc.property(instants, instants, fc.integer({ min: -400, max: 400 }), (a, b, k) => {
      assert.ok(daysBetween(b, a) === -daysBetween(a, b));
      assert.equal(daysBetween(a, addDays(a, k)), k);
      assert.equal(daysBetween(a, b) === 0, riyadhDateKey(a) === riyadhDateKey(b));
      assert.equal(riyadhWeekday(addDays(a, k)), (((riyadhWeekday(a) + k) % 7) + 7) % 7);
    }),
    RUNS,
  );
});

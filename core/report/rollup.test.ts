import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { addInto, emptyTally, histogramPercentile, hourOf, letterRows, monthOf, monthRange, monthsEnding, periodRange, smsRows, sumCounts, sumLetters, sumSms } from "./rollup.ts";
import { riyadhDateKey } from "../text/calendar.ts";

/** Nearest rank over the sorted values: the definition the histogram must agree with. */
function nearestRank(values: number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

test("histogramPercentile: days summed over any split into days equal the nearest rank of all the values", () => {
  fc.assert(
    fc.property(fc.array(fc.array(fc.integer({ min: 0, max: 400 }), { maxLength: 30 }), { maxLength: 8 }), fc.integer({ min: 0, max: 100 }), (days, p) => {
      const month = emptyTally();
      for (const values of days) {
        const [row] = letterRows(values.map((d) => ({ agencyCode: "A", departmentCode: "D", replied: true, daysToReply: d, within: d <= 10 })));
        if (row) addInto(month, row);
      }
      const all = days.flat();
      assert.equal(histogramPercentile(month.days, p), nearestRank(all, p));
      assert.equal(month.replied, all.length);
      assert.equal(month.within, all.filter((d) => d <= 10).length);
    }),
  );
  assert.equal(histogramPercentile({ "1": 1, "2": 1, "3": 1, "4": 1, "10": 1 }, 50), 3);
  assert.equal(histogramPercentile({ "1": 1, "2": 1, "3": 1, "4": 1, "10": 1 }, 90), 10);
  assert.equal(histogramPercentile({}, 50), undefined);
});

test("letterRows: one row per agency and department; unreplied letters count as sent only", () => {
  const rows = letterRows([
    { agencyCode: "MOI", departmentCode: "LEGAL", replied: true, daysToReply: 3, within: true },
    { agencyCode: "MOI", departmentCode: "LEGAL", replied: false },
    { agencyCode: "MOH", departmentCode: "LEGAL", replied: true, daysToReply: 12, within: false },
  ]);
  assert.deepEqual(rows, [
    { agencyCode: "MOH", departmentCode: "LEGAL", sent: 1, replied: 1, within: 0, days: { "12": 1 } },
    { agencyCode: "MOI", departmentCode: "LEGAL", sent: 2, replied: 1, within: 1, days: { "3": 1 } },
  ]);
});

test("smsRows and sumSms: sent excludes queued, sending and opted-out; parts per part count; in flight while any may change", () => {
  const day1 = smsRows([
    { template: "registered", status: "delivered", parts: 2, count: 3 },
    { template: "registered", status: "expired", parts: 2, count: 1 },
    { template: "registered", status: "opted-out", parts: 2, count: 4 },
    { template: "issued", status: "submitted", parts: 1, count: 2 },
  ]);
  assert.equal(day1.inFlight, true);
  assert.equal(smsRows([{ template: "issued", status: "delivered", count: 1 }]).inFlight, false);
  const day2 = smsRows([{ template: "registered", status: "delivered", parts: 3, count: 1 }]);
  assert.deepEqual(sumSms([day1.rows, day2.rows]), [
    { template: "registered", sent: 5, delivered: 4, failed: 1, parts: 11 },
    { template: "issued", sent: 2, delivered: 0, failed: 0, parts: 2 },
  ]);
});

test("sumCounts: inquiries per channel over days, most first", () => {
  assert.deepEqual(sumCounts([{ web: 3, ivr: 1 }, { ivr: 4 }, null]), [{ channel: "ivr", count: 5 }, { channel: "web", count: 3 }]);
});

test("periodRange: a Riyadh day [21:00 UTC the day before, 21:00 UTC), or an hour; every instant in it has that day and hour", () => {
  const { from, to } = periodRange("2026-02-01");
  assert.equal(from.toISOString(), "2026-01-31T21:00:00.000Z");
  assert.equal(to.toISOString(), "2026-02-01T21:00:00.000Z");
  assert.equal(riyadhDateKey(from), "2026-02-01");
  assert.equal(riyadhDateKey(new Date(to.getTime() - 1)), "2026-02-01");
  assert.equal(riyadhDateKey(to), "2026-02-02");
  const h = periodRange("2026-02-01T09");
  assert.deepEqual([h.from.toISOString(), h.to.toISOString()], ["2026-02-01T06:00:00.000Z", "2026-02-01T07:00:00.000Z"]);
  assert.equal(hourOf(h.from), "2026-02-01T09");
  assert.equal(hourOf(new Date(h.to.getTime() - 1)), "2026-02-01T09");
  assert.equal(hourOf(new Date("2026-01-31T21:30:00Z")), "2026-02-01T00");
  assert.throws(() => periodRange("2026-2-1"), RangeError);
  assert.throws(() => periodRange("2026-02-01T24"), RangeError);
});

test("sumLetters: days summed per agency and department; a month's percentiles from it equal those of every letter", () => {
  const letter = fc.record({ agencyCode: fc.constantFrom("MOI", "MOH"), departmentCode: fc.constantFrom("LEGAL", "HR", ""), replied: fc.boolean(), daysToReply: fc.integer({ min: 0, max: 60 }), within: fc.boolean() });
  fc.assert(
    fc.property(fc.array(fc.array(letter, { maxLength: 20 }), { maxLength: 10 }), (days) => {
      const month = sumLetters(days.flatMap((d) => letterRows(d)));
      assert.deepEqual(month, letterRows(days.flat()));
      const all = emptyTally();
      for (const r of month) addInto(all, r);
      const values = days.flat().filter((l) => l.replied).map((l) => l.daysToReply);
      assert.equal(histogramPercentile(all.days, 90), nearestRank(values, 90));
    }),
  );
});

test("monthsEnding and monthRange: months back across a year; a Riyadh month ends at 21:00 UTC before the next one's first day", () => {
  assert.deepEqual(monthsEnding("2026-02", 3), ["2025-12", "2026-01", "2026-02"]);
  assert.equal(monthsEnding("2026-11", 12)[0], "2025-12");
  assert.deepEqual(monthsEnding("2026-01", 1), ["2026-01"]);
  assert.equal(monthRange("2026-01").to.toISOString(), "2026-01-31T21:00:00.000Z");
  assert.equal(monthRange("2026-12").to.toISOString(), "2026-12-31T21:00:00.000Z");
  assert.equal(riyadhDateKey(monthRange("2026-02").to), "2026-03-01");
  assert.equal(monthRange("2026-01").from.toISOString(), "2025-12-31T21:00:00.000Z");
  assert.equal(monthOf(monthRange("2026-03").from), "2026-03");
  assert.equal(monthOf(new Date(monthRange("2026-03").to.getTime() - 1)), "2026-03");
  assert.throws(() => monthsEnding("2026-13", 2), RangeError);
});

// The leadership report read from its daily facts equals the report computed from the raw
// documents (every transaction's letters, the messages), whatever happened: letters issued
// and re-issued, replies (with or without a reply date, also before their letter), referrals,
// closings, requests repeated, events applied twice and out of order, SMS settling, the facts
// job running in between; both as the report finds the days (recomputed on read) and after the
// facts job made them clean. On the real embedded database, with the apply step Taqib runs.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { testDatabase } from "./support/harness.ts";
import { connectDatabase, disconnectDatabase } from "../core/store/db.ts";
import { applyEvents } from "../core/events/apply.ts";
import { dueDate, followupPolicy } from "../core/followup/policy.ts";
import { daysBetween } from "../core/text/calendar.ts";
import { MessageModel } from "../core/sms/models.ts";
import { TransactionModel } from "../core/events/models.ts";
import type { LifecycleEvent } from "../core/events/lifecycle.ts";
import { leadershipReport, monthOf, monthRange, type Report } from "../core/console/report.ts";
import { markDays, refreshDirtyDays } from "../core/report/facts.ts";
import { ReportDayModel, ReportLetterModel } from "../core/report/models.ts";
import { hourOf, monthsEnding } from "../core/report/rollup.ts";
import { databaseCommands } from "../core/store/db.ts";
import { buildFactsOnce } from "../core/report/job.ts";
import { InquiryCounter } from "../core/report/inquiries.ts";
import { directory } from "../core/directory/cache.ts";

const PERIOD = 10;
const DAY = 86_400_000;
const ADMIN = { username: "amal", role: "admin" as const };
let db: Awaited<ReturnType<typeof testDatabase>>;

before(async () => {
  db = await testDatabase();
  await connectDatabase(db.url);
});
after(async () => {
  await disconnectDatabase();
  await db?.remove();
});

/** Nearest rank over the sorted values (the oracle's own, independent of the facts' histograms). */
function nearestRank(values: number[], p: number): number | undefined {
  if (!values.length) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The report's letters, SMS and "overdue now" computed from every transaction and message, as the report did before its facts. */
async function reportFromRaw(month: string, now: Date): Promise<Omit<Report, "from" | "to" | "month" | "inquiries">> {
  const { from, to } = monthRange(month);
  const holidays = await directory.holidays.dates();
  type T = { sent: number; replied: number; days: number[]; within: number; overdueNow: number };
  const agencies = new Map<string, T>();
  const departments = new Map<string, T>();
  const total: T = { sent: 0, replied: 0, days: [], within: 0, overdueNow: 0 };
  const get = (m: Map<string, T>, k: string) => m.get(k) ?? m.set(k, { sent: 0, replied: 0, days: [], within: 0, overdueNow: 0 }).get(k)!;
  for (const t of await TransactionModel.find({}).lean()) {
    const policy = await followupPolicy("reply", t.departmentCode, PERIOD);
    for (const o of t.outgoing ?? []) {
      if (!o.requiresReply || o.date < from || o.date >= to) continue;
      const due = dueDate(o.date, policy, holidays);
      const targets = [get(agencies, o.destination?.agencyCode ?? ""), get(departments, t.departmentCode ?? ""), total];
      for (const x of targets) {
        x.sent++;
        if (!o.reply) {
          if (!t.closedAt && due < now) x.overdueNow++;
          continue;
        }
        x.replied++;
        const at = (o.reply.date ?? o.reply.receivedAt)!;
        x.days.push(Math.max(daysBetween(o.date, at), 0));
        if (at <= due) x.within++;
      }
    }
  }
  const row = (t: T) => {
    const median = nearestRank(t.days, 50);
    const p90 = nearestRank(t.days, 90);
    return { sent: t.sent, replied: t.replied, ...(median !== undefined ? { medianDays: median } : {}), ...(p90 !== undefined ? { p90Days: p90 } : {}), withinPeriod: t.sent ? t.within / t.sent : 0, overdueNow: t.overdueNow };
  };
  const rows = (m: Map<string, T>) => [...m].map(([code, t]) => ({ code, label: code || "—", ...row(t) })).sort((a, b) => b.sent - a.sent || a.code.localeCompare(b.code));
  const sms = new Map<string, { template: string; sent: number; delivered: number; failed: number; parts: number }>();
  for (const m of await MessageModel.find({}).lean()) {
    if (m.createdAt < from || m.createdAt >= to) continue;
    const r = sms.get(m.template) ?? sms.set(m.template, { template: m.template, sent: 0, delivered: 0, failed: 0, parts: 0 }).get(m.template)!;
    if (["queued", "sending", "opted-out"].includes(m.status)) continue;
    r.sent++;
    r.parts += m.parts ?? 0;
    if (m.status === "delivered") r.delivered++;
    if (["undeliverable", "expired", "rejected", "failed"].includes(m.status)) r.failed++;
  }
  return {
    byAgency: rows(agencies),
    byDepartment: rows(departments),
    totals: row(total),
    sms: [...sms.values()].sort((a, b) => b.sent - a.sent || a.template.localeCompare(b.template)),
  };
}

const withoutNames = (r: Report) => ({ byAgency: r.byAgency, byDepartment: r.byDepartment, totals: r.totals, sms: r.sms });

/** One letter of a generated transaction. */
const letterArb = fc.record({
  agency: fc.constantFrom("MOI", "MOH", "MOJ"),
  /** Days from the month's start (some fall in the months around it). */
  sentDay: fc.integer({ min: -5, max: 35 }),
  hour: fc.integer({ min: 0, max: 23 }),
  requiresReply: fc.integer({ min: 0, max: 4 }).map((n) => n > 0),
  /** Days to the reply (none: still waiting), and whether the agency gave its date. */
  reply: fc.option(fc.record({ after: fc.integer({ min: -1, max: 25 }), dated: fc.boolean() }), { nil: undefined }),
  /** Issued again later with another date or agency (a correction). */
  reissue: fc.option(fc.record({ sentDay: fc.integer({ min: 0, max: 30 }), agency: fc.constantFrom("MOI", "MOH") }), { nil: undefined }),
});
const transactionArb = fc.record({
  department: fc.constantFrom("LEGAL", "HR", undefined),
  referredTo: fc.option(fc.constantFrom("LEGAL", "HR"), { nil: undefined }),
  closed: fc.boolean(),
  letters: fc.array(letterArb, { minLength: 1, maxLength: 3 }),
});
const scenarioArb = fc.record({
  transactions: fc.array(transactionArb, { minLength: 1, maxLength: 8 }),
  /** How the events are cut into apply batches, and which are applied twice. */
  batchSize: fc.integer({ min: 1, max: 12 }),
  repeat: fc.integer({ min: 0, max: 5 }),
  /** The facts job runs after every this many batches. */
  refreshEvery: fc.integer({ min: 1, max: 3 }),
  seed: fc.integer(),
  /** What becomes of the SMS: delivered, failed, still out. */
  sms: fc.array(fc.constantFrom("delivered", "undeliverable", "submitted", "queued", "opted-out"), { minLength: 1, maxLength: 10 }),
});

let run = 0;

test("the report from its daily facts equals the report from the raw documents (property)", async () => {
  await fc.assert(
    fc.asyncProperty(scenarioArb, async (s) => {
      run++;
      // Each run its own month (two apart from the last, so letters around it never meet another run's).
      const base = Date.UTC(2024, run * 3, 1) - 3 * 3600_000;
      const month = monthOf(new Date(base + 10 * DAY));
      const now = new Date();
      const at = (days: number, hour = 9) => new Date(base + days * DAY + hour * 3600_000);
      const events: LifecycleEvent[] = [];
      const ev = (e: Omit<LifecycleEvent, "receivedAt">) => events.push({ ...e, receivedAt: new Date(e.occurredAt.getTime() + 60_000) });
      s.transactions.forEach((t, i) => {
        const number = `77${String(run).padStart(3, "0")}${String(i).padStart(3, "0")}`;
        ev({ id: `${number}-reg`, type: "registered", transactionNumber: number, occurredAt: at(-10), data: { citizen: { name: "محمد", mobile: "+966551234567", language: "ar" }, subject: "طلب", ...(t.department ? { departmentCode: t.department } : {}) } });
        t.letters.forEach((l, k) => {
          const outgoingNumber = `9${number}${k}`;
          const issued = (id: string, day: number, agency: string) =>
            ev({ id, type: "issued", transactionNumber: number, occurredAt: at(day, l.hour), data: { outgoingNumber, outgoingDate: at(day, l.hour).toISOString(), destination: { agencyCode: agency }, requiresReply: l.requiresReply } });
          issued(`${outgoingNumber}-i`, l.sentDay, l.agency);
          if (l.reissue) issued(`${outgoingNumber}-i2`, l.reissue.sentDay, l.reissue.agency);
          if (l.reply) {
            const replyAt = at(l.sentDay + l.reply.after, 13);
            ev({ id: `${outgoingNumber}-r`, type: "reply-received", transactionNumber: number, occurredAt: replyAt, data: { outgoingNumber, ...(l.reply.dated ? { replyDate: replyAt.toISOString() } : {}) } });
          }
        });
        if (t.referredTo) ev({ id: `${number}-ref`, type: "referred", transactionNumber: number, occurredAt: at(12), data: { departmentCode: t.referredTo } });
        if (t.closed) ev({ id: `${number}-close`, type: "closed", transactionNumber: number, occurredAt: at(40), data: {} });
      });
      // Out of order, in batches, some applied twice (a request repeated, a sweep after a crash).
      const shuffled = fc.sample(fc.shuffledSubarray(events, { minLength: events.length, maxLength: events.length }), { numRuns: 1, seed: s.seed })[0]!;
      for (let i = 0, n = 1; i < shuffled.length; i += s.batchSize, n++) {
        await applyEvents(shuffled.slice(i, i + s.batchSize), { defaultReplyPeriodDays: PERIOD });
        if (n % s.refreshEvery === 0) await refreshDirtyDays(1000, now);
      }
      await applyEvents(shuffled.slice(0, s.repeat), { defaultReplyPeriodDays: PERIOD });
      await applyEvents([...shuffled.slice(0, s.repeat), ...shuffled.slice(0, s.repeat)], { defaultReplyPeriodDays: PERIOD });
      // The SMS those events queued (this month's) move on, as the pipeline would move them.
      const queued = await MessageModel.find({ transactionNumber: { $regex: `^77${String(run).padStart(3, "0")}` } }, { _id: 1 }).lean();
      await Promise.all(queued.map((m, i) => MessageModel.updateOne({ _id: m._id }, { $set: { status: s.sms[i % s.sms.length], parts: 1 + (i % 3) } })));

      for (const m of [month, monthOf(new Date(base - DAY)), monthOf(new Date(base + 33 * DAY)), monthOf(now)]) {
        // As found (the changed days recomputed on read), then after the job made them clean.
        const read = await leadershipReport(ADMIN, m, now, "en", { smsFreshMs: 0 });
        assert.deepEqual(withoutNames(read), await reportFromRaw(m, now), `${m} as read`);
        await refreshDirtyDays(1000, now);
        const clean = await leadershipReport(ADMIN, m, now, "en");
        assert.deepEqual(withoutNames(clean), withoutNames(read), `${m} from clean facts`);
      }
      assert.equal(await ReportDayModel.countDocuments({ kind: "letters", state: "dirty" }), 0, "the job leaves no letter day dirty");
    }),
    { numRuns: 12, endOnFailure: true },
  );
});

test("built from the stored transactions and messages alone (data from before the facts, or facts lost), the reports are the same", async () => {
  const now = new Date();
  const months = Array.from({ length: run }, (_, i) => monthOf(new Date(Date.UTC(2024, (i + 1) * 3, 10))));
  const before = await Promise.all(months.map((m) => leadershipReport(ADMIN, m, now, "en")));
  // The facts lost (a restore without them), the letter records kept for half the transactions.
  await ReportLetterModel.deleteMany({ transactionNumber: { $regex: "[02468]$" } });
  await ReportDayModel.deleteMany({ kind: { $ne: "inquiries" } });
  assert.equal((await leadershipReport(ADMIN, months[0]!, now, "en")).totals.sent, 0, "nothing without the facts");
  assert.equal(await buildFactsOnce(PERIOD, now), true);
  assert.equal(await buildFactsOnce(PERIOD, now), false, "once");
  await refreshDirtyDays(5000, now);
  for (const [i, m] of months.entries()) assert.deepEqual(withoutNames(await leadershipReport(ADMIN, m, now, "en")), withoutNames(before[i]!), m);
  assert.deepEqual(withoutNames(await leadershipReport(ADMIN, monthOf(now), now, "en", { smsFreshMs: 0 })), await reportFromRaw(monthOf(now), now), "this month's SMS");
});

test("SMS of a day that is over: its hours folded into one document of the day once all are final; the report the same before and after", async () => {
  const day = Date.UTC(2023, 2, 14, 21); // 2023-03-15 in Riyadh
  const statuses = ["delivered", "delivered", "undeliverable", "submitted", "opted-out"];
  const messages = Array.from({ length: 60 }, (_, i) => ({
    _id: `fold-${i}`, template: i % 3 ? "registered" : "issued", role: "citizen", status: statuses[i % statuses.length], parts: 1 + (i % 2),
    statusHistory: [], attempts: 1, createdAt: new Date(day + i * 23 * 60_000), transactionNumber: "770000001",
  }));
  await MessageModel.collection.insertMany(messages as any[]);
  await markDays("sms", [...new Set(messages.map((m) => hourOf(m.createdAt)))]);
  const dayAfter = new Date(day + 36 * 3600_000);
  await refreshDirtyDays(1000, dayAfter);
  const hours = await ReportDayModel.countDocuments({ kind: "sms", day: { $regex: "^2023-03-15T" } });
  assert.ok(hours > 10, "an hour's document for each hour with SMS");
  assert.equal(await ReportDayModel.countDocuments({ _id: "sms|2023-03-15" }), 0, "not folded while some are in flight");
  const before = await leadershipReport(ADMIN, "2023-03", dayAfter, "en");
  assert.deepEqual(before.sms, (await reportFromRaw("2023-03", dayAfter)).sms);
  // The last receipts come; four days later every hour is final.
  await MessageModel.updateMany({ _id: { $regex: "^fold-" }, status: "submitted" }, { $set: { status: "delivered" } });
  await markDays("sms", [hourOf(new Date(day + 3 * 23 * 60_000))]);
  const later = new Date(day + 4 * 86_400_000);
  await refreshDirtyDays(1000, later);
  await refreshDirtyDays(1000, later);
  assert.equal(await ReportDayModel.countDocuments({ _id: "sms|2023-03-15" }), 1, "folded");
  assert.equal(await ReportDayModel.countDocuments({ kind: "sms", day: { $regex: "^2023-03-15T" } }), 0, "the hours removed");
  assert.deepEqual((await leadershipReport(ADMIN, "2023-03", later, "en")).sms, (await reportFromRaw("2023-03", later)).sms);
});

test("a manager's report holds their departments' letters only, no SMS and no inquiries", async () => {
  const month = monthOf(new Date(Date.UTC(2024, 3, 15)));
  const all = await leadershipReport(ADMIN, month, new Date(), "en");
  const mgr = await leadershipReport({ username: "saad", role: "manager", departments: ["LEGAL"] }, month, new Date(), "en");
  assert.deepEqual(mgr.byDepartment.map((r) => r.code), all.byDepartment.filter((r) => r.code === "LEGAL").map((r) => r.code));
  assert.equal(mgr.totals.sent, all.byDepartment.find((r) => r.code === "LEGAL")?.sent ?? 0);
  assert.equal(mgr.sms, undefined);
  assert.equal(mgr.inquiries, undefined);
});

test("inquiries per channel: counted in memory, written in one flush, summed per month; a failed flush loses nothing", async () => {
  const counter = new InquiryCounter(60_000);
  const day = new Date(Date.UTC(2023, 5, 10, 9));
  for (let i = 0; i < 7; i++) counter.count("web", day);
  for (let i = 0; i < 3; i++) counter.count("ivr", day);
  counter.count("ivr", new Date(day.getTime() + 3 * DAY));
  counter.count("bad.name", day);
  await counter.flush();
  counter.count("web", day);
  await counter.flush();
  const r = await leadershipReport(ADMIN, "2023-06", new Date(), "en");
  assert.deepEqual(r.inquiries, [{ channel: "web", count: 8 }, { channel: "ivr", count: 4 }]);
  // The database refuses: the counts wait for the next flush.
  await disconnectDatabase();
  const failing = new InquiryCounter(60_000);
  failing.count("kiosk", day);
  await assert.rejects(failing.flush());
  await connectDatabase(db.url);
  await failing.flush();
  assert.deepEqual((await leadershipReport(ADMIN, "2023-06", new Date(), "en")).inquiries?.find((x) => x.channel === "kiosk"), { channel: "kiosk", count: 1 });
});

/** The trend as the raw documents give it, month by month: the totals' letters and every SMS summed. */
async function trendFromRaw(month: string, now: Date) {
  return Promise.all(
    monthsEnding(month, 12).map(async (m) => {
      const raw = await reportFromRaw(m, now);
      const { overdueNow: _, ...letters } = raw.totals;
      const sms = (raw.sms ?? []).reduce((t, r) => ({ sent: t.sent + r.sent, delivered: t.delivered + r.delivered, failed: t.failed + r.failed, parts: t.parts + r.parts }), { sent: 0, delivered: 0, failed: 0, parts: 0 });
      return { month: m, ...letters, sms };
    }),
  );
}
const trendOf = async (month: string, now: Date) =>
  (await leadershipReport(ADMIN, month, now, "en", { trend: true })).trend!.map(({ names: _, ...r }) => r);
const monthDoc = (m: string) => ReportDayModel.findById(`month|${m}`).lean();
const commands = () => [...databaseCommands.values()].reduce((s, n) => s + n, 0);

test("month documents: folded from the days once a month is over and final, they equal the raw documents; a late reply to an old letter unfolds its month, folded again", async () => {
  const now = new Date();
  // The property's months of 2025, the SMS folded in March 2023 and June 2023's inquiries: as the raw documents say, before and after the job folds the months.
  for (const end of ["2023-12", "2025-12"]) assert.deepEqual(await trendOf(end, now), await trendFromRaw(end, now), `${end} as read`);
  await refreshDirtyDays(5000, now);
  await refreshDirtyDays(5000, now);
  for (const m of ["2023-03", "2025-01", "2025-04"]) assert.equal((await monthDoc(m))?.state, "clean", `${m} folded`);
  assert.ok(((await monthDoc("2023-03"))?.sms ?? []).length > 0, "March 2023's SMS in its month document");
  for (const end of ["2023-12", "2025-12"]) assert.deepEqual(await trendOf(end, now), await trendFromRaw(end, now), `${end} from month documents`);
  assert.ok((await trendOf("2025-12", now)).filter((r) => r.sent > 0 && r.medianDays !== undefined).length >= 4, "several months of 2025 with letters replied");
  // Eleven months as their month documents: one read for all of them beside the month's own (a handful of round-trips, whatever the year holds).
  const before = commands();
  await leadershipReport(ADMIN, "2025-12", now, "en", { trend: true });
  const roundTrips = commands() - before;
  assert.ok(roundTrips <= 5, `${roundTrips} round-trips`);

  // A letter of February 2025 waits; the month is folded; its reply comes now.
  const number = "779990001";
  const sent = new Date(Date.UTC(2025, 1, 10, 6));
  await applyEvents(
    [
      { id: `${number}-reg`, type: "registered", transactionNumber: number, occurredAt: sent, receivedAt: sent, data: { citizen: { name: "محمد", mobile: "+966551234567", language: "ar" }, subject: "طلب", departmentCode: "LEGAL" } },
      { id: `${number}-i`, type: "issued", transactionNumber: number, occurredAt: sent, receivedAt: sent, data: { outgoingNumber: `9${number}`, outgoingDate: sent.toISOString(), destination: { agencyCode: "MOJ" }, requiresReply: true } },
    ],
    { defaultReplyPeriodDays: PERIOD },
  );
  await refreshDirtyDays(5000, now);
  await refreshDirtyDays(5000, now);
  assert.equal((await monthDoc("2025-02"))?.state, "clean", "February 2025 folded with the letter waiting");
  const waiting = (await trendOf("2025-12", now)).find((r) => r.month === "2025-02")!;
  await applyEvents([{ id: `${number}-r`, type: "reply-received", transactionNumber: number, occurredAt: now, receivedAt: now, data: { outgoingNumber: `9${number}`, replyDate: now.toISOString() } }], { defaultReplyPeriodDays: PERIOD });
  assert.equal((await monthDoc("2025-02"))?.state, "dirty", "the reply unfolded February 2025");
  const replied = (await trendOf("2025-12", now)).find((r) => r.month === "2025-02")!;
  assert.equal(replied.replied, waiting.replied + 1);
  assert.deepEqual(await trendOf("2025-12", now), await trendFromRaw("2025-12", now), "read while unfolded");
  assert.equal((await monthDoc("2025-02"))?.state, "clean", "folded again by the trend that read it");
  await refreshDirtyDays(5000, now);
  assert.deepEqual(await trendOf("2025-12", now), await trendFromRaw("2025-12", now), "after the job");
});

test("the trend narrowed to one agency or one department, and a manager's, count only their letters", async () => {
  const now = new Date();
  const full = await leadershipReport(ADMIN, "2025-12", now, "en", { trend: true });
  const byAgency = await leadershipReport(ADMIN, "2025-12", now, "en", { trend: true, filter: { agency: "MOI" } });
  const byDept = await leadershipReport(ADMIN, "2025-12", now, "en", { trend: true, filter: { department: "LEGAL" } });
  const mgr = await leadershipReport({ username: "saad", role: "manager", departments: ["LEGAL"] }, "2025-12", now, "en", { trend: true });
  for (const [i, r] of full.trend!.entries()) {
    const m = r.month;
    const months = await Promise.all([leadershipReport(ADMIN, m, now, "en"), leadershipReport(ADMIN, m, now, "en", { filter: { agency: "MOI" } })]);
    assert.equal(byAgency.trend![i]!.sent, months[0].byAgency.find((x) => x.code === "MOI")?.sent ?? 0, `${m} MOI`);
    assert.equal(byAgency.trend![i]!.medianDays, months[1].totals.medianDays, `${m} MOI median`);
    assert.equal(byDept.trend![i]!.sent, months[0].byDepartment.find((x) => x.code === "LEGAL")?.sent ?? 0, `${m} LEGAL`);
    assert.deepEqual(mgr.trend![i], byDept.trend![i], `${m}: a manager of LEGAL sees LEGAL's trend`);
    assert.equal(byAgency.trend![i]!.sms, undefined, "no SMS narrowed to an agency");
  }
  assert.ok(full.trend!.some((r) => r.sms), "the office-wide trend has the SMS");
  assert.equal(byAgency.sms, undefined);
});

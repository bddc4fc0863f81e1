import type { Context, ServiceSchema } from "moleculer";
import type { Config } from "../core/config.ts";
import { databaseMixin } from "../core/mixins.ts";
import { getAgenda, startProcessing, stopProcessing } from "../core/jobs.ts";
import { departmentsOnWorkingDays, HolidayModel, JOB_FOLLOWUP, type NoticeResult, JOB_FOLLOWUP_SWEEP, PendingReplyModel, processNotice, retimeDepartment, sweepNotices } from "../core/followup.ts";
import { clock } from "../core/clock.ts";
import { sendDueDigests } from "../core/staff-digest.ts";
import { JOB_REPORT_FACTS, REPORT_FACTS_EVERY, runFactsJob } from "../core/report/job.ts";

export const JOB_DIGEST = "followup.digest";
import { clientError } from "../core/errors.ts";
import { directory } from "../core/directory-cache.ts";
import { announceDirectoryChange, directoryCacheMixin } from "../core/directory-events.ts";
import { forwardQueuedToBroker } from "../core/notifications.ts";
import { isCalendarDate } from "../core/dates.ts";

/** The route's holiday date; a day the calendar does not have (2026-02-30) is a 400. */
function holidayDate(ctx: Context<any>): string {
  const date = ctx.params.params?.date;
  if (!isCalendarDate(date)) throw clientError(400, "INVALID_DATE", "The holiday date must be a real Gregorian calendar date, YYYY-MM-DD (not retryable as is)");
  return date;
}

/**
 * Follow-up of pending items (outgoing letters waiting for a reply, transactions waiting for
 * their employee): Agenda jobs at each notice's
 * exact time, a safety sweep at start and daily, and re-timing when a department's
 * policy or the holidays change.
 */
export default function followupService(config: Config): ServiceSchema {
  const period = config.defaultReplyPeriodDays;
  return {
    name: "followup",
    mixins: [databaseMixin(), directoryCacheMixin()],
    events: {
      async "department.changed"(ctx: Context<{ code: string }>) {
        directory.invalidate({ kind: "department", id: ctx.params.code });
        const n = await retimeDepartment(ctx.params.code, period);
        this.logger.info(`department ${ctx.params.code}: ${n} pending item(s) re-timed`);
      },
    },
    actions: {
      /** Sends the notice due for one outgoing item (called by the scheduler's job). */
      notice: {
        params: { outgoingNumber: "string", fromJob: { type: "boolean", optional: true } },
        async handler(ctx: Context<{ outgoingNumber: string; fromJob?: boolean }>) {
          return processNotice(ctx.params.outgoingNumber, period, clock.now(), { fromJob: ctx.params.fromJob });
        },
      },
      /** Runs the safety sweep now: `{ due, sent }`. */
      sweep: {
        async handler() {
          return sweepNotices(period);
        },
      },
      /** The count of pending items and of those overdue now. */
      stats: {
        async handler() {
          const [pending, overdue] = await Promise.all([
            PendingReplyModel.countDocuments({}),
            PendingReplyModel.countDocuments({ dueAt: { $lte: clock.now() } }),
          ]);
          return { pending, overdue };
        },
      },
      listHolidays: {
        async handler() {
          const docs = await HolidayModel.find({}).sort({ _id: 1 }).lean();
          return { holidays: docs.map((h) => ({ date: h._id, name: h.name })) };
        },
      },
      putHoliday: {
        async handler(ctx: Context<any>) {
          const date = holidayDate(ctx);
          const name = ctx.params.body?.name;
          if (name !== undefined && (typeof name !== "string" || name.length > 200)) {
            throw clientError(400, "INVALID_BODY", "name must be a string of at most 200 characters", { details: [{ field: "name", message: "must be a string" }] });
          }
          await HolidayModel.updateOne({ _id: date }, { $set: { name: name ?? "" } }, { upsert: true });
          await announceDirectoryChange(this.broker, { kind: "holiday" });
          await this.retimeWorkingDepartments();
          return { date, name: name ?? "" };
        },
      },
      deleteHoliday: {
        async handler(ctx: Context<any>) {
          const date = holidayDate(ctx);
          const r = await HolidayModel.deleteOne({ _id: date });
          if (!r.deletedCount) throw clientError(404, "HOLIDAY_NOT_FOUND", `No holiday on ${date}`);
          await announceDirectoryChange(this.broker, { kind: "holiday" });
          await this.retimeWorkingDepartments();
          return { date, deleted: true };
        },
      },
    },
    methods: {
      async retimeWorkingDepartments() {
        for (const code of await departmentsOnWorkingDays()) await retimeDepartment(code, period);
      },
    },
    async started() {
      forwardQueuedToBroker(this.broker);
      const agenda = await getAgenda({ lockLifetimeMs: config.jobLockLifetimeMs });
      agenda.define(JOB_FOLLOWUP, async (job) => {
        const { outgoingNumber } = job.attrs.data as { outgoingNumber: string };
        const r = await this.broker.call<NoticeResult, { outgoingNumber: string; fromJob: boolean }>("followup.notice", { outgoingNumber, fromJob: true });
        // The job is the item's: it moves to the next notice, and is removed only when there is none.
        job.attrs.nextRunAt = r.nextAt ? new Date(r.nextAt) : null;
      }, { removeOnComplete: true, concurrency: 5, lockLimit: 5 });
      agenda.define(JOB_FOLLOWUP_SWEEP, async () => {
        const r = await sweepNotices(period);
        if (r.due) this.logger.warn(`follow-up sweep caught ${r.due} due item(s) the scheduled jobs had not handled`);
      });
      // The leadership report's daily facts (the first run also builds those of older data, minutes
      // with a long history: it extends its lock as it goes).
      agenda.define(JOB_REPORT_FACTS, async (job) => {
        const r = await runFactsJob(period, () => job.touch());
        if (r.built) this.logger.info("report facts built for the data stored before them");
      });
      await startProcessing({ slotMs: config.schedulerLeaseMs, log: (m) => this.logger.info(m) });
      await agenda.every("1 day", JOB_FOLLOWUP_SWEEP);
      await agenda.every(REPORT_FACTS_EVERY, JOB_REPORT_FACTS);
      agenda.define(JOB_DIGEST, async () => {
        await sweepNotices(period);
        const d = await sendDueDigests(clock.now());
        if (d.digests) this.logger.info(`staff digests: ${d.digests} SMS for ${d.items} notice(s)`);
      });
      if (config.staffDigestAt !== undefined) {
        const m = config.staffDigestAt;
        await agenda.every(`${m % 60} ${Math.floor(m / 60)} * * *`, JOB_DIGEST, undefined, { timezone: "Asia/Riyadh" });
      }
      // The schedule clock moved (tests): what fell due is noticed now, not at Agenda's real-time run.
      let sweeping: Promise<unknown> | undefined;
      let again = false;
      const onClock = () => {
        if (sweeping) return void (again = true);
        sweeping = sweepNotices(period)
          .then(() => sendDueDigests(clock.now()))
          .catch((err) => this.logger.warn(`follow-up sweep after a clock change: ${err.message}`))
          .finally(() => {
            sweeping = undefined;
            if (again) (again = false), onClock();
          });
      };
      this.stopClockWatch = clock.onChange(onClock);
      // At start: anything that fell due while no worker ran.
      const r = await sweepNotices(period);
      if (r.due) this.logger.info(`start-up sweep: ${r.sent} follow-up notice(s) sent`);
      await sendDueDigests(clock.now());
    },
    async stopped() {
      this.stopClockWatch?.();
      await stopProcessing();
    },
  };
}

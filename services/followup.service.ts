import type { Context } from "moleculer";
import type { Config } from "../core/platform/config.ts";
import { databaseMixin, routeParams, type RouteParams, type TypedService } from "../core/platform/mixins.ts";
import { openJobs, type Jobs } from "../core/platform/jobs.ts";
import { JOB_FOLLOWUP, type NoticeResult, JOB_FOLLOWUP_SWEEP, pendingCounts, processNotice, retimeDepartment, retimeWorkingDepartments, sweepNotices } from "../core/followup/notices.ts";
import { clock } from "../core/platform/clock.ts";
import { sendDueDigests } from "../core/sms/digest.ts";
import { directory } from "../core/directory/cache.ts";
import { announceDirectoryChange, directoryCacheMixin } from "../core/directory/events.ts";
import { deleteHoliday, listHolidays, parseHolidayDate, putHoliday } from "../core/directory/admin.ts";
import { forwardQueuedToBroker } from "../core/sms/notifications.ts";
import { JOB_REPORT_FACTS, REPORT_FACTS_EVERY, runFactsJob } from "../core/report/job.ts";

export const JOB_DIGEST = "followup.digest";

interface Vars {
  stopClockWatch?: () => void;
  jobs?: Jobs;
}

/**
 * Follow-up of pending items (outgoing letters waiting for a reply, transactions waiting for
 * their employee): Agenda jobs at each notice's
 * exact time, a safety sweep at start and daily, and re-timing when a department's
 * policy or the holidays change.
 */
export default function followupService(config: Config): TypedService<Vars> {
  const period = config.defaultReplyPeriodDays;
  return {
    name: "followup",
    mixins: [databaseMixin(config), directoryCacheMixin()],
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
      /** POST /api/v1/followup/sweep — runs the safety sweep now: `{ due, sent }`. */
      sweep: {
        params: routeParams([]),
        handler: () => sweepNotices(period),
      },
      /** The count of pending items and of those overdue now. */
      stats: {
        params: {},
        handler: () => pendingCounts(clock.now()),
      },
      listHolidays: {
        params: routeParams([]),
        handler: () => listHolidays(),
      },
      putHoliday: {
        params: routeParams(["date"]),
        async handler(ctx: Context<RouteParams<"date">>) {
          const holiday = await putHoliday(parseHolidayDate(ctx.params.params.date), ctx.params.body);
          await announceDirectoryChange(this.broker, { kind: "holiday" });
          await retimeWorkingDepartments(period);
          return holiday;
        },
      },
      deleteHoliday: {
        params: routeParams(["date"]),
        async handler(ctx: Context<RouteParams<"date">>) {
          const deleted = await deleteHoliday(parseHolidayDate(ctx.params.params.date));
          await announceDirectoryChange(this.broker, { kind: "holiday" });
          await retimeWorkingDepartments(period);
          return deleted;
        },
      },
    },
    async started() {
      forwardQueuedToBroker(this.broker);
      const log = (m: string) => this.logger.info(m);
      const jobs = await openJobs(config, log);
      this.jobs = jobs;
      const agenda = jobs.agenda;
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
      jobs.startProcessing();
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
      await this.jobs?.stop();
    },
  };
}

// Agenda on the shared database, for work at a set time (follow-up notices, the daily
// sweep): any node may create jobs. One worker process at a time runs Agenda's scheduler
// (held by a lease); its job handlers hand the work to the services on all worker nodes
// through the broker. Agenda's own multi-process locking needs an isolated
// findOneAndUpdate, which FerretDB does not give (measured: the same job locked again and
// again, and a lock lost to a concurrent upsert); on MongoDB the lease costs nothing. The
// SMS themselves go through the dispatcher (core/sms/dispatcher.ts).
import { Agenda } from "agenda";
import { MongoBackend } from "@agendajs/mongo-backend";
import type { Config } from "./config.ts";
import { nativeDb } from "../store/db.ts";
import { Lease } from "../store/lease.ts";

export const JOBS_COLLECTION = "agendaJobs";

/** Agenda's settings, from the validated configuration. */
export type JobSettings = Pick<Config, "jobLockLifetimeMs" | "jobProcessEveryMs" | "schedulerLeaseMs">;

/**
 * An Agenda of its own for whoever opens it (a node's follow-up service, the job dashboard),
 * built from the configuration it is given: no process-wide instance, so two nodes in one
 * process (tests) each run with their own settings.
 *
 * @example
 *   const jobs = await openJobs(config);
 *   jobs.agenda.define("followup.due", handler);
 *   await jobs.startProcessing((m) => logger.info(m));
 *   ...; await jobs.stop();
 */
export interface Jobs {
  readonly agenda: Agenda;
  /** Takes part in the scheduler lease: while this node holds it, its Agenda runs the jobs. */
  startProcessing(log?: (msg: string) => void): void;
  /** Stops processing: running jobs finish (bounded), then the lease is given away. */
  stop(timeoutMs?: number): Promise<void>;
}

/** Opens an Agenda on the connected database with `settings`. */
export async function openJobs(settings: JobSettings, log?: (msg: string) => void): Promise<Jobs> {
  const db = nativeDb();
  const agenda = new Agenda({
    backend: new MongoBackend({ mongo: db as any, collection: JOBS_COLLECTION }),
    name: `taqib-${process.pid}`,
    // How often the scheduler looks for due jobs: notices are day-granular, and jobs due before the next look are locked ahead and run on time.
    processEvery: settings.jobProcessEveryMs,
    defaultLockLifetime: settings.jobLockLifetimeMs,
    defaultConcurrency: 10,
    defaultLockLimit: 10,
    maxConcurrency: 50,
  });
  agenda.on("error", (err: Error) => log?.(`agenda: ${err.message}`));
  await agenda.ready;
  // The follow-up jobs are found by their item (re-timed, cancelled): Agenda's own index does not serve that.
  await db.collection(JOBS_COLLECTION).createIndex({ name: 1, "data.outgoingNumber": 1 }, { name: "followupItemIndex" });
  let lease: Lease | undefined;
  return {
    agenda,
    startProcessing(leaseLog = log) {
      if (lease) return;
      lease = new Lease({
        name: "scheduler",
        slotMs: settings.schedulerLeaseMs,
        log: leaseLog,
        onAcquire: () => agenda.start(),
        onLose: () => agenda.stop().catch(() => undefined),
      });
      lease.start();
    },
    async stop(timeoutMs = 10_000) {
      if (!lease) return;
      if (lease.isLeader) await agenda.drain(timeoutMs).catch(() => undefined);
      await lease.stop();
      lease = undefined;
    },
  };
}

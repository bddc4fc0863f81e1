// Agenda on the shared database, for work at a set time (follow-up notices, the daily
// sweep): one instance per process; any node may create jobs. One worker process at a
// time runs Agenda's scheduler (held by a lease); its job handlers hand the work to the
// services on all worker nodes through the broker. Agenda's own multi-process locking
// needs an isolated findOneAndUpdate, which FerretDB does not give (measured: the same job
// locked again and again, and a lock lost to a concurrent upsert); on MongoDB the lease
// costs nothing. The SMS themselves go through the dispatcher (core/sms/dispatcher.ts).
import { Agenda } from "agenda";
import { MongoBackend } from "@agendajs/mongo-backend";
import { nativeDb } from "../store/db.ts";
import { Lease } from "../store/lease.ts";

let agenda: Agenda | undefined;
let lease: Lease | undefined;
let users = 0;

export const JOBS_COLLECTION = "agendaJobs";

/** How often the scheduler looks for due jobs: notices are day-granular, and jobs due before the next look are locked ahead and run on time. */
const PROCESS_EVERY_MS = 10_000;

/** Agenda's settings that come from the configuration (the first use creates it with them). */
export interface JobOptions {
  lockLifetimeMs?: number;
}

/** The process's Agenda (created on first use, after the database is connected). */
export async function getAgenda(opts: JobOptions = {}): Promise<Agenda> {
  if (!agenda) {
    const db = nativeDb();
    agenda = new Agenda({
      backend: new MongoBackend({ mongo: db as any, collection: JOBS_COLLECTION }),
      name: `taqib-${process.pid}`,
      processEvery: PROCESS_EVERY_MS,
      defaultLockLifetime: opts.lockLifetimeMs ?? 60_000,
      defaultConcurrency: 10,
      defaultLockLimit: 10,
      maxConcurrency: 50,
    });
    agenda.on("error", (err: Error) => errorLog?.(`agenda: ${err.message}`));
    await agenda.ready;
    // The follow-up jobs are found by their item (re-timed, cancelled): Agenda's own index does not serve that.
    await db.collection(JOBS_COLLECTION).createIndex({ name: 1, "data.outgoingNumber": 1 }, { name: "followupItemIndex" });
  }
  return agenda;
}

let errorLog: ((msg: string) => void) | undefined;

/**
 * Takes part in the scheduler lease: while this process holds it, Agenda runs here.
 * Counted: the last user to stop stops it.
 */
export async function startProcessing(opts: { slotMs: number; log?: (msg: string) => void }): Promise<Agenda> {
  const a = await getAgenda();
  errorLog ??= opts.log;
  if (users++ === 0) {
    lease = new Lease({
      name: "scheduler",
      slotMs: opts.slotMs,
      log: opts.log,
      onAcquire: () => a.start(),
      onLose: () => a.stop().catch(() => undefined),
    });
    lease.start();
  }
  return a;
}

/** Stops processing: running jobs finish (bounded), then the lease is given away. */
export async function stopProcessing(timeoutMs = 10_000): Promise<void> {
  if (!agenda || users === 0) return;
  if (--users > 0) return;
  if (lease?.isLeader) await agenda.drain(timeoutMs).catch(() => undefined);
  await lease?.stop();
  lease = undefined;
}

/** Forgets the process's Agenda (after the database connection is closed). */
export function resetAgenda(): void {
  agenda = undefined;
  users = 0;
}

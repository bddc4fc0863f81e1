// Agenda on the shared database: one instance per process. Any node may create jobs.
// One worker process at a time runs Agenda's scheduler (held by a lease); its job handlers
// hand the work to the services on all worker nodes through the broker, so the work is
// shared while the scheduling is single. (Agenda's own multi-process locking needs atomic
// findOneAndUpdate, which FerretDB does not give; on MongoDB the lease costs nothing.)
import { Agenda } from "agenda";
import { MongoBackend } from "@agendajs/mongo-backend";
import { nativeDb } from "./db.ts";
import { Lease } from "./lease.ts";

let agenda: Agenda | undefined;
let lease: Lease | undefined;
let users = 0;

export const JOB_SEND_SMS = "sms.send";
export const JOBS_COLLECTION = "agendaJobs";

/** The process's Agenda (created on first use, after the database is connected). */
export async function getAgenda(): Promise<Agenda> {
  if (!agenda) {
    agenda = new Agenda({
      backend: new MongoBackend({ mongo: nativeDb() as any, collection: JOBS_COLLECTION }),
      name: `taqib-${process.pid}`,
      processEvery: 500,
      defaultLockLifetime: 60_000,
      defaultConcurrency: 10,
      defaultLockLimit: 10,
      maxConcurrency: 50,
    });
    agenda.on("error", (err: Error) => errorLog?.(`agenda: ${err.message}`));
    await agenda.ready;
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

/**
 * Schedules the send job of a message unless it has one. Only ever inserts: an upsert
 * would write back a job that the scheduler may have locked meanwhile (servers without
 * isolated updates lose the lock that way). A rare second job is harmless: sending is
 * claimed per attempt.
 *
 * @example
 *   await scheduleSend("evt-1:registered:citizen");
 */
export async function scheduleSend(messageId: string, at: Date = new Date()): Promise<void> {
  const a = await getAgenda();
  const existing = await nativeDb().collection(JOBS_COLLECTION).findOne({ name: JOB_SEND_SMS, "data.messageId": messageId }, { projection: { _id: 1 } });
  if (!existing) await a.create(JOB_SEND_SMS, { messageId }).schedule(at).save();
}

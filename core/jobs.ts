// Agenda on the shared database: one instance per process. Any node may create jobs;
// only worker nodes (the notifier and follow-up services) start processing them.
import { Agenda } from "agenda";
import { MongoBackend } from "@agendajs/mongo-backend";
import { nativeDb } from "./db.ts";

let agenda: Agenda | undefined;
let processing = 0;

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
      maxConcurrency: 50,
    });
    await agenda.ready;
  }
  return agenda;
}

/** Starts processing in this process (counted: the last user to stop stops it). */
export async function startProcessing(): Promise<Agenda> {
  const a = await getAgenda();
  if (processing++ === 0) await a.start();
  return a;
}

/** Stops processing: running jobs finish (bounded), then locks are released. */
export async function stopProcessing(timeoutMs = 10_000): Promise<void> {
  if (!agenda || processing === 0) return;
  if (--processing > 0) return;
  await agenda.drain(timeoutMs).catch(() => undefined);
  await agenda.stop().catch(() => undefined);
}

/** Forgets the process's Agenda (after the database connection is closed). */
export function resetAgenda(): void {
  agenda = undefined;
  processing = 0;
}

/**
 * Schedules the send job of a message, once: a job for the same message id is reused.
 *
 * @example
 *   await scheduleSend("evt-1:registered:citizen");
 */
export async function scheduleSend(messageId: string, at: Date = new Date()): Promise<void> {
  const a = await getAgenda();
  // insertOnly: a job waiting out its backoff keeps its time.
  await a.create(JOB_SEND_SMS, { messageId }).unique({ "data.messageId": messageId }, { insertOnly: true }).schedule(at).save();
}

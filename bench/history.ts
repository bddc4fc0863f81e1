// The history a production database holds after a while, written straight into the database
// with the driver, in the document shapes Taqib itself writes — so a benchmark can measure
// the same work with an empty database and with a long history stored:
//
//   events        1 per transaction (its "registered" event, applied)       core/events/ingest.ts storeEventRequests
//   transactions  the projection of that event                              core/events/ingest.ts projectTransactions
//   messages      3 per transaction by default, all delivered                core/sms/notifications.ts enqueueMessages,
//                 (registered -> citizen, assigned -> employee,              core/sms/send.ts (sending, submitted,
//                 issued -> citizen, reply-received -> citizen, ...)         receipts, settled)
//   sms_parts     1 per message (its SMSC part id, final receipt recorded)  core/sms/send.ts recordSubmitted, receipts.ts
//
// With `letters` (bench:console), the history is an office's last year, ending now: every
// third transaction issues a letter needing a reply to one of 12 agencies (its "issued" event),
// most are replied within days (their "reply-received" event), some late, a few never; the
// letters still waiting are in pending_replies (those past due with their notices counted), and
// every letter has its report record (core/report/letters.ts), all as the apply step writes them.
//
// Transaction numbers are 19xxxxxxxx and event ids "hist-…": the measured ones never take
// them. SMSC part ids are 0x1_0000_0000 and up: the simulator counts from 0xabcdef00.
// Indexes: create Taqib's first (createTaqibIndexes starts Taqib once on the database), so
// the seeded history is indexed as in production and every insert pays for its indexes.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import type { Db } from "mongodb";
import { eventHash, validateEvent } from "../core/events/contract.ts";
import { project, type LifecycleEvent } from "../core/events/lifecycle.ts";
import { smsTemplateEngine } from "../core/sms/templates/engine.ts";
import { SAMPLE_DATA } from "../core/sms/templates/samples.ts";
import { loadConfig } from "../core/platform/config.ts";
import { analyseSms } from "../core/sms/encoding.ts";
import { letterRecord } from "../core/report/letters.ts";
import { dueDate, type FollowupPolicy } from "../core/followup/policy.ts";
import { riyadhDateKey } from "../core/text/calendar.ts";
import { spawnTaqib } from "../test/support/processes.ts";
import { API_KEY } from "../test/support/harness.ts";
import { envInt, fmt, fmtInt, now, progress, scaled } from "./common.ts";

/** The history sizes every history benchmark measures at: none, and a long one. */
export interface HistorySize {
  label: string;
  transactions: number;
  messages: number;
}

export const HISTORY_SIZES: HistorySize[] = [
  { label: "empty", transactions: 0, messages: 0 },
  { label: "history", transactions: scaled(1_000_000), messages: scaled(3_000_000) },
];

/** "1,000,000 transactions, 3,000,000 messages" (or "empty database"). */
export function describeHistory(h: HistorySize): string {
  if (!h.transactions && !h.messages) return "empty database";
  return `${fmtInt(h.transactions)} transactions + ${fmtInt(h.transactions)} events, ${fmtInt(h.messages)} messages + ${fmtInt(h.messages)} sms_parts stored`;
}

/** Documents per insertMany, and insertMany calls in flight at once. */
const BATCH = envInt("BENCH_SEED_BATCH", 5_000);
const PARALLEL = envInt("BENCH_SEED_PARALLEL", 2);

/** History starts three years ago, one transaction every few minutes. */
const HISTORY_START = Date.UTC(2023, 0, 1, 6, 0, 0);
const STEP_MS = 90_000;
const PART_BASE = 0x1_0000_0000;
const DAY_MS = 86_400_000;

/** When the history's transactions happen: from `start`, one every `stepMs`. */
interface Layout {
  start: number;
  stepMs: number;
  letters: boolean;
  now: number;
}
const THREE_YEARS: Layout = { start: HISTORY_START, stepMs: STEP_MS, letters: false, now: Date.now() };

/** An office's last year for `transactions`: the last one 2 days ago (its last SMS, 2 days after it, a minute ago). */
function officeYear(transactions: number, now = Date.now()): Layout {
  const end = now - 2 * DAY_MS - 60_000;
  return { start: end - 365 * DAY_MS, stepMs: (365 * DAY_MS) / Math.max(1, transactions), letters: true, now };
}

const AGENCIES = ["MOI", "MOH", "MOJ", "MOE", "MOF", "MOC", "MOT", "HRSD", "MOMRAH", "SAMA", "ZATCA", "GOSI"];
const DEPARTMENTS = ["LEGAL", "HR", "FIN", "IT", "PR", "OPS"];
/** The reply period the history's departments have (none is configured: the default). */
const POLICY: FollowupPolicy = { periodDays: 10, periodKind: "calendar", reminderEveryDays: 3, reminderKind: "calendar", maxReminders: 3, hasEscalation: false };

/** A number in [0, 1) from t, the same on every run. */
function unit(t: number, salt: number): number {
  let x = (t + 1) * 2654435761 + salt * 40503;
  x = Math.imul(x ^ (x >>> 15), 2246822507);
  x = Math.imul(x ^ (x >>> 13), 3266489909);
  return ((x ^ (x >>> 16)) >>> 0) / 4294967296;
}

const pad8 = (n: number) => String(n).padStart(8, "0");
export const historyNumber = (t: number) => `19${pad8(t)}`;
const historyMobile = (t: number) => `05${pad8(t % 100_000_000)}`;

/** The messages of a transaction, in order: the i-th message of every transaction is of kind i (cycling). */
const KINDS = [
  { template: "registered", role: "citizen", event: 1 },
  { template: "assigned", role: "employee", event: 3 },
  { template: "issued", role: "citizen", event: 4 },
  { template: "reply-received", role: "citizen", event: 5 },
] as const;

const engine = smsTemplateEngine(loadConfig({}));
// The sample number as the texts show it.
const SAMPLE_NUMBER = String(SAMPLE_DATA.registered.transaction.displayNumber);
/** Each kind's text as rendered (the sample's transaction number replaced by the history's). */
const TEXTS = Object.fromEntries(
  KINDS.map((k) => {
    const text = engine.render(k.template, "ar", (SAMPLE_DATA as Record<string, object>)[k.template]!).text;
    const a = analyseSms(text);
    return [k.template, { text, encoding: a.encoding, parts: a.partCount }];
  }),
) as Record<string, { text: string; encoding: string; parts: number }>;

/** Event ids of history transaction t: "hist-<number>-<k>" (k = 1 registered, 4 issued, 5 reply-received, as KINDS). */
const eventId = (t: number, k: number) => `hist-${historyNumber(t)}-${k}`;

/** The events of history transaction t, as posted: registered; with letters, a third issue one (and most get its reply). */
function rawEvents(t: number, L: Layout): object[] {
  const number = historyNumber(t);
  const at = L.start + t * L.stepMs;
  const events: object[] = [
    {
      id: eventId(t, 1),
      type: "registered",
      transactionNumber: number,
      occurredAt: new Date(at).toISOString(),
      data: { citizen: { name: "فهد بن سعد القحطاني", mobile: historyMobile(t), language: "ar" }, subject: "طلب إفادة", departmentCode: L.letters ? DEPARTMENTS[t % DEPARTMENTS.length] : "LEGAL" },
    },
  ];
  if (!L.letters || t % 3 !== 0) return events;
  const sent = at + DAY_MS;
  events.push({ id: eventId(t, 4), type: "issued", transactionNumber: number, occurredAt: new Date(sent).toISOString(), data: { outgoingNumber: `9${number}`, outgoingDate: new Date(sent).toISOString(), destination: { agencyCode: AGENCIES[(t / 3) % AGENCIES.length] }, requiresReply: true } });
  // Days to the reply: most within the 10-day period, some later, 0.5 % never; known once they have passed.
  const u = unit(t, 1);
  const replied = sent + Math.floor(1 + 25 * u * u) * DAY_MS + 3 * 3600_000;
  if (unit(t, 2) >= 0.005 && replied <= L.now) {
    events.push({ id: eventId(t, 5), type: "reply-received", transactionNumber: number, occurredAt: new Date(replied).toISOString(), data: { outgoingNumber: `9${number}`, replyDate: new Date(replied).toISOString() } });
  }
  return events;
}

/**
 * History transaction t as Taqib stores it: its events (applied long ago) and their projection;
 * with letters, its letter's report record and, while it waits for its reply, its pending reply.
 */
function transactionDocs(t: number, L: Layout): Record<string, object | object[] | undefined> {
  const events = rawEvents(t, L).map((raw) => {
    const e = validateEvent(raw).event;
    if (!e) throw new Error(`invalid history event ${t}`);
    return e;
  });
  const stored = events.map((e) => ({ _id: e.id, type: e.type, transactionNumber: e.transactionNumber, occurredAt: e.occurredAt, receivedAt: new Date(e.occurredAt.getTime() + 2_000), data: e.data, hash: eventHash(e), source: "correspondence" }));
  const lifecycle: LifecycleEvent[] = stored.map((e) => ({ id: e._id, type: e.type, transactionNumber: e.transactionNumber, occurredAt: e.occurredAt, receivedAt: e.receivedAt, data: e.data as Record<string, any> }));
  const state = project(historyNumber(t), lifecycle);
  // core/events/ingest.ts storedForm: no undefined fields, the apply's token kept.
  const transaction: Record<string, unknown> = { _id: state.number, updatedAt: new Date(stored[stored.length - 1]!.receivedAt.getTime() + 500), applyToken: randomUUID() };
  for (const [k, v] of Object.entries(state)) if (v !== undefined) transaction[k] = v;
  const o = state.outgoing[0];
  if (!o) return { events: stored, transactions: transaction };
  // core/followup.ts syncPendingItems, and the sweep's notices since (the overdue notice, then a reminder every 3 days).
  let pending: object | undefined;
  if (!o.reply) {
    const dueAt = dueDate(o.date, POLICY, []);
    const stage = dueAt.getTime() > L.now ? 0 : Math.min(1 + Math.floor((L.now - dueAt.getTime()) / (3 * DAY_MS)), POLICY.maxReminders + 1);
    const nextAt = stage <= POLICY.maxReminders ? new Date(dueAt.getTime() + stage * 3 * DAY_MS) : undefined;
    pending = { _id: o.number, kind: "reply", agencyCode: o.destination.agencyCode, outgoingDate: o.date, transactionNumber: state.number, departmentCode: state.departmentCode, dueAt, ...(nextAt ? { nextAt } : {}), stage, ...(stage ? { lastNoticeAt: new Date(dueAt.getTime() + (stage - 1) * 3 * DAY_MS) } : {}), createdAt: o.date };
  }
  return { events: stored, transactions: transaction, report_letters: letterRecord(state, o, POLICY, []), pending_replies: pending };
}

/**
 * Message m of the history (transaction m / perTransaction), delivered, and its part record.
 * One part record per message (its first part), whatever the text's part count.
 */
function messageAndPart(m: number, perTransaction: number, transactions: number, L: Layout) {
  const t = Math.min(Math.floor(m / perTransaction), Math.max(0, transactions - 1));
  const kind = KINDS[(m % perTransaction) % KINDS.length]!;
  const number = historyNumber(t);
  const eventId = `hist-${number}-${kind.event}`;
  const at = (ms: number) => new Date(L.start + t * L.stepMs + (m % perTransaction) * DAY_MS + ms);
  const created = at(3_000);
  const sending = at(3_200);
  const submitted = at(3_400);
  const delivered = at(8_000);
  const { text, encoding, parts } = TEXTS[kind.template]!;
  const hexId = (PART_BASE + m).toString(16);
  const vars: Record<string, unknown> = kind.template === "assigned" ? { employeeId: "E100" } : kind.template === "registered" ? {} : { outgoingNumber: `9${number}` };
  const message = {
    _id: `${eventId}:${kind.template}:${kind.role}`,
    transactionNumber: number,
    eventId,
    template: kind.template,
    role: kind.role,
    vars,
    status: "delivered",
    nextAttemptAt: created,
    statusHistory: [
      { status: "queued", at: created },
      { status: "sending", at: sending },
      { status: "submitted", at: submitted },
      { status: "delivered", at: delivered },
    ],
    attempts: 1,
    createdAt: created,
    updatedAt: delivered,
    to: kind.role === "employee" ? "+966559990002" : `+966${historyMobile(t).slice(1)}`,
    lang: "ar",
    text: text.replace(SAMPLE_NUMBER, number),
    encoding,
    parts,
    partIds: [hexId.padStart(10, "0")],
    submittedAt: submitted,
    finalAt: delivered,
  };
  const part = { _id: hexId, messageId: message._id, siblings: [hexId], submittedAt: submitted, status: "delivered", final: true, stat: "DELIVRD", err: "000", doneAt: delivered, receivedAt: delivered };
  return { messages: message, sms_parts: part };
}

/**
 * Inserts what make(i) answers for i < count (per collection: a document, several, or none)
 * in batches, PARALLEL at a time, with progress. Answers the documents written and the seconds.
 */
async function fill(db: Db, label: string, names: string[], count: number, make: (i: number) => Record<string, object | object[] | undefined>): Promise<{ docs: number; seconds: number }> {
  const colls = names.map((n) => db.collection<any>(n));
  let next = 0;
  let done = 0;
  let docs = 0;
  const t0 = now();
  let lastReport = t0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (;;) {
        const from = next;
        if (from >= count) return;
        const to = (next = Math.min(count, from + BATCH));
        const batches: object[][] = names.map(() => []);
        for (let i = from; i < to; i++) {
          const made = make(i);
          for (const key of Object.keys(made)) if (!names.includes(key)) throw new Error(`history: ${key} is not one of ${names.join(", ")}`);
          names.forEach((n, k) => made[n] !== undefined && batches[k]!.push(...[made[n]!].flat()));
        }
        for (let k = 0; k < colls.length; k++) if (batches[k]!.length) await colls[k]!.insertMany(batches[k]! as any[], { ordered: false });
        done += to - from;
        docs += batches.reduce((s, b) => s + b.length, 0);
        if (now() - lastReport > 5_000) {
          lastReport = now();
          progress(`history ${label}: ${fmtInt(done)}/${fmtInt(count)} (${fmt(docs / ((now() - t0) / 1000), 0)} docs/s)`);
        }
      }
    }),
  );
  return { docs, seconds: (now() - t0) / 1000 };
}

/** What the history holds besides its size. */
export interface HistoryOptions {
  /** An office's last year ending now, with letters, replies and pending replies (see the top of this file). */
  letters?: boolean;
}

/**
 * Writes the history into `db` (whose collections should hold Taqib's indexes already):
 * the events and transactions (with letters: their letter records and pending replies), then
 * the messages and their part records. Answers the documents written, the time it took, and
 * the Riyadh days it covers.
 *
 * @example
 *   await createTaqibIndexes(url, env);
 *   const { docs, seconds } = await seedHistory(client.db(), HISTORY_SIZES[1]);
 */
export async function seedHistory(db: Db, size: HistorySize, opts: HistoryOptions = {}): Promise<{ docs: number; seconds: number; days: string[] }> {
  if (!size.transactions && !size.messages) return { docs: 0, seconds: 0, days: [] };
  const L = opts.letters ? officeYear(size.transactions) : THREE_YEARS;
  const t0 = now();
  const per = Math.max(1, Math.ceil(size.messages / Math.max(1, size.transactions)));
  const names = opts.letters ? ["events", "transactions", "report_letters", "pending_replies"] : ["events", "transactions"];
  const a = await fill(db, names.join(" + "), names, size.transactions, (t) => transactionDocs(t, L));
  progress(`history: ${fmtInt(a.docs)} ${names.join(" + ")} in ${fmt(a.seconds, 1)} s (${fmt(a.docs / a.seconds, 0)} docs/s)`);
  const b = await fill(db, "messages + sms_parts", ["messages", "sms_parts"], size.messages, (m) => messageAndPart(m, per, size.transactions, L));
  progress(`history: ${fmtInt(b.docs)} messages + sms_parts in ${fmt(b.seconds, 1)} s (${fmt(b.docs / b.seconds, 0)} docs/s)`);
  const docs = a.docs + b.docs;
  const seconds = (now() - t0) / 1000;
  progress(`history: ${fmtInt(docs)} documents seeded in ${fmt(seconds, 1)} s (${fmt(docs / seconds, 0)} docs/s, batches of ${fmtInt(BATCH)}, ${PARALLEL} in parallel)`);
  const days: string[] = [];
  for (let d = L.start; d <= L.start + size.transactions * L.stepMs + (per + 2) * DAY_MS; d += DAY_MS) days.push(riyadhDateKey(new Date(d)));
  return { docs, seconds, days };
}

/**
 * Starts Taqib once on the database (it creates every index of its models when it connects)
 * and stops it again: the collections then carry the production indexes before the seeding.
 */
export async function createTaqibIndexes(mongoUrl: string, env: Record<string, string> = {}): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "taqib-bench-data-"));
  try {
    const taqib = await spawnTaqib(`bench-indexes-${process.pid}`, { SERVICES: "api,events,directory", ...env, MONGO_URL: mongoUrl, DATA_DIR: dataDir });
    const code = await taqib.terminate();
    if (code !== 0 && code !== null) throw new Error(`Taqib (index creation) exited ${code}: ${taqib.output.slice(-20).join("\n")}`);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * The database round-trips a Taqib process has made so far: the sum of its
 * `taqib_db_commands{command=…}` counters on GET /metrics (a scrape itself makes a few).
 */
export async function dbRoundTrips(baseUrl: string): Promise<number> {
  const res = await fetch(`${baseUrl}/metrics`, { headers: { authorization: `Bearer ${API_KEY}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}: ${text.slice(0, 200)}`);
  let sum = 0;
  for (const m of text.matchAll(/^taqib_db_commands\{[^}]*\}\s+([0-9.eE+-]+)/gm)) sum += Number(m[1]);
  return sum;
}

/**
 * The first /metrics scrape of a Taqib process: it waits for the count of the message log by
 * status (a scan of `messages`), so it is done before any measurement and timed.
 */
export async function firstScrape(baseUrl: string): Promise<number> {
  const t0 = now();
  await dbRoundTrips(baseUrl);
  return now() - t0;
}

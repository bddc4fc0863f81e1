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

/** The registered event of history transaction t, as posted. */
function rawEvent(t: number) {
  const number = historyNumber(t);
  return {
    id: `hist-${number}-1`,
    type: "registered",
    transactionNumber: number,
    occurredAt: new Date(HISTORY_START + t * STEP_MS).toISOString(),
    data: { citizen: { name: "فهد بن سعد القحطاني", mobile: historyMobile(t), language: "ar" }, subject: "طلب إفادة", departmentCode: "LEGAL" },
  };
}

/** The event as storeEventRequests stores it (applied long ago), and its projection as projectTransactions stores it. */
function eventAndTransaction(t: number) {
  const e = validateEvent(rawEvent(t)).event;
  if (!e) throw new Error(`invalid history event ${t}`);
  const receivedAt = new Date(e.occurredAt.getTime() + 2_000);
  const event = { _id: e.id, type: e.type, transactionNumber: e.transactionNumber, occurredAt: e.occurredAt, receivedAt, data: e.data, hash: eventHash(e), source: "correspondence" };
  const lifecycle: LifecycleEvent = { id: e.id, type: e.type, transactionNumber: e.transactionNumber, occurredAt: e.occurredAt, receivedAt, data: e.data as Record<string, any> };
  const state = project(e.transactionNumber, [lifecycle]);
  // core/events/ingest.ts storedForm: no undefined fields, the apply's token kept.
  const transaction: Record<string, unknown> = { _id: state.number, updatedAt: new Date(receivedAt.getTime() + 500), applyToken: randomUUID() };
  for (const [k, v] of Object.entries(state)) if (v !== undefined) transaction[k] = v;
  return { event, transaction };
}

/**
 * Message m of the history (transaction m / perTransaction), delivered, and its part record.
 * One part record per message (its first part), whatever the text's part count.
 */
function messageAndPart(m: number, perTransaction: number, transactions: number) {
  const t = Math.min(Math.floor(m / perTransaction), Math.max(0, transactions - 1));
  const kind = KINDS[(m % perTransaction) % KINDS.length]!;
  const number = historyNumber(t);
  const eventId = `hist-${number}-${kind.event}`;
  const at = (ms: number) => new Date(HISTORY_START + t * STEP_MS + (m % perTransaction) * 86_400_000 + ms);
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
  return { message, part };
}

/** Inserts `count` documents made by make(i) in batches, PARALLEL at a time, with progress. */
async function fill(db: Db, label: string, names: string[], count: number, make: (i: number) => Record<string, object>): Promise<number> {
  const colls = names.map((n) => db.collection<any>(n));
  let next = 0;
  let done = 0;
  const t0 = now();
  let lastReport = t0;
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      for (;;) {
        const from = next;
        if (from >= count) return;
        next = Math.min(count, from + BATCH);
        const batches: object[][] = names.map(() => []);
        for (let i = from; i < next; i++) {
          const docs = make(i);
          names.forEach((n, k) => batches[k]!.push(docs[n]!));
        }
        for (let k = 0; k < colls.length; k++) await colls[k]!.insertMany(batches[k]! as any[], { ordered: false });
        done += next - from;
        if (now() - lastReport > 5_000) {
          lastReport = now();
          progress(`history ${label}: ${fmtInt(done)}/${fmtInt(count)} (${fmt((done * names.length) / ((now() - t0) / 1000), 0)} docs/s)`);
        }
      }
    }),
  );
  return (now() - t0) / 1000;
}

/**
 * Writes the history into `db` (whose collections should hold Taqib's indexes already):
 * the events and transactions, then the messages and their part records. Answers the
 * documents written and the time it took.
 *
 * @example
 *   await createTaqibIndexes(url, env);
 *   const { docs, seconds } = await seedHistory(client.db(), HISTORY_SIZES[1]);
 */
export async function seedHistory(db: Db, size: HistorySize): Promise<{ docs: number; seconds: number }> {
  if (!size.transactions && !size.messages) return { docs: 0, seconds: 0 };
  const t0 = now();
  const per = Math.max(1, Math.ceil(size.messages / Math.max(1, size.transactions)));
  const s1 = await fill(db, "events + transactions", ["events", "transactions"], size.transactions, eventAndTransaction);
  progress(`history: ${fmtInt(size.transactions * 2)} events + transactions in ${fmt(s1, 1)} s (${fmt((size.transactions * 2) / s1, 0)} docs/s)`);
  const s2 = await fill(db, "messages + sms_parts", ["messages", "sms_parts"], size.messages, (m) => messageAndPart(m, per, size.transactions) as unknown as Record<string, object>);
  progress(`history: ${fmtInt(size.messages * 2)} messages + sms_parts in ${fmt(s2, 1)} s (${fmt((size.messages * 2) / s2, 0)} docs/s)`);
  const docs = size.transactions * 2 + size.messages * 2;
  const seconds = (now() - t0) / 1000;
  progress(`history: ${fmtInt(docs)} documents seeded in ${fmt(seconds, 1)} s (${fmt(docs / seconds, 0)} docs/s, batches of ${fmtInt(BATCH)}, ${PARALLEL} in parallel)`);
  return { docs, seconds };
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

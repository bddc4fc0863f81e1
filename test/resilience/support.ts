// Shared by the resilience scenarios: a load of events whose SMS are easy to count (one
// registration per citizen, each citizen with a mobile of their own), a client that
// re-posts what was not accepted as a real correspondence system would, and the count
// every scenario ends with.
import assert from "node:assert/strict";
import { MongoClient } from "mongodb";
import { API_KEY } from "../support/harness.ts";
import type { ReceivedMessage } from "../../dev/smsc/simulator.ts";
import type { Lang } from "../../core/text/lang.ts";

/** Base of the scenario's mobile numbers: citizen i of scenario `base` has 05<base><i, 6 digits>. */
export interface Load {
  name: string;
  /** Two digits, one per scenario, so scenarios sharing an SMSC do not mix. */
  base: number;
  total: number;
  /** "en": a Latin name and English, one GSM-7 part; default Arabic, UCS-2 in 3 parts. */
  lang?: Lang;
}

const pad = (n: number, w: number) => String(n).padStart(w, "0");

/** The local form of citizen i's mobile (as the correspondence system posts it). */
export const mobileOf = (load: Load, i: number) => `05${pad(load.base, 2)}${pad(i, 6)}`;
/** The address the SMSC sees for citizen i. */
export const smscAddressOf = (load: Load, i: number) => `9665${pad(load.base, 2)}${pad(i, 6)}`;

/** Citizen i's registration: one event, one SMS (the registered notice: Arabic in 3 UCS-2 parts, or English in one GSM-7 part). */
export function registration(load: Load, i: number) {
  const citizen = load.lang === "en" ? { name: "Test Citizen", mobile: mobileOf(load, i), language: "en" } : { name: "مواطن الاختبار", mobile: mobileOf(load, i) };
  return {
    id: `${load.name}-${i}`,
    type: "registered",
    transactionNumber: `${pad(load.base, 2)}${pad(i, 6)}`,
    occurredAt: new Date(Date.UTC(2026, 10, 1, 8, 0, 0) + i * 1000).toISOString(),
    data: { citizen, ...(load.lang === "en" ? {} : { subject: "طلب إفادة" }), departmentCode: "LEGAL" },
  };
}

export interface PostStats {
  /** Requests answered 202/200 (stored, or stored already). */
  accepted: number;
  /** Requests answered 5xx, or not answered at all (connection refused or reset). */
  refused: number;
  /** Statuses of the refusals, for the report. */
  refusals: Map<string, number>;
  startedAt: number;
  doneAt: number;
}

/**
 * Posts the load in batches, re-posting every batch that was not accepted (a 5xx or no
 * answer) after `retryMs`, until each is stored; resolves with the statistics. `url()` is
 * read on every try, so the test can move the node (a restarted process on another port).
 * A 4xx is a bug of the test or the product: it fails the test.
 */
export async function postAll(
  url: () => string,
  load: Load,
  opts: { batch?: number; pauseMs?: number; retryMs?: number; onBatch?: (posted: number) => void | Promise<void>; deadlineMs?: number } = {},
): Promise<PostStats> {
  const batch = opts.batch ?? 10;
  const stats: PostStats = { accepted: 0, refused: 0, refusals: new Map(), startedAt: Date.now(), doneAt: 0 };
  const deadline = Date.now() + (opts.deadlineMs ?? 120_000);
  for (let i = 0; i < load.total; i += batch) {
    const events = Array.from({ length: Math.min(batch, load.total - i) }, (_, k) => registration(load, i + k));
    for (;;) {
      let outcome: string;
      try {
        const res = await fetch(`${url()}/api/v1/events`, {
          method: "POST",
          headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
          body: JSON.stringify(events),
          signal: AbortSignal.timeout(45_000), // longer than the gateway's request timeout (30 s)
        });
        const text = await res.text();
        if (res.status === 202 || res.status === 200) {
          stats.accepted++;
          break;
        }
        assert.ok(res.status >= 500, `a batch of valid events answered ${res.status}: ${text.slice(0, 300)}`);
        outcome = String(res.status);
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        outcome = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name;
      }
      stats.refused++;
      stats.refusals.set(outcome, (stats.refusals.get(outcome) ?? 0) + 1);
      if (Date.now() > deadline) throw new Error(`${load.name}: batch at ${i} still not accepted after the deadline`);
      await sleep(opts.retryMs ?? 500);
    }
    await opts.onBatch?.(i + events.length);
    if (opts.pauseMs) await sleep(opts.pauseMs);
  }
  stats.doneAt = Date.now();
  return stats;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Count {
  accepted: number;
  expected: number;
  sent: number;
  duplicated: number;
  lost: number;
  /** Messages whose parts did not all arrive (a link cut between parts), not counted as sent. */
  fragments: number;
  /** The SMSC addresses that got more than one complete copy. */
  duplicatedTo: string[];
  /** When the SMSC received the load's last complete message. */
  lastAt: number;
}

/**
 * Counts the load's SMS at the SMSC: `sent` citizens who got their SMS (complete), `duplicated`
 * the extra complete copies, `lost` the citizens who got none.
 */
export function countAtSmsc(received: readonly ReceivedMessage[], load: Load, accepted = load.total): Count {
  const wanted = new Map<string, number>();
  for (let i = 0; i < load.total; i++) wanted.set(smscAddressOf(load, i), 0);
  let fragments = 0;
  let lastAt = 0;
  for (const m of received) {
    if (!wanted.has(m.to)) continue;
    if (m.incomplete) fragments++;
    else {
      wanted.set(m.to, wanted.get(m.to)! + 1);
      lastAt = Math.max(lastAt, m.receivedAt.getTime());
    }
  }
  const counts = [...wanted.values()];
  return {
    accepted,
    expected: load.total,
    sent: counts.filter((c) => c > 0).length,
    duplicated: counts.reduce((s, c) => s + Math.max(c - 1, 0), 0),
    lost: counts.filter((c) => c === 0).length,
    fragments,
    duplicatedTo: [...wanted].filter(([, c]) => c > 1).map(([to]) => to),
    lastAt,
  };
}

/** Waits until every citizen of the load got their SMS (or the timeout), then counts. */
export async function settle(received: readonly ReceivedMessage[], load: Load, timeoutMs = 120_000, accepted = load.total): Promise<Count> {
  const deadline = Date.now() + timeoutMs;
  let c = countAtSmsc(received, load, accepted);
  while (c.lost > 0 && Date.now() < deadline) {
    await sleep(250);
    c = countAtSmsc(received, load, accepted);
  }
  // A little longer: a late duplicate would show now.
  await sleep(1500);
  return countAtSmsc(received, load, accepted);
}

/** The line every scenario ends with (the report in docs/reliability.md quotes them). */
export function report(scenario: string, c: Omit<Count, "fragments" | "duplicatedTo" | "lastAt">, extra = ""): string {
  const line = `# ${scenario}: events accepted ${c.accepted}, SMS expected ${c.expected}, sent ${c.sent}, duplicated ${c.duplicated}, lost ${c.lost}${extra ? ` (${extra})` : ""}`;
  console.log(line);
  return line;
}

/** The message log's statuses for the load (read straight from the database). */
export async function logStatuses(mongoUrl: string, load: Load): Promise<Map<string, number>> {
  const client = await MongoClient.connect(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  try {
    const docs = await client
      .db()
      .collection("messages")
      .find({ eventId: { $regex: `^${load.name}-` } }, { projection: { status: 1 } })
      .toArray();
    const by = new Map<string, number>();
    for (const d of docs) by.set(String(d.status), (by.get(String(d.status)) ?? 0) + 1);
    return by;
  } finally {
    await client.close();
  }
}

/**
 * The SMSC addresses (as the SMSC sees them, 9665...) of the load's messages whose history
 * shows a retry for `code` (e.g. LINK_DOWN: the submit was cut off by the link).
 */
export async function retriedFor(mongoUrl: string, load: Load, code: string): Promise<Set<string>> {
  const client = await MongoClient.connect(mongoUrl, { serverSelectionTimeoutMS: 10_000 });
  try {
    const docs = await client
      .db()
      .collection("messages")
      .find({ eventId: { $regex: `^${load.name}-` } }, { projection: { to: 1, statusHistory: 1 } })
      .toArray();
    const hit = docs.filter((d) => (d.statusHistory as Array<{ status: string; detail?: string }>).some((h) => h.status === "retrying" && h.detail === code));
    return new Set(hit.map((d) => String(d.to).replace(/^\+/, "")));
  } finally {
    await client.close();
  }
}

/** Waits until every message of the load is final in the log (delivered), or the timeout. */
export async function allDelivered(mongoUrl: string, load: Load, timeoutMs = 60_000): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const by = await logStatuses(mongoUrl, load).catch(() => new Map<string, number>());
    if ((by.get("delivered") ?? 0) >= load.total || Date.now() > deadline) return by;
    await sleep(500);
  }
}

/** "posted in 12.3 s, all sent 20.1 s after the first post". */
export const timing = (posted: PostStats, c: Count) =>
  `posted in ${((posted.doneAt - posted.startedAt) / 1000).toFixed(1)} s, all sent ${((c.lastAt - posted.startedAt) / 1000).toFixed(1)} s after the first post`;

export const fmt = (m: Map<string, number>) => [...m].map(([k, v]) => `${k} ${v}`).join(", ") || "none";

/**
 * The inquiry core: "where is my transaction?", one answer for every channel.
 *
 * A channel turns what a citizen typed, texted or keyed into an {@link InquiryQuestion};
 * the core normalises the number, applies the rate limits, looks the transaction up and
 * decides how much may be revealed, and answers with facts ({@link InquiryAnswer}) that
 * each channel renders in its own form and language.
 *
 * Two levels of answer:
 * - **coarse**, for a bare number: the stage only (registered, under study, issued on
 *   date D, closed);
 * - **detail**, with proof of ownership: the department, every outgoing letter (number,
 *   date, destination agency, reply) and the dates. Proof is either a mobile the channel
 *   vouches for (the SMS sender, the caller id, the WhatsApp id) equal to the citizen's
 *   mobile, or a verifier: the last 4 digits of the citizen's mobile.
 *
 * Against enumeration and guessing:
 * - every identity of a question (IP, mobile, caller number, kiosk id) has a token bucket
 *   of `limit` inquiries per `windowMs`; a failed verifier costs {@link VERIFIER_FAILURE_COST}
 *   tokens instead of one;
 * - a number whose verifier failed {@link VERIFIER_LOCK_FAILURES} times within
 *   {@link VERIFIER_LOCK_MS} (from any identities) stops checking verifiers for a while
 *   (`verification: "locked"`), so rotating identities does not help guess 4 digits;
 * - an unknown number answers `not-found` whether or not a verifier was given, and a
 *   malformed verifier is refused before the lookup: the answers are no oracle;
 * - failed verifiers are counted per address range ({@link failureKeys}: an IPv4 /24, an
 *   IPv6 /48; a mobile, caller or kiosk by itself): a range with `rangeLimit`
 *   (`VERIFY_RANGE_FAILURE_LIMIT`) failures within `VERIFY_FAILURE_WINDOW_MS` gets no verifier
 *   checks (`locked`) until they age out; other ranges are unaffected;
 * - against guessing across many numbers, a budget of failed verifiers for everyone
 *   ({@link FailureBudget}: `VERIFY_FAILURE_BUDGET` per `VERIFY_FAILURE_WINDOW_MS`, the whole
 *   cluster's failures counted): once spent, verifier checks slow down rather than stop: a
 *   range that failed even once within the window is answered `locked`, a clean one is still
 *   checked (one guess per range per window), so the owner's right verifier still answers
 *   while mass guessing needs a fresh range for every guess;
 * - an IPv6 client is limited by its /64 (one subscriber's network), not by its address.
 *
 * Limits are kept in memory, per process: with several nodes serving a channel behind a
 * load balancer, each allows `limit` (see docs/channels.md).
 *
 * @example
 *   const inquiry = createInquiryCore({ limit: 30, windowMs: 60_000 });
 *   await inquiry.ask({ number: "١٤٤٥/٠٠١٢٣", identities: [{ kind: "ip", value: "10.0.0.7" }] });
 *   // { outcome: "found", number: "144500123", stage: "under-study", level: "coarse", proof: "none", verification: "not-given" }
 *
 * @module
 */
import net from "node:net";
import { TransactionModel } from "../events/models.ts";
import { directory } from "../directory/cache.ts";
import { UNKNOWN_AGENCY } from "../sms/templates/engine.ts";
import { displayNumberOf, findTransactionNumber, normalizeSaudiMobile, normalizeTransactionNumber } from "../text/normalize.ts";
import { normalizeDigits } from "../text/digits.ts";

// ------------------------------------------------------------------ types

/** The coarse stage of a transaction, as a citizen understands it. */
export type InquiryStage = "registered" | "under-study" | "issued" | "closed";

/** A name in both languages (agencies, departments). */
export interface LocalName {
  ar: string;
  en: string;
}

/**
 * Who is asking, for the rate limits: `ip`, `mobile` (an SMS or WhatsApp sender),
 * `caller` (a phone caller id), `kiosk` (a kiosk id). Values are compared as given.
 */
export interface Identity {
  kind: "ip" | "mobile" | "caller" | "kiosk" | (string & {});
  value: string;
}

export interface InquiryQuestion {
  /** The transaction number as typed: any digits, spaces, dashes, slashes. */
  number: string;
  /** The last 4 digits of the citizen's mobile, as typed; empty or absent: not given. */
  verifier?: string;
  /** Every identity is rate-limited; at least one. */
  identities: Identity[];
  /** A mobile the channel vouches is the asker's (SMS sender, caller id); any common form. */
  mobile?: string;
  /** The channel asking, for logs. */
  channel?: string;
}

/** What happened to a verifier. */
export type Verification = "not-given" | "matched" | "mismatch" | "locked";
/** What proved ownership. */
export type Proof = "mobile" | "verifier" | "none";

/** An outgoing letter (صادر) of the office for this transaction. */
export interface OutgoingFact {
  number: string;
  /** The number as the source wrote it ("1448/00977"): what every channel shows. */
  displayNumber: string;
  date: Date;
  destination: { code: string; name: LocalName };
  requiresReply: boolean;
  replied: boolean;
  replyDate?: Date;
}

/** The facts only the owner may see. */
export interface InquiryDetails {
  registeredAt?: Date;
  department?: { code: string; name: LocalName };
  /** Oldest first. */
  outgoing: OutgoingFact[];
  closedAt?: Date;
}

export type InquiryAnswer =
  | {
      outcome: "found";
      number: string;
      /** The number as the correspondence system wrote it ("1448/00512"): what every channel shows. */
      displayNumber: string;
      stage: InquiryStage;
      /** The date of the latest outgoing letter, when the stage is `issued`. */
      issuedOn?: Date;
      level: "coarse" | "detail";
      proof: Proof;
      verification: Verification;
      /** Present exactly when `level` is `detail`. */
      details?: InquiryDetails;
    }
  | { outcome: "invalid-number"; reason: "empty" | "malformed" }
  | { outcome: "invalid-verifier" }
  /** `displayNumber`: what the asker typed, in display form (see displayNumberOf). */
  | { outcome: "not-found"; number: string; displayNumber: string }
  | {
      outcome: "rate-limited";
      /** When the identity may ask again. */
      retryAfterMs: number;
      /** True when this identity was already refused since its last accepted question. */
      repeated: boolean;
    }
  /** The database could not be asked; try again later. */
  | { outcome: "unavailable" };

/** What the core reads: the transaction model and the directory's names. */
export interface InquiryStore {
  transaction(number: string): Promise<StoredTransaction | undefined>;
  department(code: string): Promise<{ name?: Partial<LocalName> | null } | undefined>;
  agency(code: string): Promise<{ name?: Partial<LocalName> | null } | undefined>;
}

/** The fields of a stored transaction the core uses. */
export interface StoredTransaction {
  number: string;
  displayNumber?: string | null;
  status: string;
  registered?: boolean | null;
  registeredAt?: Date | null;
  citizen?: { mobile?: string | null } | null;
  departmentCode?: string | null;
  outgoing?: Array<{
    number: string;
    displayNumber?: string | null;
    date: Date;
    destination?: { agencyCode?: string | null; name?: string | null } | null;
    requiresReply?: boolean | null;
    reply?: { date?: Date | null; receivedAt?: Date | null } | null;
  }>;
  closedAt?: Date | null;
}

export interface InquiryCoreOptions {
  /** Inquiries per identity per window (INQUIRY_RATE_LIMIT). */
  limit: number;
  /** The window (INQUIRY_RATE_WINDOW_MS). */
  windowMs: number;
  store?: InquiryStore;
  now?: () => number;
  logger?: { warn(...args: unknown[]): void };
  /**
   * The budget of failed verifiers for everyone (VERIFY_FAILURE_BUDGET per VERIFY_FAILURE_WINDOW_MS;
   * default 200 per 10 minutes), and failures one address range may make within that window
   * (VERIFY_RANGE_FAILURE_LIMIT; default 30).
   */
  failureBudget?: { limit: number; windowMs: number; rangeLimit?: number };
}

export interface InquiryCore {
  ask(question: InquiryQuestion): Promise<InquiryAnswer>;
  /** The rate limiter (for tests and metrics). */
  limiter: RateLimiter;
  /** The failed-verifier budget: the node shares its count with the cluster through it. */
  budget: FailureBudget;
  /** Failed verifiers per address range (this node's own). */
  ranges: FailureCounts;
}

/** Tokens a failed verifier costs (one inquiry costs 1). */
export const VERIFIER_FAILURE_COST = 5;
/** Failed verifiers for one number, from anyone, before its verifier checks pause. */
export const VERIFIER_LOCK_FAILURES = 10;
/** How far back failed verifiers of a number count. */
export const VERIFIER_LOCK_MS = 60 * 60_000;
/** Longest input looked at (anything longer is malformed). */
export const MAX_INPUT_LENGTH = 64;

// ------------------------------------------------------------------ pure parts

/** The coarse stage of a lifecycle status. */
export function stageOf(status: string): InquiryStage {
  switch (status) {
    case "referred":
    case "assigned":
      return "under-study";
    case "issued":
    case "reply-received":
      return "issued";
    case "closed":
      return "closed";
    default:
      return "registered";
  }
}

/** A verifier as typed → 4 Latin digits, `""` when not given, undefined when malformed. */
export function normalizeVerifier(input: unknown): string | undefined {
  if (input === undefined || input === null) return "";
  // Strings only, as every number Taqib reads: 0123 as a JSON number is 123.
  if (typeof input !== "string") return undefined;
  const s = normalizeDigits(input).replace(/[\s\-]/g, "");
  if (s === "") return "";
  return /^\d{4}$/.test(s) ? s : undefined;
}

/** A transaction number as typed → canonical digits, or why not. */
export function parseNumber(input: unknown): { number: string } | { reason: "empty" | "malformed" } {
  if (input === undefined || input === null) return { reason: "empty" };
  if (typeof input !== "string") return { reason: "malformed" };
  if (normalizeDigits(input).trim() === "") return { reason: "empty" };
  if (input.length > MAX_INPUT_LENGTH) return { reason: "malformed" };
  const number = normalizeTransactionNumber(input);
  return number ? { number } : { reason: "malformed" };
}

const localName = (n: Partial<LocalName> | null | undefined, fallback: string): LocalName => ({
  ar: n?.ar || n?.en || fallback,
  en: n?.en || n?.ar || fallback,
});

// ------------------------------------------------------------------ rate limiting

/**
 * Token buckets per key: `limit` tokens, refilled continuously over `windowMs`. A question
 * takes one token from each of its identities' buckets, or is refused when any has less.
 * Kept in memory, bounded to `maxKeys` buckets (full buckets are forgotten first).
 *
 * @example
 *   const rl = new RateLimiter({ limit: 2, windowMs: 60_000 });
 *   rl.take(["ip:1"]).ok // true, true, then false with retryAfterMs ≈ 30000
 */
export class RateLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly ratePerMs: number;
  private readonly now: () => number;
  private readonly maxKeys: number;
  private readonly buckets = new Map<string, { tokens: number; at: number; refused: boolean }>();

  constructor(opts: { limit: number; windowMs: number; now?: () => number; maxKeys?: number }) {
    if (!(opts.limit >= 1) || !(opts.windowMs >= 1)) throw new RangeError("RateLimiter: limit and windowMs must be at least 1");
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.ratePerMs = opts.limit / opts.windowMs;
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  private bucket(key: string, now: number) {
    let b = this.buckets.get(key);
    if (b) {
      b.tokens = Math.min(this.limit, b.tokens + (now - b.at) * this.ratePerMs);
      b.at = now;
      // Most recently used last: the oldest are evicted first.
      this.buckets.delete(key);
    } else {
      b = { tokens: this.limit, at: now, refused: false };
      this.prune(now);
    }
    this.buckets.set(key, b);
    return b;
  }

  private prune(now: number): void {
    if (this.buckets.size < this.maxKeys) return;
    for (const [key, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.ratePerMs >= this.limit) this.buckets.delete(key);
    }
    // Still full: forget the least recently used.
    for (const key of this.buckets.keys()) {
      if (this.buckets.size < this.maxKeys) break;
      this.buckets.delete(key);
    }
  }

  /** Takes `cost` tokens from every key, or none when any key has too few. */
  take(keys: string[], cost = 1): { ok: true } | { ok: false; retryAfterMs: number; repeated: boolean } {
    const now = this.now();
    const buckets = keys.map((k) => this.bucket(k, now));
    const short = buckets.filter((b) => b.tokens < cost);
    if (short.length) {
      const retryAfterMs = Math.ceil(Math.max(...short.map((b) => (cost - b.tokens) / this.ratePerMs)));
      const repeated = short.every((b) => b.refused);
      for (const b of short) b.refused = true;
      return { ok: false, retryAfterMs: Math.max(1, retryAfterMs), repeated };
    }
    for (const b of buckets) {
      b.tokens -= cost;
      b.refused = false;
    }
    return { ok: true };
  }

  /** Takes `cost` more tokens from every key (a penalty): buckets may go down to -limit. */
  charge(keys: string[], cost: number): void {
    const now = this.now();
    for (const k of keys) {
      const b = this.bucket(k, now);
      b.tokens = Math.max(-this.limit, b.tokens - cost);
    }
  }

  /** Forgets every bucket. */
  reset(): void {
    this.buckets.clear();
  }

  get size(): number {
    return this.buckets.size;
  }
}

/**
 * The /64 prefix of an IPv6 address (`2001:db8:1:2::/64`): a subscriber gets a whole /64,
 * so limiting by address would give one client 2^64 buckets. IPv4 (and IPv4-mapped IPv6)
 * addresses, and anything that is not an address, are returned as given.
 *
 * @example
 *   ipv6Prefix("2001:db8:1:2:aaaa::1") // "2001:db8:1:2::/64"
 *   ipv6Prefix("::ffff:10.0.0.7")      // "10.0.0.7"
 */
export function ipv6Prefix(address: string): string {
  const a = address.replace(/%.*$/, "");
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return mapped[1]!;
  if (net.isIP(a) !== 6) return address;
  const [head = "", tail = ""] = a.split("::");
  const groups = (part: string) => (part ? part.split(":") : []).flatMap((g) => (g.includes(".") ? ["0", "0"] : [g]));
  const left = groups(head);
  const right = a.includes("::") ? groups(tail) : [];
  const all = [...left, ...Array(8 - left.length - right.length).fill("0"), ...right];
  return `${all.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}

/**
 * The address range failed verifiers are counted by: an IPv4 address's /24
 * (`203.0.113.0/24`), an IPv6 address's /48 (`2001:db8:1::/48`, one site); anything that is
 * not an address is returned as given.
 *
 * @example
 *   addressRange("203.0.113.77")        // "203.0.113.0/24"
 *   addressRange("::ffff:203.0.113.77") // "203.0.113.0/24"
 *   addressRange("2001:db8:1:2::7")     // "2001:db8:1::/48"
 */
export function addressRange(address: string): string {
  const prefix = ipv6Prefix(address);
  if (net.isIP(prefix) === 4) return `${prefix.split(".").slice(0, 3).join(".")}.0/24`;
  if (prefix.endsWith("::/64")) return `${prefix.slice(0, -5).split(":").slice(0, 3).join(":")}::/48`;
  return prefix;
}

/**
 * The keys a question's failed verifiers are counted by: an `ip` identity's address range
 * ({@link addressRange}), every other identity by itself (a mobile, a caller, a kiosk),
 * except the `number` asked about (the per-number lock counts those).
 *
 * @example
 *   failureKeys([{ kind: "kiosk", value: "K1" }, { kind: "ip", value: "10.1.2.3" }]) // ["kiosk:K1", "range:10.1.2.0/24"]
 */
export function failureKeys(identities: Identity[]): string[] {
  const keys = identities
    .filter((id) => id.kind !== "number")
    .map((id) => (id.kind === "ip" ? `range:${addressRange(String(id.value).slice(0, 200))}` : identityKey(id)));
  return [...new Set(keys)];
}

/**
 * The bucket key of an identity; an `ip` identity of an IPv6 client is its /64.
 *
 * @example
 *   identityKey({ kind: "ip", value: "2001:db8:1:2::7" }) // "ip:2001:db8:1:2::/64"
 */
export function identityKey(id: Identity): string {
  const value = String(id.value).slice(0, 200);
  return `${id.kind}:${id.kind === "ip" ? ipv6Prefix(value) : value}`;
}

// ------------------------------------------------------------------ failure budget

/**
 * Failed verifiers of everyone, over a sliding window: this node's own failures plus the
 * latest counts other nodes announced (each node broadcasts its count every few seconds;
 * a count not renewed within {@link FailureBudget.remoteTtlMs} is dropped). Once the sum
 * reaches `limit`, verifier checks slow down (see {@link createInquiryCore}: a range that
 * failed within the window is not checked) until failures age out of the window.
 * Between two announcements the cluster may overshoot by what the other nodes saw in one
 * interval.
 *
 * @example
 *   const budget = new FailureBudget({ limit: 200, windowMs: 600_000 });
 *   budget.record(); budget.hear("node-2", 199); budget.exhausted() // true
 */
export class FailureBudget {
  readonly limit: number;
  readonly windowMs: number;
  readonly remoteTtlMs: number;
  /** Every failure this node recorded since start (for a counter). */
  recordedTotal = 0;
  private readonly now: () => number;
  private times: number[] = [];
  private readonly remote = new Map<string, { count: number; at: number }>();

  constructor(opts: { limit: number; windowMs: number; now?: () => number; remoteTtlMs?: number }) {
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.now = opts.now ?? Date.now;
    this.remoteTtlMs = opts.remoteTtlMs ?? 15_000;
  }

  /** This node's failures within the window. */
  local(): number {
    const cutoff = this.now() - this.windowMs;
    let i = 0;
    while (i < this.times.length && this.times[i]! <= cutoff) i++;
    if (i) this.times = this.times.slice(i);
    return this.times.length;
  }

  record(): void {
    this.recordedTotal++;
    this.times.push(this.now());
    // More than the budget changes nothing: keep memory bounded.
    if (this.times.length > this.limit) this.times = this.times.slice(-this.limit);
  }

  /** Another node's count within its window. */
  hear(node: string, count: number): void {
    if (!Number.isFinite(count) || count < 0) return;
    if (!this.remote.has(node) && this.remote.size >= 1000) return;
    this.remote.set(node, { count: Math.min(count, this.limit), at: this.now() });
  }

  /** The cluster's failures within the window, as far as this node knows. */
  total(): number {
    const cutoff = this.now() - this.remoteTtlMs;
    let sum = this.local();
    for (const [node, r] of this.remote) {
      if (r.at < cutoff) this.remote.delete(node);
      else sum += r.count;
    }
    return sum;
  }

  exhausted(): boolean {
    return this.total() >= this.limit;
  }
}

/**
 * Failures per key (an address range) over a sliding window, this node's own; each key keeps
 * at most `limit` times, and at most `maxKeys` keys are kept (the least recently failed are
 * forgotten first).
 *
 * @example
 *   const ranges = new FailureCounts({ limit: 30, windowMs: 600_000 });
 *   ranges.record(["range:203.0.113.0/24"]); ranges.count("range:203.0.113.0/24") // 1
 */
export class FailureCounts {
  readonly limit: number;
  readonly windowMs: number;
  private readonly now: () => number;
  private readonly maxKeys: number;
  private readonly times = new Map<string, number[]>();

  constructor(opts: { limit: number; windowMs: number; now?: () => number; maxKeys?: number }) {
    this.limit = opts.limit;
    this.windowMs = opts.windowMs;
    this.now = opts.now ?? Date.now;
    this.maxKeys = opts.maxKeys ?? 100_000;
  }

  /** Failures of `key` within the window. */
  count(key: string): number {
    const list = this.times.get(key);
    if (!list) return 0;
    const cutoff = this.now() - this.windowMs;
    let i = 0;
    while (i < list.length && list[i]! <= cutoff) i++;
    if (i === list.length) {
      this.times.delete(key);
      return 0;
    }
    if (i) this.times.set(key, list.slice(i));
    return list.length - i;
  }

  /** One failure for every key; the keys that reached `limit` with it. */
  record(keys: string[]): string[] {
    const reached: string[] = [];
    for (const key of keys) {
      const before = this.count(key);
      const list = this.times.get(key) ?? [];
      list.push(this.now());
      this.times.delete(key); // most recently failed last
      this.times.set(key, list.length > this.limit ? list.slice(-this.limit) : list);
      if (before < this.limit && before + 1 >= this.limit) reached.push(key);
    }
    while (this.times.size > this.maxKeys) this.times.delete(this.times.keys().next().value!);
    return reached;
  }

  get size(): number {
    return this.times.size;
  }
}

// ------------------------------------------------------------------ the store

/** The store over the transaction model and the directory (MongoDB). */
export const mongoInquiryStore: InquiryStore = {
  async transaction(number) {
    const t = await TransactionModel.findById(number).lean();
    return (t as StoredTransaction | null) ?? undefined;
  },
  // The directory comes from the process's cache: an inquiry costs one read, the transaction's.
  async department(code) {
    return (await directory.departments.get(code)) ?? undefined;
  },
  async agency(code) {
    return (await directory.agencies.get(code)) ?? undefined;
  },
};

// ------------------------------------------------------------------ the core

/**
 * Creates the inquiry core (one per process is enough; it holds the rate limits).
 *
 * @example
 *   const core = createInquiryCore({ limit: config.inquiryRateLimit, windowMs: config.inquiryRateWindowMs });
 */
export function createInquiryCore(opts: InquiryCoreOptions): InquiryCore {
  const store = opts.store ?? mongoInquiryStore;
  const now = opts.now ?? Date.now;
  const limiter = new RateLimiter({ limit: opts.limit, windowMs: opts.windowMs, now });
  const budget = new FailureBudget({ limit: opts.failureBudget?.limit ?? 200, windowMs: opts.failureBudget?.windowMs ?? 600_000, now });
  const ranges = new FailureCounts({ limit: opts.failureBudget?.rangeLimit ?? 30, windowMs: budget.windowMs, now });
  let budgetWasSpent = false;
  function budgetSpent(): boolean {
    const spent = budget.exhausted();
    if (spent && !budgetWasSpent) opts.logger?.warn(`inquiry: ${budget.limit} failed verifiers within ${budget.windowMs / 1000} s across all numbers: verifier checks slow down (an address range that failed within the window is not checked) until they age out`);
    budgetWasSpent = spent;
    return spent;
  }
  /** Why a verifier from these ranges is not checked now, if it is not. */
  function rangeRefusal(rangeKeys: string[]): "range" | "slowed" | undefined {
    const counts = rangeKeys.map((k) => ranges.count(k));
    if (counts.some((n) => n >= ranges.limit)) return "range";
    if (counts.some((n) => n > 0) && budgetSpent()) return "slowed";
    return undefined;
  }
  /** Failed verifier times per number (pruned as they age). */
  const failures = new Map<string, number[]>();

  function recentFailures(number: string): number[] {
    const cutoff = now() - VERIFIER_LOCK_MS;
    const list = (failures.get(number) ?? []).filter((t) => t > cutoff);
    if (list.length) failures.set(number, list);
    else failures.delete(number);
    return list;
  }

  function recordFailure(number: string): void {
    const list = recentFailures(number);
    list.push(now());
    failures.set(number, list.slice(-VERIFIER_LOCK_FAILURES));
    if (failures.size > 100_000) failures.delete(failures.keys().next().value!);
  }

  async function details(t: StoredTransaction): Promise<InquiryDetails> {
    const out: InquiryDetails = { outgoing: [] };
    if (t.registeredAt) out.registeredAt = new Date(t.registeredAt);
    if (t.departmentCode) {
      const d = await store.department(t.departmentCode);
      out.department = { code: t.departmentCode, name: localName(d?.name, t.departmentCode) };
    }
    const items = [...(t.outgoing ?? [])].sort((a, b) => new Date(a.date).getTime() - new Date(b.date).getTime());
    for (const o of items) {
      const code = o.destination?.agencyCode ?? "";
      const agency = code ? await store.agency(code) : undefined;
      // Not in the directory: the name the event gave, else a neutral phrase (never the bare code).
      const given = o.destination?.name;
      const name = agency?.name ? localName(agency.name, given || UNKNOWN_AGENCY.ar) : given ? { ar: given, en: given } : { ...UNKNOWN_AGENCY };
      const fact: OutgoingFact = {
        number: o.number,
        displayNumber: o.displayNumber || o.number,
        date: new Date(o.date),
        destination: { code, name },
        requiresReply: o.requiresReply === true,
        replied: !!o.reply,
      };
      const replyDate = o.reply?.date ?? o.reply?.receivedAt;
      if (replyDate) fact.replyDate = new Date(replyDate);
      out.outgoing.push(fact);
    }
    if (t.closedAt) out.closedAt = new Date(t.closedAt);
    return out;
  }

  async function ask(q: InquiryQuestion): Promise<InquiryAnswer> {
    const identities = (q.identities ?? []).filter((i) => i && i.value !== undefined && i.value !== "");
    if (!identities.length) throw new Error("inquiry: a question needs at least one identity");
    const keys = [...new Set(identities.map(identityKey))];

    const taken = limiter.take(keys);
    if (!taken.ok) return { outcome: "rate-limited", retryAfterMs: taken.retryAfterMs, repeated: taken.repeated };

    const parsed = parseNumber(q.number);
    if (!("number" in parsed)) return { outcome: "invalid-number", reason: parsed.reason };
    const verifier = normalizeVerifier(q.verifier);
    if (verifier === undefined) return { outcome: "invalid-verifier" };

    let t: StoredTransaction | undefined;
    try {
      t = await store.transaction(parsed.number);
    } catch (err) {
      opts.logger?.warn(`inquiry lookup failed (${q.channel ?? "?"}):`, err);
      return { outcome: "unavailable" };
    }
    if (!t) return { outcome: "not-found", number: parsed.number, displayNumber: displayNumberOf(q.number) };

    const stage = stageOf(t.status);
    const citizenMobile = normalizeSaudiMobile(t.citizen?.mobile ?? "");
    const asker = q.mobile ? normalizeSaudiMobile(q.mobile) : undefined;

    let proof: Proof = "none";
    let verification: Verification = verifier ? "mismatch" : "not-given";
    if (citizenMobile && asker && asker === citizenMobile) proof = "mobile";
    if (verifier) {
      const rangeKeys = failureKeys(identities);
      if (recentFailures(parsed.number).length >= VERIFIER_LOCK_FAILURES || (proof === "none" && rangeRefusal(rangeKeys))) {
        verification = "locked";
        limiter.charge(keys, VERIFIER_FAILURE_COST - 1);
      } else if (citizenMobile && citizenMobile.slice(-4) === verifier) {
        verification = "matched";
        if (proof === "none") proof = "verifier";
      } else if (proof === "none") {
        // A wrong verifier from someone already proven by mobile is not a guess.
        recordFailure(parsed.number);
        budget.record();
        for (const key of ranges.record(rangeKeys)) {
          opts.logger?.warn(`inquiry: ${ranges.limit} failed verifiers within ${ranges.windowMs / 1000} s from ${key}: its verifier checks pause until they age out`);
        }
        limiter.charge(keys, VERIFIER_FAILURE_COST - 1);
      }
    }

    const answer: Extract<InquiryAnswer, { outcome: "found" }> = {
      outcome: "found",
      number: parsed.number,
      displayNumber: t.displayNumber || t.number,
      stage,
      level: proof === "none" ? "coarse" : "detail",
      proof,
      verification,
    };
    if (stage === "issued" && t.outgoing?.length) {
      answer.issuedOn = new Date(Math.max(...t.outgoing.map((o) => new Date(o.date).getTime())));
    }
    if (proof !== "none") {
      try {
        answer.details = await details(t);
      } catch (err) {
        opts.logger?.warn(`inquiry details failed (${q.channel ?? "?"}):`, err);
        return { outcome: "unavailable" };
      }
    }
    return answer;
  }

  return { ask, limiter, budget, ranges };
}

export { findTransactionNumber, normalizeDigits, normalizeSaudiMobile };

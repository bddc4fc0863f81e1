// The inquiry core over an in-memory store: levels of answer, proof, verifier, limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  createInquiryCore,
  normalizeVerifier,
  parseNumber,
  RateLimiter,
  stageOf,
  VERIFIER_FAILURE_COST,
  VERIFIER_LOCK_FAILURES,
  type InquiryAnswer,
  type InquiryStore,
  type StoredTransaction,
} from "./inquiry.ts";

const issuedAt = new Date("2026-12-03T09:15:00Z");
const TX: Record<string, StoredTransaction> = {
  "144500123": {
    number: "144500123",
    displayNumber: "1445/00123",
    status: "issued",
    registered: true,
    registeredAt: new Date("2026-11-28T07:30:00Z"),
    citizen: { mobile: "+966551234567" },
    departmentCode: "LEGAL",
    outgoing: [
      { number: "4812077", displayNumber: "1448/12077", date: issuedAt, destination: { agencyCode: "MOI", name: "وزارة الداخلية" }, requiresReply: true },
      { number: "4800001", date: new Date("2026-11-30T09:00:00Z"), destination: { agencyCode: "XX", name: "جهة أخرى" } },
    ],
  },
  "777": { number: "777", status: "assigned", registered: true, citizen: { mobile: "+966500000777" }, outgoing: [] },
  "888": { number: "888", status: "closed", registered: true, citizen: { mobile: "+966500000888" }, outgoing: [], closedAt: new Date("2026-12-01T10:00:00Z") },
};
const store: InquiryStore = {
  async transaction(n) {
    return TX[n];
  },
  async department(code) {
    return code === "LEGAL" ? { name: { ar: "الإدارة القانونية", en: "Legal Affairs" } } : undefined;
  },
  async agency(code) {
    return code === "MOI" ? { name: { ar: "وزارة الداخلية", en: "Ministry of Interior" } } : undefined;
  },
};

function core(limit = 1000, clock = { t: 0 }) {
  return createInquiryCore({ limit, windowMs: 60_000, store, now: () => clock.t });
}
const ip = (v = "10.0.0.1") => [{ kind: "ip", value: v }];

test("stages: the lifecycle status maps to four coarse stages", () => {
  const table: Array<[string, string]> = [
    ["registered", "registered"],
    ["referred", "under-study"],
    ["assigned", "under-study"],
    ["issued", "issued"],
    ["reply-received", "issued"],
    ["closed", "closed"],
    ["unregistered", "registered"],
  ];
  for (const [status, stage] of table) assert.equal(stageOf(status), stage, status);
});

test("numbers and verifiers: forgiving input, clear refusals", () => {
  const numbers: Array<[unknown, unknown]> = [
    ["١٤٤٥/٠٠١٢٣", { number: "144500123" }],
    [" 1445-00123 ", { number: "144500123" }],
    ["۱۴۴۵ ۰۰۱۲۳", { number: "144500123" }],
    ["1445\u200f00123", { number: "144500123" }],
    ["\u200f", { reason: "empty" }],
    [144500123, { reason: "malformed" }],
    [-5, { reason: "malformed" }],
    ["", { reason: "empty" }],
    ["   ", { reason: "empty" }],
    [undefined, { reason: "empty" }],
    ["abc", { reason: "malformed" }],
    ["12a3", { reason: "malformed" }],
    ["1".repeat(21), { reason: "malformed" }],
    ["1 ".repeat(40), { reason: "malformed" }],
    [{}, { reason: "malformed" }],
  ];
  for (const [input, expected] of numbers) assert.deepEqual(parseNumber(input), expected, String(input));
  const verifiers: Array<[unknown, string | undefined]> = [
    [undefined, ""],
    ["", ""],
    ["4567", "4567"],
    ["٤٥٦٧", "4567"],
    ["45 67", "4567"],
    ["\u200f٤٥٦٧\u200e", "4567"],
    [4567, undefined],
    ["456", undefined],
    ["45678", undefined],
    ["abcd", undefined],
  ];
  for (const [input, expected] of verifiers) assert.equal(normalizeVerifier(input), expected, String(input));
});

test("a bare number gets the stage only; issued gives the date of the latest letter", async () => {
  const c = core();
  const a = await c.ask({ number: "1445-00123", identities: ip() });
  assert.deepEqual(a, { outcome: "found", number: "144500123", displayNumber: "1445/00123", stage: "issued", issuedOn: issuedAt, level: "coarse", proof: "none", verification: "not-given" });
  const b = await c.ask({ number: "777", identities: ip() });
  // Stored before the display form was kept: the canonical number.
  assert.deepEqual(b, { outcome: "found", number: "777", displayNumber: "777", stage: "under-study", level: "coarse", proof: "none", verification: "not-given" });
});

test("details need proof: the right verifier or the citizen's own mobile", async () => {
  const c = core();
  const byVerifier = await c.ask({ number: "144500123", verifier: "٤٥٦٧", identities: ip() });
  assert.equal(byVerifier.outcome, "found");
  if (byVerifier.outcome !== "found") return;
  assert.equal(byVerifier.level, "detail");
  assert.equal(byVerifier.proof, "verifier");
  assert.equal(byVerifier.verification, "matched");
  assert.deepEqual(byVerifier.details, {
    registeredAt: new Date("2026-11-28T07:30:00Z"),
    department: { code: "LEGAL", name: { ar: "الإدارة القانونية", en: "Legal Affairs" } },
    outgoing: [
      { number: "4800001", displayNumber: "4800001", date: new Date("2026-11-30T09:00:00Z"), destination: { code: "XX", name: { ar: "جهة أخرى", en: "جهة أخرى" } }, requiresReply: false, replied: false },
      { number: "4812077", displayNumber: "1448/12077", date: issuedAt, destination: { code: "MOI", name: { ar: "وزارة الداخلية", en: "Ministry of Interior" } }, requiresReply: true, replied: false },
    ],
  });
  for (const mobile of ["0551234567", "966551234567", "+966 55 123 4567"]) {
    const byMobile = await c.ask({ number: "144500123", mobile, identities: [{ kind: "mobile", value: mobile }] });
    assert.equal(byMobile.outcome === "found" && byMobile.level, "detail", mobile);
    assert.equal(byMobile.outcome === "found" && byMobile.proof, "mobile");
  }
  const otherMobile = await c.ask({ number: "144500123", mobile: "0559999999", identities: [{ kind: "mobile", value: "x" }] });
  assert.equal(otherMobile.outcome === "found" && otherMobile.level, "coarse");
  assert.equal(otherMobile.outcome === "found" && otherMobile.details, undefined);
});

test("a wrong verifier shows the stage only and says so", async () => {
  const a = await core().ask({ number: "144500123", verifier: "0000", identities: ip() });
  assert.equal(a.outcome, "found");
  if (a.outcome !== "found") return;
  assert.equal(a.level, "coarse");
  assert.equal(a.verification, "mismatch");
  assert.equal(a.details, undefined);
});

test("unknown and malformed: the same answer with or without a verifier (no oracle)", async () => {
  const c = core();
  const bare = await c.ask({ number: "999", identities: ip() });
  const withVerifier = await c.ask({ number: "999", verifier: "1234", identities: ip() });
  assert.deepEqual(bare, { outcome: "not-found", number: "999", displayNumber: "999" });
  assert.deepEqual(await c.ask({ number: "١٤٤٨ / ٠٠٩٩٩", identities: ip() }), { outcome: "not-found", number: "144800999", displayNumber: "1448/00999" });
  assert.deepEqual(withVerifier, bare);
  assert.deepEqual(await c.ask({ number: "abc", identities: ip() }), { outcome: "invalid-number", reason: "malformed" });
  assert.deepEqual(await c.ask({ number: "", identities: ip() }), { outcome: "invalid-number", reason: "empty" });
  // A malformed verifier is refused before the lookup, known number or not.
  assert.deepEqual(await c.ask({ number: "144500123", verifier: "12", identities: ip() }), { outcome: "invalid-verifier" });
  assert.deepEqual(await c.ask({ number: "999", verifier: "12", identities: ip() }), { outcome: "invalid-verifier" });
});

test("rate limit: one identity is cut off after `limit` questions and told when to retry", async () => {
  const clock = { t: 0 };
  const c = core(5, clock);
  const outcomes: string[] = [];
  for (let i = 0; i < 8; i++) outcomes.push((await c.ask({ number: String(100 + i), identities: ip() })).outcome);
  assert.deepEqual(outcomes, ["not-found", "not-found", "not-found", "not-found", "not-found", "rate-limited", "rate-limited", "rate-limited"]);
  const refused = (await c.ask({ number: "1", identities: ip() })) as Extract<InquiryAnswer, { outcome: "rate-limited" }>;
  assert.equal(refused.retryAfterMs, 12_000); // one token of 5 per minute
  assert.equal(refused.repeated, true);
  // Another identity is not affected; the first recovers with time.
  assert.equal((await c.ask({ number: "1", identities: ip("10.0.0.2") })).outcome, "not-found");
  clock.t += 12_000;
  assert.equal((await c.ask({ number: "1", identities: ip() })).outcome, "not-found");
  const again = await c.ask({ number: "1", identities: ip() });
  assert.deepEqual(again, { outcome: "rate-limited", retryAfterMs: 12_000, repeated: false });
});

test("rate limit: every identity of a question must have room (kiosk id and its address)", async () => {
  const c = core(3);
  const kiosk = (id: string) => [{ kind: "kiosk", value: id }, { kind: "ip", value: "10.1.1.1" }];
  assert.equal((await c.ask({ number: "1", identities: kiosk("gate-1") })).outcome, "not-found");
  assert.equal((await c.ask({ number: "1", identities: kiosk("gate-2") })).outcome, "not-found");
  assert.equal((await c.ask({ number: "1", identities: kiosk("gate-3") })).outcome, "not-found");
  // Rotating the kiosk id does not escape the address's bucket.
  assert.equal((await c.ask({ number: "1", identities: kiosk("gate-4") })).outcome, "rate-limited");
});

test("failed verifiers cost extra, and lock the number's verifier after repeated failures", async () => {
  const c = core(VERIFIER_FAILURE_COST + 1);
  // limit 6: a failure takes 5, so the second question still has 1 token, the third none.
  assert.equal((await c.ask({ number: "777", verifier: "0001", identities: ip("a") })).outcome, "found");
  assert.equal((await c.ask({ number: "777", verifier: "0002", identities: ip("a") })).outcome, "found");
  assert.equal((await c.ask({ number: "777", verifier: "0003", identities: ip("a") })).outcome, "rate-limited");
  // A right verifier or a bare number costs 1: six of them fit.
  for (let i = 0; i < 6; i++) assert.equal((await c.ask({ number: "777", identities: ip("b") })).outcome, "found");
  // Many identities guessing the same number: after VERIFIER_LOCK_FAILURES, even the right one is not checked.
  for (let i = 0; i < VERIFIER_LOCK_FAILURES - 2; i++) {
    const a = await c.ask({ number: "777", verifier: String(1000 + i), identities: ip(`g${i}`) });
    assert.equal(a.outcome === "found" && a.verification, "mismatch");
  }
  const right = await c.ask({ number: "777", verifier: "0777", identities: ip("owner") });
  assert.equal(right.outcome === "found" && right.verification, "locked");
  assert.equal(right.outcome === "found" && right.level, "coarse");
  // The owner's own mobile still proves ownership.
  const sms = await c.ask({ number: "777", mobile: "0500000777", identities: [{ kind: "mobile", value: "+966500000777" }] });
  assert.equal(sms.outcome === "found" && sms.level, "detail");
  // Another number is unaffected.
  const other = await c.ask({ number: "888", verifier: "0888", identities: ip("z") });
  assert.equal(other.outcome === "found" && other.verification, "matched");
  assert.deepEqual(other.outcome === "found" && other.details, { outgoing: [], closedAt: new Date("2026-12-01T10:00:00Z") });
});

test("a failing database is 'unavailable', never an exception", async () => {
  const broken: InquiryStore = { ...store, transaction: async () => { throw new Error("down"); } };
  const c = createInquiryCore({ limit: 10, windowMs: 1000, store: broken });
  assert.deepEqual(await c.ask({ number: "1", identities: ip() }), { outcome: "unavailable" });
});

test("rate limiter stays bounded in memory", () => {
  const rl = new RateLimiter({ limit: 1, windowMs: 1000, maxKeys: 100 });
  for (let i = 0; i < 1000; i++) rl.take([`k${i}`]);
  assert.ok(rl.size <= 100, `size ${rl.size}`);
});

test("identityKey: an IPv6 client is its /64; IPv4 and IPv4-mapped stay addresses", async () => {
  const { identityKey, ipv6Prefix } = await import("./inquiry.ts");
  const table: Array<[string, string]> = [
    ["2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::/64"],
    ["2001:0DB8:0001:0002::1", "2001:db8:1:2::/64"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::ffff:10.0.0.7", "10.0.0.7"],
    ["10.0.0.7", "10.0.0.7"],
    ["not an address", "not an address"],
  ];
  for (const [input, expected] of table) assert.equal(ipv6Prefix(input), expected, input);
  assert.equal(identityKey({ kind: "ip", value: "2001:db8:1:2::a" }), identityKey({ kind: "ip", value: "2001:db8:1:2:ffff::b" }));
  assert.notEqual(identityKey({ kind: "ip", value: "2001:db8:1:2::a" }), identityKey({ kind: "ip", value: "2001:db8:1:3::a" }));
  assert.equal(identityKey({ kind: "mobile", value: "2001:db8:1:2::a" }), "mobile:2001:db8:1:2::a", "only ip identities are grouped");
});

test("FailureBudget: this node's failures plus the others' announced counts, over a sliding window", async () => {
  const { FailureBudget } = await import("./inquiry.ts");
  let t = 0;
  const budget = new FailureBudget({ limit: 5, windowMs: 1000, now: () => t, remoteTtlMs: 300 });
  for (let i = 0; i < 3; i++) budget.record();
  assert.equal(budget.exhausted(), false);
  budget.hear("node-2", 2);
  assert.equal(budget.total(), 5);
  assert.equal(budget.exhausted(), true);
  t = 400; // node-2 went silent
  assert.equal(budget.total(), 3);
  t = 1001; // this node's failures aged out
  assert.equal(budget.total(), 0);
  assert.equal(budget.recordedTotal, 3);
});

test("addressRange and failureKeys: IPv4 /24, IPv6 /48, other identities by themselves, never the number", async () => {
  const { addressRange, failureKeys } = await import("./inquiry.ts");
  const table: Array<[string, string]> = [
    ["203.0.113.77", "203.0.113.0/24"],
    ["::ffff:203.0.113.77", "203.0.113.0/24"],
    ["2001:db8:1:2:aaaa::1", "2001:db8:1::/48"],
    ["2001:0DB8:0001:ffff::1", "2001:db8:1::/48"],
    ["2001:db8::1", "2001:db8:0::/48"],
    ["not an address", "not an address"],
  ];
  for (const [input, expected] of table) assert.equal(addressRange(input), expected, input);
  assert.deepEqual(
    failureKeys([{ kind: "kiosk", value: "K1" }, { kind: "ip", value: "10.1.2.3" }, { kind: "ip", value: "10.1.2.99" }, { kind: "number", value: "777" }]),
    ["kiosk:K1", "range:10.1.2.0/24"],
  );
});

/** Ten transactions whose citizens' mobiles end in 4567, and a core over them. */
function guessing(opts: { budget: number; rangeLimit?: number; clock?: { t: number } }) {
  const transactions = new Map(Array.from({ length: 10 }, (_, i) => [`14450${i}`, { number: `14450${i}`, status: "referred", citizen: { mobile: "0551234567" } }]));
  const store = { transaction: async (n: string) => transactions.get(n), department: async () => undefined, agency: async () => undefined };
  const clock = opts.clock ?? { t: 0 };
  const core = createInquiryCore({ limit: 1000, windowMs: 60_000, store, now: () => clock.t, failureBudget: { limit: opts.budget, windowMs: 60_000, rangeLimit: opts.rangeLimit ?? 1000 } });
  const ask = async (n: string, verifier: string, from: string) => {
    const a = await core.ask({ number: n, verifier, identities: [{ kind: "ip", value: from }] });
    return a.outcome === "found" ? { verification: a.verification, detail: a.level === "detail" } : { outcome: a.outcome };
  };
  return { core, ask, clock };
}

test("a spent failure budget slows guessing instead of locking everyone: a clean range still gets its answer", async () => {
  const { core, ask } = guessing({ budget: 3 });
  // Three wrong guesses from three ranges spend the budget.
  for (let i = 0; i < 3; i++) assert.deepEqual(await ask(`14450${i}`, "0000", `10.0.${i}.1`), { verification: "mismatch", detail: false });
  assert.equal(core.budget.exhausted(), true);
  // A right verifier for another number, from another range: answered with the details.
  assert.deepEqual(await ask("144509", "4567", "192.0.2.77"), { verification: "matched", detail: true });
  // A range that failed within the window is not checked, whatever it sends, from any of its addresses.
  assert.deepEqual(await ask("144505", "0001", "10.0.1.200"), { verification: "locked", detail: false });
  assert.deepEqual(await ask("144505", "4567", "10.0.2.9"), { verification: "locked", detail: false });
  // A clean range is checked once: its failure is its last check of the window.
  assert.deepEqual(await ask("144506", "0002", "10.9.9.9"), { verification: "mismatch", detail: false });
  assert.deepEqual(await ask("144507", "0003", "10.9.9.10"), { verification: "locked", detail: false });
  // Refused checks are no failures: the number is not locked, and the budget counts real failures only.
  assert.equal(core.budget.recordedTotal, 4);
});

test("a range that fails too often gets no verifier checks until its failures age out; other ranges are unaffected", async () => {
  const clock = { t: 0 };
  const { core, ask } = guessing({ budget: 1000, rangeLimit: 4, clock });
  for (let i = 0; i < 4; i++) assert.deepEqual(await ask(`14450${i}`, "0000", `203.0.113.${i + 1}`), { verification: "mismatch", detail: false });
  // Every address of the /24 is refused, even with the right verifier; the budget is far from spent.
  assert.deepEqual(await ask("144509", "4567", "203.0.113.250"), { verification: "locked", detail: false });
  assert.equal(core.budget.exhausted(), false);
  // The next /24 is another range.
  assert.deepEqual(await ask("144509", "4567", "203.0.114.1"), { verification: "matched", detail: true });
  // An IPv6 site is one range (its /48), across its /64s.
  for (let i = 0; i < 4; i++) assert.equal((await ask(`14450${i}`, "0000", `2001:db8:5:${i}::1`)).verification, "mismatch");
  assert.equal((await ask("144509", "4567", "2001:db8:5:ff::1")).verification, "locked");
  assert.equal((await ask("144509", "4567", "2001:db8:6::1")).verification, "matched");
  // After the window, the range is checked again.
  clock.t = 60_001;
  assert.deepEqual(await ask("144509", "4567", "203.0.113.250"), { verification: "matched", detail: true });
});

test("the budget is the cluster's: failures heard from other nodes slow this node's checks too", async () => {
  const { core, ask } = guessing({ budget: 3 });
  assert.equal((await ask("144501", "0000", "10.0.1.1")).verification, "mismatch");
  assert.equal((await ask("144501", "4567", "10.0.1.2")).verification, "matched", "budget not spent: a range that failed is still checked");
  core.budget.hear("node-2", 2);
  assert.equal((await ask("144501", "4567", "10.0.1.3")).verification, "locked");
  assert.equal((await ask("144502", "4567", "192.0.2.1")).verification, "matched");
});

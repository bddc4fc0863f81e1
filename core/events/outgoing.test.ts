// Outgoing numbers' claims over an in-memory store: one transaction per number, across
// requests of a batch, within a request, and between concurrent callers that both read the
// number free (the unique insert decides).
import { test } from "node:test";
import assert from "node:assert/strict";
import { claimOutgoingNumbers, type OutgoingClaimStore } from "./outgoing.ts";

const tick = () => new Promise((r) => setImmediate(r));

/** Claims by number; every call waits a turn first, so concurrent callers interleave. */
function memoryClaims() {
  const claimed = new Map<string, string>();
  let inserts = 0;
  const store: OutgoingClaimStore = {
    async holders(numbers) {
      await tick();
      return new Map(numbers.filter((n) => claimed.has(n)).map((n) => [n, claimed.get(n)!]));
    },
    async insert(claims) {
      await tick();
      inserts++;
      // Each claim alone is a unique insert (ordered: false): the others still go in.
      let all = true;
      for (const c of claims) {
        if (claimed.has(c.outgoingNumber)) all = false;
        else claimed.set(c.outgoingNumber, c.transactionNumber);
      }
      return all;
    },
  };
  return { store, claimed, inserts: () => inserts };
}

const issued = (id: string, transactionNumber: string, outgoingNumber: string) => ({ id, type: "issued", transactionNumber, data: { outgoingNumber } });
const registered = (id: string, transactionNumber: string) => ({ id, type: "registered", transactionNumber, data: {} });

test("a new number is claimed by its transaction; the same transaction again (a re-send, a re-issue) is no conflict", async () => {
  const m = memoryClaims();
  assert.deepEqual(await claimOutgoingNumbers([[registered("r", "100"), issued("i1", "100", "5001")]], m.store), [[]]);
  assert.equal(m.claimed.get("5001"), "100");
  assert.deepEqual(await claimOutgoingNumbers([[issued("i1", "100", "5001")], [issued("i2", "100", "5001")]], m.store), [[], []]);
  assert.equal(m.inserts(), 1, "nothing more to insert");
  // The same transaction's second letter has a number of its own.
  assert.deepEqual(await claimOutgoingNumbers([[issued("i3", "100", "5002")]], m.store), [[]]);
  assert.equal(m.claimed.get("5002"), "100");
});

test("another transaction's number is a conflict naming its holder; the refused request claims none of its numbers", async () => {
  const m = memoryClaims();
  await claimOutgoingNumbers([[issued("a", "100", "5001")]], m.store);
  const [conflicts] = await claimOutgoingNumbers([[issued("b1", "200", "5009"), issued("b2", "200", "5001")]], m.store);
  assert.deepEqual(conflicts, [{ id: "b2", outgoingNumber: "5001", transactionNumber: "100" }]);
  assert.equal(m.claimed.get("5001"), "100");
  assert.equal(m.claimed.has("5009"), false, "the request's other number stays free");
});

test("within a batch: the first request takes the number, a later one of another transaction is refused; a refused request takes nothing from those after it", async () => {
  const m = memoryClaims();
  await claimOutgoingNumbers([[issued("x", "900", "5000")]], m.store);
  const conflicts = await claimOutgoingNumbers(
    [
      [issued("a", "100", "5001")],
      [issued("b", "200", "5001")],
      // Refused for 5000 (900's): its 5002 is left to the request after it.
      [issued("c1", "300", "5000"), issued("c2", "300", "5002")],
      [issued("d", "400", "5002")],
      // Refused already for another reason: not looked at.
      null,
      // Two transactions in one request.
      [issued("e1", "500", "5003"), issued("e2", "600", "5003")],
    ],
    m.store,
  );
  assert.deepEqual(conflicts, [
    [],
    [{ id: "b", outgoingNumber: "5001", transactionNumber: "100" }],
    [{ id: "c1", outgoingNumber: "5000", transactionNumber: "900" }],
    [],
    [],
    [{ id: "e2", outgoingNumber: "5003", transactionNumber: "500" }],
  ]);
  assert.deepEqual(Object.fromEntries(m.claimed), { "5000": "900", "5001": "100", "5002": "400" });
});

test("concurrent callers for two transactions with the same number both read it free: exactly one wins (20 rounds, 2 to 5 callers)", async () => {
  for (let round = 0; round < 20; round++) {
    const m = memoryClaims();
    const callers = 2 + (round % 4);
    const number = `70${round}`;
    const results = await Promise.all(
      Array.from({ length: callers }, (_, i) => claimOutgoingNumbers([[issued(`e${i}`, `${i + 1}00`, number)]], m.store)),
    );
    const winners = results.filter(([c]) => c!.length === 0);
    assert.equal(winners.length, 1, `round ${round}: ${winners.length} winners`);
    const holder = m.claimed.get(number)!;
    for (const [c] of results) if (c!.length) assert.deepEqual(c!.map((x) => x.transactionNumber), [holder], "the losers name the winner");
  }
});

test("a race lost on a number refuses every request of the batch that counted on it; the same transaction racing itself is no conflict", async () => {
  const m = memoryClaims();
  // Between our read and our insert, transaction 900 claims 5001.
  const racing: OutgoingClaimStore = {
    holders: m.store.holders,
    async insert(claims) {
      if (!m.claimed.has("5001")) m.claimed.set("5001", "900");
      return m.store.insert(claims);
    },
  };
  const conflicts = await claimOutgoingNumbers([[issued("a", "100", "5001")], [issued("b", "100", "5001")], [issued("c", "300", "5004")]], racing);
  assert.deepEqual(conflicts, [
    [{ id: "a", outgoingNumber: "5001", transactionNumber: "900" }],
    [{ id: "b", outgoingNumber: "5001", transactionNumber: "900" }],
    [],
  ]);
  // Transaction 100 racing itself for 5005: both calls accepted.
  const both = await Promise.all([claimOutgoingNumbers([[issued("p", "100", "5005")]], m.store), claimOutgoingNumbers([[issued("q", "100", "5005")]], m.store)]);
  assert.deepEqual(both, [[[]], [[]]]);
});

// What one query costs on FerretDB v1 (SQLite) as its collection grows: the figures behind
// the readings in docs/performance.md. Run: npx tsx bench/ferretdb-probe.ts (about a minute).
//
// For collections of 1,000 / 5,000 / 20,000 small documents, the mean time (10 runs) of the
// query shapes the product uses, each looking for the LAST document inserted (the worst
// case of a scan), and FerretDB's explain (filterPushdown) of each shape.
import { MongoClient } from "mongodb";
import { testDatabase } from "../test/support/harness.ts";
import { banner, fmt, fmtInt, loadLine, main, now, progress, scaled, table } from "./common.ts";

const SIZES = [scaled(1_000), scaled(5_000), scaled(20_000)];
const RUNS = 10;

main(async (cleanup) => {
  banner("ferretdb-probe", [`collections of ${SIZES.map(fmtInt).join(" / ")} documents, mean of ${RUNS} runs`]);
  progress(loadLine());
  const server = await testDatabase();
  cleanup.add(() => server.remove());
  const client = new MongoClient(server.url);
  await client.connect();
  cleanup.add(() => client.close());
  const db = client.db();

  type Shape = { name: string; filter: (last: string) => object; op: "find" | "update" };
  const shapes: Shape[] = [
    { name: "find {_id}", filter: (id) => ({ _id: id }), op: "find" },
    { name: "find {_id, stage}", filter: (id) => ({ _id: id, stage: 0 }), op: "find" },
    { name: "find {_id: {$in: [2 ids]}}", filter: (id) => ({ _id: { $in: [id, "nope"] } }), op: "find" },
    { name: "find {transactionNumber} (indexed)", filter: (id) => ({ transactionNumber: id.slice(1) }), op: "find" },
    { name: "find {nextAt: {$lte}} (indexed, 0 match)", filter: () => ({ nextAt: { $lte: new Date(0) } }), op: "find" },
    { name: "updateOne {_id}", filter: (id) => ({ _id: id }), op: "update" },
    { name: "updateOne {_id, stage}", filter: (id) => ({ _id: id, stage: 0 }), op: "update" },
  ];
  const results = new Map<string, number[]>();
  const pushdown = new Map<string, string>();
  let inserted = 0;
  const coll = db.collection<any>("probe");
  await coll.createIndex({ transactionNumber: 1 });
  await coll.createIndex({ nextAt: 1 });
  for (const size of SIZES) {
    while (inserted < size) {
      const docs = [];
      while (docs.length < 1000 && inserted < size) {
        const i = inserted++;
        docs.push({ _id: `o${i}`, transactionNumber: String(i), stage: 0, nextAt: new Date(Date.now() + 86_400_000), agencyCode: "MOI", departmentCode: "LEGAL" });
      }
      await coll.insertMany(docs);
    }
    const last = `o${inserted - 1}`;
    for (const shape of shapes) {
      const filter = shape.filter(last);
      const t = now();
      for (let r = 0; r < RUNS; r++) {
        if (shape.op === "find") await coll.find(filter).toArray();
        else await coll.updateOne(filter, { $set: { touched: r } });
      }
      const ms = (now() - t) / RUNS;
      results.set(shape.name, [...(results.get(shape.name) ?? []), ms]);
      if (!pushdown.has(shape.name)) {
        const explained = (await db.command({ explain: { find: "probe", filter } })) as { filterPushdown?: boolean };
        pushdown.set(shape.name, String(explained.filterPushdown));
      }
    }
    progress(`${fmtInt(size)} documents measured`);
  }
  console.log("");
  table(
    ["query (looking for the last document)", "filterPushdown", ...SIZES.map((s) => `${fmtInt(s)} docs ms`), `µs per doc at ${fmtInt(SIZES[SIZES.length - 1]!)}`],
    shapes.map((s) => {
      const ms = results.get(s.name)!;
      return [s.name, pushdown.get(s.name)!, ...ms.map((m) => fmt(m, 1)), fmt((ms[ms.length - 1]! * 1000) / SIZES[SIZES.length - 1]!, 1)];
    }),
  );
  console.log("");
  console.log("(explain of find; updateOne takes the same filter path) — every shape grows with the collection: no query uses an index.");
  console.log(loadLine());
});

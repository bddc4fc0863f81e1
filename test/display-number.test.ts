// One transaction number everywhere: the correspondence system writes `1448/00512`, and the
// SMS at the SMSC, the staff API, the web JSON inquiry and the short code's reply all show it
// in that form, isolated (LRI…PDI) inside Arabic SMS text so it never reorders (DIGITS=arabic:
// test/display-number-digits.test.ts). A real node: FerretDB, SMPP to the simulator, HTTP.
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode, api, http, eventually } from "./support/harness.ts";
import { LRI, PDI, showIsolates } from "../core/text/bidi.ts";
import { CITIZEN, SERVICES, assertNumbersIsolated, at, hijriShown, inquirySms, lifecycle, smsTo } from "./support/display-number.ts";

const world = smsNode({
  env: SERVICES,
  then: async ({ node }) => {
    await api(node.url, "POST", "/api/v1/events", lifecycle("1448/00512", "1448/009771"));
  },
});

test("1448/00512 is shown in that form by the SMS, the staff API, the web JSON and the short code's reply", async () => {
  const { node, smsc } = world;
  const staff = await eventually(async () => {
    const r = await api(node.url, "GET", "/api/v1/transactions/144800512");
    return r.status === 200 && r.body.outgoing?.length === 1 && r.body;
  }, 15000, "the transaction, by its canonical number");
  // Staff API: the display form beside the canonical key, for the transaction and its letter.
  assert.equal(staff.number, "144800512");
  assert.equal(staff.displayNumber, "1448/00512");
  assert.equal(staff.outgoing[0].number, "1448009771");
  assert.equal(staff.outgoing[0].displayNumber, "1448/009771");
  assert.equal(staff.outgoing[0].agencyInDirectory, true);

  // The SMS as the SMSC received them, in logical order: number, then the letter's, then its date.
  const registered = await smsTo(smsc, CITIZEN, "سُجلت", "the registration SMS");
  assert.equal(
    showIsolates(registered.text),
    `محمد، سُجلت معاملتكم رقم ⟨1448/00512⟩ في ${hijriShown(staff.registeredAt)} بشأن: طلب إفادة.\nللاستعلام أرسلوا الرقم إلى ⟨74747⟩`,
  );
  const issued = await smsTo(smsc, CITIZEN, "صدرت", "the issued SMS");
  assert.equal(
    showIsolates(issued.text),
    `معاملتكم رقم ⟨1448/00512⟩ صدرت برقم ⟨1448/009771⟩ في ${hijriShown(staff.outgoing[0].date)} إلى وزارة الداخلية، ولا يلزم حضوركم.`,
  );
  for (const m of [registered, issued]) {
    assertNumbersIsolated(m.text);
    assert.ok(m.text.indexOf(`${LRI}1448/00512${PDI}`) > 0, "the number as the source wrote it, in one isolate");
    assert.doesNotMatch(m.text, /144800512/, "never the canonical digits");
  }

  // Web JSON, asked as written and as a citizen may type it: the stored form either way.
  for (const typed of ["1448/00512", "١٤٤٨٠٠٥١٢", "1448-00512"]) {
    const r = await http(node.url, "GET", `/api/v1/inquiry?number=${encodeURIComponent(typed)}`);
    assert.equal(r.status, 200, typed);
    assert.equal(r.body.displayNumber, "1448/00512", typed);
    assert.equal(r.body.number, "144800512", typed);
  }

  // The short code: the citizen texts the bare digits in Arabic-Indic, the reply shows 1448/00512.
  const reply = await inquirySms(smsc, "رقم المعاملة ١٤٤٨٠٠٥١٢");
  assert.equal(
    showIsolates(reply.text),
    `المعاملة رقم ⟨1448/00512⟩ صدرت برقم ⟨1448/009771⟩ في ${hijriShown(staff.outgoing[0].date)} إلى وزارة الداخلية، بانتظار الرد.`,
  );
  assertNumbersIsolated(reply.text);
  // Not found: the digits the short code read from the message, isolated.
  const unknown = await inquirySms(smsc, "١٤٤٨ / ٠٠٩٩٩");
  assert.equal(showIsolates(unknown.text), "لم نجد معاملة بالرقم ⟨144800999⟩. تأكدوا من الرقم وأعيدوا الإرسال.");
});

test("English SMS: the same form in Latin digits, no isolates, GSM-7; an Arabic name is not forced into it", async () => {
  const { node, smsc } = world;
  const mobile = "966551230513";
  await api(node.url, "POST", "/api/v1/events", lifecycle("1448/00513", "1448/009772", { mobile: "0551230513", lang: "en", name: "سالم بن ناصر العنزي" }));
  const registered = await smsTo(smsc, mobile, "registered", "the English registration SMS");
  assert.match(registered.text, /^Dear citizen, your transaction No\. 1448\/00513 was registered on /);
  assert.match(registered.text, /To follow up, text the number to 74747\.$/);
  const issued = await smsTo(smsc, mobile, "issued", "the English issued SMS");
  assert.match(issued.text, /^Your transaction No\. 1448\/00513 has been issued under outgoing No\. 1448\/009772 dated .* to Ministry of Interior\. There is no need to visit the office\.$/);
  for (const m of [registered, issued]) {
    assert.equal((m as { encoding?: string }).encoding, "GSM7", m.text);
    assert.doesNotMatch(m.text, /[\u2066-\u2069\u0600-\u06ff]/);
  }
});

test("an agency missing from the directory: the event's name or a neutral phrase, never its code; counted and flagged to staff", async () => {
  const { node, smsc } = world;
  const mobile = "966551230514";
  const [registered, unnamed] = lifecycle("1448/00514", "1448/7001", { mobile: "0551230514", destination: { agencyCode: "NOPE" } });
  const named = { ...lifecycle("1448/00514", "1448/7002", { destination: { agencyCode: "ZATCA", name: "هيئة الزكاة والضريبة والجمارك" } })[1]!, id: "dn-1448/00514-3", occurredAt: at(40) };
  await api(node.url, "POST", "/api/v1/events", [registered, unnamed, named]);
  const both = await eventually(async () => {
    const got = smsc.received.filter((m) => m.to === mobile && m.text.includes("صدرت"));
    return got.length === 2 && got;
  }, 20000, "both issued SMS");
  const texts = both.map((m) => showIsolates(m.text)).sort();
  assert.match(texts.find((t) => t.includes("⟨1448/7001⟩"))!, /إلى جهة أخرى، ولا يلزم حضوركم\.$/);
  assert.match(texts.find((t) => t.includes("⟨1448/7002⟩"))!, /إلى هيئة الزكاة والضريبة والجمارك، ولا يلزم حضوركم\.$/);
  for (const t of texts) assert.doesNotMatch(t, /NOPE|ZATCA/);
  const staff = (await api(node.url, "GET", "/api/v1/transactions/144800514")).body;
  assert.deepEqual(
    staff.outgoing.map((o: any) => [o.displayNumber, o.agencyInDirectory]),
    [["1448/7001", false], ["1448/7002", false]],
  );
  const metrics = (await api(node.url, "GET", "/metrics")).text as string;
  const missing = metrics.split("\n").filter((l) => l.startsWith("taqib_directory_missing{"));
  assert.deepEqual(missing.map((l) => [/kind="(\w+)"/.exec(l)?.[1], l.split(" ").pop()]), [["agency", "2"]], missing.join("\n"));
});

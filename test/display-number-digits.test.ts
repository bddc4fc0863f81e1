// DIGITS=arabic: numbers and dates in Arabic SMS (core/sms/templates and the short code's replies)
// in Arabic-Indic digits, still isolated; English SMS and the APIs keep Latin digits. A node
// of its own (its digits are a setting): FerretDB, SMPP to the simulator, HTTP.
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode, api, http, eventually } from "./support/harness.ts";
import { showIsolates } from "../core/text/bidi.ts";
import { CITIZEN, SERVICES, assertNumbersIsolated, hijriShown, inquirySms, lifecycle, smsTo } from "./support/display-number.ts";

const world = smsNode({ env: { ...SERVICES, DIGITS: "arabic" } });

test("DIGITS=arabic: Arabic SMS show ١٤٤٨/٠٠٥١٢ (isolated), English SMS and the APIs keep 1448/00512", async () => {
  const { node, smsc } = world;
  await api(node.url, "POST", "/api/v1/events", [...lifecycle("1448/00512", "1448/009771"), ...lifecycle("1448/00513", "1448/009772", { mobile: "0551230513", lang: "en", name: "Salem Al-Anazi" })]);
  const staff = await eventually(async () => {
    const r = await api(node.url, "GET", "/api/v1/transactions/144800512");
    return r.status === 200 && r.body.outgoing?.length === 1 && r.body;
  }, 15000, "the transaction");
  assert.equal(staff.displayNumber, "1448/00512");
  assert.equal(staff.outgoing[0].displayNumber, "1448/009771");

  const registered = await smsTo(smsc, CITIZEN, "سُجلت", "the registration SMS");
  assert.equal(
    showIsolates(registered.text),
    `محمد، سُجلت معاملتكم رقم ⟨١٤٤٨/٠٠٥١٢⟩ في ${hijriShown(staff.registeredAt, "arabic")} بشأن: طلب إفادة.\nللاستعلام أرسلوا الرقم إلى ⟨٧٤٧٤٧⟩`,
  );
  const issued = await smsTo(smsc, CITIZEN, "صدرت", "the issued SMS");
  assert.equal(
    showIsolates(issued.text),
    `معاملتكم رقم ⟨١٤٤٨/٠٠٥١٢⟩ صدرت برقم ⟨١٤٤٨/٠٠٩٧٧١⟩ في ${hijriShown(staff.outgoing[0].date, "arabic")} إلى وزارة الداخلية، ولا يلزم حضوركم.`,
  );
  const reply = await inquirySms(smsc, "1448/00512");
  assert.equal(
    showIsolates(reply.text),
    `المعاملة رقم ⟨١٤٤٨/٠٠٥١٢⟩ صدرت برقم ⟨١٤٤٨/٠٠٩٧٧١⟩ في ${hijriShown(staff.outgoing[0].date, "arabic")} إلى وزارة الداخلية، بانتظار الرد.`,
  );
  for (const m of [registered, issued, reply]) {
    assertNumbersIsolated(m.text);
    assert.doesNotMatch(m.text, /[0-9]/, `no Latin digit in an Arabic SMS: ${m.text}`);
  }

  // English: Latin whatever DIGITS says (Arabic-Indic digits would force UCS-2).
  const english = await smsTo(smsc, "966551230513", "registered", "the English registration SMS");
  assert.match(english.text, /^Dear Salem Al-Anazi, your transaction No\. 1448\/00513 was registered on \d\d\/\d\d\/\d{4} AH /);
  assert.equal((english as { encoding?: string }).encoding, "GSM7");

  const web = await http(node.url, "GET", "/api/v1/inquiry?number=1448%2F00512");
  assert.equal(web.body.displayNumber, "1448/00512");
});

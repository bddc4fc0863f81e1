// The crash windows around delivery receipts, driven step by step against a real node: a
// receipt that beats the record of its submit, a record whose own settling is cut short
// (the node killed between writing the parts and settling), and receipts that name a part in
// another form (decimal for hex) than the submit's answer did.
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode, eventually } from "../support/harness.ts";
import { MessageModel, ReceiptModel, SmsPartModel } from "../../core/sms/models.ts";
import { applyReceipt, canonicalPartId } from "../../core/sms/receipts.ts";
import { recordSubmitted } from "../../core/sms/send.ts";
import { report } from "./support.ts";

// The smpp service settles pending receipts every SWEEP_INTERVAL_MS (500 ms in tests).
const world = smsNode({ env: { SERVICES: "api,smpp" }, seed: false });

/** A message as a worker leaves it when it has submitted it and the SMPP node has not recorded it yet. */
async function sending(id: string) {
  const now = new Date();
  await MessageModel.create({ _id: id, template: "registered", role: "citizen", to: "+966550000001", lang: "ar", text: "نص", status: "sending", sendingSince: now, attempts: 1, statusHistory: [{ status: "queued", at: now }, { status: "sending", at: now }], createdAt: now, updatedAt: now, nextAttemptAt: now });
}

/** The first half of a record: the parts completed and the message "submitted"; the node dies before settling. */
async function recordedThenKilled(id: string, parts: string[]) {
  const siblings = parts.map(canonicalPartId);
  for (const p of siblings) await SmsPartModel.updateOne({ _id: p }, { $set: { messageId: id, siblings, submittedAt: new Date() } }, { upsert: true });
  await MessageModel.updateOne(
    { _id: id, status: "sending" },
    { $set: { status: "submitted", partIds: parts, submittedAt: new Date() }, $push: { statusHistory: { status: "submitted", at: new Date() } } },
  );
}

test("receipts acknowledged before their submit was recorded settle the message although the record's settling was cut short", async () => {
  const id = "receipt-crash-1";
  const parts = ["00fedc0001", "00fedc0002", "00fedc0003"];
  await sending(id);
  // The three receipts come before the record: written at once, and acknowledged unsettled.
  const t0 = Date.now();
  const results = await Promise.all(parts.map((p) => applyReceipt({ messageId: p, status: "delivered", final: true, stat: "DELIVRD", err: "000" })));
  const waited = Date.now() - t0;
  assert.deepEqual(results, [undefined, undefined, undefined], "nothing to settle yet");
  // The record, and the crash before its settling.
  await recordedThenKilled(id, parts);
  const m = await eventually(async () => {
    const m = await MessageModel.findById(id).lean();
    return m?.status === "delivered" && m;
  }, 20_000, "the message settled by the pending-receipts sweep");
  report("receipts before the record, the record's settling cut short", { accepted: 1, expected: 1, sent: 1, duplicated: 0, lost: 0 }, `receipts acknowledged after waiting ${waited} ms for the record; message ${m.status} by the sweep`);
});

test("a receipt that comes before its submit is recorded: the record settles the message itself", async () => {
  const id = "receipt-race-1";
  const parts = ["00fedc0011"];
  await sending(id);
  assert.equal(await applyReceipt({ messageId: parts[0]!, status: "delivered", final: true, stat: "DELIVRD", err: "000" }), undefined, "nothing to settle yet");
  const settled = await recordSubmitted(id, { messageIds: parts, encoding: "UCS2", partCount: 1 });
  assert.equal(settled?.status, "delivered", "the record found the receipt and settled the message");
  assert.equal((await MessageModel.findById(id).lean())?.status, "delivered");
});

test("receipts name the parts in decimal when the submit answered in hex (and in other cases): the message is settled", async () => {
  const id = "receipt-alias-1";
  await sending(id);
  // submit_sm_resp gave hex ids with leading zeros, upper case; the receipts' text gives decimal.
  const parts = ["00001A2B", "00001A2C"];
  assert.equal(await recordSubmitted(id, { messageIds: parts, encoding: "UCS2", partCount: 2 }), undefined);
  const first = await applyReceipt({ messageId: String(0x1a2b), status: "delivered", final: true, stat: "DELIVRD", err: "000" });
  assert.equal(first, undefined, "one part of two: not settled yet");
  const second = await applyReceipt({ messageId: String(0x1a2c), status: "delivered", final: true, stat: "DELIVRD", err: "000" });
  assert.equal(second?.status, "delivered");
  // A repeated receipt settles nothing again (metrics count each message once).
  assert.equal(await applyReceipt({ messageId: "1a2c", status: "delivered", final: true, stat: "DELIVRD", err: "000" }), undefined);
  // A late intermediate receipt does not move a final part back.
  await applyReceipt({ messageId: "6699", status: "submitted", final: false, stat: "ENROUTE" });
  assert.equal((await ReceiptModel.findById("1a2b").lean())?.status, "delivered");
  assert.equal((await MessageModel.findById(id).lean())?.status, "delivered");
});

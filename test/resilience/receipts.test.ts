// The crash windows around delivery receipts, driven step by step against a real node: a
// receipt that beats the record of its submit, and a record whose own settling is cut short
// (the node killed between writing "submitted" and applying the receipts that came first).
import { test } from "node:test";
import assert from "node:assert/strict";
import { smsNode, eventually } from "../support/harness.ts";
import { MessageModel } from "../../core/models.ts";
import { applyReceipt } from "../../core/sms-pipeline.ts";
import { messageIdAliases } from "../../core/smpp/dlr.ts";
import { report } from "./support.ts";

// The smpp service settles pending receipts every SWEEP_INTERVAL_MS (500 ms in tests).
const world = smsNode({ env: { SERVICES: "api,smpp" }, seed: false });

/** A message as a worker leaves it when it has submitted it and the SMPP node has not recorded it yet. */
async function sending(id: string) {
  const now = new Date();
  await MessageModel.create({ _id: id, template: "registered", role: "citizen", to: "+966550000001", lang: "ar", text: "نص", status: "sending", sendingSince: now, attempts: 1, smscIds: [], statusHistory: [{ status: "queued", at: now }, { status: "sending", at: now }], createdAt: now, updatedAt: now, nextAttemptAt: now });
}

/** The first half of recordSubmitted: "submitted" and the SMSC ids written; the node dies before settling. */
async function recordedThenKilled(id: string, parts: string[]) {
  await MessageModel.updateOne(
    { _id: id, status: "sending" },
    { $set: { status: "submitted", smscIds: [...new Set(parts.flatMap((p) => messageIdAliases(p)))], partIds: parts, submittedAt: new Date() }, $push: { statusHistory: { status: "submitted", at: new Date() } } },
  );
}

test("receipts acknowledged before their submit was recorded settle the message although the record's settling was cut short", async () => {
  const id = "receipt-crash-1";
  const parts = ["00fedc0001", "00fedc0002", "00fedc0003"];
  await sending(id);
  // The three receipts come before the record: each waits for it, then is acknowledged unsettled.
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

test("a receipt that comes while its submit is being recorded settles the message itself", async () => {
  const id = "receipt-race-1";
  const parts = ["00fedc0011"];
  await sending(id);
  const pending = applyReceipt({ messageId: parts[0]!, status: "delivered", final: true, stat: "DELIVRD", err: "000" });
  await new Promise((r) => setTimeout(r, 500));
  await recordedThenKilled(id, parts);
  const settled = await pending;
  assert.equal(settled?.status, "delivered", "the receipt waited for the record and settled it");
  assert.equal((await MessageModel.findById(id).lean())?.status, "delivered");
});

import { describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  aggregatePartStatuses,
  cleanMessageId,
  DLR_STATUS,
  dlrStatus,
  isDeliveryReceipt,
  messageIdAliases,
  parseDeliveryReceipt,
  parseReceiptDate,
  parseReceiptText,
  sameMessageId,
  type ReceiptInput,
} from "./dlr.ts";

const STD = "id:2882400001 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:Hello world";

describe("DLR_STATUS", () => {
  const table: Array<[string | number, string, boolean]> = [
    ["DELIVRD", "delivered", true],
    ["EXPIRED", "expired", true],
    ["DELETED", "failed", true],
    ["UNDELIV", "undeliverable", true],
    ["ACCEPTD", "submitted", false],
    ["UNKNOWN", "submitted", false],
    ["REJECTD", "rejected", true],
    ["ENROUTE", "submitted", false],
    ["delivered", "delivered", true],
    ["Undeliverable", "undeliverable", true],
    ["FAILED", "failed", true],
    ["WHATEVER", "submitted", false],
    [1, "submitted", false],
    [2, "delivered", true],
    [3, "expired", true],
    [4, "failed", true],
    [5, "undeliverable", true],
    [6, "submitted", false],
    [7, "submitted", false],
    [8, "rejected", true],
    [9, "failed", true],
  ];
  for (const [state, status, final] of table) {
    it(`${state} -> ${status}${final ? " (final)" : ""}`, () => {
      const e = dlrStatus(state);
      assert.equal(e.status, status);
      assert.equal(e.final, final);
    });
  }
  it("numeric states carry the canonical word", () => {
    assert.equal(DLR_STATUS["2"]!.state, "DELIVRD");
    assert.equal(DLR_STATUS["5"]!.state, "UNDELIV");
  });
});

describe("parseReceiptText", () => {
  const cases: Array<{ name: string; text: string; expect: ReturnType<typeof parseReceiptText> }> = [
    {
      name: "standard",
      text: STD,
      expect: { id: "2882400001", sub: "001", dlvrd: "001", submitDate: "2501011200", doneDate: "2501011201", stat: "DELIVRD", err: "000", text: "Hello world" },
    },
    {
      name: "upper case keys, extra spaces, 12-digit dates",
      text: "ID: abc123   SUB:1  DLVRD:1 SUBMIT DATE:250101120030 DONE   DATE: 250101120145 STAT:undeliv ERR:  034  TEXT:",
      expect: { id: "abc123", sub: "1", dlvrd: "1", submitDate: "250101120030", doneDate: "250101120145", stat: "UNDELIV", err: "034", text: "" },
    },
    { name: "only id and stat", text: "id:77 stat:EXPIRED", expect: { id: "77", stat: "EXPIRED" } },
    { name: "underscored date keys", text: "id:1 submit_date:2501011200 done_date:2501011201 stat:DELIVRD", expect: { id: "1", submitDate: "2501011200", doneDate: "2501011201", stat: "DELIVRD" } },
    { name: "text may contain keys", text: "id:9 stat:DELIVRD text:id:5 stat:REJECTD", expect: { id: "9", stat: "DELIVRD", text: "id:5 stat:REJECTD" } },
    { name: "msgid is not id", text: "msgid:5 stat:DELIVRD", expect: { stat: "DELIVRD" } },
    { name: "not a receipt", text: "1234567", expect: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseReceiptText(c.text), c.expect));
});

describe("parseReceiptDate", () => {
  const cases: Array<[string | undefined, string | undefined]> = [
    ["2501011200", "2025-01-01T12:00:00.000Z"],
    ["250101120030", "2025-01-01T12:00:30.000Z"],
    ["20250101120030", "2025-01-01T12:00:30.000Z"],
    ["2502301200", undefined], // 30 February
    ["2501012460", undefined],
    ["25010112", undefined],
    [undefined, undefined],
  ];
  for (const [input, iso] of cases) it(String(input), () => assert.equal(parseReceiptDate(input)?.toISOString(), iso));
});

describe("messageIdAliases", () => {
  const cases: Array<[string, string[]]> = [
    ["00abcdef01", ["00abcdef01", "abcdef01", "2882400001"]],
    ["00ABCDEF01", ["00ABCDEF01", "abcdef01", "2882400001"]],
    ["2882400001", ["2882400001", "abcdef01", "173983924225"]],
    ["0x1F", ["0x1F", "1f", "31"]],
    ["000123", ["000123", "123", "7b", "291"]],
    ["msg-42", ["msg-42"]],
    ["  7  ", ["7"]],
    ["", []],
  ];
  for (const [id, aliases] of cases) it(JSON.stringify(id), () => assert.deepEqual(messageIdAliases(id), aliases));

  const pairs: Array<[string, string, boolean]> = [
    ["00abcdef01", "2882400001", true], // hex in submit_sm_resp, decimal in receipt
    ["2882400001", "ABCDEF01", true], // decimal in resp, hex upper case in receipt
    ["000000ff", "255", true],
    ["ff", "FF", true],
    ["abc", "abd", false],
    ["msg-1", "msg-1", true],
    ["msg-1", "MSG-1", false],
  ];
  for (const [a, b, same] of pairs) it(`${a} ~ ${b}: ${same}`, () => assert.equal(sameMessageId(a, b), same));
});

describe("cleanMessageId", () => {
  it("cuts at the first non-printable byte", () => assert.equal(cleanMessageId("abc12\u0004\u0027\u0000x"), "abc12"));
  it("empty is undefined", () => assert.equal(cleanMessageId("\u0000"), undefined));
});

describe("parseDeliveryReceipt", () => {
  const cases: Array<{ name: string; input: ReceiptInput; expect: Partial<ReturnType<typeof parseDeliveryReceipt>> | undefined }> = [
    {
      name: "text only",
      input: { esmClass: 0x04, text: STD, sourceAddr: "966500000001", destinationAddr: "74747" },
      expect: {
        messageId: "2882400001",
        state: "DELIVRD",
        status: "delivered",
        final: true,
        submitted: 1,
        delivered: 1,
        errorCode: "000",
        text: "Hello world",
        recipient: "966500000001",
        sender: "74747",
        textMessageId: "2882400001",
      },
    },
    {
      name: "TLVs take precedence over text",
      input: { esmClass: 0x04, text: STD, receiptedMessageId: "00abcdef01", messageState: 5, networkErrorCode: Uint8Array.from([3, 0, 1]) },
      expect: { messageId: "00abcdef01", tlvMessageId: "00abcdef01", textMessageId: "2882400001", state: "UNDELIV", status: "undeliverable", final: true, networkError: { networkType: 3, code: 1 } },
    },
    {
      name: "TLV id with garbage from a missing NUL",
      input: { esmClass: 0x04, text: "", receiptedMessageId: "ab12\u0004'\u0000", messageState: 2 },
      expect: { messageId: "ab12", status: "delivered", final: true },
    },
    {
      name: "data_sm receipt with TLVs only (esm_class 0)",
      input: { esmClass: 0x00, receiptedMessageId: "77", messageState: 6 },
      expect: { messageId: "77", state: "ACCEPTD", status: "submitted", final: false },
    },
    {
      name: "intermediate notification",
      input: { esmClass: 0x20, text: "id:5 stat:ENROUTE" },
      expect: { messageId: "5", status: "submitted", final: false },
    },
    {
      name: "receipt text with esm_class 0 (broken SMSC)",
      input: { esmClass: 0x00, text: "id:5 sub:001 dlvrd:000 submit date:2501011200 done date:2501011300 stat:EXPIRED err:000 text:" },
      expect: { messageId: "5", status: "expired", final: true },
    },
    { name: "an MO is not a receipt", input: { esmClass: 0x00, text: "1234567" }, expect: undefined },
    { name: "MO that mentions id: only", input: { esmClass: 0x00, text: "id: 55 please" }, expect: undefined },
    { name: "receipt without any id", input: { esmClass: 0x04, text: "stat:DELIVRD" }, expect: undefined },
    { name: "unknown stat word is non-final", input: { esmClass: 0x04, text: "id:1 stat:QUEUED" }, expect: { state: "QUEUED", status: "submitted", final: false } },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = parseDeliveryReceipt(c.input);
      if (c.expect === undefined) return assert.equal(r, undefined);
      assert.ok(r, "expected a receipt");
      for (const [k, v] of Object.entries(c.expect)) assert.deepEqual((r as unknown as Record<string, unknown>)[k], v, k);
    });
  }

  it("aliases cover both the hex TLV id and the decimal text id", () => {
    const r = parseDeliveryReceipt({ esmClass: 4, text: STD, receiptedMessageId: "00abcdef01", messageState: 2 })!;
    assert.ok(r.messageIdAliases.includes("00abcdef01"));
    assert.ok(r.messageIdAliases.includes("2882400001"));
    assert.ok(r.messageIdAliases.includes("abcdef01"));
    assert.equal(r.submitDate?.toISOString(), "2025-01-01T12:00:00.000Z");
  });

  it("isDeliveryReceipt ignores the UDHI bit", () => assert.equal(isDeliveryReceipt({ esmClass: 0x44, text: "" }), true));
});

describe("aggregatePartStatuses", () => {
  const cases: Array<[Array<Parameters<typeof aggregatePartStatuses>[0][number]>, string, boolean]> = [
    [["delivered", "delivered"], "delivered", true],
    [["delivered", undefined], "submitted", false],
    [["delivered", "undeliverable"], "undeliverable", true],
    [["submitted", "expired"], "expired", true],
    [[], "submitted", false],
  ];
  for (const [parts, status, final] of cases) {
    it(JSON.stringify(parts), () => assert.deepEqual(aggregatePartStatuses(parts), { status, final }));
  }
});

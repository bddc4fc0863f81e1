import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { COMMAND_STATUS, describeCommandStatus, SMPP_STATUS, SmppBindError, SmppSubmitError } from "./status.ts";

describe("command_status table", () => {
  const cases: Array<[number, string, boolean]> = [
    [0x58, "ESME_RTHROTTLED", true],
    [0x14, "ESME_RMSGQFUL", true],
    [0x08, "ESME_RSYSERR", true],
    [0x45, "ESME_RSUBMITFAIL", true],
    [0x04, "ESME_RINVBNDSTS", true],
    [0x64, "ESME_RX_T_APPN", true],
    [0x65, "ESME_RX_P_APPN", false],
    [0x66, "ESME_RX_R_APPN", false],
    [0x0b, "ESME_RINVDSTADR", false],
    [0x0a, "ESME_RINVSRCADR", false],
    [0x0d, "ESME_RBINDFAIL", true],
    [0x0e, "ESME_RINVPASWD", false],
    [0x0f, "ESME_RINVSYSID", false],
    [0x01, "ESME_RINVMSGLEN", false],
    [0x104, "ESME_RINVDCS", false],
    [0x401, "ESME_0x00000401", true], // vendor range: retryable
    [0x4ff, "ESME_0x000004ff", true],
    [0x500, "ESME_0x00000500", false], // unknown elsewhere: not retryable
    [0x09, "ESME_0x00000009", false],
  ];
  for (const [code, name, retryable] of cases) {
    it(`0x${code.toString(16)} ${name}`, () => {
      const d = describeCommandStatus(code);
      assert.equal(d.name, name);
      assert.equal(d.retryable, retryable);
    });
  }
  it("names map back to codes", () => {
    assert.equal(SMPP_STATUS.ESME_RTHROTTLED, 0x58);
    for (const [code, info] of Object.entries(COMMAND_STATUS)) assert.equal(SMPP_STATUS[info.name], Number(code));
  });
  it("overrides win", () => {
    assert.equal(describeCommandStatus(0x401, { 0x401: false }).retryable, false);
    assert.equal(describeCommandStatus(0x0b, { 0x0b: true }).retryable, true);
  });
});

describe("errors", () => {
  it("SmppSubmitError.fromStatus", () => {
    const e = SmppSubmitError.fromStatus(0x58, "submit_sm to 9665");
    assert.equal(e.code, "ESME_RTHROTTLED");
    assert.equal(e.commandStatus, 0x58);
    assert.equal(e.retryable, true);
    assert.equal(e.maybeAccepted, false);
    assert.ok(e instanceof Error);
    assert.equal(e.withMaybeAccepted(true).maybeAccepted, true);
    assert.equal(e.withMaybeAccepted(true).code, "ESME_RTHROTTLED");
  });
  it("SmppBindError for a wrong password is not retryable", () => {
    const e = new SmppBindError(0x0e, "taqib");
    assert.equal(e.code, "ESME_RINVPASWD");
    assert.equal(e.retryable, false);
    assert.match(e.message, /password/);
  });
});

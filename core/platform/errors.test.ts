// The errors between services decode the same thrown here or rebuilt from another node.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Errors } from "moleculer";
import { RecordFailedError, SubmitError, submitFailure } from "./errors.ts";

/** An error as Moleculer's regenerator rebuilds a class it does not know: a plain Error with the wire fields. */
function overTheWire(err: Errors.MoleculerError): Error {
  return Object.assign(new Error(err.message), { name: err.name, code: err.code, type: err.type, data: err.data, retryable: err.retryable });
}

test("a submit error is decoded by its type and retryable flag, here or from another node", () => {
  const result = { messageIds: ["a1", "a2"], encoding: "UCS2" as const, partCount: 2 };
  const cases: Array<[Errors.MoleculerError, ReturnType<typeof submitFailure>]> = [
    [new SubmitError("LINK_DOWN", "No SMPP bind is up", true), { kind: "failed", code: "LINK_DOWN", message: "No SMPP bind is up", retryable: true }],
    [new SubmitError("ESME_RINVDSTADR", "refused", false), { kind: "failed", code: "ESME_RINVDSTADR", message: "refused", retryable: false }],
    [new RecordFailedError(result), { kind: "unrecorded", result }],
    [new Errors.RequestTimeoutError({ action: "smpp.submit", nodeID: "n2" }), { kind: "unanswered" }],
    [new Errors.RequestRejectedError({ action: "smpp.submit", nodeID: "n2" }), { kind: "unanswered" }],
  ];
  for (const [err, expected] of cases) {
    assert.deepEqual(submitFailure(err), expected, err.name);
    assert.deepEqual(submitFailure(overTheWire(err)), expected, `${err.name} over the wire`);
  }
  assert.equal(new SubmitError("LINK_DOWN", "", true).code, 503);
  assert.equal(new SubmitError("ESME_RINVDSTADR", "", false).code, 422);
});

test("anything else is a retryable failure under its type or code", () => {
  assert.deepEqual(submitFailure(new Error("boom")), { kind: "failed", code: "SUBMIT_FAILED", message: "boom", retryable: true });
  assert.deepEqual(submitFailure(new Errors.ServiceNotAvailableError({ action: "smpp.submit" })).kind, "failed");
  assert.equal((submitFailure(new Errors.ValidationError("bad", "VALIDATION_ERROR", [])) as { retryable: boolean }).retryable, false);
});

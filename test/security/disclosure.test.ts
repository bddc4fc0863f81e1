// What a stranger learns from the answers: the public health check and error bodies name no
// node (its default id is derived from the host name and process id). Real node, real HTTP.
import { test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import { API_KEY, http, smsNode } from "../support/harness.ts";

const world = smsNode();
const nodeId = `${os.hostname()}-${process.pid}`;
const key = { authorization: `Bearer ${API_KEY}` };

test("the public health answers and error bodies name no node", async () => {
  const requests: [string, string, Record<string, string>?][] = [
    ["GET", "/health/ready"],
    ["GET", "/health/live"],
    // Moleculer's validator puts the node and action in each field's error.
    ["GET", "/api/v1/departments?limit=1&limit=2", key],
    ["GET", "/api/v1/messages?status=queued&status=sent", key],
    ["GET", "/api/v1/employees?after=a&after=b", key],
    ["GET", "/nowhere"],
    ["GET", "/api/v1/inquiry?number=abc"],
  ];
  for (const [method, path, headers] of requests) {
    const r = await http(world.node.url, method, path, undefined, headers);
    assert.ok(r.status < 500, `${path}: ${r.status}`);
    assert.ok(!r.text.includes(nodeId) && !/nodeID|"node"|"action"/.test(r.text), `${path} names no node: ${r.text}`);
  }
  const ready = await http(world.node.url, "GET", "/health/ready");
  assert.deepEqual(ready.body, { status: "ok", checks: { database: "ok", smpp: "ok" } });
  const invalid = await http(world.node.url, "GET", "/api/v1/departments?limit=1&limit=2", undefined, key);
  assert.equal(invalid.status, 400);
  assert.deepEqual(invalid.body.error, {
    code: "INVALID_PARAMS",
    message: "Some parameters are not valid",
    messageAr: "بعض مدخلات الطلب غير صحيحة",
    details: [{ field: "query.limit", message: "The 'query.limit' field must be a string." }],
  });
});

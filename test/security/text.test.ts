// Text from outside is decoded strictly: invalid UTF-8 bytes, percent-escapes that decode to
// invalid UTF-8 and JSON escapes that leave a lone surrogate are a 400 INVALID_TEXT on every
// route (events API, agencies' webhooks, the IVR's form, the console's forms, query strings),
// and nothing of such a request is stored or sent. Real node, raw HTTP bytes.
import { test } from "node:test";
import assert from "node:assert/strict";
import { API_KEY, api, eventually, rawRequest, smsNode } from "../support/harness.ts";
import { EventModel, TransactionModel } from "../../core/events/models.ts";

const world = smsNode({ env: { CHANNELS: "web,ivr" } });

/** One request with exactly these bytes, its length given. */
const raw = (method: string, path: string, headers: Record<string, string>, body?: Buffer) =>
  rawRequest(world.node.url, method, path, { ...headers, ...(body ? { "content-length": String(body.length) } : {}) }, body);

const registered = (id: string, number: string, name: string) =>
  `[{"id":"${id}","type":"registered","transactionNumber":"${number}","occurredAt":"2026-11-28T08:00:00+03:00","data":{"citizen":{"name":"${name}","mobile":"0551234567"},"subject":"طلب إفادة","departmentCode":"LEGAL"}}]`;
const events = { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" };

test("an event whose text is not valid UTF-8, or holds a lone surrogate, is a 400 INVALID_TEXT and nothing is stored or sent", async () => {
  const sent = world.smsc.received.length;
  // The event's JSON with the citizen's name given as raw bytes.
  const withName = (id: string, number: string, name: Buffer) => {
    const [head, tail] = registered(id, number, "\u0000NAME").split("\u0000NAME");
    return Buffer.concat([Buffer.from(head!), name, Buffer.from(tail!)]);
  };
  const bodies: [string, Buffer][] = [
    // The report's "���(": bytes that are no UTF-8 at all.
    ["invalid bytes", withName("bad-1", "1448770001", Buffer.from([0xff, 0xfe, 0xfd, 0x28]))],
    // The report's "s\ud800": a JSON escape of half a character.
    ["a lone surrogate escape", withName("bad-2", "1448770002", Buffer.from("s\\ud800"))],
    ["a surrogate in UTF-8 (CESU-8)", withName("bad-3", "1448770003", Buffer.from([0x73, 0xed, 0xa0, 0x80]))],
    ["half an Arabic letter", withName("bad-4", "1448770004", Buffer.from("محمد").subarray(0, 7))],
  ];
  for (const [what, body] of bodies) {
    const r = await raw("POST", "/api/v1/events", events, body);
    assert.equal(r.status, 400, what);
    assert.equal(r.json?.error?.code, "INVALID_TEXT", what);
    assert.ok(r.json.error.messageAr, what);
  }
  // The same event with a whole name goes through: the refusals were about the text alone.
  const ok = await raw("POST", "/api/v1/events", events, Buffer.from(registered("good-1", "1448770009", "سارة 😀")));
  assert.equal(ok.status, 202);
  await eventually(async () => (await TransactionModel.countDocuments({ _id: "1448770009" })) === 1, 15000, "the whole event applied");
  await eventually(async () => world.smsc.received.length > sent, 15000, "its SMS");
  assert.equal(await EventModel.countDocuments({ _id: { $regex: "bad-" } }), 0, "no refused event stored");
  assert.equal(await TransactionModel.countDocuments({ _id: { $in: ["1448770001", "1448770002", "1448770003", "1448770004"] } }), 0);
  assert.equal(world.smsc.received.length, sent + 1, "one SMS: the whole event's");
});

test("forms, webhooks and query strings are decoded strictly too", async () => {
  const form = { "content-type": "application/x-www-form-urlencoded" };
  const cases: [string, string, Record<string, string>, Buffer | undefined][] = [
    ["the IVR's form", "/channels/ivr/voice", form, Buffer.from("CallSid=CA1&From=%2B966551234567&Digits=1%FF")],
    ["the console's login form", "/console/login", form, Buffer.from("username=a%C3&password=x")],
    ["an agency's webhook", "/webhooks/agencies/MOH/replies", { "content-type": "application/json" }, Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])],
    ["an inquiry's query string", "/api/v1/inquiry?number=1448%FF", {}, undefined],
    ["a staff API query string", "/api/v1/messages?transactionNumber=%ED%A0%80", { authorization: `Bearer ${API_KEY}` }, undefined],
  ];
  for (const [what, path, headers, body] of cases) {
    const r = await raw(body ? "POST" : "GET", path, headers, body);
    assert.equal(r.status, 400, what);
    assert.equal(r.json?.error?.code, "INVALID_TEXT", what);
  }
  // The same routes with whole text still answer as before.
  assert.equal((await api(world.node.url, "GET", "/api/v1/messages?transactionNumber=%D9%A1%D9%A4%D9%A4%D9%A8")).status, 200);
});

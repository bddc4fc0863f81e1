// The host side of the contract: client address, URL, query, responses, template engine.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { checkResponse, clientAddress, messageId, parseQuery, requestUrl, waitTime } from "./host.ts";
import { retryAfterSeconds } from "./contract.ts";
import { ChannelTemplateError, createChannelTemplates } from "./templates.ts";

test("clientAddress: the peer, or X-Forwarded-For only behind a trusted proxy", () => {
  const table: Array<[string | undefined, string | undefined, string[], string]> = [
    ["10.0.0.5", "1.2.3.4", [], "10.0.0.5"],
    ["::ffff:10.0.0.5", undefined, [], "10.0.0.5"],
    ["10.0.0.5", "1.2.3.4", ["10.0.0.9"], "10.0.0.5"],
    ["10.0.0.9", "1.2.3.4", ["10.0.0.9"], "1.2.3.4"],
    ["10.0.0.9", "6.6.6.6, 1.2.3.4", ["10.0.0.9"], "1.2.3.4"],
    ["10.0.0.9", "1.2.3.4, 10.0.0.8", ["10.0.0.9", "10.0.0.8"], "1.2.3.4"],
    ["10.0.0.9", undefined, ["10.0.0.9"], "10.0.0.9"],
    [undefined, undefined, [], ""],
    // CIDR ranges and IPv6 proxies.
    ["10.0.3.7", "1.2.3.4", ["10.0.3.0/24"], "1.2.3.4"],
    ["10.0.4.7", "1.2.3.4", ["10.0.3.0/24"], "10.0.4.7"],
    ["::ffff:10.0.3.7", "2001:db8::1, 10.0.3.8", ["10.0.3.0/24"], "2001:db8::1"],
    ["fd00::5", "2001:db8::9", ["fd00::/64"], "2001:db8::9"],
  ];
  for (const [peer, xff, trusted, expected] of table) assert.equal(clientAddress(peer, xff, trusted), expected, `${peer} ${xff}`);
});

test("requestUrl: PUBLIC_URL wins; else the Host header (sanitised)", () => {
  assert.equal(requestUrl("/channels/ivr/voice?a=1", "127.0.0.1:3000", "https://gov.sa/taqib/"), "https://gov.sa/taqib/channels/ivr/voice?a=1");
  assert.equal(requestUrl("/x", "taqib.local:3000", undefined), "http://taqib.local:3000/x");
  assert.equal(requestUrl("/x", "evil/path", undefined), "http://localhost/x");
  assert.equal(requestUrl("/x", undefined, undefined), "http://localhost/x");
});

test("parseQuery: flat strings, repeated keys as arrays, hub.* names kept", () => {
  assert.deepEqual(parseQuery("/p?a=1&b=%D9%A1&a=2&hub.mode=subscribe&c"), { a: ["1", "2"], b: "١", "hub.mode": "subscribe", c: "" });
  assert.deepEqual(parseQuery("/p"), {});
});

test("checkResponse: a plugin's answer is checked", () => {
  assert.deepEqual(checkResponse({ body: "x" }, "w"), { status: 200, headers: {}, body: "x" });
  for (const bad of [undefined, {}, { body: 1 }, { body: "x", status: 99 }, { body: "x", status: 600 }]) assert.throws(() => checkResponse(bad, "w"), /w:/);
});

test("waitTime and message ids", () => {
  // Pages beside a Retry-After header: seconds under a minute, the header's own figure.
  const seconds: Array<[number, string, string, number]> = [[1_200, "ثانيتين", "2 seconds", 2], [500, "ثانية واحدة", "1 second", 1], [7_000, "7 ثوانٍ", "7 seconds", 7], [30_000, "30 ثانية", "30 seconds", 30], [61_000, "دقيقتين", "2 minutes", 120]];
  for (const [ms, ar, en, header] of seconds) {
    assert.equal(waitTime(ms, "ar", { seconds: true }), ar);
    assert.equal(waitTime(ms, "en", { seconds: true }), en);
    assert.equal(retryAfterSeconds(ms), header);
  }
  const table: Array<[number, string, string]> = [[1, "دقيقة واحدة", "1 minute"], [60_000, "دقيقة واحدة", "1 minute"], [61_000, "دقيقتين", "2 minutes"], [600_000, "10 دقائق", "10 minutes"], [660_000, "11 دقيقة", "11 minutes"]];
  for (const [ms, ar, en] of table) {
    assert.equal(waitTime(ms, "ar"), ar);
    assert.equal(waitTime(ms, "en"), en);
  }
  assert.equal(messageId("sms", "k"), messageId("sms", "k"));
  assert.match(messageId("sms", "k"), /^inquiry:sms:[0-9a-f]{32}$/);
  assert.notEqual(messageId("sms", undefined), messageId("sms", undefined));
});

test("templates: per language over shared, escaping by kind, strict, partials", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "taqib-tpl-"));
  try {
    fs.mkdirSync(path.join(dir, "ar"));
    fs.mkdirSync(path.join(dir, "en"));
    fs.writeFileSync(path.join(dir, "frame.html.hbs"), "<p>{{> greet}} {{x}}</p>");
    fs.writeFileSync(path.join(dir, "greet.html.hbs"), "hello");
    fs.writeFileSync(path.join(dir, "ar", "greet.html.hbs"), "أهلًا");
    fs.writeFileSync(path.join(dir, "ar", "note.txt.hbs"), "  {{x}}  \n\n {{digits n \"arabic\"}} \n");
    fs.writeFileSync(path.join(dir, "ar", "deep.txt.hbs"), "{{a.b.c}}");
    const t = createChannelTemplates(dir);
    assert.equal(t.render("frame.html", "ar", { x: "<b>&" }), "<p>أهلًا &lt;b&gt;&amp;</p>\n");
    assert.equal(t.render("frame.html", "en", { x: "y" }), "<p>hello y</p>\n");
    assert.equal(t.render("note.txt", "ar", { x: "<b>&", n: 12 }), "<b>&\n١٢");
    assert.throws(() => t.render("deep.txt", "ar", { a: {} }), ChannelTemplateError);
    assert.throws(() => t.render("nope.txt", "ar", {}), /no file/);
    fs.writeFileSync(path.join(dir, "en", "broken.txt.hbs"), "{{#if}}");
    assert.throws(() => createChannelTemplates(dir), /syntax error/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

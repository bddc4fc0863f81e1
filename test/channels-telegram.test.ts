// docs/channels.md's "Add a telegram channel", done: the fixture plugin (which imports only
// channels/contract.ts) added to the registry's list runs on a real node with
// CHANNELS=web,telegram; a Telegram update asking about a transaction gets its answer, and
// the webhook's secret fails closed.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import { testConfig, testDatabase, api, http, sampleLifecycle, seedDirectory, eventually } from "./support/harness.ts";
import { startTaqib, type RunningNode } from "../core/platform/node.ts";
import { CHANNEL_PLUGINS } from "../channels/registry.ts";
import { formatHijri } from "../core/text/calendar.ts";
import telegram from "./fixtures/channels/telegram/index.ts";

const SECRET = "telegram-webhook-secret_0123";
const ISSUED = "1445000701";
const CHAT = 5512345678;

let db: Awaited<ReturnType<typeof testDatabase>>;

/** A node with the registry's list plus the telegram plugin; `env` overrides. */
async function telegramNode(env: Record<string, string | undefined>): Promise<RunningNode & { url: string }> {
  const config = await testConfig({ MONGO_URL: db.url, SERVICES: "api,events,directory,channels", CHANNELS: "web,telegram", ...env });
  const node = await startTaqib({ ...config, channelPlugins: [...CHANNEL_PLUGINS, telegram] });
  return Object.assign(node, { url: `http://127.0.0.1:${config.port}` });
}

/** An update as the Bot API posts it. */
const update = (text: string, lang = "ar") =>
  JSON.stringify({
    update_id: Date.now(),
    message: { message_id: 1, from: { id: CHAT, is_bot: false, first_name: "محمد", language_code: lang }, chat: { id: CHAT, type: "private" }, date: 1796000000, text },
  });

before(async () => {
  db = await testDatabase();
});
after(async () => {
  await db?.remove();
});

// (first: a node stopped in this process disconnects the process's database connection)
describe("start-up", () => {
  test("the telegram channel refuses to start without TELEGRAM_SECRET_TOKEN unless DEV_INSECURE=1; a malformed one is named", async () => {
    const refused: Array<[Record<string, string | undefined>, RegExp]> = [
      [{ DEV_INSECURE: undefined }, /^TELEGRAM_SECRET_TOKEN: must be set while the telegram channel is enabled \(CHANNELS\).*DEV_INSECURE=1/],
      [{ DEV_INSECURE: "0" }, /^TELEGRAM_SECRET_TOKEN: .*DEV_INSECURE=1/],
      [{ TELEGRAM_SECRET_TOKEN: "not a token!" }, /^TELEGRAM_SECRET_TOKEN: expected 1 to 256 letters/],
    ];
    for (const [env, message] of refused) {
      await assert.rejects(telegramNode(env), (err: Error) => err.name === "ConfigError" && message.test(err.message), JSON.stringify(env));
    }
    const dev = await telegramNode({ DEV_INSECURE: "1" });
    await dev.stop();
  });

  test("Taqib's own list has no telegram: CHANNELS=web,telegram is refused, naming the known channels", async () => {
    const config = await testConfig({ MONGO_URL: db.url, SERVICES: "api,channels", CHANNELS: "web,telegram" });
    await assert.rejects(startTaqib(config), (err: Error) => err.name === "ConfigError" && /^CHANNELS: unknown "telegram" \(known: web, sms, ivr, kiosk, whatsapp\)/.test(err.message));
  });
});

describe("a node with CHANNELS=web,telegram", () => {
  let node: Awaited<ReturnType<typeof telegramNode>>;
  const post = (body: string, headers: Record<string, string> = { "x-telegram-bot-api-secret-token": SECRET }) =>
    http(node.url, "POST", "/channels/telegram/webhook", body, { "content-type": "application/json", ...headers });

  before(async () => {
    node = await telegramNode({ TELEGRAM_SECRET_TOKEN: SECRET, DEV_INSECURE: undefined, INQUIRY_RATE_LIMIT: "1000" });
    await seedDirectory(node.url);
    assert.equal((await api(node.url, "POST", "/api/v1/events", sampleLifecycle(ISSUED).slice(0, 4))).status, 202);
    await eventually(async () => (await api(node.url, "GET", `/api/v1/transactions/${ISSUED}`)).body.status === "issued", 15000, "the transaction applied");
  });
  after(async () => {
    await node?.stop();
  });

  test("an update asking about a transaction number gets the answer, as a sendMessage Telegram performs", async () => {
    const facts = (await http(node.url, "GET", `/api/v1/inquiry?number=${ISSUED}`)).body;
    assert.equal(facts.stage, "issued");
    const hijri = formatHijri(new Date(facts.issuedOn), { lang: "ar", digits: "latin" });
    const shown = (s: string) => s.replace(/[\u2066-\u2069]/g, "");

    const r = await post(update("السلام عليكم، رقم المعاملة ١٤٤٥٠٠٠٧٠١"));
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(r.body.method, "sendMessage");
    assert.equal(r.body.chat_id, CHAT);
    for (const s of [ISSUED, "صدرت", hijri]) assert.ok(shown(r.body.text).includes(s), `${s} in ${r.body.text}`);
    // No proof of the citizen's mobile on Telegram: the stage only, never the outgoing letter.
    assert.ok(!shown(r.body.text).includes(`9${ISSUED}`), r.body.text);

    const en = await post(update(`status of ${ISSUED}`, "en"));
    assert.match(shown(en.body.text), new RegExp(`Transaction No\\. ${ISSUED}\\s+Issued on`));
    const unknown = await post(update("1445999999"));
    assert.match(shown(unknown.body.text), /لم نجد معاملة بالرقم 1445999999/);
    // The node's other channel is unchanged.
    assert.equal((await http(node.url, "GET", `/api/v1/inquiry?number=${ISSUED}`)).status, 200);
  });

  test("an update without the secret token, or with another, is refused and not answered", async () => {
    for (const headers of [{}, { "x-telegram-bot-api-secret-token": "telegram-webhook-secret_0124" }] as Record<string, string>[]) {
      const r = await post(update(`رقم المعاملة ${ISSUED}`), headers);
      assert.equal(r.status, 403, r.text);
      assert.doesNotMatch(r.text, /sendMessage|صدرت/);
    }
  });
});

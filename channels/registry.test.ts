// The one list of plugins: names, routes, the plugins' own variables (read and checked,
// failing closed), the docs table generated from them, and the plugin import boundary.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { ConfigError, loadConfig } from "../core/platform/config.ts";
import { CHANNEL_PLUGINS, channelSettingsTable, enabledChannels, loadChannels, settingsOf, withSettingsTable } from "./registry.ts";
import { CHANNELS_DIR, pluginFolder } from "./host.ts";
import telegram from "../test/fixtures/channels/telegram/index.ts";

const ROOT = path.resolve(CHANNELS_DIR, "..");
const KNOWN = "web, sms, ivr, kiosk, whatsapp";
const configError = (variable: string, message: RegExp) => (e: unknown) => e instanceof ConfigError && e.variable === variable && message.test(e.message);

test("the list: one plugin per folder channels/<name>/index.ts, unique names, routes and variables", () => {
  const names = CHANNEL_PLUGINS.map((p) => p.name);
  assert.deepEqual(names.join(", "), KNOWN);
  const routes = new Set<string>();
  const variables = new Set<string>();
  for (const plugin of CHANNEL_PLUGINS) {
    assert.ok(fs.existsSync(path.join(pluginFolder(plugin), "index.ts")), `channels/${plugin.name}/index.ts`);
    for (const r of plugin.routes ?? []) {
      assert.ok(!routes.has(`${r.method} ${r.path}`), `${r.method} ${r.path} twice`);
      routes.add(`${r.method} ${r.path}`);
    }
    for (const [, s] of settingsOf(plugin)) {
      assert.ok(!variables.has(s.variable), `${s.variable} declared twice`);
      assert.match(s.variable, /^[A-Z][A-Z0-9_]*$/);
      variables.add(s.variable);
    }
  }
});

test("CHANNELS: names checked against the list, an unknown one refused with the known ones", () => {
  assert.deepEqual(enabledChannels(loadConfig({})).map((p) => p.name), ["web", "sms", "ivr", "kiosk"]);
  assert.deepEqual(enabledChannels(loadConfig({ CHANNELS: " whatsapp, web ,web" })).map((p) => p.name), ["whatsapp", "web"]);
  assert.throws(() => enabledChannels(loadConfig({ CHANNELS: "web,fax" })), configError("CHANNELS", new RegExp(`unknown "fax" \\(known: ${KNOWN}\\)`)));
  assert.throws(() => enabledChannels(loadConfig({ CHANNELS: "telegram" })), configError("CHANNELS", /unknown "telegram"/));
  // A test may add a plugin to the list; the config names it.
  const withTelegram = { ...loadConfig({ CHANNELS: "web,telegram" }), channelPlugins: [...CHANNEL_PLUGINS, telegram] };
  assert.deepEqual(enabledChannels(withTelegram).map((p) => p.name), ["web", "telegram"]);
});

test("the plugins' variables: read from the environment, secrets fail closed unless DEV_INSECURE=1", () => {
  const refused: Array<[Record<string, string>, string, RegExp]> = [
    [{ CHANNELS: "ivr" }, "TWILIO_AUTH_TOKEN", /must be set while the ivr channel is enabled \(CHANNELS\).*DEV_INSECURE=1/],
    [{ CHANNELS: "web,sms,ivr", DEV_INSECURE: "0" }, "TWILIO_AUTH_TOKEN", /DEV_INSECURE=1/],
    [{ CHANNELS: "ivr", DEV_INSECURE: "yes", TWILIO_AUTH_TOKEN: "  " }, "TWILIO_AUTH_TOKEN", /DEV_INSECURE=1/],
    [{ CHANNELS: "whatsapp", WHATSAPP_VERIFY_TOKEN: "v" }, "WHATSAPP_APP_SECRET", /whatsapp channel/],
    [{ CHANNELS: "whatsapp", WHATSAPP_APP_SECRET: "s" }, "WHATSAPP_VERIFY_TOKEN", /whatsapp channel/],
    [{ CHANNELS: "kiosk" }, "KIOSKS", /kiosk channel/],
    [{ CHANNELS: "kiosk", KIOSKS: "gate-1:short" }, "KIOSKS", /the secret must be 16/],
    [{ CHANNELS: "kiosk", KIOSKS: "gate-1:0123456789abcdef@10.0.0.0/99", DEV_INSECURE: "1" }, "KIOSKS", /not an address or CIDR/],
    // Every channel's secrets are checked before any value is parsed.
    [{ CHANNELS: "kiosk,ivr", KIOSKS: "gate-1:short" }, "TWILIO_AUTH_TOKEN", /ivr channel/],
  ];
  for (const [env, variable, message] of refused) assert.throws(() => loadChannels(loadConfig(env)), configError(variable, message), JSON.stringify(env));

  const dev = loadChannels(loadConfig({ CHANNELS: "web,ivr,kiosk,whatsapp", DEV_INSECURE: "1" }));
  assert.deepEqual(Object.fromEntries(dev.map((c) => [c.plugin.name, c.unchecked])), {
    web: [],
    ivr: ["TWILIO_AUTH_TOKEN"],
    kiosk: ["KIOSKS"],
    whatsapp: ["WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"],
  });

  const [web, ivr, kiosk] = loadChannels(loadConfig({
    CHANNELS: "web,ivr,kiosk",
    DIGITS: "arabic",
    SMS_SENDER: "74748",
    TWILIO_AUTH_TOKEN: " token ",
    IVR_VOICE: "Polly.Zeina",
    KIOSKS: "gate-1:0123456789abcdef",
  }));
  assert.deepEqual(web!.config, { pagePath: "/", shortCode: "74748", digits: "arabic", office: loadConfig({}).office });
  assert.deepEqual(ivr!.config, { authToken: "token", voice: "Polly.Zeina", language: undefined });
  assert.deepEqual([...(kiosk!.config as { kiosks: Map<string, unknown> }).kiosks.keys()], ["gate-1"]);
  assert.ok(!("twilioAuthToken" in loadConfig({ TWILIO_AUTH_TOKEN: "x" })), "core's config names no channel's variable");
});

test("docs/channels.md: the table of the channels' variables is the one their declarations make", () => {
  const docs = fs.readFileSync(path.join(ROOT, "docs", "channels.md"), "utf8");
  assert.equal(
    withSettingsTable(docs, channelSettingsTable()),
    docs,
    "docs/channels.md's channel settings table differs from the plugins' env: run npx node --import tsx scripts/channel-settings.ts",
  );
});

/** The modules a file imports (static, dynamic and re-exports). */
function importsOf(file: string): string[] {
  const source = fs.readFileSync(file, "utf8");
  const found = source.matchAll(/(?:^|[\s;])(?:import|export)\s[^'"`]*?from\s*["']([^"']+)["']|import\s*\(\s*["']([^"']+)["']\s*\)|(?:^|\n)\s*import\s*["']([^"']+)["']/g);
  return [...found].map((m) => (m[1] ?? m[2] ?? m[3])!);
}

test("plugin folders import nothing of Taqib but channels/contract.ts (and their own files)", () => {
  const contract = path.join(CHANNELS_DIR, "contract.ts");
  const folders = [...CHANNEL_PLUGINS, telegram].map(pluginFolder);
  for (const folder of folders) {
    const files = fs.globSync("**/*.ts", { cwd: folder }).filter((f) => !f.endsWith(".test.ts"));
    assert.ok(files.includes("index.ts"), `${folder}: no index.ts`);
    for (const file of files) {
      for (const spec of importsOf(path.join(folder, file))) {
        const where = `${path.relative(ROOT, path.join(folder, file))} imports "${spec}"`;
        if (!spec.startsWith(".")) {
          assert.match(spec, /^node:/, `${where}: only Node's built-in modules and channels/contract.ts`);
          continue;
        }
        const target = path.resolve(folder, path.dirname(file), spec);
        assert.ok(target === contract || target.startsWith(folder + path.sep), `${where}: only channels/contract.ts and the plugin's own files`);
      }
    }
  }
  // The check itself sees every form of import.
  assert.deepEqual(importsOf(path.join(pluginFolder(telegram), "index.ts")), ["node:crypto", "../../../../channels/contract.ts"]);
});

/**
 * The one list of channel plugins. A new channel is a folder `channels/<name>/` and one
 * entry in {@link CHANNEL_PLUGINS}; `CHANNELS` enables it by name. Each plugin declares its
 * own environment variables (`env`): this file reads and checks them, failing closed on an
 * unset secret.
 *
 * `channelRoutes` gives the HTTP gateway (services/api.service.ts) one moleculer-web route
 * per enabled plugin; each of the plugin's routes becomes an alias that forwards the plain
 * request to the plugin's own service (`channel-<name>.http`), which may run on another
 * node, and writes back its answer.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { ConfigError, type Config } from "../core/platform/config.ts";
import type { ChannelPlugin, ChannelSetting, HostSettings } from "./contract.ts";
import { checkResponse, toChannelRequest, writeResponse } from "./host.ts";
import ivr from "./ivr/index.ts";
import kiosk from "./kiosk/index.ts";
import sms from "./sms/index.ts";
import web from "./web/index.ts";
import whatsapp from "./whatsapp/index.ts";

/** Every plugin Taqib ships: the only place that lists the channels. */
export const CHANNEL_PLUGINS: readonly ChannelPlugin<any, any>[] = [web, sms, ivr, kiosk, whatsapp];

/** An enabled plugin with its configuration slice read from the environment. */
export interface LoadedChannel<C = unknown> {
  plugin: ChannelPlugin<C, any>;
  config: C;
  /** Its secrets left unset (only with DEV_INSECURE=1): warned about loudly. */
  unchecked: string[];
}

/** The plugins `CHANNELS` picks from: the list above, unless the config names others (tests). */
export const channelPlugins = (config: Pick<Config, "channelPlugins">): readonly ChannelPlugin<any, any>[] => config.channelPlugins ?? CHANNEL_PLUGINS;

/**
 * The plugins `CHANNELS` enables, in its order.
 *
 * @example
 *   enabledChannels(loadConfig({ CHANNELS: "web,fax" })) // throws ConfigError 'CHANNELS: unknown "fax" (known: web, sms, ivr, kiosk, whatsapp)'
 */
export function enabledChannels(config: Pick<Config, "channels" | "channelPlugins">): ChannelPlugin<any, any>[] {
  const plugins = channelPlugins(config);
  return config.channels.map((name) => {
    const plugin = plugins.find((p) => p.name === name);
    if (!plugin) throw new ConfigError("CHANNELS", `unknown "${name}" (known: ${plugins.map((p) => p.name).join(", ")})`);
    return plugin;
  });
}

/** The Taqib-wide settings every plugin's `config` gets. */
export const hostSettings = (config: Config): HostSettings => ({ digits: config.digits, office: config.office, shortCode: config.smsSender });

/** A variable's value, trimmed; undefined when unset or blank. */
function envValue(config: Pick<Config, "env">, variable: string): string | undefined {
  return config.env[variable]?.trim() || undefined;
}

/** A plugin's declared variables, by the name its `config` gets each under. */
export const settingsOf = (plugin: ChannelPlugin<any, any>) => Object.entries((plugin.env ?? {}) as Record<string, ChannelSetting<unknown>>);

/** Fails closed: the plugin's unset secrets, or a ConfigError naming the first unless DEV_INSECURE=1. */
function unsetSecrets(plugin: ChannelPlugin<any, any>, config: Config): string[] {
  const unset = settingsOf(plugin).filter(([, s]) => s.secret && envValue(config, s.variable) === undefined).map(([, s]) => s.variable);
  if (unset.length && !config.devInsecure) {
    throw new ConfigError(
      unset[0]!,
      `must be set while the ${plugin.name} channel is enabled (CHANNELS): without it anyone could call the channel unchecked. ` +
        "Set it, remove the channel from CHANNELS, or set DEV_INSECURE=1 on a development machine.",
    );
  }
  return unset;
}

/**
 * Reads a plugin's declared variables from the environment and builds its slice. Fails
 * closed: an unset secret throws a ConfigError naming it, unless DEV_INSECURE=1 (then it is
 * listed in `unchecked`); a value its `parse` refuses throws a ConfigError naming it.
 *
 * @example
 *   loadChannel(ivr, loadConfig({ CHANNELS: "ivr" }))                               // throws "TWILIO_AUTH_TOKEN: must be set while the ivr channel is enabled …"
 *   loadChannel(ivr, loadConfig({ CHANNELS: "ivr", DEV_INSECURE: "1" })).unchecked // ["TWILIO_AUTH_TOKEN"]
 */
export function loadChannel<C>(plugin: ChannelPlugin<C, any>, config: Config): LoadedChannel<C> {
  const unchecked = unsetSecrets(plugin, config);
  const values: Record<string, unknown> = {};
  for (const [key, s] of settingsOf(plugin)) {
    try {
      values[key] = s.parse(envValue(config, s.variable));
    } catch (err) {
      throw new ConfigError(s.variable, (err as Error).message);
    }
  }
  return { plugin, config: plugin.config(values, hostSettings(config)), unchecked };
}

/**
 * Every enabled plugin, loaded; every one's secrets are checked before any value is parsed.
 *
 * @example
 *   loadChannels(loadConfig({ CHANNELS: "web,ivr", TWILIO_AUTH_TOKEN: "…" })).map((c) => c.plugin.name) // ["web", "ivr"]
 */
export function loadChannels(config: Config): LoadedChannel[] {
  const plugins = enabledChannels(config);
  for (const plugin of plugins) unsetSecrets(plugin, config);
  return plugins.map((plugin) => loadChannel(plugin, config));
}

/** The marks around the generated table in docs/channels.md. */
export const SETTINGS_TABLE_MARKS = ["<!-- channel settings: generated from the plugins' env by scripts/channel-settings.ts -->", "<!-- end of channel settings -->"] as const;

/** `markdown` with the text between {@link SETTINGS_TABLE_MARKS} replaced by `table`. */
export function withSettingsTable(markdown: string, table: string): string {
  const [open, close] = SETTINGS_TABLE_MARKS;
  const start = markdown.indexOf(open);
  const end = markdown.indexOf(close);
  if (start < 0 || end < start) throw new Error(`no ${open} … ${close} in the document`);
  return `${markdown.slice(0, start + open.length)}\n${table}\n${markdown.slice(end)}`;
}

/**
 * The channels' own variables as a Markdown table (docs/channels.md holds it between
 * {@link SETTINGS_TABLE_MARKS}; `scripts/channel-settings.ts` rewrites it, and
 * channels/registry.test.ts checks it).
 */
export function channelSettingsTable(plugins: readonly ChannelPlugin<any, any>[] = CHANNEL_PLUGINS): string {
  const cell = (s: string) => s.replace(/\|/g, "\\|");
  const rows = plugins.flatMap((plugin) =>
    settingsOf(plugin).map(([, s]) => {
      const required = s.secret ? ` **Required while \`${plugin.name}\` is enabled** (a secret: see \`DEV_INSECURE\`).` : "";
      return `| \`${s.variable}\` | \`${plugin.name}\` | ${s.default === undefined ? "unset" : `\`${cell(s.default)}\``} | ${cell(s.description)}.${required} |`;
    }),
  );
  return ["| variable | channel | default | meaning |", "|---|---|---|---|", ...rows].join("\n");
}

/** The Moleculer service of a plugin. */
export const serviceName = (plugin: { name: string }) => `channel-${plugin.name}`;

/** The alias key of a route for a moleculer-web route at "/": `"GET kiosk"`. */
const aliasKey = (method: string, path: string) => `${method} ${path.replace(/^\/+/, "")}`;

/** How long the gateway waits for a channel's answer. */
const CHANNEL_TIMEOUT_MS = 15_000;

/**
 * The gateway routes of the enabled channels.
 *
 * @example
 *   routes: [ ...apiRoutes, ...channelRoutes(config, onError) ]
 */
export function channelRoutes(config: Config, onError: unknown): any[] {
  return enabledChannels(config)
    .filter((plugin) => plugin.routes?.length)
    .map((plugin) => {
      const service = serviceName(plugin);
      const aliases: Record<string, (req: any, res: ServerResponse, next: (err?: unknown) => void) => void> = {};
      plugin.routes!.forEach((route, index) => {
        const key = aliasKey(route.method, route.path);
        if (aliases[key]) throw new Error(`channel "${plugin.name}": two routes for ${route.method} ${route.path}`);
        aliases[key] = function forward(req: IncomingMessage & Record<string, any>, res: ServerResponse, next: (err?: unknown) => void) {
          let request;
          try {
            request = toChannelRequest(req, config);
          } catch (err) {
            next(err);
            return;
          }
          const broker = req.$service.broker;
          broker
            .call(`${service}.http`, { route: index, request }, { parentCtx: req.$ctx, timeout: CHANNEL_TIMEOUT_MS })
            .then((r: unknown) => writeResponse(res, checkResponse(r, `${service} ${route.method} ${route.path}`)))
            .catch((err: unknown) => next(err));
        };
      });
      return {
        name: service,
        path: "/",
        // The raw body as a string, whatever its type: webhooks check signatures over it.
        bodyParsers: { json: false, urlencoded: false, text: { type: () => true, limit: "64kb" } },
        mappingPolicy: "restrict",
        aliases,
        onError,
      };
    });
}

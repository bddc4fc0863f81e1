/**
 * The one list of channel plugins. A new channel is a folder under `channels/` and one line
 * here (its plugin and the slice of configuration it gets); `CHANNELS` enables it by name.
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
import type { ChannelPlugin } from "./contract.ts";
import { checkResponse, toChannelRequest, writeResponse } from "./host.ts";
import ivr from "./ivr/index.ts";
import kiosk, { parseKiosks } from "./kiosk/index.ts";
import sms from "./sms/index.ts";
import web from "./web/index.ts";
import whatsapp from "./whatsapp/index.ts";

/** A registered plugin and how its configuration slice is built. */
export interface ChannelEntry<C = any> {
  plugin: ChannelPlugin<C>;
  config(config: Config): C;
  /**
   * The variables that authenticate the channel's callers, with their values: a channel with
   * one unset does not start unless DEV_INSECURE=1 (see {@link checkChannelSecrets}).
   */
  secrets?(config: Config): Record<string, string | undefined>;
}

const entry = <C>(plugin: ChannelPlugin<C>, config: (c: Config) => C, secrets?: ChannelEntry<C>["secrets"]): ChannelEntry<C> =>
  secrets ? { plugin, config, secrets } : { plugin, config };

/** Every plugin Taqib ships, by name. */
export const CHANNEL_PLUGINS: Record<string, ChannelEntry> = {
  web: entry(web, (c) => ({ pagePath: "/", shortCode: c.smsSender, digits: c.digits, office: c.office })),
  sms: entry(sms, (c) => ({ shortCode: c.smsSender, digits: c.digits })),
  ivr: entry(ivr, (c) => ({ authToken: c.twilioAuthToken, voice: c.ivrVoice, language: c.ivrLanguage }), (c) => ({ TWILIO_AUTH_TOKEN: c.twilioAuthToken })),
  kiosk: entry(
    kiosk,
    (c) => {
      try {
        return { idleMs: 60_000, kiosks: parseKiosks(c.kiosks), digits: c.digits, office: c.office };
      } catch (err) {
        throw new ConfigError("KIOSKS", (err as Error).message);
      }
    },
    (c) => ({ KIOSKS: c.kiosks }),
  ),
  whatsapp: entry(
    whatsapp,
    (c) => ({ verifyToken: c.whatsappVerifyToken, appSecret: c.whatsappAppSecret, digits: c.digits }),
    (c) => ({ WHATSAPP_APP_SECRET: c.whatsappAppSecret, WHATSAPP_VERIFY_TOKEN: c.whatsappVerifyToken }),
  ),
};

/**
 * Fails closed: throws a ConfigError naming the first unset secret of an enabled channel,
 * unless DEV_INSECURE=1; then answers the unset variables by channel, to be warned about.
 *
 * @example
 *   checkChannelSecrets(loadConfig({ CHANNELS: "ivr" }))                    // throws "TWILIO_AUTH_TOKEN: ..."
 *   checkChannelSecrets(loadConfig({ CHANNELS: "ivr", DEV_INSECURE: "1" })) // { ivr: ["TWILIO_AUTH_TOKEN"] }
 */
export function checkChannelSecrets(config: Config): Record<string, string[]> {
  const unset: Record<string, string[]> = {};
  for (const { plugin, secrets } of enabledChannels(config)) {
    const missing = Object.entries(secrets?.(config) ?? {}).filter(([, v]) => !v).map(([k]) => k);
    if (!missing.length) continue;
    if (!config.devInsecure) {
      throw new ConfigError(
        missing[0]!,
        `must be set while the ${plugin.name} channel is enabled (CHANNELS): without it anyone could call the channel unchecked. ` +
          "Set it, remove the channel from CHANNELS, or set DEV_INSECURE=1 on a development machine.",
      );
    }
    unset[plugin.name] = missing;
  }
  return unset;
}

/** The plugins `CHANNELS` enables, in its order. Throws for a name with no plugin. */
export function enabledChannels(config: Config): ChannelEntry[] {
  return config.channels.map((name) => {
    const e = CHANNEL_PLUGINS[name];
    if (!e) throw new Error(`CHANNELS: no channel plugin "${name}" in channels/registry.ts (known: ${Object.keys(CHANNEL_PLUGINS).join(", ")})`);
    if (e.plugin.name !== name) throw new Error(`channels/registry.ts: entry "${name}" holds plugin "${e.plugin.name}"`);
    return e;
  });
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
    .filter(({ plugin }) => plugin.routes?.length)
    .map(({ plugin }) => {
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

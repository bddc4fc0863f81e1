import type { Context } from "moleculer";
import type { Config } from "../core/platform/config.ts";
import { clientError } from "../core/platform/errors.ts";
import { databaseMixin, type TypedService } from "../core/platform/mixins.ts";
import { directoryCacheMixin } from "../core/directory/events.ts";
import { forwardQueuedToBroker } from "../core/sms/notifications.ts";
import { registerMetrics } from "../core/platform/metrics.ts";
import { maskMobile } from "../core/text/normalize.ts";
import { inquiryCounter } from "../core/report/inquiries.ts";
import type { ChannelContext, ChannelRequest, MobileOriginated } from "../channels/contract.ts";
import { checkResponse, createContext, failureBudgetMixin } from "../channels/host.ts";
import { loadChannels, serviceName, type LoadedChannel } from "../channels/registry.ts";

/**
 * One service per enabled channel plugin (`CHANNELS`), named `channel-<name>`: a channel can
 * run on a node of its own (`SERVICES=channels` with `CHANNELS=kiosk` at the gate, say),
 * while the gateway anywhere forwards its HTTP routes to it. The sms channel's service
 * receives the `sms.mo` events of the smpp service.
 */
interface Vars {
  channel: ChannelContext<unknown>;
}

export default function channelsService(config: Config): TypedService<Vars>[] {
  return loadChannels(config).map((channel) => channelService(channel, config));
}

function channelService({ plugin, config: slice, unchecked }: LoadedChannel, config: Config): TypedService<Vars> {
  const onMobileOriginated = plugin.onMobileOriginated?.bind(plugin);
  return {
    name: serviceName(plugin),
    mixins: [databaseMixin(config), directoryCacheMixin(), failureBudgetMixin(config)],
    metadata: { channel: plugin.name, description: plugin.description },
    actions: {
      /** `{ route: index in plugin.routes, request: ChannelRequest }` → ChannelResponse (from the gateway). */
      http: {
        visibility: "public",
        params: { route: { type: "number", integer: true, min: 0 }, request: { type: "object" } },
        async handler(ctx: Context<{ route: number; request: ChannelRequest }>) {
          const route = plugin.routes?.[ctx.params.route];
          if (!route) throw clientError(404, "NOT_FOUND", `channel ${plugin.name} has no route ${ctx.params.route}`);
          this.broker.metrics.increment("taqib.inquiries", { channel: plugin.name });
          const response = await route.handler(ctx.params.request, this.channel);
          return checkResponse(response, `${serviceName(plugin)} ${route.method} ${route.path}`);
        },
      },
    },
    events: onMobileOriginated
      ? {
          "sms.mo": {
            async handler(ctx: Context<Partial<MobileOriginated> & { receivedAt?: Date | string }>) {
              const p = ctx.params ?? {};
              const mo: MobileOriginated = {
                from: String(p.from ?? ""),
                to: String(p.to ?? ""),
                text: String(p.text ?? ""),
                receivedAt: p.receivedAt ? new Date(p.receivedAt) : new Date(),
              };
              if (Number.isNaN(mo.receivedAt.getTime())) mo.receivedAt = new Date();
              try {
                this.broker.metrics.increment("taqib.inquiries", { channel: plugin.name });
                await onMobileOriginated!(mo, this.channel);
              } catch (err) {
                this.logger.error(`MO from ${maskMobile(mo.from)} not answered:`, err);
              }
            },
          },
        }
      : {},
    created() {
      registerMetrics(this.broker);
      this.channel = createContext(plugin, slice, config, { owner: this.broker, logger: this.logger });
    },
    async started() {
      // Inquiry answers by SMS are queued here: the dispatcher hears of them at once.
      forwardQueuedToBroker(this.broker);
      for (const variable of unchecked) {
        this.logger.warn(`!!! DEV_INSECURE=1 and ${variable} is not set: requests to the ${plugin.name} channel are NOT checked: development only, never in production !!!`);
      }
      await plugin.started?.(this.channel);
      this.logger.info(`channel ${plugin.name} up: ${plugin.description}`);
    },
    async stopped() {
      // The inquiries counted for the report and not written yet (the database closes after the services stop).
      await inquiryCounter.flush().catch((err: Error) => this.logger.warn(`inquiry counts not written: ${err.message}`));
    },
  };
}

// How services are built, and the small mixins they share.
import type { Service, ServiceSchema } from "moleculer";
import type { Config } from "./config.ts";
import { connectDatabase } from "../store/db.ts";

/**
 * Every `services/<name>.service.ts` default-exports one of these: a factory of the node's
 * config giving its service (or, for the channels, one per enabled plugin). `Vars` are the
 * fields its lifecycle sets on `this`, `Methods` its methods: both typed on `this`.
 *
 * @example
 *   const notifier: ServiceFactory = (config) => ({ name: "notifier", mixins: [databaseMixin(config)], actions: { … } });
 */
export type ServiceFactory = (config: Config) => TypedService | TypedService[];

/** A service schema with its `this` typed (see ServiceFactory). */
export type TypedService<Vars = {}, Methods = {}> = ServiceSchema<Service["settings"], Methods, Vars>;

/** Connects the process's database before the service starts (shared by all services). */
export function databaseMixin(config: Pick<Config, "mongoUrl">): Partial<ServiceSchema> {
  return {
    async started() {
      if (!config.mongoUrl) throw new Error("MONGO_URL is not set and no embedded database was started");
      await connectDatabase(config.mongoUrl, this.logger);
    },
  };
}

/**
 * Runs `fn` every `everyMs` while the service runs, never overlapping itself; errors are
 * logged and the next round runs as planned.
 *
 * @example
 *   mixins: [periodic("webhook log purge", 3_600_000, () => purgeDeliveries(ttlDays))]
 */
export function periodic<S = Service>(name: string, everyMs: number, fn: (svc: S) => Promise<unknown>): Partial<ServiceSchema> {
  const state = new WeakMap<object, { timer: NodeJS.Timeout; running?: Promise<void> }>();
  return {
    async started() {
      const tick = () => {
        const s = state.get(this);
        if (!s || s.running) return;
        s.running = fn(this as unknown as S)
          .then(() => undefined)
          .catch((err) => this.logger.warn(`${name} failed:`, err))
          .finally(() => { s.running = undefined; });
      };
      const timer = setInterval(tick, everyMs);
      timer.unref();
      state.set(this, { timer });
      tick();
    },
    async stopped() {
      const s = state.get(this);
      if (!s) return;
      clearInterval(s.timer);
      state.delete(this);
      // The database is closed after the services stop: let a round in progress finish first.
      await s.running;
    },
  };
}

/**
 * What the gateway hands an action of a route with `mergeParams: false`: the path's
 * parameters, the query and the body (parsed, or the exact text on the webhook route).
 */
export interface RouteParams<Path extends string = never, Query extends string = never> {
  params: Record<Path, string>;
  query?: Partial<Record<Query, string>>;
  body?: unknown;
}

/**
 * The `params` schema of such an action: each path parameter a string, each query field an
 * optional string, the body whatever the action's own contract then checks (with its field
 * errors, in the codes the API documents).
 *
 * @example
 *   getDepartment: { params: routeParams(["code"]), handler(ctx: Context<RouteParams<"code">>) { … } }
 */
export function routeParams(path: readonly string[], query: readonly string[] = []): Record<string, object> {
  const strings = (keys: readonly string[], optional: boolean) => Object.fromEntries(keys.map((k) => [k, { type: "string", optional }]));
  return {
    params: { type: "object", optional: path.length === 0, props: strings(path, false) },
    query: { type: "object", optional: true, props: strings(query, true) },
    body: { type: "any", optional: true },
  };
}

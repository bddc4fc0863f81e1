// Small mixins shared by services.
import type { ServiceSchema } from "moleculer";
import { configOf } from "./broker.ts";
import { connectDatabase } from "../store/db.ts";

/** Connects the process's database before the service starts (shared by all services). */
export function databaseMixin(): Partial<ServiceSchema> {
  return {
    async started() {
      const { mongoUrl } = configOf(this.broker);
      if (!mongoUrl) throw new Error("MONGO_URL is not set and no embedded database was started");
      await connectDatabase(mongoUrl, this.logger);
    },
  };
}

/**
 * Runs `fn` every `everyMs` while the service runs, never overlapping itself; errors are
 * logged and the next round runs as planned.
 */
export function periodic(name: string, everyMs: (svc: any) => number, fn: (svc: any) => Promise<void>): Partial<ServiceSchema> {
  const state = new WeakMap<object, { timer: NodeJS.Timeout; running?: Promise<void> }>();
  return {
    async started() {
      const tick = () => {
        const s = state.get(this);
        if (!s || s.running) return;
        s.running = fn(this)
          .catch((err) => this.logger.warn(`${name} failed:`, err))
          .finally(() => { s.running = undefined; });
      };
      const timer = setInterval(tick, everyMs(this));
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

// Small mixins shared by services.
import type { ServiceSchema } from "moleculer";
import { configOf } from "./broker.ts";
import { connectDatabase } from "./db.ts";

/** Connects the process's database before the service starts (shared by all services). */
export function databaseMixin(): Partial<ServiceSchema> {
  return {
    async started() {
      const { mongoUrl } = configOf(this.broker);
      if (!mongoUrl) throw new Error("MONGO_URL is not set and no embedded database was started");
      await connectDatabase(mongoUrl);
    },
  };
}

/**
 * Runs `fn` every `everyMs` while the service runs, never overlapping itself; errors are
 * logged and the next round runs as planned.
 */
export function periodic(name: string, everyMs: (svc: any) => number, fn: (svc: any) => Promise<void>): Partial<ServiceSchema> {
  const timers = new WeakMap<object, NodeJS.Timeout>();
  return {
    async started() {
      let running = false;
      const tick = async () => {
        if (running) return;
        running = true;
        try {
          await fn(this);
        } catch (err) {
          this.logger.warn(`${name} failed:`, err);
        } finally {
          running = false;
        }
      };
      const t = setInterval(tick, everyMs(this));
      t.unref();
      timers.set(this, t);
      void tick();
    },
    async stopped() {
      clearInterval(timers.get(this));
    },
  };
}

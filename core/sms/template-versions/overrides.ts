// What an SMS engine asks before reading a template's file: the newest saved version, from
// memory. The versions are read in one query when the service starts, replaced when
// `templates.changed` says so (broadcast to every node, with the body), and read again in the
// background once they are older than a short time-to-live, which bounds what a lost event
// could leave stale. No SMS waits for the database.
import type { Context, ServiceSchema } from "moleculer";
import type { TypedService } from "../../platform/mixins.ts";
import type { TemplateSource } from "../templates/engine.ts";
import type { Lang } from "../../text/lang.ts";
import { templateHeads, TEMPLATES_CHANGED, type TemplateChange } from "./store.ts";

/** How old the versions in memory may get before they are read again. */
export const OVERRIDES_TTL_MS = 30_000;

/**
 * The saved versions in memory, for `smsTemplateEngine(config, overrides)`.
 *
 * @example
 *   const overrides = new TemplateOverrides();
 *   await overrides.refresh();                          // one query
 *   const engine = smsTemplateEngine(config, overrides);
 *   overrides.apply({ template: "registered", lang: "ar", version: 4, body: "…" }); // on templates.changed
 */
export class TemplateOverrides implements TemplateSource {
  private readonly versions = new Map<string, { version: number; body: string }>();
  private loadedAt = -Infinity;
  private loading?: Promise<void>;

  constructor(
    private readonly load: () => Promise<TemplateChange[]> = templateHeads,
    private readonly opts: { ttlMs?: number; now?: () => number; onError?: (err: unknown) => void } = {},
  ) {}

  get(name: string, lang: Lang): { version: number; body: string } | undefined {
    const now = (this.opts.now ?? Date.now)();
    if (now - this.loadedAt > (this.opts.ttlMs ?? OVERRIDES_TTL_MS) && !this.loading) {
      // Served from memory meanwhile; a failed read keeps what is there.
      this.refresh().catch((err) => this.opts.onError?.(err));
    }
    return this.versions.get(`${name}.${lang}`);
  }

  /** Reads the newest versions (one query); a version newer than the one read stays. */
  refresh(): Promise<void> {
    this.loading ??= this.load()
      .then((heads) => {
        for (const h of heads) this.apply(h);
      })
      .finally(() => {
        // A failed read is tried again after the time-to-live too, not on every SMS.
        this.loadedAt = (this.opts.now ?? Date.now)();
        this.loading = undefined;
      });
    return this.loading;
  }

  /** Takes a newer version (from `templates.changed`); an older or equal one is ignored. */
  apply(change: TemplateChange): void {
    const key = `${change.template}.${change.lang}`;
    if ((this.versions.get(key)?.version ?? 0) < change.version) this.versions.set(key, { version: change.version, body: change.body });
  }
}

/**
 * For the services whose engine renders SMS: `this.templateOverrides`, kept fresh by
 * `templates.changed`. The service reads it once in its own `started` (`refresh()`), after
 * the database mixin has connected.
 */
export function templateOverridesMixin(): Partial<ServiceSchema> {
  const mixin: Partial<TypedService<{ templateOverrides: TemplateOverrides }>> = {
    events: {
      [TEMPLATES_CHANGED](ctx: Context<TemplateChange>) {
        const c = ctx.params;
        if (typeof c?.template === "string" && (c.lang === "ar" || c.lang === "en") && Number.isInteger(c.version) && typeof c.body === "string") {
          this.templateOverrides.apply(c);
        }
      },
    },
    created() {
      this.templateOverrides = new TemplateOverrides(templateHeads, { onError: (err) => this.logger.warn("saved SMS templates could not be read again (the ones in memory stay):", err) });
    },
  };
  return mixin as Partial<ServiceSchema>;
}

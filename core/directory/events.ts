// How a change to the directory reaches every process's cache: the process that made it
// forgets the entry at once, and broadcasts `directory.changed` to all the others.
import type { Context, ServiceBroker, ServiceSchema } from "moleculer";
import { directory, type DirectoryChange } from "./cache.ts";

/** Services whose process reads the directory cache keep it fresh with this mixin. */
export function directoryCacheMixin(): Partial<ServiceSchema> {
  return {
    events: {
      "directory.changed"(ctx: Context<DirectoryChange>) {
        directory.invalidate(ctx.params);
      },
    },
  };
}

/**
 * Forgets the changed entry here and tells every node.
 *
 * @example
 *   await announceDirectoryChange(this.broker, { kind: "employee", id: "E100" });
 */
export async function announceDirectoryChange(broker: ServiceBroker, change: DirectoryChange): Promise<void> {
  directory.invalidate(change);
  await broker.broadcast("directory.changed", change);
}

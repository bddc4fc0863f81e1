// The list of channel plugins: a new channel is a folder under channels/ and one line here.
import type { Config } from "../core/config.ts";

export function channelRoutes(_config: Config, _onError: unknown): any[] {
  return [];
}

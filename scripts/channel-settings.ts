/**
 * Rewrites the table of the channels' own variables in docs/channels.md from the plugins'
 * declarations (`env` in channels/<name>/index.ts); channels/registry.test.ts fails while
 * the table and the declarations differ.
 *
 * Usage: npx node --import tsx scripts/channel-settings.ts
 */
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { channelSettingsTable, withSettingsTable } from "../channels/registry.ts";

const file = fileURLToPath(new URL("../docs/channels.md", import.meta.url));
const before = fs.readFileSync(file, "utf8");
const after = withSettingsTable(before, channelSettingsTable());
if (after === before) console.log("docs/channels.md: the channel settings table is up to date");
else {
  fs.writeFileSync(file, after);
  console.log("docs/channels.md: the channel settings table rewritten");
}

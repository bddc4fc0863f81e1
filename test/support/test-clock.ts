// Preloaded into a Taqib child process by tests (spawnTaqib's `imports`): the schedule clock
// follows the instant written in the file TEST_CLOCK_FILE names, so a test moves the clock of
// several processes at once by writing one file.
import fs from "node:fs";
import { clock } from "../../core/platform/clock.ts";

const file = process.env.TEST_CLOCK_FILE;
if (file) {
  let last = "";
  const follow = () => {
    const text = fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim() : "";
    if (text && text !== last) {
      last = text;
      clock.set(new Date(text));
    }
  };
  follow();
  fs.watchFile(file, { interval: 50 }, follow).unref();
}

/**
 * The test's side: a clock file and a way to move it.
 *
 * @example
 *   const c = testClockFile(dir); c.set(new Date("2026-11-27T02:00:00+03:00"));
 *   spawnTaqib("a", { TEST_CLOCK_FILE: c.file }, { imports: [TEST_CLOCK_MODULE] });
 */
export function testClockFile(dir: string): { file: string; set(at: Date): void } {
  const path = `${dir}/clock`;
  return { file: path, set: (at) => fs.writeFileSync(path, at.toISOString()) };
}

export const TEST_CLOCK_MODULE = new URL(import.meta.url).pathname;

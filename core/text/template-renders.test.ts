// Every template of both engines (SMS notifications; channel replies, pages and the console)
// rendered on recorded data in both digit styles, compared with what it rendered when the
// snapshot was taken: a change to the shared helpers or to a template's wording shows here.
// After an intended change: UPDATE_TEMPLATE_RENDERS=1 (rewrites the texts, keeps the data).
// The snapshot is gzipped JSON (the pages repeat their layout): `zcat` reads it.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, gzipSync } from "node:zlib";
import { createChannelTemplates } from "../../channels/templates.ts";
import { smsTemplateEngine } from "../sms/templates/engine.ts";
import { longestDataOf } from "../sms/budget.ts";
import { SAMPLE_DATA } from "../sms/templates/samples.ts";
import type { DigitStyle } from "./digits.ts";
import type { Lang } from "./lang.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const FIXTURE = fileURLToPath(new URL("./fixtures/template-renders.json.gz", import.meta.url));
const SMS_DIR = "core/sms/templates";

/** One render: `sms` cases go through the notifier's engine in `digits`, `channel` ones through a plugin's (the data carries its digits). */
interface Case {
  engine: "sms" | "channel";
  dir: string;
  name: string;
  lang: Lang;
  digits?: DigitStyle;
  data: unknown;
  text?: string;
  error?: string;
}

// Dates are kept as {"$date": iso} in the file.
const revive = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(revive) : v && typeof v === "object" ? ("$date" in v ? new Date((v as { $date: string }).$date) : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]))) : v;
function freeze(this: unknown, k: string, v: unknown): unknown {
  const raw = (this as Record<string, unknown>)[k];
  return raw instanceof Date ? { $date: raw.toISOString() } : v;
}

const channelEngines = new Map<string, ReturnType<typeof createChannelTemplates>>();
function render(c: Case): Pick<Case, "text" | "error"> {
  try {
    if (c.engine === "sms") return { text: smsTemplateEngine({ templatesDir: path.join(ROOT, c.dir), digits: c.digits!, smsSender: "74747" }).render(c.name, c.lang, revive(c.data) as object).text };
    if (!channelEngines.has(c.dir)) channelEngines.set(c.dir, createChannelTemplates(path.join(ROOT, c.dir)));
    return { text: channelEngines.get(c.dir)!.render(c.name, c.lang, revive(c.data) as object) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

/** The SMS cases: every template file, each language, both digit styles, its sample and its longest data. */
function smsCases(): Case[] {
  const names = [...new Set(fs.readdirSync(path.join(ROOT, SMS_DIR)).map((f) => /^([a-z0-9-]+)\.(ar|en)\.hbs$/.exec(f)?.[1]).filter((n): n is string => !!n))].sort();
  return names.flatMap((name) =>
    (["ar", "en"] as const).flatMap((lang) =>
      (["latin", "arabic"] as const).flatMap((digits) =>
        [SAMPLE_DATA[name as keyof typeof SAMPLE_DATA], longestDataOf(name)]
          .filter((data) => data !== undefined)
          .map((data) => ({ engine: "sms" as const, dir: SMS_DIR, name, lang, digits, data: JSON.parse(JSON.stringify(data, freeze)) })),
      ),
    ),
  );
}

const label = (c: Case) => `${c.dir}/${c.name} ${c.lang}${c.digits ? ` ${c.digits}` : ""}`;

test("every template renders what it rendered before", () => {
  const cases = JSON.parse(gunzipSync(fs.readFileSync(FIXTURE)).toString("utf8")) as Case[];
  if (process.env.UPDATE_TEMPLATE_RENDERS) {
    const next = [...smsCases(), ...cases.filter((c) => c.engine === "channel")].map((c) => ({ ...c, text: undefined, error: undefined, ...render(c) }));
    fs.writeFileSync(FIXTURE, gzipSync(JSON.stringify(next, null, 1) + "\n", { level: 9 }));
    return;
  }
  assert.deepEqual(
    cases.filter((c) => c.engine === "sms").map(label),
    smsCases().map(label),
    `the SMS templates changed: UPDATE_TEMPLATE_RENDERS=1 rewrites ${path.relative(ROOT, FIXTURE)}`,
  );
  let differ = 0;
  for (const c of cases) {
    const now = render(c);
    if (now.text === c.text && now.error === c.error) continue;
    differ++;
    assert.equal(now.error ?? now.text, c.error ?? c.text, `${label(c)} renders differently`);
  }
  assert.equal(differ, 0);
});

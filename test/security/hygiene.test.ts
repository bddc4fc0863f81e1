// Numbers and log privacy (issue #11, findings 8 and 9), over real HTTP, SMPP and processes:
// - a transaction number is a string of digits: a JSON number is a 400 naming the field, and
//   nothing is stored under what it became (-5 → 5, 1.5 → 15, a rounded 20-digit number);
// - bidi and format characters inside a number (an RTL mark from an Arabic keyboard) do not
//   split it, in an SMS or in the web form;
// - a holiday is a day the calendar has (2026-02-30 is a 400);
// - nothing a node or the SMSC simulator prints shows a citizen's mobile (in any written
//   form), a name, an SMS text, or the number and verifier of an inquiry URL.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { smsNode, api, http, eventually, sampleLifecycle, seedDirectory, testDatabase } from "../support/harness.ts";
import { spawnTaqib, type TaqibProcess } from "../support/processes.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const NUMBER = "1445000801";
const CITIZEN = "966551234567"; // the sample lifecycle's citizen, 0551234567
const RLM = "\u200f";

const world = smsNode({
  env: { SERVICES: "api,events,directory,notifier,smpp,channels,followup", CHANNELS: "sms,web" },
  then: async ({ node, smsc }) => {
    assert.equal((await api(node.url, "POST", "/api/v1/events", sampleLifecycle(NUMBER).slice(0, 4))).status, 202);
    await eventually(async () => (await api(node.url, "GET", `/api/v1/transactions/${NUMBER}`)).body.status === "issued", 20_000, "issued");
    await eventually(async () => smsc.received.filter((m) => m.text.includes(NUMBER)).length >= 3, 30_000, "the lifecycle's SMS");
  },
});

/** A 400 in the error shape whose details name `field` with `message`. */
function assertFieldError(r: { status: number; body: any }, field: string, message: RegExp) {
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(typeof r.body.error?.code, "string");
  assert.equal(typeof r.body.error?.message, "string");
  const detail = (r.body.error.details ?? []).find((d: { field: string }) => d.field === field);
  assert.ok(detail, `no error for ${field}: ${JSON.stringify(r.body)}`);
  assert.match(detail.message, message);
}

test("events API: a JSON number as a transaction or outgoing number is a 400 naming the field, and nothing is stored", async () => {
  const { node } = world;
  const event = (id: string, transactionNumber: unknown) => ({ id, type: "closed", transactionNumber, occurredAt: "2026-01-01T08:00:00Z", data: {} });
  const numbers: Array<[unknown, string]> = [[-5, "5"], [1.5, "15"], [12345678901234567891, "12345678901234567000"], [145, "145"]];
  for (const [n, became] of numbers) {
    assertFieldError(await api(node.url, "POST", "/api/v1/events", event(`num-${became}`, n)), "transactionNumber", /must be a string of digits/);
    assert.equal((await api(node.url, "GET", `/api/v1/transactions/${became}`)).status, 404, `stored as ${became}`);
  }
  const batch = await api(node.url, "POST", "/api/v1/events", numbers.map(([n], i) => event(`num-batch-${i}`, n)));
  for (let i = 0; i < numbers.length; i++) assertFieldError(batch, `[${i}].transactionNumber`, /must be a string of digits/);

  const issued = sampleLifecycle("1445000802")[3]!;
  assertFieldError(await api(node.url, "POST", "/api/v1/events", { ...issued, data: { ...issued.data, outgoingNumber: 91445000802 } }), "data.outgoingNumber", /must be a string of digits/);
  assertFieldError(await api(node.url, "POST", "/api/v1/events", { ...event("num-sign", "-5") }), "transactionNumber", /digits/);
  assert.equal((await api(node.url, "GET", "/api/v1/transactions/1445000802")).status, 404);
});

test("a number with bidi marks inside is one number: events API, web inquiry, SMS", async () => {
  const { node, smsc } = world;
  // An SMS typed on an Arabic keyboard: "1445‏000801" once was 1445.
  const since = smsc.received.length;
  await smsc.sendMo({ from: CITIZEN, to: "74747", text: `رقم ${NUMBER.slice(0, 4)}${RLM}${NUMBER.slice(4)}` });
  const [reply] = await eventually(async () => {
    const got = smsc.received.slice(since).filter((m) => m.to === CITIZEN);
    return got.length >= 1 && got;
  }, 15_000, "the reply");
  assert.ok(reply!.text.includes(NUMBER), `the reply is about ${NUMBER}: ${reply!.text}`);
  assert.ok(!reply!.text.includes("لم نجد"), reply!.text);

  // The web form: the same number with isolates and an Arabic letter mark.
  const web = await http(node.url, "GET", `/api/v1/inquiry?number=${encodeURIComponent(`\u2066${NUMBER.slice(0, 4)}\u2069\u061c${NUMBER.slice(4)}\ufeff`)}`);
  assert.equal(web.status, 200, JSON.stringify(web.body));
  assert.equal(web.body.number, NUMBER);

  // The events API: an RTL mark and isolates inside, Arabic-Indic digits.
  const typed = `\u2067١٤٤٥\u2069${RLM}٠٠٠٨٠٣\u061c`;
  const r = await api(node.url, "POST", "/api/v1/events", { ...sampleLifecycle("0")[0]!, id: "bidi-1", transactionNumber: typed });
  assert.equal(r.status, 202, JSON.stringify(r.body));
  await eventually(async () => (await api(node.url, "GET", "/api/v1/transactions/1445000803")).status === 200, 15_000, "the transaction 1445000803");
});

test("holidays: only days the Gregorian calendar has", async () => {
  const { node } = world;
  for (const date of ["2026-02-30", "2026-02-29", "2026-04-31", "2026-13-01", "2026-00-10"]) {
    const r = await api(node.url, "PUT", `/api/v1/holidays/${date}`, { name: "x" });
    assert.equal(r.status, 400, `${date}: ${r.text}`);
    assert.equal(r.body.error.code, "INVALID_DATE");
    assert.equal((await api(node.url, "DELETE", `/api/v1/holidays/${date}`)).status, 400, date);
  }
  assert.equal((await api(node.url, "PUT", "/api/v1/holidays/2028-02-29", { name: "leap day" })).status, 200);
  const dates = (await api(node.url, "GET", "/api/v1/holidays")).body.holidays.map((h: { date: string }) => h.date);
  assert.deepEqual(dates, ["2028-02-29"]);
  assert.equal((await api(node.url, "DELETE", "/api/v1/holidays/2028-02-29")).status, 200);
});

// ------------------------------------------------------------------ logs

/** The citizen's mobile in the forms people and systems write it, and what else is personal. */
const MOBILE_FORMS = ["+966551234567", "966551234567", "00966551234567", "0551234567", "551234567", "055 123 4567", "05-5123-4567", "+966 55 123 4567", "٠٥٥١٢٣٤٥٦٧", `${RLM}+966${RLM}551234567`];
const NAMES = ["محمد", "عبدالله", "سعد", "خالد"]; // the citizen, the manager, the employee of the sample
const VERIFIER = "4567";

/** Latin digits for Arabic-Indic and Persian ones (written out here, so the test does not trust the code it checks). */
const latin = (s: string) => s.replace(/[\u0660-\u0669\u06f0-\u06f9]/g, (c) => String((c.codePointAt(0)! - 0x0660) % 0x90));

/** Lines that show the mobile 0551234567 however it was written (separators, digits, encoding ignored). */
function unmaskedMobiles(lines: string[]): string[] {
  return lines.filter((line) => {
    let decoded = line;
    try {
      decoded = decodeURIComponent(line);
    } catch {
      /* not URL-encoded */
    }
    return latin(decoded).replace(/[^\d]/g, "").includes("551234567");
  });
}

/** `scripts/smsc.ts` as its own process: its output, and its standard input for commands. */
async function spawnSmsc(): Promise<{ child: ChildProcess; output: string[]; url: string; command(line: string): void; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "scripts/smsc.ts")], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, SMSC_PORT: "0", SMSC_DLR_DELAY_MS: "20" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const output: string[] = [];
  const keep = (b: Buffer) => output.push(...b.toString().split("\n").filter(Boolean));
  child.stdout!.on("data", keep);
  child.stderr!.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  const banner = await eventually(async () => output.find((l) => l.startsWith("SMSC simulator: smpp://")), 30_000, "the simulator");
  return {
    child,
    output,
    url: banner.match(/smpp:\/\/\S+/)![0],
    command: (line) => child.stdin!.write(`${line}\n`),
    async stop() {
      child.kill("SIGTERM");
      await exited;
    },
  };
}

const spawned: Array<{ stop(): Promise<unknown> }> = [];
after(async () => {
  for (const p of spawned.reverse()) await p.stop().catch(() => undefined);
});

/** All a process printed from now on (spawnTaqib keeps only its last lines). */
function capture(p: TaqibProcess): string[] {
  const lines = [...p.output];
  const keep = (b: Buffer) => lines.push(...b.toString().split("\n").filter(Boolean));
  p.child.stdout!.on("data", keep);
  p.child.stderr!.on("data", keep);
  return lines;
}

test("logs: a node and the SMSC simulator print no mobile, name, SMS text or inquiry verifier", async () => {
  const db = await testDatabase();
  spawned.push({ stop: () => db.remove() });
  const smsc = await spawnSmsc();
  spawned.push(smsc);
  const proc = await spawnTaqib("hygiene", {
    MONGO_URL: db.url,
    SMPP_URL: smsc.url,
    SERVICES: "api,events,directory,notifier,smpp,channels",
    CHANNELS: "sms,web",
    LOG_LEVEL: "debug",
    LOG_FORMAT: "text",
  });
  spawned.push({ stop: () => proc.kill() });
  const logs = capture(proc);

  await seedDirectory(proc.url);
  const number = "1445000811";
  // An SMS to the citizen refused by the SMSC first: the node logs the failed submit.
  smsc.command("throttle on");
  assert.equal((await api(proc.url, "POST", "/api/v1/events", sampleLifecycle(number, { mobile: "055 123 4567" }).slice(0, 1))).status, 202);
  await eventually(async () => logs.some((l) => /ESME_RTHROTTLED|THROTTL/i.test(l)), 30_000, "a throttled submit in the log");
  smsc.command("throttle off");
  assert.equal((await api(proc.url, "POST", "/api/v1/events", sampleLifecycle(number).slice(1, 4))).status, 202);
  await eventually(async () => smsc.output.filter((l) => l.includes(" <- ")).length >= 3, 60_000, "the lifecycle's SMS at the simulator");

  // Mobile-originated SMS from the citizen, the sender written in several forms (and
  // different texts: the same MO within a minute is answered once).
  const mos: Array<[string, string]> = [["966551234567", `رقم ${number}`], ["+966551234567", `استعلام ${number}`], ["00966551234567", number], ["0551234567", `status ${number}`]];
  for (const [from, text] of mos) smsc.command(`mo ${from} 74747 ${text}`);
  await eventually(async () => smsc.output.filter((l) => l.includes(" <- ")).length >= 7, 60_000, "the replies at the simulator");

  // Inquiries with the verifier and mobiles in the URL, and mobiles in paths (logged at debug).
  for (const form of MOBILE_FORMS) {
    await http(proc.url, "GET", `/api/v1/inquiry?number=${number}&verifier=${VERIFIER}&mobile=${encodeURIComponent(form)}`);
    await api(proc.url, "GET", `/api/v1/transactions/${encodeURIComponent(form)}`);
  }
  // A body the gateway cannot read, on an inquiry URL: an error on the way in.
  await http(proc.url, "POST", `/api/v1/inquiry?number=${number}&verifier=${VERIFIER}`, "xx", { "content-encoding": "gzip", "content-type": "application/json" });
  await eventually(async () => logs.some((l) => l.includes("POST /api/v1/inquiry?")), 10_000, "the inquiry URLs in the debug log");

  const all = [...logs, ...smsc.output];
  if (process.env.HYGIENE_DEBUG) console.log(all.join("\n"));
  assert.deepEqual(unmaskedMobiles(all), [], "mobiles printed unmasked");
  for (const name of NAMES) assert.deepEqual(all.filter((l) => l.includes(name)), [], `the name ${name} printed`);
  assert.deepEqual(all.filter((l) => /verifier=(?!•)|"verifier":"?\d/i.test(l)), [], "verifiers printed");
  // The simulator prints who (masked) and how long, never what: no Arabic text at all.
  assert.deepEqual(smsc.output.filter((l) => /[\u0600-\u06ff]/.test(l)), [], "SMS texts printed by the simulator");
  assert.ok(smsc.output.some((l) => /05••••••67 <- .*\d+ characters/.test(l)), smsc.output.join("\n"));
  assert.ok(smsc.output.some((l) => /MO 05••••••67 -> 74747 .*\d+ characters/.test(l)), smsc.output.join("\n"));
  assert.ok(logs.some((l) => l.includes("/api/v1/inquiry?number=•••&verifier=•••&mobile=•••")), "the inquiry URLs are logged, masked");
});

test("logs: the embedded SMSC simulator of `npm start` prints masked mobiles and no texts", async () => {
  const db = await testDatabase();
  spawned.push({ stop: () => db.remove() });
  // No SMPP_URL: the node starts its own simulator and prints its lines.
  const proc = await spawnTaqib("hygiene-embedded", { MONGO_URL: db.url, SERVICES: "api,events,directory,notifier,smpp", LOG_LEVEL: "info" });
  spawned.push({ stop: () => proc.kill() });
  const logs = capture(proc);
  await seedDirectory(proc.url);
  assert.equal((await api(proc.url, "POST", "/api/v1/events", sampleLifecycle("1445000821", { mobile: "+966 55 123 4567" }).slice(0, 4))).status, 202);
  await eventually(async () => logs.filter((l) => l.includes("[smsc]") && l.includes(" <- ")).length >= 3, 60_000, "the lifecycle's SMS at the embedded simulator");
  const simulator = logs.filter((l) => l.includes("[smsc]"));
  assert.deepEqual(unmaskedMobiles(logs), [], "mobiles printed unmasked");
  assert.deepEqual(simulator.filter((l) => /[\u0600-\u06ff]/.test(l)), [], "SMS texts or names printed");
  assert.ok(simulator.some((l) => /05••••••67 <- .*\d+ characters/.test(l)), simulator.join("\n"));
});

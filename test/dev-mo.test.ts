// Trying the 74747 channel from `npm start`: a citizen's SMS typed on the console, or posted
// to the development-only POST /dev/mo, reaches Taqib as a real deliver_sm over the embedded
// simulator's SMPP bind, and Taqib's answer goes back over the same bind.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { API_KEY, api, eventually, freePort, http, tempDir, testDatabase, testNode } from "./support/harness.ts";
import { parseMoLine } from "../dev/smsc/dev-mo.ts";

const data = tempDir("taqib-devmo-");
let child: ChildProcess;
let url: string;
let output = "";

before(async () => {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  // `npm start` as a user runs it (embedded database and simulator, DEV_INSECURE set by start.ts).
  child = spawn(process.execPath, ["--import", "tsx", "scripts/start.ts"], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: String(port), HOST: "127.0.0.1", DATA_DIR: data.dir, API_KEYS: API_KEY, LOG_LEVEL: "warn", SMSC_DLR_DELAY_MS: "50" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  for (const s of [child.stdout!, child.stderr!]) s.on("data", (b: Buffer) => (output += b));
  await eventually(async () => output.includes("to send an SMS from a citizen") && (await http(url, "GET", "/health/ready")).status === 200, 90_000, "Taqib ready");
});
after(async () => {
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  data.remove();
});

/** Taqib's answers to a mobile, from the message log. */
const answersTo = async (mobile: string) =>
  ((await api(url, "GET", "/api/v1/messages?limit=1000")).body.messages as any[]).filter((m) => m.to === mobile && m.status === "delivered");

test("parseMoLine reads `mo <from> <to> <text…>` and nothing else", () => {
  assert.deepEqual(parseMoLine("mo 0551234567 74747 ما حالة معاملتي 1448/00512"), { from: "0551234567", to: "74747", text: "ما حالة معاملتي 1448/00512" });
  assert.equal(parseMoLine("mo 0551234567 74747"), undefined);
  assert.equal(parseMoLine("help"), undefined);
});

test("a console line `mo 0551234567 74747 …` reaches the SMS channel over SMPP and its answer is delivered", async () => {
  child.stdin!.write("mo 0551234567 74747 ما حالة معاملتي 1448/00512\n");
  const [answer] = await eventually(async () => {
    const a = await answersTo("+966551234567");
    return a.length > 0 && a;
  }, 30_000, "an answer to 0551234567");
  assert.match(answer.text, /144800512|1448\/00512|١٤٤٨/);
  assert.match(output, /MO 05••••••67 -> 74747|MO .* -> 74747/);
  child.stdin!.write("nonsense\n");
  await eventually(async () => output.includes("usage: mo <from> <to>"), 5000, "the usage line");
});

test("POST /dev/mo with DEV_INSECURE=1 and the embedded simulator: 202, the MO goes over SMPP; bad bodies are 400", async () => {
  const r = await http(url, "POST", "/dev/mo", { from: "0551234568", to: "74747", text: "1448/00512" });
  assert.equal(r.status, 202, r.text);
  await eventually(async () => (await answersTo("+966551234568")).length > 0, 30_000, "an answer to 0551234568");
  for (const body of ['{"from":"x","to":"74747","text":"hi"}', '{"from":"0551234568","to":"74747","text":""}', "not json", "[]", '{"from":"0551234568","to":"74747","text":"a","x":1}']) {
    const bad = await http(url, "POST", "/dev/mo", body, { "content-type": "application/json" });
    assert.equal(bad.status, 400, body);
    assert.ok(bad.body.error?.code, body);
  }
});

test("POST /dev/mo is a 404 on a node without the embedded simulator", async () => {
  const db = await testDatabase();
  const node = await testNode(db.url, { SERVICES: "api,directory" });
  try {
    assert.equal((await http(node.url, "POST", "/dev/mo", { from: "0551234567", to: "74747", text: "1" })).status, 404);
  } finally {
    await node.stop();
    await db.remove();
  }
});

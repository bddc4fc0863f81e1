// The job dashboard against another site's pages: a browser that holds the dashboard's Basic
// credentials submits a form from another origin, and no job is made. It listens on loopback
// unless AGENDASH_HOST says otherwise. Real node, real Chromium.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import { MongoClient } from "mongodb";
import type { Browser } from "playwright-core";
import { API_KEY, freePort, testDatabase, testNode } from "../support/harness.ts";
import { launchChromium } from "../../channels/testing.ts";

let db: Awaited<ReturnType<typeof testDatabase>>;
let node: Awaited<ReturnType<typeof testNode>>;
let browser: Browser;
let dash: string;
let dashPort: number;

before(async () => {
  db = await testDatabase();
  dashPort = await freePort();
  node = await testNode(db.url, { AGENDASH_PORT: String(dashPort), HOST: "0.0.0.0" });
  dash = `http://127.0.0.1:${dashPort}`;
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await node?.stop();
  await db?.remove();
});

async function jobsNamed(name: string): Promise<number> {
  const client = await MongoClient.connect(db.url);
  try {
    return await client.db().collection("agendaJobs").countDocuments({ name });
  } finally {
    await client.close();
  }
}

/** The local addresses listening on a TCP port, from the kernel's own table (/proc/net/tcp and tcp6). */
function listeners(port: number): string[] {
  const found: string[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (!local || state !== "0A") continue; // 0A: LISTEN
      const [addr, p] = local.split(":");
      if (parseInt(p!, 16) === port) found.push(addr!);
    }
  }
  return found;
}

test("the dashboard listens on loopback only, though HOST is 0.0.0.0", () => {
  // 0100007F is 127.0.0.1 in the kernel's little-endian hex; 00000000 would be every address.
  assert.deepEqual(listeners(dashPort), ["0100007F"]);
});

test("a form another site submits with the browser's Basic credentials creates no job", async () => {
  // The other site: a page on another origin that submits a form to the dashboard on load.
  const evil = http.createServer((req, res) => {
    res.setHeader("content-type", "text/html; charset=utf-8");
    if (req.url === "/script") return res.end("<!doctype html><p>another site</p>");
    res.end(`<!doctype html><form id="f" method="POST" action="${dash}/api/jobs/create">
      <input name="jobName" value="forged-job"></form><script>document.getElementById("f").submit()</script>`);
  });
  await new Promise<void>((resolve) => evil.listen(0, "127.0.0.1", resolve));
  const evilUrl = `http://localhost:${(evil.address() as { port: number }).port}/`;
  // The browser has signed in to the dashboard before (Basic, the key as password).
  const context = await browser.newContext({ httpCredentials: { username: "staff", password: API_KEY } });
  try {
    const page = await context.newPage();
    const own = await page.goto(`${dash}/api`);
    assert.equal(own?.status(), 200, "the browser's credentials open the dashboard");
    const answer = page.waitForResponse((r) => r.url().startsWith(`${dash}/api/jobs/create`));
    await page.goto(evilUrl);
    const forged = await answer;
    assert.equal(forged.status(), 415);
    assert.equal((await forged.json()).error.code, "JSON_REQUIRED");
    // A script on the other site cannot send JSON either: the browser's preflight is never granted.
    const fetched = await page.goto(`${evilUrl}script`).then(() =>
      page.evaluate(async (url) => {
        try {
          const r = await fetch(url, { method: "POST", credentials: "include", headers: { "content-type": "application/json" }, body: JSON.stringify({ jobName: "forged-job" }) });
          return r.status;
        } catch {
          return "blocked";
        }
      }, `${dash}/api/jobs/create`),
    );
    assert.equal(fetched, "blocked");
    assert.equal(await jobsNamed("forged-job"), 0);
  } finally {
    await context.close();
    evil.close();
  }
});

test("changes to jobs are JSON from the dashboard's own origin, or a script with the key", async () => {
  const basic = { authorization: `Basic ${Buffer.from(`staff:${API_KEY}`).toString("base64")}` };
  const post = (headers: Record<string, string>, body: string) => fetch(`${dash}/api/jobs/create`, { method: "POST", headers: { ...basic, ...headers }, body });
  const form = await post({ "content-type": "application/x-www-form-urlencoded", origin: "http://evil.example" }, "jobName=forged-job");
  assert.equal(form.status, 415);
  const crossJson = await post({ "content-type": "application/json", origin: "http://evil.example" }, JSON.stringify({ jobName: "forged-job" }));
  assert.equal(crossJson.status, 403);
  assert.equal(((await crossJson.json()) as { error: { code: string } }).error.code, "CROSS_SITE");
  assert.equal(await jobsNamed("forged-job"), 0);
  // The dashboard's own page (its origin) and a script with the key (no Origin) still work.
  const own = await post({ "content-type": "application/json", origin: dash }, JSON.stringify({ jobName: "operator-job", jobSchedule: "in 10 years" }));
  assert.equal(own.status, 200, await own.text());
  const script = await fetch(`${dash}/api/jobs/create`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_KEY}`, "content-type": "application/json" },
    body: JSON.stringify({ jobName: "operator-job", jobSchedule: "in 10 years" }),
  });
  assert.equal(script.status, 200);
  assert.equal(await jobsNamed("operator-job"), 2);
});

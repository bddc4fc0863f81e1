// The console's sign-in and its accounts over a real node and database (issue 27.1, 27.8):
// concurrent wrong passwords check at most LOCKOUT.perUser passwords of one name and
// LOCKOUT.perAddress from one address, and a right password past the limit is refused; a
// replaced, reset, disabled or signed-out account keeps no session (`npm run staff` and
// putStaffUser), a session whose password was checked before the replacement opens nothing,
// and every sign-in gets a new session id. The node trusts X-Forwarded-For from 127.0.0.1,
// so each test signs in from addresses of its own.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { testDatabase, testNode } from "./support/harness.ts";
import { passwordLogin, putStaffUser } from "../core/console/accounts.ts";
import { AuditModel, LoginFailureModel, StaffSessionModel } from "../core/console/models.ts";
import { findSession, LOCKOUT, SESSION_COOKIE, startSession } from "../core/console/sessions.ts";

const PASSWORD = "signin-pass-0123";
const WRONG = "wrong-password-0123";

let db: Awaited<ReturnType<typeof testDatabase>>;
let node: Awaited<ReturnType<typeof testNode>>;
before(async () => {
  db = await testDatabase();
  node = await testNode(db.url, { SERVICES: "api,directory", TRUST_PROXY: "127.0.0.1" });
  for (const username of ["target", "other", "rita", "sami"]) await putStaffUser({ username, role: "viewer", password: PASSWORD });
});
after(async () => {
  await node?.stop();
  await db?.remove();
});
beforeEach(async () => {
  await LoginFailureModel.deleteMany({});
});

/** The login form's double-submit pair (cookie and field), good for any number of posts. */
async function loginForm(): Promise<{ cookie: string; csrf: string }> {
  const form = await fetch(`${node.url}/console/login`);
  return { cookie: form.headers.getSetCookie()[0]!.split(";")[0]!, csrf: /name="csrf" value="([^"]+)"/.exec(await form.text())![1]! };
}

/** One sign-in post from `ip`: its status and the session cookie it set ("" when none). */
async function attempt(form: { cookie: string; csrf: string }, username: string, password: string, ip: string, extraCookie = "") {
  const res = await fetch(`${node.url}/console/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", cookie: [form.cookie, extraCookie].filter(Boolean).join("; "), "x-forwarded-for": ip },
    body: new URLSearchParams({ csrf: form.csrf, username, password }),
  });
  await res.text();
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith(`${SESSION_COOKIE}=`))?.split(";")[0] ?? "";
  return { status: res.status, cookie };
}

const signIn = async (username: string, password = PASSWORD, ip = "10.9.0.1") => attempt(await loginForm(), username, password, ip);

/** Whether a session cookie still opens the board (a refused one is sent to the login page). */
async function opens(cookie: string): Promise<boolean> {
  const res = await fetch(`${node.url}/console/board`, { redirect: "manual", headers: { cookie } });
  await res.text();
  assert.ok(res.status === 200 || (res.status === 303 && res.headers.get("location") === "/console/login"), `board: ${res.status}`);
  return res.status === 200;
}

/** `npm run staff -- …` against the test's database; answers its output (stdin: `input`, ended). */
function staffCli(args: string[], input = ""): Promise<{ code: number; output: string }> {
  const child = execFile("npx", ["tsx", "scripts/staff.ts", ...args], { env: { ...process.env, MONGO_URL: db.url } });
  child.stdin!.end(input);
  return new Promise((resolve) => {
    let output = "";
    child.stdout!.on("data", (b) => (output += b));
    child.stderr!.on("data", (b) => (output += b));
    child.on("exit", (code) => resolve({ code: code ?? -1, output }));
  });
}

test("sign-in: 100 concurrent wrong passwords for one user name from one address check at most 5; a right password sent among wrong ones past the limit is refused", async (t) => {
  const form = await loginForm();
  const ip = "10.1.0.1";
  const wave = await Promise.all(Array.from({ length: 100 }, () => attempt(form, "target", WRONG, ip)));
  const checked = wave.filter((r) => r.status === 401).length;
  assert.equal(wave.filter((r) => r.status === 429).length, 100 - checked, "every other attempt refused as locked");
  t.diagnostic(`${checked} of 100 concurrent attempts checked a password`);
  assert.ok(checked <= LOCKOUT.perUser, `${checked} passwords checked (at most ${LOCKOUT.perUser})`);
  // Observable: one stored failure and one audit entry per checked password, none for a refused attempt.
  assert.equal(await LoginFailureModel.countDocuments({ key: "user:target" }), checked);
  assert.equal(await LoginFailureModel.countDocuments({ key: `ip:${ip}` }), checked);
  assert.equal(await AuditModel.countDocuments({ action: "login-failed", actor: "target" }), checked);
  // Up to the limit one at a time, then a concurrent wave with the right password in the middle.
  while ((await LoginFailureModel.countDocuments({ key: "user:target" })) < LOCKOUT.perUser) assert.equal((await attempt(form, "target", WRONG, ip)).status, 401);
  const mixed = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(form, "target", i === 15 ? PASSWORD : WRONG, ip)));
  assert.deepEqual([...new Set(mixed.map((r) => r.status))], [429], "locked, the right password too");
  assert.ok(mixed.every((r) => r.cookie === ""));
  assert.equal(await StaffSessionModel.countDocuments({ username: "target" }), 0, "no session started");
  assert.equal(await AuditModel.countDocuments({ action: "login", actor: "target" }), 0);
  assert.equal(await LoginFailureModel.countDocuments({ key: "user:target" }), LOCKOUT.perUser, "refused attempts store nothing");
  assert.equal(await AuditModel.countDocuments({ action: "login-failed", actor: "target" }), LOCKOUT.perUser);
  // Another name from another address is not locked.
  assert.equal((await signIn("other", PASSWORD, "10.1.0.2")).status, 303);
});

test("sign-in: 100 concurrent wrong passwords for 100 names from one address check at most 20; the address is then locked for a right password, another address is not", async (t) => {
  const form = await loginForm();
  const ip = "10.2.0.1";
  const wave = await Promise.all(Array.from({ length: 100 }, (_, i) => attempt(form, `guess${i}`, WRONG, ip)));
  const checked = wave.filter((r) => r.status === 401).length;
  assert.equal(wave.filter((r) => r.status === 429).length, 100 - checked);
  t.diagnostic(`${checked} of 100 concurrent attempts from one address checked a password`);
  assert.ok(checked <= LOCKOUT.perAddress, `${checked} passwords checked from one address (at most ${LOCKOUT.perAddress})`);
  assert.equal(await LoginFailureModel.countDocuments({ key: `ip:${ip}` }), checked);
  let n = 100;
  while ((await LoginFailureModel.countDocuments({ key: `ip:${ip}` })) < LOCKOUT.perAddress) assert.equal((await attempt(form, `guess${n++}`, WRONG, ip)).status, 401);
  const locked = await attempt(form, "other", PASSWORD, ip);
  assert.equal(locked.status, 429);
  assert.equal(locked.cookie, "");
  assert.equal((await attempt(form, "other", PASSWORD, "10.2.0.2")).status, 303);
});

test("accounts: re-adding a user (a new password, in-process or with npm run staff -- add) ends their sessions; so does a new role", async () => {
  const first = await signIn("rita");
  assert.equal(first.status, 303);
  assert.ok(await opens(first.cookie));
  await putStaffUser({ username: "rita", role: "viewer", password: "rita-new-pass-0123" });
  assert.equal(await opens(first.cookie), false, "the old session is refused after the replacement");
  assert.equal((await signIn("rita")).status, 401, "the old password too");
  const second = await signIn("rita", "rita-new-pass-0123");
  assert.ok(await opens(second.cookie));
  const cli = await staffCli(["add", "rita", "--role", "followup"], "rita-cli-pass-0123\n");
  assert.equal(cli.code, 0, cli.output);
  assert.doesNotMatch(cli.output, /rita-cli-pass/);
  assert.equal(await opens(second.cookie), false, "npm run staff -- add ends the sessions");
  assert.equal(await StaffSessionModel.countDocuments({ username: "rita", revokedAt: { $exists: false } }), 0, "every session revoked");
  const third = await signIn("rita", "rita-cli-pass-0123");
  assert.ok(await opens(third.cookie));
  // The same password, another role: still a replacement.
  await putStaffUser({ username: "rita", role: "viewer", password: "rita-cli-pass-0123" });
  assert.equal(await opens(third.cookie), false, "a role change ends the sessions");
});

test("accounts: a session whose password was checked just before the account was replaced opens nothing", async () => {
  const user = await passwordLogin.authenticate({ username: "sami", password: PASSWORD });
  assert.ok(user);
  await putStaffUser({ username: "sami", role: "viewer", password: PASSWORD });
  const id = await startSession(user, passwordLogin.name, "10.3.0.1");
  assert.equal(await findSession(id), undefined);
  assert.equal(await opens(`${SESSION_COOKIE}=${id}`), false);
});

test("accounts: npm run staff -- disable, enable, reset and signout end the sessions as they say; audited", async () => {
  const a = await signIn("sami");
  assert.ok(await opens(a.cookie));
  let r = await staffCli(["disable", "sami"]);
  assert.equal(r.code, 0, r.output);
  assert.equal(await opens(a.cookie), false, "a disabled user's session stops at once");
  assert.equal((await signIn("sami")).status, 401, "a disabled user cannot sign in");
  r = await staffCli(["enable", "sami"]);
  assert.equal(r.code, 0, r.output);
  assert.equal(await opens(a.cookie), false, "enabling brings no old session back");
  const b = await signIn("sami");
  const c = await signIn("sami", PASSWORD, "10.3.0.2");
  assert.ok((await opens(b.cookie)) && (await opens(c.cookie)));
  r = await staffCli(["signout", "sami"]);
  assert.equal(r.code, 0, r.output);
  assert.equal(await opens(b.cookie), false, "signed out everywhere");
  assert.equal(await opens(c.cookie), false, "signed out everywhere");
  const d = await signIn("sami");
  assert.ok(await opens(d.cookie), "signing in again works");
  r = await staffCli(["reset", "sami"]);
  assert.equal(r.code, 0, r.output);
  const generated = /password \(shown once, not stored in clear\): (\S+)/.exec(r.output)?.[1];
  assert.ok(generated && generated.length >= 12, r.output);
  assert.equal(await opens(d.cookie), false, "a reset ends the sessions");
  assert.equal((await signIn("sami")).status, 401, "the old password is refused");
  assert.ok(await opens((await signIn("sami", generated)).cookie), "the new password signs in");
  r = await staffCli(["signout", "nobody-here"]);
  assert.equal(r.code, 1);
  assert.match(r.output, /no staff account nobody-here/);
  for (const action of ["staff-disabled", "staff-enabled", "staff-signed-out", "staff-password-reset"]) {
    assert.equal(await AuditModel.countDocuments({ actor: "cli", action, target: "staff:sami" }), 1, action);
  }
});

test("sessions: every sign-in gets a new random id; a cookie planted before sign-in is not adopted", async () => {
  const planted = `${SESSION_COOKIE}=planted-by-someone-else-0123456789`;
  const one = await attempt(await loginForm(), "other", PASSWORD, "10.4.0.1", planted);
  const two = await attempt(await loginForm(), "other", PASSWORD, "10.4.0.1", planted);
  assert.equal(one.status, 303);
  assert.ok(one.cookie && two.cookie && one.cookie !== two.cookie && one.cookie !== planted && two.cookie !== planted);
  assert.match(one.cookie, new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}$`), "32 random bytes");
  assert.equal(await opens(planted), false);
  assert.ok((await opens(one.cookie)) && (await opens(two.cookie)));
});

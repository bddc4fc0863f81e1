/**
 * Console sessions and sign-in lockout, both in the database so every gateway node agrees.
 *
 * A session id is 32 random bytes, given to the browser once (cookie) and stored only as its
 * SHA-256, so a copy of the database opens no session. A session ends at logout (revoked),
 * after IDLE_MS without a request (sliding) or MAX_AGE_MS after sign-in, whichever comes
 * first. Each session has its own CSRF token (synchronizer pattern): every POST form carries
 * it and the server compares it in constant time.
 *
 * @module
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { LoginFailureModel, StaffSessionModel } from "./models.ts";
import type { StaffUser } from "./accounts.ts";
import { findStaffUser } from "./accounts.ts";

/** A session ends after this long without a request. */
export const IDLE_MS = 30 * 60_000;
/** …and at the latest this long after sign-in. */
export const MAX_AGE_MS = 12 * 3_600_000;
/** lastSeenAt is written at most this often (a page view is not a write each time). */
const TOUCH_MS = 60_000;


const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/** A live session: its user (as stored now, so a role change applies at once) and CSRF token. */
export interface Session {
  user: StaffUser;
  csrf: string;
  hash: string;
}

/**
 * Starts a session for a signed-in user; answers the id for the cookie (never stored as is).
 *
 * @example
 *   const id = await startSession(user, "password", "10.0.0.7");
 *   res.setHeader("set-cookie", sessionCookie(id, secure));
 */
export async function startSession(user: StaffUser, method: string, ip: string, now = new Date()): Promise<string> {
  const id = randomBytes(32).toString("base64url");
  await StaffSessionModel.create({
    _id: sha256(id),
    username: user.username,
    method,
    epoch: user.epoch ?? 0,
    csrf: randomBytes(32).toString("base64url"),
    createdAt: now,
    lastSeenAt: now,
    expiresAt: new Date(now.getTime() + MAX_AGE_MS),
    ip,
  });
  return id;
}

/** The live session of a cookie's id, sliding its idle timeout; undefined when unknown, revoked, idle or expired. */
export async function findSession(id: string | undefined, now = new Date()): Promise<Session | undefined> {
  if (!id || id.length > 100) return undefined;
  const hash = sha256(id);
  const s = await StaffSessionModel.findById(hash).lean();
  if (!s || s.revokedAt || s.expiresAt <= now || s.lastSeenAt.getTime() + IDLE_MS <= now.getTime()) return undefined;
  const user = await findStaffUser(s.username);
  // Disabled, removed, replaced, reset or signed out everywhere since this session began.
  if (!user || (user.epoch ?? 0) !== (s.epoch ?? 0)) return undefined;
  if (now.getTime() - s.lastSeenAt.getTime() > TOUCH_MS) await StaffSessionModel.updateOne({ _id: hash, revokedAt: { $exists: false } }, { $set: { lastSeenAt: now } });
  return { user, csrf: s.csrf, hash };
}

/** Ends a session (logout): its cookie opens nothing any more, on any node. */
export async function revokeSession(hash: string, now = new Date()): Promise<void> {
  await StaffSessionModel.updateOne({ _id: hash }, { $set: { revokedAt: now } });
}

/** Whether a form's token is the session's (constant time). */
export function csrfMatches(session: Pick<Session, "csrf">, token: unknown): boolean {
  if (typeof token !== "string") return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The session cookie: HttpOnly, SameSite=Lax, only under /console, Secure behind https. */
export function sessionCookie(id: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${id}; Path=/console; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}
export const SESSION_COOKIE = "taqib_console";

/** Failed sign-ins allowed per user name, and per client address, within LOCKOUT_WINDOW_MS. */
export const LOCKOUT = { perUser: 5, perAddress: 20, windowMs: 15 * 60_000 };

const lockKeys = (username: string, ip: string) =>
  [[`user:${username.toLowerCase()}`, LOCKOUT.perUser], [`ip:${ip}`, LOCKOUT.perAddress]] as const;

/** A sign-in attempt reserved before its password is checked: its records in `staff_login_failures`. */
export interface LoginAttempt {
  readonly username: string;
  readonly ids: readonly string[];
}

/**
 * Reserves a sign-in attempt before the password is checked, or answers the minutes to wait.
 *
 * The attempt is first recorded as a failure (one record for the user name, one for the
 * address: unique inserts), then the records of each within the window are counted, its own
 * included; it may go on only while neither count is beyond its limit. Check-then-act would
 * let every concurrent attempt read "not locked" and check its password (100 at once: 68
 * scrypt checks, and a right password on the 20th signed in). Here, of the attempts let
 * through, the one inserted last counted all the others, so at most LOCKOUT.perUser
 * passwords of one name (and perAddress from one address) are checked per window, whatever
 * the concurrency, on MongoDB and on FerretDB alike (no transaction, no conditional
 * update). A refused attempt removes its records (it checked nothing, and a lock does not
 * extend itself while it is being hammered); attempts refused together may all be refused,
 * never too many let through. A checked wrong password leaves its records: they are the
 * failure. A right one calls `attemptSucceeded`.
 *
 * @example
 *   const r = await reserveAttempt("amal", "10.0.0.7");
 *   if ("minutes" in r) return locked(r.minutes);
 *   const user = await passwordLogin.authenticate(credentials);
 *   if (user) await attemptSucceeded(r.attempt); // else the reservation stays as the failure
 */
export async function reserveAttempt(username: string, ip: string, now = new Date()): Promise<{ attempt: LoginAttempt } | { minutes: number }> {
  const keys = lockKeys(username, ip);
  const docs = keys.map(([key]) => ({ _id: randomUUID(), key, at: now }));
  await LoginFailureModel.insertMany(docs);
  const since = new Date(now.getTime() - LOCKOUT.windowMs);
  const counts = await Promise.all(keys.map(([key]) => LoginFailureModel.countDocuments({ key, at: { $gt: since } })));
  if (counts.every((n, i) => n <= keys[i]![1])) return { attempt: { username, ids: docs.map((d) => d._id) } };
  await LoginFailureModel.deleteMany({ _id: { $in: docs.map((d) => d._id) } });
  // Refused only because attempts arrived together: still a lock, of a minute.
  return { minutes: Math.max(1, await lockedFor(username, ip, now)) };
}

/** A right password: the attempt was no failure, and the user name's failures are cleared (not the address's). */
export async function attemptSucceeded(attempt: LoginAttempt): Promise<void> {
  await LoginFailureModel.deleteMany({ _id: { $in: [...attempt.ids] } });
  await clearFailures(attempt.username);
}

/** The minutes until a locked user name or address opens again (at least 1 when locked), or 0. */
export async function lockedFor(username: string, ip: string, now = new Date()): Promise<number> {
  const since = new Date(now.getTime() - LOCKOUT.windowMs);
  let minutes = 0;
  for (const [key, limit] of lockKeys(username, ip)) {
    const recent = await LoginFailureModel.find({ key, at: { $gt: since } }, { at: 1 }).sort({ at: -1, _id: -1 }).limit(limit).lean();
    if (recent.length >= limit) {
      // Open again when the oldest of the last `limit` failures leaves the window.
      const reopens = recent[limit - 1]!.at.getTime() + LOCKOUT.windowMs;
      minutes = Math.max(minutes, 1, Math.ceil((reopens - now.getTime()) / 60_000));
    }
  }
  return minutes;
}

/** Clears the user name's failures (a successful sign-in; not the address's). */
export async function clearFailures(username: string): Promise<void> {
  await LoginFailureModel.deleteMany({ key: `user:${username.toLowerCase()}` });
}

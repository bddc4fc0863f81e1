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
  if (!user) return undefined;
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

/** Whether a user name or an address has failed too often: the minutes to wait, or 0. */
export async function lockedFor(username: string, ip: string, now = new Date()): Promise<number> {
  const since = new Date(now.getTime() - LOCKOUT.windowMs);
  for (const [key, limit] of [[`user:${username.toLowerCase()}`, LOCKOUT.perUser], [`ip:${ip}`, LOCKOUT.perAddress]] as const) {
    const recent = await LoginFailureModel.find({ key, at: { $gt: since } }, { at: 1 }).sort({ at: -1 }).limit(limit).lean();
    if (recent.length >= limit) {
      // Open again when the oldest of the last `limit` failures leaves the window.
      const reopens = recent[limit - 1]!.at.getTime() + LOCKOUT.windowMs;
      return Math.max(1, Math.ceil((reopens - now.getTime()) / 60_000));
    }
  }
  return 0;
}

/** Counts a failed sign-in against the user name and the address. */
export async function recordFailure(username: string, ip: string, now = new Date()): Promise<void> {
  await LoginFailureModel.insertMany([
    { _id: randomUUID(), key: `user:${username.toLowerCase()}`, at: now },
    { _id: randomUUID(), key: `ip:${ip}`, at: now },
  ]);
}

/** A successful sign-in clears the user name's failures (not the address's). */
export async function clearFailures(username: string): Promise<void> {
  await LoginFailureModel.deleteMany({ key: `user:${username.toLowerCase()}` });
}

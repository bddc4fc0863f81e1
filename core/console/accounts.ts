/**
 * Staff accounts of the console: roles, password hashes and the login methods.
 *
 * Passwords are hashed with scrypt (node:crypto): it is memory-hard (N=2^15, r=8 needs
 * 32 MiB per hash), so a stolen table cannot be brute-forced cheaply on GPUs or ASICs, and it
 * ships with Node, so no native package has to be built on the office's servers. Each hash
 * has its own random salt and carries its parameters, so they can be raised later and old
 * hashes still verify.
 *
 * @module
 */
import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { StaffSessionModel, StaffUserModel } from "./models.ts";
import { CODE } from "../directory/contract.ts";

/** What a staff member may do. */
export const ROLES = ["viewer", "followup", "manager", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** A user name: lower-case letters, digits, '.', '_' or '-', 2 to 64 characters. */
export const USERNAME = /^[a-z0-9][a-z0-9._-]{1,63}$/;


/** A signed-in staff member as the pages see them. */
export interface StaffUser {
  username: string;
  role: Role;
  /** Department codes a manager is limited to; undefined: every department. */
  departments?: string[];
  /** The account's session epoch as read (sessions of an older one open nothing). */
  epoch?: number;
}

/** The rights of each role, so pages never compare role names themselves. */
export const can = {
  /** Record a reply that came by phone or paper. */
  recordReply: (u: StaffUser) => u.role === "followup" || u.role === "admin",
  /** Edit departments' reply periods. */
  editDepartments: (u: StaffUser) => u.role === "admin",
  /** See the leadership report (a manager: their departments' figures only). */
  seeReport: (u: StaffUser) => u.role === "admin" || u.role === "followup" || u.role === "viewer" || u.role === "manager",
  /** Edit the SMS templates (versions, restore). */
  editTemplates: (u: StaffUser) => u.role === "admin",
  /** Read the audit log; manage agencies, employees, holidays and API keys. */
  administer: (u: StaffUser) => u.role === "admin",
  /** See employees and their open transactions (a manager: their departments' only). */
  seeTeam: (u: StaffUser) => u.role === "manager" || u.role === "admin",
  /** See a department's letters (a manager only their own). */
  seeDepartment: (u: StaffUser, departmentCode: string | undefined | null) =>
    u.role !== "manager" || (!!departmentCode && (u.departments ?? []).includes(departmentCode)),
};

const SCRYPT = { N: 2 ** 15, r: 8, p: 1, keyLength: 32 };

function scrypt(password: string, salt: Buffer, keyLength: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => scryptCb(password.normalize("NFC"), salt, keyLength, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

/**
 * A password's hash: `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64), with a fresh salt.
 *
 * @example
 *   const h = await hashPassword("correct horse battery staple"); // "scrypt$15$8$1$…$…"
 *   await verifyPassword("correct horse battery staple", h)        // true
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keyLength, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 256 * SCRYPT.N * SCRYPT.r });
  return ["scrypt", Math.log2(SCRYPT.N), SCRYPT.r, SCRYPT.p, salt.toString("base64"), key.toString("base64")].join("$");
}

/** Whether `password` matches `stored` (constant-time compare); false for a malformed hash. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [alg, logN, r, p, salt, hash] = stored.split("$");
  if (alg !== "scrypt" || !salt || !hash) return false;
  const N = 2 ** Number(logN);
  const expected = Buffer.from(hash, "base64");
  const key = await scrypt(password, Buffer.from(salt, "base64"), expected.length, { N, r: Number(r), p: Number(p), maxmem: 256 * N * Number(r) });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

// Compared against when the user does not exist, so an unknown name takes as long as a wrong password.
let dummyHash: Promise<string> | undefined;

/** The shortest password accepted. */
export const MIN_PASSWORD = 12;

/** A random password of 20 characters (about 119 bits), printed once by `npm run staff`. */
export function generatePassword(): string {
  return randomBytes(15).toString("base64url").slice(0, 20);
}

/**
 * Creates or replaces a staff account (the password is hashed here; never stored in clear).
 *
 * @example
 *   await putStaffUser({ username: "amal", role: "manager", departments: ["LEGAL"], password: "…12+ chars…" });
 */
export async function putStaffUser(input: { username: string; role: Role; departments?: string[]; password: string }): Promise<StaffUser> {
  const username = input.username.toLowerCase();
  if (!USERNAME.test(username)) throw new RangeError("the user name must be 2 to 64 lower-case letters, digits, '.', '_' or '-'");
  if (!ROLES.includes(input.role)) throw new RangeError(`the role must be one of ${ROLES.join(", ")}`);
  if (input.password.length < MIN_PASSWORD) throw new RangeError(`the password must have at least ${MIN_PASSWORD} characters`);
  const departments = input.role === "manager" ? (input.departments ?? []) : undefined;
  if (input.role === "manager" && !departments?.length) throw new RangeError("a manager needs --departments CODE[,CODE…]");
  for (const d of departments ?? []) if (!CODE.test(d)) throw new RangeError(`not a department code: ${d}`);
  const now = new Date();
  await StaffUserModel.updateOne(
    { _id: username },
    { $set: { role: input.role, departments, passwordHash: await hashPassword(input.password), disabled: false, updatedAt: now }, $setOnInsert: { createdAt: now }, $inc: { sessionEpoch: 1 } },
    { upsert: true },
  );
  // A replaced account keeps none of its sessions (who knew the old password is signed out).
  await revokeStaffSessions(username, now);
  return { username, role: input.role, ...(departments ? { departments } : {}) };
}

/**
 * Signs a user out everywhere: every session of the name is revoked, and the account's
 * session epoch is raised so that a session started from a password checked just before
 * (a sign-in in flight) opens nothing either. False when there is no such account.
 */
export async function endStaffSessions(username: string, now = new Date()): Promise<boolean> {
  const name = username.toLowerCase();
  const res = await StaffUserModel.updateOne({ _id: name }, { $inc: { sessionEpoch: 1 }, $set: { updatedAt: now } });
  await revokeStaffSessions(name, now);
  return res.matchedCount > 0;
}

async function revokeStaffSessions(username: string, now: Date): Promise<void> {
  await StaffSessionModel.updateMany({ username, revokedAt: { $exists: false } }, { $set: { revokedAt: now } });
}

/** Disables (its sessions end at once) or enables an account; false when there is no such account. */
export async function setStaffDisabled(username: string, disabled: boolean, now = new Date()): Promise<boolean> {
  const name = username.toLowerCase();
  const res = await StaffUserModel.updateOne({ _id: name }, { $set: { disabled, updatedAt: now } });
  if (disabled) await endStaffSessions(name, now);
  return res.matchedCount > 0;
}

/** A new password for an existing account (hashed here); its sessions end. False when there is no such account. */
export async function resetStaffPassword(username: string, password: string, now = new Date()): Promise<boolean> {
  if (password.length < MIN_PASSWORD) throw new RangeError(`the password must have at least ${MIN_PASSWORD} characters`);
  const name = username.toLowerCase();
  const res = await StaffUserModel.updateOne({ _id: name }, { $set: { passwordHash: await hashPassword(password), updatedAt: now } });
  if (res.matchedCount) await endStaffSessions(name, now);
  return res.matchedCount > 0;
}

/** The account of a user name, if it exists and is enabled. */
export async function findStaffUser(username: string): Promise<StaffUser | undefined> {
  const u = await StaffUserModel.findById(username.toLowerCase()).lean();
  if (!u || u.disabled) return undefined;
  return { username: u._id, role: u.role as Role, ...(u.role === "manager" ? { departments: u.departments ?? [] } : {}), epoch: u.sessionEpoch ?? 0 };
}

/**
 * A way to sign in. The console starts a session for whatever user a method answers, so
 * single sign-on is another method beside the password form: an OpenID Connect method
 * would redirect to the provider (`start`), and on its callback (`finish`) check the ID
 * token and map its subject or e-mail to a staff account (see docs/console.md).
 */
export interface LoginMethod {
  /** Recorded in the audit log and on the session (`password`, `oidc`, …). */
  readonly name: string;
  /** The user the credentials prove, or undefined (wrong or unknown: the caller does not tell which). */
  authenticate(credentials: Record<string, string | undefined>): Promise<StaffUser | undefined>;
}

/** User name and password, checked against the scrypt hash. */
export const passwordLogin: LoginMethod = {
  name: "password",
  async authenticate({ username, password }) {
    const name = (username ?? "").trim().toLowerCase();
    const doc = USERNAME.test(name) ? await StaffUserModel.findById(name).lean() : null;
    dummyHash ??= hashPassword(randomBytes(16).toString("hex"));
    const ok = await verifyPassword(password ?? "", doc?.passwordHash ?? (await dummyHash));
    if (!ok || !doc || doc.disabled) return undefined;
    return { username: doc._id, role: doc.role as Role, ...(doc.role === "manager" ? { departments: doc.departments ?? [] } : {}), epoch: doc.sessionEpoch ?? 0 };
  },
};

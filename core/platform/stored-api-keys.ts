/**
 * API keys kept in the database (made and revoked in the staff console), beside the ones in
 * `API_KEYS`. A key is 32 random bytes, shown once when it is made; only its SHA-256 and a
 * short fingerprint are stored, so a copy of the database opens nothing (a slow hash is not
 * needed: the key is random, not a password).
 *
 * Every node keeps the active keys' hashes in memory, read again at most every
 * STORED_KEYS_TTL_MS, so an API request costs no database round-trip most of the time. A
 * revoke forgets them at once on the node that made it and, through `apiKeys.changed`, on
 * the others; a node that missed the event stops accepting the key within the TTL.
 *
 * @module
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { StoredApiKeyModel } from "./models.ts";
import { bearerToken, keyFingerprint, SCOPES, type Scope } from "./api-keys.ts";

/** How long a node trusts its copy of the stored keys: a revoked key works at most this long elsewhere. */
export const STORED_KEYS_TTL_MS = 30_000;
/** An unknown key reads the keys again only if the copy is older than this (a key made on another node works within a second; guessing costs at most one read a second). */
export const MISS_REFRESH_MS = 1_000;
/** The event that tells every node to forget its copy. */
export const API_KEYS_CHANGED = "apiKeys.changed";


/** A key as the console lists it (never the key). */
export interface StoredKeySummary {
  id: string;
  fingerprint: string;
  name: string;
  scopes: Scope[];
  createdAt: Date;
  createdBy?: string;
  revokedAt?: Date;
  revokedBy?: string;
}

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

/**
 * Makes a key with the given scopes; answers it once (it is not stored).
 *
 * @example
 *   const { key, fingerprint } = await createStoredKey({ name: "نظام المراسلات", scopes: ["events:write"], createdBy: "amal" });
 *   // key "tqk_…" (47 characters), given to the correspondence system's administrator
 */
export async function createStoredKey(input: { name: string; scopes: Scope[]; createdBy: string }): Promise<StoredKeySummary & { key: string }> {
  for (const s of input.scopes) if (!SCOPES.includes(s)) throw new RangeError(`unknown scope ${s}`);
  const key = `tqk_${randomBytes(32).toString("base64url")}`;
  const doc = {
    _id: randomUUID(),
    hash: sha256(key),
    fingerprint: keyFingerprint(key),
    name: input.name,
    scopes: SCOPES.filter((s) => input.scopes.includes(s)),
    createdAt: new Date(),
    createdBy: input.createdBy,
  };
  await StoredApiKeyModel.create(doc);
  storedApiKeys.invalidate();
  return { id: doc._id, fingerprint: doc.fingerprint, name: doc.name, scopes: doc.scopes, createdAt: doc.createdAt, createdBy: doc.createdBy, key };
}

/** Revokes a key (one conditional update); undefined when there is no such active key. */
export async function revokeStoredKey(id: string, revokedBy: string): Promise<StoredKeySummary | undefined> {
  const doc = await StoredApiKeyModel.findOneAndUpdate({ _id: id, revokedAt: { $exists: false } }, { $set: { revokedAt: new Date(), revokedBy } }, { returnDocument: "after" }).lean();
  storedApiKeys.invalidate();
  return doc ? summary(doc) : undefined;
}

function summary(d: any): StoredKeySummary {
  return {
    id: d._id,
    fingerprint: d.fingerprint,
    name: d.name,
    scopes: d.scopes,
    createdAt: d.createdAt,
    ...(d.createdBy ? { createdBy: d.createdBy } : {}),
    ...(d.revokedAt ? { revokedAt: d.revokedAt, revokedBy: d.revokedBy } : {}),
  };
}

/** One page of the stored keys, newest first (`hasNext` when more follow). */
export async function listStoredKeys(page: number, size: number): Promise<{ keys: StoredKeySummary[]; hasNext: boolean }> {
  const docs = await StoredApiKeyModel.find({}, { hash: 0 }).sort({ createdAt: -1, _id: 1 }).skip(page * size).limit(size + 1).lean();
  return { keys: docs.slice(0, size).map(summary), hasNext: docs.length > size };
}

/** An active key found for a request. */
export interface KeyMatch {
  fingerprint: string;
  scopes: ReadonlySet<Scope>;
}

type Snapshot = { byHash: Map<string, KeyMatch>; at: number; generation: number };

/**
 * The active keys' hashes in memory: read at most every `ttlMs`, and again (at most every
 * `missRefreshMs`) when a key is not found, so a key just made on another node works.
 *
 * @example
 *   const cache = new StoredKeyCache(async () => [{ hash, fingerprint, scopes: ["events:write"] }]);
 *   await cache.find("Bearer tqk_…") // { fingerprint, scopes: Set{"events:write"} } or undefined
 */
export class StoredKeyCache {
  private snapshot?: Snapshot;
  private loading?: Promise<Snapshot>;
  private generation = 0;

  constructor(
    private readonly load: () => Promise<Array<{ hash: string; fingerprint: string; scopes: string[] }>>,
    private readonly ttlMs = STORED_KEYS_TTL_MS,
    private readonly missRefreshMs = MISS_REFRESH_MS,
    private readonly now = Date.now,
  ) {}

  /** The key of `Authorization: Bearer <key>`, if it is stored and active. */
  async find(header: string | undefined): Promise<KeyMatch | undefined> {
    const token = bearerToken(header);
    if (token === undefined) return undefined;
    // Looked up by hash: what a lookup's timing could tell is about the SHA-256 of a guess, never about a key.
    const hash = sha256(token);
    let snap = await this.current(this.ttlMs);
    if (!snap.byHash.has(hash) && this.now() - snap.at > this.missRefreshMs) snap = await this.current(this.missRefreshMs);
    return snap.byHash.get(hash);
  }

  /** Forgets the copy (a key made or revoked here, or `apiKeys.changed`). */
  invalidate(): void {
    this.generation++;
    this.snapshot = undefined;
  }

  private async current(maxAge: number): Promise<Snapshot> {
    if (this.snapshot && this.snapshot.generation === this.generation && this.now() - this.snapshot.at <= maxAge) return this.snapshot;
    // One read at a time; a read started before an invalidation is not trusted after it.
    const generation = this.generation;
    this.loading ??= this.load()
      .then((docs) => {
        const byHash = new Map(docs.map((d) => [d.hash, { fingerprint: d.fingerprint, scopes: new Set(d.scopes.filter((s): s is Scope => SCOPES.includes(s as Scope))) }]));
        const snap = { byHash, at: this.now(), generation };
        if (generation === this.generation) this.snapshot = snap;
        return snap;
      })
      .finally(() => (this.loading = undefined));
    const snap = await this.loading;
    return snap.generation === this.generation ? snap : this.current(maxAge);
  }
}

/** The process's stored keys (the API gateway and Agendash ask it after `API_KEYS`). */
export const storedApiKeys = new StoredKeyCache(() =>
  StoredApiKeyModel.find({ revokedAt: { $exists: false } }, { hash: 1, fingerprint: 1, scopes: 1 }).lean() as Promise<Array<{ hash: string; fingerprint: string; scopes: string[] }>>,
);

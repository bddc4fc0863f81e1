import { createHash, timingSafeEqual } from "node:crypto";

/**
 * What a staff API key may do. A key is given the scopes its holder needs: the
 * correspondence system `events:write`, an administrator `directory:admin`, a monitoring
 * server `metrics:read`. `messages:read-mobiles` adds citizens' full numbers to the message log
 * (without it, only the masked number).
 */
export const SCOPES = ["events:write", "directory:admin", "messages:read", "messages:read-mobiles", "metrics:read", "jobs:admin"] as const;
export type Scope = (typeof SCOPES)[number];

/** A configured key and its scopes. */
export interface ApiKey {
  key: string;
  scopes: ReadonlySet<Scope>;
  /** A short, stable name for logs: never the key itself. */
  fingerprint: string;
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** The first 8 hex digits of the key's SHA-256: enough to tell keys apart in a log. */
export function keyFingerprint(key: string): string {
  return digest(key).toString("hex").slice(0, 8);
}

/**
 * Parses `API_KEYS`: comma-separated `<key>` (every scope) or `<key>=<scope>+<scope>…`.
 * Throws an Error saying what is wrong (the caller names the variable).
 *
 * @example
 *   parseApiKeys("k1k1k1k1k1k1k1k1=events:write,k2k2k2k2k2k2k2k2=directory:admin+messages:read")
 *   // [{ key: "k1…", scopes: Set{"events:write"} }, { key: "k2…", scopes: Set{"directory:admin","messages:read"} }]
 */
export function parseApiKeys(raw: string | undefined): ApiKey[] {
  const keys: ApiKey[] = [];
  for (const entry of (raw ?? "").split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf("=");
    const key = (eq < 0 ? entry : entry.slice(0, eq)).trim();
    if (key.length < 16) throw new Error("every key must be at least 16 characters");
    let scopes: Scope[] = [...SCOPES];
    if (eq >= 0) {
      scopes = entry.slice(eq + 1).split("+").map((s) => s.trim()) as Scope[];
      for (const s of scopes) {
        if (!SCOPES.includes(s)) throw new Error(`unknown scope "${s}" for key ${keyFingerprint(key)} (known: ${SCOPES.join(", ")})`);
      }
    }
    keys.push({ key, scopes: new Set(scopes), fingerprint: keyFingerprint(key) });
  }
  return keys;
}

/** The key of an `Authorization: Bearer <key>` header, if it is one. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
}

/**
 * The configured key of `Authorization: Bearer <key>`, compared in constant time with
 * every key; undefined when none matches.
 *
 * @example
 *   findApiKey("Bearer 0123456789abcdef", parseApiKeys("0123456789abcdef"))?.scopes.has("events:write") // true
 */
export function findApiKey(header: string | undefined, keys: readonly ApiKey[]): ApiKey | undefined {
  const token = bearerToken(header);
  if (token === undefined) return undefined;
  const given = digest(token);
  let found: ApiKey | undefined;
  for (const k of keys) if (timingSafeEqual(given, digest(k.key)) && !found) found = k;
  return found;
}

/** Keys by fingerprint and scopes, for the start-up log. */
export function describeApiKeys(keys: readonly ApiKey[]): string {
  return keys.map((k) => `${k.fingerprint} (${k.scopes.size === SCOPES.length ? "every scope" : [...k.scopes].join("+")})`).join(", ");
}

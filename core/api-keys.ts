import { createHash, timingSafeEqual } from "node:crypto";

const digest = (s: string) => createHash("sha256").update(s).digest();

/**
 * Constant-time check of `Authorization: Bearer <key>` against the configured keys.
 *
 * @example
 *   apiKeyValid("Bearer 0123456789abcdef", ["0123456789abcdef"]) // true
 */
export function apiKeyValid(header: string | undefined, keys: string[]): boolean {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!m) return false;
  const given = digest(m[1]!);
  let ok = false;
  for (const key of keys) ok = timingSafeEqual(given, digest(key)) || ok;
  return ok;
}

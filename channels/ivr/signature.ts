/**
 * Twilio's request signature (`X-Twilio-Signature`), exactly as Twilio documents and as its
 * own helper library computes and validates it:
 *
 * 1. the full URL Twilio requested, query string included;
 * 2. for a form POST, every POST parameter sorted by name (case-sensitive, code-unit
 *    order), each appended as name + value (a repeated name: its distinct values sorted);
 * 3. HMAC-SHA1 of that string (UTF-8) with the account's auth token, Base64.
 *
 * A JSON body is signed instead through a `bodySHA256` query parameter (hex SHA-256 of the
 * body) with no POST parameters. Validation tries the URL with and without an explicit
 * port (Twilio is inconsistent about `:443`), and compares in constant time.
 *
 * @example
 *   twilioSignature("12345", "https://mycompany.com/myapp.php?foo=1&bar=2", {
 *     CallSid: "CA1234567890ABCDE", Caller: "+14158675310", Digits: "1234", From: "+14158675310", To: "+18005551212",
 *   }) // "GvWf1cFY/Q7PnoempGyD5oXAezc="
 *
 * @module
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export type FormParams = Record<string, string | string[]>;

/** The signature Twilio sends for a request to `url` with POST parameters `params`. */
export function twilioSignature(authToken: string, url: string, params: FormParams = {}): string {
  let data = new URL(url).toString();
  for (const key of Object.keys(params).sort()) {
    const value = params[key]!;
    if (Array.isArray(value)) for (const v of [...new Set(value)].sort()) data += key + v;
    else data += key + value;
  }
  return createHmac("sha1", authToken).update(Buffer.from(data, "utf8")).digest("base64");
}

function withPort(u: URL): string {
  if (u.port) return u.toString();
  const port = u.protocol === "https:" ? "443" : "80";
  const auth = u.username || u.password ? `${u.username}${u.password ? `:${u.password}` : ""}@` : "";
  return `${u.protocol}//${auth}${u.hostname}:${port}${u.pathname}${u.search}${u.hash}`;
}

function withoutPort(u: URL): string {
  const c = new URL(u.toString());
  c.port = "";
  return c.toString();
}

function same(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  return timingSafeEqual(x, y) && a.length === b.length;
}

/**
 * True when `header` is Twilio's signature of the request. `params` are the POST form
 * parameters (none for a GET). With a `bodySHA256` query parameter, `rawBody` must hash
 * to it and the signature covers the URL alone.
 */
export function validTwilioSignature(authToken: string, header: string | undefined, url: string, params: FormParams, rawBody = ""): boolean {
  if (!header) return false;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const bodyHash = u.searchParams.get("bodySHA256");
  const signed = bodyHash !== null ? {} : params;
  const ok = [withPort(u), withoutPort(u)].map((candidate) => same(header, twilioSignature(authToken, candidate, signed))).some(Boolean);
  if (!ok) return false;
  if (bodyHash === null) return true;
  return same(bodyHash, createHash("sha256").update(Buffer.from(rawBody, "utf8")).digest("hex"));
}

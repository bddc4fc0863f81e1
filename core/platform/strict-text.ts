// Text from outside is decoded strictly: a body that is not valid UTF-8, a form whose
// percent-escapes decode to invalid UTF-8, or JSON whose \u escapes leave a lone surrogate
// is refused, never stored with replacement characters (U+FFFD) or half a character that
// an SMSC would then be sent.
import { isUtf8 } from "node:buffer";

/** Why a body's text is refused (a client error, 400). */
export class InvalidTextError extends Error {
  readonly type = "text.invalid";
  readonly status = 400;
}

const LONE_SURROGATE = /\p{Cs}/u;

/** Whether a string holds a surrogate without its pair (JavaScript strings may; Unicode text may not). */
export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

const hex = (b: number) => (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x46) || (b >= 0x61 && b <= 0x66);

/** The bytes an `application/x-www-form-urlencoded` body stands for: %XX decoded, the rest as is. */
function formBytes(body: Buffer): Buffer {
  if (!body.includes(0x25)) return body;
  const out = Buffer.allocUnsafe(body.length);
  let n = 0;
  for (let i = 0; i < body.length; i++) {
    const b = body[i]!;
    if (b === 0x25 && i + 2 < body.length && hex(body[i + 1]!) && hex(body[i + 2]!)) {
      out[n++] = parseInt(String.fromCharCode(body[i + 1]!, body[i + 2]!), 16);
      i += 2;
    } else out[n++] = b;
  }
  return out.subarray(0, n);
}

/**
 * Throws {@link InvalidTextError} when a body read as `charset` (body-parser's lower-cased
 * charset, utf-8 by default) is not the text it claims to be; other charsets are the parser's
 * to decode. A form is checked after its percent-escapes, JSON after its \u escapes (only
 * when it has one of a surrogate, so a common body costs one scan).
 *
 * @example
 *   checkBodyText(Buffer.from('{"name":"محمد"}'), "utf-8", "application/json")          // passes
 *   checkBodyText(Buffer.from([0x7b, 0xff, 0x7d]), "utf-8", "application/json")        // throws: not UTF-8
 *   checkBodyText(Buffer.from('{"name":"s\\ud800"}'), "utf-8", "application/json")      // throws: lone surrogate
 *   checkBodyText(Buffer.from("From=%D8%A3&Body=%FF"), "utf-8", "application/x-www-form-urlencoded") // throws
 */
export function checkBodyText(body: Buffer, charset: string | null | undefined, contentType: string | undefined): void {
  if (charset && charset !== "utf-8" && charset !== "utf8") return;
  if (!isUtf8(body)) throw new InvalidTextError("The body is not valid UTF-8");
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "application/x-www-form-urlencoded" && !isUtf8(formBytes(body))) {
    throw new InvalidTextError("A form field's percent-escapes are not valid UTF-8");
  }
  if ((type === "application/json" || type.endsWith("+json")) && (body.includes("\\ud") || body.includes("\\uD"))) {
    let lone = false;
    try {
      JSON.parse(body.toString("utf8"), (key, value) => {
        if (hasLoneSurrogate(key) || (typeof value === "string" && hasLoneSurrogate(value))) lone = true;
        return value;
      });
    } catch {
      return; // not JSON: the parser (or the route) says so
    }
    if (lone) throw new InvalidTextError("A JSON string holds a lone surrogate (\\uD800-\\uDFFF without its pair)");
  }
}

/**
 * Throws {@link InvalidTextError} when a request's query string decodes to invalid UTF-8.
 *
 * @example
 *   checkQueryText("/api/v1/inquiry?number=%D9%A1") // passes
 *   checkQueryText("/api/v1/inquiry?number=%FF")    // throws
 */
export function checkQueryText(url: string | undefined): void {
  const q = url?.indexOf("?") ?? -1;
  if (q < 0) return;
  if (!isUtf8(formBytes(Buffer.from(url!.slice(q + 1), "latin1")))) throw new InvalidTextError("The query string's percent-escapes are not valid UTF-8");
}

// SMPP_URL: `smpp://system_id:password@host:port` (or `ssmpp://` for TLS) into what a bind needs.

/** Where and as whom the client binds. */
export interface ParsedUrl {
  host: string;
  port: number;
  tls: boolean;
  systemId: string;
  password: string;
}

/**
 * Parses an SMPP URL; throws a TypeError naming what is wrong (never echoing the password).
 *
 * @example
 *   parseSmppUrl("smpp://taqib:secret@127.0.0.1:2775") // { host: "127.0.0.1", port: 2775, tls: false, systemId: "taqib", password: "secret" }
 */
export function parseSmppUrl(url: string): ParsedUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError(`SMPP url is not a URL: smpp://system_id:password@host:port expected`);
  }
  if (u.protocol !== "smpp:" && u.protocol !== "ssmpp:") throw new TypeError(`SMPP url must start with smpp:// or ssmpp://, got ${u.protocol}//`);
  const tls = u.protocol === "ssmpp:";
  const systemId = decodeURIComponent(u.username);
  if (!systemId) throw new TypeError("SMPP url has no system_id (smpp://system_id:password@host:port)");
  const host = u.hostname.replace(/^\[(.*)\]$/, "$1");
  if (!host) throw new TypeError("SMPP url has no host");
  return { host, port: u.port ? Number(u.port) : tls ? 3550 : 2775, tls, systemId, password: decodeURIComponent(u.password) };
}

// Structured logs: one JSON object per line, and nothing personal in them. The logger
// itself masks every line (no call site can forget): Saudi mobiles in any written form,
// and the values of personal query-string and JSON fields (numbers, verifiers, callers,
// names). Code should still not pass personal data to the logger: this is the backstop.
import type { LoggerConfig } from "moleculer";
import type { Config } from "./config.ts";
import { maskMobile } from "../text/normalize.ts";
import { normalizeDigits } from "../text/digits.ts";

// Up to two separators between digits: "055 123 4567", "05-5123-4567", "(055) 123-4567",
// and the form-encoded "055+123+4567".
const SEP = String.raw`[\s\-.()+]{0,2}`;
/** A Saudi mobile as people write it: +966 / 00966 / 966 / 0 / nothing, then 5 and eight digits. */
const MOBILE_IN_TEXT = new RegExp(String.raw`(?<![\d+])(?:(?:\+|00)?966${SEP}|0)?5(?:${SEP}\d){8}(?!\d)`, "g");
const PERCENT_ENCODED = /(?:%[0-9a-f]{2})+/gi;

/** Query-string, form and JSON fields whose values say who asked about what. */
const PERSONAL_FIELDS = ["number", "verifier", "mobile", "msisdn", "phone", "from", "to", "caller", "called", "digits", "pin"];
/** More JSON fields (request parameters logged at debug): names and what citizens and agencies wrote. */
const PERSONAL_JSON_FIELDS = [...PERSONAL_FIELDS, "name", "subject", "summary", "text"];
const QUERY_VALUE = new RegExp(String.raw`(^|[?&;\s])(${PERSONAL_FIELDS.join("|")})=([^&;\s#"']+)`, "gi");
const JSON_VALUE = new RegExp(String.raw`"(${PERSONAL_JSON_FIELDS.join("|")})"\s*:\s*(?:"(?:[^"\\]|\\.)*"|-?\d[\d.eE+\-]*)`, "gi");
const HIDDEN = "•••";

/**
 * Masks every Saudi mobile in a text, whatever its form (`+966551234567`, `00966…`,
 * `0551234567`, `551234567`, `055 123 4567`, `05-5123-4567`, `+966 55 123 4567`,
 * Arabic-Indic digits, bidi marks inside, URL-encoded) as `05••••••67`. Digits come out
 * Latin and URL-encoded text decoded.
 *
 * @example
 *   maskMobiles("MO from ٠٥٥ ١٢٣ ٤٥٦٧") // "MO from 05••••••67"
 */
export function maskMobiles(text: string): string {
  return normalizeDigits(decodePercent(text)).replace(MOBILE_IN_TEXT, (m) => maskMobile(m.replace(/\D/g, "")));
}

/** URL-encoded runs decoded ("%2B966%2055…" is a mobile too), unless that would print control characters. */
function decodePercent(text: string): string {
  return text.replace(PERCENT_ENCODED, (run) => {
    try {
      const decoded = decodeURIComponent(run);
      return /\p{Cc}/u.test(decoded) ? run : decoded;
    } catch {
      return run;
    }
  });
}

/**
 * A log line with nothing personal: mobiles masked, and the values of personal fields
 * (`number`, `verifier`, `mobile`, `From`, `Caller`, `Digits`, `phone`, …) hidden in URLs,
 * form bodies and JSON, and in JSON also `name`, `subject`, `summary` and `text`.
 *
 * @example
 *   maskLogText("GET /api/v1/inquiry?number=144500123&verifier=4567 failed")
 *   // "GET /api/v1/inquiry?number=•••&verifier=••• failed"
 */
export function maskLogText(text: string): string {
  return maskMobiles(text)
    .replace(QUERY_VALUE, (_m, lead: string, name: string) => `${lead}${name}=${HIDDEN}`)
    .replace(JSON_VALUE, (_m, name: string) => `"${name}":"${HIDDEN}"`);
}

function stringify(arg: unknown): string {
  if (arg instanceof Error) return `${arg.name}: ${arg.message}`;
  if (typeof arg === "string") return arg;
  try {
    return JSON.stringify(arg);
  } catch {
    return String(arg);
  }
}

/** A log line as JSON, masked. Exported for tests. */
export function formatLogLine(level: string, args: unknown[], bindings: { nodeID?: string; mod?: string; svc?: string }): string {
  return JSON.stringify({
    ts: new Date().toISOString(),
    level,
    node: bindings.nodeID,
    mod: bindings.svc ?? bindings.mod,
    msg: maskLogText(args.map(stringify).join(" ")),
  });
}

export function createLogger(config: Config): LoggerConfig {
  return {
    type: "Console",
    options: {
      level: config.logLevel,
      colors: config.logFormat === "text",
      moduleColors: false,
      formatter:
        config.logFormat === "json"
          ? (level: string, args: unknown[], bindings: any) => [formatLogLine(level, args, bindings)]
          : (level: string, args: unknown[], bindings: any) => [
              `[${new Date().toISOString()}] ${level.toUpperCase()} ${bindings.nodeID}/${bindings.svc ?? bindings.mod}: ${maskLogText(args.map(stringify).join(" "))}`,
            ],
    },
  } as LoggerConfig;
}

// Structured logs: one JSON object per line, and Saudi mobile numbers masked to their last
// four digits wherever they appear (citizens' names are never passed to the logger).
import type { LoggerConfig } from "moleculer";
import type { Config } from "./config.ts";
import { latinDigits } from "./normalize.ts";

const MOBILE = /(?:\+?966|0)?5\d{8}\b/g;

/** Masks every Saudi mobile number in a text: "+966551234567" -> "*********4567". */
export function maskMobiles(text: string): string {
  return latinDigits(text).replace(MOBILE, (m) => `${"*".repeat(m.length - 4)}${m.slice(-4)}`);
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
    msg: maskMobiles(args.map(stringify).join(" ")),
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
              `[${new Date().toISOString()}] ${level.toUpperCase()} ${bindings.nodeID}/${bindings.svc ?? bindings.mod}: ${maskMobiles(args.map(stringify).join(" "))}`,
            ],
    },
  } as LoggerConfig;
}

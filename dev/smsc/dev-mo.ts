// Mobile-originated SMS into the embedded simulator, for trying the 74747 channel from
// `npm start`: a console line (`mo <from> <to> <text…>`) and, with DEV_INSECURE=1, the
// development-only endpoint POST /dev/mo. Both send a real deliver_sm over the simulator's bind.
import type { Context, ServiceSchema } from "moleculer";
import { clientError, UnavailableError } from "../../core/platform/errors.ts";

export interface MobileOriginatedInput {
  from: string;
  to: string;
  text: string;
}

/**
 * The MO of a console line, undefined when the line is not `mo <from> <to> <text…>`.
 *
 * @example
 *   parseMoLine("mo 0551234567 74747 ما حالة معاملتي 1448/00512")
 *   // { from: "0551234567", to: "74747", text: "ما حالة معاملتي 1448/00512" }
 */
export function parseMoLine(line: string): MobileOriginatedInput | undefined {
  const m = /^\s*mo\s+(\S+)\s+(\S+)\s+(.*\S)\s*$/i.exec(line);
  return m ? { from: m[1]!, to: m[2]!, text: m[3]! } : undefined;
}

/** `{ from, to, text }` as POST /dev/mo takes it: addresses of digits (a leading + allowed), 1 to 1000 characters of text. */
export function validateMo(body: unknown): { value?: MobileOriginatedInput; errors: { field: string; message: string }[] } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return { errors: [{ field: "body", message: "must be a JSON object { from, to, text }" }] };
  const b = body as Record<string, unknown>;
  const errors: { field: string; message: string }[] = [];
  for (const k of ["from", "to"] as const) {
    if (typeof b[k] !== "string" || !/^\+?\d{1,20}$/.test(b[k] as string)) errors.push({ field: k, message: "must be a string of 1 to 20 digits (a leading + allowed)" });
  }
  if (typeof b.text !== "string" || b.text.trim() === "" || b.text.length > 1000) errors.push({ field: "text", message: "must be a non-empty string of at most 1000 characters" });
  for (const k of Object.keys(b)) if (!["from", "to", "text"].includes(k)) errors.push({ field: k, message: "is not a known field" });
  return errors.length ? { errors } : { value: { from: b.from as string, to: b.to as string, text: b.text as string }, errors };
}

/** The service behind POST /dev/mo: hands the MO to the embedded simulator. */
export function devMoService(send: (mo: MobileOriginatedInput) => Promise<void>): ServiceSchema {
  return {
    name: "dev-smsc",
    actions: {
      mo: {
        visibility: "published",
        // The body as text: parsed and checked here, with the field errors the console shows.
        params: { body: { type: "any", optional: true } },
        async handler(ctx: Context<{ body?: unknown }, { $statusCode?: number }>) {
          let body: unknown;
          try {
            body = JSON.parse(String(ctx.params.body ?? ""));
          } catch {
            throw clientError(400, "INVALID_JSON", "The body must be JSON: { from, to, text }");
          }
          const { value, errors } = validateMo(body);
          if (!value) throw clientError(400, "INVALID_BODY", `${errors.length} invalid field(s)`, { details: errors });
          try {
            await send(value);
          } catch (err) {
            // No bind yet (Taqib's SMPP client still connecting): worth a retry in a moment.
            throw new UnavailableError("SMSC_NOT_BOUND", `The simulator could not deliver the MO: ${(err as Error).message}; retry shortly`);
          }
          ctx.meta.$statusCode = 202;
          return { status: "delivered to the SMPP bind" };
        },
      },
    },
  };
}

/** The gateway route of POST /dev/mo (the body as text, parsed by the action). */
export const DEV_MO_ROUTE = {
  path: "/dev",
  bodyParsers: { json: false, urlencoded: false, text: { type: () => true, limit: "8kb" } },
  mappingPolicy: "restrict",
  mergeParams: false,
  aliases: { "POST mo": "dev-smsc.mo" },
};

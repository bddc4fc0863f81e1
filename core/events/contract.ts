// The events contract of the correspondence system: validation that names every bad
// field, normalisation, and the canonical hash that tells a duplicate from a reused id.
import { createHash } from "node:crypto";
import { EVENT_TYPES, type EventType } from "./models.ts";
import { NOT_A_DIGIT_STRING, displayNumberOf, normalizeSaudiMobile, normalizeTransactionNumber } from "../text/normalize.ts";
import { safeReference, safeText, type SmsTextCheck } from "../sms/text.ts";

export interface FieldError {
  field: string;
  message: string;
}

/**
 * A valid event, normalised (E.164 mobiles, canonical numbers, Date objects). The numbers as
 * the source wrote them are kept beside the canonical ones for display: `data.displayNumber`
 * (the transaction's, on every event) and `data.outgoingDisplayNumber` (issued), see
 * displayNumberOf. They are left out of the content hash, so a number written differently is
 * the same event.
 */
export interface IncomingEvent {
  id: string;
  type: EventType;
  transactionNumber: string;
  occurredAt: Date;
  data: Record<string, unknown>;
}

const MAX_TEXT = 500;
const CODE = /^[A-Za-z0-9_.\-]{1,64}$/;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

function isoDate(v: unknown): Date | undefined {
  if (typeof v !== "string" || !/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(v)) return undefined;
  const d = new Date(v);
  const y = d.getUTCFullYear();
  return Number.isNaN(d.getTime()) || y < 1900 || y > 2200 ? undefined : d;
}

class Checker {
  errors: FieldError[] = [];
  constructor(private prefix: string) {}
  fail(field: string, message: string): undefined {
    this.errors.push({ field: this.prefix + field, message });
    return undefined;
  }
  text(o: Obj, key: string, path: string, required: boolean, max = MAX_TEXT): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) return required ? this.fail(path, "is required") : undefined;
    if (typeof v !== "string") return this.fail(path, "must be a string");
    const t = v.trim();
    if (t === "") return required ? this.fail(path, "must not be empty") : undefined;
    if (t.length > max) return this.fail(path, `must be at most ${max} characters`);
    return t;
  }
  /** Text rendered into an SMS: checked by `check` (see core/sms/text.ts). */
  smsText(o: Obj, key: string, path: string, required: boolean, check: (v: string) => SmsTextCheck, max = MAX_TEXT): string | undefined {
    const v = this.text(o, key, path, required, max);
    if (v === undefined) return undefined;
    const r = check(v);
    return r.ok ? r.value : this.fail(path, r.message);
  }
  code(o: Obj, key: string, path: string, required: boolean): string | undefined {
    const v = this.text(o, key, path, required, 64);
    if (v !== undefined && !CODE.test(v)) return this.fail(path, "letters, digits, '.', '_' or '-' only");
    return v;
  }
  number(o: Obj, key: string, path: string, required: boolean): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) return required ? this.fail(path, "is required") : undefined;
    if (typeof v !== "string") return this.fail(path, NOT_A_DIGIT_STRING);
    return normalizeTransactionNumber(v) ?? this.fail(path, "must be a string of 1 to 20 digits (separators allowed)");
  }
  date(o: Obj, key: string, path: string, required: boolean): string | undefined {
    const v = o[key];
    if (v === undefined || v === null) return required ? this.fail(path, "is required") : undefined;
    const d = isoDate(v);
    return d ? d.toISOString() : this.fail(path, "must be an ISO 8601 date");
  }
  obj(o: Obj, key: string, path: string, required: boolean): Obj | undefined {
    const v = o[key];
    if (v === undefined || v === null) return required ? this.fail(path, "is required") : undefined;
    return isObj(v) ? v : this.fail(path, "must be an object");
  }
}

/**
 * Validates one event of the contract. Returns the normalised event, or every invalid
 * field (paths like `data.citizen.mobile`, prefixed with `[i].` inside a batch).
 *
 * @example
 *   validateEvent({ id: "e1", type: "closed", transactionNumber: "١٢٣", occurredAt: "2026-01-01T08:00:00Z", data: {} })
 *   // { event: { id: "e1", type: "closed", transactionNumber: "123", ... }, errors: [] }
 */
export function validateEvent(raw: unknown, prefix = ""): { event?: IncomingEvent; errors: FieldError[] } {
  const c = new Checker(prefix);
  if (!isObj(raw)) {
    c.fail(prefix ? "" : "body", "an event must be a JSON object");
    return { errors: c.errors };
  }
  const id = c.text(raw, "id", "id", true, 128);
  const typeRaw = raw.type;
  let type: EventType | undefined;
  if (typeRaw === undefined) c.fail("type", "is required");
  else if (typeof typeRaw !== "string" || !EVENT_TYPES.includes(typeRaw as EventType)) {
    c.fail("type", `must be one of ${EVENT_TYPES.join(", ")}`);
  } else type = typeRaw as EventType;
  const transactionNumber = c.number(raw, "transactionNumber", "transactionNumber", true);
  const occurred = c.date(raw, "occurredAt", "occurredAt", true);
  let data = raw.data === undefined ? {} : c.obj(raw, "data", "data", true);
  for (const key of Object.keys(raw)) {
    if (!["id", "type", "transactionNumber", "occurredAt", "data"].includes(key)) c.fail(key, "is not a field of an event");
  }
  if (data && type) data = validateData(c, type, data);
  if (data && transactionNumber) data.displayNumber = displayNumberOf(raw.transactionNumber as string);
  if (c.errors.length || !id || !type || !transactionNumber || !occurred || !data) return { errors: c.errors };
  return { event: { id, type, transactionNumber, occurredAt: new Date(occurred), data }, errors: [] };
}

function validateData(c: Checker, type: EventType, d: Obj): Obj | undefined {
  const out: Obj = {};
  const set = (k: string, v: unknown) => { if (v !== undefined) out[k] = v; };
  switch (type) {
    case "registered": {
      const citizen = c.obj(d, "citizen", "data.citizen", true);
      if (citizen) {
        const name = c.smsText(citizen, "name", "data.citizen.name", true, (v) => safeText(v, 200), 200);
        let mobile: string | undefined;
        if (citizen.mobile === undefined || citizen.mobile === null) c.fail("data.citizen.mobile", "is required");
        else {
          mobile = normalizeSaudiMobile(citizen.mobile);
          if (!mobile) c.fail("data.citizen.mobile", "must be a Saudi mobile number (05XXXXXXXX, 9665XXXXXXXX or +9665XXXXXXXX)");
        }
        const language = citizen.language ?? "ar";
        if (language !== "ar" && language !== "en") c.fail("data.citizen.language", "must be ar or en");
        if (name && mobile) out.citizen = { name, mobile, language };
      }
      set("subject", c.smsText(d, "subject", "data.subject", false, (v) => safeText(v, MAX_TEXT)));
      set("departmentCode", c.code(d, "departmentCode", "data.departmentCode", false));
      break;
    }
    case "referred":
      set("departmentCode", c.code(d, "departmentCode", "data.departmentCode", true));
      break;
    case "assigned":
      set("employeeId", c.code(d, "employeeId", "data.employeeId", true));
      break;
    case "issued": {
      set("outgoingNumber", c.number(d, "outgoingNumber", "data.outgoingNumber", true));
      if (out.outgoingNumber) out.outgoingDisplayNumber = displayNumberOf(d.outgoingNumber as string);
      set("outgoingDate", c.date(d, "outgoingDate", "data.outgoingDate", false));
      const dest = c.obj(d, "destination", "data.destination", true);
      if (dest) {
        const agencyCode = c.code(dest, "agencyCode", "data.destination.agencyCode", true);
        const name = c.smsText(dest, "name", "data.destination.name", false, (v) => safeText(v, 200), 200);
        if (agencyCode) out.destination = name ? { agencyCode, name } : { agencyCode };
      }
      if (typeof d.requiresReply !== "boolean") c.fail("data.requiresReply", "is required and must be true or false");
      else out.requiresReply = d.requiresReply;
      break;
    }
    case "reply-received":
      set("outgoingNumber", c.number(d, "outgoingNumber", "data.outgoingNumber", true));
      set("replyNumber", c.smsText(d, "replyNumber", "data.replyNumber", false, (v) => safeReference(v), 64));
      set("replyDate", c.date(d, "replyDate", "data.replyDate", false));
      set("summary", c.text(d, "summary", "data.summary", false, 1000));
      set("via", c.code(d, "via", "data.via", false));
      break;
    case "closed":
      break;
  }
  return out;
}

/** The JSON of a value with object keys sorted, so equal content hashes equal. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(",")}]`;
  if (v instanceof Date) return JSON.stringify(v.toISOString());
  if (isObj(v)) {
    return `{${Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(",")}}`;
  }
  return JSON.stringify(v);
}

/** Display forms: not part of an event's content (see IncomingEvent). */
const DISPLAY_KEYS = new Set(["displayNumber", "outgoingDisplayNumber"]);

/** The content hash of a normalised event (its id and display forms excluded). */
export function eventHash(e: IncomingEvent): string {
  const data = Object.fromEntries(Object.entries(e.data).filter(([k]) => !DISPLAY_KEYS.has(k)));
  return createHash("sha256")
    .update(canonicalJson({ type: e.type, transactionNumber: e.transactionNumber, occurredAt: e.occurredAt, data }))
    .digest("hex");
}

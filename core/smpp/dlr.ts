/**
 * Delivery receipts (DLR): recognising them in a deliver_sm / data_sm, parsing the
 * de-facto text format (SMPP 3.4 Appendix B) and the receipt TLVs, and mapping SMSC
 * states onto our message statuses.
 *
 * Pure functions over plain values; the client turns PDUs into a `ReceiptInput`.
 */

/** Our statuses of an SMS (the SMS log's vocabulary). */
export type MessageStatus = "delivered" | "expired" | "undeliverable" | "rejected" | "failed" | "submitted";

export interface DlrStatusEntry {
  /** The canonical SMPP receipt state word. */
  state: string;
  status: MessageStatus;
  /** A final state ends the message's life at the SMSC; a non-final one may be followed by another receipt. */
  final: boolean;
}

const entry = (state: string, status: MessageStatus, final: boolean): DlrStatusEntry => Object.freeze({ state, status, final });
const DELIVRD = entry("DELIVRD", "delivered", true);
const EXPIRED = entry("EXPIRED", "expired", true);
const DELETED = entry("DELETED", "failed", true);
const UNDELIV = entry("UNDELIV", "undeliverable", true);
const ACCEPTD = entry("ACCEPTD", "submitted", false);
const UNKNOWN = entry("UNKNOWN", "submitted", false);
const REJECTD = entry("REJECTD", "rejected", true);
const ENROUTE = entry("ENROUTE", "submitted", false);
const SCHEDULED = entry("SCHEDULED", "submitted", false);
const SKIPPED = entry("SKIPPED", "failed", true);

/**
 * The one mapping from SMSC receipt states to our statuses: the text `stat:` words
 * (and the spellings SMSCs use for them) and the numeric `message_state` TLV values.
 *
 * ACCEPTD is non-final here although SMPP 3.4 lists ACCEPTED as final: in practice
 * SMSCs send it as "accepted by the SMSC / network" before the real outcome.
 * UNKNOWN, and any stat word not in this table, are non-final "submitted": a later
 * receipt may still settle the message; the caller's own timeout ends the wait.
 */
export const DLR_STATUS: Readonly<Record<string, DlrStatusEntry>> = Object.freeze({
  DELIVRD,
  EXPIRED,
  DELETED,
  UNDELIV,
  ACCEPTD,
  UNKNOWN,
  REJECTD,
  ENROUTE,
  SCHEDULED,
  SKIPPED,
  // Spellings seen in the wild.
  DELIVERED: DELIVRD,
  DELIVER: DELIVRD,
  UNDELIVERABLE: UNDELIV,
  UNDELIVERED: UNDELIV,
  UNDELIVRD: UNDELIV,
  ACCEPTED: ACCEPTD,
  REJECTED: REJECTD,
  FAILED: entry("FAILED", "failed", true),
  // message_state TLV (0x0427) values; 0 and 9 come from SMPP 5.0.
  "0": SCHEDULED,
  "1": ENROUTE,
  "2": DELIVRD,
  "3": EXPIRED,
  "4": DELETED,
  "5": UNDELIV,
  "6": ACCEPTD,
  "7": UNKNOWN,
  "8": REJECTD,
  "9": SKIPPED,
});

/** The entry for a `stat:` word or a message_state number; unknown ones map to UNKNOWN (non-final). */
export function dlrStatus(state: string | number): DlrStatusEntry {
  const key = typeof state === "number" ? String(state) : state.trim().toUpperCase();
  return DLR_STATUS[key] ?? { ...UNKNOWN, state: key || "UNKNOWN" };
}

/** What the client extracts from a deliver_sm / data_sm for receipt handling. */
export interface ReceiptInput {
  esmClass: number;
  /** The decoded short_message or message_payload. */
  text?: string;
  /** TLV 0x001E. */
  receiptedMessageId?: string;
  /** TLV 0x0427. */
  messageState?: number;
  /** TLV 0x0423: network type (1 octet) + error code (2 octets). */
  networkErrorCode?: Uint8Array;
  /** source_addr of the receipt: the recipient of the original message. */
  sourceAddr?: string;
  /** destination_addr of the receipt: the sender of the original message. */
  destinationAddr?: string;
}

export interface DeliveryReceipt {
  /** The id to look the message up by: the TLV id when present, else the text id. */
  messageId: string;
  /** Every form the id may have been stored under (see messageIdAliases); includes both the TLV and text ids. */
  messageIdAliases: string[];
  /** The canonical state word (DELIVRD, UNDELIV, ...). */
  state: string;
  status: MessageStatus;
  final: boolean;
  textMessageId?: string;
  tlvMessageId?: string;
  submitted?: number;
  delivered?: number;
  /** Receipt dates as written by the SMSC (its local time, unknown zone), read as UTC. */
  submitDate?: Date;
  doneDate?: Date;
  /** The `err:` field as given (often a 3-digit network or SMSC code). */
  errorCode?: string;
  /** From the network_error_code TLV. */
  networkError?: { networkType: number; code: number };
  /** The `text:` field (first characters of the original message, if the SMSC includes them). */
  text?: string;
  recipient?: string;
  sender?: string;
  /** The receipt's text as received. */
  raw: string;
}

/** The text receipt's fields, as strings, before interpretation. */
export interface ReceiptTextFields {
  id?: string;
  sub?: string;
  dlvrd?: string;
  submitDate?: string;
  doneDate?: string;
  stat?: string;
  err?: string;
  text?: string;
}

// A key must not be the tail of a longer word ("msgid:"); spaces around ":" are tolerated.
const KEY_RE = /(?<![a-z0-9_])(id|sub|dlvrd|submit[\s_-]*date|done[\s_-]*date|stat|err|text)\s*:/gi;

const firstToken = (s: string): string => s.trim().split(/\s+/)[0] ?? "";

/**
 * Reads the fields of a text receipt
 * `id:IIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...`.
 * Case-insensitive, any order, missing fields allowed; `text:` takes the rest of the line.
 * Returns undefined when neither id nor stat is present.
 *
 * @example
 *   parseReceiptText("id:42 sub:001 dlvrd:001 submit date:2401011200 done date:2401011201 stat:DELIVRD err:000 text:hi")
 *   // { id: "42", sub: "001", dlvrd: "001", submitDate: "2401011200", doneDate: "2401011201", stat: "DELIVRD", err: "000", text: "hi" }
 */
export function parseReceiptText(raw: string): ReceiptTextFields | undefined {
  const matches = [...raw.matchAll(KEY_RE)];
  const fields: ReceiptTextFields = {};
  for (let i = 0; i < matches.length; i++) {
    const m = matches[i]!;
    const key = m[1]!.toLowerCase().replace(/[\s_-]+/g, "");
    const start = m.index + m[0].length;
    if (key === "text") {
      fields.text = raw.slice(start).trim();
      break; // the free text may contain anything, including "id:"
    }
    const end = i + 1 < matches.length ? matches[i + 1]!.index : raw.length;
    const value = raw.slice(start, end).trim();
    switch (key) {
      case "id":
        fields.id ??= firstToken(value);
        break;
      case "sub":
        fields.sub ??= firstToken(value);
        break;
      case "dlvrd":
        fields.dlvrd ??= firstToken(value);
        break;
      case "submitdate":
        fields.submitDate ??= value.replace(/\s+/g, "");
        break;
      case "donedate":
        fields.doneDate ??= value.replace(/\s+/g, "");
        break;
      case "stat":
        fields.stat ??= firstToken(value).toUpperCase();
        break;
      case "err":
        fields.err ??= firstToken(value);
        break;
    }
  }
  if (!fields.id && !fields.stat) return undefined;
  return fields;
}

/**
 * A receipt date as a UTC Date: YYMMDDhhmm (10 digits), YYMMDDhhmmss (12) or
 * YYYYMMDDhhmmss (14). Undefined when missing or not a real date.
 */
export function parseReceiptDate(value: string | undefined): Date | undefined {
  if (!value || !/^(\d{10}|\d{12}|\d{14})$/.test(value)) return undefined;
  const d = value.length === 14 ? value : `20${value}`;
  const [y, mo, day, h, mi] = [d.slice(0, 4), d.slice(4, 6), d.slice(6, 8), d.slice(8, 10), d.slice(10, 12)].map(Number) as [
    number, number, number, number, number,
  ];
  const sec = d.length >= 14 ? Number(d.slice(12, 14)) : 0;
  const date = new Date(Date.UTC(y, mo - 1, day, h, mi, sec));
  const real = date.getUTCMonth() === mo - 1 && date.getUTCDate() === day && h < 24 && mi < 60 && sec < 60;
  return real ? date : undefined;
}

/**
 * A message id as it appears in a TLV read by a lenient decoder: cut at the first
 * byte that is not printable ASCII (a missing NUL terminator makes some decoders read
 * into the next TLV).
 */
export function cleanMessageId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  const m = /^[\x21-\x7e]*/.exec(id.trim());
  const v = m ? m[0] : "";
  return v || undefined;
}

const MAX_NUMERIC_ID = 64;

/**
 * The forms under which the same SMSC message id may appear. SMSCs often answer
 * submit_sm_resp in hex and write the receipt in decimal, or the reverse, with or
 * without leading zeros and in either letter case. Returns the id as given, then its
 * canonical decimal and lowercase hex forms (no leading zeros) for each reading that
 * parses. An all-digit id is read both as decimal and as hex.
 *
 * Store the aliases of each submitted part's id; look a receipt up by the exact id
 * first, then by any of its aliases (two different ids can share an alias only across
 * the decimal/hex readings of all-digit ids, which an SMSC does not mix within one link).
 *
 * @example
 *   messageIdAliases("00abcdef01") // ["00abcdef01", "abcdef01", "2882400001"]
 *   messageIdAliases("2882400001") // ["2882400001", "abcdef01", "173983924225"] (decimal, then hex reading)
 */
export function messageIdAliases(id: string): string[] {
  const s = id.trim();
  if (!s) return [];
  const out = new Set<string>([s]);
  const body = s.replace(/^0x/i, "");
  if (body.length > 0 && body.length <= MAX_NUMERIC_ID) {
    if (/^[0-9]+$/.test(body)) {
      const n = BigInt(body);
      out.add(n.toString(10));
      out.add(n.toString(16));
    }
    if (/^[0-9a-f]+$/i.test(body)) {
      const n = BigInt(`0x${body}`);
      out.add(n.toString(16));
      out.add(n.toString(10));
    }
  }
  return [...out];
}

/** Whether two message ids denote the same SMSC message (exact, or sharing an alias). */
export function sameMessageId(a: string, b: string): boolean {
  if (a === b) return true;
  const aliases = new Set(messageIdAliases(a));
  return messageIdAliases(b).some((x) => aliases.has(x));
}

/** esm_class message-type bits (2..5). */
const ESM_TYPE_MASK = 0x3c;
const ESM_SMSC_RECEIPT = 0x04;
const ESM_INTERMEDIATE = 0x20;

/**
 * Whether a deliver_sm / data_sm is a delivery receipt rather than a mobile-originated
 * message: esm_class says so (SMSC delivery receipt 0x04, or intermediate notification
 * 0x20), or it carries receipted_message_id with message_state, or (for SMSCs that
 * forget the esm_class bit) its text is unmistakably a receipt.
 */
export function isDeliveryReceipt(input: ReceiptInput): boolean {
  const type = input.esmClass & ESM_TYPE_MASK;
  if (type === ESM_SMSC_RECEIPT || type === ESM_INTERMEDIATE) return true;
  if (input.receiptedMessageId && input.messageState !== undefined) return true;
  const t = input.text ?? "";
  return /^\s*id\s*:\s*\S+/i.test(t) && /\bstat\s*:/i.test(t) && /\b(submit|done)[\s_-]*date\s*:/i.test(t);
}

/**
 * Parses a delivery receipt. TLVs (receipted_message_id, message_state,
 * network_error_code) take precedence over the text fields. Returns undefined when
 * the input is not a receipt or carries no message id.
 *
 * @example
 *   parseDeliveryReceipt({ esmClass: 4, text: "id:2882400001 sub:001 dlvrd:001 submit date:2501011200 done date:2501011201 stat:DELIVRD err:000 text:", receiptedMessageId: "00abcdef01", messageState: 2 })
 *   // { messageId: "00abcdef01", status: "delivered", final: true, textMessageId: "2882400001", ... }
 */
export function parseDeliveryReceipt(input: ReceiptInput): DeliveryReceipt | undefined {
  if (!isDeliveryReceipt(input)) return undefined;
  const raw = input.text ?? "";
  const fields = parseReceiptText(raw) ?? {};
  const tlvMessageId = cleanMessageId(input.receiptedMessageId);
  const textMessageId = cleanMessageId(fields.id);
  const messageId = tlvMessageId ?? textMessageId;
  if (!messageId) return undefined;

  const st =
    input.messageState !== undefined && DLR_STATUS[String(input.messageState)]
      ? DLR_STATUS[String(input.messageState)]!
      : dlrStatus(fields.stat ?? "UNKNOWN");

  const aliases = new Set<string>();
  for (const id of [tlvMessageId, textMessageId]) if (id) for (const a of messageIdAliases(id)) aliases.add(a);

  const receipt: DeliveryReceipt = {
    messageId,
    messageIdAliases: [...aliases],
    state: st.state,
    status: st.status,
    final: st.final,
    raw,
  };
  if (textMessageId) receipt.textMessageId = textMessageId;
  if (tlvMessageId) receipt.tlvMessageId = tlvMessageId;
  const sub = fields.sub !== undefined && /^\d+$/.test(fields.sub) ? Number(fields.sub) : undefined;
  if (sub !== undefined) receipt.submitted = sub;
  const dlvrd = fields.dlvrd !== undefined && /^\d+$/.test(fields.dlvrd) ? Number(fields.dlvrd) : undefined;
  if (dlvrd !== undefined) receipt.delivered = dlvrd;
  const submitDate = parseReceiptDate(fields.submitDate);
  if (submitDate) receipt.submitDate = submitDate;
  const doneDate = parseReceiptDate(fields.doneDate);
  if (doneDate) receipt.doneDate = doneDate;
  if (fields.err) receipt.errorCode = fields.err;
  const nec = input.networkErrorCode;
  if (nec && nec.length >= 3) receipt.networkError = { networkType: nec[0]!, code: (nec[1]! << 8) | nec[2]! };
  if (fields.text) receipt.text = fields.text;
  if (input.sourceAddr) receipt.recipient = input.sourceAddr;
  if (input.destinationAddr) receipt.sender = input.destinationAddr;
  return receipt;
}

/**
 * The status of a multipart message from its parts' latest receipts (undefined = no
 * receipt yet): the first final failure if any part failed; delivered once every part
 * is delivered; otherwise submitted (still waiting).
 *
 * @example
 *   aggregatePartStatuses(["delivered", "undeliverable"]) // { status: "undeliverable", final: true }
 */
export function aggregatePartStatuses(parts: ReadonlyArray<MessageStatus | undefined>): { status: MessageStatus; final: boolean } {
  const failure = parts.find((s) => s !== undefined && s !== "delivered" && s !== "submitted");
  if (failure) return { status: failure, final: true };
  if (parts.length > 0 && parts.every((s) => s === "delivered")) return { status: "delivered", final: true };
  return { status: "submitted", final: false };
}

/**
 * What both the SMPP client and the SMSC simulator need on top of the `smpp` package:
 * raw message bytes, PDU field access, addresses.
 *
 * The package decodes short_message/message_payload into text with its own tables and
 * drops the raw octets; we need them (our decoder handles UDH and alphabets
 * properly). Importing this module installs two small, additive fixes into the
 * package, once per process:
 *   1. the message filter keeps the raw octets on the decoded object (a hidden
 *      symbol property; the package's own result is unchanged), and a decoding
 *      exception no longer propagates (it would stop the session's reader);
 *   2. cstring TLVs (receipted_message_id, ...) are read within the TLV's length: the
 *      package reads to the next NUL, past the TLV when an SMSC omits the terminator.
 */
import smpp, { type Pdu, type TlvDef } from "smpp";
import { decodeSms, type ConcatInfo, type DecodedAlphabet, type DecodeOptions } from "../sms/encoding.ts";
import { SmppSubmitError } from "./status.ts";

const RAW = Symbol.for("taqib.smpp.rawMessage");
const INSTALLED = Symbol.for("taqib.smpp.fixesInstalled");

function installFixes(): void {
  const filter = smpp.filters.message as typeof smpp.filters.message & { [INSTALLED]?: boolean };
  if (filter[INSTALLED]) return;
  const decode = filter.decode;
  filter.decode = function (this: Pdu, value: unknown, skipUdh?: boolean): unknown {
    let out: unknown;
    try {
      out = decode.call(this, value, skipUdh);
    } catch {
      out = { message: value };
    }
    if (Buffer.isBuffer(value) && out !== null && typeof out === "object" && !Buffer.isBuffer(out)) {
      Object.defineProperty(out, RAW, { value, enumerable: false });
    }
    return out;
  };
  filter[INSTALLED] = true;

  const cstring = smpp.types.tlv.cstring!;
  const bounded: TlvDef["type"] = {
    read(buffer: Buffer, offset: number, length?: number): string {
      const limit = length === undefined ? buffer.length : Math.min(buffer.length, offset + length);
      const nul = buffer.indexOf(0, offset);
      const end = nul >= 0 && nul < limit ? nul : limit;
      return buffer.toString("ascii", offset, end);
    },
    write: cstring.write,
    size: cstring.size,
  };
  for (const def of Object.values(smpp.tlvs)) if (def.type === cstring) def.type = bounded;
}
installFixes();

export { smpp };
export type { Pdu };

/** The raw octets of a short_message / message_payload value as the package decoded it. */
export function messageOctets(value: unknown): Buffer | undefined {
  if (Buffer.isBuffer(value)) return value;
  if (value !== null && typeof value === "object") {
    const raw = (value as { [RAW]?: unknown })[RAW];
    if (Buffer.isBuffer(raw)) return raw;
  }
  return undefined;
}

/** The message octets of a submit_sm / deliver_sm / data_sm: message_payload when present, else short_message. */
export function payloadOf(pdu: Pdu): Buffer {
  const payload = messageOctets(pdu.message_payload);
  if (payload && payload.length > 0) return payload;
  return messageOctets(pdu.short_message) ?? Buffer.alloc(0);
}

export const num = (v: unknown): number => (typeof v === "number" && Number.isFinite(v) ? v : 0);
export const optNum = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
export const str = (v: unknown): string => (typeof v === "string" ? v : "");
export const optStr = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

export interface DecodedPduMessage {
  text: string;
  alphabet: DecodedAlphabet;
  /** From the UDH concatenation IE, or the sar_* TLVs. */
  concat?: ConcatInfo;
}

/** Decodes the message of a PDU (UDH when esm_class has UDHI, SAR TLVs otherwise). */
export function decodePduMessage(pdu: Pdu, options: DecodeOptions = {}): DecodedPduMessage {
  const esm = num(pdu.esm_class);
  const decoded = decodeSms(payloadOf(pdu), num(pdu.data_coding), (esm & 0x40) !== 0, options);
  const out: DecodedPduMessage = { text: decoded.text, alphabet: decoded.alphabet };
  if (decoded.udh) {
    out.concat = decoded.udh;
  } else {
    const ref = optNum(pdu.sar_msg_ref_num);
    const total = optNum(pdu.sar_total_segments);
    const seq = optNum(pdu.sar_segment_seqnum);
    if (ref !== undefined && total && seq && seq <= total) out.concat = { reference: ref, total, seq, referenceBits: 16 };
  }
  return out;
}

export interface SmppAddress {
  addr: string;
  ton: number;
  npi: number;
}

export const TON = { UNKNOWN: 0, INTERNATIONAL: 1, NATIONAL: 2, NETWORK_SPECIFIC: 3, SUBSCRIBER: 4, ALPHANUMERIC: 5, ABBREVIATED: 6 } as const;
export const NPI = { UNKNOWN: 0, ISDN: 1 } as const;

const invalidAddress = (message: string): SmppSubmitError => new SmppSubmitError(message, { code: "INVALID_ADDRESS", retryable: false });

/**
 * The source address of a submit_sm, from a sender id:
 *   - letters (alphanumeric sender, at most 11 printable ASCII characters): TON 5, NPI 0;
 *   - up to 8 digits (a short code such as 74747): TON 3 (network specific), NPI 0;
 *   - more digits, or "+"/"00" followed by digits: international, TON 1, NPI 1, without the prefix.
 *
 * @example
 *   sourceAddress("74747")      // { addr: "74747", ton: 3, npi: 0 }
 *   sourceAddress("Emirate")    // { addr: "Emirate", ton: 5, npi: 0 }
 *   sourceAddress("+966112345678") // { addr: "966112345678", ton: 1, npi: 1 }
 */
export function sourceAddress(from: string): SmppAddress {
  const s = from.trim();
  if (/^(\+|00)?\d+$/.test(s)) {
    const international = s.startsWith("+") || s.startsWith("00");
    const digits = s.replace(/^(\+|00)/, "");
    if (!international && digits.length <= 8) return { addr: digits, ton: TON.NETWORK_SPECIFIC, npi: NPI.UNKNOWN };
    if (digits.length > 15) throw invalidAddress(`source address "${from}" has more than 15 digits`);
    return { addr: digits, ton: TON.INTERNATIONAL, npi: NPI.ISDN };
  }
  if (!/^[\x20-\x7e]{1,11}$/.test(s)) {
    throw invalidAddress(`alphanumeric sender "${from}" must be 1..11 printable ASCII characters`);
  }
  return { addr: s, ton: TON.ALPHANUMERIC, npi: NPI.UNKNOWN };
}

/**
 * The destination address of a submit_sm: international (TON 1, NPI 1), digits only.
 * Accepts "+9665XXXXXXXX", "009665XXXXXXXX" or "9665XXXXXXXX" (spaces and dashes
 * ignored); refuses a national number ("05...") since it would be misrouted as international.
 */
export function destinationAddress(to: string): SmppAddress {
  const s = to.trim().replace(/[\s-]/g, "").replace(/^(\+|00)/, "");
  if (!/^[1-9]\d{6,14}$/.test(s)) {
    throw invalidAddress(`destination "${to}" is not an international (E.164) number such as +9665XXXXXXXX`);
  }
  return { addr: s, ton: TON.INTERNATIONAL, npi: NPI.ISDN };
}

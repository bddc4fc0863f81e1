/**
 * SMPP v3.4 command_status codes, whether a submit that got one is worth retrying,
 * and the errors the SMPP client rejects with.
 *
 * Retry policy (what `retryable` means): the same submit_sm, sent again later,
 * may succeed without anyone changing it. Congestion, throttling, SMSC-side
 * system errors and bind-state trouble are retryable; anything that says the
 * message or its addresses are wrong is not.
 *
 * Codes not in the table:
 *   - 0x0400..0x04FF (reserved by SMPP 3.4 for SMSC vendor-specific errors): RETRYABLE.
 *     Vendors use this range mostly for transient conditions (charging or routing
 *     back-ends unavailable, per-account throughput); the job layer's bounded retries
 *     turn a permanent one into a failure soon enough. Override per SMSC with
 *     `statusOverrides` when a vendor documents a code.
 *   - everything else: NOT retryable (an unknown standard code is taken as a refusal).
 */

export interface CommandStatusInfo {
  name: string;
  retryable: boolean;
  description: string;
}

/** The command_status codes we know, by value. */
export const COMMAND_STATUS: Readonly<Record<number, CommandStatusInfo>> = Object.freeze({
  0x00: { name: "ESME_ROK", retryable: false, description: "No error" },
  0x01: { name: "ESME_RINVMSGLEN", retryable: false, description: "Message length is invalid" },
  0x02: { name: "ESME_RINVCMDLEN", retryable: false, description: "Command length is invalid" },
  0x03: { name: "ESME_RINVCMDID", retryable: false, description: "Invalid command ID" },
  0x04: { name: "ESME_RINVBNDSTS", retryable: true, description: "Incorrect bind status for given command (rebind and retry)" },
  0x05: { name: "ESME_RALYBND", retryable: true, description: "ESME already in bound state" },
  0x06: { name: "ESME_RINVPRTFLG", retryable: false, description: "Invalid priority flag" },
  0x07: { name: "ESME_RINVREGDLVFLG", retryable: false, description: "Invalid registered delivery flag" },
  0x08: { name: "ESME_RSYSERR", retryable: true, description: "System error (SMSC side)" },
  0x0a: { name: "ESME_RINVSRCADR", retryable: false, description: "Invalid source address" },
  0x0b: { name: "ESME_RINVDSTADR", retryable: false, description: "Invalid destination address" },
  0x0c: { name: "ESME_RINVMSGID", retryable: false, description: "Message ID is invalid" },
  0x0d: { name: "ESME_RBINDFAIL", retryable: true, description: "Bind failed" },
  0x0e: { name: "ESME_RINVPASWD", retryable: false, description: "Invalid password" },
  0x0f: { name: "ESME_RINVSYSID", retryable: false, description: "Invalid system ID" },
  0x11: { name: "ESME_RCANCELFAIL", retryable: false, description: "cancel_sm failed" },
  0x13: { name: "ESME_RREPLACEFAIL", retryable: false, description: "replace_sm failed" },
  0x14: { name: "ESME_RMSGQFUL", retryable: true, description: "Message queue full" },
  0x15: { name: "ESME_RINVSERTYP", retryable: false, description: "Invalid service type" },
  0x33: { name: "ESME_RINVNUMDESTS", retryable: false, description: "Invalid number of destinations" },
  0x34: { name: "ESME_RINVDLNAME", retryable: false, description: "Invalid distribution list name" },
  0x40: { name: "ESME_RINVDESTFLAG", retryable: false, description: "Destination flag is invalid" },
  0x42: { name: "ESME_RINVSUBREP", retryable: false, description: "Invalid submit with replace request" },
  0x43: { name: "ESME_RINVESMCLASS", retryable: false, description: "Invalid esm_class field data" },
  0x44: { name: "ESME_RCNTSUBDL", retryable: false, description: "Cannot submit to distribution list" },
  0x45: { name: "ESME_RSUBMITFAIL", retryable: true, description: "submit_sm or submit_multi failed" },
  0x48: { name: "ESME_RINVSRCTON", retryable: false, description: "Invalid source address TON" },
  0x49: { name: "ESME_RINVSRCNPI", retryable: false, description: "Invalid source address NPI" },
  0x50: { name: "ESME_RINVDSTTON", retryable: false, description: "Invalid destination address TON" },
  0x51: { name: "ESME_RINVDSTNPI", retryable: false, description: "Invalid destination address NPI" },
  0x53: { name: "ESME_RINVSYSTYP", retryable: false, description: "Invalid system_type field" },
  0x54: { name: "ESME_RINVREPFLAG", retryable: false, description: "Invalid replace_if_present flag" },
  0x55: { name: "ESME_RINVNUMMSGS", retryable: false, description: "Invalid number of messages" },
  0x58: { name: "ESME_RTHROTTLED", retryable: true, description: "Throttling error (ESME exceeded allowed message limits)" },
  0x61: { name: "ESME_RINVSCHED", retryable: false, description: "Invalid scheduled delivery time" },
  0x62: { name: "ESME_RINVEXPIRY", retryable: false, description: "Invalid message validity period" },
  0x63: { name: "ESME_RINVDFTMSGID", retryable: false, description: "Predefined message invalid or not found" },
  0x64: { name: "ESME_RX_T_APPN", retryable: true, description: "ESME receiver temporary app error" },
  0x65: { name: "ESME_RX_P_APPN", retryable: false, description: "ESME receiver permanent app error" },
  0x66: { name: "ESME_RX_R_APPN", retryable: false, description: "ESME receiver reject message error" },
  0x67: { name: "ESME_RQUERYFAIL", retryable: false, description: "query_sm request failed" },
  0xc0: { name: "ESME_RINVTLVSTREAM", retryable: false, description: "Error in the optional part of the PDU body" },
  0xc1: { name: "ESME_RTLVNOTALLWD", retryable: false, description: "Optional parameter not allowed" },
  0xc2: { name: "ESME_RINVTLVLEN", retryable: false, description: "Invalid parameter length" },
  0xc3: { name: "ESME_RMISSINGTLV", retryable: false, description: "Expected optional parameter missing" },
  0xc4: { name: "ESME_RINVTLVVAL", retryable: false, description: "Invalid optional parameter value" },
  0xfe: { name: "ESME_RDELIVERYFAILURE", retryable: true, description: "Delivery failure (data_sm_resp)" },
  0xff: { name: "ESME_RUNKNOWNERR", retryable: true, description: "Unknown error" },
  0x100: { name: "ESME_RSERTYPUNAUTH", retryable: false, description: "ESME not authorised to use specified service_type" },
  0x101: { name: "ESME_RPROHIBITED", retryable: false, description: "ESME prohibited from using specified operation" },
  0x102: { name: "ESME_RSERTYPUNAVAIL", retryable: true, description: "Specified service_type is unavailable" },
  0x103: { name: "ESME_RSERTYPDENIED", retryable: false, description: "Specified service_type is denied" },
  0x104: { name: "ESME_RINVDCS", retryable: false, description: "Invalid data coding scheme" },
  0x105: { name: "ESME_RINVSRCADDRSUBUNIT", retryable: false, description: "Source address subunit is invalid" },
  0x106: { name: "ESME_RINVDSTADDRSUBUNIT", retryable: false, description: "Destination address subunit is invalid" },
} satisfies Record<number, CommandStatusInfo>);

/** Named values for the codes used in code (e.g. `SMPP_STATUS.ESME_RTHROTTLED === 0x58`). */
export const SMPP_STATUS = Object.freeze(
  Object.fromEntries(Object.entries(COMMAND_STATUS).map(([code, info]) => [info.name, Number(code)])),
) as Readonly<Record<string, number>>;

/** The bind refusals that mean "wrong account": retrying the same credentials will not help. */
export const AUTH_STATUSES: ReadonlySet<number> = new Set([0x0e, 0x0f]);

/** Per-SMSC overrides: command_status -> retryable. */
export type StatusOverrides = Readonly<Record<number, boolean>>;

/**
 * What a command_status means and whether it is worth a retry.
 *
 * @example
 *   describeCommandStatus(0x58) // { code: 0x58, name: "ESME_RTHROTTLED", retryable: true, ... }
 *   describeCommandStatus(0x401) // { name: "ESME_0x00000401", retryable: true, description: "SMSC vendor-specific error" }
 */
export function describeCommandStatus(code: number, overrides?: StatusOverrides): CommandStatusInfo & { code: number } {
  const known = COMMAND_STATUS[code];
  const base: CommandStatusInfo = known ?? {
    name: `ESME_0x${code.toString(16).padStart(8, "0")}`,
    retryable: code >= 0x400 && code <= 0x4ff,
    description: code >= 0x400 && code <= 0x4ff ? "SMSC vendor-specific error" : "Unknown command status",
  };
  const override = overrides?.[code];
  return { code, ...base, retryable: override ?? base.retryable };
}

/** Codes of SmppSubmitError besides the command_status names (ESME_*). */
export type SmppLocalErrorCode = "TIMEOUT" | "LINK_DOWN" | "QUEUE_FULL" | "INVALID_ADDRESS";

/**
 * Why a submit failed. `code` is the command_status name (e.g. "ESME_RTHROTTLED",
 * "ESME_0x00000401" for unknown ones) or one of:
 *   - "TIMEOUT": no submit_sm_resp within responseTimeoutMs (retryable),
 *   - "LINK_DOWN": not bound, link lost while waiting, or the client is closing (retryable),
 *   - "QUEUE_FULL": too many submits waiting in the client (retryable),
 *   - "INVALID_ADDRESS": source or destination cannot be sent (not retryable).
 *
 * `maybeAccepted` is true when the SMSC may have taken (part of) the message although
 * we got no success answer: the request was on the wire when it timed out or the link
 * dropped, or an earlier part of a multipart message was accepted. A retry then may
 * deliver a (part of the) message twice; a caller that must never duplicate can
 * treat such a failure as "unknown" instead of resending.
 *
 * @example
 *   try { await client.submit(msg) } catch (e) {
 *     if (e instanceof SmppSubmitError && e.retryable) scheduleRetry();
 *   }
 */
export class SmppSubmitError extends Error {
  readonly code: string;
  readonly commandStatus?: number;
  readonly retryable: boolean;
  readonly maybeAccepted: boolean;
  constructor(
    message: string,
    init: { code: string; retryable: boolean; commandStatus?: number; maybeAccepted?: boolean; cause?: unknown },
  ) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "SmppSubmitError";
    this.code = init.code;
    this.retryable = init.retryable;
    this.maybeAccepted = init.maybeAccepted ?? false;
    if (init.commandStatus !== undefined) this.commandStatus = init.commandStatus;
  }

  /** The error for a non-zero command_status in a response. */
  static fromStatus(commandStatus: number, context: string, overrides?: StatusOverrides, maybeAccepted = false): SmppSubmitError {
    const info = describeCommandStatus(commandStatus, overrides);
    return new SmppSubmitError(`${context}: ${info.name} (0x${commandStatus.toString(16)}) ${info.description}`, {
      code: info.name,
      commandStatus,
      retryable: info.retryable,
      maybeAccepted,
    });
  }

  /** A copy with maybeAccepted set (errors are shared by all parts of a message). */
  withMaybeAccepted(maybeAccepted: boolean): SmppSubmitError {
    if (maybeAccepted === this.maybeAccepted) return this;
    const init: ConstructorParameters<typeof SmppSubmitError>[1] = { code: this.code, retryable: this.retryable, maybeAccepted };
    if (this.commandStatus !== undefined) init.commandStatus = this.commandStatus;
    return new SmppSubmitError(this.message, init);
  }
}

/**
 * The SMSC refused our bind. `retryable` is false for wrong credentials
 * (ESME_RINVPASWD, ESME_RINVSYSID): the client still retries with backoff, in case
 * the account is fixed on the SMSC side, but someone has to look.
 */
export class SmppBindError extends Error {
  readonly code: string;
  readonly commandStatus: number;
  readonly retryable: boolean;
  constructor(commandStatus: number, systemId: string) {
    const info = describeCommandStatus(commandStatus);
    const auth = AUTH_STATUSES.has(commandStatus);
    super(
      `SMSC refused bind as "${systemId}": ${info.name} (0x${commandStatus.toString(16)}) ${info.description}` +
        (auth ? " — check the system_id and password in the SMPP URL" : ""),
    );
    this.name = "SmppBindError";
    this.code = info.name;
    this.commandStatus = commandStatus;
    this.retryable = !auth;
  }
}

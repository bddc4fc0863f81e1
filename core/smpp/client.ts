/**
 * An SMPP v3.4 ESME (client) for sending SMS through an SMSC and receiving delivery
 * receipts and mobile-originated messages, on top of the `smpp` package's framing.
 *
 * One instance = one transceiver bind. It reconnects by itself (exponential backoff
 * with jitter) after any socket error or close, detects a dead link with
 * enquire_link, limits throughput (token bucket over every submit_sm, parts count
 * each) and the number of submit_sm awaiting a response (window).
 *
 * Delivery semantics of submit(): the promise resolves once the SMSC accepted every
 * part; it rejects with SmppSubmitError (or SmsTooLongError) otherwise. The client
 * never retries a submit by itself: retries, with their backoff, belong to the
 * caller (the send job), which sees `retryable` and `maybeAccepted`.
 */
import { EventEmitter } from "node:events";
import { encodeSms, type SmsEncoding } from "../sms/encoding.ts";
import { parseDeliveryReceipt, isDeliveryReceipt, type DeliveryReceipt, type ReceiptInput } from "./dlr.ts";
import {
  decodePduMessage,
  destinationAddress,
  num,
  optNum,
  optStr,
  smpp,
  sourceAddress,
  str,
  type Pdu,
} from "./pdu.ts";
import type { Session } from "smpp";
import { SMPP_STATUS, SmppBindError, SmppSubmitError, type StatusOverrides } from "./status.ts";
import { TokenBucket } from "./token-bucket.ts";
import { parseSmppUrl, type ParsedUrl } from "./url.ts";

export interface SmppLogger {
  info(message: string, data?: object): void;
  warn(message: string, data?: object): void;
  error(message: string, data?: object): void;
  debug(message: string, data?: object): void;
}

export interface SmppClientOptions {
  /** smpp://system_id:password@host:port (percent-encode special characters); ssmpp:// for TLS. */
  url: string;
  /** bind system_type; default "". */
  systemType?: string;
  /** Maximum submit_sm per second over this bind (each part counts). May be fractional. */
  ratePerSecond: number;
  /** Maximum submit_sm awaiting their response at once. */
  window: number;
  /** How long to wait for any response (bind, submit, enquire_link, unbind). */
  responseTimeoutMs: number;
  /** Interval of our enquire_link while bound. */
  enquireLinkMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  logger?: SmppLogger;
  /** Token bucket size: submits that may go back to back after an idle spell. Default max(1, ceil(rate / 20)). */
  burst?: number;
  /** TCP connect timeout. Default 10000. */
  connectTimeoutMs?: number;
  /** After ESME_RTHROTTLED or ESME_RMSGQFUL, hold new submits this long. Default 1000; 0 disables. */
  throttlePauseMs?: number;
  /** Parts waiting for the rate limit or the window before submit() refuses with QUEUE_FULL. Default 10000. */
  maxQueued?: number;
  /** How long parts of a concatenated MO are kept waiting for the rest. Default 60000. */
  moReassemblyTimeoutMs?: number;
  /** service_type of submit_sm; default "" (SMSC default). */
  serviceType?: string;
  /** Per-SMSC retryable overrides for command_status codes (see status.ts). */
  statusOverrides?: StatusOverrides;
  /**
   * How long messages are split: "udh" (default; a 6-octet UDH in each part, esm_class
   * 0x40) or "sar" (no UDH; sar_msg_ref_num / sar_total_segments / sar_segment_seqnum
   * TLVs), for SMSCs that refuse UDH.
   */
  concatenation?: "udh" | "sar";
  /** Meaning of data_coding 0 in what the SMSC sends us. Default "GSM7". */
  defaultAlphabet?: "GSM7" | "LATIN1";
  /**
   * Awaited before answering the deliver_sm/data_sm that carried a receipt; if it
   * rejects (or takes longer than responseTimeoutMs) we answer ESME_RX_T_APPN so the
   * SMSC delivers it again. Use it to persist receipts before acknowledging them.
   */
  onDeliveryReceipt?: (receipt: DeliveryReceipt) => Promise<void>;
  /** Like onDeliveryReceipt, for mobile-originated messages (awaited on the part that completes the message). */
  onMobileOriginated?: (message: MobileOriginatedMessage) => Promise<void>;
}

export type SmppClientState = "connecting" | "bound" | "disconnected" | "closed";

export interface SubmitRequest {
  /** Sender: a short code ("74747"), an alphanumeric id, or an international number. */
  from: string;
  /** Recipient in international format: "+9665XXXXXXXX" or "9665XXXXXXXX". */
  to: string;
  text: string;
  /** Refuse (SmsTooLongError) texts needing more parts. */
  maxParts: number;
  /** registered_delivery 1 on every part (default true): one receipt per part id. */
  requestDeliveryReceipt?: boolean;
  /** Relative validity period: the SMSC gives up delivering after this many minutes (1..99 days). Default: the SMSC's. */
  validityMinutes?: number;
}

export interface SubmitResult {
  /** The SMSC's message id of each part, in part order. */
  messageIds: string[];
  encoding: SmsEncoding;
  partCount: number;
}

export interface MobileOriginatedMessage {
  from: string;
  to: string;
  text: string;
  /** When the first part arrived. */
  receivedAt: Date;
  partCount: number;
  /** True when some parts never came (emitted after moReassemblyTimeoutMs or at close). */
  incomplete?: boolean;
}

export interface SmppClientCounters {
  /** submit_sm accepted by the SMSC (parts). */
  submitted: number;
  /** Messages whose every part was accepted. */
  messages: number;
  /** Messages rejected (any reason). */
  failed: number;
  /** ESME_RTHROTTLED answers. */
  throttled: number;
  /** submit_sm without response in time. */
  timeouts: number;
  /** submit_sm rejected because the link went down or was not up. */
  linkDown: number;
  receipts: number;
  mobileOriginated: number;
  /** Successful binds. */
  binds: number;
  /** Refused binds. */
  bindFailures: number;
  /** Reconnection attempts. */
  reconnects: number;
  /** Links declared dead for a missing enquire_link_resp. */
  enquireLinkTimeouts: number;
}

export interface SmppClientEvents {
  state: [SmppClientState];
  deliveryReceipt: [DeliveryReceipt];
  mobileOriginated: [MobileOriginatedMessage];
  /** Bind refusals (SmppBindError). Emitted only when someone listens. */
  error: [Error];
}

const NOOP_LOGGER: SmppLogger = { info() {}, warn() {}, error() {}, debug() {} };
const ESME_RTHROTTLED = SMPP_STATUS.ESME_RTHROTTLED!;
const ESME_RMSGQFUL = SMPP_STATUS.ESME_RMSGQFUL!;
const ESME_RINVBNDSTS = SMPP_STATUS.ESME_RINVBNDSTS!;
const ESME_RX_T_APPN = SMPP_STATUS.ESME_RX_T_APPN!;
const ESME_RINVCMDID = SMPP_STATUS.ESME_RINVCMDID!;
const ESME_RUNKNOWNERR = SMPP_STATUS.ESME_RUNKNOWNERR!;
const MAX_SEQUENCE = 0x7fffffff;

interface Pending {
  command: string;
  resolve(pdu: Pdu): void;
  reject(err: SmppSubmitError): void;
  timer: NodeJS.Timeout;
}

/** One TCP connection and its bind. A new one per (re)connection; stale events check `torn`. */
interface Connection {
  id: number;
  session: Session;
  sequence: number;
  pending: Map<number, Pending>;
  bound: boolean;
  torn: boolean;
  /** Resolves when the socket has closed and the connection is torn down. */
  closed: Promise<void>;
  markClosed(): void;
  connectTimer?: NodeJS.Timeout;
  enquireTimer?: NodeJS.Timeout;
  enquireInFlight: boolean;
}

interface MessageJob {
  ids: string[];
  remaining: number;
  settled: boolean;
  anyAccepted: boolean;
  encoding: SmsEncoding;
  partCount: number;
  to: string;
  resolve(result: SubmitResult): void;
  reject(err: Error): void;
}

interface PartJob {
  message: MessageJob;
  index: number;
  fields: Record<string, unknown>;
}

interface MoAssembly {
  from: string;
  to: string;
  total: number;
  parts: Map<number, string>;
  receivedAt: Date;
  timer: NodeJS.Timeout;
}

/**
 * SMPP relative time "YYMMDDhhmmss000R" for a number of minutes (at most 99 days).
 *
 * @example
 *   relativeValidity(90) // "000000013000000R"
 */
export function relativeValidity(minutes: number): string {
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 99 * 1440) {
    throw new RangeError(`validityMinutes must be an integer 1..${99 * 1440}, got ${minutes}`);
  }
  const p = (n: number): string => String(n).padStart(2, "0");
  return `0000${p(Math.floor(minutes / 1440))}${p(Math.floor((minutes % 1440) / 60))}${p(minutes % 60)}00000R`;
}

function positive(name: string, v: number, integer = false): void {
  if (!(typeof v === "number" && Number.isFinite(v) && v > 0) || (integer && !Number.isInteger(v))) {
    throw new RangeError(`SmppClient option ${name} must be a positive ${integer ? "integer" : "number"}, got ${v}`);
  }
}

const linkDown = (message: string, maybeAccepted = false): SmppSubmitError =>
  new SmppSubmitError(message, { code: "LINK_DOWN", retryable: true, maybeAccepted });

/**
 * SMPP v3.4 transceiver client.
 *
 * @example
 *   const client = new SmppClient({
 *     url: "smpp://taqib:secret@127.0.0.1:2775",
 *     ratePerSecond: 50, window: 10, responseTimeoutMs: 10_000, enquireLinkMs: 30_000,
 *     reconnectMinMs: 1_000, reconnectMaxMs: 60_000,
 *   });
 *   client.on("deliveryReceipt", (r) => console.log(r.messageId, r.status));
 *   await client.start();
 *   const { messageIds } = await client.submit({ from: "74747", to: "+966500000001", text: "مرحبا", maxParts: 5 });
 *   await client.close({ timeoutMs: 5_000 });
 */
export class SmppClient extends EventEmitter<SmppClientEvents> {
  private readonly opts: Required<Omit<SmppClientOptions, "logger" | "statusOverrides" | "onDeliveryReceipt" | "onMobileOriginated">> &
    Pick<SmppClientOptions, "statusOverrides" | "onDeliveryReceipt" | "onMobileOriginated">;
  private readonly target: ParsedUrl;
  private readonly log: SmppLogger;
  private readonly bucket: TokenBucket;

  private _state: SmppClientState = "disconnected";
  private conn: Connection | undefined;
  private connectionCount = 0;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private started = false;
  private closing = false;
  private closePromise: Promise<void> | undefined;
  private startWaiters: Array<{ resolve(): void; reject(err: Error): void }> = [];

  private queue: PartJob[] = [];
  private inFlightSubmits = 0;
  private pumpTimer: NodeJS.Timeout | undefined;
  private pumpAt = 0;
  private pausedUntil = 0;
  private drainWaiters: Array<() => void> = [];
  private reference = Math.floor(Math.random() * 256);
  private readonly mo = new Map<string, MoAssembly>();
  private readonly _counters: SmppClientCounters = {
    submitted: 0,
    messages: 0,
    failed: 0,
    throttled: 0,
    timeouts: 0,
    linkDown: 0,
    receipts: 0,
    mobileOriginated: 0,
    binds: 0,
    bindFailures: 0,
    reconnects: 0,
    enquireLinkTimeouts: 0,
  };

  constructor(options: SmppClientOptions) {
    super();
    this.target = parseSmppUrl(options.url);
    positive("ratePerSecond", options.ratePerSecond);
    positive("window", options.window, true);
    positive("responseTimeoutMs", options.responseTimeoutMs);
    positive("enquireLinkMs", options.enquireLinkMs);
    positive("reconnectMinMs", options.reconnectMinMs);
    positive("reconnectMaxMs", options.reconnectMaxMs);
    if (options.reconnectMaxMs < options.reconnectMinMs) throw new RangeError("reconnectMaxMs must be >= reconnectMinMs");
    this.opts = {
      url: options.url,
      systemType: options.systemType ?? "",
      ratePerSecond: options.ratePerSecond,
      window: options.window,
      responseTimeoutMs: options.responseTimeoutMs,
      enquireLinkMs: options.enquireLinkMs,
      reconnectMinMs: options.reconnectMinMs,
      reconnectMaxMs: options.reconnectMaxMs,
      burst: options.burst ?? Math.max(1, Math.ceil(options.ratePerSecond / 20)),
      connectTimeoutMs: options.connectTimeoutMs ?? 10_000,
      throttlePauseMs: options.throttlePauseMs ?? 1_000,
      maxQueued: options.maxQueued ?? 10_000,
      moReassemblyTimeoutMs: options.moReassemblyTimeoutMs ?? 60_000,
      serviceType: options.serviceType ?? "",
      defaultAlphabet: options.defaultAlphabet ?? "GSM7",
      concatenation: options.concatenation ?? "udh",
      statusOverrides: options.statusOverrides,
      onDeliveryReceipt: options.onDeliveryReceipt,
      onMobileOriginated: options.onMobileOriginated,
    };
    positive("burst", this.opts.burst);
    this.log = options.logger ?? NOOP_LOGGER;
    this.bucket = new TokenBucket(this.opts.ratePerSecond, this.opts.burst);
    // SMPP 3.4 field sizes (including the NUL); many SMSCs accept more, so only warn.
    if (this.target.systemId.length > 15) this.log.warn("smpp system_id longer than SMPP 3.4 allows (15)", { systemId: this.target.systemId });
    if (this.target.password.length > 8) this.log.warn("smpp password longer than SMPP 3.4 allows (8)");
  }

  /** connecting | bound | disconnected | closed. */
  get state(): SmppClientState {
    return this._state;
  }

  /** submit_sm sent and awaiting their response. */
  get inFlight(): number {
    return this.inFlightSubmits;
  }

  /** Parts waiting for the rate limit or the window. */
  get queued(): number {
    return this.queue.length;
  }

  /** A snapshot of the counters. */
  get counters(): SmppClientCounters {
    return { ...this._counters };
  }

  /** Where this client connects (no password), for logs and health pages. */
  get endpoint(): string {
    return `${this.target.tls ? "ssmpp" : "smpp"}://${this.target.systemId}@${this.target.host}:${this.target.port}`;
  }

  /**
   * Connects and binds. Resolves at the first successful bind; rejects with
   * SmppBindError when the SMSC refuses the bind (the client keeps retrying with
   * backoff in the background until close()). A network failure does not reject: the
   * client keeps reconnecting and the promise resolves when it binds.
   */
  start(): Promise<void> {
    if (this.closing) return Promise.reject(new Error("SmppClient is closed"));
    if (this._state === "bound") return Promise.resolve();
    const p = new Promise<void>((resolve, reject) => this.startWaiters.push({ resolve, reject }));
    if (!this.started) {
      this.started = true;
      this.connect();
    }
    return p;
  }

  /**
   * Sends one SMS (one submit_sm per part). See SmppSubmitError for the failure codes.
   * The parts go out in order, each through the rate limit and the window. If a part
   * fails the message is rejected and its remaining unsent parts are dropped; parts
   * already accepted stay accepted, so a retry of the whole message can deliver them
   * twice (the error then has maybeAccepted = true).
   */
  submit(request: SubmitRequest): Promise<SubmitResult> {
    if (this.closing) return this.refuse(linkDown("SMPP client is closing"));
    let fields: Record<string, unknown>;
    let sms: ReturnType<typeof encodeSms>;
    const reference = (this.reference = (this.reference + 1) & 0xff);
    try {
      // Permanent problems first, so a bad message is not reported as a retryable LINK_DOWN.
      const src = sourceAddress(request.from);
      const dst = destinationAddress(request.to);
      sms = encodeSms(request.text, { maxParts: request.maxParts, reference });
      fields = {
        service_type: this.opts.serviceType,
        source_addr_ton: src.ton,
        source_addr_npi: src.npi,
        source_addr: src.addr,
        dest_addr_ton: dst.ton,
        dest_addr_npi: dst.npi,
        destination_addr: dst.addr,
        esm_class: sms.partCount > 1 ? 0x40 : 0x00,
        protocol_id: 0,
        priority_flag: 0,
        schedule_delivery_time: "",
        validity_period: request.validityMinutes === undefined ? "" : relativeValidity(request.validityMinutes),
        registered_delivery: request.requestDeliveryReceipt === false ? 0 : 1,
        replace_if_present_flag: 0,
        data_coding: sms.dataCoding,
        sm_default_msg_id: 0,
      };
    } catch (err) {
      this._counters.failed++;
      return Promise.reject(err);
    }
    if (!this.conn?.bound) return this.refuse(linkDown(`SMPP link is not bound (${this._state})`));
    if (this.queue.length + sms.partCount > this.opts.maxQueued) {
      this._counters.failed++;
      return Promise.reject(
        new SmppSubmitError(`SMPP client queue is full (${this.queue.length} parts waiting)`, { code: "QUEUE_FULL", retryable: true }),
      );
    }
    return new Promise<SubmitResult>((resolve, reject) => {
      const message: MessageJob = {
        ids: new Array<string>(sms.partCount).fill(""),
        remaining: sms.partCount,
        settled: false,
        anyAccepted: false,
        encoding: sms.encoding,
        partCount: sms.partCount,
        to: String(fields.destination_addr),
        resolve,
        reject,
      };
      const sar = this.opts.concatenation === "sar" && sms.partCount > 1;
      sms.parts.forEach((payload, index) => {
        const part: Record<string, unknown> = { ...fields, short_message: payload };
        if (sar) {
          // Same segmentation, the concatenation moved from the UDH (6 octets) to TLVs.
          part.short_message = payload.subarray(6);
          part.esm_class = 0x00;
          part.sar_msg_ref_num = reference;
          part.sar_total_segments = sms.partCount;
          part.sar_segment_seqnum = index + 1;
        }
        this.queue.push({ message, index, fields: part });
      });
      this.pump();
    });
  }

  /**
   * Stops: refuses new submits (LINK_DOWN), drops queued parts (LINK_DOWN), waits for
   * in-flight responses, unbinds and closes the socket, all within timeoutMs; no
   * reconnection afterwards. Idempotent.
   */
  close(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.closing = true;
    const timeoutMs = options.timeoutMs ?? 5_000;
    this.closePromise = this.doClose(timeoutMs);
    return this.closePromise;
  }

  // ---------------------------------------------------------------- connection

  private setState(state: SmppClientState): void {
    if (this._state === state) return;
    this._state = state;
    this.log.debug(`smpp state ${state}`, { endpoint: this.endpoint });
    this.safeEmit("state", state);
  }

  /** Emits without letting a listener's exception reach the socket reader. */
  private safeEmit<K extends keyof SmppClientEvents>(event: K, ...args: SmppClientEvents[K]): void {
    try {
      (this.emit as (e: K, ...a: SmppClientEvents[K]) => boolean)(event, ...args);
    } catch (err) {
      this.log.error(`smpp "${String(event)}" listener threw`, { error: String(err) });
    }
  }

  private connect(): void {
    if (this.closing) return;
    this.setState("connecting");
    const id = ++this.connectionCount;
    let markClosed!: () => void;
    const closed = new Promise<void>((r) => (markClosed = r));
    let session: Session;
    try {
      session = smpp.connect({ host: this.target.host, port: this.target.port, tls: this.target.tls });
    } catch (err) {
      this.log.warn("smpp connect failed", { error: String(err) });
      this.setState("disconnected");
      this.scheduleReconnect();
      return;
    }
    const conn: Connection = { id, session, sequence: 0, pending: new Map(), bound: false, torn: false, closed, markClosed, enquireInFlight: false };
    this.conn = conn;
    this.log.info(`smpp connecting to ${this.endpoint}`, { connection: id });

    conn.connectTimer = setTimeout(() => {
      this.log.warn(`smpp connect to ${this.endpoint} timed out`, { connection: id });
      session.destroy();
    }, this.opts.connectTimeoutMs);
    session.on("connect", () => {
      clearTimeout(conn.connectTimer);
      session.socket.setNoDelay(true);
      session.socket.setKeepAlive(true, 30_000);
      this.bind(conn);
    });
    session.on("pdu", (pdu: Pdu) => {
      try {
        this.onPdu(conn, pdu);
      } catch (err) {
        this.log.error("smpp PDU handling failed", { command: pdu.command, error: String(err) });
      }
    });
    session.on("error", (err: Error) => {
      this.log.warn(`smpp connection error: ${err.message}`, { connection: id });
      session.destroy();
    });
    session.on("close", () => this.teardown(conn));
  }

  private bind(conn: Connection): void {
    const pdu = new smpp.PDU("bind_transceiver", {
      system_id: this.target.systemId,
      password: this.target.password,
      system_type: this.opts.systemType,
      interface_version: 0x34,
      addr_ton: 0,
      addr_npi: 0,
      address_range: "",
    });
    this.request(conn, pdu).then(
      (resp) => {
        if (conn.torn) return;
        if (resp.command_status === 0) {
          conn.bound = true;
          this.attempt = 0;
          this._counters.binds++;
          this.log.info(`smpp bound to ${this.endpoint} as transceiver`, { connection: conn.id, smsc: str(resp.system_id) });
          this.setState("bound");
          this.startEnquireLink(conn);
          for (const w of this.startWaiters.splice(0)) w.resolve();
          this.pump();
          return;
        }
        const err = new SmppBindError(resp.command_status, this.target.systemId);
        this._counters.bindFailures++;
        this.log.error(err.message, { connection: conn.id });
        for (const w of this.startWaiters.splice(0)) w.reject(err);
        if (this.listenerCount("error") > 0) this.safeEmit("error", err);
        conn.session.destroy();
      },
      (err: Error) => {
        if (conn.torn) return;
        this.log.warn(`smpp bind got no answer: ${err.message}`, { connection: conn.id });
        conn.session.destroy();
      },
    );
  }

  private teardown(conn: Connection): void {
    if (conn.torn) return;
    conn.torn = true;
    const wasBound = conn.bound;
    conn.bound = false;
    clearTimeout(conn.connectTimer);
    clearInterval(conn.enquireTimer);
    for (const p of conn.pending.values()) {
      clearTimeout(p.timer);
      p.reject(linkDown(`SMPP link lost while waiting for ${p.command}_resp`, true));
    }
    conn.pending.clear();
    if (this.conn === conn) this.conn = undefined;
    this.failQueued(linkDown(this.closing ? "SMPP client is closing" : "SMPP link lost before the part was sent"));
    conn.markClosed();
    if (this.closing) return;
    if (wasBound) this.log.warn(`smpp link to ${this.endpoint} closed`, { connection: conn.id });
    this.setState("disconnected");
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.closing || this.reconnectTimer) return;
    const cap = Math.min(this.opts.reconnectMaxMs, this.opts.reconnectMinMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    // "Equal jitter": half fixed, half random, so clients that dropped together spread out.
    const delay = Math.round(cap / 2 + (Math.random() * cap) / 2);
    this.log.info(`smpp reconnecting in ${delay} ms`, { attempt: this.attempt });
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this._counters.reconnects++;
      this.connect();
    }, delay);
  }

  private startEnquireLink(conn: Connection): void {
    conn.enquireTimer = setInterval(() => {
      if (conn.torn || !conn.bound || conn.enquireInFlight) return;
      conn.enquireInFlight = true;
      this.request(conn, new smpp.PDU("enquire_link")).then(
        () => {
          conn.enquireInFlight = false;
        },
        (err: SmppSubmitError) => {
          conn.enquireInFlight = false;
          if (conn.torn || err.code !== "TIMEOUT") return;
          this._counters.enquireLinkTimeouts++;
          this.log.warn(`smpp enquire_link unanswered for ${this.opts.responseTimeoutMs} ms: link is dead, reconnecting`, { connection: conn.id });
          conn.session.destroy();
        },
      );
    }, this.opts.enquireLinkMs);
  }

  /** Sends a request and resolves with its response (whatever its status); rejects TIMEOUT or LINK_DOWN. */
  private request(conn: Connection, pdu: Pdu, timeoutMs = this.opts.responseTimeoutMs): Promise<Pdu> {
    return new Promise<Pdu>((resolve, reject) => {
      if (conn.torn) return reject(linkDown(`SMPP link is down, ${pdu.command} not sent`));
      conn.sequence = conn.sequence >= MAX_SEQUENCE ? 1 : conn.sequence + 1;
      const seq = conn.sequence;
      pdu.sequence_number = seq;
      const timer = setTimeout(() => {
        conn.pending.delete(seq);
        reject(
          new SmppSubmitError(`no ${pdu.command}_resp within ${timeoutMs} ms`, { code: "TIMEOUT", retryable: true, maybeAccepted: true }),
        );
      }, timeoutMs);
      conn.pending.set(seq, { command: pdu.command, resolve, reject, timer });
      if (!conn.session.send(pdu)) {
        clearTimeout(timer);
        conn.pending.delete(seq);
        reject(linkDown(`SMPP socket not writable, ${pdu.command} not sent`));
      }
    });
  }

  private respond(conn: Connection, pdu: Pdu): void {
    if (!conn.torn && !conn.session.send(pdu)) this.log.warn(`smpp could not send ${pdu.command}`, { connection: conn.id });
  }

  // ---------------------------------------------------------------- incoming

  private onPdu(conn: Connection, pdu: Pdu): void {
    if (conn.torn) return;
    if (pdu.isResponse()) {
      const p = conn.pending.get(pdu.sequence_number);
      if (!p) {
        this.log.debug(`smpp ${pdu.command} for unknown sequence ${pdu.sequence_number} (late or duplicate)`, { connection: conn.id });
        return;
      }
      conn.pending.delete(pdu.sequence_number);
      clearTimeout(p.timer);
      if (pdu.command !== `${p.command}_resp` && pdu.command !== "generic_nack") {
        this.log.warn(`smpp got ${pdu.command} for ${p.command}`, { sequence: pdu.sequence_number });
      }
      p.resolve(pdu);
      return;
    }
    switch (pdu.command) {
      case "enquire_link":
        this.respond(conn, pdu.response());
        return;
      case "unbind":
        this.log.info("smpp SMSC asked to unbind", { connection: conn.id });
        conn.bound = false;
        this.respond(conn, pdu.response());
        conn.session.close();
        // If the SMSC keeps its half of the socket open, do not wait for ever.
        setTimeout(() => conn.session.destroy(), this.opts.responseTimeoutMs).unref();
        return;
      case "deliver_sm":
      case "data_sm":
        void this.onDeliver(conn, pdu);
        return;
      case "alert_notification":
      case "outbind":
        return; // no response defined
      case "unknown":
        this.respond(conn, pdu.response()); // generic_nack ESME_RINVCMDID
        return;
      default:
        this.respond(conn, pdu.response({ command_status: ESME_RINVCMDID }));
    }
  }

  private async onDeliver(conn: Connection, pdu: Pdu): Promise<void> {
    let status = 0;
    try {
      const esmType = num(pdu.esm_class) & 0x3c;
      const receiptLike = esmType === 0x04 || esmType === 0x20 || optStr(pdu.receipted_message_id) !== undefined;
      // Receipt texts are ASCII even under data_coding 0: read as GSM, "_" in an id would become "§".
      const decoded = decodePduMessage(pdu, { defaultAlphabet: receiptLike ? "LATIN1" : this.opts.defaultAlphabet });
      const input: ReceiptInput = {
        esmClass: num(pdu.esm_class),
        text: decoded.text,
        sourceAddr: str(pdu.source_addr),
        destinationAddr: str(pdu.destination_addr),
      };
      const receiptedId = optStr(pdu.receipted_message_id);
      if (receiptedId !== undefined) input.receiptedMessageId = receiptedId;
      const state = optNum(pdu.message_state);
      if (state !== undefined) input.messageState = state;
      if (Buffer.isBuffer(pdu.network_error_code)) input.networkErrorCode = pdu.network_error_code;

      if (isDeliveryReceipt(input)) {
        const receipt = parseDeliveryReceipt(input);
        if (!receipt) {
          this.log.warn("smpp receipt without message id ignored", { text: decoded.text });
        } else {
          this._counters.receipts++;
          this.log.debug("smpp delivery receipt", { messageId: receipt.messageId, state: receipt.state });
          this.safeEmit("deliveryReceipt", receipt);
          if (this.opts.onDeliveryReceipt) await this.withTimeout(this.opts.onDeliveryReceipt(receipt), "onDeliveryReceipt");
        }
      } else {
        const mo = this.collectMo(input.sourceAddr ?? "", input.destinationAddr ?? "", decoded.text, decoded.concat);
        if (mo) await this.deliverMo(mo);
      }
    } catch (err) {
      // Temporary application error: the SMSC keeps the message and delivers it again.
      this.log.error(`smpp ${pdu.command} processing failed, answering ESME_RX_T_APPN`, { error: String(err) });
      status = ESME_RX_T_APPN;
    }
    this.respond(conn, status === 0 ? pdu.response({ message_id: "" }) : pdu.response({ command_status: status }));
  }

  private async withTimeout(p: Promise<void>, name: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        p,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`${name} took longer than ${this.opts.responseTimeoutMs} ms`)), this.opts.responseTimeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Adds an MO part; returns the whole message once complete (or at once when not concatenated). */
  private collectMo(
    from: string,
    to: string,
    text: string,
    concat: { reference: number; total: number; seq: number; referenceBits: 8 | 16 } | undefined,
  ): MobileOriginatedMessage | undefined {
    if (!concat || concat.total <= 1) return { from, to, text, receivedAt: new Date(), partCount: 1 };
    const key = `${from}\u0000${to}\u0000${concat.referenceBits}:${concat.reference}:${concat.total}`;
    let entry = this.mo.get(key);
    if (!entry) {
      const created: MoAssembly = {
        from,
        to,
        total: concat.total,
        parts: new Map(),
        receivedAt: new Date(),
        timer: setTimeout(() => {
          this.mo.delete(key);
          this.log.warn("smpp concatenated MO incomplete after timeout, delivering what arrived", {
            from,
            parts: created.parts.size,
            total: created.total,
          });
          void this.deliverMo(this.assembled(created, true)).catch((err) =>
            this.log.error("smpp onMobileOriginated failed for an incomplete MO", { error: String(err) }),
          );
        }, this.opts.moReassemblyTimeoutMs),
      };
      entry = created;
      this.mo.set(key, entry);
    }
    entry.parts.set(concat.seq, text);
    if (entry.parts.size < entry.total) return undefined;
    clearTimeout(entry.timer);
    this.mo.delete(key);
    return this.assembled(entry, false);
  }

  private assembled(entry: MoAssembly, incomplete: boolean): MobileOriginatedMessage {
    const seqs = [...entry.parts.keys()].sort((a, b) => a - b);
    const msg: MobileOriginatedMessage = {
      from: entry.from,
      to: entry.to,
      text: seqs.map((s) => entry.parts.get(s)).join(""),
      receivedAt: entry.receivedAt,
      partCount: entry.total,
    };
    if (incomplete) msg.incomplete = true;
    return msg;
  }

  private async deliverMo(mo: MobileOriginatedMessage): Promise<void> {
    this._counters.mobileOriginated++;
    this.log.debug("smpp mobile-originated message", { from: mo.from, to: mo.to, parts: mo.partCount });
    this.safeEmit("mobileOriginated", mo);
    if (this.opts.onMobileOriginated) await this.withTimeout(this.opts.onMobileOriginated(mo), "onMobileOriginated");
  }

  // ---------------------------------------------------------------- submitting

  private refuse(err: SmppSubmitError): Promise<never> {
    this._counters.failed++;
    if (err.code === "LINK_DOWN") this._counters.linkDown++;
    return Promise.reject(err);
  }

  /** Sends queued parts while the link is bound, the window has room and the rate allows. */
  private pump(): void {
    while (this.queue.length > 0) {
      const conn = this.conn;
      if (!conn?.bound || this.closing) return;
      const job = this.queue[0]!;
      if (job.message.settled) {
        this.queue.shift(); // a previous part failed: the rest of the message is not sent
        continue;
      }
      if (this.inFlightSubmits >= this.opts.window) return; // a response will pump again
      const now = Date.now();
      if (this.pausedUntil > now) return this.wakeIn(this.pausedUntil - now);
      const wait = this.bucket.take();
      if (wait > 0) return this.wakeIn(wait);
      this.queue.shift();
      this.sendPart(conn, job);
    }
  }

  private wakeIn(ms: number): void {
    const at = Date.now() + ms;
    if (this.pumpTimer && this.pumpAt <= at) return;
    clearTimeout(this.pumpTimer);
    this.pumpAt = at;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = undefined;
      this.pump();
    }, ms);
  }

  private sendPart(conn: Connection, job: PartJob): void {
    const { message, index } = job;
    const pdu = new smpp.PDU("submit_sm", job.fields);
    this.inFlightSubmits++;
    const context = `submit_sm part ${index + 1}/${message.partCount} to ${message.to}`;
    this.request(conn, pdu)
      .then(
        (resp) => {
          if (resp.command_status === 0 && resp.command === "submit_sm_resp") {
            this._counters.submitted++;
            message.anyAccepted = true;
            message.ids[index] = str(resp.message_id);
            if (!message.ids[index]) this.log.warn("smpp submit_sm_resp without message_id", { to: message.to });
            if (--message.remaining === 0 && !message.settled) {
              message.settled = true;
              this._counters.messages++;
              message.resolve({ messageIds: message.ids, encoding: message.encoding, partCount: message.partCount });
            }
            return;
          }
          const status = resp.command_status || ESME_RUNKNOWNERR; // a generic_nack with status 0 is still a refusal
          if (status === ESME_RTHROTTLED) this._counters.throttled++;
          if ((status === ESME_RTHROTTLED || status === ESME_RMSGQFUL) && this.opts.throttlePauseMs > 0) {
            this.pausedUntil = Math.max(this.pausedUntil, Date.now() + this.opts.throttlePauseMs);
          }
          if (status === ESME_RINVBNDSTS && !conn.torn) {
            this.log.warn("smpp SMSC says we are not bound: rebinding", { connection: conn.id });
            conn.session.destroy();
          }
          this.failMessage(message, SmppSubmitError.fromStatus(status, context, this.opts.statusOverrides));
        },
        (err: SmppSubmitError) => {
          if (err.code === "TIMEOUT") {
            this._counters.timeouts++;
            this.log.warn(`smpp ${context}: no response within ${this.opts.responseTimeoutMs} ms`);
          } else if (err.code === "LINK_DOWN") {
            this._counters.linkDown++;
          }
          this.failMessage(message, err);
        },
      )
      .finally(() => {
        this.inFlightSubmits--;
        if (this.inFlightSubmits === 0) for (const w of this.drainWaiters.splice(0)) w();
        this.pump();
      });
  }

  private failMessage(message: MessageJob, err: SmppSubmitError): void {
    if (message.settled) return;
    message.settled = true;
    this._counters.failed++;
    message.reject(err.withMaybeAccepted(err.maybeAccepted || message.anyAccepted));
  }

  private failQueued(err: SmppSubmitError): void {
    const jobs = this.queue.splice(0);
    for (const job of jobs) {
      if (!job.message.settled) this._counters.linkDown++;
      this.failMessage(job.message, err);
    }
    clearTimeout(this.pumpTimer);
    this.pumpTimer = undefined;
  }

  // ---------------------------------------------------------------- closing

  private async doClose(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const left = (): number => Math.max(1, deadline - Date.now());
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    this.failQueued(linkDown("SMPP client is closing"));
    for (const w of this.startWaiters.splice(0)) w.reject(new Error("SmppClient closed before it could bind"));

    const conn = this.conn;
    if (conn && !conn.torn) {
      if (conn.bound) {
        if (this.inFlightSubmits > 0) {
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, left() / 2);
            this.drainWaiters.push(() => {
              clearTimeout(timer);
              resolve();
            });
          });
        }
        clearInterval(conn.enquireTimer);
        if (!conn.torn) {
          try {
            await this.request(conn, new smpp.PDU("unbind"), left());
            this.log.info("smpp unbound", { connection: conn.id });
          } catch (err) {
            this.log.warn(`smpp unbind: ${(err as Error).message}`, { connection: conn.id });
          }
        }
        conn.session.close(); // graceful FIN after the unbind_resp
      } else {
        conn.session.destroy();
      }
      const timer = setTimeout(() => conn.session.destroy(), left());
      await conn.closed;
      clearTimeout(timer);
    }
    for (const [key, entry] of this.mo) {
      clearTimeout(entry.timer);
      this.mo.delete(key);
      this.safeEmit("mobileOriginated", this.assembled(entry, true));
    }
    this.setState("closed");
  }
}

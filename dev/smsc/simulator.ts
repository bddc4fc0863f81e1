/**
 * An SMSC simulator: a real SMPP v3.4 server over TCP for development and tests.
 *
 * It binds ESMEs (transmitter, receiver, transceiver) with one system_id/password,
 * accepts submit_sm (and data_sm), assigns hex message ids, reassembles concatenated
 * messages (UDH 8/16-bit reference, or SAR TLVs), sends delivery receipts, and can
 * send mobile-originated messages. Behaviours for tests: throttling, queue full,
 * silence, ignored enquire_link, dropped connections.
 *
 * Receipts deliberately carry the id in DECIMAL in their text and in HEX in the
 * receipted_message_id TLV (the submit_sm_resp id), the mismatch real SMSCs produce.
 */
import { EventEmitter } from "node:events";
import type { Session, Server } from "smpp";
import { encodeSms, type ConcatInfo, type DecodedAlphabet } from "../../core/sms/encoding.ts";
import { decodePduMessage, num, payloadOf, smpp, str, type Pdu } from "../../core/smpp/pdu.ts";
import { SMPP_STATUS } from "../../core/smpp/status.ts";
import { maskLogText } from "../../core/platform/logging.ts";

export interface SmscSimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default) = a free port; start() tells which. */
  port?: number;
  systemId: string;
  password: string;
  /** Delay between accepting a message and sending its receipts. */
  dlrDelayMs: number;
  /** Share (0..1) of messages whose receipts say UNDELIV. */
  failureShare: number;
  /** submit_sm accepted per second (sliding window, all sessions); above: ESME_RTHROTTLED. */
  maxPerSecond: number;
  /**
   * One readable line per event (bind, message, MO...), with mobiles masked and, unless
   * `showText`, a message's length and encoding instead of its text (SMS texts carry
   * citizens' names and transaction details).
   */
  log?: (line: string) => void;
  /** Print message texts in the log, for local debugging only (`SMSC_SHOW_TEXT=1`). */
  showText?: boolean;
  /** How long parts of a concatenated message wait for the rest. Default 60000. */
  reassemblyTimeoutMs?: number;
}

export interface SmscBehaviour {
  /** Answer every submit_sm with ESME_RTHROTTLED. */
  throttleAll: boolean;
  /** Answer every submit_sm with ESME_RMSGQFUL. */
  queueFull: boolean;
  /** Never answer submit_sm. */
  silent: boolean;
  /** Never answer enquire_link (a dead link, as the ESME sees it). */
  ignoreEnquireLink: boolean;
  failureShare: number;
  dlrDelayMs: number;
  maxPerSecond: number;
}

export type BindMode = "transmitter" | "receiver" | "transceiver";

/** One submit_sm as received. */
export interface ReceivedPart {
  messageId: string;
  sourceAddr: string;
  sourceTon: number;
  sourceNpi: number;
  destinationAddr: string;
  destTon: number;
  destNpi: number;
  esmClass: number;
  dataCoding: number;
  registeredDelivery: number;
  /** From a validity_period (absolute or relative), when given. */
  validUntil?: Date;
  /** The short_message (or message_payload) octets, UDH included. */
  payload: Buffer;
  udh?: ConcatInfo;
  text: string;
}

/** A whole (reassembled) message. */
export interface ReceivedMessage {
  from: string;
  to: string;
  text: string;
  encoding: DecodedAlphabet;
  dataCoding: number;
  partCount: number;
  /** Concatenation reference (undefined for a single part). */
  reference?: number;
  /** Part ids (hex) in part order. */
  messageIds: string[];
  receivedAt: Date;
  systemId: string;
  parts: ReceivedPart[];
  /** True when the parts never all arrived (recorded after the reassembly timeout). */
  incomplete?: boolean;
  /** The receipt outcome chosen for it, once receipts are scheduled. */
  outcome?: "DELIVRD" | "UNDELIV";
}

export interface SmscStats {
  /** submit_sm/data_sm PDUs received, answered or not. */
  submitSmSeen: number;
  binds: number;
  bindFailures: number;
  unbinds: number;
  submits: number;
  throttled: number;
  enquireLinks: number;
  receiptsSent: number;
  moSent: number;
}

export interface SmscSimulatorEvents {
  message: [ReceivedMessage];
  bind: [{ systemId: string; mode: BindMode; session: number }];
  unbind: [{ session: number }];
  part: [ReceivedPart];
  receipt: [{ messageId: string; stat: string; session: number }];
}

interface SessionState {
  id: number;
  session: Session;
  mode?: BindMode;
  systemId?: string;
  sequence: number;
  pending: Map<number, { resolve(pdu: Pdu): void; reject(err: Error): void; timer: NodeJS.Timeout }>;
}

interface Assembly {
  parts: Map<number, ReceivedPart>;
  total: number;
  reference: number;
  receivedAt: Date;
  timer: NodeJS.Timeout;
}

interface PendingReceipt {
  systemId: string;
  pdu: Record<string, unknown>;
  messageId: string;
  stat: string;
}

const S = SMPP_STATUS as Readonly<Record<string, number>>;
const status = (name: string): number => S[name]!;

/** YYMMDDhhmm in UTC, as receipts write dates. */
function receiptDate(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${p(d.getUTCFullYear() % 100)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
}

/** Printed when a simulator shows message texts: they carry citizens' names. */
export const SHOW_TEXT_WARNING =
  "WARNING: SMSC_SHOW_TEXT=1: the SMSC simulator prints every message text, with citizens' names and transaction details. Local debugging only; never with real numbers.";

/**
 * SMSC simulator.
 *
 * @example
 *   const smsc = new SmscSimulator({ systemId: "taqib", password: "secret", dlrDelayMs: 500, failureShare: 0, maxPerSecond: 200, log: console.log });
 *   const { port } = await smsc.start();   // smpp://taqib:secret@127.0.0.1:<port>
 *   smsc.on("message", (m) => console.log(m.to, m.text));
 *   await smsc.sendMo({ from: "966500000001", to: "74747", text: "12345" });
 *   await smsc.stop();
 */
export class SmscSimulator extends EventEmitter<SmscSimulatorEvents> {
  /** Every reassembled message, oldest first. */
  readonly received: ReceivedMessage[] = [];

  private readonly options: SmscSimulatorOptions;
  private readonly initialBehaviour: SmscBehaviour;
  private behaviour: SmscBehaviour;
  private server: Server | undefined;
  private readonly states = new Map<Session, SessionState>();
  private sessionCount = 0;
  private nextId = 0xabcdef00; // hex ids with letters, to exercise hex/decimal matching
  private readonly acceptedAt: number[] = [];
  private readonly assemblies = new Map<string, Assembly>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private pendingReceipts: PendingReceipt[] = [];
  private _stats: SmscStats = SmscSimulator.emptyStats();
  private stopping: Promise<void> | undefined;

  constructor(options: SmscSimulatorOptions) {
    super();
    if (!(options.failureShare >= 0 && options.failureShare <= 1)) throw new RangeError("failureShare must be within 0..1");
    if (!(options.maxPerSecond > 0)) throw new RangeError("maxPerSecond must be positive");
    this.options = options;
    this.initialBehaviour = {
      throttleAll: false,
      queueFull: false,
      silent: false,
      ignoreEnquireLink: false,
      failureShare: options.failureShare,
      dlrDelayMs: options.dlrDelayMs,
      maxPerSecond: options.maxPerSecond,
    };
    this.behaviour = { ...this.initialBehaviour };
  }

  private static emptyStats(): SmscStats {
    return { submitSmSeen: 0, binds: 0, bindFailures: 0, unbinds: 0, submits: 0, throttled: 0, enquireLinks: 0, receiptsSent: 0, moSent: 0 };
  }

  /** Open TCP sessions (bound or not). */
  get sessions(): number {
    return this.states.size;
  }

  /** Sessions bound in any mode. */
  get boundSessions(): number {
    return [...this.states.values()].filter((s) => s.mode).length;
  }

  get stats(): SmscStats {
    return { ...this._stats };
  }

  /** The current behaviour (a copy). */
  get currentBehaviour(): SmscBehaviour {
    return { ...this.behaviour };
  }

  private log(line: string): void {
    this.options.log?.(`[smsc] ${maskLogText(line)}`);
  }

  /** A message's text for the log: only its length unless the texts were asked for. */
  private shown(text: string): string {
    return this.options.showText ? `TEXT SHOWN (SMSC_SHOW_TEXT): ${text.replace(/\r?\n/g, "⏎")}` : `${[...text].length} characters`;
  }

  /** Listens; resolves with the port. */
  start(): Promise<{ port: number }> {
    if (this.server) throw new Error("SmscSimulator already started");
    const server = smpp.createServer((session) => this.onSession(session));
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        this.server = undefined;
        reject(err);
      };
      server.once("error", onError);
      server.listen(this.options.port ?? 0, this.options.host ?? "127.0.0.1", () => {
        server.off("error", onError);
        server.on("error", (err: Error) => this.log(`server error: ${err.message}`));
        const address = server.address();
        const port = typeof address === "object" && address ? address.port : 0;
        this.log(`listening on ${this.options.host ?? "127.0.0.1"}:${port} (system_id ${this.options.systemId})`);
        resolve({ port });
      });
    });
  }

  /** Closes every session and the listener. */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    this.stopping = (async () => {
      for (const t of this.timers) clearTimeout(t);
      this.timers.clear();
      for (const a of this.assemblies.values()) clearTimeout(a.timer);
      this.assemblies.clear();
      const server = this.server;
      const closes = [...this.states.values()].map((s) => new Promise<void>((r) => s.session.destroy(() => r())));
      if (server) await Promise.all([new Promise<void>((r) => server.close(() => r())), ...closes]);
      else await Promise.all(closes);
      this.server = undefined;
      this.log("stopped");
    })();
    return this.stopping;
  }

  /** Changes behaviour for the next PDUs. */
  setBehaviour(change: Partial<SmscBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...change };
  }

  /** Destroys every TCP connection at once (like a network cut); the listener stays up. */
  dropConnections(): void {
    this.log(`dropping ${this.states.size} connection(s)`);
    for (const s of this.states.values()) s.session.destroy();
  }

  /** Forgets received messages, pending receipts and behaviour changes. */
  reset(): void {
    this.received.length = 0;
    this.behaviour = { ...this.initialBehaviour };
    this.acceptedAt.length = 0;
    this.pendingReceipts = [];
    for (const a of this.assemblies.values()) clearTimeout(a.timer);
    this.assemblies.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this._stats = SmscSimulator.emptyStats();
  }

  /** Sends enquire_link on every bound session; resolves with how many answered in time. */
  async enquireLink(timeoutMs = 2000): Promise<number> {
    const bound = [...this.states.values()].filter((s) => s.mode);
    const answers = await Promise.allSettled(bound.map((s) => this.request(s, "enquire_link", {}, timeoutMs)));
    return answers.filter((a) => a.status === "fulfilled").length;
  }

  /** Asks every bound ESME to unbind (as an SMSC does before maintenance), then closes those sessions. */
  async unbindAll(timeoutMs = 2000): Promise<number> {
    const bound = [...this.states.values()].filter((s) => s.mode);
    const answers = await Promise.allSettled(
      bound.map(async (s) => {
        s.mode = undefined;
        try {
          await this.request(s, "unbind", {}, timeoutMs);
        } finally {
          s.session.close();
        }
      }),
    );
    this.log(`asked ${bound.length} session(s) to unbind`);
    return answers.filter((a) => a.status === "fulfilled").length;
  }

  /**
   * Sends a mobile-originated message (deliver_sm, concatenated when long) to a
   * session bound as receiver or transceiver. Resolves when every part was acknowledged.
   */
  async sendMo(mo: { from: string; to: string; text: string }): Promise<void> {
    const target = [...this.states.values()].find((s) => s.mode === "receiver" || s.mode === "transceiver");
    if (!target) throw new Error("no ESME bound as receiver or transceiver");
    const sms = encodeSms(mo.text, { maxParts: 255, reference: Math.floor(Math.random() * 256) });
    const from = mo.from.replace(/^\+/, "");
    for (const payload of sms.parts) {
      const resp = await this.request(target, "deliver_sm", {
        service_type: "",
        source_addr_ton: /^\d{9,}$/.test(from) ? 1 : 0,
        source_addr_npi: /^\d{9,}$/.test(from) ? 1 : 0,
        source_addr: from,
        dest_addr_ton: /^\d{1,8}$/.test(mo.to) ? 3 : 1,
        dest_addr_npi: /^\d{1,8}$/.test(mo.to) ? 0 : 1,
        destination_addr: mo.to,
        esm_class: sms.partCount > 1 ? 0x40 : 0x00,
        protocol_id: 0,
        priority_flag: 0,
        schedule_delivery_time: "",
        validity_period: "",
        registered_delivery: 0,
        replace_if_present_flag: 0,
        data_coding: sms.dataCoding,
        sm_default_msg_id: 0,
        short_message: payload,
      });
      if (resp.command_status !== 0) throw new Error(`ESME answered deliver_sm with status 0x${resp.command_status.toString(16)}`);
    }
    this._stats.moSent++;
    this.log(`MO ${from} -> ${mo.to} (${sms.encoding}, ${sms.partCount} part${sms.partCount > 1 ? "s" : ""}): ${this.shown(mo.text)}`);
  }

  // ---------------------------------------------------------------- sessions

  private onSession(session: Session): void {
    const state: SessionState = { id: ++this.sessionCount, session, sequence: 0, pending: new Map() };
    this.states.set(session, state);
    session.on("pdu", (pdu: Pdu) => {
      try {
        this.onPdu(state, pdu);
      } catch (err) {
        this.log(`session ${state.id}: error handling ${pdu.command}: ${String(err)}`);
      }
    });
    session.on("error", (err: Error) => {
      this.log(`session ${state.id}: ${err.message}`);
      session.destroy();
    });
    session.on("close", () => {
      this.states.delete(session);
      for (const p of state.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error("session closed"));
      }
      state.pending.clear();
      if (state.mode) this.log(`session ${state.id} (${state.systemId}) closed`);
    });
  }

  private send(state: SessionState, pdu: Pdu, after?: () => void): void {
    if (!state.session.send(pdu, after ? () => after() : undefined)) this.log(`session ${state.id}: cannot send ${pdu.command}`);
  }

  private request(state: SessionState, command: string, fields: Record<string, unknown>, timeoutMs = 5000): Promise<Pdu> {
    return new Promise((resolve, reject) => {
      state.sequence = state.sequence >= 0x7fffffff ? 1 : state.sequence + 1;
      const seq = state.sequence;
      const pdu = new smpp.PDU(command, { ...fields, sequence_number: seq });
      const timer = setTimeout(() => {
        state.pending.delete(seq);
        reject(new Error(`no ${command}_resp within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      state.pending.set(seq, { resolve, reject, timer });
      if (!state.session.send(pdu)) {
        clearTimeout(timer);
        state.pending.delete(seq);
        reject(new Error(`session ${state.id} not writable`));
      }
    });
  }

  private onPdu(state: SessionState, pdu: Pdu): void {
    if (pdu.isResponse()) {
      const p = state.pending.get(pdu.sequence_number);
      if (p) {
        state.pending.delete(pdu.sequence_number);
        clearTimeout(p.timer);
        p.resolve(pdu);
      }
      return;
    }
    switch (pdu.command) {
      case "bind_transceiver":
        return this.onBind(state, pdu, "transceiver");
      case "bind_transmitter":
        return this.onBind(state, pdu, "transmitter");
      case "bind_receiver":
        return this.onBind(state, pdu, "receiver");
      case "enquire_link":
        this._stats.enquireLinks++;
        if (!this.behaviour.ignoreEnquireLink) this.send(state, pdu.response());
        return;
      case "unbind":
        this._stats.unbinds++;
        this.log(`session ${state.id} (${state.systemId ?? "unbound"}) unbind`);
        this.emit("unbind", { session: state.id });
        state.mode = undefined;
        this.send(state, pdu.response(), () => state.session.close());
        return;
      case "submit_sm":
      case "data_sm":
        return this.onSubmit(state, pdu);
      case "unknown":
        this.send(state, pdu.response());
        return;
      default:
        this.send(state, pdu.response({ command_status: status(state.mode ? "ESME_RINVCMDID" : "ESME_RINVBNDSTS") }));
    }
  }

  private onBind(state: SessionState, pdu: Pdu, mode: BindMode): void {
    if (state.mode) {
      this.send(state, pdu.response({ command_status: status("ESME_RALYBND") }));
      return;
    }
    const systemId = str(pdu.system_id);
    const refuse = systemId !== this.options.systemId ? "ESME_RINVSYSID" : str(pdu.password) !== this.options.password ? "ESME_RINVPASWD" : undefined;
    if (refuse) {
      this._stats.bindFailures++;
      this.log(`session ${state.id}: bind_${mode} as "${systemId}" refused (${refuse})`);
      // Like most SMSCs: answer, then close.
      this.send(state, pdu.response({ command_status: status(refuse) }), () => state.session.close());
      return;
    }
    state.mode = mode;
    state.systemId = systemId;
    this._stats.binds++;
    this.send(state, pdu.response({ system_id: "TAQIBSIM" }));
    this.log(`session ${state.id}: bound ${mode} as "${systemId}"`);
    this.emit("bind", { systemId, mode, session: state.id });
    if (mode !== "transmitter") this.flushPendingReceipts();
  }

  // ---------------------------------------------------------------- submit

  private withinRate(): boolean {
    const now = Date.now();
    while (this.acceptedAt.length > 0 && this.acceptedAt[0]! <= now - 1000) this.acceptedAt.shift();
    return this.acceptedAt.length < this.behaviour.maxPerSecond;
  }

  private onSubmit(state: SessionState, pdu: Pdu): void {
    const refuse = (name: string): void => this.send(state, pdu.response({ command_status: status(name) }));
    this._stats.submitSmSeen++;
    if (state.mode !== "transmitter" && state.mode !== "transceiver") return refuse("ESME_RINVBNDSTS");
    if (this.behaviour.silent) return;
    if (this.behaviour.queueFull) return refuse("ESME_RMSGQFUL");
    if (this.behaviour.throttleAll || !this.withinRate()) {
      this._stats.throttled++;
      return refuse("ESME_RTHROTTLED");
    }
    const sourceAddr = str(pdu.source_addr);
    const destinationAddr = str(pdu.destination_addr);
    if (!sourceAddr) return refuse("ESME_RINVSRCADR");
    if (!/^\+?\d{3,20}$/.test(destinationAddr)) return refuse("ESME_RINVDSTADR");
    const dataCoding = num(pdu.data_coding);
    const payload = payloadOf(pdu);
    if (dataCoding === 8 && payload.length % 2 !== 0 && (num(pdu.esm_class) & 0x40) === 0) return refuse("ESME_RINVMSGLEN");

    this.acceptedAt.push(Date.now());
    this._stats.submits++;
    const messageId = (this.nextId++).toString(16).padStart(10, "0");
    this.send(state, pdu.response({ message_id: messageId }));

    const decoded = decodePduMessage(pdu);
    const part: ReceivedPart = {
      messageId,
      sourceAddr,
      sourceTon: num(pdu.source_addr_ton),
      sourceNpi: num(pdu.source_addr_npi),
      destinationAddr,
      destTon: num(pdu.dest_addr_ton),
      destNpi: num(pdu.dest_addr_npi),
      esmClass: num(pdu.esm_class),
      dataCoding,
      registeredDelivery: num(pdu.registered_delivery),
      payload: Buffer.from(payload),
      text: decoded.text,
    };
    if (decoded.concat) part.udh = decoded.concat;
    if (pdu.validity_period instanceof Date && !Number.isNaN(pdu.validity_period.getTime())) part.validUntil = pdu.validity_period;
    this.emit("part", part);
    const systemId = state.systemId ?? "";
    if (!decoded.concat || decoded.concat.total <= 1) {
      this.complete(systemId, state.id, [part], decoded.alphabet, false, undefined);
      return;
    }
    const c = decoded.concat;
    const key = `${systemId}|${sourceAddr}|${destinationAddr}|${c.referenceBits}:${c.reference}|${c.total}`;
    let assembly = this.assemblies.get(key);
    if (!assembly) {
      const timeoutMs = this.options.reassemblyTimeoutMs ?? 60_000;
      const created: Assembly = {
        parts: new Map(),
        total: c.total,
        reference: c.reference,
        receivedAt: new Date(),
        timer: setTimeout(() => {
          this.assemblies.delete(key);
          const parts = [...created.parts.values()].sort((a, b) => a.udh!.seq - b.udh!.seq);
          this.log(`incomplete message from ${sourceAddr}: ${parts.length}/${created.total} parts after ${timeoutMs} ms`);
          this.complete(systemId, state.id, parts, decoded.alphabet, true, created.reference, created.total, created.receivedAt);
        }, timeoutMs),
      };
      created.timer.unref();
      assembly = created;
      this.assemblies.set(key, assembly);
    }
    assembly.parts.set(c.seq, part);
    if (assembly.parts.size < assembly.total) return;
    clearTimeout(assembly.timer);
    this.assemblies.delete(key);
    const parts = [...assembly.parts.values()].sort((a, b) => a.udh!.seq - b.udh!.seq);
    this.complete(systemId, state.id, parts, decoded.alphabet, false, assembly.reference, assembly.total, assembly.receivedAt);
  }

  private complete(
    systemId: string,
    sessionId: number,
    parts: ReceivedPart[],
    encoding: DecodedAlphabet,
    incomplete: boolean,
    reference: number | undefined,
    total = parts.length,
    receivedAt = new Date(),
  ): void {
    const first = parts[0]!;
    const message: ReceivedMessage = {
      from: first.sourceAddr,
      to: first.destinationAddr,
      text: parts.map((p) => p.text).join(""),
      encoding,
      dataCoding: first.dataCoding,
      partCount: total,
      messageIds: parts.map((p) => p.messageId),
      receivedAt,
      systemId,
      parts,
    };
    if (reference !== undefined) message.reference = reference;
    if (incomplete) message.incomplete = true;
    this.received.push(message);
    this.log(
      `${message.to} <- ${message.from} (${encoding}, ${total} part${total > 1 ? "s" : ""}${incomplete ? ", INCOMPLETE" : ""}): ${this.shown(message.text)}`,
    );
    this.emit("message", message);
    this.scheduleReceipts(message, sessionId);
  }

  // ---------------------------------------------------------------- receipts

  private scheduleReceipts(message: ReceivedMessage, sessionId: number): void {
    const failed = Math.random() < this.behaviour.failureShare;
    message.outcome = failed ? "UNDELIV" : "DELIVRD";
    const wanted = message.parts.filter((p) => {
      const rd = p.registeredDelivery & 0x03;
      return rd === 1 || (rd === 2 && failed) || (rd === 3 && !failed);
    });
    if (wanted.length === 0) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const done = new Date();
      for (const part of wanted) this.sendReceipt(message, part, failed, done, sessionId);
    }, this.behaviour.dlrDelayMs);
    this.timers.add(timer);
  }

  private sendReceipt(message: ReceivedMessage, part: ReceivedPart, failed: boolean, done: Date, sessionId: number): void {
    const stat = failed ? "UNDELIV" : "DELIVRD";
    const decimalId = BigInt(`0x${part.messageId}`).toString(10);
    const snippet = part.text.replace(/[^A-Za-z0-9 .,]/g, "").slice(0, 20);
    const text =
      `id:${decimalId} sub:001 dlvrd:${failed ? "000" : "001"} submit date:${receiptDate(message.receivedAt)} ` +
      `done date:${receiptDate(done)} stat:${stat} err:${failed ? "001" : "000"} text:${snippet}`;
    const fields: Record<string, unknown> = {
      service_type: "",
      source_addr_ton: part.destTon,
      source_addr_npi: part.destNpi,
      source_addr: part.destinationAddr,
      dest_addr_ton: part.sourceTon,
      dest_addr_npi: part.sourceNpi,
      destination_addr: part.sourceAddr,
      esm_class: 0x04,
      protocol_id: 0,
      priority_flag: 0,
      schedule_delivery_time: "",
      validity_period: "",
      registered_delivery: 0,
      replace_if_present_flag: 0,
      data_coding: 0,
      sm_default_msg_id: 0,
      short_message: Buffer.from(text, "ascii"), // only characters that are identical in GSM 03.38
      receipted_message_id: part.messageId,
      message_state: failed ? 5 : 2,
    };
    if (failed) fields.network_error_code = Buffer.from([3, 0x00, 0x01]);
    this.deliverReceipt({ systemId: message.systemId, pdu: fields, messageId: part.messageId, stat }, sessionId);
  }

  /** To the submitting session if it can receive, else another receiver of the account, else later. */
  private deliverReceipt(receipt: PendingReceipt, preferredSession?: number): void {
    const receivers = [...this.states.values()].filter(
      (s) => (s.mode === "receiver" || s.mode === "transceiver") && s.systemId === receipt.systemId,
    );
    const target = receivers.find((s) => s.id === preferredSession) ?? receivers[0];
    if (!target) {
      this.pendingReceipts.push(receipt);
      return;
    }
    this.request(target, "deliver_sm", receipt.pdu).then(
      (resp) => {
        if (resp.command_status === 0) {
          this._stats.receiptsSent++;
          this.emit("receipt", { messageId: receipt.messageId, stat: receipt.stat, session: target.id });
        } else {
          // The ESME could not take it now: keep it and try again a little later, as SMSCs do.
          this.log(`receipt ${receipt.messageId} refused (0x${resp.command_status.toString(16)}), retrying`);
          const t = setTimeout(() => {
            this.timers.delete(t);
            this.deliverReceipt(receipt);
          }, 1000);
          this.timers.add(t);
        }
      },
      () => {
        // No answer in time (the ESME is slow, or its link died): try again a little later
        // while a receiver is bound, else when one binds, as SMSCs do.
        const t = setTimeout(() => {
          this.timers.delete(t);
          this.deliverReceipt(receipt);
        }, 1000);
        this.timers.add(t);
      },
    );
  }

  private flushPendingReceipts(): void {
    const pending = this.pendingReceipts;
    this.pendingReceipts = [];
    for (const r of pending) this.deliverReceipt(r);
  }
}

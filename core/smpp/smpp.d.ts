// Minimal types for the `smpp` npm package (v0.5.x, CommonJS, ships no types): only
// what Taqib uses. PDU fields are the SMPP parameter names; decoded values are loose
// because the package's filters turn some of them into objects.
declare module "smpp" {
  import type { EventEmitter } from "node:events";
  import type { Server as NetServer, Socket } from "node:net";

  /** A decoded short_message / message_payload (the package's message filter). */
  export interface DecodedMessage {
    udh?: Buffer[];
    message: string | Buffer;
  }

  export interface Pdu {
    command: string;
    command_length: number;
    command_id: number;
    command_status: number;
    sequence_number: number;
    isResponse(): boolean;
    response(options?: Record<string, unknown>): Pdu;
    toBuffer(): Buffer;
    // Parameters and TLVs, by name; `unknown` because decoding varies.
    [field: string]: unknown;
  }

  export interface PduConstructor {
    new (command: string, options?: Record<string, unknown>): Pdu;
    maxLength: number;
  }

  export interface Session extends EventEmitter {
    socket: Socket;
    /** Writes a PDU; false (and no callbacks) when the socket is not writable. */
    send(pdu: Pdu, responseCallback?: (pdu: Pdu) => void, sendCallback?: (pdu: Pdu) => void): boolean;
    close(callback?: () => void): void;
    destroy(callback?: () => void): void;
    pause(): void;
    resume(): void;
  }

  export interface Server extends NetServer {
    sessions: Session[];
  }

  export interface TlvDef {
    id: number;
    tag: string;
    type: { read(buffer: Buffer, offset: number, length?: number): unknown; write(value: unknown, buffer: Buffer, offset: number): void; size(value: unknown): number };
    multiple?: boolean;
  }

  export interface MessageFilter {
    encode(this: Pdu, value: unknown): unknown;
    decode(this: Pdu, value: unknown, skipUdh?: boolean): unknown;
  }

  export interface SmppModule {
    PDU: PduConstructor;
    createServer(listener?: (session: Session) => void): Server;
    createServer(options: Record<string, unknown>, listener?: (session: Session) => void): Server;
    connect(options: { host: string; port: number; tls?: boolean; [k: string]: unknown }, listener?: () => void): Session;
    errors: Record<string, number>;
    tlvs: Record<string, TlvDef>;
    tlvsById: Record<number, TlvDef>;
    filters: { message: MessageFilter; [name: string]: MessageFilter };
    types: Record<string, unknown> & { tlv: Record<string, TlvDef["type"]> };
  }

  const smpp: SmppModule;
  export default smpp;
}

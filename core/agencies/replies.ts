// An agency's reply, from its signed webhook to a reply-received event of the transaction:
// the order of checks (brake, signature, body, the outgoing letter and whose it is), the event
// built and stored, and the delivery log. A port (ReplyStore) with the database behind it, so
// that the whole walk is unit-tested over an in-memory store.
import { clientError } from "../platform/errors.ts";
import { parseCode } from "../directory/contract.ts";
import { validateEvent, type IncomingEvent } from "../events/contract.ts";
import { storeEvents, type StoreOutcome } from "../events/ingest.ts";
import { TransactionModel } from "../events/models.ts";
import { outgoingHolder } from "../events/outgoing.ts";
import { PendingReplyModel } from "../followup/models.ts";
import type { SecretsKeyring } from "../platform/secrets-key.ts";
import { activeAgencySecrets } from "./secrets.ts";
import { WebhookDeliveryModel } from "./models.ts";
import { parseReply, RefusalGuard, verifySignature } from "./webhooks.ts";

type Headers = Record<string, string | string[] | undefined>;

/** A verified delivery as the agency's staff see it in their log. */
export interface DeliveryRecord {
  agencyCode: string;
  webhookId: string;
  receivedAt: Date;
  status: number;
  outcome: string;
  outgoingNumber?: string;
  ip: string;
}

/** What the reply walk reads and writes. */
export interface ReplyStore {
  /** The agency's active signing secrets (none for an unknown agency). */
  secrets(agencyCode: string): Promise<string[]>;
  /**
   * The outgoing letter with this number: its transaction (the one holding the number) and the
   * agency it was sent to. The same reads whether or not the number exists.
   */
  outgoing(outgoingNumber: string): Promise<{ transactionNumber: string; agencyCode?: string | null } | undefined>;
  /** Stores the event durably (see storeEvents). */
  store(event: IncomingEvent, source: string): Promise<StoreOutcome>;
  /** Applies what was stored, now; a failure is left to the apply sweep. */
  apply(): Promise<unknown>;
  /** Logs a verified delivery; never fails the request. */
  record(delivery: DeliveryRecord): Promise<void>;
}

export interface ReplyRequest {
  /** From the path, as sent (checked here, after the brake). */
  agencyCode: string;
  /** The body's exact bytes, as signed. */
  rawBody: string;
  headers: Headers;
  /** The client's address, for the brake on refused requests. */
  address: string;
}

export interface ReplyAnswer {
  outcome: "accepted" | "duplicate";
  transactionNumber: string;
  outgoingNumber: string;
}

export interface ReplyReceiverOptions {
  store: ReplyStore;
  /** Refused (unsigned, badly signed) requests per address per minute before 429 (WEBHOOK_REFUSAL_LIMIT). */
  refusalLimitPerMinute: number;
  /** A request refused before verification, with its reason (RATE_LIMITED, SIGNATURE_INVALID…), for metrics. */
  onRefused?: (reason: string) => void;
  now?: () => Date;
}

/** The outcome a refusal is logged with when it is not its answer's code (staff only: see notFound). */
const LOGGED_AS = Symbol("logged as");

/** The one answer for a letter an agency may not reply to: unknown, or sent to another agency. */
function notFound(outgoingNumber: string, agencyCode: string, loggedAs?: string): Error {
  const err = clientError(404, "OUTGOING_NOT_FOUND", `No outgoing transaction ${outgoingNumber} was sent to agency ${agencyCode}`);
  return loggedAs ? Object.assign(err, { [LOGGED_AS]: loggedAs }) : err;
}

/**
 * Receives agencies' replies. An unverified request is refused (401, counted against its
 * address, 429 once the address has used its refusals) and leaves no trace; from a verified
 * one on, every outcome is the agency's own and is logged in its deliveries.
 *
 * @example
 *   const replies = replyReceiver({ store: databaseReplyStore(keys, () => broker.call("events.apply")), refusalLimitPerMinute: 20 });
 *   await replies.receive({ agencyCode: "MOI", rawBody, headers, address: "10.0.0.7" });
 *   // { outcome: "accepted", transactionNumber: "144500123", outgoingNumber: "4812077" }
 */
export function replyReceiver(opts: ReplyReceiverOptions): { receive(req: ReplyRequest): Promise<ReplyAnswer> } {
  const { store } = opts;
  const guard = new RefusalGuard(opts.refusalLimitPerMinute);
  const now = opts.now ?? (() => new Date());
  const refused = (reason: string) => opts.onRefused?.(reason);

  async function verified({ agencyCode, rawBody, headers, address }: ReplyRequest): Promise<string> {
    try {
      guard.check(address);
    } catch (err) {
      refused("RATE_LIMITED");
      throw err;
    }
    parseCode(agencyCode, "agency code");
    try {
      return verifySignature(rawBody, headers, await store.secrets(agencyCode));
    } catch (err) {
      const e = err as { code?: unknown; type?: string };
      if (e?.code === 401) {
        guard.refused(address);
        refused(e.type ?? "UNAUTHORIZED");
      }
      throw err;
    }
  }

  async function accept(code: string, webhookId: string, rawBody: string): Promise<ReplyAnswer> {
    const reply = parseReply(rawBody);
    const { outgoingNumber } = reply;
    const item = await store.outgoing(outgoingNumber);
    // A letter sent to another agency is answered exactly as one that does not exist: an
    // agency learns nothing of the numbers of letters that are not its own. (The log, which
    // only the office's staff read, keeps the reason.)
    if (!item || item.agencyCode !== code) throw notFound(outgoingNumber, code, item ? "OUTGOING_OF_ANOTHER_AGENCY" : undefined);
    const replyDate = reply.replyDate.toISOString();
    const { event, errors } = validateEvent({
      // The webhook id makes a redelivery of the same reply a duplicate.
      id: `agency:${code}:${webhookId}`,
      type: "reply-received",
      transactionNumber: item.transactionNumber,
      occurredAt: replyDate,
      data: { outgoingNumber, replyNumber: reply.replyNumber, replyDate, via: "webhook", ...(reply.summary ? { summary: reply.summary } : {}) },
    });
    if (!event) throw clientError(400, "INVALID_BODY", "invalid reply", { details: errors });
    const stored = await store.store(event, `agency:${code}`);
    if (stored === "conflict") throw clientError(409, "WEBHOOK_ID_CONFLICT", "This webhook-id was already used for a different reply");
    if (stored === "accepted") await store.apply().catch(() => undefined);
    return { outcome: stored, transactionNumber: item.transactionNumber, outgoingNumber };
  }

  return {
    async receive(req) {
      const webhookId = await verified(req);
      const record = (status: number, outcome: string, outgoingNumber?: string) =>
        store.record({ agencyCode: req.agencyCode, webhookId, receivedAt: now(), status, outcome, ...(outgoingNumber ? { outgoingNumber } : {}), ip: req.address });
      let answer: ReplyAnswer;
      try {
        answer = await accept(req.agencyCode, webhookId, req.rawBody);
      } catch (err) {
        const e = err as { code?: unknown; type?: string; [LOGGED_AS]?: string };
        await record(typeof e?.code === "number" ? e.code : 500, e?.[LOGGED_AS] ?? e?.type ?? "ERROR");
        throw err;
      }
      await record(200, answer.outcome, answer.outgoingNumber);
      return answer;
    },
  };
}

/**
 * The reply walk's store on the database. `apply` is the events service's apply (the events
 * just stored are applied by whichever node runs it).
 *
 * @example
 *   databaseReplyStore(config.secretsKey, () => ctx.call("events.apply"), logger)
 */
export function databaseReplyStore(keys: SecretsKeyring, apply: () => Promise<unknown>, log?: { error(...a: unknown[]): void }): ReplyStore {
  return {
    secrets: (agencyCode) => activeAgencySecrets(keys, agencyCode, log),
    async outgoing(outgoingNumber) {
      // The transaction holding the number, by its claim (core/events/outgoing.ts), then that
      // transaction: two reads by _id (indexed on every server) whether the number exists,
      // is another agency's or is this one's, so that the time of the answer tells nothing.
      const number = await outgoingHolder(outgoingNumber, async () => {
        // Until the claims of older data are made (the events service's first start): its
        // pending record, else the search by outgoing number.
        const pending = await PendingReplyModel.findById(outgoingNumber, { transactionNumber: 1 }).lean();
        if (pending) return pending.transactionNumber;
        const tx = await TransactionModel.findOne({ "outgoing.number": outgoingNumber }, { _id: 1 }).lean();
        return tx ? String(tx._id) : undefined;
      });
      // (No transaction has the id "-": numbers are digits.)
      const tx = await TransactionModel.findById(number ?? "-", { number: 1, outgoing: 1 }).lean();
      const item = tx?.outgoing.find((o) => o.number === outgoingNumber);
      return tx && item ? { transactionNumber: tx.number, agencyCode: item.destination?.agencyCode } : undefined;
    },
    async store(event, source) {
      const stored = await storeEvents([event], source);
      return stored.conflicts.length ? "conflict" : stored.outcomes[0]!;
    },
    apply,
    async record(delivery) {
      await WebhookDeliveryModel.create(delivery).catch(() => undefined);
    },
  };
}

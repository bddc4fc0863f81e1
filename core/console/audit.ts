/**
 * The audit log: every change made from the console (and every sign-in), with who, when,
 * what, and the values before and after. Written before the change is answered.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import { AuditModel } from "./models.ts";


/** One entry of the audit log. */
export interface AuditEntry {
  actor: string;
  action: string;
  target?: string;
  before?: unknown;
  after?: unknown;
  ip?: string;
}

/**
 * Records a change.
 *
 * @example
 *   await audit({ actor: "amal", action: "department-updated", target: "department:LEGAL", before: { replyPeriodDays: 10 }, after: { replyPeriodDays: 5 } });
 */
export async function audit(entry: AuditEntry, at = new Date()): Promise<void> {
  await AuditModel.create({ _id: randomUUID(), at, ...entry });
}

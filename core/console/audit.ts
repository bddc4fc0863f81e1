/**
 * The audit log: every change made from the console (and every sign-in), with who, when,
 * what, and the values before and after. Written before the change is answered.
 *
 * @module
 */
import { randomUUID } from "node:crypto";
import mongoose, { Schema } from "mongoose";

const auditSchema = new Schema(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    /** The staff user name (or `-` for a failed sign-in of an unknown name). */
    actor: { type: String, required: true },
    /** e.g. `login`, `logout`, `login-failed`, `reply-recorded`, `department-updated`, `staff-added`. */
    action: { type: String, required: true },
    /** What was changed: `department:LEGAL`, `outgoing:9001`, `staff:amal`. */
    target: String,
    before: Schema.Types.Mixed,
    after: Schema.Types.Mixed,
    ip: String,
  },
  { versionKey: false, minimize: false },
);
auditSchema.index({ at: -1 });
auditSchema.index({ actor: 1, at: -1 });
export const AuditModel = mongoose.model("Audit", auditSchema, "audit_log");

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

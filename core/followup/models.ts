// The follow-up's own record: one pending item per outgoing letter waiting for a reply or
// assigned transaction waiting for its employee (see core/followup/notices.ts).
import mongoose, { Schema } from "mongoose";

const pendingReplySchema = new Schema(
  {
    /** The item's key: the outgoing number (reply), or `assigned:<assigned event id>` (internal). */
    _id: { type: String, required: true },
    /** Unset on records written before internal items existed: `reply`. */
    kind: { type: String, enum: ["reply", "internal"] },
    transactionNumber: { type: String, required: true },
    departmentCode: String,
    agencyCode: String,
    outgoingDate: Date,
    /** Internal items: who holds the transaction, and since when. */
    employeeId: String,
    assignedAt: Date,
    dueAt: { type: Date, required: true },
    /** When the next notice is due; unset once the sequence is over (the item still waits). */
    nextAt: Date,
    /** Notices sent so far: 0 none, 1 the first notice, 1+k after k reminders, then the escalation. */
    stage: { type: Number, default: 0 },
    lastNoticeAt: Date,
    createdAt: Date,
  },
  { versionKey: false },
);
// The sweep's query: pending items whose next notice is due.
pendingReplySchema.index({ nextAt: 1 }, { sparse: true });
pendingReplySchema.index({ departmentCode: 1 });
pendingReplySchema.index({ transactionNumber: 1 });

export const PendingReplyModel = mongoose.model("PendingReply", pendingReplySchema, "pending_replies");

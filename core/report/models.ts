// The leadership report's collections: daily facts, and one record per letter needing a reply.
import mongoose, { Schema } from "mongoose";

const reportDaySchema = new Schema(
  {
    /** `<kind>|<day>` (a month's document: `month|<month>`). */
    _id: { type: String, required: true },
    kind: { type: String, enum: ["letters", "sms", "inquiries", "month"], required: true },
    /** The Riyadh day, `YYYY-MM-DD` (an hour of SMS: `YYYY-MM-DDTHH`; a month's document: `YYYY-MM`), and its month `YYYY-MM`. */
    day: { type: String, required: true },
    month: { type: String, required: true },
    /** Goes up with every change of the day's raw documents. */
    version: { type: Number, default: 0 },
    /** The version the facts below were computed from. */
    computed: { type: Number, default: 0 },
    /** `dirty`: to recompute; `clean`: the facts are those of the raw documents. */
    state: { type: String, enum: ["dirty", "clean"], required: true },
    computedAt: Date,
    letters: { type: [Schema.Types.Mixed], default: undefined },
    sms: { type: [Schema.Types.Mixed], default: undefined },
    /** Inquiries: channel → count. */
    channels: { type: Schema.Types.Mixed, default: undefined },
  },
  { versionKey: false, minimize: false },
);
// A month's report reads its days; the facts job reads the dirty ones (string equality: both
// served by an index on MongoDB and on the embedded database).
reportDaySchema.index({ month: 1 });
reportDaySchema.index({ state: 1 });

export const ReportDayModel = mongoose.model("ReportDay", reportDaySchema, "report_days");

/** One letter needing a reply, as the report counts it (kept in line with the transactions by letters.ts). */
const reportLetterSchema = new Schema(
  {
    /** The outgoing number. */
    _id: { type: String, required: true },
    transactionNumber: String,
    /** The Riyadh day the letter was sent. */
    day: { type: String, required: true },
    agencyCode: String,
    /** The transaction's department ("" when it has none). */
    departmentCode: String,
    sentAt: Date,
    replied: Boolean,
    repliedAt: Date,
    daysToReply: Number,
    within: Boolean,
  },
  { versionKey: false },
);
reportLetterSchema.index({ day: 1 });

export const ReportLetterModel = mongoose.model("ReportLetter", reportLetterSchema, "report_letters");

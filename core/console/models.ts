// The console's collections: staff accounts, their sessions and failed sign-ins, and the audit log.
import mongoose, { Schema } from "mongoose";
import { ROLES } from "./accounts.ts";

const staffUserSchema = new Schema(
  {
    _id: { type: String, required: true }, // the user name
    role: { type: String, enum: ROLES, required: true },
    /** A manager's departments (codes); others see every department. */
    departments: { type: [String], default: undefined },
    passwordHash: String,
    disabled: { type: Boolean, default: false },
    /** Raised when the account is replaced, its password reset or it is signed out everywhere: older sessions open nothing. */
    sessionEpoch: Number,
    createdAt: { type: Date, required: true },
    updatedAt: Date,
  },
  { versionKey: false },
);
export const StaffUserModel = mongoose.model("StaffUser", staffUserSchema, "staff_users");

const sessionSchema = new Schema(
  {
    _id: { type: String, required: true }, // sha256 of the session id
    username: { type: String, required: true },
    method: String,
    /** The account's sessionEpoch when the password was checked (missing: 0). */
    epoch: Number,
    csrf: { type: String, required: true },
    createdAt: { type: Date, required: true },
    lastSeenAt: { type: Date, required: true },
    expiresAt: { type: Date, required: true },
    revokedAt: Date,
    ip: String,
  },
  { versionKey: false },
);
sessionSchema.index({ username: 1 });
sessionSchema.index({ expiresAt: 1 });
export const StaffSessionModel = mongoose.model("StaffSession", sessionSchema, "staff_sessions");

const failureSchema = new Schema({ _id: { type: String, required: true }, key: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });
failureSchema.index({ key: 1, at: 1 });
export const LoginFailureModel = mongoose.model("StaffLoginFailure", failureSchema, "staff_login_failures");

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

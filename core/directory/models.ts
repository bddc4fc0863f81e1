// The directory: departments (with their managers and follow-up settings), employees and the
// holidays that working days skip. Each keyed by its code (or the holiday's date).
import mongoose, { Schema, type InferSchemaType } from "mongoose";

/** A name in Arabic and English, both required (departments, agencies). */
export const bilingualName = { ar: { type: String, required: true }, en: { type: String, required: true } };

const departmentSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: bilingualName,
    manager: { name: { type: String, required: true }, mobile: { type: String, required: true } },
    replyPeriodDays: { type: Number, default: 10 },
    replyPeriodKind: { type: String, enum: ["calendar", "working"], default: "calendar" },
    reminderEveryDays: { type: Number, default: 3 },
    maxReminders: { type: Number, default: 3 },
    escalation: { type: new Schema({ name: String, mobile: String }, { _id: false }), default: undefined },
    /** Hours its staff are written to, `HH:MM-HH:MM` Riyadh time on working days (unset: STAFF_SMS_HOURS). */
    smsHours: String,
    /** Which events' SMS it sends (see DEFAULT_NOTIFICATIONS in core/sms/notifications.ts); unset: the defaults. */
    notifications: { type: Schema.Types.Mixed, default: undefined },
    /** Follow-up of transactions assigned to its employees (see INTERNAL_DEFAULTS in core/followup/policy.ts); unset: the defaults. */
    internalFollowup: { type: new Schema({ periodDays: Number, reminderEveryDays: Number, maxReminders: Number }, { _id: false }), default: undefined },
    updatedAt: Date,
  },
  { versionKey: false },
);

const employeeSchema = new Schema(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    mobile: { type: String, required: true },
    departmentCode: { type: String, required: true },
    /** Manages their department (shown to staff; the department's own `manager` receives its notices). */
    manager: { type: Boolean, default: false },
    /** An employee who left stays for the history, and is sent no SMS. Unset on old data: active. */
    active: { type: Boolean, default: true },
    updatedAt: Date,
  },
  { versionKey: false },
);

/** A public holiday, by its Riyadh calendar date (`YYYY-MM-DD`). */
const holidaySchema = new Schema({ _id: { type: String, required: true }, name: String }, { versionKey: false });

export const DepartmentModel = mongoose.model("Department", departmentSchema, "departments");
export const EmployeeModel = mongoose.model("Employee", employeeSchema, "employees");
export const HolidayModel = mongoose.model("Holiday", holidaySchema, "holidays");

export type DepartmentDoc = InferSchemaType<typeof departmentSchema>;
export type EmployeeDoc = InferSchemaType<typeof employeeSchema>;

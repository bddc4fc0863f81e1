/**
 * A department's employees and their open transactions, with how long each has been with its
 * employee (in the department's count: calendar or working days), for the "my employees"
 * page: a manager sees their departments' employees, an administrator everyone's.
 *
 * @module
 */
import { EmployeeModel, type EmployeeDoc } from "../directory/models.ts";
import { TransactionModel, EVENT_TYPES } from "../events/models.ts";
import { followupPolicy } from "../followup/policy.ts";
import { directory } from "../directory/cache.ts";
import { daysOverdue as daysCounted } from "./board.ts";
import { can, type StaffUser } from "./accounts.ts";
import type { Lang } from "../text/lang.ts";

/** Statuses of a transaction not closed yet (closed is terminal). */
export const OPEN_STATUSES = ["unregistered", ...EVENT_TYPES.filter((t) => t !== "closed")];

// The pages' queries: a department's employees in id order; an employee's open transactions, longest held first.
EmployeeModel.schema.index({ departmentCode: 1, _id: 1 });
TransactionModel.schema.index({ assigneeId: 1, status: 1, assignedAt: 1 });

/** Employees per page of the team page, and transactions shown under each (the employee's own page lists them all). */
export const TEAM_PAGE = 20;
export const INLINE_TRANSACTIONS = 5;
/** Transactions per page of one employee's list. */
export const EMPLOYEE_PAGE = 50;

/** An open transaction and how long its employee has held it. */
export interface HeldTransaction {
  number: string;
  displayNumber: string;
  subject: string;
  status: string;
  departmentCode?: string;
  assignedAt?: Date;
  /** Days since the assignment, in the department's count. */
  daysAssigned?: number;
  dayKind: "calendar" | "working";
}

/** An employee with their open transactions (the oldest `INLINE_TRANSACTIONS`, or one page on their own page). */
export interface TeamMember {
  id: string;
  name: string;
  departmentCode: string;
  department: string;
  manager: boolean;
  active: boolean;
  openCount: number;
  transactions: HeldTransaction[];
}

/** The departments a user may see employees of: a manager's own, undefined for every department. */
function departmentsOf(user: StaffUser): string[] | undefined {
  return user.role === "manager" ? (user.departments ?? []) : undefined;
}

const openOf = (ids: string[]) => ({ assigneeId: ids.length === 1 ? ids[0] : { $in: ids }, status: { $in: OPEN_STATUSES } });
const TX_FIELDS = { number: 1, displayNumber: 1, subject: 1, status: 1, departmentCode: 1, assigneeId: 1, assignedAt: 1 };

/** Transactions stored before `assignedAt` was kept: the last assignment from their history (one read for all). */
async function withAssignedAt(docs: any[]): Promise<any[]> {
  const missing = docs.filter((d) => !d.assignedAt).map((d) => d._id);
  if (!missing.length) return docs;
  const histories = new Map((await TransactionModel.find({ _id: { $in: missing } }, { history: 1 }).lean()).map((t) => [t._id, t.history ?? []]));
  return docs.map((d) => {
    if (d.assignedAt) return d;
    const last = [...(histories.get(d._id) ?? [])].reverse().find((h: any) => h.type === "assigned");
    return { ...d, assignedAt: last?.occurredAt };
  });
}

async function held(docs: any[], employee: { departmentCode: string }, now: Date, defaultPeriod: number): Promise<HeldTransaction[]> {
  const holidays = await directory.holidays.dates();
  return Promise.all(
    (await withAssignedAt(docs)).map(async (t) => {
      const { periodKind } = await followupPolicy("reply", t.departmentCode ?? employee.departmentCode, defaultPeriod);
      return {
        number: t._id,
        displayNumber: t.displayNumber || t.number || t._id,
        subject: t.subject ?? "",
        status: t.status,
        ...(t.departmentCode ? { departmentCode: t.departmentCode } : {}),
        ...(t.assignedAt ? { assignedAt: t.assignedAt, daysAssigned: daysCounted(t.assignedAt, now, periodKind, holidays) } : {}),
        dayKind: periodKind,
      };
    }),
  );
}

const label = async (code: string, lang: Lang) => (await directory.departments.get(code))?.name?.[lang] || code;

function member(e: EmployeeDoc & { _id: string }, department: string, openCount: number, transactions: HeldTransaction[]): TeamMember {
  return { id: e._id, name: e.name, departmentCode: e.departmentCode, department, manager: !!e.manager, active: e.active !== false, openCount, transactions };
}

/**
 * One page of the employees `user` may see (optionally one department's), each with their
 * count of open transactions and the oldest few; `undefined` when the department is not theirs.
 *
 * @example
 *   const team = await teamPage({ username: "saad", role: "manager", departments: ["LEGAL"] }, {}, new Date(), "ar", 10);
 *   team?.members[0] // { id: "E100", name: "خالد", openCount: 3, transactions: [{ number: "144500123", daysAssigned: 12, dayKind: "working", ... }] }
 */
export async function teamPage(
  user: StaffUser,
  filter: { department?: string; page?: number },
  now: Date,
  lang: Lang,
  defaultPeriod: number,
): Promise<{ members: TeamMember[]; page: number; hasNext: boolean } | undefined> {
  if (filter.department && !can.seeDepartment(user, filter.department)) return undefined;
  const mine = departmentsOf(user);
  const match = filter.department ? { departmentCode: filter.department } : mine ? { departmentCode: { $in: mine } } : {};
  const page = Math.max(0, filter.page ?? 0);
  const docs = (await EmployeeModel.find(match).sort({ departmentCode: 1, _id: 1 }).skip(page * TEAM_PAGE).limit(TEAM_PAGE + 1).lean()) as Array<EmployeeDoc & { _id: string }>;
  const employees = docs.slice(0, TEAM_PAGE);
  const ids = employees.map((e) => e._id);
  const counts = new Map<string, number>(
    ids.length
      ? (await TransactionModel.aggregate([{ $match: openOf(ids) }, { $group: { _id: "$assigneeId", count: { $sum: 1 } } }])).map((g: { _id: string; count: number }) => [g._id, g.count])
      : [],
  );
  const members = await Promise.all(
    employees.map(async (e) => {
      const n = counts.get(e._id) ?? 0;
      const txs = n ? await TransactionModel.find(openOf([e._id]), TX_FIELDS).sort({ assignedAt: 1, _id: 1 }).limit(INLINE_TRANSACTIONS).lean() : [];
      return member(e, await label(e.departmentCode, lang), n, await held(txs, e, now, defaultPeriod));
    }),
  );
  return { members, page, hasNext: docs.length > TEAM_PAGE };
}

/**
 * One employee's open transactions, longest held first, one page; `undefined` when there is
 * no such employee, `"forbidden"` when it is not in the user's departments.
 */
export async function employeeHeld(
  user: StaffUser,
  employeeId: string,
  page: number,
  now: Date,
  lang: Lang,
  defaultPeriod: number,
): Promise<{ member: TeamMember; page: number; hasNext: boolean } | "forbidden" | undefined> {
  const e = (await EmployeeModel.findById(employeeId).lean()) as (EmployeeDoc & { _id: string }) | null;
  if (!e) return undefined;
  if (!can.seeDepartment(user, e.departmentCode)) return "forbidden";
  const [count, docs] = await Promise.all([
    TransactionModel.countDocuments(openOf([e._id])),
    TransactionModel.find(openOf([e._id]), TX_FIELDS).sort({ assignedAt: 1, _id: 1 }).skip(page * EMPLOYEE_PAGE).limit(EMPLOYEE_PAGE + 1).lean(),
  ]);
  return { member: member(e, await label(e.departmentCode, lang), count, await held(docs.slice(0, EMPLOYEE_PAGE), e, now, defaultPeriod)), page, hasNext: docs.length > EMPLOYEE_PAGE };
}

// The directory (departments, employees, agencies, holidays) changes a few times a month and
// is read for every SMS and every apply: it is kept in memory, read in batches when missing,
// and forgotten when a `directory.changed` event says so (broadcast to every node, over NATS
// too). A time-to-live bounds what a lost event could leave stale.
import { AgencyModel, type AgencyDoc } from "../agencies/models.ts";
import { DepartmentModel, EmployeeModel, HolidayModel, type DepartmentDoc, type EmployeeDoc } from "./models.ts";

export type DirectoryKind = "department" | "employee" | "agency" | "holiday";

/** What `directory.changed` carries: which kind, and which entry (all of the kind when absent). */
export interface DirectoryChange {
  kind: DirectoryKind;
  id?: string;
}

const TTL_MS = 5 * 60_000;

/**
 * Entries by id, loaded in one query for all the ids missing, negative answers included.
 *
 * @example
 *   const employees = new KeyedCache((ids) => EmployeeModel.find({ _id: { $in: ids } }).lean());
 *   (await employees.getMany(["E1", "E2"])).get("E1") // the document, or null when there is none
 */
export class KeyedCache<T extends { _id: string }> {
  private readonly entries = new Map<string, { value: T | null; at: number }>();
  private readonly loading = new Map<string, Promise<Map<string, T | null>>>();
  // Bumped by invalidate: a load that started before a change answers its own callers but is
  // not kept (it may have read the entry as it was before the change).
  private readonly generations = new Map<string, number>();
  private generationOfAll = 0;

  constructor(
    private readonly load: (ids: string[]) => Promise<T[]>,
    private readonly ttlMs = TTL_MS,
    private readonly now = Date.now,
  ) {}

  async get(id: string): Promise<T | null> {
    return (await this.getMany([id])).get(id) ?? null;
  }

  async getMany(ids: Iterable<string>): Promise<Map<string, T | null>> {
    const wanted = [...new Set(ids)].filter((id) => typeof id === "string" && id !== "");
    const t = this.now();
    const found = new Map<string, T | null>();
    const waits: Array<Promise<Map<string, T | null>>> = [];
    const missing: string[] = [];
    for (const id of wanted) {
      const e = this.entries.get(id);
      if (e && t - e.at <= this.ttlMs) found.set(id, e.value);
      else if (this.loading.has(id)) waits.push(this.loading.get(id)!);
      else missing.push(id);
    }
    if (missing.length) waits.push(this.loadMissing(missing));
    for (const loaded of await Promise.all(waits)) for (const [id, v] of loaded) if (!found.has(id)) found.set(id, v);
    return new Map(wanted.map((id) => [id, found.get(id) ?? null]));
  }

  private loadMissing(ids: string[]): Promise<Map<string, T | null>> {
    const all = this.generationOfAll;
    const started = new Map(ids.map((id) => [id, this.generations.get(id) ?? 0]));
    const p = this.load(ids).then((docs) => {
      const result = new Map<string, T | null>(ids.map((id) => [id, null]));
      for (const d of docs) result.set(d._id, d);
      const at = this.now();
      for (const [id, value] of result) {
        if (all === this.generationOfAll && started.get(id) === (this.generations.get(id) ?? 0)) this.entries.set(id, { value, at });
      }
      return result;
    });
    const settled = p.finally(() => ids.forEach((id) => this.loading.get(id) === settled && this.loading.delete(id)));
    for (const id of ids) this.loading.set(id, settled);
    return settled;
  }

  invalidate(id?: string): void {
    if (id === undefined) {
      this.entries.clear();
      this.loading.clear();
      this.generationOfAll++;
    } else {
      this.entries.delete(id);
      this.loading.delete(id);
      this.generations.set(id, (this.generations.get(id) ?? 0) + 1);
    }
  }
}

/** The holiday dates (YYYY-MM-DD), all of them: a few dozen a year. */
class HolidayCache {
  private value?: { dates: string[]; at: number };
  private loading?: Promise<string[]>;

  async dates(): Promise<string[]> {
    if (this.value && Date.now() - this.value.at <= TTL_MS) return this.value.dates;
    this.loading ??= HolidayModel.find({}, { _id: 1 })
      .lean()
      .then((docs) => {
        const dates = docs.map((d) => d._id).sort();
        this.value = { dates, at: Date.now() };
        return dates;
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  invalidate(): void {
    this.value = undefined;
  }
}

/** The process's directory cache (shared by every service of the process). */
export const directory = {
  departments: new KeyedCache<DepartmentDoc & { _id: string }>((ids) => DepartmentModel.find({ _id: { $in: ids } }).lean() as any),
  employees: new KeyedCache<EmployeeDoc & { _id: string }>((ids) => EmployeeModel.find({ _id: { $in: ids } }).lean() as any),
  agencies: new KeyedCache<AgencyDoc & { _id: string }>((ids) => AgencyModel.find({ _id: { $in: ids } }, { secrets: 0 }).lean() as any),
  holidays: new HolidayCache(),

  /** Forgets what a change made stale. */
  invalidate(change: DirectoryChange): void {
    if (change.kind === "department") this.departments.invalidate(change.id);
    else if (change.kind === "employee") this.employees.invalidate(change.id);
    else if (change.kind === "agency") this.agencies.invalidate(change.id);
    else this.holidays.invalidate();
  },

  /** Forgets everything (tests that write the directory behind the API's back). */
  clear(): void {
    this.departments.invalidate();
    this.employees.invalidate();
    this.agencies.invalidate();
    this.holidays.invalidate();
  },
};

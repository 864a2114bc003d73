import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import {
  catalogModel,
  catalogPlan,
  creditsToUsdMicros,
  taskModel,
  usdFromMicros,
  type Catalog,
} from '../catalog';
import { isDuplicateKey, typedCollection } from '../../platform/db';
import { isTerminal, type JobStore, type UsageFacts } from './store';

export interface UsageRow {
  images: number;
  jobs_succeeded: number;
  jobs_failed: number;
  jobs_canceled: number;
  credits_charged: number;
  /** Credits of failed and cancelled jobs, reserved then released: not charged. */
  credits_not_charged: number;
  usd: number;
  /** For the succeeded jobs that named a task: what `auto` routing by task would have charged. */
  auto: { jobs_with_task: number; credits_charged: number; credits_with_auto: number; credits_saved: number };
}

/**
 * The whole UTC days a usage report covers: from the start of `from`'s day to the end of the day
 * before `to` (exclusive); by default the last 30 days, today included. Undefined when `from` is
 * not before `to`.
 */
export function wholeDayWindow(
  requestedFrom: Date | undefined,
  requestedTo: Date | undefined,
  now = Date.now(),
): { from: Date; to: Date; firstDay: string; lastDay: string; days: number } | undefined {
  const toExclusive = requestedTo ?? new Date(Math.floor(now / DAY_MS) * DAY_MS + DAY_MS);
  const fromInclusive = requestedFrom ?? new Date(toExclusive.getTime() - 30 * DAY_MS);
  if (fromInclusive >= toExclusive) return undefined;
  const from = new Date(Math.floor(fromInclusive.getTime() / DAY_MS) * DAY_MS);
  const to = new Date(Math.ceil(toExclusive.getTime() / DAY_MS) * DAY_MS);
  const day = (d: Date): string => d.toISOString().slice(0, 10);
  return {
    from,
    to,
    firstDay: day(from),
    lastDay: day(new Date(to.getTime() - DAY_MS)),
    days: (to.getTime() - from.getTime()) / DAY_MS,
  };
}

/** One UTC day's usage of one account, by model. */
export type DayUsage = Record<string, UsageRow>;

const DAY_MS = 24 * 3600_000;
/** The longest window one report reads (a year and a day, so that a year compares with the last). */
export const MAX_USAGE_DAYS = 400;
/**
 * A day is closed this long after it ends, once all its jobs have ended: API replicas' clocks
 * may differ by a little, and a job created just before midnight must be written first.
 */
const CLOSE_AFTER_MS = 5 * 60_000;
/** How long the sum of a day still open is reused: the current day's usage lags by at most this. */
export const OPEN_DAY_TTL_MS = 5_000;
/** Account-days remembered in memory, kept or open. */
const MAX_REMEMBERED_DAYS = 20_000;
/** Account-days of jobs summed at once. */
const DAYS_IN_PARALLEL = 8;
/** Kept days read in one lookup by primary key. */
const KEPT_DAYS_PER_READ = 200;

function emptyRow(): UsageRow {
  return {
    images: 0,
    jobs_succeeded: 0,
    jobs_failed: 0,
    jobs_canceled: 0,
    credits_charged: 0,
    credits_not_charged: 0,
    usd: 0,
    auto: { jobs_with_task: 0, credits_charged: 0, credits_with_auto: 0, credits_saved: 0 },
  };
}

function addRow(into: UsageRow, row: UsageRow): void {
  into.images += row.images;
  into.jobs_succeeded += row.jobs_succeeded;
  into.jobs_failed += row.jobs_failed;
  into.jobs_canceled += row.jobs_canceled;
  into.credits_charged += row.credits_charged;
  into.credits_not_charged += row.credits_not_charged;
  into.usd += row.usd;
  into.auto.jobs_with_task += row.auto.jobs_with_task;
  into.auto.credits_charged += row.auto.credits_charged;
  into.auto.credits_with_auto += row.auto.credits_with_auto;
  into.auto.credits_saved += row.auto.credits_saved;
}

/**
 * What finished jobs delivered and cost, by model, with the seed's point made concrete: for jobs
 * that carried a task, what routing by task (`model: "auto"`) would have charged instead. Jobs
 * still queued or running count nothing yet.
 */
export function usageByModel(jobs: readonly UsageFacts[], catalog: Catalog): DayUsage {
  const rows: DayUsage = {};
  for (const job of jobs) {
    // A job still queued or running has delivered and cost nothing yet: it adds no row for its model.
    if (!isTerminal(job.status)) continue;
    const row = (rows[job.model] ??= emptyRow());
    if (job.status === 'succeeded') {
      row.jobs_succeeded += 1;
      // Retention deletes a job's images, not the fact that it delivered them.
      row.images += job.images_deleted_at ? job.request.n : job.images.length;
      row.credits_charged += job.credits_charged;
      const plan = catalogPlan(catalog, job.plan);
      row.usd += plan ? usdFromMicros(creditsToUsdMicros(plan, job.credits_charged)) : 0;
      const routed = job.request.task ? taskModel(catalog, job.request.task) : undefined;
      if (routed) {
        const autoCredits = (catalogModel(catalog, routed)?.credits ?? 0) * job.request.n;
        row.auto.jobs_with_task += 1;
        row.auto.credits_charged += job.credits_charged;
        row.auto.credits_with_auto += autoCredits;
        row.auto.credits_saved += job.credits_charged - autoCredits;
      }
    } else if (job.status === 'failed' || job.status === 'canceled') {
      if (job.status === 'failed') row.jobs_failed += 1;
      else row.jobs_canceled += 1;
      row.credits_not_charged += job.credits_reserved;
    }
  }
  return rows;
}

/** Sums days of usage by model or by day, rounding dollars once at the end. */
export function summariseUsage(
  days: ReadonlyMap<string, DayUsage>,
  groupBy: 'model' | 'day',
): { groups: Record<string, UsageRow>; total: UsageRow } {
  const groups: Record<string, UsageRow> = {};
  const total = emptyRow();
  for (const [day, byModel] of days) {
    for (const [model, row] of Object.entries(byModel)) {
      addRow((groups[groupBy === 'model' ? model : day] ??= emptyRow()), row);
      addRow(total, row);
    }
  }
  const round = (r: UsageRow): void => {
    r.usd = Number(r.usd.toFixed(6));
  };
  Object.values(groups).forEach(round);
  round(total);
  return { groups, total };
}

interface UsageDayRecord {
  /** `<account>:<YYYY-MM-DD>`. */
  _id: string;
  account_id: string;
  day: string;
  models: DayUsage;
  closed_at: Date;
}

const usageDaySchema = new Schema<UsageDayRecord>(
  {
    _id: String,
    account_id: { type: String, required: true },
    day: { type: String, required: true },
    models: { type: Schema.Types.Mixed, required: true },
    closed_at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'usage_days', minimize: false },
);

/**
 * `GET /v1/usage`: an account's usage by UTC day. A day that is over and whose jobs have all
 * ended is summed once and kept (`usage_days`, looked up by key, and remembered here: it never
 * changes); a day still open is summed from that account-day's jobs, at most once per
 * OPEN_DAY_TTL_MS in this process. A report therefore reads what the window holds of this
 * account, never the jobs of other tenants or of other days, and a tenant's report loop costs the
 * database one account-day's read every few seconds.
 */
export class UsageReports {
  private readonly days: Model<UsageDayRecord>;
  /** Kept days by `<account>:<day>`, oldest use first (bounded). */
  private readonly keptDays = new Map<string, DayUsage>();
  private readonly openDays = new Map<string, { summed: number; usage: Promise<DayUsage> }>();

  constructor(
    private readonly jobs: Pick<JobStore, 'submittedOn'>,
    private readonly catalog: Catalog,
    connection: Connection = mongoose.connection,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.days = connection.models.UsageDay ?? connection.model<UsageDayRecord>('UsageDay', usageDaySchema);
  }

  async init(): Promise<void> {
    await this.days.createCollection().catch(() => undefined);
  }

  /** The whole UTC days `fromDay` to `toDay` (inclusive, `YYYY-MM-DD`) that hold usage, by model. */
  async byDay(accountId: string, fromDay: string, toDay: string): Promise<Map<string, DayUsage>> {
    const now = this.clock().getTime();
    const days: Array<{ day: string; key: string; over: boolean }> = [];
    for (let start = Date.parse(fromDay); start <= Date.parse(toDay); start += DAY_MS) {
      const day = new Date(start).toISOString().slice(0, 10);
      days.push({ day, key: `${accountId}:${day}`, over: start + DAY_MS + CLOSE_AFTER_MS <= now });
    }
    const found = new Map<string, DayUsage>();
    for (const { key } of days) {
      const usage = this.keptDays.get(key);
      if (usage) found.set(key, usage);
    }
    const toLookUp = days.filter((d) => d.over && !found.has(d.key)).map((d) => d.key);
    for (let i = 0; i < toLookUp.length; i += KEPT_DAYS_PER_READ) {
      const records = await this.days
        .find({ _id: { $in: toLookUp.slice(i, i + KEPT_DAYS_PER_READ) } })
        .lean<UsageDayRecord[]>();
      for (const record of records) {
        found.set(record._id, record.models);
        this.remember(record._id, record.models);
      }
    }
    const toSum = days.filter((d) => !found.has(d.key));
    for (let i = 0; i < toSum.length; i += DAYS_IN_PARALLEL) {
      const batch = toSum.slice(i, i + DAYS_IN_PARALLEL);
      const usages = await Promise.all(batch.map((d) => this.sumDay(accountId, d, now)));
      batch.forEach((d, k) => found.set(d.key, usages[k]!));
    }
    const result = new Map<string, DayUsage>();
    for (const { day, key } of days) {
      const usage = found.get(key);
      if (usage && Object.keys(usage).length > 0) result.set(day, usage);
    }
    return result;
  }

  /**
   * Sums one account-day from its jobs and keeps the sum once the day is closed. A day still
   * open is summed again only after OPEN_DAY_TTL_MS; concurrent reports share one sum.
   */
  private sumDay(
    accountId: string,
    d: { day: string; key: string; over: boolean },
    now: number,
  ): Promise<DayUsage> {
    const recent = this.openDays.get(d.key);
    if (recent && now - recent.summed < OPEN_DAY_TTL_MS) return recent.usage;
    const usage = (async () => {
      const jobs = await this.jobs.submittedOn(accountId, d.day);
      const models = usageByModel(jobs, this.catalog);
      if (d.over && jobs.every((j) => isTerminal(j.status))) {
        await this.keep(accountId, d.day, models);
        this.remember(d.key, models);
        this.openDays.delete(d.key);
      }
      return models;
    })();
    this.openDays.set(d.key, { summed: now, usage });
    usage.catch(() => this.openDays.delete(d.key));
    if (this.openDays.size > MAX_REMEMBERED_DAYS) this.openDays.delete(this.openDays.keys().next().value!);
    return usage;
  }

  private remember(key: string, usage: DayUsage): void {
    this.keptDays.delete(key);
    this.keptDays.set(key, usage);
    if (this.keptDays.size > MAX_REMEMBERED_DAYS) this.keptDays.delete(this.keptDays.keys().next().value!);
  }

  /** Keeps a closed day's sum; a concurrent report that kept it first kept the same sum. */
  private async keep(accountId: string, day: string, models: DayUsage): Promise<void> {
    try {
      await typedCollection(this.days).insertOne({
        _id: `${accountId}:${day}`,
        account_id: accountId,
        day,
        models,
        closed_at: this.clock(),
      });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
    }
  }
}

import {
  catalogModel,
  catalogPlan,
  creditsToUsdMicros,
  taskModel,
  usdFromMicros,
  type Catalog,
} from '../catalog';
import type { JobRecord } from './store';

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

/**
 * `GET /v1/usage`: what an account's jobs delivered and cost over a window, grouped by model or
 * day, with the seed's point made concrete: for jobs that carried a task, what routing by task
 * (`model: "auto"`) would have charged instead.
 */
export function summariseUsage(
  jobs: JobRecord[],
  catalog: Catalog,
  groupBy: 'model' | 'day',
): { groups: Record<string, UsageRow>; total: UsageRow } {
  const groups: Record<string, UsageRow> = {};
  const total = emptyRow();
  for (const job of jobs) {
    const key = groupBy === 'model' ? job.model : job.created_at.toISOString().slice(0, 10);
    const row = (groups[key] ??= emptyRow());
    for (const r of [row, total]) {
      if (job.status === 'succeeded') {
        r.jobs_succeeded += 1;
        r.images += job.images.length;
        r.credits_charged += job.credits_charged;
        const plan = catalogPlan(catalog, job.plan);
        r.usd += plan ? usdFromMicros(creditsToUsdMicros(plan, job.credits_charged)) : 0;
        const routed = job.request.task ? taskModel(catalog, job.request.task) : undefined;
        if (routed) {
          const autoCredits = (catalogModel(catalog, routed)?.credits ?? 0) * job.request.n;
          r.auto.jobs_with_task += 1;
          r.auto.credits_charged += job.credits_charged;
          r.auto.credits_with_auto += autoCredits;
          r.auto.credits_saved += job.credits_charged - autoCredits;
        }
      } else if (job.status === 'failed' || job.status === 'canceled') {
        if (job.status === 'failed') r.jobs_failed += 1;
        else r.jobs_canceled += 1;
        r.credits_not_charged += job.credits_reserved;
      }
    }
  }
  const round = (r: UsageRow): void => {
    r.usd = Number(r.usd.toFixed(6));
  };
  Object.values(groups).forEach(round);
  round(total);
  return { groups, total };
}

import { catalogPlan, creditsToUsdMicros, type Catalog } from '../core/catalog';
import type { SettledJob } from './jobs';
import type { Metrics } from '../platform/metrics';

/** Turns a settled job into the money and job metrics (worker side). */
export function recordSettlement(metrics: Metrics, catalog: Catalog) {
  return (job: SettledJob, settlement: { charged: number; released: number }): void => {
    const labels = { model: job.model, plan: job.plan };
    metrics.jobsCompleted.inc({ model: job.model, status: job.status });
    metrics.jobDuration.observe(
      { model: job.model, status: job.status },
      (job.completed_at.getTime() - job.created_at.getTime()) / 1000,
    );
    if (settlement.charged > 0) {
      metrics.creditsCharged.inc(labels, settlement.charged);
      const plan = catalogPlan(catalog, job.plan);
      if (plan) metrics.revenue.inc(labels, creditsToUsdMicros(plan, settlement.charged) / 1e6);
    }
    if (settlement.released > 0) metrics.creditsReleased.inc(labels, settlement.released);
  };
}

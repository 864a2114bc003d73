import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Easel's Prometheus metrics, on a registry of our own. The names and labels are a contract
 * (DESIGN §6): dashboards and alert rules query them. Labels never carry account ids, keys or
 * prompts, only bounded sets (model, plan, provider, status, outcome).
 */
export function createMetrics(registry = new Registry()) {
  collectDefaultMetrics({ register: registry, prefix: 'easel_process_' });
  const latencyBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
  const jobBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600];
  const m = {
    registry,
    httpRequests: new Counter({
      name: 'easel_http_requests_total',
      help: 'HTTP requests answered by the API.',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'easel_http_request_duration_seconds',
      help: 'HTTP request latency.',
      labelNames: ['route', 'method'],
      buckets: latencyBuckets,
      registers: [registry],
    }),
    jobsSubmitted: new Counter({
      name: 'easel_jobs_submitted_total',
      help: 'Jobs accepted (credits reserved).',
      labelNames: ['model', 'plan'],
      registers: [registry],
    }),
    jobsCompleted: new Counter({
      name: 'easel_jobs_completed_total',
      help: 'Jobs that reached a terminal status.',
      labelNames: ['model', 'status'],
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: 'easel_job_duration_seconds',
      help: 'Job latency, submit to terminal status.',
      labelNames: ['model', 'status'],
      buckets: jobBuckets,
      registers: [registry],
    }),
    creditsReserved: new Counter({
      name: 'easel_credits_reserved_total',
      help: 'Credits reserved by accepted jobs.',
      labelNames: ['model', 'plan'],
      registers: [registry],
    }),
    creditsCharged: new Counter({
      name: 'easel_credits_charged_total',
      help: 'Credits captured from succeeded jobs.',
      labelNames: ['model', 'plan'],
      registers: [registry],
    }),
    creditsReleased: new Counter({
      name: 'easel_credits_released_total',
      help: 'Credits returned by failed, cancelled or cheaper-than-reserved jobs.',
      labelNames: ['model', 'plan'],
      registers: [registry],
    }),
    revenue: new Counter({
      name: 'easel_revenue_usd_total',
      help: "Charged credits × the plan's USD per credit.",
      labelNames: ['model', 'plan'],
      registers: [registry],
    }),
    upstreamCost: new Counter({
      name: 'easel_upstream_cost_usd_total',
      help: 'What successful upstream calls cost us (deployment config).',
      labelNames: ['provider', 'model'],
      registers: [registry],
    }),
    providerRequests: new Counter({
      name: 'easel_provider_requests_total',
      help: 'Calls to upstream deployments by outcome.',
      labelNames: ['provider', 'model', 'outcome'],
      registers: [registry],
    }),
    providerDuration: new Histogram({
      name: 'easel_provider_request_duration_seconds',
      help: 'Upstream call latency, submit to images.',
      labelNames: ['provider', 'model', 'outcome'],
      buckets: jobBuckets,
      registers: [registry],
    }),
    fallbacks: new Counter({
      name: 'easel_provider_fallbacks_total',
      help: 'Moves from one deployment to the next within a job.',
      labelNames: ['model', 'from_provider', 'to_provider'],
      registers: [registry],
    }),
    breakerState: new Gauge({
      name: 'easel_circuit_breaker_state',
      help: 'Circuit breaker per deployment: 0 closed, 1 half-open, 2 open (per worker process).',
      labelNames: ['provider'],
      registers: [registry],
    }),
    rateLimited: new Counter({
      name: 'easel_rate_limited_total',
      help: 'Requests (submissions and reads) refused by a plan limit.',
      labelNames: ['plan', 'limit'],
      registers: [registry],
    }),
    insufficientCredits: new Counter({
      name: 'easel_insufficient_credits_total',
      help: 'Submissions refused with 402.',
      labelNames: ['plan'],
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'easel_webhook_deliveries_total',
      help: 'Webhook delivery attempts by outcome.',
      labelNames: ['outcome'],
      registers: [registry],
    }),
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * Creates every expected label combination at zero. A counter series that first appears with
 * value 1 gives `rate()` and `increase()` nothing to compare, so the first 429, 402 or failure
 * would be invisible on the dashboards; starting at 0 makes every first event count.
 */
export function initialiseSeries(
  m: Metrics,
  catalog: { models: Record<string, unknown>; plans: Record<string, unknown> },
  deployments: Array<{ id: string; models: Record<string, unknown> }>,
): void {
  const models = Object.keys(catalog.models);
  const plans = Object.keys(catalog.plans);
  for (const plan of plans) {
    m.insufficientCredits.inc({ plan }, 0);
    for (const limit of ['requests_per_second', 'reads_per_second', 'reads_in_flight', 'concurrent_jobs'])
      m.rateLimited.inc({ plan, limit }, 0);
    for (const model of models) {
      for (const counter of [
        m.jobsSubmitted,
        m.creditsReserved,
        m.creditsCharged,
        m.creditsReleased,
        m.revenue,
      ]) {
        counter.inc({ model, plan }, 0);
      }
    }
  }
  for (const model of models) {
    for (const status of ['succeeded', 'failed', 'canceled']) {
      m.jobsCompleted.inc({ model, status }, 0);
      m.jobDuration.zero({ model, status });
    }
  }
  for (const outcome of ['delivered', 'failed', 'gone', 'refused']) m.webhookDeliveries.inc({ outcome }, 0);
  for (const d of deployments) {
    for (const model of Object.keys(d.models)) {
      m.upstreamCost.inc({ provider: d.id, model }, 0);
      for (const outcome of ['success', 'error', 'timeout', 'rejected', 'rate_limited', 'content_policy']) {
        m.providerRequests.inc({ provider: d.id, model, outcome }, 0);
        // A histogram series born on its first observation hides that observation from rate():
        // Prometheus never saw it at zero. Latency panels would stay empty after the first job.
        m.providerDuration.zero({ provider: d.id, model, outcome });
      }
    }
  }
}

import type { ProviderConfig } from '../core/deployments';
import type { ProviderHealthBoard } from '../core/provider-health';

/** `GET /admin/v1/providers`: configured deployments with every live worker's breaker view. */
export function providerStatus(
  config: ProviderConfig,
  workers: Awaited<ReturnType<ProviderHealthBoard['workers']>>,
): unknown {
  return {
    sandbox_only: config.sandboxOnly,
    unserved_models: config.unservedModels,
    default_strategy: config.default_strategy,
    routing: config.routing,
    note: 'Circuit breakers are per worker process: each live worker reports its own view.',
    deployments: config.deployments.map((d) => ({
      id: d.id,
      type: d.type,
      base_url: d.base_url ?? null,
      weight: d.weight,
      priority: d.priority,
      timeout_ms: d.timeout_ms,
      max_concurrency: d.max_concurrency ?? null,
      requests_per_second: d.requests_per_second ?? null,
      breaker: d.breaker,
      models: d.models,
      workers: workers.map((w) => ({
        worker: w.worker,
        updated_at: w.updated_at,
        ...(w.deployments[d.id] as object | undefined),
      })),
    })),
  };
}

import type { Deployment, ProviderConfig, RoutingStrategy } from '../routing/deployments';
import type { DeploymentHealth } from '../routing/health';
import type { WorkerHealth } from '../routing/health-board';

/** `GET /admin/v1/providers`. */
export interface ProviderStatus {
  sandbox_only: boolean;
  unserved_models: string[];
  default_strategy: RoutingStrategy;
  routing: ProviderConfig['routing'];
  note: string;
  deployments: DeploymentStatus[];
}

export interface DeploymentStatus extends Pick<
  Deployment,
  'id' | 'type' | 'weight' | 'priority' | 'timeout_ms' | 'breaker' | 'models'
> {
  base_url: string | null;
  max_concurrency: number | null;
  requests_per_second: number | null;
  /** Each live worker's view: breakers are per worker process. */
  workers: Array<WorkerDeploymentStatus>;
}

/**
 * One worker's view of one deployment; a worker that does not know the deployment (another
 * configuration) reports nothing of it.
 */
export type WorkerDeploymentStatus = { worker: string; updated_at: Date } & Partial<DeploymentHealth> & {
    /** Failed calls among the calls of the breaker's window (0–1); null when it holds none. */
    errorRate?: number | null;
  };

/** Failures among the calls in the worker's breaker window, when it holds any. */
function errorRate(health: DeploymentHealth | undefined): number | null | undefined {
  if (!health) return undefined;
  return health.recent.calls === 0 ? null : health.recent.failures / health.recent.calls;
}

/** Configured deployments with every live worker's breaker view. */
export function providerStatus(config: ProviderConfig, workers: WorkerHealth[]): ProviderStatus {
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
      workers: workers.map((w) => {
        const health = Object.hasOwn(w.deployments, d.id) ? w.deployments[d.id] : undefined;
        const rate = errorRate(health);
        return {
          worker: w.worker,
          updated_at: w.updated_at,
          ...health,
          ...(rate !== undefined && { errorRate: rate }),
        };
      }),
    })),
  };
}

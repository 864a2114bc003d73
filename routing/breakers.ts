import CircuitBreaker from 'opossum';
import { ProviderError } from '../providers/types';
import type { Deployment } from './deployments';
import type { BreakerState, BreakerWindow } from './health';
import { CallCancelled, withDeploymentTimeout } from './timeout';

type Work = (signal: AbortSignal) => Promise<unknown>;

/**
 * The breaker refused the call without making it (open, or the deployment at its
 * `max_concurrency`): it says nothing new about the upstream, so it is not counted against it.
 */
export class RefusedLocally extends ProviderError {
  override name = 'RefusedLocally';
}

/**
 * One opossum circuit breaker per deployment, per worker process: every worker learns on its own
 * that an upstream is failing (a few calls each) and probes it on its own when the reset timeout
 * passes. Client errors (validation, auth, content policy) and rate limits do not count as
 * failures: they say nothing about the upstream's health, and neither does a call stopped because
 * its job was cancelled. Each call runs within the deployment's `timeout_ms` (see
 * withDeploymentTimeout).
 */
export class DeploymentBreakers {
  private readonly breakers = new Map<string, CircuitBreaker<[Work, AbortSignal | undefined], unknown>>();
  private readonly states = new Map<string, BreakerState>();
  private readonly windowsMs = new Map<string, number>();

  constructor(
    deployments: Deployment[],
    /** max_concurrency is held across workers elsewhere (leases): opossum's per-process capacity is off. */
    private readonly fleetWideCapacity = false,
    private readonly onStateChange: (deploymentId: string, state: BreakerState) => void = () => {},
  ) {
    for (const d of deployments) this.register(d);
  }

  private register(deployment: Deployment): void {
    const s = deployment.breaker;
    const breaker = new CircuitBreaker<[Work, AbortSignal | undefined], unknown>(
      (work: Work, cancelled: AbortSignal | undefined) => withDeploymentTimeout(deployment, work, cancelled),
      {
        name: deployment.id,
        // Our own per-attempt timeout aborts the upstream call; opossum's would only stop waiting.
        timeout: false,
        errorThresholdPercentage: s.error_threshold_percent,
        volumeThreshold: s.volume_threshold,
        resetTimeout: s.reset_timeout_ms,
        rollingCountTimeout: s.rolling_window_ms,
        rollingCountBuckets: 10,
        // Fleet-wide leases (routing/leases.ts) hold max_concurrency when the worker has them.
        ...(deployment.max_concurrency !== undefined &&
          !this.fleetWideCapacity && { capacity: deployment.max_concurrency }),
        errorFilter: (err: unknown) =>
          err instanceof CallCancelled ||
          (err instanceof ProviderError && (err.isClientError || err.outcome === 'rate_limited')),
      },
    );
    this.states.set(deployment.id, 'closed');
    this.windowsMs.set(deployment.id, s.rolling_window_ms);
    const setState = (state: BreakerState): void => {
      this.states.set(deployment.id, state);
      this.onStateChange(deployment.id, state);
    };
    breaker.on('open', () => setState('open'));
    breaker.on('halfOpen', () => setState('half_open'));
    breaker.on('close', () => setState('closed'));
    this.breakers.set(deployment.id, breaker);
  }

  has(deploymentId: string): boolean {
    return this.breakers.has(deploymentId);
  }

  state(deploymentId: string): BreakerState {
    return this.states.get(deploymentId) ?? 'closed';
  }

  /** The breaker's rolling window: opossum counts a refused call as fired, so it is taken out. */
  recent(deploymentId: string): BreakerWindow {
    const breaker = this.breakers.get(deploymentId);
    const windowMs = this.windowsMs.get(deploymentId) ?? 0;
    if (!breaker) return { windowMs, calls: 0, failures: 0, refused: 0 };
    const { fires, failures, rejects, semaphoreRejections } = breaker.stats;
    const refused = rejects + semaphoreRejections;
    return { windowMs, calls: fires - refused, failures, refused };
  }

  /**
   * Runs one call through the deployment's breaker. An open breaker fails fast without calling
   * (`circuit_open`); a deployment at its `max_concurrency` refuses as rate limited (`at_capacity`).
   * When `cancelled` aborts, the call's signal aborts too and the call ends in CallCancelled.
   */
  async fire<T>(
    deployment: Deployment,
    work: (signal: AbortSignal) => Promise<T>,
    cancelled?: AbortSignal,
  ): Promise<T> {
    const breaker = this.breakers.get(deployment.id);
    if (!breaker) throw new ProviderError('error', `unknown deployment ${deployment.id}`);
    try {
      return (await breaker.fire(work, cancelled)) as T;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EOPENBREAKER')
        throw new RefusedLocally('error', `circuit breaker open for ${deployment.id}; not called`, {
          upstreamCode: 'circuit_open',
        });
      if (code === 'ESEMLOCKED')
        throw new RefusedLocally('rate_limited', `${deployment.id} is at its max_concurrency`, {
          upstreamCode: 'at_capacity',
        });
      throw err;
    }
  }

  shutdown(): void {
    for (const breaker of this.breakers.values()) breaker.shutdown();
  }
}

import CircuitBreaker from 'opossum';
import type { Deployment } from '../core/deployments';
import type { Logger } from '../core/logger';
import type { Metrics } from '../core/metrics';
import type { DeploymentStats } from '../core/routing';
import { ProviderError } from '../providers/types';
import { withDeploymentTimeout } from './deployment-caller';
import type { DeploymentCaller } from './generate';

export type BreakerState = 'closed' | 'half_open' | 'open';
const STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/** Recent behaviour of one deployment, for `GET /admin/v1/providers` and the `fastest` strategy. */
export interface DeploymentHealth {
  state: BreakerState;
  latencyMs?: number;
  successes: number;
  failures: number;
  lastError?: string;
  /** A 429 asked us to wait until then (this process). */
  coolingDownUntil?: number;
}

type Work = (signal: AbortSignal) => Promise<unknown>;

export interface BreakerCallerOptions {
  deployments: Deployment[];
  logger: Logger;
  metrics?: Metrics;
  /** Waits for a slot of the deployment's upstream request rate (shared by all workers). */
  acquireUpstreamSlot?: (deployment: Deployment, signal: AbortSignal) => Promise<void>;
  /** Called after a breaker changes state (the health board publishes at once). */
  onStateChange?: () => void;
  clock?: () => number;
}

const LATENCY_SMOOTHING = 0.3;

/**
 * One opossum circuit breaker per deployment, per worker process: every worker learns on its own
 * that an upstream is failing (a few calls each) and probes it on its own when the reset timeout
 * passes. Client errors (validation, auth, content policy) and rate limits do not count as
 * failures: they say nothing about the upstream's health. A 429's Retry-After cools the
 * deployment down in this process; routing skips it until then.
 */
export class BreakerDeploymentCaller implements DeploymentCaller {
  private readonly breakers = new Map<string, CircuitBreaker<[Work], unknown>>();
  private readonly health = new Map<string, DeploymentHealth>();
  private readonly clock: () => number;

  constructor(private readonly options: BreakerCallerOptions) {
    this.clock = options.clock ?? Date.now;
    for (const d of options.deployments) this.register(d);
  }

  private register(deployment: Deployment): void {
    const s = deployment.breaker;
    const breaker = new CircuitBreaker<[Work], unknown>(
      (work: Work) => withDeploymentTimeout(deployment, work),
      {
        name: deployment.id,
        // Our own per-attempt timeout aborts the upstream call; opossum's would only stop waiting.
        timeout: false,
        errorThresholdPercentage: s.error_threshold_percent,
        volumeThreshold: s.volume_threshold,
        resetTimeout: s.reset_timeout_ms,
        rollingCountTimeout: s.rolling_window_ms,
        rollingCountBuckets: 10,
        ...(deployment.max_concurrency !== undefined && { capacity: deployment.max_concurrency }),
        errorFilter: (err: unknown) =>
          err instanceof ProviderError && (err.isClientError || err.outcome === 'rate_limited'),
      },
    );
    this.health.set(deployment.id, { state: 'closed', successes: 0, failures: 0 });
    const setState = (state: BreakerState): void => {
      this.health.get(deployment.id)!.state = state;
      this.options.metrics?.breakerState.set({ provider: deployment.id }, STATE_VALUE[state]);
      this.options.logger.warn(
        { provider: deployment.id, state },
        `circuit breaker ${state.replace('_', '-')}`,
      );
      this.options.onStateChange?.();
    };
    breaker.on('open', () => setState('open'));
    breaker.on('halfOpen', () => setState('half_open'));
    breaker.on('close', () => setState('closed'));
    this.options.metrics?.breakerState.set({ provider: deployment.id }, 0);
    this.breakers.set(deployment.id, breaker);
  }

  stats = (deploymentId: string): DeploymentStats | undefined => {
    const h = this.health.get(deploymentId);
    return h?.latencyMs === undefined ? undefined : { latencyMs: h.latencyMs };
  };

  /** Whether routing should skip the deployment right now (a 429's Retry-After has not passed). */
  unavailable(deploymentId: string): { reason: string; retryAfterMs: number } | undefined {
    const until = this.health.get(deploymentId)?.coolingDownUntil;
    const wait = until === undefined ? 0 : until - this.clock();
    if (wait <= 0) return undefined;
    return {
      reason: `rate limited upstream (Retry-After); cooling down for ${Math.ceil(wait / 1000)} s`,
      retryAfterMs: wait,
    };
  }

  snapshot(): Record<string, DeploymentHealth> {
    return Object.fromEntries([...this.health].map(([id, h]) => [id, { ...h }]));
  }

  async call<T>(
    deployment: Deployment,
    model: string,
    work: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const breaker = this.breakers.get(deployment.id);
    const health = this.health.get(deployment.id);
    if (!breaker || !health) throw new ProviderError('error', `unknown deployment ${deployment.id}`);
    if (this.options.acquireUpstreamSlot && deployment.requests_per_second !== undefined) {
      await this.options.acquireUpstreamSlot(deployment, AbortSignal.timeout(deployment.timeout_ms));
    }
    const started = this.clock();
    const labels = { provider: deployment.id, model };
    try {
      const result = (await breaker.fire(work)) as T;
      const ms = this.clock() - started;
      health.successes += 1;
      health.latencyMs =
        health.latencyMs === undefined ? ms : health.latencyMs + LATENCY_SMOOTHING * (ms - health.latencyMs);
      this.options.metrics?.providerRequests.inc({ ...labels, outcome: 'success' });
      this.options.metrics?.providerDuration.observe({ ...labels, outcome: 'success' }, ms / 1000);
      return result;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'EOPENBREAKER')
        throw new ProviderError('error', `circuit breaker open for ${deployment.id}; not called`, {
          upstreamCode: 'circuit_open',
        });
      if (code === 'ESEMLOCKED')
        throw new ProviderError('rate_limited', `${deployment.id} is at its max_concurrency`, {
          upstreamCode: 'at_capacity',
        });
      const failure =
        err instanceof ProviderError
          ? err
          : new ProviderError('error', err instanceof Error ? err.message : String(err));
      if (failure.outcome === 'rate_limited' && failure.details.retryAfterMs !== undefined) {
        health.coolingDownUntil = this.clock() + failure.details.retryAfterMs;
      }
      health.failures += 1;
      health.lastError = failure.message;
      this.options.metrics?.providerRequests.inc({ ...labels, outcome: failure.outcome });
      this.options.metrics?.providerDuration.observe(
        { ...labels, outcome: failure.outcome },
        (this.clock() - started) / 1000,
      );
      throw failure;
    }
  }

  recordFallback(model: string, from: string, to: string): void {
    this.options.metrics?.fallbacks.inc({ model, from_provider: from, to_provider: to });
  }

  shutdown(): void {
    for (const breaker of this.breakers.values()) breaker.shutdown();
  }
}

import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import { ProviderError } from '../providers/types';
import { DeploymentBreakers, RefusedLocally } from './breakers';
import { AtCapacity, type DeploymentLeases, type Lease } from './leases';
import { CoolDowns } from './cool-down';
import type { Deployment } from './deployments';
import type { BreakerState, DeploymentHealth } from './health';
import { LatencyTracker } from './latency';
import type { DeploymentStats } from './plan';
import { CallCancelled } from './timeout';

/** How routing calls a deployment, and what it asks about one before calling it. */
export interface DeploymentCaller {
  /**
   * Runs `work` against the deployment; its signal aborts on the attempt's timeout or when
   * `cancelled` (the job's cancellation) aborts, and a call stopped that way rejects with
   * CallCancelled.
   */
  call<T>(
    deployment: Deployment,
    model: string,
    work: (signal: AbortSignal) => Promise<T>,
    cancelled?: AbortSignal,
  ): Promise<T>;
  /** Why the deployment should be skipped right now (cooling down after a 429), if it should. */
  unavailable(deploymentId: string): { reason: string; retryAfterMs: number } | undefined;
  recordFallback(model: string, from: string, to: string): void;
  /** Calls in flight on these deployments across all workers (for `least_busy`; empty when not counted). */
  busy?(deploymentIds: readonly string[]): Promise<ReadonlyMap<string, number>>;
  readonly stats: (deploymentId: string) => DeploymentStats | undefined;
}

export interface GuardedCallerOptions {
  deployments: Deployment[];
  logger: Logger;
  metrics?: Metrics;
  /** Waits for a slot of the deployment's upstream request rate (shared by all workers). */
  acquireUpstreamSlot?: (deployment: Deployment, signal: AbortSignal) => Promise<void>;
  /**
   * Calls in flight across all workers (routing/leases.ts), for the deployments `countsInFlight`
   * names: max_concurrency then holds fleet-wide instead of per process.
   */
  leases?: { store: DeploymentLeases; counted: (deployment: Deployment) => boolean };
  /** Called after a breaker changes state (the health board publishes at once). */
  onStateChange?: () => void;
  clock?: () => number;
}

const STATE_VALUE: Record<BreakerState, number> = { closed: 0, half_open: 1, open: 2 };

/**
 * Every protection around one upstream call, in order: the shared upstream request rate, the
 * deployment's circuit breaker and timeout; then the outcome is counted (metrics, latency, health)
 * and a 429's Retry-After cools the deployment down in this process. A call stopped by its job's
 * cancellation is not counted: it says nothing about the upstream.
 */
export class GuardedDeploymentCaller implements DeploymentCaller {
  private readonly breakers: DeploymentBreakers;
  private readonly coolDowns: CoolDowns;
  private readonly latency = new LatencyTracker();
  private readonly counts = new Map<
    string,
    Pick<DeploymentHealth, 'successes' | 'failures' | 'fallbacksFrom' | 'fallbacksTo' | 'lastError'>
  >();
  private readonly clock: () => number;

  constructor(private readonly options: GuardedCallerOptions) {
    this.clock = options.clock ?? Date.now;
    this.coolDowns = new CoolDowns(this.clock);
    this.breakers = new DeploymentBreakers(options.deployments, Boolean(options.leases), (id, state) => {
      options.metrics?.breakerState.set({ provider: id }, STATE_VALUE[state]);
      options.logger.warn({ provider: id, state }, `circuit breaker ${state.replace('_', '-')}`);
      options.onStateChange?.();
    });
    for (const d of options.deployments) {
      this.counts.set(d.id, { successes: 0, failures: 0, fallbacksFrom: 0, fallbacksTo: 0 });
      options.metrics?.breakerState.set({ provider: d.id }, 0);
    }
  }

  stats = (deploymentId: string): DeploymentStats | undefined => this.latency.stats(deploymentId);

  unavailable(deploymentId: string): { reason: string; retryAfterMs: number } | undefined {
    const wait = this.coolDowns.remainingMs(deploymentId);
    if (wait <= 0) return undefined;
    return {
      reason: `rate limited upstream (Retry-After); cooling down for ${Math.ceil(wait / 1000)} s`,
      retryAfterMs: wait,
    };
  }

  /** Every deployment's health in this process (published to the health board). */
  snapshot(): Record<string, DeploymentHealth> {
    return Object.fromEntries(
      [...this.counts].map(([id, counts]) => {
        const latencyMs = this.latency.stats(id)?.latencyMs;
        const coolingDownUntil = this.coolDowns.endsAt(id);
        const health: DeploymentHealth = {
          state: this.breakers.state(id),
          ...counts,
          recent: this.breakers.recent(id),
          ...(latencyMs !== undefined && { latencyMs }),
          ...(coolingDownUntil !== undefined && { coolingDownUntil }),
        };
        return [id, health];
      }),
    );
  }

  async call<T>(
    deployment: Deployment,
    model: string,
    work: (signal: AbortSignal) => Promise<T>,
    cancelled?: AbortSignal,
  ): Promise<T> {
    const counts = this.counts.get(deployment.id);
    if (!counts || !this.breakers.has(deployment.id))
      throw new ProviderError('error', `unknown deployment ${deployment.id}`);
    if (this.options.acquireUpstreamSlot && deployment.requests_per_second !== undefined) {
      const waitFor = AbortSignal.timeout(deployment.timeout_ms);
      try {
        await this.options.acquireUpstreamSlot(
          deployment,
          cancelled ? AbortSignal.any([waitFor, cancelled]) : waitFor,
        );
      } catch (err) {
        if (cancelled?.aborted)
          throw new CallCancelled(`${deployment.id} was not called: the job was cancelled`);
        throw err;
      }
    }
    const lease = await this.takeLease(deployment, cancelled);
    const started = this.clock();
    const labels = { provider: deployment.id, model };
    try {
      const result = await this.breakers.fire(deployment, work, cancelled);
      const ms = this.clock() - started;
      counts.successes += 1;
      this.latency.record(deployment.id, ms);
      this.options.metrics?.providerRequests.inc({ ...labels, outcome: 'success' });
      this.options.metrics?.providerDuration.observe({ ...labels, outcome: 'success' }, ms / 1000);
      return result;
    } catch (err) {
      if (err instanceof CallCancelled) throw err;
      const failure =
        err instanceof ProviderError
          ? err
          : new ProviderError('error', err instanceof Error ? err.message : String(err));
      if (failure instanceof RefusedLocally) throw failure;
      if (failure.outcome === 'rate_limited' && failure.details.retryAfterMs !== undefined) {
        this.coolDowns.start(deployment.id, failure.details.retryAfterMs);
      }
      counts.failures += 1;
      counts.lastError = failure.message;
      this.options.metrics?.providerRequests.inc({ ...labels, outcome: failure.outcome });
      this.options.metrics?.providerDuration.observe(
        { ...labels, outcome: failure.outcome },
        (this.clock() - started) / 1000,
      );
      throw failure;
    } finally {
      await lease?.release().catch(() => undefined);
    }
  }

  /**
   * A fleet-wide slot of the deployment, when its calls are counted: a full deployment is
   * refused as rate limited (`at_capacity`, the next deployment is tried) or, with
   * `overflow: wait`, waited for within the attempt's timeout.
   */
  private async takeLease(deployment: Deployment, cancelled?: AbortSignal): Promise<Lease | undefined> {
    const leases = this.options.leases;
    if (!leases?.counted(deployment)) return undefined;
    const waitFor = AbortSignal.timeout(deployment.timeout_ms);
    try {
      return await leases.store.acquire(deployment.id, deployment.max_concurrency, {
        wait: deployment.overflow === 'wait',
        signal: cancelled ? AbortSignal.any([waitFor, cancelled]) : waitFor,
      });
    } catch (err) {
      if (cancelled?.aborted)
        throw new CallCancelled(`${deployment.id} was not called: the job was cancelled`);
      if (err instanceof AtCapacity || waitFor.aborted) {
        throw new RefusedLocally(
          'rate_limited',
          waitFor.aborted
            ? `${deployment.id} had no free slot within ${deployment.timeout_ms} ms (max_concurrency ${deployment.max_concurrency})`
            : err instanceof Error
              ? err.message
              : String(err),
          { upstreamCode: 'at_capacity' },
        );
      }
      throw err;
    }
  }

  /** Calls in flight on these deployments across all workers (for `least_busy`). */
  async busy(deploymentIds: readonly string[]): Promise<ReadonlyMap<string, number>> {
    return this.options.leases ? this.options.leases.store.busy(deploymentIds) : new Map();
  }

  recordFallback(model: string, from: string, to: string): void {
    this.options.metrics?.fallbacks.inc({ model, from_provider: from, to_provider: to });
    const left = this.counts.get(from);
    if (left) left.fallbacksFrom += 1;
    const took = this.counts.get(to);
    if (took) took.fallbacksTo += 1;
  }

  shutdown(): void {
    this.breakers.shutdown();
  }
}

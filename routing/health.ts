/** What routing knows of a deployment's recent behaviour, in one worker process. */

export type BreakerState = 'closed' | 'half_open' | 'open';

/**
 * The breaker's rolling window in this process (its last `rolling_window_ms`): the figures it
 * opens on, so the board's error rate is a recent one, not one diluted since the worker started.
 */
export interface BreakerWindow {
  windowMs: number;
  /** Calls made to the upstream in the window (not those refused without calling). */
  calls: number;
  /** Calls that counted against the upstream (client errors, rate limits and cancellations do not). */
  failures: number;
  /** Calls refused without calling the upstream: the breaker open, or the deployment at max_concurrency. */
  refused: number;
}

/** One deployment as a worker sees it: `GET /admin/v1/providers` shows one per live worker. */
export interface DeploymentHealth {
  state: BreakerState;
  /** Exponentially weighted mean latency of successful calls, in ms. */
  latencyMs?: number;
  /** Calls since the worker started that succeeded, and that failed (any outcome but success). */
  successes: number;
  failures: number;
  recent: BreakerWindow;
  /** Jobs that moved on to another deployment after this one's call failed. */
  fallbacksFrom: number;
  /** Jobs this deployment took over after another one's call failed. */
  fallbacksTo: number;
  lastError?: string;
  /** A 429 asked us to wait until then (epoch ms, this process). */
  coolingDownUntil?: number;
}

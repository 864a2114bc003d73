/** What routing knows of a deployment's recent behaviour, in one worker process. */

export type BreakerState = 'closed' | 'half_open' | 'open';

/** One deployment as a worker sees it: `GET /admin/v1/providers` shows one per live worker. */
export interface DeploymentHealth {
  state: BreakerState;
  /** Exponentially weighted mean latency of successful calls, in ms. */
  latencyMs?: number;
  successes: number;
  failures: number;
  /** Jobs that moved on to another deployment after this one's call failed. */
  fallbacksFrom: number;
  /** Jobs this deployment took over after another one's call failed. */
  fallbacksTo: number;
  lastError?: string;
  /** A 429 asked us to wait until then (epoch ms, this process). */
  coolingDownUntil?: number;
}

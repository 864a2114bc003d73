import type { DeploymentStats } from './plan';

/** Weight of the newest measurement in the moving mean. */
const LATENCY_SMOOTHING = 0.3;

/** Mean latency of successful calls per deployment (exponentially weighted), for `fastest`. */
export class LatencyTracker {
  private readonly meanMs = new Map<string, number>();

  record(deploymentId: string, ms: number): void {
    const mean = this.meanMs.get(deploymentId);
    this.meanMs.set(deploymentId, mean === undefined ? ms : mean + LATENCY_SMOOTHING * (ms - mean));
  }

  stats = (deploymentId: string): DeploymentStats | undefined => {
    const latencyMs = this.meanMs.get(deploymentId);
    return latencyMs === undefined ? undefined : { latencyMs };
  };
}

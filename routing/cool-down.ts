/**
 * Deployments that answered 429 with a Retry-After, and until when routing leaves them alone.
 * Per process: each worker honours the Retry-After it was given.
 */
export class CoolDowns {
  private readonly until = new Map<string, number>();

  constructor(private readonly clock: () => number = Date.now) {}

  start(deploymentId: string, retryAfterMs: number): void {
    this.until.set(deploymentId, this.clock() + retryAfterMs);
  }

  /** Ms left before the deployment may be called again; 0 when it may be called now. */
  remainingMs(deploymentId: string): number {
    const until = this.until.get(deploymentId);
    return until === undefined ? 0 : Math.max(0, until - this.clock());
  }

  endsAt(deploymentId: string): number | undefined {
    return this.until.get(deploymentId);
  }
}

/**
 * Requests-per-second limits as token buckets, one per account, held in this process's memory.
 * With several API replicas each enforces the limit on its own share of the traffic: a platform
 * team running N replicas behind a load balancer should set an account's limit to the total
 * divided by N (or accept up to N× bursts). The concurrent-jobs limit, by contrast, is exact
 * across replicas: it lives in the ledger.
 */
export class RequestRateLimiter {
  private readonly buckets = new Map<string, { tokens: number; updated: number; rate: number }>();

  constructor(
    private readonly clock: () => number = () => Date.now(),
    private readonly maxIdleMs = 60_000,
  ) {}

  /** Takes one token; returns 0 when allowed, else the seconds until a token is available. */
  take(key: string, perSecond: number): number {
    const now = this.clock();
    let bucket = this.buckets.get(key);
    if (!bucket || bucket.rate !== perSecond) {
      bucket = { tokens: perSecond, updated: now, rate: perSecond };
      this.buckets.set(key, bucket);
    }
    // Burst capacity equals one second's worth of requests.
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.updated) / 1000) * perSecond);
    bucket.updated = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      if (this.buckets.size > 10_000) this.sweep(now);
      return 0;
    }
    return (1 - bucket.tokens) / perSecond;
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (now - bucket.updated > this.maxIdleMs) this.buckets.delete(key);
    }
  }
}

import type { NextFunction, Request, Response } from 'express';
import type { AccountService } from '../core/accounts/accounts';
import { tooManyRequests } from './errors';

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

/**
 * Reads one account may have in flight in this process. Above it a read is refused at once (429)
 * rather than queued: a tenant with many concurrent loops gets its share of the database, not
 * all of it. Long-polls (`?wait=`) are not counted: they wait on timers, not on the database.
 */
const MAX_READS_IN_FLIGHT = 4;

/**
 * Reads (GET under /v1: jobs, lists, usage, the account) count against the account's
 * reads-per-second limit, apart from its submissions, and against MAX_READS_IN_FLIGHT: a tenant's
 * read loop gets 429s with Retry-After instead of slowing every tenant's requests. A long-poll
 * counts once, when it starts.
 */
export function limitReads(
  accounts: Pick<AccountService, 'effectiveRateLimits'>,
  limiter: RequestRateLimiter,
  observe?: (plan: string, limit: 'reads_per_second' | 'reads_in_flight') => void,
) {
  const inFlight = new Map<string, number>();
  return (req: Request, res: Response, next: NextFunction): void => {
    const account = req.account;
    if (!account || (req.method !== 'GET' && req.method !== 'HEAD')) return next();
    const perSecond = accounts.effectiveRateLimits(account).reads_per_second;
    const wait = limiter.take(`reads:${account._id}`, perSecond);
    if (wait > 0) {
      observe?.(account.plan, 'reads_per_second');
      throw tooManyRequests(
        'rate_limited',
        `Too many reads: this account may read ${perSecond} times per second. Retry after the time in Retry-After; poll a job with ?wait= instead of a loop.`,
        wait,
        { limit: 'reads_per_second', value: perSecond },
      );
    }
    if (req.query.wait !== undefined && req.query.wait !== '0') return next();
    const running = inFlight.get(account._id) ?? 0;
    if (running >= MAX_READS_IN_FLIGHT) {
      observe?.(account.plan, 'reads_in_flight');
      throw tooManyRequests(
        'rate_limited',
        `Too many reads at once: this account may have ${MAX_READS_IN_FLIGHT} reads in flight. Wait for one to answer before sending the next.`,
        1,
        { limit: 'reads_in_flight', value: MAX_READS_IN_FLIGHT },
      );
    }
    inFlight.set(account._id, running + 1);
    let done = false;
    const finished = (): void => {
      if (done) return;
      done = true;
      const left = (inFlight.get(account._id) ?? 1) - 1;
      if (left <= 0) inFlight.delete(account._id);
      else inFlight.set(account._id, left);
    };
    res.once('finish', finished);
    res.once('close', finished);
    next();
  };
}

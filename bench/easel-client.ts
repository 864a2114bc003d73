import { randomBytes } from 'node:crypto';
import { isTerminal } from '../core/jobs/store';
import type { JobView } from '../core/jobs/view';
import { forEachConcurrently } from './load';
import { sleep } from './stats';

/** A zero-latency sandbox job takes well under a second: two minutes means it is stuck. */
export const JOB_TIMEOUT_MS = 120_000;

export const BENCH_JOB = { model: 'flux-2-dev', prompt: 'bench' } as const;

/** Easel's answer to a request: its status and JSON body. */
export interface Answer<T> {
  status: number;
  body: T;
}

export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    what: string,
    body: unknown,
  ) {
    super(`${what}: HTTP ${status} ${JSON.stringify(body)}`);
  }
}

/**
 * A tiny JSON client over Node's fetch (undici underneath: keep-alive connections, pooled per
 * origin), so the load generator reuses connections as a real client library would.
 */
export class EaselClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<Answer<T>> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    try {
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
    } catch {
      // A proxy's HTML error page: keep its status and text for the report.
      return { status: res.status, body: { text: text.slice(0, 500) } as T };
    }
  }

  /** `POST /v1/imagine` with the benchmark's job: 202 and the job, or another status. */
  async imagine(): Promise<Answer<JobView>> {
    return this.request<JobView>('POST', '/v1/imagine', BENCH_JOB);
  }

  /** Submits one job and fails unless it is accepted. */
  async submit(): Promise<JobView> {
    const answer = await this.imagine();
    if (answer.status !== 202) throw new HttpError(answer.status, 'POST /v1/imagine', answer.body);
    return answer.body;
  }

  /** Submits `count` jobs, `concurrency` at a time, without following them. */
  async submitMany(count: number, concurrency: number): Promise<void> {
    await forEachConcurrently(count, concurrency, async () => {
      await this.submit();
    });
  }

  /**
   * Long-polls `GET /v1/jobs/:id?wait=30` until the job is terminal, or `timeoutMs` has passed
   * (then the job as last seen: a stuck job must not stall a whole benchmark).
   */
  async waitForJob(id: string, timeoutMs = JOB_TIMEOUT_MS): Promise<JobView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await this.request<JobView>('GET', `/v1/jobs/${id}?wait=30`);
      if (answer.status !== 200) throw new HttpError(answer.status, `GET /v1/jobs/${id}`, answer.body);
      if (isTerminal(answer.body.status) || Date.now() > deadline) return answer.body;
    }
  }

  /** Waits until the account runs no job (the backlog of a load step has drained). */
  async waitUntilIdle(options: { everyMs?: number; timeoutMs?: number } = {}): Promise<void> {
    const { everyMs = 250, timeoutMs = 3_600_000 } = options;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await this.request<{ running_jobs: number }>('GET', '/v1/account');
      if (answer.status !== 200) throw new HttpError(answer.status, 'GET /v1/account', answer.body);
      if (answer.body.running_jobs === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`jobs still running after ${timeoutMs} ms: ${answer.body.running_jobs}`);
      }
      await sleep(everyMs);
    }
  }
}

/**
 * Creates the benchmark's account through the admin API: the top plan, limits lifted out of
 * the way (the benchmark measures Easel, not its rate limiter), credits for every job it runs.
 */
export async function createBenchAccount(
  baseUrl: string,
  adminToken: string,
  credits: number,
): Promise<{ accountId: string; client: EaselClient }> {
  const admin = new EaselClient(baseUrl, adminToken);
  const expect = async <T>(status: number, method: string, path: string, body: unknown): Promise<T> => {
    const answer = await admin.request<T>(method, `/admin/v1${path}`, body);
    if (answer.status !== status)
      throw new HttpError(answer.status, `${method} /admin/v1${path}`, answer.body);
    return answer.body;
  };
  const suffix = randomBytes(4).toString('hex');
  const account = await expect<{ id: string }>(201, 'POST', '/accounts', {
    name: `bench ${suffix}`,
    plan: 'scale-2',
  });
  await expect(200, 'PATCH', `/accounts/${account.id}`, {
    rate_limits: { requests_per_second: 100_000, concurrent_jobs: 100_000 },
  });
  await expect(201, 'POST', `/accounts/${account.id}/grants`, {
    credits,
    idempotency_key: `bench-${suffix}`,
    reason: 'benchmark',
  });
  const key = await expect<{ key: string }>(201, 'POST', `/accounts/${account.id}/keys`, { name: 'bench' });
  return { accountId: account.id, client: new EaselClient(baseUrl, key.key) };
}

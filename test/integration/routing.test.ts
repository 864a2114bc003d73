import { BflFake } from '../fakes/bfl-fake';
import { METRICS_TOKEN, startTestEasel, type TestEasel } from '../support/easel';
import { bflDeployment, waitFor, writeConfig } from '../support/config';
import type { JobView } from '../../core/jobs/view';

const BFL_KEY = 'bfl-routing-key';
process.env.TEST_BFL_KEY = BFL_KEY;

async function metricValue(easel: TestEasel, pattern: RegExp): Promise<number> {
  const text = (await easel.call<string>('GET', '/metrics', { token: METRICS_TOKEN })).body;
  return text
    .split('\n')
    .filter((l) => pattern.test(l))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
}

describe('routing across deployments', () => {
  const a = new BflFake({ apiKey: BFL_KEY, pendingMs: 100, moderatedWords: ['forbidden'] });
  const b = new BflFake({ apiKey: BFL_KEY, pendingMs: 100 });
  let easel: TestEasel;
  let key: string;

  beforeAll(async () => {
    await Promise.all([a.start(), b.start()]);
    const config = writeConfig({
      providers: {
        default_strategy: 'priority',
        deployments: [
          bflDeployment('bfl-a', a, {
            priority: 1,
            timeout_ms: 1_500,
            models: {
              'flux-2-dev': { upstream_model: 'flux-dev', cost_usd_micros: 25_000 },
              'flux-2-max': { upstream_model: 'flux-2-max', cost_usd_micros: 70_000 },
            },
            breaker: {
              volume_threshold: 3,
              error_threshold_percent: 50,
              reset_timeout_ms: 2_000,
              rolling_window_ms: 10_000,
            },
          }),
          bflDeployment('bfl-b', b, {
            priority: 2,
            models: {
              'flux-2-dev': { upstream_model: 'flux-dev', cost_usd_micros: 30_000 },
              'flux-schnell': { upstream_model: 'flux-dev', cost_usd_micros: 3_000 },
            },
          }),
        ],
      },
    });
    easel = await startTestEasel({ env: { EASEL_CONFIG: config } });
    const account = await easel.newAccount('scale-2');
    key = account.key;
    await easel.admin('PATCH', `/accounts/${account.id}`, {
      rate_limits: { requests_per_second: 1_000, concurrent_jobs: 1_000 },
    });
  });
  afterAll(async () => {
    await easel?.stop();
    await Promise.all([a.close(), b.close()]);
  });

  const run = async (body: Record<string, unknown>): Promise<JobView> => {
    const submitted = await easel.call<JobView>('POST', '/v1/imagine', { token: key, body });
    expect(submitted.status).toBe(202);
    return waitFor(
      () =>
        easel
          .call<JobView>('GET', `/v1/jobs/${submitted.body.id}?wait=10`, { token: key })
          .then((r) => r.body),
      (j) => ['succeeded', 'failed', 'canceled'].includes(j.status),
      60_000,
      0,
    );
  };
  const breakerState = async (id: string): Promise<string | undefined> => {
    const status = await easel.admin<{
      deployments: Array<{ id: string; workers: Array<{ state: string }> }>;
    }>('GET', '/providers');
    return status.body.deployments.find((d) => d.id === id)?.workers[0]?.state;
  };

  it('opens A’s breaker on 503s while every job succeeds through B, then probes A half-open and returns to it', async () => {
    a.inject({ on: 'submit', status: 503, times: 1_000 });
    const jobs: JobView[] = [];
    for (let i = 0; i < 8; i++) jobs.push(await run({ model: 'flux-2-dev', prompt: `outage ${i}` }));
    expect(jobs.every((j) => j.status === 'succeeded' && j.provider === 'bfl-b')).toBe(true);
    const outcomesOnA = jobs.map((j) => j.attempts.find((x) => x.provider === 'bfl-a')?.outcome);
    expect(outcomesOnA.slice(0, 3)).toEqual(['error', 'error', 'error']);
    expect(outcomesOnA.slice(3)).toContain('circuit_open');
    expect(a.requestCount('POST', '/v1/')).toBeLessThan(8); // the open breaker stopped the calls
    // Open, or already half-open if the reset timeout passed on a slow machine: never closed.
    expect(
      await metricValue(easel, /^easel_circuit_breaker_state\{provider="bfl-a"\}/),
    ).toBeGreaterThanOrEqual(1);
    expect(['open', 'half_open']).toContain(await breakerState('bfl-a'));
    expect(
      await metricValue(
        easel,
        /^easel_provider_fallbacks_total\{.*from_provider="bfl-a",to_provider="bfl-b"/,
      ),
    ).toBeGreaterThanOrEqual(8);

    // A recovers; after the reset timeout one probe goes through and closes the breaker.
    a.clearFaults();
    await new Promise((r) => setTimeout(r, 2_200));
    const probe = await run({ model: 'flux-2-dev', prompt: 'probe' });
    expect(probe.provider).toBe('bfl-a');
    await waitFor(
      () => breakerState('bfl-a'),
      (s) => s === 'closed',
      10_000,
    );
    const after = await run({ model: 'flux-2-dev', prompt: 'back to normal' });
    expect(after).toMatchObject({ status: 'succeeded', provider: 'bfl-a' });
  });

  it('falls back from a hanging deployment within its own timeout, not the activity’s', async () => {
    a.inject({ on: 'submit', hang: true, times: 1 });
    const started = Date.now();
    const job = await run({ model: 'flux-2-dev', prompt: 'hang' });
    expect(job).toMatchObject({ status: 'succeeded', provider: 'bfl-b' });
    expect(job.attempts[0]).toMatchObject({ provider: 'bfl-a', outcome: 'timeout' });
    expect(job.attempts[0]!.duration_ms).toBeGreaterThanOrEqual(1_400);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('honours a 429’s Retry-After before calling that deployment again', async () => {
    a.inject({ on: 'submit', status: 429, retryAfter: '2', times: 1 });
    const first = await run({ model: 'flux-2-dev', prompt: 'rate limited' });
    expect(first).toMatchObject({ status: 'succeeded', provider: 'bfl-b' });
    expect(first.attempts[0]).toMatchObject({ provider: 'bfl-a', outcome: 'rate_limited' });
    const during = await run({ model: 'flux-2-dev', prompt: 'during cool-down' });
    expect(during.attempts[0]).toMatchObject({ provider: 'bfl-a', outcome: 'skipped' });
    expect(during.provider).toBe('bfl-b');
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await run({ model: 'flux-2-dev', prompt: 'after cool-down' })).provider).toBe('bfl-a');
  });

  it('does not retry a content-policy refusal on another deployment', async () => {
    const job = await run({ model: 'flux-2-dev', prompt: 'something forbidden' });
    expect(job).toMatchObject({ status: 'failed', credits_charged: 0, error: { code: 'content_policy' } });
    expect(job.attempts.map((x) => x.provider)).toEqual(['bfl-a']);
    expect(b.submissionCount('something forbidden')).toBe(0);
  });

  it('fails with an error naming every attempt when all deployments are down, releasing the credits', async () => {
    a.inject({ on: 'submit', status: 500, times: 3 });
    b.inject({ on: 'submit', status: 503, times: 1 });
    const before = (
      await easel.call<{ balance: { available: number } }>('GET', '/v1/account', { token: key })
    ).body.balance.available;
    const job = await run({ model: 'flux-2-dev', prompt: 'everything is down' });
    expect(job.status).toBe('failed');
    expect(job.error?.code).toBe('all_providers_failed');
    expect(job.error?.message).toMatch(/bfl-a\/flux-2-dev: error.*bfl-b\/flux-2-dev: error/);
    const after = (
      await easel.call<{ balance: { available: number; held: number } }>('GET', '/v1/account', { token: key })
    ).body.balance;
    expect(after.available).toBe(before);
    a.clearFaults();
  });

  it('falls back to an allowed cheaper model, charging its credits and releasing the rest', async () => {
    a.inject({ on: 'submit', status: 503, times: 1 });
    const before = (
      await easel.call<{ balance: { available: number } }>('GET', '/v1/account', { token: key })
    ).body.balance.available;
    const job = await run({
      model: 'flux-2-max',
      prompt: 'premium, or whatever works',
      fallback_models: ['flux-schnell'],
    });
    expect(job).toMatchObject({
      status: 'succeeded',
      model: 'flux-schnell',
      provider: 'bfl-b',
      credits_reserved: 4,
      credits_charged: 1,
    });
    expect(job.attempts.map((x) => `${x.provider}/${x.model}:${x.outcome}`)).toEqual([
      'bfl-a/flux-2-max:error',
      'bfl-b/flux-schnell:success',
    ]);
    const after = (
      await easel.call<{ balance: { available: number; held: number } }>('GET', '/v1/account', { token: key })
    ).body.balance;
    expect(after).toMatchObject({ available: before - 1, held: 0 });
    const audit = await easel.admin<{ violations: unknown[] }>('POST', '/audit');
    expect(audit.body.violations).toEqual([]);
  });

  it('tells upstream health from the traffic it carries: reading the provider board calls no upstream', async () => {
    // LiteLLM's /health makes a real (paid) generation per deployment; Easel's health is the
    // breakers, latencies and error counts of the calls jobs made anyway. (Last: the tests above
    // share the deployments' breakers, and this one must not add a job to their history.)
    const calls = () => [a, b].map((fake) => fake.requestCount('POST', '/') + fake.requestCount('GET', '/'));
    const before = calls();
    for (let i = 0; i < 5; i++) {
      const board = await easel.admin<{ deployments: Array<{ id: string }> }>('GET', '/providers');
      expect(board.body.deployments.map((d) => d.id)).toEqual(expect.arrayContaining(['bfl-a', 'bfl-b']));
      expect((await easel.call('GET', '/readyz')).status).toBe(200);
    }
    expect(calls()).toEqual(before);
  });
});

describe('weighted load balancing', () => {
  let easel: TestEasel;
  afterAll(() => easel?.stop());

  it('splits traffic about 3:1 over 400 jobs between deployments weighted 3 and 1', async () => {
    const models = { 'flux-2-dev': { upstream_model: 'flux-2-dev', cost_usd_micros: 0 } };
    easel = await startTestEasel({
      env: {
        EASEL_CONFIG: writeConfig({
          providers: {
            deployments: [
              { id: 'heavy', type: 'sandbox', weight: 3, models, options: { latency_ms: 0, long_side: 64 } },
              { id: 'light', type: 'sandbox', weight: 1, models, options: { latency_ms: 0, long_side: 64 } },
            ],
          },
        }),
      },
    });
    const account = await easel.newAccount('scale-2');
    await easel.admin('PATCH', `/accounts/${account.id}`, {
      rate_limits: { requests_per_second: 1_000, concurrent_jobs: 1_000 },
    });
    const ids: string[] = [];
    for (let batch = 0; batch < 20; batch++) {
      const submitted = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          easel.call<JobView>('POST', '/v1/imagine', {
            token: account.key,
            body: { model: 'flux-2-dev', prompt: `w ${batch}-${i}` },
          }),
        ),
      );
      ids.push(...submitted.map((r) => r.body.id));
    }
    const jobs = await Promise.all(
      ids.map((id) =>
        waitFor(
          () =>
            easel.call<JobView>('GET', `/v1/jobs/${id}?wait=30`, { token: account.key }).then((r) => r.body),
          (j) => j.status === 'succeeded',
          200_000,
          0,
        ),
      ),
    );
    const heavy = jobs.filter((j) => j.provider === 'heavy').length;
    expect(jobs).toHaveLength(400);
    // 300 expected; ±45 is over 5 standard deviations of a binomial(400, 0.75).
    expect(heavy).toBeGreaterThan(255);
    expect(heavy).toBeLessThan(345);
  }, 300_000);
});

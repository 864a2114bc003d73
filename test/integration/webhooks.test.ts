import { Webhook } from 'standardwebhooks';
import { startTestEasel, type TestEasel } from '../support/easel';
import { sandboxProviders, waitFor, writeConfig } from '../support/config';
import { WebhookReceiver } from '../support/webhook-receiver';
import type { JobView } from '../../core/jobs/view';

describe('signed webhooks', () => {
  const receiver = new WebhookReceiver();
  let easel: TestEasel;
  let key: string;
  let secret: string;

  beforeAll(async () => {
    await receiver.start();
    easel = await startTestEasel({
      env: {
        EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 100 }) }),
        EASEL_WEBHOOK_ALLOW_PRIVATE: 'true',
        EASEL_WEBHOOK_INITIAL_RETRY_MS: '300',
      },
    });
    const account = await easel.newAccount('scale-2');
    key = account.key;
    secret = (await easel.call<{ secret: string }>('GET', '/v1/webhooks/secret', { token: key })).body.secret;
  });
  afterAll(async () => {
    await easel?.stop();
    await receiver.close();
  });

  const submit = async (prompt: string): Promise<string> => {
    const r = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt, webhook_url: receiver.url },
    });
    expect(r.status).toBe(202);
    return r.body.id;
  };
  const job = (id: string): Promise<JobView> =>
    easel.call<JobView>('GET', `/v1/jobs/${id}`, { token: key }).then((r) => r.body);

  it('delivers job.succeeded and job.failed, each verifying with standardwebhooks; a tampered body does not', async () => {
    expect(secret).toMatch(/^whsec_/);
    const ok = await submit('hooked');
    const bad = await submit('hooked [fail]');
    const [okDelivery] = await waitFor(
      async () => receiver.forJob(ok),
      (d) => d.length === 1,
    );
    const [badDelivery] = await waitFor(
      async () => receiver.forJob(bad),
      (d) => d.length === 1,
    );
    const verifier = new Webhook(secret);
    const event = verifier.verify(okDelivery!.body, okDelivery!.headers) as {
      type: string;
      data: { id: string; status: string; images: unknown[] };
    };
    expect(event.type).toBe('job.succeeded');
    expect(event.data).toMatchObject({ id: ok, status: 'succeeded' });
    expect(event.data.images).toHaveLength(1);
    expect((verifier.verify(badDelivery!.body, badDelivery!.headers) as { type: string }).type).toBe(
      'job.failed',
    );
    const tampered = okDelivery!.body.replace('"succeeded"', '"failed"');
    expect(() => verifier.verify(tampered, okDelivery!.headers)).toThrow();
    expect(
      await waitFor(
        () => job(ok),
        (j) => j.webhook?.state === 'delivered',
      ),
    ).toMatchObject({ webhook: { attempts: [{ status: 200, outcome: 'delivered' }] } });
  });

  it('keeps retrying a receiver that answers 503 for a while, without holding the job back', async () => {
    receiver.answerNext(503, 503);
    const id = await submit('flaky receiver');
    const done = await waitFor(
      () => job(id),
      (j) => j.status === 'succeeded',
    );
    const deliveries = await waitFor(
      async () => receiver.forJob(id),
      (d) => d.some((x) => x.status === 200),
      30_000,
    );
    expect(deliveries.map((d) => d.status)).toEqual([503, 503, 200]);
    // The job and its credits were final before the first delivery attempt.
    expect(Date.parse(done.completed_at!)).toBeLessThanOrEqual(deliveries[0]!.at);
    expect(new Set(deliveries.map((d) => d.headers['webhook-id'])).size).toBe(1);
    const final = await waitFor(
      () => job(id),
      (j) => j.webhook?.state === 'delivered',
    );
    expect(final.webhook!.attempts.map((a) => a.outcome)).toEqual(['failed', 'failed', 'delivered']);
  });

  it('stops retrying on 410 Gone', async () => {
    receiver.answerNext(410);
    const id = await submit('receiver gone');
    await waitFor(
      () => job(id),
      (j) => j.webhook?.state === 'gone',
    );
    await new Promise((r) => setTimeout(r, 1_500));
    expect(receiver.forJob(id).map((d) => d.status)).toEqual([410]);
  });

  it('signs with both secrets during a rotation, so a receiver holding either verifies', async () => {
    const rotated = await easel.call<{ secret: string; previous_expires_at: string }>(
      'POST',
      '/v1/webhooks/secret/rotate',
      { token: key },
    );
    expect(rotated.status).toBe(201);
    expect(rotated.body.secret).not.toBe(secret);
    expect(Date.parse(rotated.body.previous_expires_at) - Date.now()).toBeGreaterThan(23 * 3600 * 1000);
    const id = await submit('during rotation');
    const [delivery] = await waitFor(
      async () => receiver.forJob(id),
      (d) => d.length === 1,
    );
    expect(delivery!.headers['webhook-signature']!.split(' ')).toHaveLength(2);
    expect(() => new Webhook(secret).verify(delivery!.body, delivery!.headers)).not.toThrow();
    expect(() => new Webhook(rotated.body.secret).verify(delivery!.body, delivery!.headers)).not.toThrow();
    expect(() =>
      new Webhook(`whsec_${Buffer.from('someone else').toString('base64')}`).verify(
        delivery!.body,
        delivery!.headers,
      ),
    ).toThrow();
  });
});

describe('webhook targets', () => {
  let easel: TestEasel;
  beforeAll(async () => {
    easel = await startTestEasel({
      env: {
        EASEL_WEBHOOK_ALLOW_PRIVATE: 'false',
        EASEL_CONFIG: writeConfig({ providers: sandboxProviders() }),
      },
    });
  });
  afterAll(() => easel.stop());

  it('refuses private and loopback targets with 400 at submit, reserving nothing', async () => {
    const { key } = await easel.newAccount('pro');
    for (const url of [
      'http://127.0.0.1:9/hook',
      'http://10.1.2.3/hook',
      'http://[::1]/hook',
      'http://169.254.169.254/latest',
      'http://localhost/hook',
    ]) {
      const r = await easel.call<{ error: { code: string } }>('POST', '/v1/imagine', {
        token: key,
        body: { model: 'flux-2-dev', prompt: 'x', webhook_url: url },
      });
      expect([url, r.status, r.body.error.code]).toEqual([url, 400, 'webhook_url_refused']);
    }
    const account = await easel.call<{ balance: { held: number }; running_jobs: number }>(
      'GET',
      '/v1/account',
      { token: key },
    );
    expect(account.body).toMatchObject({ balance: { held: 0 }, running_jobs: 0 });
  });
});

describe('GET /v1/usage', () => {
  let easel: TestEasel;
  beforeAll(async () => {
    easel = await startTestEasel({
      env: { EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 50 }) }) },
    });
  });
  afterAll(() => easel.stop());

  it('matches the ledger to the credit over succeeded and failed jobs, and prices what auto routing would have charged', async () => {
    const { key } = await easel.newAccount('hobby');
    const bodies = [
      { model: 'midjourney', task: 'prototyping', prompt: 'a', n: 2 }, // auto → flux-2-dev: 2 credits instead of 8
      { model: 'ideogram-v3', task: 'text-in-image', prompt: 'b' }, // auto picks the same model
      { model: 'nano-banana', prompt: 'c' },
      { model: 'flux-2-max', prompt: 'd [fail]' },
      { model: 'nano-banana-2', task: 'marketing', prompt: 'e [fail]' },
    ];
    const ids: string[] = [];
    for (const body of bodies) {
      ids.push((await easel.call<JobView>('POST', '/v1/imagine', { token: key, body })).body.id);
      await new Promise((r) => setTimeout(r, 550)); // hobby: 2 requests per second
    }
    for (const id of ids)
      await waitFor(
        () => easel.call<JobView>('GET', `/v1/jobs/${id}?wait=10`, { token: key }).then((r) => r.body),
        (j) => j.status !== 'queued' && j.status !== 'running',
      );

    const usage = await easel.call<{
      total: {
        credits_charged: number;
        images: number;
        jobs_succeeded: number;
        jobs_failed: number;
        credits_not_charged: number;
        usd: number;
        auto: Record<string, number>;
      };
      data: Array<{ model: string; credits_charged: number }>;
    }>('GET', '/v1/usage?group_by=model', { token: key });
    const account = await easel.call<{ balance: { captured: number; held: number } }>('GET', '/v1/account', {
      token: key,
    });
    expect(usage.body.total.credits_charged).toBe(account.body.balance.captured);
    expect(usage.body.total).toMatchObject({
      credits_charged: 15,
      images: 4,
      jobs_succeeded: 3,
      jobs_failed: 2,
      credits_not_charged: 7,
    });
    expect(usage.body.total.usd).toBeCloseTo((15 * 19) / 1100, 4);
    expect(usage.body.total.auto).toEqual({
      jobs_with_task: 2,
      credits_charged: 13,
      credits_with_auto: 7,
      credits_saved: 6,
    });
    expect(usage.body.data.find((r) => r.model === 'midjourney')?.credits_charged).toBe(8);
    const byDay = await easel.call<{ data: Array<{ day: string; credits_charged: number }> }>(
      'GET',
      '/v1/usage?group_by=day',
      { token: key },
    );
    expect(byDay.body.data.reduce((s, r) => s + r.credits_charged, 0)).toBe(15);
    expect((await easel.call('GET', '/v1/usage?from=not-a-date', { token: key })).status).toBe(400);
  });
});

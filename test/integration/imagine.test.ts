import { WorkflowNotFoundError } from '@temporalio/client';
import { PNG } from 'pngjs';
import { sha256Hex } from '../../platform/ids';
import { startTestEasel, type TestEasel } from '../support/easel';
import { sandboxProviders, waitFor, writeConfig } from '../support/config';
import type { JobView } from '../../core/jobs/view';

interface Account {
  balance: { available: number; held: number; captured: number };
  running_jobs: number;
}
interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

describe('POST /v1/imagine on the sandbox provider', () => {
  let easel: TestEasel;
  beforeAll(async () => {
    easel = await startTestEasel({
      env: { EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 300 }) }) },
    });
  });
  afterAll(() => easel.stop());

  const account = (key: string): Promise<Account> =>
    easel.call<Account>('GET', '/v1/account', { token: key }).then((r) => r.body);
  const job = (key: string, id: string, wait = 0): Promise<JobView> =>
    easel.call<JobView>('GET', `/v1/jobs/${id}?wait=${wait}`, { token: key }).then((r) => r.body);
  const audit = async (): Promise<unknown[]> =>
    (await easel.admin<{ violations: unknown[] }>('POST', '/audit')).body.violations;

  it('runs a job queued → running → succeeded, serves its PNG and charges its credits once', async () => {
    const { key } = await easel.newAccount('hobby');
    const before = await account(key);
    const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'nano-banana', prompt: 'a red fox in snow', aspect_ratio: '16:9', n: 2 },
    });
    expect(submitted.status).toBe(202);
    expect(submitted.body).toMatchObject({ status: 'queued', model: 'nano-banana', credits_reserved: 4 });
    expect((await account(key)).balance.held).toBe(4);

    const seen = new Set<string>();
    const done = await waitFor(
      async () => {
        const j = await job(key, submitted.body.id);
        seen.add(j.status);
        return j;
      },
      (j) => j.status === 'succeeded',
      20_000,
      50,
    );
    expect(seen.has('running') || seen.has('queued')).toBe(true);
    expect(done).toMatchObject({ provider: 'sandbox', sandbox: true, credits_charged: 4, error: null });
    expect(done.images).toHaveLength(2);
    const img = done.images[0]!;
    expect(img.content_type).toBe('image/png');
    const res = await fetch(img.url);
    expect(res.status).toBe(200);
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    expect([png.width, png.height]).toEqual([img.width, img.height]);
    expect(png.width).toBeGreaterThan(png.height);

    const after = await account(key);
    expect(after.balance).toMatchObject({ available: before.balance.available - 4, held: 0, captured: 4 });
    expect(await audit()).toEqual([]);
  });

  it('answers a long-poll that ends with the job the same as a later read of it', async () => {
    const { key } = await easel.newAccount('hobby');
    const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'nano-banana', prompt: 'a waited-for lighthouse', n: 2, metadata: { ref: 'w-1' } },
    });
    // The waited answer comes from the workflow's result, the later one from the database.
    const waited = await job(key, submitted.body.id, 20);
    expect(waited.status).toBe('succeeded');
    const read = await job(key, submitted.body.id);
    // Image URLs are signed when answered; the rest must be the same document.
    const withoutUrls = (j: JobView) => ({ ...j, images: j.images.map(({ url: _url, ...image }) => image) });
    expect(withoutUrls(waited)).toEqual(withoutUrls(read));
    expect(waited.images).toHaveLength(2);
    expect(waited.started_at).not.toBeNull();
    expect(Date.parse(waited.completed_at!)).toBeGreaterThanOrEqual(Date.parse(waited.started_at!));
  });

  it('long-polls a running job for a fractional wait', async () => {
    const { key } = await easel.newAccount('hobby');
    const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: 'a short wait' },
    });
    const polled = await easel.call<JobView>('GET', `/v1/jobs/${submitted.body.id}?wait=0.3333`, {
      token: key,
    });
    expect(polled.status).toBe(200);
    expect(['queued', 'running', 'succeeded']).toContain(polled.body.status);
  });

  it('ends a failing job failed, with an error that names the attempts, and releases every credit', async () => {
    const { key } = await easel.newAccount('hobby');
    const before = await account(key);
    const submitted = await easel.call<JobView>('POST', '/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: 'this one breaks [fail]' },
    });
    expect(submitted.status).toBe(202);
    const failed = await job(key, submitted.body.id, 20);
    expect(failed.status).toBe('failed');
    expect(failed.error?.code).toBe('all_providers_failed');
    expect(failed.error?.message).toMatch(/sandbox/);
    expect(failed.attempts).toEqual([expect.objectContaining({ provider: 'sandbox', outcome: 'error' })]);
    expect(failed.credits_charged).toBe(0);
    expect((await account(key)).balance).toMatchObject({
      available: before.balance.available,
      held: 0,
      captured: 0,
    });
  });

  it('ends a content-policy refusal with its own error code and no charge', async () => {
    const { key } = await easel.newAccount('hobby');
    const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: 'nope [content_policy]' },
    });
    const failed = await job(key, submitted.body.id, 20);
    expect(failed).toMatchObject({ status: 'failed', credits_charged: 0, error: { code: 'content_policy' } });
  });

  it('cancels a running job and releases its credits; cancelling a finished job says so', async () => {
    const { key } = await easel.newAccount('hobby');
    const before = await account(key);
    const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'midjourney', prompt: 'never ends [timeout]' },
    });
    await waitFor(
      () => job(key, submitted.body.id),
      (j) => j.status === 'running',
    );
    const canceled = await easel.call<JobView>('POST', `/v1/jobs/${submitted.body.id}/cancel`, {
      token: key,
    });
    expect(canceled.status).toBe(200);
    expect(canceled.body).toMatchObject({ status: 'canceled', credits_charged: 0 });
    expect((await account(key)).balance).toMatchObject({ available: before.balance.available, held: 0 });
    const again = await easel.call<ErrorBody>('POST', `/v1/jobs/${submitted.body.id}/cancel`, { token: key });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('job_already_finished');
    expect(await audit()).toEqual([]);
  });

  it('answers 402 when credits are short, leaving no job, no hold and no running workflow', async () => {
    const { id, key } = await easel.newAccount(); // trial: 25 credits
    const first = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'ideogram-v3', prompt: 'logo', n: 4 },
    });
    expect(first.status).toBe(202);
    await job(key, first.body.id, 20);
    await new Promise((r) => setTimeout(r, 1_100)); // the trial plan allows one request per second
    const short = await easel.call<ErrorBody>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'ideogram-v3', prompt: 'logo', n: 4 },
      headers: { 'Idempotency-Key': 'short-1' },
    });
    expect(short.status).toBe(402);
    expect(short.body.error).toMatchObject({
      code: 'insufficient_credits',
      details: { available: 5, required: 20 },
    });
    expect((await account(key)).balance).toMatchObject({ available: 5, held: 0 });
    const list = await easel.call<{ data: JobView[] }>('GET', '/v1/jobs', { token: key });
    expect(list.body.data.map((j) => j.id)).toEqual([first.body.id]);
    // The refusal came from the ledger, before any workflow: none exists for the refused job (its
    // id follows from the Idempotency-Key).
    await expect(
      easel.temporal.workflow.getHandle(`job_${sha256Hex(`${id}\u0000short-1`).slice(0, 32)}`).describe(),
    ).rejects.toThrow(WorkflowNotFoundError);
    // Once credits arrive, the same key is accepted: a refusal is not a stored answer.
    await easel.admin('POST', `/accounts/${id}/grants`, { credits: 20, idempotency_key: 'top-up-short-1' });
    await new Promise((r) => setTimeout(r, 1_100));
    const retried = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'ideogram-v3', prompt: 'logo', n: 4 },
      headers: { 'Idempotency-Key': 'short-1' },
    });
    expect(retried.status).toBe(202);
    expect((await job(key, retried.body.id, 20)).status).toBe('succeeded');
  });

  it('rejects invalid requests with field errors and keeps nothing', async () => {
    const { key } = await easel.newAccount('pro');
    const bad = await easel.call<ErrorBody>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: '', n: 9, aspect_ratio: '5:1' },
    });
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details!.fields as object).sort()).toEqual([
      'aspect_ratio',
      'n',
      'prompt',
    ]);
    const unknown = await easel.call<ErrorBody>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'dall-e-9', prompt: 'x' },
    });
    expect(unknown.status).toBe(400);
    const auto = await easel.call<ErrorBody>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'auto', prompt: 'x' },
    });
    expect(auto.body.error.details!.fields).toHaveProperty('task');
    expect((await account(key)).balance.held).toBe(0);
  });

  it('routes auto + task to the catalog model', async () => {
    const { key } = await easel.newAccount('pro');
    const r = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'auto', task: 'text-in-image', prompt: 'SALE 50%' },
    });
    expect(r.body).toMatchObject({ model: 'ideogram-v3', credits_reserved: 5 });
  });

  it('answers the same Idempotency-Key and body with the same job, also concurrently; another body gets 422', async () => {
    const { key } = await easel.newAccount('scale-2');
    const body = { model: 'flux-2-dev', prompt: 'same request' };
    const headers = { 'Idempotency-Key': 'order-42' };
    const concurrent = await Promise.all(
      Array.from({ length: 5 }, () =>
        easel.call<JobView>('POST', '/v1/imagine', { token: key, body, headers }),
      ),
    );
    expect(concurrent.map((r) => r.status)).toEqual([202, 202, 202, 202, 202]);
    expect(new Set(concurrent.map((r) => r.body.id)).size).toBe(1);
    await job(key, concurrent[0]!.body.id, 20);
    const later = await easel.call<JobView>('POST', '/v1/imagine', { token: key, body, headers });
    expect(later.status).toBe(202);
    expect(later.body.id).toBe(concurrent[0]!.body.id);
    expect(later.body.status).toBe('succeeded');
    const other = await easel.call<ErrorBody>('POST', '/v1/imagine', {
      token: key,
      body: { ...body, prompt: 'different' },
      headers,
    });
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('idempotency_key_reused');
    const acct = await account(key);
    expect(acct.balance.captured).toBe(1);
    const list = await easel.call<{ data: JobView[] }>('GET', '/v1/jobs', { token: key });
    expect(list.body.data).toHaveLength(1);
  });

  it('answers a burst over the plan rate with 429 and Retry-After', async () => {
    const { key } = await easel.newAccount('hobby'); // 2 requests per second
    const burst = await Promise.all(
      Array.from({ length: 6 }, () =>
        easel.call<ErrorBody>('POST', '/v1/imagine', {
          token: key,
          body: { model: 'flux-2-dev', prompt: 'burst' },
        }),
      ),
    );
    const limited = burst.filter((r) => r.status === 429);
    expect(burst.filter((r) => r.status === 202)).toHaveLength(2);
    expect(limited).toHaveLength(4);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(limited[0]!.body.error).toMatchObject({
      code: 'rate_limited',
      details: { limit: 'requests_per_second' },
    });
  });

  it('refuses the (N+1)th concurrent job while N run, and accepts it once one finishes', async () => {
    const { id, key } = await easel.newAccount('pro');
    await easel.admin('PATCH', `/accounts/${id}`, { rate_limits: { concurrent_jobs: 2 } });
    const a = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: 'hold [timeout]' },
    });
    const b = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: 'hold [timeout]' },
    });
    expect([a.status, b.status]).toEqual([202, 202]);
    const c = await easel.call<ErrorBody>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: 'third' },
    });
    expect(c.status).toBe(429);
    expect(c.body.error).toMatchObject({
      code: 'concurrent_jobs_limit',
      details: { limit: 'concurrent_jobs', value: 2, running: 2 },
    });
    expect(c.headers.get('retry-after')).toBe('1');
    await easel.call('POST', `/v1/jobs/${a.body.id}/cancel`, { token: key });
    const d = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: 'third' },
    });
    expect(d.status).toBe(202);
    await easel.call('POST', `/v1/jobs/${b.body.id}/cancel`, { token: key });
  });

  it("never shows one account another's job", async () => {
    const a = await easel.newAccount('pro');
    const b = await easel.newAccount('pro');
    const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
      token: a.key,
      body: { model: 'flux-2-dev', prompt: 'mine' },
    });
    expect((await easel.call('GET', `/v1/jobs/${submitted.body.id}`, { token: b.key })).status).toBe(404);
    expect((await easel.call('POST', `/v1/jobs/${submitted.body.id}/cancel`, { token: b.key })).status).toBe(
      404,
    );
    expect((await easel.call<{ data: JobView[] }>('GET', '/v1/jobs', { token: b.key })).body.data).toEqual(
      [],
    );
  });

  it('pages the job list with a cursor and filters by status', async () => {
    const { key } = await easel.newAccount('scale-2');
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(
        (
          await easel.call<JobView>('POST', '/v1/imagine', {
            token: key,
            body: { model: 'flux-2-dev', prompt: `page ${i}` },
          })
        ).body.id,
      );
    }
    const first = await easel.call<{ data: JobView[]; next_cursor: string; has_more: boolean }>(
      'GET',
      '/v1/jobs?limit=3',
      { token: key },
    );
    expect(first.body.has_more).toBe(true);
    const second = await easel.call<{ data: JobView[]; has_more: boolean }>(
      'GET',
      `/v1/jobs?limit=3&cursor=${first.body.next_cursor}`,
      { token: key },
    );
    expect([...first.body.data, ...second.body.data].map((j) => j.id)).toEqual([...ids].reverse());
    expect(second.body.has_more).toBe(false);
    for (const id of ids) await job(key, id, 20);
    const succeeded = await easel.call<{ data: JobView[] }>('GET', '/v1/jobs?status=succeeded', {
      token: key,
    });
    expect(succeeded.body.data).toHaveLength(5);
  });
});

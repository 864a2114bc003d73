import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevStack, type DevStack } from '../../infra/devstack/devstack';
import { ADMIN_TOKEN, METRICS_TOKEN, startTestEasel, type TestEasel } from '../support/easel';

describe('health and readiness', () => {
  let easel: TestEasel;
  beforeAll(async () => {
    easel = await startTestEasel();
  });
  afterAll(() => easel.stop());

  it('answers /healthz and /readyz while MongoDB and Temporal answer', async () => {
    expect((await easel.call('GET', '/healthz')).status).toBe(200);
    const ready = await easel.call<{ down: string[] }>('GET', '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.down).toEqual([]);
  });

  it('serves /metrics only with the metrics token', async () => {
    const open = await easel.call<{ error: { code: string } }>('GET', '/metrics');
    expect(open.status).toBe(401);
    expect(open.body.error.code).toBe('unauthorized');
    expect((await easel.call('GET', '/metrics', { token: ADMIN_TOKEN })).status).toBe(401);
    const scraped = await easel.call<string>('GET', '/metrics', { token: METRICS_TOKEN });
    expect(scraped.status).toBe(200);
    expect(scraped.body).toContain('easel_revenue_usd_total');
  });

  it('answers unknown routes and bad JSON with a JSON error, never a stack trace', async () => {
    const missing = await easel.call<{ error: { code: string } }>('GET', '/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.error.code).toBe('not_found');
    const bad = await easel.call<{ error: { code: string } }>('POST', '/admin/v1/accounts', {
      body: '{"name": ',
      headers: { authorization: 'Bearer test-admin-token-0123456789' },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_json');
  });
});

describe('readiness when Temporal goes away', () => {
  let stack: DevStack;
  let easel: TestEasel;
  beforeAll(async () => {
    // A Temporal of its own: killing the shared one would break every other test.
    stack = await startDevStack({
      dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'easel-ready-')),
      ephemeral: true,
      temporalPort: 0,
      temporalUiPort: 0,
      services: { mongo: false, temporal: true },
    });
    easel = await startTestEasel({ role: 'api', temporalAddress: stack.temporalAddress! });
  });
  afterAll(async () => {
    await easel?.stop();
    await stack?.stop();
  });

  it('is 503 naming Temporal while it is down, and 200 again once it is back', async () => {
    expect((await easel.call('GET', '/readyz')).status).toBe(200);
    const { key } = await easel.newAccount();
    await stack.temporal!.kill('SIGKILL');
    const down = await easel.call<{ down: string[] }>('GET', '/readyz');
    expect(down.status).toBe(503);
    expect(down.body.down).toEqual(['temporal']);
    // Why it is down names internal addresses: only the admin token sees it.
    expect(down.body).toMatchObject({ checks: { temporal: { ok: false }, mongodb: { ok: true } } });
    expect(JSON.stringify(down.body)).not.toContain(new URL(`http://${stack.temporalAddress!}`).port);
    expect(JSON.stringify(down.body)).not.toMatch(/error/i);
    const detailed = await easel.call<{ checks: { temporal: { error?: string } } }>('GET', '/readyz', {
      token: ADMIN_TOKEN,
    });
    expect(detailed.body.checks.temporal.error).toEqual(expect.any(String));

    // A submission meanwhile cannot start its workflow: 503, credits back at once, the job failed.
    const submitted = await easel.call<{ error: { code: string; message: string } }>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: 'while Temporal is down' },
    });
    expect(submitted.status).toBe(503);
    expect(submitted.body.error.code).toBe('temporarily_unavailable');
    expect(submitted.body.error).not.toHaveProperty('details');
    const account = await easel.call<{ balance: { available: number; held: number } }>('GET', '/v1/account', {
      token: key,
    });
    expect(account.body.balance).toMatchObject({ available: 25, held: 0 });
    const jobs = await easel.call<{ data: Array<{ status: string; error: { code: string } }> }>(
      'GET',
      '/v1/jobs',
      { token: key },
    );
    expect(jobs.body.data).toEqual([
      expect.objectContaining({ status: 'failed', error: expect.objectContaining({ code: 'not_started' }) }),
    ]);

    await stack.temporal!.restart();
    expect(await waitForStatus(easel, '/readyz', 200, 30_000)).toBe(200);
  });
});

async function waitForStatus(
  easel: TestEasel,
  route: string,
  status: number,
  timeoutMs: number,
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    last = (await easel.call('GET', route)).status;
    if (last === status) return last;
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

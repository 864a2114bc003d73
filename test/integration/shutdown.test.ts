import { freePort } from '../../platform/net';
import { sandboxProviders, writeConfig } from '../support/config';
import { METRICS_TOKEN, startTestEasel, type TestEasel } from '../support/easel';

type Job = { id: string; status: string };

describe('processes: health, readiness and a draining shutdown', () => {
  it('serves the worker’s /healthz and /readyz beside its /metrics', async () => {
    const port = await freePort();
    const worker = await startTestEasel({ role: 'worker', env: { WORKER_METRICS_PORT: String(port) } });
    try {
      const base = `http://127.0.0.1:${port}`;
      expect(await (await fetch(`${base}/healthz`)).json()).toEqual({ status: 'ok' });
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: 'ready',
        down: [],
        checks: { mongodb: { ok: true }, temporal: { ok: true }, poller: { ok: true } },
      });
      expect((await fetch(`${base}/metrics`)).status).toBe(401);
      const metrics = await fetch(`${base}/metrics`, {
        headers: { authorization: `Bearer ${METRICS_TOKEN}` },
      });
      expect(metrics.status).toBe(200);
      expect((await fetch(`${base}/nothing`)).status).toBe(404);
    } finally {
      await worker.stop();
    }
  });

  it('on shutdown answers not-ready, ends long-polls at once and lets in-flight requests finish', async () => {
    const easel: TestEasel = await startTestEasel({
      env: {
        EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 2_500 }) }),
        EASEL_SHUTDOWN_DELAY_SECONDS: '1',
        EASEL_SHUTDOWN_GRACE_SECONDS: '15',
      },
    });
    const { key } = await easel.newAccount('pro');
    const auth = { authorization: `Bearer ${key}`, 'content-type': 'application/json' };
    const submitted = await easel.call<Job>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: 'a slow one' },
    });
    // In flight when the shutdown starts: a long-poll and a synchronous OpenAI-style generation.
    const pollStarted = Date.now();
    const poll = fetch(`${easel.baseUrl}/v1/jobs/${submitted.body.id}?wait=60`, { headers: auth });
    const generation = fetch(`${easel.baseUrl}/v1/images/generations`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({
        model: 'flux-2-dev',
        prompt: 'finishes during the drain',
        response_format: 'url',
      }),
    });
    await new Promise((r) => setTimeout(r, 300));
    const stopped = easel.stop();

    const polled = await poll;
    expect(polled.status).toBe(200);
    expect(Date.now() - pollStarted).toBeLessThan(2_000);
    expect(polled.headers.get('connection')).toBe('close');
    expect(['queued', 'running']).toContain(((await polled.json()) as Job).status);

    const readiness = await fetch(`${easel.baseUrl}/readyz`);
    expect(readiness.status).toBe(503);
    expect(await readiness.json()).toMatchObject({ status: 'unavailable', down: ['process'] });

    const generated = await generation;
    expect(generated.status).toBe(200);
    expect(((await generated.json()) as { data: unknown[] }).data).toHaveLength(1);
    await stopped;
    await expect(fetch(`${easel.baseUrl}/healthz`)).rejects.toThrow();
  });

  it('answers a synchronous wait the grace period cannot cover with a 504 and the job id, not a cut', async () => {
    const easel = await startTestEasel({
      env: {
        EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 8_000 }) }),
        EASEL_SHUTDOWN_GRACE_SECONDS: '2',
      },
    });
    const { key } = await easel.newAccount('pro');
    const generation = fetch(`${easel.baseUrl}/v1/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'flux-2-dev', prompt: 'too slow for the grace period' }),
    });
    await new Promise((r) => setTimeout(r, 500));
    const stopped = easel.stop();
    const answered = await generation;
    expect(answered.status).toBe(504);
    expect(answered.headers.get('x-should-retry')).toBe('false');
    const body = (await answered.json()) as { error: { code: string; job_id: string } };
    expect(body.error).toMatchObject({ code: 'timeout', job_id: expect.stringMatching(/^job_/) });
    await stopped;
  });
});

import { PNG } from 'pngjs';
import {
  createMidjourneyProxyProvider,
  midjourneyProxyCapabilities,
  parseProgress,
} from '../../providers/midjourney-proxy';
import {
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type PollResult,
  type ProviderCallContext,
  type ProviderSettings,
} from '../../providers/types';
import { MidjourneyProxyFake, type MidjourneyProxyFakeOptions } from '../fakes/midjourney-proxy-fake';

const SECRET = 'mj-test-secret';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: 'midjourney-v7',
  model: 'midjourney',
  prompt: 'a lighthouse at dusk',
  n: 1,
  aspectRatio: '16:9',
  ...overrides,
});

const context = (signal: AbortSignal = new AbortController().signal): ProviderCallContext => ({ signal });

const urlOf = (input: string | URL | Request): string =>
  typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected a ProviderError, but the call succeeded');
}

describe('midjourney-proxy adapter against the fake proxy', () => {
  let fake: MidjourneyProxyFake;
  let close: () => Promise<void>;

  async function startFake(options: MidjourneyProxyFakeOptions = {}): Promise<void> {
    fake = new MidjourneyProxyFake({
      secret: SECRET,
      bannedWords: ['nude'],
      moderationWords: ['forbidden'],
      failWords: ['explode'],
      timeoutWords: ['forever'],
      ...options,
    });
    ({ close } = await fake.start());
  }

  const provider = (overrides: Partial<ProviderSettings> = {}): ImageProvider =>
    createMidjourneyProxyProvider({
      deploymentId: 'mj-test',
      baseUrl: fake.url,
      apiKey: SECRET,
      ...overrides,
      options: { poll_interval_ms: 50, ...overrides.options },
    });

  async function submitted(mj: ImageProvider, overrides: Partial<GenerationRequest> = {}): Promise<string> {
    const result = await mj.submit(request(overrides), context());
    if (result.status !== 'pending') throw new Error('expected pending');
    return result.upstreamJobId;
  }

  async function pollUntilDone(mj: ImageProvider, upstreamJobId: string, limit = 200): Promise<PollResult> {
    for (let i = 0; i < limit; i++) {
      const result = await mj.poll(upstreamJobId, context());
      if (result.status === 'completed') return result;
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    throw new Error('never completed');
  }

  async function pollUntilError(mj: ImageProvider, upstreamJobId: string): Promise<ProviderError> {
    for (let i = 0; i < 200; i++) {
      try {
        const result = await mj.poll(upstreamJobId, context());
        if (result.status === 'completed') throw new Error('completed, expected a failure');
      } catch (error) {
        if (error instanceof ProviderError) return error;
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    throw new Error('never failed');
  }

  async function waitUntil(check: () => boolean): Promise<void> {
    for (let i = 0; i < 400 && !check(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
    if (!check()) throw new Error('condition never met');
  }

  beforeEach(() => startFake());
  afterEach(() => close());

  it('imagines once, upscales U1–U4 once each, and returns the grid and four candidates that are its quarters', async () => {
    const mj = provider();
    const jobId = await submitted(mj);
    const done = await pollUntilDone(mj, jobId);
    if (done.status !== 'completed') throw new Error('unreachable');

    expect(fake.submissionCount('imagine')).toBe(1);
    expect(fake.submissionCount('change')).toBe(4);
    expect(done.images.map((i) => i.role)).toEqual([
      'grid',
      'candidate',
      'candidate',
      'candidate',
      'candidate',
    ]);

    const [grid, ...candidates] = done.images;
    if (grid?.kind !== 'url') throw new Error('expected a URL grid');
    expect(grid.url.startsWith(fake.cdnUrl)).toBe(true);
    expect(grid.contentType).toBe('image/png');
    const gridPng = PNG.sync.read(Buffer.from(await (await fetch(grid.url)).arrayBuffer()));
    expect([gridPng.width, gridPng.height]).toEqual([256, 144]);

    const imagineId = fake.submissions[0]!.id!;
    for (const [i, candidate] of candidates.entries()) {
      if (candidate.kind !== 'url') throw new Error('expected URL candidates');
      const bytes = Buffer.from(await (await fetch(candidate.url)).arrayBuffer());
      expect(bytes.equals(fake.quarterPng(imagineId, i + 1))).toBe(true);
    }
    expect(new Set(candidates.map((c) => (c.kind === 'url' ? c.url : ''))).size).toBe(4);
  });

  it('sends the imagine body and secret the proxy reads: Midjourney parameters in the prompt, state', async () => {
    const mj = provider({ options: { prompt_suffix: '--style raw' } });
    await mj.submit(
      request({ seed: 42, negativePrompt: 'text,\n -- watermark', idempotencyKey: 'job-1:1' }),
      context(),
    );
    const [submission] = fake.submissions;
    expect(submission?.secret).toBe(SECRET);
    expect(submission?.body).toEqual({
      prompt: 'a lighthouse at dusk --no text, watermark --ar 16:9 --seed 42 --v 7 --style raw',
      state: 'job-1:1',
    });
  });

  it('says in adaptations which parameters it appends to the prompt', () => {
    const notes = provider().adaptations!(
      request({ seed: 1, negativePrompt: 'fog', upstreamModel: 'niji-6' }),
    );
    expect(notes.join('\n')).toMatch(/--ar 16:9/);
    expect(notes.join('\n')).toMatch(/--seed 1/);
    expect(notes.join('\n')).toMatch(/--no/);
    expect(notes.join('\n')).toMatch(/--niji 6/);
    expect(provider().adaptations!(request({ upstreamModel: 'midjourney' })).join('\n')).not.toMatch(/--v/);
  });

  it('sends reference images as data URLs in base64Array, fetched without the secret', async () => {
    const mj = provider();
    await mj.submit(
      request({ imageUrls: [`${fake.cdnUrl}/ref/one.png`, `${fake.cdnUrl}/ref/two.png`] }),
      context(),
    );
    const base64Array = fake.submissions[0]?.body.base64Array as string[];
    expect(base64Array).toHaveLength(2);
    for (const dataUrl of base64Array) {
      expect(dataUrl).toMatch(/^data:image\/png;base64,/);
      const png = PNG.sync.read(Buffer.from(dataUrl.split(',')[1]!, 'base64'));
      expect(png.width).toBe(32);
    }
    expect(fake.cdnRequests.map((r) => r.path)).toEqual(['/ref/one.png', '/ref/two.png']);
  });

  it('uses settings.fetchImage for reference images when given', async () => {
    const fetched: string[] = [];
    const mj = provider({
      fetchImage: (url) => {
        fetched.push(url);
        return Promise.resolve({ bytes: new Uint8Array([137, 80, 78, 71]), contentType: 'image/png' });
      },
    });
    await mj.submit(request({ imageUrls: ['https://images.example/a.png'] }), context());
    expect(fetched).toEqual(['https://images.example/a.png']);
    expect(fake.submissions[0]?.body.base64Array).toEqual(['data:image/png;base64,iVBORw==']);
  });

  it('never sends the secret anywhere but the proxy: image URLs are left for Easel to download', async () => {
    const mj = provider();
    const done = await pollUntilDone(mj, await submitted(mj, { imageUrls: [`${fake.cdnUrl}/ref/x.png`] }));
    expect(done.status).toBe('completed');
    expect(fake.cdnRequests).toHaveLength(1);
    for (const r of fake.cdnRequests) expect(r.headers['mj-api-secret']).toBeUndefined();
  });

  it('reports progress from the "45%" strings while the grid renders, and an IN_PROGRESS preview is not a result', async () => {
    await close();
    await startFake({ progressMs: 600 });
    const mj = provider();
    const jobId = await submitted(mj);
    const imagineId = fake.submissions[0]!.id!;
    await waitUntil(
      () => fake.taskView(imagineId)?.status === 'IN_PROGRESS' && fake.taskView(imagineId)?.progress !== '0%',
    );
    const reported: number[] = [];
    const polled = await mj.poll(jobId, {
      signal: new AbortController().signal,
      onProgress: (p) => reported.push(p),
    });
    if (polled.status !== 'pending') throw new Error('expected pending');
    expect(fake.taskView(imagineId)?.imageUrl).toMatch(/preview/);
    expect(polled.progress).toBeGreaterThan(0);
    expect(polled.progress).toBeLessThan(0.8);
    expect(reported).toEqual([polled.progress]);
    expect(fake.submissionCount('change')).toBe(0);
  });

  it('accepts code 22 (queued) with its task id and reports the queue position', async () => {
    await close();
    await startFake({ coreSize: 1, progressMs: 400 });
    const mj = provider();
    await submitted(mj, { prompt: 'first' });
    await submitted(mj, { prompt: 'second' });
    const third = await submitted(mj, { prompt: 'third' });
    expect(fake.submissions.map((s) => s.code)).toEqual([1, 1, 22]);
    const polled = await mj.poll(third, context());
    expect(polled).toMatchObject({ status: 'pending', progress: 0, queuePosition: 1 });
  });

  it('maps code 23 (queue full) to rate_limited', async () => {
    await close();
    await startFake({ coreSize: 1, queueSize: 1, progressMs: 1000 });
    const mj = provider();
    await submitted(mj, { prompt: 'running' });
    await submitted(mj, { prompt: 'waiting' });
    const error = await rejection(mj.submit(request({ prompt: 'one too many' }), context()));
    expect(error).toMatchObject({ outcome: 'rate_limited', details: { upstreamCode: 'queue_full' } });
  });

  it('maps code 24 (banned word) to content_policy naming the word', async () => {
    const error = await rejection(provider().submit(request({ prompt: 'a Nude statue' }), context()));
    expect(error).toMatchObject({ outcome: 'content_policy', details: { upstreamCode: 'banned_prompt' } });
    expect(error.message).toContain('"Nude"');
    expect(error.isClientError).toBe(true);
  });

  it('maps code 4 (validation error) to rejected with the proxy description', async () => {
    const mj = provider({
      fetchImage: () => Promise.resolve({ bytes: new Uint8Array(), contentType: 'image/png' }),
    });
    // An empty image makes a data URL the proxy cannot read.
    const error = await rejection(
      mj.submit(request({ imageUrls: ['https://images.example/empty.png'] }), context()),
    );
    expect(error).toMatchObject({ outcome: 'rejected', details: { upstreamCode: 'validation_error' } });
    expect(error.message).toContain('base64格式错误');
  });

  it('maps codes 9 (system error) and 3 (no account) to error, and an unknown code to unexpected_response', async () => {
    fake.inject({ on: 'imagine', code: 9 });
    expect((await rejection(provider().submit(request(), context()))).details.upstreamCode).toBe(
      'system_error',
    );
    fake.inject({ on: 'imagine', code: 3 });
    expect(await rejection(provider().submit(request(), context()))).toMatchObject({ outcome: 'error' });
    fake.inject({ on: 'imagine', code: 77 });
    expect(await rejection(provider().submit(request(), context()))).toMatchObject({
      outcome: 'error',
      details: { upstreamCode: 'unexpected_response' },
    });
  });

  it('maps a FAILURE with a moderation failReason to content_policy, others to error or timeout', async () => {
    const mj = provider();
    const moderated = await pollUntilError(mj, await submitted(mj, { prompt: 'something forbidden' }));
    expect(moderated).toMatchObject({ outcome: 'content_policy', details: { upstreamCode: 'moderated' } });
    expect(moderated.message).toContain('Banned prompt detected');

    const failed = await pollUntilError(mj, await submitted(mj, { prompt: 'explode' }));
    expect(failed).toMatchObject({ outcome: 'error', details: { upstreamCode: 'generation_failed' } });
    expect(failed.message).toContain('Invalid parameter');

    const timedOut = await pollUntilError(mj, await submitted(mj, { prompt: 'wait forever' }));
    expect(timedOut).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'upstream_timeout' } });
  });

  it('maps a wrong secret (401) to rejected with a message that names the setting', async () => {
    const error = await rejection(provider({ apiKey: 'wrong' }).submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 401, upstreamCode: 'unauthorized' },
    });
    expect(error.message).toContain('mj-api-secret');
    expect(fake.submissions).toHaveLength(0);
    const noSecret = await rejection(provider({ apiKey: undefined }).submit(request(), context()));
    expect(noSecret.details.status).toBe(401);
  });

  it('works without a secret against a proxy that sets none', async () => {
    await close();
    await startFake({ secret: undefined });
    const mj = provider({ apiKey: undefined });
    await mj.submit(request(), context());
    expect(fake.submissions[0]).toMatchObject({ code: 1, secret: undefined });
  });

  it('maps 429 to rate_limited with retryAfterMs, and 503 to error', async () => {
    fake.inject({ on: 'imagine', status: 429, retryAfter: '7' });
    const limited = await rejection(provider().submit(request(), context()));
    expect(limited).toMatchObject({ outcome: 'rate_limited', details: { status: 429, retryAfterMs: 7000 } });
    fake.inject({ on: 'imagine', status: 503 });
    expect(await rejection(provider().submit(request(), context()))).toMatchObject({
      outcome: 'error',
      details: { status: 503 },
    });
    expect(fake.submissions).toHaveLength(0);
  });

  it('maps a poll that fails upstream to error, and the next poll carries on', async () => {
    const mj = provider();
    const jobId = await submitted(mj);
    fake.inject({ on: 'fetch', status: 500 });
    expect(await rejection(mj.poll(jobId, context()))).toMatchObject({
      outcome: 'error',
      details: { status: 500 },
    });
    expect((await pollUntilDone(mj, jobId)).status).toBe('completed');
    expect(fake.submissionCount('imagine')).toBe(1);
  });

  it('maps malformed answers to unexpected_response: non-JSON, a SUCCESS without imageUrl', async () => {
    fake.inject({ on: 'imagine', malformed: true });
    expect(await rejection(provider().submit(request(), context()))).toMatchObject({
      outcome: 'error',
      details: { upstreamCode: 'unexpected_response' },
    });
    fake.inject({ on: 'imagine', status: 200, body: { code: 1, description: 'ok', result: null } });
    expect((await rejection(provider().submit(request(), context()))).details.upstreamCode).toBe(
      'unexpected_response',
    );

    const mj = provider();
    const jobId = await submitted(mj);
    fake.inject({ on: 'fetch', malformed: true });
    expect((await rejection(mj.poll(jobId, context()))).details.upstreamCode).toBe('unexpected_response');
    fake.inject({ on: 'fetch', status: 200, body: { id: 'x', status: 'SUCCESS', imageUrl: null } });
    expect((await rejection(mj.poll(jobId, context()))).details.upstreamCode).toBe('unexpected_response');
  });

  it('maps an unknown task (empty fetch body) to error task_not_found', async () => {
    const mj = provider();
    const jobId = await submitted(mj);
    fake.forget(fake.submissions[0]!.id!);
    expect(await rejection(mj.poll(jobId, context()))).toMatchObject({
      outcome: 'error',
      details: { upstreamCode: 'task_not_found' },
    });
  });

  it('maps a refused connection to error network_error', async () => {
    const mj = provider();
    await close();
    expect(await rejection(mj.submit(request(), context()))).toMatchObject({
      outcome: 'error',
      details: { upstreamCode: 'network_error' },
    });
    await startFake();
  });

  it('maps an abort during a hung request to timeout', async () => {
    fake.inject({ on: 'imagine', hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    const error = await rejection(provider().submit(request(), context(controller.signal)));
    expect(error).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'aborted' } });
    expect(fake.submissions).toHaveLength(0);
  });

  it('resumes after a restart without re-submitting: a new instance finds the upscales in the task list', async () => {
    const first = provider();
    const jobId = await submitted(first);
    const imagineId = fake.submissions[0]!.id!;
    // Poll until the first worker has submitted all four upscales, then "restart".
    await waitUntil(() => fake.taskView(imagineId)?.status === 'SUCCESS');
    const polled = await first.poll(jobId, context());
    expect(polled.status).toBe('pending');
    expect(fake.submissionCount('change')).toBe(4);

    const restarted = provider();
    const done = await pollUntilDone(restarted, jobId);
    if (done.status !== 'completed') throw new Error('unreachable');
    expect(done.images).toHaveLength(5);
    expect(fake.submissionCount('imagine')).toBe(1);
    expect(fake.submissionCount('change')).toBe(4);
    expect(fake.requestCount('GET', '/mj/task/list')).toBe(1);
  });

  it('after a restart submits only the upscales the proxy does not have', async () => {
    const jobId = await submitted(provider());
    const imagineId = fake.submissions[0]!.id!;
    await waitUntil(() => fake.taskView(imagineId)?.status === 'SUCCESS');
    // The first worker's third upscale submission is lost on the way: U1 and U2 exist, U3 and U4 do not.
    let changes = 0;
    const failingFetch: typeof fetch = (input, init) => {
      if (urlOf(input).endsWith('/mj/submit/change') && ++changes === 3) {
        return Promise.reject(new TypeError('socket hang up'));
      }
      return fetch(input, init);
    };
    const flaky = provider({ fetch: failingFetch });
    expect(await rejection(flaky.poll(jobId, context()))).toMatchObject({
      details: { upstreamCode: 'network_error' },
    });
    expect(fake.upscalesOf(imagineId).map((u) => u.index)).toEqual([1, 2]);

    const done = await pollUntilDone(provider(), jobId);
    expect(done.status).toBe('completed');
    expect(
      fake
        .upscalesOf(imagineId)
        .map((u) => u.index)
        .sort(),
    ).toEqual([1, 2, 3, 4]);
    expect(fake.submissionCount('change')).toBe(4);
  });

  it('the worker whose upscale round broke off submits only the missing ones on its next poll', async () => {
    let changes = 0;
    const flakyFetch: typeof fetch = (input, init) => {
      if (urlOf(input).endsWith('/mj/submit/change') && ++changes === 2) {
        return Promise.reject(new TypeError('socket hang up'));
      }
      return fetch(input, init);
    };
    const mj = provider({ fetch: flakyFetch });
    const jobId = await submitted(mj);
    const imagineId = fake.submissions[0]!.id!;
    await waitUntil(() => fake.taskView(imagineId)?.status === 'SUCCESS');
    await rejection(mj.poll(jobId, context()));
    expect(fake.submissionCount('change')).toBe(1);
    expect((await pollUntilDone(mj, jobId)).status).toBe('completed');
    expect(fake.upscalesOf(imagineId).map((u) => u.index)).toEqual([1, 2, 3, 4]);
    expect(fake.requestCount('GET', '/mj/task/list')).toBe(0);
  });

  it('the same worker remembers the upscales it submitted and lists nothing', async () => {
    const mj = provider();
    const done = await pollUntilDone(mj, await submitted(mj));
    expect(done.status).toBe('completed');
    expect(fake.requestCount('GET', '/mj/task/list')).toBe(0);
    expect(fake.submissionCount('change')).toBe(4);
  });

  it('falls back to re-submitting where the list route is missing, and takes code 21 as the existing task', async () => {
    await close();
    await startFake({ listRoute: false, legacyExistsCheck: true });
    const first = provider();
    const jobId = await submitted(first);
    const imagineId = fake.submissions[0]!.id!;
    await waitUntil(() => fake.taskView(imagineId)?.status === 'SUCCESS');
    await first.poll(jobId, context());
    const done = await pollUntilDone(provider(), jobId);
    expect(done.status).toBe('completed');
    expect(fake.submissions.filter((s) => s.route === 'change').map((s) => s.code)).toEqual([
      1, 1, 1, 1, 21, 21, 21, 21,
    ]);
    expect(fake.upscalesOf(imagineId)).toHaveLength(4);
  });

  it('maps a failed upscale to an error naming it', async () => {
    const mj = provider();
    const jobId = await submitted(mj);
    const imagineId = fake.submissions[0]!.id!;
    await waitUntil(() => fake.taskView(imagineId)?.status === 'SUCCESS');
    fake.inject({ on: 'change', code: 3 });
    expect(await rejection(mj.poll(jobId, context()))).toMatchObject({
      outcome: 'error',
      details: { upstreamCode: 'not_found' },
    });
  });

  it('refuses what its capabilities do not declare, before calling the proxy', async () => {
    const mj = provider();
    const cases: Partial<GenerationRequest>[] = [
      { n: 2 },
      { maskUrl: 'https://a.example/m.png' },
      { outputFormat: 'webp' },
      { seed: -1 },
      { imageUrls: new Array(6).fill('https://a.example/r.png') as string[] },
    ];
    for (const overrides of cases) {
      const error = await rejection(mj.submit(request(overrides), context()));
      expect(error).toMatchObject({
        outcome: 'rejected',
        details: { upstreamCode: 'unsupported_parameters' },
      });
    }
    expect(
      (await rejection(mj.submit(request({ upstreamModel: 'dall-e' }), context()))).details.upstreamCode,
    ).toBe('unknown_model');
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects an upstream job id it did not issue', async () => {
    expect((await rejection(provider().poll('bfl1.abc', context()))).outcome).toBe('rejected');
  });

  it('refuses to build without a base URL', () => {
    expect(() => createMidjourneyProxyProvider({ deploymentId: 'no-url', options: {} })).toThrow(
      /no-url.*base URL/,
    );
  });

  it('accepts a base URL that already ends with the /mj context path', async () => {
    const mj = provider({ baseUrl: `${fake.url}/mj/` });
    await mj.submit(request(), context());
    expect(fake.submissionCount('imagine')).toBe(1);
  });
});

describe('midjourney-proxy capabilities and parsing', () => {
  it('declares one generation, seed and negative prompt via the prompt, every ratio, png, no cancel', () => {
    expect(midjourneyProxyCapabilities('midjourney-v7', {})).toEqual({
      maxImages: 1,
      seed: true,
      negativePrompt: true,
      maxReferenceImages: 5,
      mask: false,
      aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '21:9', '9:21'],
      outputFormats: ['png'],
      cancel: false,
    });
    expect(midjourneyProxyCapabilities('niji-6', { max_reference_images: 0 }).maxReferenceImages).toBe(0);
    expect(midjourneyProxyCapabilities('stable-diffusion', {}).maxImages).toBe(0);
  });

  it('reads progress strings', () => {
    expect(parseProgress('45%')).toBe(0.45);
    expect(parseProgress('100%')).toBe(1);
    expect(parseProgress('')).toBeUndefined();
    expect(parseProgress(null)).toBeUndefined();
    expect(parseProgress('Waiting')).toBeUndefined();
  });

  it('names the offending option', () => {
    expect(() =>
      createMidjourneyProxyProvider({
        deploymentId: 'm',
        baseUrl: 'http://x',
        options: { poll_interval_ms: 1 },
      }),
    ).toThrow(/"poll_interval_ms"/);
  });
});

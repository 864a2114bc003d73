import { PNG } from 'pngjs';
import { bflDimensions, bflModelShape, createBflProvider } from '../../providers/bfl';
import {
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type PollResult,
  type ProviderCallContext,
} from '../../providers/types';
import { BflFake, type BflFakeOptions } from '../fakes/bfl-fake';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: 'flux-dev',
  model: 'flux-2-dev',
  prompt: 'a lighthouse at dusk',
  n: 1,
  aspectRatio: '16:9',
  seed: 7,
  ...overrides,
});

const context = (signal: AbortSignal = new AbortController().signal): ProviderCallContext => ({ signal });

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected a ProviderError, but the call succeeded');
}

describe('BFL adapter against the fake BFL API', () => {
  let fake: BflFake;
  let close: () => Promise<void>;

  async function startFake(options: BflFakeOptions = {}): Promise<void> {
    fake = new BflFake({ moderatedWords: ['forbidden'], errorWords: ['explode'], ...options });
    ({ close } = await fake.start());
  }

  const provider = (overrides: { apiKey?: string; options?: Record<string, unknown> } = {}): ImageProvider =>
    createBflProvider({
      deploymentId: 'bfl-test',
      baseUrl: fake.url,
      apiKey: overrides.apiKey ?? 'bfl-test-key',
      options: { poll_interval_ms: 50, ...overrides.options },
    });

  async function pollUntilDone(bfl: ImageProvider, upstreamJobId: string, limit = 100): Promise<PollResult> {
    for (let i = 0; i < limit; i++) {
      const result = await bfl.poll(upstreamJobId, context());
      if (result.status === 'completed') return result;
      await new Promise((resolve) => setTimeout(resolve, result.pollAfterMs ?? 20));
    }
    throw new Error('never completed');
  }

  beforeEach(() => startFake());
  afterEach(() => close());

  it('submits once, polls to Ready and returns the sample URL, which serves a real PNG', async () => {
    await close();
    await startFake({ pendingMs: 1_000 });
    const bfl = provider();
    const submitted = await bfl.submit(request(), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');

    const first = await bfl.poll(submitted.upstreamJobId, context());
    expect(first.status).toBe('pending');
    const done = await pollUntilDone(bfl, submitted.upstreamJobId);
    if (done.status !== 'completed') throw new Error('unreachable');

    expect(fake.submissionCount('a lighthouse at dusk')).toBe(1);
    expect(done.images).toHaveLength(1);
    const [image] = done.images;
    if (image?.kind !== 'url') throw new Error('expected a URL image');
    expect(image).toMatchObject({ contentType: 'image/png', width: 1024, height: 576 });

    const response = await fetch(image.url);
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
    expect([png.width, png.height]).toEqual([1024, 576]);
  });

  it('sends the body the spec asks for: x-key, prompt, seed, 32-multiple dimensions, output format', async () => {
    const bfl = provider({ options: { long_side: 1024, safety_tolerance: 3 } });
    await bfl.submit(request({ aspectRatio: '9:16' }), context());
    expect(fake.submissions[0]?.body).toEqual({
      prompt: 'a lighthouse at dusk',
      width: 576,
      height: 1024,
      seed: 7,
      safety_tolerance: 3,
      output_format: 'png',
    });
  });

  it('sends aspect_ratio and reference images to kontext models', async () => {
    const bfl = provider();
    await bfl.submit(
      request({
        upstreamModel: 'flux-kontext-pro',
        imageUrls: ['https://a.example/1.png', 'https://a.example/2.png'],
      }),
      context(),
    );
    expect(fake.submissions[0]?.body).toMatchObject({
      aspect_ratio: '16:9',
      input_image: 'https://a.example/1.png',
      input_image_2: 'https://a.example/2.png',
    });
    expect(fake.submissions[0]?.body).not.toHaveProperty('width');
  });

  it('submits n tasks for n images, each exactly once, and resumes polling all of them after a restart', async () => {
    await close();
    await startFake({ pendingMs: 100 });
    const submitted = await provider().submit(request({ n: 3, upstreamModel: 'flux-2-pro' }), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');
    expect(fake.submissionCount()).toBe(3);
    expect(fake.submissions.map((s) => s.body.seed)).toEqual([7, 8, 9]);

    // A new adapter instance (a restarted worker) polls with nothing but the upstream job id.
    const done = await pollUntilDone(provider(), submitted.upstreamJobId);
    if (done.status !== 'completed') throw new Error('unreachable');
    expect(done.images).toHaveLength(3);
    expect(new Set(done.images.map((i) => (i.kind === 'url' ? i.url : ''))).size).toBe(3);
    expect(fake.submissionCount()).toBe(3);
    for (const submission of fake.submissions) expect(fake.pollCount(submission.id)).toBeGreaterThan(0);
  });

  it('polls the regional polling_url BFL returned rather than one it builds', async () => {
    const bfl = provider();
    const submitted = await bfl.submit(request(), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');
    await pollUntilDone(bfl, submitted.upstreamJobId);
    expect(fake.requestCount('GET', '/us1/v1/get_result')).toBeGreaterThan(0);
    expect(fake.requestCount('GET', '/v1/get_result')).toBe(0);
  });

  it('reports progress while pending', async () => {
    await close();
    await startFake({ pendingMs: 1_500 });
    const bfl = provider();
    const submitted = await bfl.submit(request(), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const reported: number[] = [];
    const polled = await bfl.poll(submitted.upstreamJobId, {
      signal: new AbortController().signal,
      onProgress: (p) => reported.push(p),
    });
    if (polled.status !== 'pending') throw new Error('expected pending');
    expect(polled.progress).toBeGreaterThan(0);
    expect(polled.progress).toBeLessThan(1);
    expect(reported).toEqual([polled.progress]);
  });

  it('maps Request Moderated to content_policy', async () => {
    const bfl = provider();
    const submitted = await bfl.submit(request({ prompt: 'something forbidden' }), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');
    const error = await rejection(bfl.poll(submitted.upstreamJobId, context()));
    expect(error.outcome).toBe('content_policy');
    expect(error.details.upstreamCode).toBe('request_moderated');
    expect(error.message).toContain('Derivative Works');
  });

  it('maps Content Moderated to content_policy and Error to error', async () => {
    await close();
    await startFake({ contentModeratedWords: ['nsfw'], errorWords: ['explode'] });
    const bfl = provider();
    const moderated = await bfl.submit(request({ prompt: 'nsfw thing' }), context());
    const failed = await bfl.submit(request({ prompt: 'explode' }), context());
    if (moderated.status !== 'pending' || failed.status !== 'pending') throw new Error('expected pending');
    expect((await rejection(bfl.poll(moderated.upstreamJobId, context()))).outcome).toBe('content_policy');
    expect((await rejection(bfl.poll(failed.upstreamJobId, context()))).outcome).toBe('error');
  });

  it('maps 429 to rate_limited with retryAfterMs, and submits nothing', async () => {
    fake.inject({ on: 'submit', status: 429, retryAfter: '3' });
    const error = await rejection(provider().submit(request(), context()));
    expect(error.outcome).toBe('rate_limited');
    expect(error.details).toMatchObject({ status: 429, retryAfterMs: 3000 });
    expect(fake.submissionCount()).toBe(0);
  });

  it('maps the active-task limit to rate_limited', async () => {
    await close();
    await startFake({ pendingMs: 10_000, maxActiveTasks: 1 });
    await provider().submit(request(), context());
    const error = await rejection(provider().submit(request({ prompt: 'second' }), context()));
    expect(error.outcome).toBe('rate_limited');
    expect(error.details.retryAfterMs).toBe(1000);
  });

  it('maps 503 to error, on submit and on poll', async () => {
    fake.inject({ on: 'submit', status: 503 });
    expect((await rejection(provider().submit(request(), context()))).outcome).toBe('error');

    const submitted = await provider().submit(request(), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');
    fake.inject({ on: 'poll', status: 503 });
    const error = await rejection(provider().poll(submitted.upstreamJobId, context()));
    expect(error).toMatchObject({ outcome: 'error', details: { status: 503 } });
    // Polling is safe to repeat: the next poll finds the task.
    expect((await pollUntilDone(provider(), submitted.upstreamJobId)).status).toBe('completed');
    expect(fake.submissionCount()).toBe(1);
  });

  it('maps a wrong key (403, or 401 where the upstream says so) to rejected', async () => {
    const wrong = await rejection(provider({ apiKey: 'not-the-key' }).submit(request(), context()));
    expect(wrong).toMatchObject({ outcome: 'rejected', details: { status: 403 } });
    expect(wrong.isClientError).toBe(true);

    await close();
    await startFake({ wrongKeyStatus: 401 });
    const unauthorised = await rejection(provider({ apiKey: 'nope' }).submit(request(), context()));
    expect(unauthorised).toMatchObject({ outcome: 'rejected', details: { status: 401 } });
    expect(fake.submissionCount()).toBe(0);
  });

  it('refuses to build without an API key', () => {
    expect(() => createBflProvider({ deploymentId: 'no-key', baseUrl: fake.url, options: {} })).toThrow(
      /no-key.*API key/,
    );
  });

  it('maps 422 validation errors to rejected, naming the field', async () => {
    const error = await rejection(
      provider({ options: { safety_tolerance: 6 } }).submit(
        request({ upstreamModel: 'flux-2-pro' }),
        context(),
      ),
    );
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 422, upstreamCode: 'validation_error' },
    });
    expect(error.message).toContain('body.safety_tolerance');
  });

  it('maps 402 (our BFL account out of credits) to error, so routing moves on', async () => {
    await close();
    await startFake({ credits: 0 });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'error',
      details: { status: 402, upstreamCode: 'insufficient_credits' },
    });
  });

  it('maps a refused connection to error', async () => {
    const bfl = provider();
    await close();
    const error = await rejection(bfl.submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'network_error' } });
    await startFake();
  });

  it('maps an abort during a hung request to timeout', async () => {
    fake.inject({ on: 'submit', hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    const error = await rejection(provider().submit(request(), context(controller.signal)));
    expect(error.outcome).toBe('timeout');
    expect(fake.submissionCount()).toBe(0);
  });

  it('maps an expired or unknown task to error', async () => {
    const bogus =
      'bfl1.' +
      Buffer.from(
        JSON.stringify({
          v: 1,
          format: 'png',
          tasks: [{ id: 'gone', url: `${fake.url}/v1/get_result?id=gone` }],
        }),
      ).toString('base64url');
    const error = await rejection(provider().poll(bogus, context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'task_not_found' } });
  });

  it('rejects an upstream job id it did not issue', async () => {
    expect((await rejection(provider().poll('sbx1.abc', context()))).outcome).toBe('rejected');
  });

  it('rejects more reference images than the model takes, before calling BFL', async () => {
    const error = await rejection(
      provider().submit(request({ imageUrls: ['https://a.example/1.png'] }), context()),
    );
    expect(error.outcome).toBe('rejected');
    expect(fake.requests).toHaveLength(0);
  });
});

describe('BFL request shaping', () => {
  it('keeps flux-1 sizes on multiples of 32 within 256–1440', () => {
    const shape = bflModelShape('flux-pro-1.1');
    for (const ratio of ['1:1', '16:9', '9:16', '21:9', '9:21', '4:3', '3:2'] as const) {
      for (const long of [512, 1024, 2048]) {
        const { width, height } = bflDimensions(ratio, long, shape);
        for (const side of [width, height]) {
          expect(side % 32).toBe(0);
          expect(side).toBeGreaterThanOrEqual(256);
          expect(side).toBeLessThanOrEqual(1440);
        }
      }
    }
  });

  it('uses aspect_ratio for ultra and kontext, and dimensions for flux-2', () => {
    expect(bflModelShape('flux-pro-1.1-ultra').size).toBe('aspect_ratio');
    expect(bflModelShape('flux-kontext-max').size).toBe('aspect_ratio');
    expect(bflModelShape('flux-2-flex')).toMatchObject({
      size: 'dimensions',
      multipleOf: 16,
      maxInputImages: 8,
    });
    expect(bflModelShape('flux-2-klein-4b').maxInputImages).toBe(4);
  });

  it('names the offending option', () => {
    expect(() =>
      createBflProvider({ deploymentId: 'b', apiKey: 'k', options: { output_format: 'gif' } }),
    ).toThrow(/"output_format"/);
  });
});

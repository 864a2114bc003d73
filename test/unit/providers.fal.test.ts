import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PNG } from 'pngjs';
import { createFalProvider, falCapabilities, falDimensions } from '../../providers/fal';
import {
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type PollResult,
  type ProviderCallContext,
} from '../../providers/types';
import { createFalFake, type FalFake, type FalFakeOptions } from '../fakes/fal-fake';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: 'fal-ai/flux-2',
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

function pendingId(result: Awaited<ReturnType<ImageProvider['submit']>>): string {
  if (result.status !== 'pending') throw new Error('expected pending');
  return result.upstreamJobId;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('fal adapter against the fake fal queue', () => {
  let fake: FalFake;
  let close: () => Promise<void>;

  async function startFake(options: FalFakeOptions = {}): Promise<void> {
    fake = createFalFake({
      contentPolicyWords: ['forbidden'],
      nsfwWords: ['nsfw'],
      errorWords: ['explode'],
      ...options,
    });
    ({ close } = await fake.start());
  }

  const provider = (
    overrides: { apiKey?: string; options?: Record<string, unknown>; fetch?: typeof fetch } = {},
  ): ImageProvider =>
    createFalProvider({
      deploymentId: 'fal-test',
      baseUrl: fake.url,
      apiKey: overrides.apiKey ?? 'fal-test-key',
      options: { poll_interval_ms: 50, ...overrides.options },
      ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
    });

  async function pollUntilDone(fal: ImageProvider, upstreamJobId: string, limit = 200): Promise<PollResult> {
    for (let i = 0; i < limit; i++) {
      const result = await fal.poll(upstreamJobId, context());
      if (result.status === 'completed') return result;
      await sleep(20);
    }
    throw new Error('never completed');
  }

  beforeEach(() => startFake());
  afterEach(() => close());

  it('submits to the queue, polls IN_QUEUE → IN_PROGRESS → COMPLETED and returns CDN URLs serving real PNGs', async () => {
    await close();
    await startFake({ concurrency: 1, runMs: 1_000 });
    const fal = provider();
    await fal.submit(request({ prompt: 'first in line' }), context());
    const id = pendingId(await fal.submit(request(), context()));

    const queued = await fal.poll(id, context());
    expect(queued).toMatchObject({ status: 'pending', queuePosition: 0 });
    expect(queued.status === 'pending' && queued.progress).toBeUndefined();

    await sleep(1_300);
    const reported: number[] = [];
    const running = await fal.poll(id, {
      signal: new AbortController().signal,
      onProgress: (p) => reported.push(p),
    });
    if (running.status !== 'pending') throw new Error('expected pending');
    expect(running.queuePosition).toBeUndefined();
    expect(running.progress).toBeGreaterThan(0);
    expect(running.progress).toBeLessThan(1);
    expect(reported).toEqual([running.progress]);

    const done = await pollUntilDone(fal, id);
    if (done.status !== 'completed') throw new Error('unreachable');
    expect(done.images).toHaveLength(1);
    const [image] = done.images;
    if (image?.kind !== 'url') throw new Error('expected a URL image');
    expect(image).toMatchObject({ contentType: 'image/png', width: 1024, height: 576 });
    const response = await fetch(image.url);
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
    expect([png.width, png.height]).toEqual([1024, 576]);
    expect(fake.submissionCount()).toBe(2);
  });

  it('reports the queue position as it moves', async () => {
    await close();
    // Runs long enough that a loaded machine still polls the third job inside each window:
    // position 1 while the first runs (0–2 s), 0 while the second does (2–4 s).
    await startFake({ concurrency: 1, runMs: 2_000 });
    const fal = provider();
    await fal.submit(request({ prompt: 'one' }), context());
    await fal.submit(request({ prompt: 'two' }), context());
    const id = pendingId(await fal.submit(request(), context()));
    expect(await fal.poll(id, context())).toMatchObject({ status: 'pending', queuePosition: 1 });
    await sleep(2_500);
    expect(await fal.poll(id, context())).toMatchObject({ status: 'pending', queuePosition: 0 });
  });

  it('sends the model input fal documents, the key as `Key …` and the start timeout header', async () => {
    await provider({ options: { start_timeout_s: 90 } }).submit(request({ aspectRatio: '9:16' }), context());
    const [submission] = fake.submissions;
    expect(submission?.endpoint).toBe('fal-ai/flux-2');
    expect(submission?.headers).toEqual({ timeout: '90', authorization: 'Key fal-test-key' });
    expect(submission?.body).toEqual({
      prompt: 'a lighthouse at dusk',
      image_size: { width: 576, height: 1024 },
      num_images: 1,
      seed: 7,
      output_format: 'png',
      enable_safety_checker: true,
      enable_prompt_expansion: false,
    });
  });

  it('makes several images in one request where the model has num_images', async () => {
    const id = pendingId(await provider().submit(request({ n: 3 }), context()));
    expect(fake.submissionCount()).toBe(1);
    expect(fake.submissions[0]?.body.num_images).toBe(3);
    const done = await pollUntilDone(provider(), id);
    if (done.status !== 'completed') throw new Error('unreachable');
    expect(done.images).toHaveLength(3);
    expect(new Set(done.images.map((i) => (i.kind === 'url' ? i.url : ''))).size).toBe(3);
  });

  it('makes n images as n requests for FLUX.2 [pro], and resumes polling all of them after a restart', async () => {
    await close();
    await startFake({ runMs: 100 });
    const id = pendingId(
      await provider().submit(request({ upstreamModel: 'fal-ai/flux-2-pro', n: 3 }), context()),
    );
    expect(fake.submissionCount()).toBe(3);
    expect(fake.submissions.map((s) => s.body.seed)).toEqual([7, 8, 9]);
    for (const s of fake.submissions) expect(s.body).not.toHaveProperty('num_images');

    const done = await pollUntilDone(provider(), id);
    if (done.status !== 'completed') throw new Error('unreachable');
    expect(done.images).toHaveLength(3);
    expect(done.images.every((i) => i.kind === 'url' && i.contentType === 'image/png')).toBe(true);
    expect(fake.submissionCount()).toBe(3);
  });

  it('follows owner/app status and result URLs for an endpoint with a sub-path (fal-ai/flux/schnell)', async () => {
    const fal = provider();
    const id = pendingId(
      await fal.submit(request({ upstreamModel: 'fal-ai/flux/schnell', outputFormat: 'jpeg' }), context()),
    );
    const done = await pollUntilDone(fal, id);
    expect(done.status).toBe('completed');
    expect(fake.requestCount('POST', '/fal-ai/flux/schnell')).toBe(1);
    expect(fake.requestCount('GET', '/fal-ai/flux/requests/')).toBeGreaterThanOrEqual(2);
    expect(fake.requestCount('GET', '/fal-ai/flux/schnell/requests/')).toBe(0);
  });

  it('sends reference images to the /edit sibling, and aspect_ratio to Nano Banana', async () => {
    const fal = provider();
    await fal.submit(
      request({ imageUrls: ['https://a.example/1.png', 'https://a.example/2.png'] }),
      context(),
    );
    expect(fake.submissions[0]).toMatchObject({
      endpoint: 'fal-ai/flux-2/edit',
      body: { image_urls: ['https://a.example/1.png', 'https://a.example/2.png'] },
    });

    const id = pendingId(
      await fal.submit(
        request({
          upstreamModel: 'fal-ai/nano-banana-2',
          imageUrls: ['https://a.example/1.png'],
          n: 2,
          outputFormat: 'webp',
        }),
        context(),
      ),
    );
    expect(fake.submissions[1]?.endpoint).toBe('fal-ai/nano-banana-2/edit');
    expect(fake.submissions[1]?.body).toEqual({
      prompt: 'a lighthouse at dusk',
      aspect_ratio: '16:9',
      num_images: 2,
      seed: 7,
      output_format: 'webp',
      resolution: '1K',
      image_urls: ['https://a.example/1.png'],
    });
    const done = await pollUntilDone(fal, id);
    if (done.status !== 'completed') throw new Error('unreachable');
    expect(done.images.map((i) => i.contentType)).toEqual(['image/webp', 'image/webp']);
  });

  it('sends Ideogram 3.0 its negative prompt, style references and rendering speed on the same endpoint', async () => {
    await provider({ options: { rendering_speed: 'TURBO' } }).submit(
      request({
        upstreamModel: 'fal-ai/ideogram/v3',
        negativePrompt: 'blur',
        imageUrls: ['https://a.example/style.png'],
        aspectRatio: '1:1',
      }),
      context(),
    );
    expect(fake.submissions[0]?.endpoint).toBe('fal-ai/ideogram/v3');
    expect(fake.submissions[0]?.body).toEqual({
      prompt: 'a lighthouse at dusk',
      image_size: { width: 1024, height: 1024 },
      num_images: 1,
      seed: 7,
      expand_prompt: false,
      rendering_speed: 'TURBO',
      negative_prompt: 'blur',
      image_urls: ['https://a.example/style.png'],
    });
  });

  it('maps a content_policy_violation 422 to content_policy with its categories', async () => {
    const fal = provider();
    const id = pendingId(await fal.submit(request({ prompt: 'something forbidden' }), context()));
    const error = await rejection(pollUntilDone(fal, id));
    expect(error).toMatchObject({
      outcome: 'content_policy',
      details: { status: 422, upstreamCode: 'content_policy_violation' },
    });
    expect(error.message).toContain('sexual, violence');
    expect(error.isClientError).toBe(true);
  });

  it('maps has_nsfw_concepts to content_policy, never a success with a black image', async () => {
    const fal = provider();
    const id = pendingId(await fal.submit(request({ prompt: 'nsfw scene' }), context()));
    const error = await rejection(pollUntilDone(fal, id));
    expect(error).toMatchObject({ outcome: 'content_policy', details: { upstreamCode: 'nsfw_concepts' } });
  });

  it('maps another 422 to rejected, naming the field', async () => {
    const fal = provider();
    const id = pendingId(await fal.submit(request(), context()));
    fake.inject({
      on: 'result',
      status: 422,
      body: {
        detail: [
          { loc: ['body', 'image_urls', 0], msg: 'Could not download the image', type: 'image_load_error' },
        ],
      },
    });
    const error = await rejection(pollUntilDone(fal, id));
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 422, upstreamCode: 'validation_error' },
    });
    expect(error.message).toContain('body.image_urls.0: Could not download the image');
  });

  it('maps runner failures (5xx) to error with fal’s error type, on submit and in the result', async () => {
    fake.inject({ on: 'submit', status: 503 });
    const submitError = await rejection(provider().submit(request(), context()));
    expect(submitError).toMatchObject({ outcome: 'error', details: { status: 503 } });
    expect(submitError.message).toContain('not billed');

    const fal = provider();
    const id = pendingId(await fal.submit(request({ prompt: 'explode' }), context()));
    const error = await rejection(pollUntilDone(fal, id));
    expect(error).toMatchObject({
      outcome: 'error',
      details: { status: 503, upstreamCode: 'runner_disconnected' },
    });
  });

  it('maps 429 to rate_limited with retryAfterMs, and submits nothing', async () => {
    fake.inject({ on: 'submit', status: 429, retryAfter: '3', body: { detail: 'Rate limit exceeded' } });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'rate_limited', details: { status: 429, retryAfterMs: 3000 } });
    expect(fake.submissionCount()).toBe(0);

    await close();
    await startFake({ maxInFlight: 1, runMs: 10_000 });
    await provider().submit(request(), context());
    const limited = await rejection(provider().submit(request({ prompt: 'second' }), context()));
    expect(limited).toMatchObject({ outcome: 'rate_limited', details: { retryAfterMs: 2000 } });
  });

  it('maps a wrong key (401) to rejected', async () => {
    const error = await rejection(provider({ apiKey: 'not-the-key' }).submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 401, upstreamCode: 'unauthorized' },
    });
    expect(fake.submissionCount()).toBe(0);
  });

  it('maps a request no runner started within start_timeout_s to timeout', async () => {
    await close();
    await startFake({ concurrency: 1, runMs: 5_000 });
    const fal = provider({ options: { start_timeout_s: 2 } });
    await fal.submit(request({ prompt: 'hogs the runner' }), context());
    const id = pendingId(await fal.submit(request(), context()));
    await sleep(2_100);
    const error = await rejection(fal.poll(id, context()));
    expect(error).toMatchObject({
      outcome: 'timeout',
      details: { status: 504, upstreamCode: 'start_timeout' },
    });
  });

  it('maps an abort during a hung request to timeout', async () => {
    fake.inject({ on: 'submit', hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    const error = await rejection(provider().submit(request(), context(controller.signal)));
    expect(error).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'aborted' } });
    expect(fake.submissionCount()).toBe(0);
  });

  it('maps malformed answers (submit, status, result, data URI) to error unexpected_response', async () => {
    fake.inject({ on: 'submit', malformed: true });
    expect(await rejection(provider().submit(request(), context()))).toMatchObject({
      outcome: 'error',
      details: { upstreamCode: 'unexpected_response' },
    });

    const fal = provider();
    const id = pendingId(await fal.submit(request(), context()));
    fake.inject({ on: 'status', malformed: true });
    expect((await rejection(fal.poll(id, context()))).details.upstreamCode).toBe('unexpected_response');
    fake.inject({ on: 'result', status: 200, body: { images: [] } });
    expect((await rejection(fal.poll(id, context()))).message).toContain('0 image(s) for 1 asked');
    fake.inject({ on: 'result', status: 200, body: { images: [{ url: 'data:image/png;base64,!!' }] } });
    expect((await rejection(fal.poll(id, context()))).details.upstreamCode).toBe('unexpected_response');
  });

  it('returns an inline data URI image as bytes', async () => {
    const fal = provider();
    const id = pendingId(await fal.submit(request(), context()));
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    fake.inject({
      on: 'result',
      status: 200,
      body: { images: [{ url: `data:image/png;base64,${png.toString('base64')}`, width: 16, height: 16 }] },
    });
    const done = await fal.poll(id, context());
    if (done.status !== 'completed') throw new Error('expected completed');
    expect(done.images[0]).toMatchObject({ kind: 'bytes', contentType: 'image/png', width: 16, height: 16 });
  });

  it('maps a refused connection to error', async () => {
    const fal = provider();
    await close();
    const error = await rejection(fal.submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'network_error' } });
    await startFake();
  });

  it('cancels a queued request (CANCELLATION_REQUESTED), and refuses once it completed (ALREADY_COMPLETED)', async () => {
    await close();
    await startFake({ concurrency: 1, runMs: 2_000 });
    const fal = provider();
    await fal.submit(request({ prompt: 'ahead' }), context());
    const id = pendingId(await fal.submit(request(), context()));
    await fal.cancel?.(id, new AbortController().signal);
    expect(fake.cancels).toEqual([{ id: fake.submissions[1]?.id, answer: 'CANCELLATION_REQUESTED' }]);
    expect(fake.stateOf(fake.submissions[1]?.id ?? '')).toBe('COMPLETED');

    await close();
    await startFake();
    const finished = pendingId(await provider().submit(request(), context()));
    await pollUntilDone(provider(), finished);
    const error = await rejection(
      provider().cancel?.(finished, new AbortController().signal) ?? Promise.resolve(),
    );
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 400, upstreamCode: 'already_completed' },
    });
  });

  it('never sends the key to another origin: foreign status URLs are replaced by the base’s own', async () => {
    const seen: { url: string; auth: string | undefined }[] = [];
    const foreign: Server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', auth: req.headers.authorization });
      res.writeHead(500).end();
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    try {
      await close();
      await startFake({ publicUrl: `http://127.0.0.1:${(foreign.address() as AddressInfo).port}` });
      const calls: { url: string; auth: string | undefined }[] = [];
      const recording: typeof fetch = (input, init) => {
        const headers = new Headers(init?.headers);
        calls.push({
          url: input instanceof Request ? input.url : input.toString(),
          auth: headers.get('authorization') ?? undefined,
        });
        return fetch(input, init);
      };
      const fal = provider({ fetch: recording });
      const id = pendingId(await fal.submit(request(), context()));
      const done = await pollUntilDone(fal, id);
      expect(done.status).toBe('completed');
      await fal.cancel?.(id, new AbortController().signal).catch(() => undefined);
      expect(seen).toEqual([]);
      expect(calls.length).toBeGreaterThanOrEqual(3);
      for (const call of calls) expect(call.url.startsWith(fake.url)).toBe(true);
    } finally {
      await new Promise<void>((resolve) => foreign.close(() => resolve()));
    }
  });

  it('refuses what the model cannot do before calling fal', async () => {
    const fal = provider();
    const refusals: Partial<GenerationRequest>[] = [
      { upstreamModel: 'fal-ai/nano-banana', aspectRatio: '9:21' },
      { negativePrompt: 'blur' },
      { maskUrl: 'https://a.example/mask.png', imageUrls: ['https://a.example/1.png'] },
      { imageUrls: ['1', '2', '3', '4', '5'].map((i) => `https://a.example/${i}.png`) },
      { upstreamModel: 'fal-ai/flux/schnell', imageUrls: ['https://a.example/1.png'] },
      { upstreamModel: 'fal-ai/flux/schnell', outputFormat: 'webp' },
      { n: 5 },
      { upstreamModel: 'fal-ai/flux-2-pro', n: 11 },
    ];
    for (const overrides of refusals) {
      const error = await rejection(fal.submit(request(overrides), context()));
      expect(error).toMatchObject({
        outcome: 'rejected',
        details: { upstreamCode: 'unsupported_parameters' },
      });
    }
    expect(
      (await rejection(fal.submit(request({ upstreamModel: 'fal-ai/unknown' }), context()))).details
        .upstreamCode,
    ).toBe('unknown_model');
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects an upstream job id it did not issue', async () => {
    expect((await rejection(provider().poll('bfl1.abc', context()))).outcome).toBe('rejected');
  });

  it('says how it adapts the request', () => {
    expect(
      provider().adaptations?.(request({ upstreamModel: 'fal-ai/flux-2-max', n: 2, imageUrls: ['u'] })),
    ).toEqual([
      '2 images as 2 fal requests (one image each)',
      'aspect ratio 16:9 rendered at 1024x576',
      '1 reference image(s) sent to fal-ai/flux-2-max/edit',
    ]);
    expect(provider().adaptations?.(request({ upstreamModel: 'fal-ai/nano-banana' }))).toEqual([]);
  });

  it('serves result images from the CDN path until their TTL, then 404', async () => {
    await close();
    await startFake({ cdnTtlMs: 100 });
    const fal = provider();
    const done = await pollUntilDone(fal, pendingId(await fal.submit(request(), context())));
    if (done.status !== 'completed' || done.images[0]?.kind !== 'url')
      throw new Error('expected a URL image');
    expect((await fetch(done.images[0].url)).status).toBe(200);
    await sleep(150);
    expect((await fetch(done.images[0].url)).status).toBe(404);
  });
});

describe('fal capabilities and request shaping', () => {
  it('declares per model family what it serves, and nothing for unknown models', () => {
    expect(falCapabilities('fal-ai/flux-2', {})).toMatchObject({
      maxImages: 4,
      seed: true,
      negativePrompt: false,
      maxReferenceImages: 4,
      mask: false,
      outputFormats: ['png', 'jpeg', 'webp'],
      cancel: true,
    });
    expect(falCapabilities('fal-ai/flux-2-pro', {})).toMatchObject({ maxImages: 10, maxReferenceImages: 8 });
    expect(falCapabilities('fal-ai/flux/schnell', {})).toMatchObject({
      maxReferenceImages: 0,
      outputFormats: ['png', 'jpeg'],
    });
    expect(falCapabilities('fal-ai/nano-banana', {}).aspectRatios).not.toContain('9:21');
    expect(falCapabilities('fal-ai/nano-banana-2', {})).toMatchObject({
      maxImages: 4,
      maxReferenceImages: 14,
    });
    expect(falCapabilities('fal-ai/ideogram/v3', {})).toMatchObject({
      maxImages: 8,
      negativePrompt: true,
      maxReferenceImages: 10,
      outputFormats: ['png'],
    });
    expect(falCapabilities('fal-ai/unknown', {}).maxImages).toBe(0);
  });

  it('keeps FLUX.2 [dev] sizes within 512–2048 on multiples of 16, growing the long side for 21:9', () => {
    expect(falDimensions('21:9', 1024, { min: 512, max: 2048 })).toEqual({ width: 1200, height: 512 });
    for (const ratio of ['1:1', '16:9', '9:16', '21:9', '9:21', '4:3', '3:2'] as const) {
      const { width, height } = falDimensions(ratio, 1024, { min: 512, max: 2048 });
      for (const side of [width, height]) {
        expect(side % 16).toBe(0);
        expect(side).toBeGreaterThanOrEqual(512);
        expect(side).toBeLessThanOrEqual(2048);
      }
    }
  });

  it('sends the key to fal’s https *.fal.run hosts it is given, and never to *.fal.media', async () => {
    const calls: { url: string; auth: string | null }[] = [];
    let statusUrl = '';
    const stub: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : input.toString();
      calls.push({ url, auth: new Headers(init?.headers).get('authorization') });
      if (init?.method === 'POST') {
        return Promise.resolve(
          Response.json({
            request_id: 'r1',
            status_url: statusUrl,
            response_url: 'https://v3.fal.media/files/r1',
            cancel_url: 'http://queue.fal.run/fal-ai/flux-2/requests/r1/cancel',
          }),
        );
      }
      return Promise.resolve(Response.json({ status: 'IN_QUEUE', queue_position: 3 }, { status: 202 }));
    };
    const fal = createFalProvider({ deploymentId: 'f', apiKey: 'k', options: {}, fetch: stub });
    for (const given of [
      'https://queue.fal.run/fal-ai/flux-2/requests/r1/status',
      'https://x.fal.media/r1/status',
    ]) {
      statusUrl = given;
      const id = pendingId(await fal.submit(request(), context()));
      expect(await fal.poll(id, context())).toMatchObject({ status: 'pending', queuePosition: 3 });
      await fal.cancel?.(id, new AbortController().signal).catch(() => undefined);
    }
    expect(calls.every((c) => c.auth === 'Key k')).toBe(true);
    expect(calls.every((c) => c.url.startsWith('https://queue.fal.run/'))).toBe(true);
    expect(calls.filter((c) => c.url.includes('/requests/r1/status?logs=1'))).toHaveLength(2);
    expect(
      calls.filter((c) => c.url === 'https://queue.fal.run/fal-ai/flux-2/requests/r1/cancel'),
    ).toHaveLength(2);
  });

  it('names the offending option and refuses to build without a key', () => {
    expect(() =>
      createFalProvider({ deploymentId: 'f', apiKey: 'k', options: { output_format: 'gif' } }),
    ).toThrow(/"output_format"/);
    expect(() => createFalProvider({ deploymentId: 'no-key', options: {} })).toThrow(/no-key.*API key/);
  });
});

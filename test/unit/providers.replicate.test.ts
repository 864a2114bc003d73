import { PNG } from 'pngjs';
import { createReplicateProvider, progressFromLogs, replicateCapabilities } from '../../providers/replicate';
import {
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type PollResult,
  type ProviderCallContext,
} from '../../providers/types';
import { createReplicateFake, type ReplicateFake, type ReplicateFakeOptions } from '../fakes/replicate-fake';

const KEY = 'r8_test_token';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: 'black-forest-labs/flux-schnell',
  model: 'flux-schnell',
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
  if (result.status !== 'pending') throw new Error(`expected pending, got ${result.status}`);
  return result.upstreamJobId;
}

describe('Replicate adapter against the fake Replicate API', () => {
  let fake: ReplicateFake;
  let close: () => Promise<void>;

  async function startFake(options: ReplicateFakeOptions = {}): Promise<void> {
    fake = createReplicateFake({
      nsfwWords: ['nsfw'],
      sensitiveWords: ['sensitive'],
      errorWords: ['explode'],
      ...options,
    });
    ({ close } = await fake.start());
  }

  const provider = (overrides: { apiKey?: string; options?: Record<string, unknown> } = {}): ImageProvider =>
    createReplicateProvider({
      deploymentId: 'replicate-test',
      baseUrl: fake.url,
      apiKey: overrides.apiKey ?? KEY,
      options: { poll_interval_ms: 50, ...overrides.options },
    });

  async function pollUntilDone(
    replicate: ImageProvider,
    upstreamJobId: string,
    limit = 200,
  ): Promise<PollResult> {
    for (let i = 0; i < limit; i++) {
      const result = await replicate.poll(upstreamJobId, context());
      if (result.status === 'completed') return result;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('never completed');
  }

  beforeEach(() => startFake());
  afterEach(() => close());

  it('makes n flux-schnell images in one synchronous prediction, each URL a real image', async () => {
    const replicate = provider({ options: { sync_wait_seconds: 5 } });
    const result = await replicate.submit(request({ n: 3, outputFormat: 'png' }), context());
    if (result.status !== 'completed') throw new Error('expected completed');

    expect(fake.predictions).toHaveLength(1);
    const [created] = fake.predictions;
    expect(created?.input).toEqual({
      prompt: 'a lighthouse at dusk',
      num_outputs: 3,
      seed: 7,
      aspect_ratio: '16:9',
      output_format: 'png',
    });
    expect(created).toMatchObject({ prefer: 'wait=5', cancelAfter: '120s' });
    expect(fake.requests[0]?.authorization).toBe(`Bearer ${KEY}`);

    expect(result.images).toHaveLength(3);
    for (const image of result.images) {
      if (image.kind !== 'url') throw new Error('expected URL images');
      expect(image.contentType).toBe('image/png');
      const response = await fetch(image.url);
      expect(response.headers.get('content-type')).toBe('image/png');
      const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
      expect(png.width).toBeGreaterThan(png.height);
    }
    expect(new Set(result.images.map((i) => (i.kind === 'url' ? i.url : ''))).size).toBe(3);
  });

  it('answers pending without Prefer: wait, and a restarted worker polls the same predictions to the end', async () => {
    await close();
    await startFake({ startingMs: 50, runMs: 300 });
    const submitted = await provider().submit(
      request({ upstreamModel: 'black-forest-labs/flux-2-dev', n: 2, aspectRatio: '3:2' }),
      context(),
    );
    const upstreamJobId = pendingId(submitted);
    expect(fake.predictions).toHaveLength(2);
    expect(fake.predictions.map((p) => p.input.seed)).toEqual([7, 8]);
    expect(fake.predictions.every((p) => p.prefer === undefined)).toBe(true);
    expect(fake.predictions[0]?.input).toEqual({
      prompt: 'a lighthouse at dusk',
      seed: 7,
      aspect_ratio: '3:2',
    });

    const done = await pollUntilDone(provider(), upstreamJobId);
    if (done.status !== 'completed') throw new Error('unreachable');
    expect(done.images).toHaveLength(2);
    // flux-2-dev defaults to webp; the type comes from the output URL.
    expect(done.images.map((i) => i.contentType)).toEqual(['image/webp', 'image/webp']);
    expect(fake.predictions).toHaveLength(2);
    for (const p of fake.predictions)
      expect(fake.requestCount('GET', `/v1/predictions/${p.id}`)).toBeGreaterThan(0);
  });

  it('waits on Prefer: wait up to N seconds, then hands back a pending prediction', async () => {
    await close();
    await startFake({ runMs: 5_000 });
    const started = Date.now();
    const submitted = await provider({ options: { sync_wait_seconds: 1 } }).submit(request(), context());
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    pendingId(submitted);
    expect(fake.predictions[0]?.prefer).toBe('wait=1');
  });

  it('reports progress from the logs while processing', async () => {
    await close();
    await startFake({ runMs: 2_000 });
    const replicate = provider();
    const upstreamJobId = pendingId(await replicate.submit(request(), context()));
    await new Promise((resolve) => setTimeout(resolve, 600));
    const reported: number[] = [];
    const polled = await replicate.poll(upstreamJobId, {
      signal: new AbortController().signal,
      onProgress: (p) => reported.push(p),
    });
    if (polled.status !== 'pending') throw new Error('expected pending');
    expect(polled.progress).toBeGreaterThan(0.1);
    expect(polled.progress).toBeLessThan(1);
    expect(reported).toEqual([polled.progress]);
  });

  it('renders flux-2 ratios its enum lacks at a custom size, and says so', async () => {
    const replicate = provider();
    const req = request({ upstreamModel: 'black-forest-labs/flux-2-pro', aspectRatio: '21:9' });
    await replicate.submit(req, context());
    expect(fake.predictions[0]?.input).toMatchObject({ aspect_ratio: 'custom', width: 1536, height: 672 });
    expect(fake.predictions[0]?.input).not.toHaveProperty('resolution');
    expect(replicate.adaptations?.(req)).toContain('aspect ratio 21:9 rendered at custom 1536x672');

    await replicate.submit(
      request({ upstreamModel: 'black-forest-labs/flux-2-flex', imageUrls: ['https://a.example/1.png'] }),
      context(),
    );
    expect(fake.predictions[1]?.input).toMatchObject({
      aspect_ratio: '16:9',
      resolution: '1 MP',
      prompt_upsampling: false,
      input_images: ['https://a.example/1.png'],
    });
  });

  it('sends nano-banana reference images as image_input and JPEG as jpg', async () => {
    await provider().submit(
      request({
        upstreamModel: 'google/nano-banana-2',
        seed: undefined,
        outputFormat: 'jpeg',
        imageUrls: ['https://a.example/1.png', 'https://a.example/2.png'],
      }),
      context(),
    );
    expect(fake.predictions[0]?.input).toEqual({
      prompt: 'a lighthouse at dusk',
      output_format: 'jpg',
      aspect_ratio: '16:9',
      image_input: ['https://a.example/1.png', 'https://a.example/2.png'],
      resolution: '1K',
    });
  });

  it('serves gpt-image-1 only with the OpenAI key it needs, sent as its input', async () => {
    const req = request({ upstreamModel: 'openai/gpt-image-1', seed: undefined, n: 2, aspectRatio: '16:9' });
    expect(replicateCapabilities('openai/gpt-image-1', {}).maxImages).toBe(0);
    const refused = await rejection(provider().submit(req, context()));
    expect(refused).toMatchObject({
      outcome: 'rejected',
      details: { upstreamCode: 'unsupported_parameters' },
    });
    expect(fake.requests).toHaveLength(0);

    process.env.TEST_REPLICATE_OPENAI_KEY = 'sk-openai-of-the-operator';
    try {
      const replicate = provider({ options: { openai_api_key_env: 'TEST_REPLICATE_OPENAI_KEY' } });
      expect(replicate.capabilities('openai/gpt-image-1').maxImages).toBe(10);
      await replicate.submit(req, context());
      expect(fake.predictions[0]?.input).toEqual({
        prompt: 'a lighthouse at dusk',
        number_of_images: 2,
        aspect_ratio: '3:2',
        openai_api_key: 'sk-openai-of-the-operator',
        quality: 'medium',
      });
      expect(replicate.adaptations?.(req)).toEqual([
        'aspect ratio 16:9 served as 3:2, the nearest ratio the model makes',
      ]);
    } finally {
      delete process.env.TEST_REPLICATE_OPENAI_KEY;
    }
  });

  it('maps 422 invalid_fields to rejected, naming the field', async () => {
    // Ideogram's seed is capped at 2147483647 in its schema.
    const error = await rejection(
      provider().submit(
        request({ upstreamModel: 'ideogram-ai/ideogram-v3-turbo', seed: 3_000_000_000 }),
        context(),
      ),
    );
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 422, upstreamCode: 'invalid_fields' },
    });
    expect(error.message).toContain('input.seed');
    expect(fake.predictions).toHaveLength(0);
  });

  it('maps a failed NSFW or E005 prediction to content_policy and other failures to error', async () => {
    const replicate = provider({ options: { sync_wait_seconds: 5 } });
    const nsfw = await rejection(replicate.submit(request({ prompt: 'nsfw thing' }), context()));
    expect(nsfw).toMatchObject({ outcome: 'content_policy', details: { upstreamCode: 'safety_check' } });
    expect(nsfw.message).toContain('NSFW content detected');

    const e005 = await rejection(replicate.submit(request({ prompt: 'sensitive thing' }), context()));
    expect(e005.outcome).toBe('content_policy');
    expect(e005.message).toContain('flagged as sensitive');

    const upstreamJobId = pendingId(await provider().submit(request({ prompt: 'explode' }), context()));
    const failed = await rejection(provider().poll(upstreamJobId, context()));
    expect(failed).toMatchObject({ outcome: 'error', details: { upstreamCode: 'prediction_failed' } });
    expect(failed.message).toContain('CUDA');
  });

  it('maps throttling (429) to rate_limited with Retry-After', async () => {
    await close();
    await startFake({ createsPerSecond: 1 });
    await provider().submit(request(), context());
    const throttled = await rejection(provider().submit(request({ prompt: 'second' }), context()));
    expect(throttled).toMatchObject({
      outcome: 'rate_limited',
      details: { status: 429, retryAfterMs: 1000 },
    });
    expect(fake.predictions).toHaveLength(1);

    await close();
    await startFake();
    const upstreamJobId = pendingId(await provider().submit(request({ prompt: 'third' }), context()));
    fake.inject({ on: 'get', status: 429, retryAfter: '7' });
    const polled = await rejection(provider().poll(upstreamJobId, context()));
    expect(polled).toMatchObject({ outcome: 'rate_limited', details: { retryAfterMs: 7000 } });
  });

  it('maps a wrong token to rejected and an account without credit (402) to error', async () => {
    const wrong = await rejection(provider({ apiKey: 'r8_wrong' }).submit(request(), context()));
    expect(wrong).toMatchObject({
      outcome: 'rejected',
      details: { status: 401, upstreamCode: 'unauthorized' },
    });
    expect(wrong.message).toContain('API token');

    await close();
    await startFake({ credit: false });
    const broke = await rejection(provider().submit(request(), context()));
    expect(broke).toMatchObject({
      outcome: 'error',
      details: { status: 402, upstreamCode: 'payment_required' },
    });
    expect(fake.predictions).toHaveLength(0);
  });

  it('maps 5xx to error on create and on poll, and a later poll still finds the prediction', async () => {
    fake.inject({ on: 'create', status: 500 });
    expect(await rejection(provider().submit(request(), context()))).toMatchObject({
      outcome: 'error',
      details: { status: 500 },
    });
    const upstreamJobId = pendingId(await provider().submit(request(), context()));
    fake.inject({ on: 'get', status: 503 });
    expect((await rejection(provider().poll(upstreamJobId, context()))).outcome).toBe('error');
    expect((await pollUntilDone(provider(), upstreamJobId)).status).toBe('completed');
    expect(fake.predictions).toHaveLength(1);
  });

  it('cancels a running prediction, and cancelling a finished one leaves it unchanged', async () => {
    await close();
    await startFake({ runMs: 10_000 });
    const replicate = provider();
    const running = pendingId(await replicate.submit(request(), context()));
    await replicate.cancel?.(running, new AbortController().signal);
    const id = fake.predictions[0]?.id as string;
    expect(fake.statusOf(id)).toBe('canceled');
    expect(fake.cancels).toMatchObject([{ id, statusBefore: 'processing' }]);
    const canceled = await rejection(replicate.poll(running, context()));
    expect(canceled).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'canceled' } });

    await close();
    await startFake();
    const finished = pendingId(await provider().submit(request(), context()));
    await provider().cancel?.(finished, new AbortController().signal);
    const finishedId = fake.predictions[0]?.id as string;
    expect(fake.cancels).toMatchObject([{ id: finishedId, statusBefore: 'succeeded' }]);
    expect(fake.statusOf(finishedId)).toBe('succeeded');
    expect(replicate.capabilities('black-forest-labs/flux-schnell').cancel).toBe(true);
  });

  it('cancels the predictions it created when a later create of the same job fails', async () => {
    await close();
    await startFake({ runMs: 10_000, createsPerSecond: 1 });
    const error = await rejection(
      provider().submit(request({ upstreamModel: 'black-forest-labs/flux-2-dev', n: 2 }), context()),
    );
    expect(error.outcome).toBe('rate_limited');
    expect(fake.predictions).toHaveLength(1);
    expect(fake.cancels.map((c) => c.id)).toEqual([fake.predictions[0]?.id]);
    expect(fake.statusOf(fake.predictions[0]?.id as string)).toBe('canceled');
  });

  it('throws when the host refuses a cancel', async () => {
    const upstreamJobId = pendingId(await provider().submit(request(), context()));
    fake.inject({ on: 'cancel', status: 500 });
    const error = await rejection(provider().cancel!(upstreamJobId, new AbortController().signal));
    expect(error).toMatchObject({ outcome: 'error', details: { status: 500 } });
  });

  it('sends Cancel-After, and a prediction aborted in the queue by it is a timeout', async () => {
    await close();
    await startFake({ startingMs: 60_000 });
    const replicate = provider({ options: { cancel_after_seconds: 5 } });
    const upstreamJobId = pendingId(await replicate.submit(request(), context()));
    expect(fake.predictions[0]?.cancelAfter).toBe('5s');
    fake.age(fake.predictions[0]?.id as string, 6_000);
    const error = await rejection(replicate.poll(upstreamJobId, context()));
    expect(error).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'aborted' } });
  });

  it('reports outputs Replicate already deleted (after an hour) as an error, and their URLs are gone', async () => {
    await close();
    await startFake({ expiredStatus: 410 });
    const replicate = provider();
    const upstreamJobId = pendingId(await replicate.submit(request(), context()));
    const done = await pollUntilDone(replicate, upstreamJobId);
    if (done.status !== 'completed' || done.images[0]?.kind !== 'url') throw new Error('expected a URL');
    expect((await fetch(done.images[0].url)).status).toBe(200);

    fake.age(fake.predictions[0]?.id as string, 61 * 60_000);
    expect((await fetch(done.images[0].url)).status).toBe(410);
    const error = await rejection(replicate.poll(upstreamJobId, context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'output_removed' } });
  });

  it.each([
    ['create', 'not_json'],
    ['create', 'no_id'],
    ['get', 'bad_output'],
    ['get', 'bad_status'],
  ] as const)('maps a malformed %s answer (%s) to error unexpected_response', async (on, malformed) => {
    const replicate = provider();
    let call: Promise<unknown>;
    if (on === 'create') {
      fake.inject({ on, malformed });
      call = replicate.submit(request(), context());
    } else {
      const upstreamJobId = pendingId(await replicate.submit(request(), context()));
      fake.inject({ on, malformed });
      call = replicate.poll(upstreamJobId, context());
    }
    expect(await rejection(call)).toMatchObject({
      outcome: 'error',
      details: { upstreamCode: 'unexpected_response' },
    });
  });

  it('maps an abort during a hung request to timeout', async () => {
    fake.inject({ on: 'create', hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    const error = await rejection(provider().submit(request(), context(controller.signal)));
    expect(error).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'aborted' } });
  });

  it('maps a refused connection to error', async () => {
    const replicate = provider();
    await close();
    const error = await rejection(replicate.submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'network_error' } });
    await startFake();
  });

  it('never sends the token off the API origin, even when Replicate or a job id names another', async () => {
    await close();
    await startFake({ foreignUrls: true });
    const replicate = provider();
    const upstreamJobId = pendingId(await replicate.submit(request(), context()));
    const done = await pollUntilDone(replicate, upstreamJobId);
    await replicate.cancel?.(upstreamJobId, new AbortController().signal);
    if (done.status !== 'completed' || done.images[0]?.kind !== 'url') throw new Error('expected a URL');
    expect(new URL(done.images[0].url).origin).toBe(fake.outputOrigin);
    // The polls and the cancel went to the API, none to the other origin.
    expect(fake.deliveryRequests).toHaveLength(0);
    expect(fake.cancels).toHaveLength(1);

    // A forged id naming another origin is polled on the API origin instead.
    const forged =
      'rep1.' +
      Buffer.from(
        JSON.stringify({
          v: 1,
          model: 'black-forest-labs/flux-schnell',
          per: 1,
          predictions: [{ id: fake.predictions[0]?.id, get: `${fake.outputOrigin}/steal` }],
        }),
      ).toString('base64url');
    expect((await replicate.poll(forged, context())).status).toBe('completed');
    expect(fake.deliveryRequests.filter((r) => r.authorization !== undefined)).toHaveLength(0);
  });

  it('refuses what the model cannot do before calling Replicate', async () => {
    const replicate = provider();
    const cases: Partial<GenerationRequest>[] = [
      { n: 5 },
      { negativePrompt: 'blurry' },
      { maskUrl: 'https://a.example/m.png' },
      { imageUrls: ['https://a.example/1.png'] },
      { upstreamModel: 'google/nano-banana', seed: 3 },
      { upstreamModel: 'google/nano-banana', seed: undefined, aspectRatio: '9:21' },
      { upstreamModel: 'google/nano-banana', seed: undefined, outputFormat: 'webp' },
      { upstreamModel: 'black-forest-labs/flux-2-dev', n: 5 },
      { upstreamModel: 'ideogram-ai/ideogram-v3-quality', aspectRatio: '21:9' },
    ];
    for (const overrides of cases) {
      const error = await rejection(replicate.submit(request(overrides), context()));
      expect(error).toMatchObject({
        outcome: 'rejected',
        details: { upstreamCode: 'unsupported_parameters' },
      });
    }
    const unknown = await rejection(replicate.submit(request({ upstreamModel: 'someone/else' }), context()));
    expect(unknown.details.upstreamCode).toBe('unknown_model');
    expect(fake.requests).toHaveLength(0);
  });

  it('rejects an upstream job id it did not issue', async () => {
    expect((await rejection(provider().poll('bfl1.abc', context()))).outcome).toBe('rejected');
  });

  it('refuses to build without a token', () => {
    expect(() => createReplicateProvider({ deploymentId: 'no-key', baseUrl: fake.url, options: {} })).toThrow(
      /no-key.*API token/,
    );
  });
});

describe('Replicate capabilities and helpers', () => {
  it('declares per-model capabilities from the input schemas', () => {
    expect(replicateCapabilities('black-forest-labs/flux-schnell', {})).toMatchObject({
      maxImages: 4,
      seed: true,
      maxReferenceImages: 0,
      cancel: true,
    });
    expect(replicateCapabilities('black-forest-labs/flux-2-flex', {}).maxReferenceImages).toBe(10);
    expect(replicateCapabilities('google/nano-banana-2', {})).toMatchObject({
      seed: false,
      maxReferenceImages: 14,
      outputFormats: ['png', 'jpeg'],
    });
    expect(replicateCapabilities('google/nano-banana', {}).aspectRatios).not.toContain('9:21');
    expect(replicateCapabilities('ideogram-ai/ideogram-v3-balanced', {}).outputFormats).toEqual(['png']);
    expect(replicateCapabilities('nobody/nothing', {}).maxImages).toBe(0);
  });

  it('reads progress from tqdm lines in the logs', () => {
    expect(progressFromLogs('Using seed: 1\n 10%|█    | 3/28 [00:01]\n 50%|███  | 14/28 [00:02]\n')).toBe(
      0.5,
    );
    expect(progressFromLogs('no bar here')).toBeUndefined();
    expect(progressFromLogs(undefined)).toBeUndefined();
  });

  it('names the offending option', () => {
    expect(() =>
      createReplicateProvider({ deploymentId: 'r', apiKey: 'k', options: { sync_wait_seconds: 90 } }),
    ).toThrow(/"sync_wait_seconds"/);
    expect(() =>
      createReplicateProvider({
        deploymentId: 'r',
        apiKey: 'k',
        options: { openai_api_key_env: 'UNSET_VAR_X' },
      }),
    ).toThrow(/UNSET_VAR_X/);
  });
});

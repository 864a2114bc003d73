import { PNG } from 'pngjs';
import { createJourneyapiProvider, journeyapiCapabilities } from '../../providers/journeyapi';
import {
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type PollResult,
  type ProviderCallContext,
  type UpstreamImage,
} from '../../providers/types';
import { JourneyapiFake, type JourneyapiFakeOptions } from '../fakes/journeyapi-fake';

const KEY = 'japi_test_key';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: 'flux-2-dev',
  model: 'flux-2-dev',
  prompt: 'a lighthouse at dusk',
  n: 1,
  aspectRatio: '16:9',
  ...overrides,
});

const midjourney = (overrides: Partial<GenerationRequest> = {}): GenerationRequest =>
  request({ upstreamModel: 'midjourney', model: 'midjourney', ...overrides });

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

async function png(url: string): Promise<PNG> {
  const response = await fetch(url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toBe('image/png');
  return PNG.sync.read(Buffer.from(await response.arrayBuffer()));
}

const urlOf = (image: UpstreamImage | undefined): string => {
  if (image?.kind !== 'url') throw new Error('expected a URL image');
  return image.url;
};

describe('JourneyAPI adapter against the fake JourneyAPI', () => {
  let fake: JourneyapiFake;
  let close: () => Promise<void>;
  let calls: { url: string; authorization: string | null }[];

  async function startFake(options: JourneyapiFakeOptions = {}): Promise<void> {
    fake = new JourneyapiFake({ moderatedWords: ['forbidden'], errorWords: ['explode'], ...options });
    ({ close } = await fake.start());
  }

  /** Every call the adapter makes goes through this fetch, so the test sees where the key went. */
  const recordingFetch: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    calls.push({ url, authorization: new Headers(init?.headers).get('authorization') });
    return fetch(input, init);
  };

  const provider = (overrides: { apiKey?: string; options?: Record<string, unknown> } = {}): ImageProvider =>
    createJourneyapiProvider({
      deploymentId: 'journeyapi-test',
      baseUrl: fake.url,
      apiKey: overrides.apiKey ?? KEY,
      options: { poll_interval_ms: 50, ...overrides.options },
      fetch: recordingFetch,
    });

  async function pollUntilDone(
    adapter: ImageProvider,
    upstreamJobId: string,
    limit = 200,
  ): Promise<PollResult> {
    for (let i = 0; i < limit; i++) {
      const result = await adapter.poll(upstreamJobId, context());
      if (result.status === 'completed') return result;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('never completed');
  }

  beforeEach(async () => {
    calls = [];
    await startFake();
  });
  afterEach(() => close());

  it('returns a synchronous model’s finished image at once, a real PNG on the image host', async () => {
    const submitted = await provider().submit(request(), context());
    if (submitted.status !== 'completed') throw new Error('expected completed');
    expect(submitted.images).toHaveLength(1);
    expect(submitted.images[0]?.role).toBeUndefined();
    const url = urlOf(submitted.images[0]);
    expect(url.startsWith(fake.imageOrigin)).toBe(true);
    const image = await png(url);
    expect([image.width, image.height]).toEqual([128, 72]);
    expect(fake.submissionCount('a lighthouse at dusk')).toBe(1);
  });

  it('sends the documented body with the raw key (no Bearer) in Authorization', async () => {
    await provider().submit(request({ negativePrompt: 'fog' }), context());
    expect(fake.submissions[0]?.body).toEqual({
      model: 'flux-2-dev',
      prompt: 'a lighthouse at dusk',
      aspect_ratio: '16:9',
      negative_prompt: 'fog',
    });
    const imagine = fake.requests.find((r) => r.path === '/api/v1/imagine');
    expect(imagine?.authorization).toBe(KEY);
  });

  it('sends image_url, resolution and output_format only to the models whose pages list them', async () => {
    const adapter = provider({ options: { resolution: '2K' } });
    await adapter.submit(
      request({ upstreamModel: 'nano-banana-2', imageUrls: ['https://ref.example/a.png'] }),
      context(),
    );
    await adapter.submit(request({ upstreamModel: 'flux-schnell', outputFormat: 'jpeg' }), context());
    await adapter.submit(request({ upstreamModel: 'nano-banana' }), context());
    expect(fake.submissions.map((s) => s.body)).toEqual([
      {
        model: 'nano-banana-2',
        prompt: 'a lighthouse at dusk',
        aspect_ratio: '16:9',
        resolution: '2K',
        image_url: 'https://ref.example/a.png',
      },
      {
        model: 'flux-schnell',
        prompt: 'a lighthouse at dusk',
        aspect_ratio: '16:9',
        output_format: 'jpg',
        resolution: '2K',
      },
      { model: 'nano-banana', prompt: 'a lighthouse at dusk', aspect_ratio: '16:9' },
    ]);
  });

  it('makes n images with n requests for a single-image model', async () => {
    const adapter = provider();
    const submitted = await adapter.submit(request({ n: 3 }), context());
    if (submitted.status !== 'completed') throw new Error('expected completed');
    expect(fake.submissionCount()).toBe(3);
    expect(new Set(submitted.images.map(urlOf)).size).toBe(3);
    expect(adapter.adaptations?.(request({ n: 3 }))).toEqual([
      '3 images as 3 JourneyAPI requests (one image each)',
    ]);
  });

  it('polls a Midjourney task through its states with progress, then returns the grid and four candidates', async () => {
    await close();
    await startFake({ asyncMs: 1_000 });
    const adapter = provider();
    const submitted = await adapter.submit(midjourney(), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');

    await new Promise((resolve) => setTimeout(resolve, 500));
    const reported: number[] = [];
    const polled = await adapter.poll(submitted.upstreamJobId, {
      signal: new AbortController().signal,
      onProgress: (p) => reported.push(p),
    });
    if (polled.status !== 'pending') throw new Error('expected pending');
    expect(polled.progress).toBeGreaterThan(0.3);
    expect(polled.progress).toBeLessThan(1);
    expect(reported).toEqual([polled.progress]);

    // A restarted worker resumes from the upstream job id alone.
    const done = await pollUntilDone(provider(), submitted.upstreamJobId);
    if (done.status !== 'completed') throw new Error('unreachable');
    expect(done.images.map((i) => i.role)).toEqual([
      'grid',
      'candidate',
      'candidate',
      'candidate',
      'candidate',
    ]);
    expect(fake.submissionCount()).toBe(1);
    expect(fake.requestCount('/api/v1/fetch')).toBeGreaterThan(1);

    const [grid, ...candidates] = await Promise.all(done.images.map((i) => png(urlOf(i))));
    expect([grid?.width, grid?.height]).toEqual([256, 144]);
    // The grid holds the four candidates, left to right then top to bottom.
    candidates.forEach((candidate, i) => {
      const tile = new PNG({ width: 128, height: 72 });
      PNG.bitblt(grid as PNG, tile, (i % 2) * 128, Math.floor(i / 2) * 72, 128, 72, 0, 0);
      expect(tile.data.equals(candidate.data)).toBe(true);
    });
    expect(candidates[0]?.data.equals(candidates[1]?.data as Buffer)).toBe(false);
  });

  it('appends --no and --seed to a Midjourney prompt and says so', async () => {
    const adapter = provider();
    const asked = midjourney({ seed: 42, negativePrompt: 'text, watermark' });
    await adapter.submit(asked, context());
    expect(fake.submissions[0]?.body).toEqual({
      model: 'midjourney',
      prompt: 'a lighthouse at dusk --no text, watermark --seed 42',
      aspect_ratio: '16:9',
    });
    expect(adapter.adaptations?.(asked)).toEqual([
      'one Midjourney generation: its 2x2 grid and the four candidates',
      '--no and --seed appended to the Midjourney prompt',
    ]);
  });

  it('declares no seed or negative prompt for Midjourney when prompt parameters are off, and refuses them', async () => {
    const options = { midjourney_prompt_parameters: false };
    expect(journeyapiCapabilities('midjourney', options)).toMatchObject({
      seed: false,
      negativePrompt: false,
    });
    const error = await rejection(provider({ options }).submit(midjourney({ seed: 1 }), context()));
    expect(error).toMatchObject({ outcome: 'rejected', details: { upstreamCode: 'unsupported_parameters' } });
    expect(fake.requests).toHaveLength(0);
  });

  it('polls several asynchronous tasks with one fetch-many, one task with fetch', async () => {
    const adapter = provider();
    const two = await adapter.submit(request({ upstreamModel: 'flux-schnell', n: 2 }), context());
    if (two.status !== 'pending') throw new Error('expected pending');
    const done = await pollUntilDone(adapter, two.upstreamJobId);
    if (done.status !== 'completed') throw new Error('unreachable');
    expect(done.images).toHaveLength(2);
    expect(fake.requestCount('/api/v1/fetch-many')).toBeGreaterThan(0);
    expect(fake.requestCount('/api/v1/fetch')).toBe(0);

    const one = await adapter.submit(request({ upstreamModel: 'flux-schnell' }), context());
    if (one.status !== 'pending') throw new Error('expected pending');
    await pollUntilDone(adapter, one.upstreamJobId);
    expect(fake.requestCount('/api/v1/fetch')).toBeGreaterThan(0);
  });

  it('maps a moderated prompt to content_policy: at once for a synchronous model, on poll for Midjourney', async () => {
    const sync = await rejection(provider().submit(request({ prompt: 'something forbidden' }), context()));
    expect(sync).toMatchObject({ outcome: 'content_policy', details: { upstreamCode: 'content_policy' } });
    expect(sync.message).toContain('Content policy violation');

    const submitted = await provider().submit(midjourney({ prompt: 'forbidden art' }), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');
    const polled = await rejection(provider().poll(submitted.upstreamJobId, context()));
    expect(polled.outcome).toBe('content_policy');
    expect(polled.isClientError).toBe(true);
  });

  it('maps a 4xx whose message names moderation to content_policy', async () => {
    fake.inject({ on: 'imagine', status: 400, body: { error: 'Banned prompt: contains prohibited words' } });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'content_policy', details: { status: 400 } });
  });

  it('maps a failed generation to error', async () => {
    const submitted = await provider().submit(midjourney({ prompt: 'explode' }), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');
    const error = await rejection(pollUntilDone(provider(), submitted.upstreamJobId));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'generation_failed' } });
  });

  it('maps a wrong key (401 with an empty body) to rejected, and a Bearer prefix is a wrong key', async () => {
    const wrong = await rejection(provider({ apiKey: 'not-the-key' }).submit(request(), context()));
    expect(wrong).toMatchObject({
      outcome: 'rejected',
      details: { status: 401, upstreamCode: 'unauthorized' },
    });
    expect(wrong.message).toContain('check the deployment key');
    const bearer = await rejection(provider({ apiKey: `Bearer ${KEY}` }).submit(request(), context()));
    expect(bearer.details.status).toBe(401);
    expect(fake.submissionCount()).toBe(0);
  });

  it('maps 402 (our JourneyAPI balance is short) to error, so routing moves on', async () => {
    await close();
    await startFake({ credits: 3 });
    const error = await rejection(provider().submit(midjourney(), context()));
    expect(error).toMatchObject({
      outcome: 'error',
      details: { status: 402, upstreamCode: 'insufficient_credits' },
    });
    expect(error.message).toContain('top up');
    expect(fake.submissionCount()).toBe(0);
  });

  it('maps the requests-per-second limit to rate_limited with Retry-After', async () => {
    await close();
    await startFake({ requestsPerSecond: 1 });
    await provider().submit(request(), context());
    const error = await rejection(provider().submit(request({ prompt: 'second' }), context()));
    expect(error).toMatchObject({ outcome: 'rate_limited', details: { status: 429, retryAfterMs: 1000 } });

    fake.inject({ on: 'any', status: 429, retryAfter: '3' });
    const injected = await rejection(provider().submit(request(), context()));
    expect(injected.details.retryAfterMs).toBe(3000);
  });

  it('maps 5xx to error on submit and on poll, and polling again recovers', async () => {
    fake.inject({ on: 'imagine', status: 502 });
    expect(await rejection(provider().submit(request(), context()))).toMatchObject({
      outcome: 'error',
      details: { status: 502 },
    });

    const submitted = await provider().submit(midjourney(), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');
    fake.inject({ on: 'fetch', status: 500 });
    expect((await rejection(provider().poll(submitted.upstreamJobId, context()))).outcome).toBe('error');
    expect((await pollUntilDone(provider(), submitted.upstreamJobId)).status).toBe('completed');
    expect(fake.submissionCount()).toBe(1);
  });

  it('maps a 400 validation error to rejected', async () => {
    fake.inject({ on: 'imagine', status: 400, body: { error: 'Invalid aspect_ratio: 5:1' } });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'rejected', details: { upstreamCode: 'invalid_request' } });
    expect(error.message).toContain('Invalid aspect_ratio');
  });

  it('maps an abort during a hung call to timeout', async () => {
    fake.inject({ on: 'imagine', hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    const error = await rejection(provider().submit(request(), context(controller.signal)));
    expect(error).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'aborted' } });

    const submitted = await provider().submit(midjourney(), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');
    fake.inject({ on: 'fetch', hang: true });
    const polling = new AbortController();
    setTimeout(() => polling.abort(new Error('deadline')), 50);
    expect((await rejection(provider().poll(submitted.upstreamJobId, context(polling.signal)))).outcome).toBe(
      'timeout',
    );
  });

  it('maps a refused connection to error', async () => {
    const adapter = provider();
    await close();
    const error = await rejection(adapter.submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'network_error' } });
    await startFake();
  });

  it.each([
    ['not JSON', { raw: 'Internal <b>oops</b>' }],
    ['finished without image_url', { body: { task_id: 't1', status: 'finished' } }],
    ['no task_id', { body: { status: 'finished', image_url: 'https://x.example/a.png' } }],
    [
      'a non-http image URL',
      { body: { task_id: 't1', status: 'finished', image_url: 'javascript:alert(1)' } },
    ],
  ])('maps a malformed imagine answer (%s) to unexpected_response', async (_, fault) => {
    fake.inject({ on: 'imagine', status: 200, ...fault });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'unexpected_response' } });
  });

  it('maps a malformed fetch answer (a grid with three candidates, a task without status) to unexpected_response', async () => {
    const submitted = await provider().submit(midjourney(), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');
    const taskId = fake.submissions[0]?.taskId as string;
    fake.inject({
      on: 'fetch',
      status: 200,
      body: {
        task_id: taskId,
        status: 'finished',
        original_image_url: 'https://cdn.example/grid.png',
        image_urls: ['https://cdn.example/0.png', 'https://cdn.example/1.png', 'https://cdn.example/2.png'],
      },
    });
    const grid = await rejection(provider().poll(submitted.upstreamJobId, context()));
    expect(grid.details.upstreamCode).toBe('unexpected_response');

    fake.inject({ on: 'fetch', status: 200, body: { task_id: taskId } });
    const status = await rejection(provider().poll(submitted.upstreamJobId, context()));
    expect(status.details.upstreamCode).toBe('unexpected_response');

    fake.inject({ on: 'fetch', status: 200, raw: '{"task_id": ' });
    expect((await rejection(provider().poll(submitted.upstreamJobId, context()))).details.upstreamCode).toBe(
      'unexpected_response',
    );
  });

  it('maps a malformed fetch-many answer to unexpected_response', async () => {
    const submitted = await provider().submit(request({ upstreamModel: 'flux-dev', n: 2 }), context());
    if (submitted.status !== 'pending') throw new Error('expected pending');
    fake.inject({ on: 'fetch-many', status: 200, body: { tasks: 'nope' } });
    const error = await rejection(provider().poll(submitted.upstreamJobId, context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'unexpected_response' } });
  });

  it('maps an unknown task (404 on fetch, omitted by fetch-many) to error', async () => {
    const job = (ids: string[]): string =>
      'japi1.' +
      Buffer.from(JSON.stringify({ v: 1, model: 'flux-dev', tasks: ids.map((id) => ({ id })) })).toString(
        'base64url',
      );
    const one = await rejection(provider().poll(job(['gone']), context()));
    expect(one).toMatchObject({ outcome: 'error', details: { upstreamCode: 'task_not_found' } });
    const many = await rejection(provider().poll(job(['gone', 'also-gone']), context()));
    expect(many).toMatchObject({ outcome: 'error', details: { upstreamCode: 'task_not_found' } });
  });

  it('rejects an upstream job id it did not issue', async () => {
    expect((await rejection(provider().poll('bfl1.abc', context()))).details.upstreamCode).toBe(
      'malformed_job_id',
    );
  });

  it.each<[string, Partial<GenerationRequest>]>([
    ['an aspect ratio the host does not serve', { aspectRatio: '21:9' }],
    ['more than one Midjourney generation', { upstreamModel: 'midjourney', n: 2 }],
    ['more than four images', { n: 5 }],
    ['a seed (no model but Midjourney documents one)', { seed: 3 }],
    [
      'a negative prompt where the model page lists none',
      { upstreamModel: 'nano-banana', negativePrompt: 'x' },
    ],
    [
      'a mask',
      {
        upstreamModel: 'gpt-image-1',
        imageUrls: ['https://r.example/a.png'],
        maskUrl: 'https://r.example/m.png',
      },
    ],
    ['an output format other than PNG', { upstreamModel: 'nano-banana', outputFormat: 'webp' }],
    [
      'a reference image where the model takes none',
      { upstreamModel: 'nano-banana', imageUrls: ['https://r.example/a.png'] },
    ],
    [
      'two reference images',
      { upstreamModel: 'gpt-image-1', imageUrls: ['https://r.example/a.png', 'https://r.example/b.png'] },
    ],
  ])('refuses %s before calling JourneyAPI', async (_, overrides) => {
    const asked = request(overrides);
    const error = await rejection(provider().submit(asked, context()));
    expect(error).toMatchObject({ outcome: 'rejected', details: { upstreamCode: 'unsupported_parameters' } });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses an edit model without its source image, and an unknown model', async () => {
    const edit = await rejection(
      provider().submit(request({ upstreamModel: 'flux-kontext-pro' }), context()),
    );
    expect(edit.details.upstreamCode).toBe('reference_image_required');
    const unknown = await rejection(provider().submit(request({ upstreamModel: 'dall-e-9' }), context()));
    expect(unknown.details.upstreamCode).toBe('unknown_model');
    expect(fake.requests).toHaveLength(0);
  });

  it('sends the key only to the API origin, never to the image host', async () => {
    const adapter = provider();
    const sync = await adapter.submit(request(), context());
    const submitted = await adapter.submit(midjourney(), context());
    if (submitted.status !== 'pending' || sync.status !== 'completed') throw new Error('unexpected');
    const done = await pollUntilDone(adapter, submitted.upstreamJobId);
    if (done.status !== 'completed') throw new Error('unreachable');
    for (const image of [...sync.images, ...done.images])
      expect(urlOf(image).startsWith(fake.imageOrigin)).toBe(true);

    expect(calls.length).toBeGreaterThan(2);
    for (const call of calls) {
      expect(new URL(call.url).origin).toBe(new URL(fake.url).origin);
      expect(call.authorization).toBe(KEY);
    }
    expect(fake.requests.filter((r) => r.origin === 'cdn')).toHaveLength(0);
  });

  it('refuses to build without an API key, and names a bad option', () => {
    expect(() =>
      createJourneyapiProvider({ deploymentId: 'no-key', baseUrl: fake.url, options: {} }),
    ).toThrow(/no-key.*API key/);
    expect(() =>
      createJourneyapiProvider({ deploymentId: 'j', apiKey: 'k', options: { resolution: '8K' } }),
    ).toThrow(/"resolution"/);
    expect(() => journeyapiCapabilities('midjourney', { colour: 'blue' })).toThrow(/colour/);
  });
});

describe('JourneyAPI capabilities', () => {
  it('declares one generation per Midjourney job and four single images elsewhere, with no cancel', () => {
    expect(journeyapiCapabilities('midjourney', {})).toEqual({
      maxImages: 1,
      seed: true,
      negativePrompt: true,
      maxReferenceImages: 0,
      mask: false,
      aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'],
      outputFormats: ['png'],
      cancel: false,
    });
    expect(journeyapiCapabilities('flux-2-dev', {})).toMatchObject({
      maxImages: 4,
      seed: false,
      negativePrompt: true,
    });
    expect(journeyapiCapabilities('flux-schnell', {}).outputFormats).toEqual(['png', 'jpeg']);
    expect(journeyapiCapabilities('nano-banana-2', {}).maxReferenceImages).toBe(1);
    expect(journeyapiCapabilities('ideogram-v3', {})).toMatchObject({
      negativePrompt: false,
      maxReferenceImages: 0,
    });
    expect(journeyapiCapabilities('ideogram-v3-edit', {}).maxImages).toBe(0);
  });
});

describe('the JourneyAPI fake', () => {
  let fake: JourneyapiFake;
  let close: () => Promise<void>;
  beforeEach(async () => {
    fake = new JourneyapiFake();
    ({ close } = await fake.start());
  });
  afterEach(() => close());

  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${fake.url}${path}`, {
      method: 'POST',
      headers: { authorization: KEY, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('refuses fetch-many with fewer than 2 or more than 20 ids, as the docs say', async () => {
    expect((await post('/api/v1/fetch-many', { task_ids: ['a'] })).status).toBe(400);
    expect(
      (await post('/api/v1/fetch-many', { task_ids: Array.from({ length: 21 }, (_, i) => `t${i}`) })).status,
    ).toBe(400);
    const ok = await post('/api/v1/fetch-many', { task_ids: ['a', 'b'] });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ tasks: [] });
  });

  it('answers a wrong key with 401 and an empty JSON body', async () => {
    const response = await fetch(`${fake.url}/api/v1/imagine`, {
      method: 'POST',
      headers: { authorization: 'nope', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({});
  });

  it('defaults to midjourney and answers it with a task_id only', async () => {
    const response = await post('/api/v1/imagine', { prompt: 'an elk' });
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body)).toEqual(['task_id']);
    expect(fake.submissions[0]?.model).toBe('midjourney');
  });
});

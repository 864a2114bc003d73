import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PNG } from 'pngjs';
import { createIdeogramProvider, IDEOGRAM_DEFAULT_BASE_URL } from '../../providers/ideogram';
import { renderSandboxImage } from '../../providers/sandbox/render';
import {
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type ProviderCallContext,
  type ProviderSettings,
  type UpstreamImage,
} from '../../providers/types';
import { createIdeogramFake, type IdeogramFake, type IdeogramFakeOptions } from '../fakes/ideogram-fake';

const KEY = 'ideogram-test-key';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: 'ideogram-v3',
  model: 'ideogram-v3',
  prompt: 'a poster that says HELLO',
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

async function completedImages(promise: Promise<unknown>): Promise<UpstreamImage[]> {
  const result = (await promise) as { status: string; images?: UpstreamImage[] };
  if (result.status !== 'completed' || !result.images)
    throw new Error(`expected completed, got ${result.status}`);
  return result.images;
}

function urlOf(image: UpstreamImage | undefined): string {
  if (image?.kind !== 'url') throw new Error('expected a URL image');
  return image.url;
}

/** A separate origin serving reference images, recording the headers it receives. */
async function startReferenceServer(): Promise<{
  url: string;
  seen: IncomingHttpHeaders[];
  close: () => Promise<void>;
}> {
  const png = renderSandboxImage({ model: 'ref', prompt: 'ref', index: 0, width: 64, height: 48 });
  const seen: IncomingHttpHeaders[] = [];
  const server: Server = createServer((req, res) => {
    seen.push(req.headers);
    if (req.url?.endsWith('.gif')) {
      res.writeHead(200, { 'content-type': 'image/gif' });
      res.end('GIF89a');
      return;
    }
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end(png);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('Ideogram adapter against the fake Ideogram API', () => {
  let fake: IdeogramFake;
  let close: () => Promise<void>;

  async function startFake(options: IdeogramFakeOptions = {}): Promise<void> {
    fake = createIdeogramFake({
      unsafePromptWords: ['forbidden'],
      unsafeImageWords: ['withheld'],
      partlyUnsafeWords: ['borderline'],
      ...options,
    });
    ({ close } = await fake.start());
  }

  const provider = (overrides: Partial<ProviderSettings> = {}): ImageProvider =>
    createIdeogramProvider({
      deploymentId: 'ideogram-test',
      baseUrl: fake.url,
      apiKey: KEY,
      options: {},
      ...overrides,
    });

  beforeEach(() => startFake());
  afterEach(() => close());

  it('generates one image synchronously and returns its ephemeral URL, which serves a real PNG', async () => {
    const images = await completedImages(provider().submit(request(), context()));
    expect(images).toHaveLength(1);
    expect(images[0]).toMatchObject({ kind: 'url', contentType: 'image/png', width: 1312, height: 736 });

    const response = await fetch(urlOf(images[0]));
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
    expect([png.width, png.height]).toEqual([1312, 736]);
  });

  it('sends multipart/form-data with the Api-Key header and the fields the spec names', async () => {
    await provider().submit(request({ negativePrompt: 'blurry text' }), context());
    expect(fake.submissions).toHaveLength(1);
    const [submission] = fake.submissions;
    expect(submission?.contentType).toBe('multipart/form-data');
    expect(submission?.apiKey).toBe(KEY);
    expect(submission?.fields).toEqual({
      prompt: 'a poster that says HELLO',
      aspect_ratio: '16x9',
      rendering_speed: 'DEFAULT',
      magic_prompt: 'OFF',
      num_images: '1',
      seed: '7',
      negative_prompt: 'blurry text',
    });
    expect(submission?.files).toEqual({});
  });

  it('asks for n images in one request and returns all of them', async () => {
    const images = await completedImages(
      provider().submit(request({ n: 4, aspectRatio: '3:4', seed: undefined }), context()),
    );
    expect(fake.submissionCount()).toBe(1);
    expect(fake.submissions[0]?.fields).toMatchObject({ num_images: '4', aspect_ratio: '3x4' });
    expect(fake.submissions[0]?.fields).not.toHaveProperty('seed');
    expect(images).toHaveLength(4);
    expect(new Set(images.map(urlOf)).size).toBe(4);
    for (const image of images) expect(image).toMatchObject({ width: 864, height: 1152 });
  });

  it('sends the deployment options, and pins the rendering speed for speed-named model ids', async () => {
    const tuned = provider({
      options: { rendering_speed: 'TURBO', style_type: 'REALISTIC', magic_prompt: 'AUTO' },
    });
    await tuned.submit(request(), context());
    expect(fake.submissions[0]?.fields).toMatchObject({
      rendering_speed: 'TURBO',
      style_type: 'REALISTIC',
      magic_prompt: 'AUTO',
    });
    expect(tuned.adaptations?.(request())).toEqual([
      'Ideogram Magic Prompt AUTO: the prompt may be rewritten before generating',
    ]);

    await tuned.submit(request({ upstreamModel: 'ideogram-v3-quality' }), context());
    expect(fake.submissions[1]?.fields.rendering_speed).toBe('QUALITY');
    expect(provider().adaptations?.(request())).toEqual([]);
  });

  it('uploads reference images as style references, fetched without the Ideogram key', async () => {
    const refs = await startReferenceServer();
    try {
      const ideogram = provider();
      const asked = request({ imageUrls: [`${refs.url}/a.png`, `${refs.url}/b.png`] });
      await ideogram.submit(asked, context());
      const files = fake.submissions[0]?.files.style_reference_images ?? [];
      expect(files.map((f) => f.type)).toEqual(['image/png', 'image/png']);
      expect(PNG.sync.read(files[0]!.bytes).width).toBe(64);
      expect(fake.submissions[0]?.files).not.toHaveProperty('character_reference_images');
      expect(refs.seen).toHaveLength(2);
      for (const headers of refs.seen) {
        expect(headers['api-key']).toBeUndefined();
        expect(JSON.stringify(headers)).not.toContain(KEY);
      }
      expect(ideogram.adaptations?.(asked)).toEqual([
        '2 reference image(s) sent as Ideogram style references',
      ]);
    } finally {
      await refs.close();
    }
  });

  it('fetches reference images through settings.fetchImage when given', async () => {
    const png = renderSandboxImage({ model: 'ref', prompt: 'x', index: 0, width: 32, height: 32 });
    const fetchImage = jest.fn(() =>
      Promise.resolve({ bytes: new Uint8Array(png), contentType: 'image/png' }),
    );
    await provider({ fetchImage }).submit(request({ imageUrls: ['https://refs.example/x.png'] }), context());
    expect(fetchImage).toHaveBeenCalledWith('https://refs.example/x.png', expect.any(AbortSignal));
    expect(fake.submissions[0]?.files.style_reference_images).toHaveLength(1);
  });

  it('refuses reference images Ideogram cannot take, before calling it', async () => {
    const refs = await startReferenceServer();
    try {
      const gif = await rejection(
        provider().submit(request({ imageUrls: [`${refs.url}/x.gif`] }), context()),
      );
      expect(gif).toMatchObject({
        outcome: 'rejected',
        details: { upstreamCode: 'reference_image_invalid' },
      });
    } finally {
      await refs.close();
    }
    const big = new Uint8Array(6 * 1024 * 1024);
    const fetchImage = (): Promise<{ bytes: Uint8Array; contentType: string }> =>
      Promise.resolve({ bytes: big, contentType: 'image/jpeg' });
    const tooLarge = await rejection(
      provider({ fetchImage }).submit(
        request({ imageUrls: ['https://r.example/1', 'https://r.example/2'] }),
        context(),
      ),
    );
    expect(tooLarge).toMatchObject({
      outcome: 'rejected',
      details: { upstreamCode: 'reference_image_too_large' },
    });
    expect(fake.requestCount('POST', '/v1/')).toBe(0);
  });

  it('maps 422 (prompt failed the safety check) to content_policy', async () => {
    const error = await rejection(provider().submit(request({ prompt: 'something forbidden' }), context()));
    expect(error).toMatchObject({
      outcome: 'content_policy',
      details: { status: 422, upstreamCode: 'prompt_unsafe' },
    });
    expect(error.message).toContain('failed safety check');
    expect(error.isClientError).toBe(true);
  });

  it('maps withheld images (is_image_safe false) to content_policy, also when only some are withheld', async () => {
    const all = await rejection(provider().submit(request({ prompt: 'withheld', n: 2 }), context()));
    expect(all).toMatchObject({
      outcome: 'content_policy',
      details: { status: 200, upstreamCode: 'image_unsafe' },
    });
    expect(all.message).toContain('2 of 2');

    const some = await rejection(provider().submit(request({ prompt: 'borderline', n: 3 }), context()));
    expect(some).toMatchObject({ outcome: 'content_policy', details: { upstreamCode: 'image_unsafe' } });
    expect(some.message).toContain('1 of 3');
  });

  it("maps 400 (invalid input) to rejected with Ideogram's message", async () => {
    const error = await rejection(provider().submit(request({ prompt: '' }), context()));
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 400, upstreamCode: 'invalid_input' },
    });
    expect(error.message).toContain('prompt is required');
  });

  it('maps 401 (wrong key) to rejected', async () => {
    const error = await rejection(provider({ apiKey: 'not-the-key' }).submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 401, upstreamCode: 'unauthorized' },
    });
    expect(fake.submissionCount()).toBe(0);
  });

  it('maps the in-flight limit (429) to rate_limited with Retry-After and the reject reason', async () => {
    await close();
    await startFake({ latencyMs: 300, maxInflightImages: 4 });
    const first = provider().submit(request({ n: 3 }), context());
    await new Promise((resolve) => setTimeout(resolve, 50));
    const error = await rejection(provider().submit(request({ n: 2, prompt: 'second' }), context()));
    expect(error).toMatchObject({
      outcome: 'rate_limited',
      details: { status: 429, retryAfterMs: 1000, upstreamCode: 'inflight_limit' },
    });
    expect(await completedImages(first)).toHaveLength(3);
    // Once the first request is done, its images no longer count.
    expect(
      await completedImages(provider().submit(request({ n: 2, prompt: 'third' }), context())),
    ).toHaveLength(2);
  });

  it('maps a 429 without Retry-After to rate_limited without retryAfterMs, and seconds or an HTTP date to ms', async () => {
    fake.inject({ on: 'generate', status: 429, body: { error: 'slow down' } });
    const plain = await rejection(provider().submit(request(), context()));
    expect(plain.outcome).toBe('rate_limited');
    expect(plain.details.retryAfterMs).toBeUndefined();

    fake.inject({ on: 'generate', status: 429, retryAfter: '3' });
    expect((await rejection(provider().submit(request(), context()))).details.retryAfterMs).toBe(3000);

    fake.inject({ on: 'generate', status: 429, retryAfter: new Date(Date.now() + 5_000).toUTCString() });
    const dated = (await rejection(provider().submit(request(), context()))).details.retryAfterMs;
    expect(dated).toBeGreaterThan(2_000);
    expect(dated).toBeLessThanOrEqual(5_000);
  });

  it('maps 5xx to error and 504 to timeout', async () => {
    fake.inject({ on: 'generate', status: 503 });
    expect(await rejection(provider().submit(request(), context()))).toMatchObject({
      outcome: 'error',
      details: { status: 503, upstreamCode: 'http_503' },
    });
    fake.inject({ on: 'generate', status: 500, body: 'Internal Server Error' });
    const internal = await rejection(provider().submit(request(), context()));
    expect(internal).toMatchObject({ outcome: 'error', details: { status: 500 } });
    expect(internal.message).toContain('Internal Server Error');
    fake.inject({ on: 'generate', status: 504 });
    expect((await rejection(provider().submit(request(), context()))).outcome).toBe('timeout');
    expect(fake.submissionCount()).toBe(0);
  });

  it('maps 402 (our balance) to error so routing moves on', async () => {
    fake.inject({
      on: 'generate',
      status: 402,
      body: { error: 'Insufficient funds', reject_reason: 'insufficient_funds' },
    });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'error',
      details: { status: 402, upstreamCode: 'insufficient_funds' },
    });
    expect(error.isClientError).toBe(false);
  });

  it('maps an abort during a hung request to timeout', async () => {
    fake.inject({ on: 'generate', hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    const error = await rejection(provider().submit(request(), context(controller.signal)));
    expect(error).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'aborted' } });
    expect(fake.requestCount('POST', '/v1/ideogram-v3/generate')).toBe(1);
  });

  it('maps a refused connection to error', async () => {
    const ideogram = provider();
    await close();
    const error = await rejection(ideogram.submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'network_error' } });
    await startFake();
  });

  it.each(['not_json', 'no_data', 'missing_url', 'fewer_images', 'bad_resolution'] as const)(
    'maps a malformed answer (%s) to error unexpected_response',
    async (malformed) => {
      fake.inject({ on: 'generate', malformed });
      const error = await rejection(provider().submit(request({ n: 2 }), context()));
      expect(error).toMatchObject({
        outcome: 'error',
        details: { status: 200, upstreamCode: 'unexpected_response' },
      });
    },
  );

  it('sends the key only to the Ideogram API, never to reference image hosts', async () => {
    const calls: { url: string; headers: Headers }[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      const url = input instanceof Request ? input.url : String(input);
      calls.push({ url, headers: new Headers(init?.headers) });
      return fetch(input, init);
    };
    const refs = await startReferenceServer();
    try {
      await provider({ fetch: recordingFetch }).submit(
        request({ imageUrls: [`${refs.url}/a.png`] }),
        context(),
      );
    } finally {
      await refs.close();
    }
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      const isApi = call.url === `${fake.url}/v1/ideogram-v3/generate`;
      expect(call.headers.get('api-key')).toBe(isApi ? KEY : null);
    }
  });

  it('refuses what its capabilities do not declare, before calling Ideogram', async () => {
    const ideogram = provider();
    const refused = [
      request({ aspectRatio: '21:9' }),
      request({ aspectRatio: '9:21' }),
      request({ n: 9 }),
      request({ maskUrl: 'https://a.example/mask.png' }),
      request({ outputFormat: 'jpeg' }),
      request({ seed: -1 }),
      request({ seed: 2_147_483_648 }),
      request({ imageUrls: Array.from({ length: 11 }, (_, i) => `https://a.example/${i}.png`) }),
    ];
    for (const asked of refused) {
      const error = await rejection(ideogram.submit(asked, context()));
      expect(error).toMatchObject({
        outcome: 'rejected',
        details: { upstreamCode: 'unsupported_parameters' },
      });
    }
    const styled = provider({ options: { style_type: 'DESIGN' } });
    expect(styled.capabilities('ideogram-v3').maxReferenceImages).toBe(0);
    const noRefs = await rejection(
      styled.submit(request({ imageUrls: ['https://a.example/1.png'] }), context()),
    );
    expect(noRefs.details.upstreamCode).toBe('unsupported_parameters');

    const unknown = await rejection(ideogram.submit(request({ upstreamModel: 'ideogram-v9' }), context()));
    expect(unknown).toMatchObject({ outcome: 'rejected', details: { upstreamCode: 'unknown_model' } });
    expect(fake.requests).toHaveLength(0);
  });

  it('has no upstream job to poll', async () => {
    expect((await rejection(provider().poll('anything', context()))).outcome).toBe('rejected');
  });
});

describe('Ideogram capabilities and settings', () => {
  const settings = (options: Record<string, unknown> = {}): ProviderSettings => ({
    deploymentId: 'ideo',
    apiKey: 'k',
    options,
  });

  it('declares what Ideogram 3.0 generate serves', () => {
    const caps = createIdeogramProvider(settings()).capabilities('ideogram-v3');
    expect(caps).toEqual({
      maxImages: 8,
      seed: true,
      negativePrompt: true,
      maxReferenceImages: 10,
      mask: false,
      aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'],
      outputFormats: ['png'],
      cancel: false,
    });
    expect(createIdeogramProvider(settings()).capabilities('ideogram-v3-turbo')).toEqual(caps);
  });

  it('declares nothing for a model id it does not know, so routing never sends it one', () => {
    const caps = createIdeogramProvider(settings()).capabilities('dall-e-3');
    expect(caps.maxImages).toBe(0);
    expect(caps.aspectRatios).toEqual([]);
  });

  it('defaults to the public API and refuses to build without a key or with a bad option', () => {
    expect(IDEOGRAM_DEFAULT_BASE_URL).toBe('https://api.ideogram.ai');
    expect(() => createIdeogramProvider({ deploymentId: 'no-key', options: {} })).toThrow(/no-key.*API key/);
    expect(() => createIdeogramProvider(settings({ rendering_speed: 'WARP' }))).toThrow(/"rendering_speed"/);
    expect(() => createIdeogramProvider(settings({ style_type: 'CUSTOM' }))).toThrow(/"style_type"/);
    expect(() => createIdeogramProvider(settings({ num_images: 2 }))).toThrow(/unknown option/);
  });
});

describe('the Ideogram fake itself', () => {
  let fake: IdeogramFake;
  let close: () => Promise<void>;
  afterEach(() => close());

  const post = (body: string | FormData, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${fake.url}/v1/ideogram-v3/generate`, {
      method: 'POST',
      headers: { 'Api-Key': KEY, ...headers },
      body,
    });

  const form = (fields: Record<string, string>): FormData => {
    const data = new FormData();
    for (const [name, value] of Object.entries(fields)) data.append(name, value);
    return data;
  };

  it('refuses JSON bodies with 415 unless told to accept them', async () => {
    fake = createIdeogramFake();
    ({ close } = await fake.start());
    const json = JSON.stringify({ prompt: 'a cat', aspect_ratio: '1x1' });
    const refused = await post(json, { 'content-type': 'application/json' });
    expect(refused.status).toBe(415);
    expect(await refused.json()).toHaveProperty('error');
    await close();

    fake = createIdeogramFake({ acceptJson: true });
    ({ close } = await fake.start());
    const accepted = await post(json, { 'content-type': 'application/json' });
    expect(accepted.status).toBe(200);
  });

  it('validates fields against the spec with 400 {error}', async () => {
    fake = createIdeogramFake();
    ({ close } = await fake.start());
    const cases: Record<string, string>[] = [
      { aspect_ratio: '1x1' },
      { prompt: 'x', aspect_ratio: '21x9' },
      { prompt: 'x', rendering_speed: 'WARP' },
      { prompt: 'x', magic_prompt: 'MAYBE' },
      { prompt: 'x', style_type: 'ANIME' },
      { prompt: 'x', seed: '2147483648' },
      { prompt: 'x', num_images: '9' },
      { prompt: 'x', num_images: '0' },
      { prompt: 'x', aspect_ratio: '1x1', resolution: '1024x1024' },
      { prompt: 'x', resolution: '1000x1000' },
      { prompt: 'x', magic_prompt_option: 'OFF' },
    ];
    for (const fields of cases) {
      const response = await post(form(fields));
      expect({ fields, status: response.status }).toEqual({ fields, status: 400 });
      expect(typeof ((await response.json()) as { error?: unknown }).error).toBe('string');
    }
    const png = new Blob([renderSandboxImage({ model: 'm', prompt: 'p', index: 0, width: 8, height: 8 })], {
      type: 'image/png',
    });
    const twoCharacters = form({ prompt: 'x' });
    twoCharacters.append('character_reference_images', png, 'a.png');
    twoCharacters.append('character_reference_images', png, 'b.png');
    expect((await post(twoCharacters)).status).toBe(400);
    const missingKey = await fetch(`${fake.url}/v1/ideogram-v3/generate`, {
      method: 'POST',
      body: form({ prompt: 'x' }),
    });
    expect(missingKey.status).toBe(401);
    expect(fake.submissionCount()).toBe(0);
  });

  it('expires its ephemeral image URLs after the TTL', async () => {
    fake = createIdeogramFake({ imageTtlMs: 100 });
    ({ close } = await fake.start());
    const answer = (await (await post(form({ prompt: 'a cat', aspect_ratio: '9x16' }))).json()) as {
      data: { url: string; resolution: string }[];
    };
    expect(answer.data[0]?.resolution).toBe('736x1312');
    const url = answer.data[0]!.url;
    expect((await fetch(url)).status).toBe(200);
    expect((await fetch(url.replace(/sig=[0-9a-f]+/, 'sig=forged'))).status).toBe(404);
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect((await fetch(url)).status).toBe(404);
  });

  it('answers after the configured latency', async () => {
    fake = createIdeogramFake({ latencyMs: 200 });
    ({ close } = await fake.start());
    const started = Date.now();
    expect((await post(form({ prompt: 'slow' }))).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });
});

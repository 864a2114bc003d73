import { PNG } from 'pngjs';
import {
  createTogetherProvider,
  TOGETHER_DEFAULT_BASE_URL,
  togetherCapabilities,
  togetherDimensions,
} from '../../providers/together';
import {
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type ProviderCallContext,
  type ProviderSettings,
  type UpstreamImage,
} from '../../providers/types';
import { createTogetherFake, type TogetherFake, type TogetherFakeOptions } from '../fakes/together-fake';

const KEY = 'together-test-key';
const SCHNELL = 'black-forest-labs/FLUX.1-schnell';
const DEV = 'black-forest-labs/FLUX.2-dev';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: SCHNELL,
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

async function completedImages(promise: Promise<unknown>): Promise<UpstreamImage[]> {
  const result = (await promise) as { status: string; images?: UpstreamImage[] };
  if (result.status !== 'completed' || !result.images)
    throw new Error(`expected completed, got ${result.status}`);
  return result.images;
}

function bytesOf(image: UpstreamImage | undefined): Buffer {
  if (image?.kind !== 'bytes') throw new Error('expected an inline image');
  return Buffer.from(image.data);
}

function urlOf(image: UpstreamImage | undefined): string {
  if (image?.kind !== 'url') throw new Error('expected a URL image');
  return image.url;
}

/** Width and height from a baseline or progressive JPEG's SOF marker. */
function jpegSize(bytes: Buffer): [number, number] {
  let offset = 2;
  while (offset < bytes.length) {
    const marker = bytes[offset + 1]!;
    const length = bytes.readUInt16BE(offset + 2);
    if (marker >= 0xc0 && marker <= 0xc3) {
      return [bytes.readUInt16BE(offset + 7), bytes.readUInt16BE(offset + 5)];
    }
    offset += 2 + length;
  }
  throw new Error('no SOF marker');
}

describe('Together adapter against the fake Together API', () => {
  let fake: TogetherFake;
  let close: () => Promise<void>;

  async function startFake(options: TogetherFakeOptions = {}): Promise<void> {
    fake = createTogetherFake({ unsafeWords: ['forbidden'], ...options });
    ({ close } = await fake.start());
  }

  const provider = (overrides: Partial<ProviderSettings> = {}): ImageProvider =>
    createTogetherProvider({
      deploymentId: 'together-test',
      baseUrl: fake.url,
      apiKey: KEY,
      options: {},
      ...overrides,
    });

  beforeEach(() => startFake());
  afterEach(() => close());

  it('generates one image inline (base64) as real JPEG bytes at the size asked', async () => {
    const images = await completedImages(provider().submit(request(), context()));
    expect(images).toHaveLength(1);
    expect(images[0]).toMatchObject({ kind: 'bytes', contentType: 'image/jpeg', width: 1024, height: 576 });
    expect(jpegSize(bytesOf(images[0]))).toEqual([1024, 576]);
  });

  it('sends the JSON body the spec names, with the Bearer key, and no field Together does not know', async () => {
    await provider().submit(request(), context());
    expect(fake.submissions).toHaveLength(1);
    const [submission] = fake.submissions;
    expect(submission?.contentType).toBe('application/json');
    expect(submission?.apiKey).toBe(KEY);
    expect(submission?.unknownFields).toEqual([]);
    expect(submission?.body).toEqual({
      model: SCHNELL,
      prompt: 'a lighthouse at dusk',
      width: 1024,
      height: 576,
      steps: 4,
      n: 1,
      seed: 7,
      response_format: 'base64',
      output_format: 'jpeg',
    });
    expect(fake.requests[0]?.authorization).toBe(`Bearer ${KEY}`);
  });

  it('asks for n images in one request and returns all of them, distinct, as PNG when asked', async () => {
    const images = await completedImages(
      provider().submit(
        request({ n: 3, aspectRatio: '3:4', outputFormat: 'png', seed: undefined }),
        context(),
      ),
    );
    expect(fake.submissions).toHaveLength(1);
    expect(fake.submissions[0]?.body).toMatchObject({ n: 3, output_format: 'png', width: 768, height: 1024 });
    expect(fake.submissions[0]?.body).not.toHaveProperty('seed');
    expect(images).toHaveLength(3);
    for (const image of images) {
      expect(image).toMatchObject({ kind: 'bytes', contentType: 'image/png', width: 768, height: 1024 });
      const png = PNG.sync.read(bytesOf(image));
      expect([png.width, png.height]).toEqual([768, 1024]);
    }
    expect(new Set(images.map((i) => bytesOf(i).toString('base64'))).size).toBe(3);
  });

  it('returns Together URLs as url images when configured, without fetching them itself', async () => {
    const seen: string[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      seen.push(input instanceof Request ? input.url : input.toString());
      return fetch(input, init);
    };
    const images = await completedImages(
      provider({ options: { response_format: 'url' }, fetch: recordingFetch }).submit(
        request({ n: 2, outputFormat: 'png' }),
        context(),
      ),
    );
    expect(fake.submissions[0]?.body).toMatchObject({ response_format: 'url' });
    expect(images.map((i) => i.kind)).toEqual(['url', 'url']);
    expect(images[0]).toMatchObject({ contentType: 'image/png', width: 1024, height: 576 });
    // The adapter called only the generation endpoint; the image URLs are left to Easel's downloader.
    expect(seen).toEqual([`${fake.url}/v1/images/generations`]);
    expect(fake.requestCount('GET', '/shrt/')).toBe(0);

    const response = await fetch(urlOf(images[0]));
    expect(response.headers.get('content-type')).toBe('image/png');
    const png = PNG.sync.read(Buffer.from(await response.arrayBuffer()));
    expect([png.width, png.height]).toEqual([1024, 576]);
  });

  it('sends the key only to the configured base URL', async () => {
    const calls: { url: string; authorization: string | null }[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      calls.push({
        url: input instanceof Request ? input.url : input.toString(),
        authorization: new Headers(init?.headers).get('authorization'),
      });
      return fetch(input, init);
    };
    await provider({ options: { response_format: 'url' }, fetch: recordingFetch }).submit(
      request({ upstreamModel: DEV, model: 'flux-2-dev', imageUrls: ['https://images.example.com/ref.png'] }),
      context(),
    );
    expect(calls).toHaveLength(1);
    expect(new URL(calls[0]!.url).origin).toBe(fake.url);
    expect(calls[0]?.authorization).toBe(`Bearer ${KEY}`);
  });

  it('uses per-model step defaults and the deployment steps option', async () => {
    await provider().submit(request({ upstreamModel: DEV, model: 'flux-2-dev' }), context());
    expect(fake.submissions[0]?.body).toMatchObject({ model: DEV, steps: 28 });

    await provider({ options: { steps: { [SCHNELL]: 8, [DEV]: 40 }, guidance_scale: 4.5 } }).submit(
      request(),
      context(),
    );
    await provider({ options: { steps: { [SCHNELL]: 8, [DEV]: 40 }, guidance_scale: 4.5 } }).submit(
      request({ upstreamModel: DEV, model: 'flux-2-dev' }),
      context(),
    );
    // guidance_scale goes only to the model that takes it.
    expect(fake.submissions[1]?.body).toMatchObject({ model: SCHNELL, steps: 8 });
    expect(fake.submissions[1]?.body).not.toHaveProperty('guidance_scale');
    expect(fake.submissions[2]?.body).toMatchObject({ model: DEV, steps: 40, guidance_scale: 4.5 });
  });

  it('refuses bad options at configuration time, naming the deployment and the option', () => {
    const make = (options: Record<string, unknown>): ImageProvider => provider({ options });
    expect(() => make({ steps: { [SCHNELL]: 20 } })).toThrow(
      /together-test.*steps\.black-forest-labs\/FLUX\.1-schnell.*1–12/,
    );
    expect(() => make({ steps: { [DEV]: 51 } })).toThrow(/1–50/);
    expect(() => make({ steps: { 'black-forest-labs/FLUX.1-pro': 10 } })).toThrow(/unknown model/);
    expect(() => make({ long_side: 1000 })).toThrow(/long_side.*multiple of 16/);
    expect(() => make({ long_side: 2048 })).toThrow(/long_side/);
    expect(() => make({ response_format: 'b64_json' })).toThrow(/response_format/);
    expect(() => make({ output_format: 'webp' })).toThrow(/output_format/);
    expect(() => make({ bogus: true })).toThrow(/unknown option\(s\) "bogus"/);
    expect(() => togetherCapabilities(SCHNELL, { steps: { [SCHNELL]: 0 } })).toThrow(/steps/);
  });

  it('refuses a deployment without a key', () => {
    expect(() => provider({ apiKey: undefined })).toThrow(/no API key/);
  });

  it('sends FLUX.2 [dev] reference images as reference_images', async () => {
    const refs = ['https://images.example.com/a.png', 'https://images.example.com/b.jpg'];
    const p = provider();
    await p.submit(request({ upstreamModel: DEV, model: 'flux-2-dev', imageUrls: refs }), context());
    expect(fake.submissions[0]?.body).toMatchObject({ reference_images: refs });
    expect(fake.submissions[0]?.body).not.toHaveProperty('image_url');
    expect(p.adaptations?.(request({ upstreamModel: DEV, imageUrls: refs }))).toContain(
      '2 reference image(s) sent as FLUX.2 reference_images',
    );
  });

  it.each([
    ['a negative prompt', { negativePrompt: 'blurry' }],
    ['a mask', { maskUrl: 'https://images.example.com/mask.png' }],
    ['webp output', { outputFormat: 'webp' as const }],
    ['5 images', { n: 5 }],
    ['0 images', { n: 0 }],
    ['a fractional seed', { seed: 1.5 }],
    ['a negative seed', { seed: -1 }],
    ['reference images for schnell', { imageUrls: ['https://images.example.com/a.png'] }],
    [
      '7 reference images for FLUX.2 [dev]',
      {
        upstreamModel: DEV,
        imageUrls: Array.from({ length: 7 }, (_, i) => `https://images.example.com/${i}.png`),
      },
    ],
  ])('refuses %s before sending anything', async (_what, overrides: Partial<GenerationRequest>) => {
    const error = await rejection(provider().submit(request(overrides), context()));
    expect(error.outcome).toBe('rejected');
    expect(error.details.upstreamCode).toBe('unsupported_parameters');
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses an upstream model it does not know', async () => {
    const error = await rejection(
      provider().submit(request({ upstreamModel: 'black-forest-labs/FLUX.1-pro' }), context()),
    );
    expect(error).toMatchObject({ outcome: 'rejected', details: { upstreamCode: 'unknown_model' } });
    expect(fake.requests).toHaveLength(0);
  });

  it('maps the safety checker 422 to content_policy', async () => {
    const error = await rejection(provider().submit(request({ prompt: 'something forbidden' }), context()));
    expect(error.outcome).toBe('content_policy');
    expect(error.details).toMatchObject({ status: 422, upstreamCode: 'nsfw_detected' });
    expect(error.message).toMatch(/safety checker/);
    expect(error.isClientError).toBe(true);
  });

  it('sends disable_safety_checker when configured, and the fake then generates', async () => {
    const images = await completedImages(
      provider({ options: { disable_safety_checker: true } }).submit(
        request({ prompt: 'something forbidden' }),
        context(),
      ),
    );
    expect(images).toHaveLength(1);
    expect(fake.submissions[0]?.body).toMatchObject({ disable_safety_checker: true });
  });

  it('maps a 422 that is not about safety to rejected', async () => {
    fake.inject({
      on: 'generate',
      status: 422,
      body: {
        error: {
          message: 'steps is out of range',
          type: 'invalid_request_error',
          param: 'steps',
          code: null,
        },
      },
    });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 422, upstreamCode: 'invalid_request_error' },
    });
    expect(error.message).toMatch(/steps is out of range/);
  });

  it('answers a wrong key with rejected and a message telling the operator to check it', async () => {
    const error = await rejection(provider({ apiKey: 'wrong' }).submit(request(), context()));
    expect(error.outcome).toBe('rejected');
    expect(error.details).toMatchObject({ status: 401, upstreamCode: 'invalid_api_key' });
    expect(error.message).toMatch(/check the deployment's Together API key/);
    expect(error.message).toMatch(/Invalid API key provided/);
  });

  it('maps a 400 (invalid request) to rejected', async () => {
    fake.inject({
      on: 'generate',
      status: 400,
      body: {
        error: {
          message: 'Input validation error',
          type: 'invalid_request_error',
          param: 'width',
          code: null,
        },
      },
    });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'rejected', details: { status: 400 } });
    expect(error.message).toMatch(/invalid request: Input validation error/);
  });

  it('maps 402 (credit limit) to error, so routing moves on', async () => {
    fake.inject({
      on: 'generate',
      status: 402,
      body: { error: { message: 'Credit limit exceeded', type: 'credit_limit', param: null, code: null } },
    });
    const error = await rejection(provider().submit(request(), context()));
    expect(error.outcome).toBe('error');
    expect(error.details).toMatchObject({ status: 402, upstreamCode: 'credit_limit' });
    expect(error.message).toMatch(/add credits or raise the spending limit/);
    expect(error.isClientError).toBe(false);
  });

  it('maps 403 (account setting) and 404 (retired model) to error, reading a bare {message} body', async () => {
    fake.inject({ on: 'generate', status: 403, body: { message: 'third_party_data_sharing_blocked' } });
    const forbidden = await rejection(provider().submit(request(), context()));
    expect(forbidden).toMatchObject({ outcome: 'error', details: { status: 403 } });
    expect(forbidden.message).toMatch(/third_party_data_sharing_blocked/);

    fake.inject({
      on: 'generate',
      status: 404,
      body: {
        error: {
          message: 'Unable to access model',
          type: 'invalid_request_error',
          param: null,
          code: 'model_not_available',
        },
      },
    });
    const missing = await rejection(provider().submit(request(), context()));
    expect(missing).toMatchObject({
      outcome: 'error',
      details: { status: 404, upstreamCode: 'model_not_available' },
    });
    expect(missing.message).toMatch(/check the deployment model map/);
  });

  it('hits the fake rate limit and carries Retry-After', async () => {
    await close();
    await startFake({ maxRequestsPerWindow: 1, retryAfter: '3' });
    await provider().submit(request(), context());
    const error = await rejection(provider().submit(request(), context()));
    expect(error.outcome).toBe('rate_limited');
    expect(error.details).toMatchObject({
      status: 429,
      retryAfterMs: 3000,
      upstreamCode: 'dynamic_request_limited',
    });
  });

  it('falls back to x-ratelimit-reset when a 429 has no Retry-After', async () => {
    await close();
    await startFake({ maxRequestsPerWindow: 1, retryAfter: null, windowMs: 10_000 });
    await provider().submit(request(), context());
    const error = await rejection(provider().submit(request(), context()));
    expect(error.outcome).toBe('rate_limited');
    expect(error.details.retryAfterMs).toBeGreaterThan(0);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(10_000);
  });

  it.each([
    [500, 'error', 'server_error'],
    [502, 'error', 'server_error'],
    [503, 'error', 'server_error'],
    [504, 'timeout', 'server_error'],
  ])('maps HTTP %i to %s', async (status, outcome, code) => {
    fake.inject({ on: 'generate', status, retryAfter: status === 503 ? '5' : undefined });
    const error = await rejection(provider().submit(request(), context()));
    expect(error.outcome).toBe(outcome);
    expect(error.details).toMatchObject({ status, upstreamCode: code });
    if (status === 503) {
      expect(error.message).toMatch(/overloaded/);
      expect(error.details.retryAfterMs).toBe(5000);
    }
  });

  it('reads a text error body', async () => {
    fake.inject({ on: 'generate', status: 500, body: 'upstream exploded' });
    const error = await rejection(provider().submit(request(), context()));
    expect(error.outcome).toBe('error');
    // A JSON-encoded string body is still read as the message.
    expect(error.message).toMatch(/upstream exploded/);
  });

  it.each(['not_json', 'no_data', 'bad_base64', 'not_an_image', 'missing_image', 'fewer_images'] as const)(
    'turns a malformed answer (%s) into error/unexpected_response',
    async (malformed) => {
      fake.inject({ on: 'generate', malformed });
      const error = await rejection(provider().submit(request({ n: 2 }), context()));
      expect(error.outcome).toBe('error');
      expect(error.details).toMatchObject({ status: 200, upstreamCode: 'unexpected_response' });
    },
  );

  it('gives up on a hung call when the signal aborts, as a timeout', async () => {
    fake.inject({ on: 'generate', hang: true });
    const controller = new AbortController();
    const pending = provider().submit(request(), context(controller.signal));
    setTimeout(() => controller.abort(new Error('attempt timeout')), 50);
    const error = await rejection(pending);
    expect(error).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'aborted' } });
    expect(fake.requestCount('POST', '/v1/images/generations')).toBe(1);
  });

  it('sends nothing when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('cancelled'));
    const error = await rejection(provider().submit(request(), context(controller.signal)));
    expect(error.outcome).toBe('timeout');
    expect(fake.requests).toHaveLength(0);
  });

  it('maps a connection failure to error/network_error', async () => {
    const p = provider();
    await close();
    const error = await rejection(p.submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'network_error' } });
    await startFake();
  });

  it('honours the fake latency option (the call is synchronous)', async () => {
    await close();
    await startFake({ latencyMs: 150 });
    const started = Date.now();
    await completedImages(provider().submit(request(), context()));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('has no job to poll', async () => {
    const error = await rejection(provider().poll('anything', context()));
    expect(error).toMatchObject({ outcome: 'rejected', details: { upstreamCode: 'malformed_job_id' } });
  });

  it('uses the long side option and explains the size in adaptations', async () => {
    const p = provider({ options: { long_side: 1536 } });
    await p.submit(request({ aspectRatio: '21:9' }), context());
    expect(fake.submissions[0]?.body).toMatchObject({ width: 1536, height: 656 });
    expect(p.adaptations?.(request({ aspectRatio: '21:9' }))).toEqual([
      'aspect ratio 21:9 rendered at 1536x656',
    ]);
  });
});

describe('Together capabilities and sizes', () => {
  it('declares per model what it serves', () => {
    expect(togetherCapabilities(SCHNELL, {})).toEqual({
      maxImages: 4,
      seed: true,
      negativePrompt: false,
      maxReferenceImages: 0,
      mask: false,
      aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '21:9', '9:21'],
      outputFormats: ['jpeg', 'png'],
      cancel: false,
    });
    expect(togetherCapabilities(DEV, {})).toMatchObject({ maxImages: 4, maxReferenceImages: 6 });
  });

  it('declares nothing for a model id it does not know, so routing never sends it one', () => {
    expect(togetherCapabilities('black-forest-labs/FLUX.1-pro', {})).toMatchObject({
      maxImages: 0,
      aspectRatios: [],
      outputFormats: [],
    });
  });

  it('keeps every side a multiple of 16 within 256–1920', () => {
    for (const ratio of ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '21:9', '9:21'] as const) {
      for (const longSide of [256, 1024, 1920]) {
        const { width, height } = togetherDimensions(ratio, longSide);
        for (const side of [width, height]) {
          expect(side % 16).toBe(0);
          expect(side).toBeGreaterThanOrEqual(256);
          expect(side).toBeLessThanOrEqual(1920);
        }
        expect(Math.max(width, height)).toBe(longSide);
      }
    }
  });

  it('defaults to the documented base URL', () => {
    expect(TOGETHER_DEFAULT_BASE_URL).toBe('https://api.together.xyz');
  });
});

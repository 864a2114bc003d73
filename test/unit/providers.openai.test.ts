import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import OpenAI, { toFile } from 'openai';
import { PNG } from 'pngjs';
import { createOpenaiProvider } from '../../providers/openai';
import { parseResetDuration, rateLimitWaitMs } from '../../providers/openai/images-api';
import { renderSandboxImage } from '../../providers/sandbox/render';
import {
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type ProviderCallContext,
  type SubmitResult,
  type UpstreamImage,
} from '../../providers/types';
import { OpenaiFake, type OpenaiFakeOptions } from '../fakes/openai-fake';

const KEY = 'openai-test-key';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: 'gpt-image-1',
  model: 'gpt-image-1',
  prompt: 'a lighthouse at dusk',
  n: 1,
  aspectRatio: '16:9',
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

function completed(result: SubmitResult): Extract<SubmitResult, { status: 'completed' }> {
  if (result.status !== 'completed') throw new Error(`expected completed, got ${result.status}`);
  return result;
}

function pngOf(image: UpstreamImage | undefined): PNG {
  if (image?.kind !== 'bytes') throw new Error('expected inline bytes');
  return PNG.sync.read(Buffer.from(image.data));
}

/** Another origin serving reference images, recording the headers it was sent. */
class ImageHost {
  readonly seen: IncomingHttpHeaders[] = [];
  private server: Server | undefined;
  url = '';

  async start(): Promise<void> {
    const picture = renderSandboxImage({ model: 'ref', prompt: 'ref', index: 0, width: 1024, height: 1024 });
    const mask = renderSandboxImage({ model: 'mask', prompt: 'mask', index: 0, width: 1024, height: 1024 });
    const smallMask = renderSandboxImage({
      model: 'mask',
      prompt: 'mask',
      index: 0,
      width: 512,
      height: 512,
    });
    this.server = createServer((req, res) => {
      this.seen.push(req.headers);
      const send = (type: string, body: Buffer): void => {
        res.writeHead(200, { 'content-type': type });
        res.end(body);
      };
      if (req.url === '/ref.png') return send('image/png', picture);
      if (req.url === '/mask.png') return send('image/png', mask);
      if (req.url === '/small-mask.png') return send('image/png', smallMask);
      if (req.url === '/anim.gif') return send('image/gif', Buffer.from('GIF89a'));
      res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }
}

describe('openai adapter against the fake Images API', () => {
  let fake: OpenaiFake;
  let close: () => Promise<void>;
  const host = new ImageHost();

  async function startFake(options: OpenaiFakeOptions = {}): Promise<void> {
    fake = new OpenaiFake({ moderatedWords: ['forbidden'], ...options });
    ({ close } = await fake.start());
  }

  const provider = (overrides: { apiKey?: string; options?: Record<string, unknown> } = {}): ImageProvider =>
    createOpenaiProvider({
      deploymentId: 'openai-test',
      baseUrl: fake.url,
      apiKey: overrides.apiKey ?? KEY,
      options: overrides.options ?? {},
    });

  beforeAll(() => host.start());
  afterAll(() => host.close());
  beforeEach(() => startFake());
  afterEach(() => close());

  it('generates one image synchronously: a real PNG of the nearest size, with the token usage', async () => {
    const result = completed(await provider().submit(request(), context()));
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({
      kind: 'bytes',
      contentType: 'image/png',
      width: 1536,
      height: 1024,
    });
    const png = pngOf(result.images[0]);
    expect([png.width, png.height]).toEqual([1536, 1024]);
    // medium 1536x1024 is 1568 output tokens; the prompt is 20 characters, 5 text tokens.
    expect(result.usage).toEqual({
      input_tokens: 5,
      output_tokens: 1568,
      total_tokens: 1573,
      input_text_tokens: 5,
      input_image_tokens: 0,
      output_text_tokens: 0,
      output_image_tokens: 1568,
    });
  });

  it('sends the body the spec asks for, with the Bearer key and the organisation and project headers', async () => {
    await close();
    await startFake({ organization: 'org-123', project: 'proj_abc' });
    await provider({ options: { organization: 'org-123', project: 'proj_abc', moderation: 'low' } }).submit(
      request({ aspectRatio: '9:16' }),
      context(),
    );
    const [submission] = fake.submissions;
    expect(submission?.path).toBe('/v1/images/generations');
    expect(submission?.headers).toMatchObject({
      authorization: `Bearer ${KEY}`,
      'openai-organization': 'org-123',
      'openai-project': 'proj_abc',
      'content-type': 'application/json',
    });
    expect(submission?.fields).toEqual({
      model: 'gpt-image-1',
      prompt: 'a lighthouse at dusk',
      n: 1,
      size: '1024x1536',
      quality: 'medium',
      output_format: 'png',
      moderation: 'low',
    });
  });

  it('makes n images in one request, each different', async () => {
    const result = completed(await provider().submit(request({ n: 3, aspectRatio: '1:1' }), context()));
    expect(result.images).toHaveLength(3);
    const bytes = result.images.map((i) =>
      i.kind === 'bytes' ? Buffer.from(i.data).toString('base64') : '',
    );
    expect(new Set(bytes).size).toBe(3);
    expect(fake.submissions).toHaveLength(1);
    expect(fake.submissions[0]?.fields).toMatchObject({ n: 3, size: '1024x1024' });
    expect(result.usage?.output_tokens).toBe(3 * 1056);
  });

  it('sends the requested format with its compression, and the quality and background options', async () => {
    const openai = provider({ options: { quality: 'high', background: 'opaque', output_compression: 80 } });
    const result = completed(await openai.submit(request({ outputFormat: 'webp' }), context()));
    expect(fake.submissions[0]?.fields).toMatchObject({
      output_format: 'webp',
      output_compression: 80,
      quality: 'high',
      background: 'opaque',
    });
    // The adapter reports what the bytes are.
    expect(result.images[0]?.contentType).toBe('image/webp');

    await openai.submit(request({ outputFormat: 'png' }), context());
    expect(fake.submissions[1]?.fields).not.toHaveProperty('output_compression');
  });

  it('edits with reference images as multipart image[] parts and a mask, without sending the key to their host', async () => {
    host.seen.length = 0;
    const result = completed(
      await provider({ options: { moderation: 'low' } }).submit(
        request({
          aspectRatio: '1:1',
          n: 2,
          imageUrls: [`${host.url}/ref.png`, `${host.url}/ref.png`],
          maskUrl: `${host.url}/mask.png`,
        }),
        context(),
      ),
    );
    expect(result.images).toHaveLength(2);
    const [submission] = fake.submissions;
    expect(submission?.path).toBe('/v1/images/edits');
    expect(submission?.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(submission?.files.map((f) => [f.field, f.type, f.width])).toEqual([
      ['image[]', 'image/png', 1024],
      ['image[]', 'image/png', 1024],
      ['mask', 'image/png', 1024],
    ]);
    // Edits have no `moderation` field; the fake refuses unknown fields as the API does.
    expect(submission?.fields).toEqual({
      model: 'gpt-image-1',
      prompt: 'a lighthouse at dusk',
      n: '2',
      size: '1024x1024',
      quality: 'medium',
      output_format: 'png',
    });
    expect(result.usage?.input_image_tokens).toBe(2 * 194);
    expect(host.seen).toHaveLength(3);
    for (const headers of host.seen) {
      expect(headers.authorization).toBeUndefined();
      expect(JSON.stringify(headers)).not.toContain(KEY);
    }
  });

  it('fetches reference images with settings.fetchImage when it is given', async () => {
    const fetched: string[] = [];
    const png = renderSandboxImage({ model: 'x', prompt: 'y', index: 0, width: 64, height: 64 });
    const openai = createOpenaiProvider({
      deploymentId: 'openai-test',
      baseUrl: fake.url,
      apiKey: KEY,
      options: {},
      fetchImage: async (url) => {
        fetched.push(url);
        return { bytes: new Uint8Array(png), contentType: 'image/png' };
      },
    });
    await openai.submit(request({ imageUrls: ['https://images.example/a.png'] }), context());
    expect(fetched).toEqual(['https://images.example/a.png']);
    expect(fake.submissions[0]?.files[0]).toMatchObject({ field: 'image[]', width: 64, size: png.length });
  });

  it('maps a mask the API refuses (wrong size) to rejected, naming the param', async () => {
    const error = await rejection(
      provider().submit(
        request({ imageUrls: [`${host.url}/ref.png`], maskUrl: `${host.url}/small-mask.png` }),
        context(),
      ),
    );
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 400, upstreamCode: 'invalid_image_dimensions' },
    });
    expect(error.message).toContain('param mask');
  });

  it('refuses a reference image of a type edits do not take, before calling OpenAI', async () => {
    const error = await rejection(
      provider().submit(request({ imageUrls: [`${host.url}/anim.gif`] }), context()),
    );
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { upstreamCode: 'reference_image_invalid' },
    });
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses a reference image of 50 MB or more and a mask of 4 MB or more, before calling OpenAI', async () => {
    const png = renderSandboxImage({ model: 'x', prompt: 'y', index: 0, width: 64, height: 64 });
    const padded = (bytes: number): Uint8Array =>
      new Uint8Array(Buffer.concat([png, Buffer.alloc(bytes - png.length)]));
    const images: Record<string, Uint8Array> = {
      'https://images.example/huge.png': padded(50 * 1024 * 1024),
      'https://images.example/fits.png': padded(50 * 1024 * 1024 - 1),
      'https://images.example/huge-mask.png': padded(4 * 1024 * 1024),
    };
    const openai = createOpenaiProvider({
      deploymentId: 'openai-test',
      baseUrl: fake.url,
      apiKey: KEY,
      options: {},
      fetchImage: async (url) => ({ bytes: images[url]!, contentType: 'image/png' }),
    });
    const huge = await rejection(
      openai.submit(request({ imageUrls: ['https://images.example/huge.png'] }), context()),
    );
    expect(huge).toMatchObject({ outcome: 'rejected', details: { upstreamCode: 'reference_image_invalid' } });
    expect(huge.message).toContain('less than 50 MB');
    const hugeMask = await rejection(
      openai.submit(
        request({
          imageUrls: ['https://images.example/fits.png'],
          maskUrl: 'https://images.example/huge-mask.png',
        }),
        context(),
      ),
    );
    expect(hugeMask).toMatchObject({
      outcome: 'rejected',
      details: { upstreamCode: 'reference_image_invalid' },
    });
    expect(hugeMask.message).toContain('less than 4 MB');
    expect(fake.requests).toHaveLength(0);
  });

  it('maps moderation_blocked to content_policy', async () => {
    const error = await rejection(provider().submit(request({ prompt: 'something forbidden' }), context()));
    expect(error).toMatchObject({
      outcome: 'content_policy',
      details: { status: 400, upstreamCode: 'moderation_blocked' },
    });
    expect(error.isClientError).toBe(true);
    expect(error.message).toContain('safety system');
  });

  it('maps image_generation_user_error to content_policy and another 400 to rejected', async () => {
    fake.inject({
      on: 'generations',
      status: 400,
      body: {
        error: { message: 'Image refused', type: 'image_generation_user_error', param: null, code: null },
      },
    });
    expect((await rejection(provider().submit(request(), context()))).outcome).toBe('content_policy');

    fake.inject({
      on: 'generations',
      status: 400,
      body: {
        error: {
          message: "Invalid value: 'huge'.",
          type: 'invalid_request_error',
          param: 'size',
          code: 'invalid_value',
        },
      },
    });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 400, upstreamCode: 'invalid_value' },
    });
    expect(error.message).toContain('param size');
  });

  it('maps a wrong key (401) to rejected with a message an operator can act on', async () => {
    const error = await rejection(provider({ apiKey: 'sk-wrong-key-123456' }).submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 401, upstreamCode: 'invalid_api_key' },
    });
    expect(error.message).toContain('openai-test');
    expect(error.message).toContain('Incorrect API key provided');
    expect(error.message).not.toContain('sk-wrong-key-123456');
    expect(fake.submissions).toHaveLength(0);
  });

  it('maps a mismatched organisation header (401) to rejected', async () => {
    await close();
    await startFake({ organization: 'org-right' });
    const error = await rejection(
      provider({ options: { organization: 'org-wrong' } }).submit(request(), context()),
    );
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 401, upstreamCode: 'mismatched_organization' },
    });
  });

  it('maps 403 "organization must be verified" to rejected, pointing to the verification page', async () => {
    await close();
    await startFake({ unverifiedOrganization: true });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 403, upstreamCode: 'organization_not_verified' },
    });
    expect(error.message).toContain('platform.openai.com/settings/organization/general');
  });

  it('maps the per-key rate limit to rate_limited with retryAfterMs from Retry-After', async () => {
    await close();
    await startFake({ requestsPerMinute: 1 });
    await provider().submit(request(), context());
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'rate_limited',
      details: { status: 429, upstreamCode: 'rate_limit_exceeded' },
    });
    expect(error.details.retryAfterMs).toBeGreaterThan(50_000);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect(error.isClientError).toBe(false);
  });

  it('reads the wait from x-ratelimit-reset-* when there is no Retry-After', async () => {
    await close();
    await startFake({ requestsPerMinute: 1, sendRetryAfter: false });
    await provider().submit(request(), context());
    const error = await rejection(provider().submit(request(), context()));
    expect(error.outcome).toBe('rate_limited');
    expect(error.details.retryAfterMs).toBeGreaterThan(50_000);

    fake.inject({
      on: 'generations',
      status: 429,
      body: {
        error: {
          message: 'Rate limit reached for tokens',
          type: 'tokens',
          param: null,
          code: 'rate_limit_exceeded',
        },
      },
      headers: {
        'x-ratelimit-remaining-requests': '4',
        'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-remaining-tokens': '0',
        'x-ratelimit-reset-tokens': '6m0s',
      },
    });
    const tokens = await rejection(provider().submit(request(), context()));
    expect(tokens.details).toMatchObject({ status: 429, retryAfterMs: 360_000 });
  });

  it('maps 429 insufficient_quota to error, not a rate limit: the account is out of money', async () => {
    await close();
    await startFake({ insufficientQuota: true });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'error',
      details: { status: 429, upstreamCode: 'insufficient_quota' },
    });
    expect(error.details.retryAfterMs).toBeUndefined();
  });

  it('maps 5xx to error and 504 to timeout', async () => {
    fake.inject({ on: 'generations', status: 500 });
    expect(await rejection(provider().submit(request(), context()))).toMatchObject({
      outcome: 'error',
      details: { status: 500 },
    });
    fake.inject({ on: 'any', status: 504 });
    expect((await rejection(provider().submit(request(), context()))).outcome).toBe('timeout');
    // Healthy again.
    completed(await provider().submit(request(), context()));
  });

  it.each(['not_json', 'no_data', 'bad_base64', 'not_an_image', 'too_few'] as const)(
    'maps a malformed answer (%s) to error unexpected_response',
    async (malformed) => {
      fake.inject({ on: 'generations', malformed });
      const error = await rejection(provider().submit(request({ n: 2 }), context()));
      expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'unexpected_response' } });
    },
  );

  it('maps a refused connection to error', async () => {
    const openai = provider();
    await close();
    const error = await rejection(openai.submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'network_error' } });
    await startFake();
  });

  it('maps an abort during a hung request to timeout', async () => {
    fake.inject({ on: 'generations', hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    const error = await rejection(provider().submit(request(), context(controller.signal)));
    expect(error).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'aborted' } });
    expect(fake.submissions).toHaveLength(0);
  });

  it('waits as long as the upstream takes (latency) when nothing aborts', async () => {
    await close();
    await startFake({ latencyMs: 150 });
    const started = Date.now();
    completed(await provider().submit(request(), context()));
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it.each([
    ['a seed', { seed: 3 }],
    ['a negative prompt', { negativePrompt: 'blurry' }],
    [
      '17 reference images',
      { imageUrls: Array.from({ length: 17 }, (_, i) => `https://a.example/${i}.png`) },
    ],
    ['a mask without a reference image', { maskUrl: 'https://a.example/mask.png' }],
    ['11 images', { n: 11 }],
    ['a DALL·E model', { upstreamModel: 'dall-e-3' }],
  ] as [string, Partial<GenerationRequest>][])(
    'refuses %s before calling OpenAI',
    async (_what, overrides) => {
      const error = await rejection(provider().submit(request(overrides), context()));
      expect(error.outcome).toBe('rejected');
      expect(fake.requests).toHaveLength(0);
    },
  );

  it('declares what it can do per model, and adapts aspect ratios to the nearest size', () => {
    const openai = provider();
    expect(openai.capabilities('gpt-image-1')).toMatchObject({
      maxImages: 10,
      seed: false,
      negativePrompt: false,
      maxReferenceImages: 16,
      mask: true,
      outputFormats: ['png', 'jpeg', 'webp'],
      cancel: false,
    });
    expect(openai.capabilities('gpt-image-1-mini').aspectRatios).toHaveLength(9);
    expect(openai.capabilities('gpt-image-1.5').maxImages).toBe(10);
    expect(openai.capabilities('dall-e-3').maxImages).toBe(0);
    expect(openai.adaptations?.(request({ aspectRatio: '16:9' }))).toEqual([
      'aspect ratio 16:9 served as 1536x1024, the nearest size GPT image models make',
    ]);
    expect(openai.adaptations?.(request({ aspectRatio: '9:21' }))?.[0]).toContain('1024x1536');
    expect(openai.adaptations?.(request({ aspectRatio: '1:1' }))).toEqual([]);
    expect(openai.adaptations?.(request({ aspectRatio: '3:2' }))).toEqual([]);
  });

  it('does not offer jpeg with a transparent background, and refuses it', async () => {
    const openai = provider({ options: { background: 'transparent' } });
    expect(openai.capabilities('gpt-image-1').outputFormats).toEqual(['png', 'webp']);
    const error = await rejection(openai.submit(request({ outputFormat: 'jpeg' }), context()));
    expect(error).toMatchObject({ outcome: 'rejected', details: { upstreamCode: 'unsupported_parameters' } });
    expect(fake.requests).toHaveLength(0);
  });

  it('has nothing to poll', async () => {
    expect((await rejection(provider().poll('whatever', context()))).outcome).toBe('rejected');
  });

  it('refuses to build without a key, and names a bad option', () => {
    expect(() => createOpenaiProvider({ deploymentId: 'no-key', options: {} })).toThrow(/no-key.*API key/);
    expect(() =>
      createOpenaiProvider({ deploymentId: 'o', apiKey: 'k', options: { quality: 'hd' } }),
    ).toThrow(/"quality"/);
    expect(() =>
      createOpenaiProvider({
        deploymentId: 'o',
        apiKey: 'k',
        options: { background: 'transparent', output_format: 'jpeg' },
      }),
    ).toThrow(/"background"/);
    expect(() => createOpenaiProvider({ deploymentId: 'o', apiKey: 'k', options: { seed: 1 } })).toThrow(
      /unknown option/,
    );
  });
});

describe('the OpenAI fake against the official openai SDK', () => {
  let fake: OpenaiFake;
  let close: () => Promise<void>;
  let client: OpenAI;

  beforeEach(async () => {
    fake = new OpenaiFake();
    ({ close } = await fake.start());
    client = new OpenAI({ apiKey: KEY, baseURL: `${fake.url}/v1`, maxRetries: 0 });
  });
  afterEach(() => close());

  it('answers images.generate as the SDK expects', async () => {
    const answer = await client.images.generate({
      model: 'gpt-image-1',
      prompt: 'an otter',
      size: '1024x1024',
    });
    const b64 = answer.data?.[0]?.b64_json ?? '';
    expect(PNG.sync.read(Buffer.from(b64, 'base64')).width).toBe(1024);
    expect(answer.usage?.input_tokens_details.text_tokens).toBe(2);
  });

  it('answers images.edit with several images as the SDK sends them', async () => {
    const png = renderSandboxImage({ model: 'x', prompt: 'y', index: 0, width: 256, height: 256 });
    const answer = await client.images.edit({
      model: 'gpt-image-1',
      prompt: 'make it blue',
      image: [
        await toFile(png, 'a.png', { type: 'image/png' }),
        await toFile(png, 'b.png', { type: 'image/png' }),
      ],
    });
    expect(answer.data).toHaveLength(1);
    expect(fake.submissions[0]?.files.map((f) => f.field)).toEqual(['image[]', 'image[]']);
  });

  it('refuses what the real API refuses, in its error shape', async () => {
    const cases: [Record<string, unknown>, string, string | null][] = [
      [{ seed: 1 }, 'Unrecognized request argument supplied: seed', null],
      [{ response_format: 'url' }, "Unknown parameter: 'response_format'.", 'response_format'],
      [{ size: '512x512' }, "Invalid value: '512x512'", 'size'],
      [{ n: 11 }, 'integer above maximum value', 'n'],
      [{ output_compression: 50 }, 'only supported for the jpeg and webp', 'output_compression'],
      [{ quality: 'hd' }, "Invalid value: 'hd'", 'quality'],
    ];
    for (const [extra, message, param] of cases) {
      const call = client.images.generate({
        model: 'gpt-image-1',
        prompt: 'an otter',
        ...extra,
      } as OpenAI.Images.ImageGenerateParamsNonStreaming);
      const error: unknown = await call.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain(message);
      expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe(param);
    }
    expect(fake.submissions).toHaveLength(0);
  });

  it('refuses an edit image of 50 MB or more, as the reference limits GPT image models', async () => {
    const png = renderSandboxImage({ model: 'x', prompt: 'y', index: 0, width: 256, height: 256 });
    const huge = Buffer.concat([png, Buffer.alloc(50 * 1024 * 1024 - png.length)]);
    const error: unknown = await client.images
      .edit({
        model: 'gpt-image-1',
        prompt: 'make it blue',
        image: [
          await toFile(png, 'a.png', { type: 'image/png' }),
          await toFile(huge, 'b.png', { type: 'image/png' }),
        ],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).message).toContain('image 2');
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).code).toBe('image_file_too_large');
    expect(fake.submissions).toHaveLength(0);
  });

  it('answers a wrong key as the SDK expects', async () => {
    const wrong = new OpenAI({ apiKey: 'sk-nope-nope-nope', baseURL: `${fake.url}/v1`, maxRetries: 0 });
    const error: unknown = await wrong.images.generate({ model: 'gpt-image-1', prompt: 'x' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((error as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
  });
});

describe('OpenAI rate-limit headers', () => {
  it('parses reset durations', () => {
    expect(parseResetDuration('1s')).toBe(1000);
    expect(parseResetDuration('6m0s')).toBe(360_000);
    expect(parseResetDuration('20ms')).toBe(20);
    expect(parseResetDuration('1h2m3.5s')).toBe(3_723_500);
    expect(parseResetDuration('soon')).toBeUndefined();
    expect(parseResetDuration('')).toBeUndefined();
  });

  it('prefers retry-after-ms, then Retry-After, then the exhausted budget, else the soonest reset', () => {
    expect(rateLimitWaitMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(rateLimitWaitMs(new Headers({ 'retry-after': '9', 'x-ratelimit-reset-requests': '1s' }))).toBe(
      9000,
    );
    expect(
      rateLimitWaitMs(
        new Headers({
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '12s',
          'x-ratelimit-reset-tokens': '6m0s',
        }),
      ),
    ).toBe(12_000);
    expect(
      rateLimitWaitMs(
        new Headers({ 'x-ratelimit-reset-requests': '2s', 'x-ratelimit-reset-tokens': '6m0s' }),
      ),
    ).toBe(2000);
    expect(rateLimitWaitMs(new Headers())).toBeUndefined();
  });
});

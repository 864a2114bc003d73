import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PNG } from 'pngjs';
import {
  createGeminiProvider,
  geminiCapabilities,
  geminiImageSize,
  sniffImage,
} from '../../providers/gemini';
import { renderSandboxImage } from '../../providers/sandbox/render';
import {
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type ProviderCallContext,
  type SubmitResult,
  type UpstreamImage,
} from '../../providers/types';
import {
  createGeminiFake,
  GEMINI_FAKE_TRIGGERS,
  type GeminiFake,
  type GeminiFakeOptions,
} from '../fakes/gemini-fake';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: 'gemini-3.1-flash-image',
  model: 'nano-banana-2',
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

function completed(result: SubmitResult): Extract<SubmitResult, { status: 'completed' }> {
  if (result.status !== 'completed') throw new Error('expected a completed result');
  return result;
}

function bytesOf(image: UpstreamImage | undefined): Uint8Array {
  if (image?.kind !== 'bytes') throw new Error('expected inline bytes');
  return image.data;
}

type SentBody = {
  contents: { role: string; parts: Record<string, unknown>[] }[];
  generationConfig: {
    responseModalities: string[];
    imageConfig: Record<string, unknown>;
    seed?: number;
    candidateCount?: number;
  };
};

/** A tiny JPEG header (SOI + SOF0 for 40x30), enough for format and size sniffing. */
const TINY_JPEG = Buffer.from([
  0xff, 0xd8, 0xff, 0xe0, 0x00, 0x04, 0x00, 0x00, 0xff, 0xc0, 0x00, 0x0b, 0x08, 0x00, 0x1e, 0x00, 0x28, 0x01,
  0x01, 0x11, 0x00, 0xff, 0xd9,
]);

describe('Gemini adapter against the fake Gemini API', () => {
  let fake: GeminiFake;
  let close: () => Promise<void>;

  async function startFake(options: GeminiFakeOptions = {}): Promise<void> {
    fake = createGeminiFake(options);
    ({ close } = await fake.start());
  }

  const provider = (overrides: { apiKey?: string; options?: Record<string, unknown> } = {}): ImageProvider =>
    createGeminiProvider({
      deploymentId: 'gemini-test',
      baseUrl: fake.url,
      apiKey: overrides.apiKey ?? 'gemini-test-key',
      options: overrides.options ?? {},
    });

  const sent = (i = 0): SentBody => fake.requests[i]?.body as SentBody;

  beforeEach(() => startFake());
  afterEach(() => close());

  it('generates one image: a real PNG in the proportions asked, with usage', async () => {
    const result = completed(await provider().submit(request(), context()));
    expect(result.images).toHaveLength(1);
    const [image] = result.images;
    const png = PNG.sync.read(Buffer.from(bytesOf(image)));
    expect(image).toMatchObject({
      kind: 'bytes',
      contentType: 'image/png',
      width: png.width,
      height: png.height,
    });
    expect(png.width / png.height).toBeCloseTo(16 / 9, 1);
    expect(result.usage).toEqual({
      promptTokenCount: expect.any(Number),
      candidatesTokenCount: 1120,
      totalTokenCount: expect.any(Number),
    });
  });

  it('sends the documented request: key in x-goog-api-key (not the URL), camelCase body, IMAGE only', async () => {
    await provider().submit(request(), context());
    const [recorded] = fake.requests;
    expect(recorded).toMatchObject({ model: 'gemini-3.1-flash-image', auth: 'header', query: '' });
    expect(recorded?.headers['content-type']).toBe('application/json');
    expect(sent()).toEqual({
      contents: [{ role: 'user', parts: [{ text: 'a lighthouse at dusk' }] }],
      generationConfig: {
        responseModalities: ['IMAGE'],
        imageConfig: { aspectRatio: '16:9', imageSize: '1K' },
        seed: 7,
      },
    });
  });

  it('makes n requests for n images, with consecutive seeds, and sums their usage', async () => {
    const result = completed(await provider().submit(request({ n: 3 }), context()));
    expect(fake.requests).toHaveLength(3);
    expect(fake.requests.map((r) => (r.body as SentBody).generationConfig.seed).sort()).toEqual([7, 8, 9]);
    expect(
      fake.requests.every((r) => (r.body as SentBody).generationConfig.candidateCount === undefined),
    ).toBe(true);
    expect(result.images).toHaveLength(3);
    const distinct = new Set(result.images.map((i) => Buffer.from(bytesOf(i)).toString('base64')));
    expect(distinct.size).toBe(3);
    expect(result.usage?.candidatesTokenCount).toBe(3 * 1120);
    expect(provider().adaptations?.(request({ n: 3 }))).toEqual([
      '3 images as 3 Gemini requests (one image each)',
    ]);
  });

  it('sends image_size in upper case, and 2K/4K images are 2x/4x the 1K one', async () => {
    const sizes: Record<string, number> = {};
    for (const size of ['1K', '2K', '4K']) {
      const result = completed(
        await provider({ options: { image_size: size } }).submit(request(), context()),
      );
      sizes[size] = result.images[0]?.width ?? 0;
    }
    expect(fake.requests.map((r) => (r.body as SentBody).generationConfig.imageConfig.imageSize)).toEqual([
      '1K',
      '2K',
      '4K',
    ]);
    expect(sizes['2K']).toBe(2 * (sizes['1K'] as number));
    expect(sizes['4K']).toBe(4 * (sizes['1K'] as number));
  });

  it('refuses a lower-case image_size option rather than sending it', () => {
    expect(() =>
      createGeminiProvider({ deploymentId: 'g', apiKey: 'k', options: { image_size: '2k' } }),
    ).toThrow(/"image_size"/);
  });

  it('sends no imageSize to gemini-2.5-flash-image, and says when the option is not applied', async () => {
    const gemini = provider({ options: { image_size: '2K' } });
    const r = request({ upstreamModel: 'gemini-2.5-flash-image', model: 'nano-banana' });
    const result = completed(await gemini.submit(r, context()));
    expect(sent().generationConfig.imageConfig).toEqual({ aspectRatio: '16:9' });
    expect(result.usage?.candidatesTokenCount).toBe(1290);
    expect(gemini.adaptations?.(r)).toEqual([
      'gemini-2.5-flash-image renders 1K only; image_size 2K not applied',
    ]);
    expect(geminiImageSize('gemini-3-pro-image', '512')).toEqual({
      size: '1K',
      note: 'gemini-3-pro-image has no image size 512; rendered at 1K',
    });
  });

  it('fetches reference images itself and sends them inline, never with the key', async () => {
    const png = renderSandboxImage({ model: 'ref', prompt: 'ref', index: 0, width: 8, height: 8 });
    const seen: IncomingHttpHeaders[] = [];
    const images: Server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(png);
    });
    await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
    try {
      await provider().submit(request({ imageUrls: [`${origin}/a.png`, `${origin}/b.png`] }), context());
    } finally {
      await new Promise<void>((resolve) => images.close(() => resolve()));
    }
    expect(seen).toHaveLength(2);
    for (const headers of seen) {
      expect(headers['x-goog-api-key']).toBeUndefined();
      expect(JSON.stringify(headers)).not.toContain('gemini-test-key');
    }
    expect(sent().contents[0]?.parts).toEqual([
      { text: 'a lighthouse at dusk' },
      { inlineData: { mimeType: 'image/png', data: png.toString('base64') } },
      { inlineData: { mimeType: 'image/png', data: png.toString('base64') } },
    ]);
  });

  it('uses the outbound-policy fetchImage when the deployment gives one', async () => {
    const fetched: string[] = [];
    const gemini = createGeminiProvider({
      deploymentId: 'gemini-test',
      baseUrl: fake.url,
      apiKey: 'gemini-test-key',
      options: {},
      fetchImage: async (url) => {
        fetched.push(url);
        return { bytes: new Uint8Array(TINY_JPEG), contentType: 'image/jpeg' };
      },
    });
    await gemini.submit(request({ imageUrls: ['https://cdn.example/x.jpg'] }), context());
    expect(fetched).toEqual(['https://cdn.example/x.jpg']);
    expect(sent().contents[0]?.parts[1]).toEqual({
      inlineData: { mimeType: 'image/jpeg', data: TINY_JPEG.toString('base64') },
    });
  });

  it('refuses a reference image type Gemini does not take, before calling it', async () => {
    const gemini = createGeminiProvider({
      deploymentId: 'gemini-test',
      baseUrl: fake.url,
      apiKey: 'gemini-test-key',
      options: {},
      fetchImage: async () => ({ bytes: new Uint8Array([71, 73, 70]), contentType: 'image/gif' }),
    });
    const error = await rejection(
      gemini.submit(request({ imageUrls: ['https://cdn.example/x.gif'] }), context()),
    );
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { upstreamCode: 'reference_image_invalid' },
    });
    expect(fake.requests).toHaveLength(0);
  });

  describe('refusals Gemini answers with HTTP 200', () => {
    it.each([
      'IMAGE_SAFETY',
      'IMAGE_PROHIBITED_CONTENT',
      'PROHIBITED_CONTENT',
      'SAFETY',
      'IMAGE_RECITATION',
      'RECITATION',
      'BLOCKLIST',
      'SPII',
    ])('maps finishReason %s to content_policy, naming it', async (reason) => {
      const error = await rejection(
        provider().submit(
          request({ prompt: `a lighthouse ${GEMINI_FAKE_TRIGGERS.finish(reason)}` }),
          context(),
        ),
      );
      expect(error).toMatchObject({ outcome: 'content_policy', details: { status: 200 } });
      expect(error.message).toContain(reason);
    });

    it.each(['NO_IMAGE', 'IMAGE_OTHER', 'OTHER', 'MALFORMED_RESPONSE'])(
      'maps finishReason %s to error, naming it',
      async (reason) => {
        const error = await rejection(
          provider().submit(request({ prompt: `x ${GEMINI_FAKE_TRIGGERS.finish(reason)}` }), context()),
        );
        expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: reason.toLowerCase() } });
        expect(error.message).toContain(reason);
      },
    );

    it.each(['SAFETY', 'PROHIBITED_CONTENT', 'BLOCKLIST', 'IMAGE_SAFETY'])(
      'maps promptFeedback.blockReason %s to content_policy',
      async (reason) => {
        const error = await rejection(
          provider().submit(request({ prompt: `x ${GEMINI_FAKE_TRIGGERS.block(reason)}` }), context()),
        );
        expect(error.outcome).toBe('content_policy');
        expect(error.message).toContain(`prompt blocked (${reason})`);
      },
    );

    it('maps blockReason OTHER (unstated) to error', async () => {
      const error = await rejection(
        provider().submit(request({ prompt: `x ${GEMINI_FAKE_TRIGGERS.block('OTHER')}` }), context()),
      );
      expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'blocked_other' } });
    });

    it('maps an answer in words only to error, quoting the words', async () => {
      const error = await rejection(
        provider().submit(request({ prompt: `x ${GEMINI_FAKE_TRIGGERS.textOnly}` }), context()),
      );
      expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'text_only' } });
      expect(error.message).toContain('"I can\'t create that picture');
    });

    it('fails the whole job when one of n requests is refused', async () => {
      const error = await rejection(
        provider().submit(request({ n: 2, prompt: GEMINI_FAKE_TRIGGERS.finish('IMAGE_SAFETY') }), context()),
      );
      expect(error.outcome).toBe('content_policy');
    });
  });

  it('maps 429 RESOURCE_EXHAUSTED to rate_limited with RetryInfo.retryDelay', async () => {
    fake.inject({ status: 429, retryDelay: '12s' });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({
      outcome: 'rate_limited',
      details: { status: 429, retryAfterMs: 12_000, upstreamCode: 'resource_exhausted' },
    });
  });

  it('falls back to Retry-After on a 429 without RetryInfo', async () => {
    fake.inject({ status: 429, retryAfter: '3' });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'rate_limited', details: { retryAfterMs: 3000 } });
  });

  it("enforces the fake's per-key requests-per-minute limit the way Google does", async () => {
    await close();
    await startFake({ requestsPerMinute: 1 });
    await provider().submit(request(), context());
    const error = await rejection(provider().submit(request(), context()));
    expect(error.outcome).toBe('rate_limited');
    expect(error.details.retryAfterMs).toBeGreaterThanOrEqual(59_000);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it.each([
    [503, 'error', 'unavailable'],
    [500, 'error', 'internal'],
    [504, 'timeout', 'deadline_exceeded'],
  ] as const)('maps HTTP %i to %s', async (status, outcome, upstreamCode) => {
    fake.inject({ status });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({ outcome, details: { status, upstreamCode } });
  });

  it('maps 400 INVALID_ARGUMENT to rejected with the upstream message', async () => {
    // A text-only model refuses responseModalities IMAGE: a deployment model map pointing at one.
    const error = await rejection(
      provider().submit(request({ upstreamModel: 'gemini-2.5-flash' }), context()),
    );
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 400, upstreamCode: 'invalid_argument' },
    });
    expect(error.message).toContain('response modalities');
  });

  it('maps a wrong key (400 API_KEY_INVALID) and 403 PERMISSION_DENIED to rejected, for the operator', async () => {
    const wrong = await rejection(provider({ apiKey: 'nope' }).submit(request(), context()));
    expect(wrong).toMatchObject({
      outcome: 'rejected',
      details: { status: 400, upstreamCode: 'api_key_invalid' },
    });
    expect(wrong.message).toContain("check the deployment's API key");

    fake.inject({ status: 403 });
    const denied = await rejection(provider().submit(request(), context()));
    expect(denied).toMatchObject({
      outcome: 'rejected',
      details: { status: 403, upstreamCode: 'permission_denied' },
    });
    expect(denied.message).toContain('operator');
  });

  it('maps 404 NOT_FOUND to rejected, pointing at the model map', async () => {
    const error = await rejection(
      provider().submit(request({ upstreamModel: 'gemini-3.1-flash-image-preview' }), context()),
    );
    expect(error).toMatchObject({ outcome: 'rejected', details: { status: 404, upstreamCode: 'not_found' } });
    expect(error.message).toContain('"gemini-3.1-flash-image-preview" is unknown or retired');
    expect(error.message).toContain('model map');
  });

  it.each(['non_json', 'no_candidates', 'bad_base64', 'not_an_image', 'no_parts'] as const)(
    'maps a malformed answer (%s) to error unexpected_response',
    async (malformed) => {
      fake.inject({ malformed });
      const error = await rejection(provider().submit(request(), context()));
      expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'unexpected_response' } });
    },
  );

  it('reports the real format of the bytes, not the declared mimeType', async () => {
    const body = {
      candidates: [
        {
          content: {
            role: 'model',
            parts: [{ inlineData: { mimeType: 'image/png', data: TINY_JPEG.toString('base64') } }],
          },
          finishReason: 'STOP',
        },
      ],
    };
    fake.inject({ body });
    const result = completed(await provider().submit(request(), context()));
    expect(result.images[0]).toMatchObject({ contentType: 'image/jpeg', width: 40, height: 30 });

    // Where PNG was asked for (a model that promises PNG), a JPEG is not passed off as one.
    fake.inject({ body });
    const error = await rejection(
      provider().submit(request({ upstreamModel: 'gemini-2.5-flash-image', outputFormat: 'png' }), context()),
    );
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'unexpected_format' } });
  });

  it('reads snake_case inline_data parts in an answer', async () => {
    const png = renderSandboxImage({ model: 'm', prompt: 'p', index: 0, width: 12, height: 6 });
    fake.inject({
      body: {
        candidates: [
          {
            content: {
              parts: [
                { text: 'here' },
                { inline_data: { mime_type: 'image/png', data: png.toString('base64') } },
              ],
            },
            finishReason: 'STOP',
          },
        ],
      },
    });
    const result = completed(await provider().submit(request(), context()));
    expect(result.images[0]).toMatchObject({ contentType: 'image/png', width: 12, height: 6 });
  });

  it('skips thought images and keeps the final one', async () => {
    const thought = renderSandboxImage({ model: 'm', prompt: 'draft', index: 0, width: 4, height: 4 });
    const final = renderSandboxImage({ model: 'm', prompt: 'final', index: 0, width: 8, height: 8 });
    fake.inject({
      body: {
        candidates: [
          {
            content: {
              parts: [
                { thought: true, inlineData: { mimeType: 'image/png', data: thought.toString('base64') } },
                {
                  inlineData: { mimeType: 'image/png', data: final.toString('base64') },
                  thoughtSignature: 'c2ln',
                },
              ],
            },
            finishReason: 'STOP',
          },
        ],
      },
    });
    const result = completed(await provider().submit(request(), context()));
    expect(result.images).toHaveLength(1);
    expect(Buffer.from(bytesOf(result.images[0])).equals(final)).toBe(true);
  });

  it('maps a refused connection to error network_error', async () => {
    const gemini = provider();
    await close();
    const error = await rejection(gemini.submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'network_error' } });
    await startFake();
  });

  it('stops the other requests of a job once one fails', async () => {
    fake.inject({ status: 500 });
    fake.inject({ hang: true });
    const error = await rejection(provider().submit(request({ n: 2 }), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { status: 500 } });
    await new Promise((resolve) => setTimeout(resolve, 50));
    const hung = fake.requests.find((r) => r.status === 0);
    expect(hung?.closedByClient).toBe(true);
  });

  it('maps an abort during a hung request to timeout', async () => {
    fake.inject({ hang: true, times: 2 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    const error = await rejection(provider().submit(request({ n: 2 }), context(controller.signal)));
    expect(error).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'aborted' } });
    expect(error.message).toContain('deadline');
  });

  it('answers only after the latency option', async () => {
    await close();
    await startFake({ latencyMs: 150 });
    const started = Date.now();
    await provider().submit(request(), context());
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('has no job to poll', async () => {
    expect((await rejection(provider().poll('anything', context()))).outcome).toBe('rejected');
  });

  it('refuses to build without an API key', () => {
    expect(() => createGeminiProvider({ deploymentId: 'no-key', baseUrl: fake.url, options: {} })).toThrow(
      /no-key.*API key/,
    );
  });

  describe('capability refusals, before any request', () => {
    it.each([
      ['a negative prompt', { negativePrompt: 'blurry' }],
      ['a mask', { imageUrls: ['https://a.example/1.png'], maskUrl: 'https://a.example/m.png' }],
      ['more than 4 images', { n: 5 }],
      ['9:21', { aspectRatio: '9:21' }],
      [
        '4 reference images on gemini-2.5-flash-image',
        { upstreamModel: 'gemini-2.5-flash-image', imageUrls: ['a', 'b', 'c', 'd'] },
      ],
      [
        '15 reference images on a Gemini 3 model',
        { imageUrls: Array.from({ length: 15 }, (_, i) => `u${i}`) },
      ],
      [
        'jpeg output from gemini-2.5-flash-image',
        { upstreamModel: 'gemini-2.5-flash-image', outputFormat: 'jpeg' },
      ],
      ['any fixed format from a Gemini 3 model', { outputFormat: 'png' }],
    ] as [string, Partial<GenerationRequest>][])('refuses %s', async (_, overrides) => {
      const error = await rejection(provider().submit(request(overrides), context()));
      expect(error).toMatchObject({
        outcome: 'rejected',
        details: { upstreamCode: 'unsupported_parameters' },
      });
      expect(fake.requests).toHaveLength(0);
    });
  });
});

describe('Gemini capabilities', () => {
  it('declares per model family what Google documents', () => {
    expect(geminiCapabilities('gemini-2.5-flash-image')).toEqual({
      maxImages: 4,
      seed: true,
      negativePrompt: false,
      maxReferenceImages: 3,
      mask: false,
      aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '21:9'],
      outputFormats: ['png'],
      cancel: false,
    });
    expect(geminiCapabilities('gemini-3.1-flash-image')).toMatchObject({
      maxReferenceImages: 14,
      outputFormats: [],
    });
    expect(geminiCapabilities('models/gemini-3-pro-image')).toMatchObject({ maxReferenceImages: 14 });
    expect(geminiCapabilities('gemini-9-ultra-image').aspectRatios).not.toContain('9:21');
  });

  it('sniffs PNG and JPEG headers', () => {
    const png = renderSandboxImage({ model: 'm', prompt: 'p', index: 0, width: 10, height: 20 });
    expect(sniffImage(png)).toEqual({ format: 'png', width: 10, height: 20 });
    expect(sniffImage(TINY_JPEG)).toEqual({ format: 'jpeg', width: 40, height: 30 });
    expect(sniffImage(Buffer.from('GIF89a'))).toBeUndefined();
  });
});

describe('the Gemini fake', () => {
  let fake: GeminiFake;
  let close: () => Promise<void>;
  beforeEach(async () => {
    fake = createGeminiFake();
    ({ close } = await fake.start());
  });
  afterEach(() => close());

  const call = (
    model: string,
    body: unknown,
    auth: 'header' | 'query' | 'none' = 'header',
  ): Promise<Response> =>
    fetch(
      `${fake.url}/v1beta/models/${model}:generateContent${auth === 'query' ? '?key=gemini-test-key' : ''}`,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(auth === 'header' ? { 'x-goog-api-key': 'gemini-test-key' } : {}),
        },
        body: JSON.stringify(body),
      },
    );
  const body = (imageConfig: Record<string, unknown> = {}, parts: unknown[] = [{ text: 'hi' }]): unknown => ({
    contents: [{ role: 'user', parts }],
    generationConfig: { responseModalities: ['IMAGE'], imageConfig },
  });
  const widthOf = async (response: Response): Promise<number> => {
    const json = (await response.json()) as {
      candidates: { content: { parts: { inlineData: { data: string } }[] } }[];
    };
    const data = json.candidates[0]?.content.parts.at(-1)?.inlineData.data ?? '';
    return PNG.sync.read(Buffer.from(data, 'base64')).width;
  };

  it('takes the key as ?key= too, and answers 403 without one', async () => {
    expect((await call('gemini-3.1-flash-image', body(), 'query')).status).toBe(200);
    const denied = await call('gemini-3.1-flash-image', body(), 'none');
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { error: { status: string } }).error.status).toBe('PERMISSION_DENIED');
  });

  it('silently serves the smallest size for a lower-case imageSize', async () => {
    const upper = await widthOf(
      await call('gemini-3-pro-image', body({ aspectRatio: '1:1', imageSize: '2K' })),
    );
    const lower = await widthOf(
      await call('gemini-3-pro-image', body({ aspectRatio: '1:1', imageSize: '2k' })),
    );
    const oneK = await widthOf(
      await call('gemini-3-pro-image', body({ aspectRatio: '1:1', imageSize: '1K' })),
    );
    expect(upper).toBe(2 * oneK);
    expect(lower).toBe(oneK);
  });

  it('rejects what the API rejects with 400 INVALID_ARGUMENT', async () => {
    const cases: [string, unknown][] = [
      ['gemini-3.1-flash-image', { generationConfig: {} }],
      ['gemini-3.1-flash-image', body({ aspectRatio: '9:21' })],
      ['gemini-2.5-flash-image', body({ imageSize: '1K' })],
      [
        'gemini-3.1-flash-image',
        body({}, [{ text: 'x' }, { inlineData: { mimeType: 'image/png', data: '%%%' } }]),
      ],
      [
        'gemini-3.1-flash-image',
        body({}, [{ text: 'x' }, { inlineData: { mimeType: 'text/plain', data: 'aGk=' } }]),
      ],
      [
        'gemini-2.5-flash-image',
        body({}, [
          { text: 'x' },
          ...Array.from({ length: 4 }, () => ({ inlineData: { mimeType: 'image/png', data: 'aGk=' } })),
        ]),
      ],
      [
        'gemini-3.1-flash-image',
        { ...(body() as object), generationConfig: { responseModalities: ['IMAGE'], candidateCount: 2 } },
      ],
    ];
    for (const [model, payload] of cases) {
      const response = await call(model, payload);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { status: string } }).error.status).toBe(
        'INVALID_ARGUMENT',
      );
    }
  });

  it('accepts snake_case inline_data and answers in words without the IMAGE modality', async () => {
    const ok = await call(
      'gemini-3.1-flash-image',
      body({}, [{ text: 'x' }, { inline_data: { mime_type: 'image/png', data: 'aGk=' } }]),
    );
    expect(ok.status).toBe(200);
    const words = await call('gemini-3.1-flash-image', { contents: [{ parts: [{ text: 'x' }] }] });
    const json = (await words.json()) as { candidates: { content: { parts: { text?: string }[] } }[] };
    expect(json.candidates[0]?.content.parts[0]?.text).toEqual(expect.any(String));
  });
});

import OpenAI from 'openai';
import { PNG } from 'pngjs';
import { aspectRatioForSize } from '../../api/routes/openai';
import { startTestEasel, type TestEasel } from '../support/easel';
import { sandboxProviders, writeConfig } from '../support/config';

describe('OpenAI-compatible POST /v1/images/generations', () => {
  let easel: TestEasel;
  let client: OpenAI;
  let key: string;
  beforeAll(async () => {
    easel = await startTestEasel({
      env: { EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 100 }) }) },
    });
    ({ key } = await easel.newAccount('pro'));
    client = new OpenAI({ apiKey: key, baseURL: `${easel.baseUrl}/v1`, maxRetries: 0 });
  });
  afterAll(() => easel.stop());

  it('answers gpt-image-1 with base64 images by default, as OpenAI does, charging like /v1/imagine', async () => {
    const result = await client.images.generate({
      model: 'gpt-image-1',
      prompt: 'a paper boat',
      size: '1536x1024',
      n: 2,
    });
    expect(result.data).toHaveLength(2);
    expect(result.data![0]!.url).toBeUndefined();
    const png = PNG.sync.read(Buffer.from(result.data![0]!.b64_json!, 'base64'));
    expect(png.width).toBeGreaterThan(png.height);
    const account = await easel.call<{ balance: { captured: number; held: number } }>('GET', '/v1/account', {
      token: key,
    });
    expect(account.body.balance).toMatchObject({ captured: 4, held: 0 });
  });

  it('returns URLs on request, and each size OpenAI defines for gpt-image-1', async () => {
    for (const [size, wide] of [
      ['1024x1024', 0],
      ['1536x1024', 1],
      ['1024x1536', -1],
      ['auto', 0],
    ] as const) {
      const result = await client.images.generate({
        model: 'gpt-image-1',
        prompt: `a boat ${size}`,
        size,
        response_format: 'url',
      });
      const png = PNG.sync.read(Buffer.from(await (await fetch(result.data![0]!.url!)).arrayBuffer()));
      expect(Math.sign(png.width - png.height)).toBe(wide);
    }
    const refused = await client.images
      .generate({ model: 'gpt-image-1', prompt: 'x', size: '256x256' })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
    expect(refused).toMatchObject({ param: 'size', code: 'invalid_value', type: 'invalid_request_error' });
  });

  it('honours output_format and refuses what it cannot honour, never ignoring it', async () => {
    const jpeg = await client.images.generate({
      model: 'gpt-image-1',
      prompt: 'jpeg boat',
      output_format: 'jpeg',
    });
    expect(Buffer.from(jpeg.data![0]!.b64_json!, 'base64').subarray(0, 2)).toEqual(Buffer.from([0xff, 0xd8]));
    expect(jpeg).toMatchObject({ output_format: 'jpeg' });
    for (const params of [{ quality: 'high' }, { background: 'transparent' }, { style: 'vivid' }] as const) {
      const refused = await client.images
        .generate({ model: 'gpt-image-1', prompt: 'x', ...params })
        .catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(OpenAI.BadRequestError);
      expect((refused as { param: string }).param).toBe(Object.keys(params)[0]);
    }
  });

  it('streams OpenAI image events with stream: true', async () => {
    const stream = await client.images.generate({
      model: 'gpt-image-1',
      prompt: 'streamed boat',
      stream: true,
    });
    const events: Array<{ type: string; b64_json?: string }> = [];
    for await (const event of stream) events.push(event);
    expect(events.map((e) => e.type)).toEqual(['image_generation.completed']);
    expect(Buffer.from(events[0]!.b64_json!, 'base64').subarray(1, 4).toString()).toBe('PNG');
  });

  it('lists and retrieves models as OpenAI model objects', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toContain('gpt-image-1');
    const model = await client.models.retrieve('nano-banana');
    expect(model).toMatchObject({ id: 'nano-banana', object: 'model', owned_by: 'easel' });
    expect(typeof model.created).toBe('number');
    await expect(client.models.retrieve('dall-e-9')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it('reads an account out of credits as insufficient_quota, which the client does not retry', async () => {
    const poor = await easel.newAccount('trial');
    const retrying = new OpenAI({ apiKey: poor.key, baseURL: `${easel.baseUrl}/v1`, maxRetries: 2 });
    // 20 of the 25 trial credits, then 20 more than are left.
    await retrying.images.generate({ model: 'ideogram-v3', prompt: 'dear', n: 4 });
    await new Promise((r) => setTimeout(r, 1_100)); // the trial plan's one request a second
    const refused = await retrying.images
      .generate({ model: 'ideogram-v3', prompt: 'too dear', n: 4 })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.RateLimitError);
    expect(refused).toMatchObject({ status: 429, code: 'insufficient_quota', type: 'insufficient_quota' });
    const account = await easel.call<{ balance: { held: number } }>('GET', '/v1/account', {
      token: poor.key,
    });
    expect(account.body.balance.held).toBe(0);
  });

  it('reads a bad key and a suspended account as the Node client’s own error classes, in OpenAI’s shape', async () => {
    const stranger = new OpenAI({ apiKey: 'sk-not-a-key', baseURL: `${easel.baseUrl}/v1`, maxRetries: 0 });
    const unauthenticated = await stranger.images.generate({ prompt: 'who am I' }).catch((e: unknown) => e);
    expect(unauthenticated).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(unauthenticated).toMatchObject({
      status: 401,
      type: 'authentication_error',
      code: 'unauthorized',
    });

    const suspended = await easel.newAccount('pro');
    await easel.admin('PATCH', `/accounts/${suspended.id}`, { status: 'suspended' });
    const barred = new OpenAI({ apiKey: suspended.key, baseURL: `${easel.baseUrl}/v1`, maxRetries: 0 });
    const refused = await barred.images.generate({ prompt: 'still here?' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(refused).toMatchObject({ status: 403, type: 'invalid_request_error', code: 'account_suspended' });
  });

  it('returns base64 images on request', async () => {
    const result = await client.images.generate({
      model: 'flux-2-dev',
      prompt: 'inline',
      response_format: 'b64_json',
    });
    const bytes = Buffer.from(result.data![0]!.b64_json!, 'base64');
    expect(bytes.subarray(1, 4).toString()).toBe('PNG');
  });

  it('surfaces failures as OpenAI client errors with the reason', async () => {
    await expect(
      client.images.generate({ model: 'flux-2-dev', prompt: 'blocked [content_policy]' }),
    ).rejects.toMatchObject({ status: 400, code: 'moderation_blocked' });
    await expect(client.images.generate({ model: 'dall-e-9', prompt: 'x' })).rejects.toMatchObject({
      status: 400,
    });
    await expect(
      new OpenAI({ apiKey: 'ek_wrong', baseURL: `${easel.baseUrl}/v1`, maxRetries: 0 }).images.generate({
        model: 'flux-2-dev',
        prompt: 'x',
      }),
    ).rejects.toMatchObject({ status: 401 });
  });

  it('maps sizes to the nearest catalog aspect ratio', () => {
    expect(aspectRatioForSize('1024x1024')).toBe('1:1');
    expect(aspectRatioForSize('1792x1024')).toBe('16:9');
    expect(aspectRatioForSize('1024x1536')).toBe('2:3');
    expect(aspectRatioForSize('auto')).toBe('1:1');
  });
});

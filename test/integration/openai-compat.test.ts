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

  it('answers the official client synchronously with image URLs, charging like /v1/imagine', async () => {
    const result = await client.images.generate({
      model: 'gpt-image-1',
      prompt: 'a paper boat',
      size: '1536x1024',
      n: 2,
    });
    expect(result.data).toHaveLength(2);
    const res = await fetch(result.data![0]!.url!);
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    expect(png.width).toBeGreaterThan(png.height);
    const account = await easel.call<{ balance: { captured: number; held: number } }>('GET', '/v1/account', {
      token: key,
    });
    expect(account.body.balance).toMatchObject({ captured: 4, held: 0 });
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
    ).rejects.toMatchObject({ status: 400 });
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

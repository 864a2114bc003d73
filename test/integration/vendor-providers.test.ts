import { GEMINI_FAKE_TRIGGERS, createGeminiFake } from '../fakes/gemini-fake';
import { createIdeogramFake } from '../fakes/ideogram-fake';
import { createAzureOpenaiFake, createOpenaiFake } from '../fakes/openai-fake';
import { startTestEasel, type TestEasel } from '../support/easel';
import { waitFor, writeConfig } from '../support/config';
import type { JobView } from '../../core/jobs/view';
import { imageDimensions } from '../../platform/image-store';

process.env.TEST_OPENAI_KEY = 'openai-test-key';
process.env.TEST_AZURE_KEY = 'azure-test-key';
process.env.TEST_GEMINI_KEY = 'gemini-test-key';
process.env.TEST_IDEOGRAM_KEY = 'ideogram-test-key';

/**
 * The model vendors' own APIs end to end on the real stack: each fake is a deployment, jobs for
 * gpt-image-1, nano-banana, nano-banana-2 and ideogram-v3 succeed with stored images of the size
 * the vendor made, a safety block answered with HTTP 200 fails the job and releases its credits,
 * a parameter no deployment takes is refused before anything is held, and an outage of one vendor
 * falls back to another deployment of the same model.
 */
describe('vendor providers end to end', () => {
  const openai = createOpenaiFake({ apiKey: 'openai-test-key' });
  const azure = createAzureOpenaiFake({ apiKey: 'azure-test-key' });
  const gemini = createGeminiFake({ apiKey: 'gemini-test-key' });
  const ideogram = createIdeogramFake({ apiKey: 'ideogram-test-key' });
  let easel: TestEasel;
  let key: string;
  let accountId: string;

  const deployment = (extra: Record<string, unknown>): Record<string, unknown> => ({
    // The fakes listen on loopback: the deployments opt in to private addresses.
    allow_private_network: true,
    timeout_ms: 10_000,
    breaker: { volume_threshold: 100 },
    ...extra,
  });

  beforeAll(async () => {
    await Promise.all([openai.start(), azure.start(), gemini.start(), ideogram.start()]);
    const config = writeConfig({
      providers: {
        default_strategy: 'priority',
        deployments: [
          deployment({
            id: 'openai',
            type: 'openai',
            base_url: openai.url,
            api_key_env: 'TEST_OPENAI_KEY',
            priority: 1,
            models: { 'gpt-image-1': { upstream_model: 'gpt-image-1', cost_usd_micros: 42_240 } },
          }),
          deployment({
            id: 'azure',
            type: 'azure-openai',
            base_url: azure.url,
            api_key_env: 'TEST_AZURE_KEY',
            priority: 2,
            models: { 'gpt-image-1': { upstream_model: 'gpt-image-1', cost_usd_micros: 42_240 } },
          }),
          deployment({
            id: 'gemini',
            type: 'gemini',
            base_url: gemini.url,
            api_key_env: 'TEST_GEMINI_KEY',
            models: {
              'nano-banana': { upstream_model: 'gemini-2.5-flash-image', cost_usd_micros: 38_700 },
              'nano-banana-2': { upstream_model: 'gemini-3.1-flash-image', cost_usd_micros: 67_200 },
            },
          }),
          deployment({
            id: 'ideogram',
            type: 'ideogram',
            base_url: ideogram.url,
            api_key_env: 'TEST_IDEOGRAM_KEY',
            models: { 'ideogram-v3': { upstream_model: 'ideogram-v3', cost_usd_micros: 60_000 } },
          }),
        ],
      },
    });
    easel = await startTestEasel({ env: { EASEL_CONFIG: config } });
    const account = await easel.newAccount('scale-2');
    key = account.key;
    accountId = account.id;
  });
  afterAll(async () => {
    await easel?.stop();
    await Promise.all([openai.close(), azure.close(), gemini.close(), ideogram.close()]);
  });

  const submit = (body: Record<string, unknown>) =>
    easel.call<JobView & { error?: { code: string; details?: Record<string, unknown> } }>(
      'POST',
      '/v1/imagine',
      {
        token: key,
        body,
      },
    );
  const finished = (id: string) =>
    waitFor(
      () => easel.call<JobView>('GET', `/v1/jobs/${id}?wait=20`, { token: key }).then((r) => r.body),
      (j) => j.status === 'succeeded' || j.status === 'failed',
      60_000,
    );
  const balance = async (): Promise<{ available: number; held: number }> =>
    (await easel.call<{ balance: { available: number; held: number } }>('GET', '/v1/account', { token: key }))
      .body.balance;

  it.each([
    ['gpt-image-1', '16:9', 'openai', [1536, 1024]],
    ['nano-banana', '16:9', 'gemini', undefined],
    ['nano-banana-2', '1:1', 'gemini', undefined],
    ['ideogram-v3', '16:9', 'ideogram', [1312, 736]],
  ] as const)(
    'serves %s (%s) from %s with stored images of the size made',
    async (model, ratio, provider, size) => {
      const r = await submit({ model, prompt: `a lighthouse for ${model}`, aspect_ratio: ratio, n: 2 });
      expect(r.status).toBe(202);
      const job = await finished(r.body.id);
      expect(job).toMatchObject({ status: 'succeeded', provider, credits_charged: r.body.credits_reserved });
      expect(job.images).toHaveLength(2);
      for (const image of job.images) {
        const res = await fetch(image.url);
        expect(res.status).toBe(200);
        const bytes = new Uint8Array(await res.arrayBuffer());
        const stored = imageDimensions(bytes)!;
        expect(stored).toEqual({ width: image.width, height: image.height });
        if (size) {
          // The vendor's own size nearest to the aspect ratio (the attempt says so).
          expect([stored.width, stored.height]).toEqual(size);
        } else {
          const [w, h] = ratio.split(':').map(Number) as [number, number];
          expect(Math.abs(stored.width / stored.height - w / h)).toBeLessThan(0.05);
        }
      }
    },
  );

  it.each([
    ['jpeg', 'image/jpeg'],
    ['webp', 'image/webp'],
  ] as const)('stores gpt-image-1 images as %s when asked', async (format, contentType) => {
    const r = await submit({ model: 'gpt-image-1', prompt: `a ${format} poster`, output_format: format });
    expect(r.status).toBe(202);
    const job = await finished(r.body.id);
    expect(job).toMatchObject({ status: 'succeeded', output_format: format });
    const [image] = job.images;
    expect(image).toMatchObject({ content_type: contentType, width: 1024, height: 1024 });
    const res = await fetch(image!.url);
    expect(res.headers.get('content-type')).toBe(contentType);
    expect(imageDimensions(new Uint8Array(await res.arrayBuffer()))).toEqual({ width: 1024, height: 1024 });
  });

  it('refuses a format the only provider of a model cannot make, naming the models that can', async () => {
    const r = await submit({ model: 'ideogram-v3', prompt: 'a poster', output_format: 'jpeg' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({
      code: 'unsupported_parameters',
      details: { parameters: ['output_format'], models_accepting_request: ['gpt-image-1'] },
    });
  });

  it('fails a job Gemini answers with a safety block (HTTP 200) as content_policy and releases its credits', async () => {
    const before = await balance();
    const r = await submit({
      model: 'nano-banana',
      prompt: `a scene ${GEMINI_FAKE_TRIGGERS.finish('IMAGE_SAFETY')}`,
    });
    expect(r.status).toBe(202);
    const job = await finished(r.body.id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'content_policy' });
    expect(job.credits_charged).toBe(0);
    expect(await balance()).toEqual(before);
  });

  it('refuses a negative prompt for gpt-image-1 with 400 unsupported_parameters and holds nothing', async () => {
    const before = await balance();
    const r = await submit({ model: 'gpt-image-1', prompt: 'a logo', negative_prompt: 'blurry' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({
      code: 'unsupported_parameters',
      details: { parameters: ['negative_prompt'], models_accepting_request: ['ideogram-v3'] },
    });
    expect(await balance()).toEqual(before);
    const ledger = await easel.admin<{ data: unknown[] }>('GET', `/accounts/${accountId}/ledger`);
    expect(JSON.stringify(ledger.body)).not.toContain('a logo');
  });

  it('falls back to the Azure deployment of gpt-image-1 when OpenAI is down', async () => {
    openai.inject({ on: 'any', status: 503, times: 1_000 });
    const r = await submit({ model: 'gpt-image-1', prompt: 'during an outage' });
    const job = await finished(r.body.id);
    expect(job).toMatchObject({ status: 'succeeded', provider: 'azure' });
    expect(job.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual(['openai:error', 'azure:success']);
  });
});

import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AzureOpenAI } from 'openai';
import { PNG } from 'pngjs';
import { AZURE_OPENAI_DEFAULT_API_VERSION, createAzureOpenaiProvider } from '../../providers/azure-openai';
import { createOpenaiProvider } from '../../providers/openai';
import { renderSandboxImage } from '../../providers/sandbox/render';
import {
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type ProviderCallContext,
  type SubmitResult,
} from '../../providers/types';
import { createAzureOpenaiFake, type OpenaiFake, type OpenaiFakeOptions } from '../fakes/openai-fake';

const KEY = 'azure-test-key';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: 'image-prod',
  model: 'gpt-image-1',
  prompt: 'a lighthouse at dusk',
  n: 1,
  aspectRatio: '4:3',
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

describe('azure-openai adapter against the fake Azure deployment API', () => {
  let fake: OpenaiFake;
  let close: () => Promise<void>;
  let host: Server;
  let hostUrl = '';
  const hostSeen: IncomingHttpHeaders[] = [];

  async function startFake(options: OpenaiFakeOptions = {}): Promise<void> {
    fake = createAzureOpenaiFake({
      moderatedWords: ['forbidden'],
      azureDeployments: { 'image-prod': 'gpt-image-1', 'mini-eu': 'gpt-image-1-mini' },
      ...options,
    });
    ({ close } = await fake.start());
  }

  const provider = (overrides: { apiKey?: string; options?: Record<string, unknown> } = {}): ImageProvider =>
    createAzureOpenaiProvider({
      deploymentId: 'azure-test',
      baseUrl: `${fake.url}/`,
      apiKey: overrides.apiKey ?? KEY,
      options: overrides.options ?? {},
    });

  beforeAll(async () => {
    const picture = renderSandboxImage({ model: 'ref', prompt: 'ref', index: 0, width: 512, height: 512 });
    host = createServer((req, res) => {
      hostSeen.push(req.headers);
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(picture);
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => host.close(() => resolve())));
  beforeEach(() => startFake());
  afterEach(() => close());

  it('generates at the deployment URL with the api-key header and the default api-version', async () => {
    const result = completed(await provider().submit(request(), context()));
    expect(result.images).toHaveLength(1);
    expect(result.images[0]).toMatchObject({
      kind: 'bytes',
      contentType: 'image/png',
      width: 1536,
      height: 1024,
    });
    const image = result.images[0];
    if (image?.kind !== 'bytes') throw new Error('expected bytes');
    expect(PNG.sync.read(Buffer.from(image.data)).height).toBe(1024);
    expect(result.usage).toMatchObject({ output_tokens: 1568, input_text_tokens: 5 });

    const [submission] = fake.submissions;
    expect(submission).toMatchObject({
      flavour: 'azure',
      deployment: 'image-prod',
      model: 'gpt-image-1',
      path: '/openai/deployments/image-prod/images/generations',
      query: { 'api-version': AZURE_OPENAI_DEFAULT_API_VERSION },
    });
    expect(submission?.headers['api-key']).toBe(KEY);
    expect(submission?.headers.authorization).toBeUndefined();
    // The deployment names the model; the body does not.
    expect(submission?.fields).toEqual({
      prompt: 'a lighthouse at dusk',
      n: 1,
      size: '1536x1024',
      quality: 'medium',
      output_format: 'png',
    });
  });

  it('uses the configured api-version and serves several images in one request', async () => {
    const result = completed(
      await provider({ options: { api_version: '2025-03-01-preview', quality: 'low' } }).submit(
        request({ n: 4, aspectRatio: '1:1', upstreamModel: 'mini-eu' }),
        context(),
      ),
    );
    expect(result.images).toHaveLength(4);
    expect(fake.submissions[0]).toMatchObject({
      deployment: 'mini-eu',
      query: { 'api-version': '2025-03-01-preview' },
      fields: { n: 4, quality: 'low', size: '1024x1024' },
    });
  });

  it('edits at the deployment edits URL, fetching reference images without the key', async () => {
    hostSeen.length = 0;
    completed(await provider().submit(request({ imageUrls: [`${hostUrl}/a.png`] }), context()));
    const [submission] = fake.submissions;
    expect(submission?.path).toBe('/openai/deployments/image-prod/images/edits');
    expect(submission?.files.map((f) => f.field)).toEqual(['image[]']);
    expect(submission?.fields).not.toHaveProperty('model');
    expect(hostSeen).toHaveLength(1);
    expect(hostSeen[0]?.['api-key']).toBeUndefined();
    expect(JSON.stringify(hostSeen)).not.toContain(KEY);
  });

  it("maps Azure's content filter (content_policy_violation with innererror) to content_policy", async () => {
    const error = await rejection(provider().submit(request({ prompt: 'a forbidden thing' }), context()));
    expect(error).toMatchObject({
      outcome: 'content_policy',
      details: { status: 400, upstreamCode: 'content_policy_violation' },
    });
  });

  it('maps the older contentFilter code and an innererror-only answer to content_policy', async () => {
    fake.inject({
      on: 'generations',
      status: 400,
      body: {
        error: { code: 'contentFilter', message: 'Your task failed as a result of our safety system.' },
      },
    });
    expect((await rejection(provider().submit(request(), context()))).outcome).toBe('content_policy');
    fake.inject({
      on: 'generations',
      status: 400,
      body: {
        error: {
          code: 'BadRequest',
          message: 'filtered',
          innererror: { code: 'ResponsibleAIPolicyViolation', content_filter_result: {} },
        },
      },
    });
    expect((await rejection(provider().submit(request(), context()))).outcome).toBe('content_policy');
  });

  it('maps a wrong key (401) to rejected, naming the endpoint to check', async () => {
    const error = await rejection(provider({ apiKey: 'another-resource-key' }).submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'rejected', details: { status: 401 } });
    expect(error.message).toContain('azure-test');
    expect(error.message).toContain(fake.url);
    expect(error.message).toContain('Access denied');
  });

  it('maps an unknown deployment (404) and an unsupported api-version (400) to rejected', async () => {
    const missing = await rejection(provider().submit(request({ upstreamModel: 'nope' }), context()));
    expect(missing).toMatchObject({
      outcome: 'rejected',
      details: { status: 404, upstreamCode: 'DeploymentNotFound' },
    });
    const version = await rejection(
      provider({ options: { api_version: '2023-01-01' } }).submit(request(), context()),
    );
    expect(version).toMatchObject({
      outcome: 'rejected',
      details: { status: 400, upstreamCode: 'BadRequest' },
    });
    expect(version.message).toContain('API version not supported');
  });

  it('maps the rate limit to rate_limited with retryAfterMs', async () => {
    await close();
    await startFake({ requestsPerMinute: 1 });
    await provider().submit(request(), context());
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'rate_limited', details: { status: 429, upstreamCode: '429' } });
    expect(error.details.retryAfterMs).toBeGreaterThan(50_000);
    expect(error.details.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('maps 5xx to error, malformed answers to unexpected_response, and an abort to timeout', async () => {
    fake.inject({ on: 'generations', status: 503 });
    expect((await rejection(provider().submit(request(), context()))).outcome).toBe('error');

    fake.inject({ on: 'generations', malformed: 'bad_base64' });
    expect(await rejection(provider().submit(request(), context()))).toMatchObject({
      outcome: 'error',
      details: { upstreamCode: 'unexpected_response' },
    });

    fake.inject({ on: 'generations', hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    expect((await rejection(provider().submit(request(), context(controller.signal)))).outcome).toBe(
      'timeout',
    );
  });

  it('refuses a seed, a negative prompt and too many reference images before calling Azure', async () => {
    for (const overrides of [
      { seed: 1 },
      { negativePrompt: 'x' },
      { imageUrls: Array.from({ length: 17 }, () => `${hostUrl}/a.png`) },
    ]) {
      expect((await rejection(provider().submit(request(overrides), context()))).outcome).toBe('rejected');
    }
    expect(fake.requests).toHaveLength(0);
  });

  it('shares the capabilities and adaptations of the openai adapter', () => {
    const azure = provider();
    const openai = createOpenaiProvider({ deploymentId: 'o', apiKey: 'k', options: {} });
    expect(azure.capabilities('image-prod')).toEqual(openai.capabilities('gpt-image-1'));
    expect(azure.adaptations?.(request({ aspectRatio: '21:9' }))).toEqual(
      openai.adaptations?.(request({ aspectRatio: '21:9' })),
    );
  });

  it('refuses to build without an endpoint or key, and names a bad option', () => {
    expect(() => createAzureOpenaiProvider({ deploymentId: 'az', apiKey: 'k', options: {} })).toThrow(
      /az.*base_url/,
    );
    expect(() => createAzureOpenaiProvider({ deploymentId: 'az', baseUrl: fake.url, options: {} })).toThrow(
      /API key/,
    );
    expect(() =>
      createAzureOpenaiProvider({
        deploymentId: 'az',
        apiKey: 'k',
        baseUrl: fake.url,
        options: { api_version: 'x' },
      }),
    ).toThrow(/"api_version"/);
    expect(() =>
      createAzureOpenaiProvider({
        deploymentId: 'az',
        apiKey: 'k',
        baseUrl: fake.url,
        options: { organization: 'o' },
      }),
    ).toThrow(/unknown option/);
  });

  it('answers the official AzureOpenAI client, which puts the deployment in the path', async () => {
    const client = new AzureOpenAI({
      endpoint: fake.url,
      apiKey: KEY,
      apiVersion: AZURE_OPENAI_DEFAULT_API_VERSION,
      deployment: 'image-prod',
      maxRetries: 0,
    });
    const answer = await client.images.generate({
      model: 'gpt-image-1',
      prompt: 'an otter',
      size: '1024x1536',
    });
    expect(PNG.sync.read(Buffer.from(answer.data?.[0]?.b64_json ?? '', 'base64')).height).toBe(1536);
    expect(fake.submissions[0]?.path).toBe('/openai/deployments/image-prod/images/generations');
  });
});

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { comfyuiCapabilities, createComfyuiProvider, type ComfyuiProvider } from '../../providers/comfyui';
import { renderSandboxImage } from '../../providers/sandbox/render';
import {
  ASPECT_RATIOS,
  ProviderError,
  type GenerationRequest,
  type PollResult,
  type ProviderCallContext,
} from '../../providers/types';
import { ComfyuiFake, type ComfyuiFakeOptions } from '../fakes/comfyui-fake';

const FLUX2_FILE = join(__dirname, '..', 'fixtures', 'comfyui', 'flux2-dev.json');
const flux2Graph = (): Record<string, { class_type: string; inputs: Record<string, unknown> }> =>
  JSON.parse(readFileSync(FLUX2_FILE, 'utf8')) as Record<
    string,
    { class_type: string; inputs: Record<string, unknown> }
  >;

const dir = mkdtempSync(join(tmpdir(), 'easel-comfyui-'));
const writeTemplate = (name: string, graph: unknown): string => {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, typeof graph === 'string' ? graph : JSON.stringify(graph));
  return file;
};

const sdxlGraph = {
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
  '5': { class_type: 'EmptyLatentImage', inputs: { width: 1216, height: 832, batch_size: 1 } },
  '6': { class_type: 'CLIPTextEncode', inputs: { text: 'positive', clip: ['4', 1] } },
  '7': { class_type: 'CLIPTextEncode', inputs: { text: 'blurry, watermark', clip: ['4', 1] } },
  '3': {
    class_type: 'KSampler',
    inputs: {
      model: ['4', 0],
      seed: 42,
      steps: 25,
      cfg: 7,
      sampler_name: 'dpmpp_2m',
      scheduler: 'karras',
      positive: ['6', 0],
      negative: ['7', 0],
      latent_image: ['5', 0],
      denoise: 1,
    },
  },
  '8': { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] } },
  '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'sdxl' } },
  '10': { class_type: 'PreviewImage', inputs: { images: ['8', 0] } },
};

const editGraph = {
  ...flux2Graph(),
  '40': { class_type: 'LoadImage', inputs: { image: 'example.png' } },
  '41': { class_type: 'VAEEncode', inputs: { pixels: ['40', 0], vae: ['3', 0] } },
  '42': { class_type: 'ReferenceLatent', inputs: { conditioning: ['6', 0], latent: ['41', 0] } },
  '26': { class_type: 'FluxGuidance', inputs: { guidance: 4, conditioning: ['42', 0] } },
};

const FLUX2_INPUTS = {
  prompt: { node: '6', input: 'text' },
  seed: { node: '25', input: 'noise_seed' },
  width: [
    { node: '47', input: 'width' },
    { node: '48', input: 'width' },
  ],
  height: [
    { node: '47', input: 'height' },
    { node: '48', input: 'height' },
  ],
  batch_size: { node: '47', input: 'batch_size' },
};

const TEMPLATES = {
  'flux2-dev': { file: FLUX2_FILE, inputs: FLUX2_INPUTS },
  sdxl: {
    file: writeTemplate('sdxl', sdxlGraph),
    inputs: {
      prompt: { node: '6', input: 'text' },
      negative_prompt: { node: '7', input: 'text' },
      seed: { node: '3', input: 'seed' },
      width: { node: '5', input: 'width' },
      height: { node: '5', input: 'height' },
      batch_size: { node: '5', input: 'batch_size' },
    },
    size_multiple: 64,
  },
  'sdxl-fixed': {
    file: writeTemplate('sdxl-fixed', sdxlGraph),
    inputs: { prompt: { node: '6', input: 'text' } },
  },
  'flux2-edit': {
    file: writeTemplate('flux2-edit', editGraph),
    inputs: { ...FLUX2_INPUTS, reference_image: { node: '40', input: 'image' } },
  },
  'flux2-missing-model': {
    file: writeTemplate('flux2-missing-model', {
      ...flux2Graph(),
      '1': { class_type: 'UNETLoader', inputs: { unet_name: 'flux2_dev_q8.gguf', weight_dtype: 'default' } },
    }),
    inputs: FLUX2_INPUTS,
  },
  'custom-node': {
    file: writeTemplate('custom-node', {
      ...flux2Graph(),
      '50': { class_type: 'ImpactWildcardProcessor', inputs: {} },
    }),
    inputs: FLUX2_INPUTS,
  },
};

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: 'flux2-dev',
  model: 'flux-2-dev',
  prompt: 'a lighthouse at dusk',
  n: 1,
  aspectRatio: '1:1',
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

describe('ComfyUI adapter against the fake ComfyUI server', () => {
  let fake: ComfyuiFake;
  let close: () => Promise<void>;

  async function startFake(options: ComfyuiFakeOptions = {}): Promise<void> {
    fake = new ComfyuiFake({ errorWords: ['explode'], ...options });
    ({ close } = await fake.start());
  }

  const provider = (
    overrides: { apiKey?: string; options?: Record<string, unknown>; fetch?: typeof fetch } = {},
  ): ComfyuiProvider =>
    createComfyuiProvider({
      deploymentId: 'comfy-test',
      baseUrl: fake.url,
      ...(overrides.apiKey ? { apiKey: overrides.apiKey } : {}),
      ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
      options: { templates: TEMPLATES, poll_interval_ms: 50, ...overrides.options },
    });

  async function pending(promise: Promise<unknown>): Promise<string> {
    const submitted = (await promise) as { status: string; upstreamJobId?: string };
    if (submitted.status !== 'pending' || !submitted.upstreamJobId) throw new Error('expected pending');
    return submitted.upstreamJobId;
  }

  async function pollUntilDone(
    comfy: ComfyuiProvider,
    upstreamJobId: string,
    limit = 200,
  ): Promise<PollResult> {
    for (let i = 0; i < limit; i++) {
      const result = await comfy.poll(upstreamJobId, context());
      if (result.status === 'completed') return result;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('never completed');
  }

  const sentGraph = (index = 0): Record<string, { class_type: string; inputs: Record<string, unknown> }> =>
    fake.prompts[index]?.body.prompt as Record<
      string,
      { class_type: string; inputs: Record<string, unknown> }
    >;

  beforeEach(() => startFake());
  afterEach(() => close());

  it('queues the filled template, polls history and returns the PNG ComfyUI saved', async () => {
    const comfy = provider();
    const jobId = await pending(comfy.submit(request(), context()));
    const done = await pollUntilDone(comfy, jobId);
    if (done.status !== 'completed') throw new Error('unreachable');

    expect(fake.prompts).toHaveLength(1);
    const graph = sentGraph();
    expect(graph['6']?.inputs.text).toBe('a lighthouse at dusk');
    expect(graph['25']?.inputs.noise_seed).toBe(7);
    expect(graph['47']?.inputs).toEqual({ width: 1024, height: 1024, batch_size: 1 });
    expect(graph['48']?.inputs).toMatchObject({ width: 1024, height: 1024, steps: 20 });
    expect(fake.prompts[0]?.body.client_id).toBe('easel-comfy-test');

    expect(done.images).toHaveLength(1);
    const [image] = done.images;
    if (image?.kind !== 'bytes') throw new Error('expected bytes');
    expect(image).toMatchObject({ contentType: 'image/png', width: 1024, height: 1024 });
    const png = PNG.sync.read(Buffer.from(image.data));
    expect([png.width, png.height]).toEqual([1024, 1024]);
    expect(fake.requestCount('GET', '/view')).toBe(1);
  });

  it('makes n images as one prompt with batch_size n, sized for the aspect ratio', async () => {
    const comfy = provider();
    const jobId = await pending(comfy.submit(request({ n: 3, aspectRatio: '16:9' }), context()));
    const done = await pollUntilDone(comfy, jobId);
    if (done.status !== 'completed') throw new Error('unreachable');
    expect(fake.prompts).toHaveLength(1);
    expect(sentGraph()['47']?.inputs).toEqual({ width: 1024, height: 576, batch_size: 3 });
    expect(done.images).toHaveLength(3);
    const bytes = done.images.map((i) => (i.kind === 'bytes' ? Buffer.from(i.data).toString('base64') : ''));
    expect(new Set(bytes).size).toBe(3);
    for (const image of done.images) expect(image).toMatchObject({ width: 1024, height: 576 });
    expect(comfy.adaptations?.(request({ n: 3, aspectRatio: '16:9' }))).toEqual([
      '3 images as one ComfyUI prompt with batch_size 3',
      'aspect ratio 16:9 rendered at 1024x576',
    ]);
  });

  it('returns SaveImage outputs only (no PreviewImage temp files), with the negative prompt written', async () => {
    const comfy = provider();
    const jobId = await pending(
      comfy.submit(
        request({ upstreamModel: 'sdxl', negativePrompt: 'low quality', aspectRatio: '3:2' }),
        context(),
      ),
    );
    const done = await pollUntilDone(comfy, jobId);
    if (done.status !== 'completed') throw new Error('unreachable');
    const graph = sentGraph();
    expect(graph['7']?.inputs.text).toBe('low quality');
    expect(graph['3']?.inputs.seed).toBe(7);
    // 3:2 at long side 1024 on multiples of 64.
    expect(graph['5']?.inputs).toEqual({ width: 1024, height: 704, batch_size: 1 });
    const history = fake.historyOf(fake.prompts[0]?.id ?? '') as { outputs: Record<string, unknown> };
    expect(Object.keys(history.outputs).sort()).toEqual(['10', '9']);
    expect(done.images).toHaveLength(1);
  });

  it('returns /view URLs with image_delivery url, which serve the PNG', async () => {
    const comfy = provider({ options: { image_delivery: 'url' } });
    const jobId = await pending(comfy.submit(request({ aspectRatio: '9:16' }), context()));
    const done = await pollUntilDone(comfy, jobId);
    if (done.status !== 'completed') throw new Error('unreachable');
    const [image] = done.images;
    if (image?.kind !== 'url') throw new Error('expected a URL');
    expect(image.url.startsWith(`${fake.url}/view?filename=`)).toBe(true);
    expect(image.url).toContain('subfolder=easel&type=output');
    const png = PNG.sync.read(Buffer.from(await (await fetch(image.url)).arrayBuffer()));
    expect([png.width, png.height]).toEqual([576, 1024]);
  });

  it('writes a random seed when the request has none, and says so', async () => {
    const comfy = provider();
    await comfy.submit(request({ seed: undefined }), context());
    await comfy.submit(request({ seed: undefined }), context());
    const seeds = [sentGraph(0)['25']?.inputs.noise_seed, sentGraph(1)['25']?.inputs.noise_seed];
    for (const seed of seeds) expect(Number.isInteger(seed)).toBe(true);
    expect(seeds[0]).not.toBe(seeds[1]);
    expect(comfy.adaptations?.(request({ seed: undefined }))).toContain(
      'no seed asked: a random seed is written into the workflow (ComfyUI does not randomise in API mode)',
    );
  });

  it('reports the running prompt’s progress from ComfyUI’s websocket, and /history decides when it is done', async () => {
    await close();
    await startFake({ runMs: 600 });
    const comfy = provider();
    const reported: number[] = [];
    const jobId = await pending(comfy.submit(request(), context()));
    const seen: number[] = [];
    let done: PollResult | undefined;
    for (let i = 0; i < 100 && !done; i++) {
      const result = await comfy.poll(jobId, {
        signal: new AbortController().signal,
        onProgress: (p) => reported.push(p),
      });
      if (result.status === 'completed') done = result;
      else if (result.progress !== undefined) seen.push(result.progress);
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    expect(done?.status).toBe('completed');
    expect(fake.wsConnections).toBe(1);
    // The fake sends 1/5 … 4/5 of the sampler's steps while the prompt runs.
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((p) => p > 0 && p < 1)).toBe(true);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    expect(reported).toEqual(seen);
  });

  it('goes on without progress when the websocket is refused', async () => {
    await close();
    // A proxy in front of ComfyUI that does not pass websockets: the polls still finish the job.
    await startFake({ runMs: 300, websocket: false });
    const comfy = provider();
    const jobId = await pending(comfy.submit(request(), context()));
    const done = await pollUntilDone(comfy, jobId);
    expect(done.status).toBe('completed');
    expect(fake.wsConnections).toBe(0);
    expect(fake.requestCount('GET', `/history/${fake.prompts[0]!.id}`)).toBeGreaterThan(0);
  });

  it('reports the queue position of waiting prompts, runs one at a time, and finishes them all', async () => {
    await close();
    await startFake({ concurrency: 1, runMs: 150 });
    const comfy = provider();
    const ids = [];
    for (const prompt of ['a', 'b', 'c'])
      ids.push(await pending(comfy.submit(request({ prompt }), context())));
    const [first, second, third] = await Promise.all(ids.map((id) => comfy.poll(id, context())));
    // The running one has no place in the queue (its progress may already have come over the websocket).
    expect(first).toMatchObject({ status: 'pending', pollAfterMs: 50 });
    expect(first).not.toHaveProperty('queuePosition');
    expect(second).toMatchObject({ status: 'pending', queuePosition: 0 });
    expect(third).toMatchObject({ status: 'pending', queuePosition: 1 });
    for (const id of ids) expect((await pollUntilDone(comfy, id)).status).toBe('completed');
    expect(fake.maxConcurrent).toBe(1);
  });

  it('lets the fake run prompts concurrently when configured, and counts them', async () => {
    await close();
    await startFake({ concurrency: 3, runMs: 100 });
    const comfy = provider();
    await Promise.all(['a', 'b', 'c', 'd'].map((prompt) => comfy.submit(request({ prompt }), context())));
    expect(fake.runningCount).toBe(3);
    expect(fake.pendingIds).toHaveLength(1);
    expect(fake.maxConcurrent).toBe(3);
  });

  it('resumes polling from the job id alone in a new adapter instance, without resubmitting', async () => {
    await close();
    await startFake({ runMs: 100 });
    const jobId = await pending(provider().submit(request({ n: 2 }), context()));
    const done = await pollUntilDone(provider(), jobId);
    expect(done.status === 'completed' && done.images.length).toBe(2);
    expect(fake.prompts).toHaveLength(1);
  });

  it('sends a prompt_id derived from the idempotency key, and a retried submit queues nothing new', async () => {
    await close();
    await startFake({ runMs: 200 });
    const comfy = provider();
    const first = await pending(comfy.submit(request({ idempotencyKey: 'job-1:1' }), context()));
    const second = await pending(provider().submit(request({ idempotencyKey: 'job-1:1' }), context()));
    expect(second).toBe(first);
    expect(fake.prompts).toHaveLength(1);
    expect(fake.prompts[0]?.body.prompt_id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    await pending(comfy.submit(request({ idempotencyKey: 'job-1:2' }), context()));
    expect(fake.prompts).toHaveLength(2);
    // Also once the first has finished (it is then only in history).
    await pollUntilDone(comfy, first);
    expect(await pending(comfy.submit(request({ idempotencyKey: 'job-1:1' }), context()))).toBe(first);
    expect(fake.prompts).toHaveLength(2);
  });

  it('rejects a validation error on an input the request set, naming the node and input', async () => {
    const error = await rejection(provider().submit(request({ seed: -1 }), context()));
    expect(error).toMatchObject({
      outcome: 'rejected',
      details: { status: 400, upstreamCode: 'prompt_outputs_failed_validation' },
    });
    expect(error.message).toContain('node 25 (RandomNoise): Value -1 smaller than min of 0: noise_seed');
    expect(fake.prompts).toHaveLength(0);
  });

  it('maps a validation error in the template itself (a model missing on the server) to error', async () => {
    const error = await rejection(
      provider().submit(request({ upstreamModel: 'flux2-missing-model' }), context()),
    );
    expect(error).toMatchObject({
      outcome: 'error',
      details: { status: 400, upstreamCode: 'prompt_outputs_failed_validation' },
    });
    expect(error.message).toContain(
      "node 1 (UNETLoader): Value not in list: unet_name: 'flux2_dev_q8.gguf' not in",
    );
    expect(error.message).toContain('template or the server is at fault');
  });

  it('maps a custom node the server lacks to error, with ComfyUI’s message', async () => {
    const error = await rejection(provider().submit(request({ upstreamModel: 'custom-node' }), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'missing_node_type' } });
    expect(error.message).toContain("Node 'ImpactWildcardProcessor' not found");
  });

  it('maps an execution error in history to error with the node and exception', async () => {
    const comfy = provider();
    const jobId = await pending(comfy.submit(request({ prompt: 'explode' }), context()));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const error = await rejection(pollUntilDone(comfy, jobId));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'execution_error' } });
    expect(error.message).toContain(
      'node 13 (SamplerCustomAdvanced): torch.OutOfMemoryError: Allocation on device',
    );
  });

  it('cancels a queued prompt by deleting it and the running one by a targeted interrupt', async () => {
    await close();
    await startFake({ concurrency: 1, runMs: 10_000 });
    const comfy = provider();
    const running = await pending(comfy.submit(request({ prompt: 'first' }), context()));
    const queued = await pending(comfy.submit(request({ prompt: 'second' }), context()));
    const [runningId, queuedId] = [fake.prompts[0]?.id, fake.prompts[1]?.id];

    await comfy.cancel?.(queued, new AbortController().signal);
    expect(fake.deletes).toEqual([queuedId]);
    expect(fake.interrupts).toEqual([]);
    expect(fake.pendingIds).toEqual([]);

    await comfy.cancel?.(running, new AbortController().signal);
    expect(fake.interrupts).toEqual([{ promptId: runningId, interrupted: runningId }]);
    expect(fake.runningCount).toBe(0);
    const interrupted = await rejection(comfy.poll(running, context()));
    expect(interrupted).toMatchObject({ outcome: 'error', details: { upstreamCode: 'interrupted' } });
    const deleted = await rejection(comfy.poll(queued, context()));
    expect(deleted.details.upstreamCode).toBe('prompt_lost');
  });

  it('does not interrupt anything when cancelling a prompt that already finished', async () => {
    const comfy = provider();
    const jobId = await pending(comfy.submit(request(), context()));
    await pollUntilDone(comfy, jobId);
    await comfy.submit(request({ prompt: 'someone else' }), context());
    await comfy.cancel?.(jobId, new AbortController().signal);
    expect(fake.interrupts).toEqual([]);
    expect(fake.deletes).toEqual([]);
  });

  it('says the prompt was lost when ComfyUI restarted', async () => {
    await close();
    await startFake({ runMs: 5_000 });
    const comfy = provider();
    const jobId = await pending(comfy.submit(request(), context()));
    fake.restart();
    const error = await rejection(comfy.poll(jobId, context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'prompt_lost' } });
    expect(error.message).toContain('restarted');
  });

  it('maps 429 from a proxy in front to rate_limited with retryAfterMs', async () => {
    fake.inject({ on: 'prompt', status: 429, retryAfter: '3', raw: 'slow down' });
    const error = await rejection(provider().submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'rate_limited', details: { status: 429, retryAfterMs: 3000 } });
    expect(fake.prompts).toHaveLength(0);
  });

  it('maps 5xx on submit and on poll to error, and a later poll still completes', async () => {
    fake.inject({ on: 'prompt', status: 502, raw: 'Bad Gateway' });
    expect((await rejection(provider().submit(request(), context()))).details).toMatchObject({
      status: 502,
      upstreamCode: 'http_502',
    });
    const jobId = await pending(provider().submit(request(), context()));
    fake.inject({ on: 'history', status: 500, raw: '500 Internal Server Error' });
    expect((await rejection(provider().poll(jobId, context()))).outcome).toBe('error');
    expect((await pollUntilDone(provider(), jobId)).status).toBe('completed');
  });

  it('maps malformed answers to unexpected_response', async () => {
    fake.inject({ on: 'prompt', status: 200, raw: '<html>proxy login</html>' });
    const notJson = await rejection(provider().submit(request(), context()));
    expect(notJson).toMatchObject({ outcome: 'error', details: { upstreamCode: 'unexpected_response' } });

    fake.inject({ on: 'prompt', status: 200, body: { number: 3 } });
    expect((await rejection(provider().submit(request(), context()))).details.upstreamCode).toBe(
      'unexpected_response',
    );

    const jobId = await pending(provider().submit(request(), context()));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const id = fake.prompts[0]?.id as string;
    fake.inject({
      on: 'history',
      status: 200,
      body: { [id]: { outputs: { '9': { images: [{ nope: 1 }] } } } },
    });
    expect((await rejection(provider().poll(jobId, context()))).details.upstreamCode).toBe(
      'unexpected_response',
    );

    fake.inject({
      on: 'history',
      status: 200,
      body: { [id]: { outputs: {}, status: { status_str: 'success', completed: true, messages: [] } } },
    });
    expect((await rejection(provider().poll(jobId, context()))).details.upstreamCode).toBe('no_images');

    fake.inject({ on: 'view', status: 200, raw: 'not a png' });
    expect((await rejection(provider().poll(jobId, context()))).details.upstreamCode).toBe(
      'unexpected_response',
    );

    fake.inject({ on: 'view', status: 404, raw: '404: Not Found' });
    expect((await rejection(provider().poll(jobId, context()))).details.upstreamCode).toBe('image_missing');

    await close();
    await startFake({ runMs: 5_000 });
    const slow = await pending(provider().submit(request(), context()));
    fake.inject({ on: 'queue', status: 200, body: { queue_running: 'x' } });
    expect((await rejection(provider().poll(slow, context()))).details.upstreamCode).toBe(
      'unexpected_response',
    );
  });

  it('maps a refused connection to network_error', async () => {
    const comfy = provider();
    await close();
    const error = await rejection(comfy.submit(request(), context()));
    expect(error).toMatchObject({ outcome: 'error', details: { upstreamCode: 'network_error' } });
    await startFake();
  });

  it('maps an abort during a hung request to timeout', async () => {
    fake.inject({ on: 'prompt', hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('deadline')), 50);
    const error = await rejection(provider().submit(request(), context(controller.signal)));
    expect(error).toMatchObject({ outcome: 'timeout', details: { upstreamCode: 'aborted' } });
    expect(fake.prompts).toHaveLength(0);
  });

  it('refuses what the template cannot carry, before calling ComfyUI', async () => {
    const comfy = provider();
    const cases: Partial<GenerationRequest>[] = [
      { negativePrompt: 'blurry' },
      { outputFormat: 'jpeg' },
      { maskUrl: 'https://a.example/mask.png' },
      { imageUrls: ['https://a.example/ref.png'] },
      { n: 9 },
      { upstreamModel: 'sdxl-fixed', n: 2 },
      { upstreamModel: 'sdxl-fixed', seed: 3 },
      { upstreamModel: 'sdxl-fixed', seed: undefined, aspectRatio: '1:1' },
    ];
    for (const overrides of cases) {
      const error = await rejection(comfy.submit(request(overrides), context()));
      expect(error).toMatchObject({
        outcome: 'rejected',
        details: { upstreamCode: 'unsupported_parameters' },
      });
    }
    expect(
      (await rejection(comfy.submit(request({ upstreamModel: 'nope' }), context()))).details.upstreamCode,
    ).toBe('unknown_template');
    expect(fake.requests).toHaveLength(0);
  });

  it('uploads the reference image and names it in LoadImage; the key goes to ComfyUI only', async () => {
    await close();
    await startFake({ token: 'proxy-token' });
    const reference = renderSandboxImage({ model: 'ref', prompt: 'ref', index: 0, width: 64, height: 64 });
    const seen: IncomingHttpHeaders[] = [];
    const host: Server = createServer((req, res) => {
      seen.push(req.headers);
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(reference);
    });
    await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
    try {
      const refUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}/ref.png`;
      const comfy = provider({ apiKey: 'proxy-token' });
      const jobId = await pending(
        comfy.submit(request({ upstreamModel: 'flux2-edit', imageUrls: [refUrl] }), context()),
      );
      expect(fake.uploads).toHaveLength(1);
      expect(fake.uploads[0]?.bytes.equals(reference)).toBe(true);
      expect(sentGraph()['40']?.inputs.image).toBe(fake.uploads[0]?.name);
      expect((await pollUntilDone(comfy, jobId)).status).toBe('completed');
      expect(seen).toHaveLength(1);
      expect(seen[0]?.authorization).toBeUndefined();
      expect(fake.requests.every((r) => r.authorization === 'Bearer proxy-token')).toBe(true);
    } finally {
      await new Promise<void>((resolve) => host.close(() => resolve()));
    }
    const unauthorised = await rejection(provider().submit(request(), context()));
    expect(unauthorised).toMatchObject({ outcome: 'rejected', details: { status: 401 } });
  });

  it('reads the load: queue length and devices', async () => {
    await close();
    await startFake({ runMs: 5_000 });
    const comfy = provider();
    await comfy.submit(request({ prompt: 'a' }), context());
    await comfy.submit(request({ prompt: 'b' }), context());
    const load = await comfy.load(new AbortController().signal);
    expect(load).toMatchObject({ running: 1, pending: 1, queueLength: 2 });
    expect(load.devices[0]).toMatchObject({ vramTotal: 25_386_352_640 });
  });

  it('rejects an upstream job id it did not issue', async () => {
    expect((await rejection(provider().poll('bfl1.abc', context()))).outcome).toBe('rejected');
  });
});

describe('ComfyUI templates and capabilities', () => {
  const options = { templates: TEMPLATES };

  it('derives capabilities from what each template maps', () => {
    expect(comfyuiCapabilities('flux2-dev', options)).toEqual({
      maxImages: 8,
      seed: true,
      negativePrompt: false,
      maxReferenceImages: 0,
      mask: false,
      aspectRatios: ASPECT_RATIOS,
      outputFormats: ['png'],
      cancel: true,
    });
    expect(comfyuiCapabilities('sdxl', options)).toMatchObject({ negativePrompt: true, seed: true });
    expect(comfyuiCapabilities('flux2-edit', options).maxReferenceImages).toBe(1);
    // 1216x832 is nearest 3:2; no batch_size, no seed mapped.
    expect(comfyuiCapabilities('sdxl-fixed', options)).toMatchObject({
      maxImages: 1,
      seed: false,
      aspectRatios: ['3:2'],
    });
    expect(comfyuiCapabilities('unknown', options).maxImages).toBe(0);
  });

  it('says a fixed-size template renders at its own size', () => {
    const comfy = createComfyuiProvider({ deploymentId: 'c', options });
    expect(
      comfy.adaptations?.(request({ upstreamModel: 'sdxl-fixed', aspectRatio: '3:2', seed: undefined })),
    ).toEqual(['template "sdxl-fixed" has a fixed size: rendered at 1216x832']);
  });

  const build =
    (template: Record<string, unknown>): (() => unknown) =>
    () =>
      createComfyuiProvider({ deploymentId: 'dep-1', options: { templates: { t: template } } });

  it('fails at creation when a template file is missing or not JSON, naming the file', () => {
    expect(
      build({ file: join(dir, 'absent.json'), inputs: { prompt: { node: '6', input: 'text' } } }),
    ).toThrow(/deployment "dep-1" \(comfyui\): template "t" \(.*absent\.json\): cannot be read/);
    const bad = writeTemplate('bad', '{"6": ');
    expect(build({ file: bad, inputs: { prompt: { node: '6', input: 'text' } } })).toThrow(
      /bad\.json\): is not readable JSON/,
    );
    const ui = writeTemplate('ui', { nodes: [], links: [] });
    expect(build({ file: ui, inputs: { prompt: { node: '6', input: 'text' } } })).toThrow(/UI-format/);
  });

  it('fails at creation when a mapped node or input does not exist, naming both', () => {
    expect(build({ file: FLUX2_FILE, inputs: { prompt: { node: '99', input: 'text' } } })).toThrow(
      /flux2-dev\.json\): inputs\.prompt: node "99" is not in the workflow/,
    );
    expect(
      build({
        file: FLUX2_FILE,
        inputs: { prompt: { node: '6', input: 'text' }, seed: { node: '13', input: 'seed' } },
      }),
    ).toThrow(/inputs\.seed: node "13" \(SamplerCustomAdvanced\) has no input "seed"/);
    expect(build({ file: FLUX2_FILE, inputs: { prompt: { node: '6', input: 'clip' } } })).toThrow(
      /node "6" \(CLIPTextEncode\) input "clip" is a link/,
    );
    expect(
      build({
        file: FLUX2_FILE,
        inputs: { prompt: { node: '6', input: 'text' }, width: { node: '47', input: 'width' } },
      }),
    ).toThrow(/map both inputs\.width and inputs\.height/);
  });

  it('names a bad option', () => {
    expect(() => createComfyuiProvider({ deploymentId: 'c', options: { templates: {} } })).toThrow(
      /"templates"/,
    );
    expect(() =>
      createComfyuiProvider({ deploymentId: 'c', options: { templates: TEMPLATES, image_delivery: 'x' } }),
    ).toThrow(/"image_delivery"/);
  });
});

import { PNG } from 'pngjs';
import { createSandboxProvider, parseSandboxOptions } from '../../providers/sandbox';
import { createProvider, providerTypes } from '../../providers/registry';
import {
  ASPECT_RATIOS,
  dimensionsFor,
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type ProviderCallContext,
  type UpstreamImage,
} from '../../providers/types';

const request = (overrides: Partial<GenerationRequest> = {}): GenerationRequest => ({
  upstreamModel: 'sandbox-flux',
  model: 'flux-2-dev',
  prompt: 'a lighthouse at dusk',
  n: 1,
  aspectRatio: '1:1',
  seed: 42,
  ...overrides,
});

const context = (signal: AbortSignal = new AbortController().signal): ProviderCallContext => ({ signal });

const sandbox = (options: Record<string, unknown> = {}, deps = {}): ImageProvider =>
  createSandboxProvider({ deploymentId: 'sandbox-test', options }, deps);

function bytesOf(image: UpstreamImage | undefined): Buffer {
  if (image?.kind !== 'bytes') throw new Error(`expected inline bytes, got ${image?.kind}`);
  return Buffer.from(image.data);
}

async function generate(provider: ImageProvider, req: GenerationRequest): Promise<UpstreamImage[]> {
  const result = await provider.submit(req, context());
  if (result.status !== 'completed') throw new Error('expected a completed result');
  return result.images;
}

async function rejection(promise: Promise<unknown>): Promise<ProviderError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected a ProviderError, but the call succeeded');
}

describe('sandbox provider', () => {
  it.each(ASPECT_RATIOS)(
    'returns a decodable PNG of the right size for aspect ratio %s',
    async (aspectRatio) => {
      const [image] = await generate(sandbox(), request({ aspectRatio }));
      const decoded = PNG.sync.read(bytesOf(image));
      const expected = dimensionsFor(aspectRatio, 512);
      expect({ width: decoded.width, height: decoded.height }).toEqual(expected);
      expect(image).toMatchObject({ contentType: 'image/png', ...expected });
    },
  );

  it('honours the long_side option', async () => {
    const [image] = await generate(sandbox({ long_side: 256 }), request({ aspectRatio: '16:9' }));
    const decoded = PNG.sync.read(bytesOf(image));
    expect([decoded.width, decoded.height]).toEqual([256, 144]);
  });

  it('gives identical bytes for the same prompt and seed, and different ones otherwise', async () => {
    const provider = sandbox();
    const [a] = await generate(provider, request());
    const [again] = await generate(sandbox(), request());
    const [otherPrompt] = await generate(provider, request({ prompt: 'a lighthouse at dawn' }));
    const [otherSeed] = await generate(provider, request({ seed: 43 }));
    expect(bytesOf(again).equals(bytesOf(a))).toBe(true);
    expect(bytesOf(otherPrompt).equals(bytesOf(a))).toBe(false);
    expect(bytesOf(otherSeed).equals(bytesOf(a))).toBe(false);
  });

  it('makes different prompts visibly different, not just different bytes', async () => {
    const [a] = await generate(sandbox(), request({ prompt: 'a red fox' }));
    const [b] = await generate(sandbox(), request({ prompt: 'a blue whale' }));
    const pa = PNG.sync.read(bytesOf(a)).data;
    const pb = PNG.sync.read(bytesOf(b)).data;
    let difference = 0;
    for (let i = 0; i < pa.length; i++) difference += Math.abs((pa[i] ?? 0) - (pb[i] ?? 0));
    expect(difference / pa.length).toBeGreaterThan(20);
  });

  it('returns n different images for n > 1', async () => {
    const images = await generate(sandbox(), request({ n: 3 }));
    expect(images).toHaveLength(3);
    const distinct = new Set(images.map((image) => bytesOf(image).toString('base64')));
    expect(distinct.size).toBe(3);
  });

  it('renders a 512px image in well under the upstream latencies it simulates', async () => {
    const provider = sandbox();
    await generate(provider, request({ prompt: 'warm-up' }));
    const started = performance.now();
    await generate(provider, request({ prompt: 'timed' }));
    expect(performance.now() - started).toBeLessThan(100);
  });

  it('waits latency_ms before answering in sync mode', async () => {
    const started = Date.now();
    await generate(sandbox({ latency_ms: 80 }), request());
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
  });

  describe('async mode', () => {
    it('stays pending with progress until the latency has passed, then completes', async () => {
      let now = 1_000_000;
      const clock = { now: () => now };
      const provider = sandbox({ mode: 'async', latency_ms: 1000 }, clock);
      const submitted = await provider.submit(request(), context());
      if (submitted.status !== 'pending') throw new Error('expected pending');

      const progress: number[] = [];
      now += 250;
      const early = await provider.poll(submitted.upstreamJobId, {
        signal: new AbortController().signal,
        onProgress: (p) => progress.push(p),
      });
      expect(early).toMatchObject({ status: 'pending', progress: 0.25 });
      expect(progress).toEqual([0.25]);

      now += 750;
      const done = await provider.poll(submitted.upstreamJobId, context());
      expect(done.status).toBe('completed');
    });

    it('completes polling from a new provider instance, as after a worker restart', async () => {
      let now = 5_000;
      const before = sandbox({ mode: 'async', latency_ms: 500 }, { now: () => now });
      const submitted = await before.submit(request({ n: 2 }), context());
      if (submitted.status !== 'pending') throw new Error('expected pending');

      // The restarted worker may even run with different options: the job id carries its own.
      now += 600;
      const after = sandbox({ mode: 'sync', latency_ms: 0, long_side: 128 }, { now: () => now });
      const polled = await after.poll(submitted.upstreamJobId, context());
      if (polled.status !== 'completed') throw new Error('expected completed');
      expect(polled.images).toHaveLength(2);

      const direct = await generate(sandbox(), request({ n: 2 }));
      expect(bytesOf(polled.images[0]).equals(bytesOf(direct[0]))).toBe(true);
      expect(bytesOf(polled.images[1]).equals(bytesOf(direct[1]))).toBe(true);
    });

    it('reports [fail] and [content_policy] when polled after the latency', async () => {
      let now = 0;
      const provider = sandbox({ mode: 'async', latency_ms: 100 }, { now: () => now });
      const failing = await provider.submit(request({ prompt: 'boom [fail]' }), context());
      const refused = await provider.submit(request({ prompt: 'nope [content_policy]' }), context());
      if (failing.status !== 'pending' || refused.status !== 'pending') throw new Error('expected pending');
      expect((await provider.poll(failing.upstreamJobId, context())).status).toBe('pending');
      now = 200;
      expect((await rejection(provider.poll(failing.upstreamJobId, context()))).outcome).toBe('error');
      expect((await rejection(provider.poll(refused.upstreamJobId, context()))).outcome).toBe(
        'content_policy',
      );
    });

    it('keeps a [timeout] job pending forever', async () => {
      let now = 0;
      const provider = sandbox({ mode: 'async' }, { now: () => now });
      const submitted = await provider.submit(request({ prompt: 'slow [timeout]' }), context());
      if (submitted.status !== 'pending') throw new Error('expected pending');
      now = 3_600_000;
      expect((await provider.poll(submitted.upstreamJobId, context())).status).toBe('pending');
    });

    it('rejects an upstream job id it did not issue', async () => {
      const error = await rejection(sandbox({ mode: 'async' }).poll('not-a-sandbox-id', context()));
      expect(error.outcome).toBe('rejected');
    });
  });

  describe('failure tokens and aborts', () => {
    it('fails with outcome error for [fail]', async () => {
      const error = await rejection(sandbox().submit(request({ prompt: 'please [fail] now' }), context()));
      expect(error.outcome).toBe('error');
      expect(error.isClientError).toBe(false);
    });

    it('fails with outcome content_policy for [content_policy]', async () => {
      const error = await rejection(
        sandbox().submit(request({ prompt: '[CONTENT_POLICY] test' }), context()),
      );
      expect(error.outcome).toBe('content_policy');
      expect(error.isClientError).toBe(true);
    });

    it('never completes a [timeout] prompt, and rejects with timeout once aborted', async () => {
      const controller = new AbortController();
      const pending = sandbox().submit(request({ prompt: 'hang [timeout]' }), context(controller.signal));
      let settled = false;
      void pending.then(
        () => (settled = true),
        () => (settled = true),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(settled).toBe(false);
      controller.abort(new Error('job cancelled'));
      const error = await rejection(pending);
      expect(error.outcome).toBe('timeout');
      expect(error.message).toContain('job cancelled');
    });

    it('stops waiting out latency_ms when the call is aborted', async () => {
      const controller = new AbortController();
      const started = Date.now();
      setTimeout(() => controller.abort(), 30);
      const error = await rejection(
        sandbox({ latency_ms: 10_000 }).submit(request(), context(controller.signal)),
      );
      expect(error.outcome).toBe('timeout');
      expect(Date.now() - started).toBeLessThan(2_000);
    });

    it('rejects at once when the signal is already aborted', async () => {
      const controller = new AbortController();
      controller.abort();
      expect((await rejection(sandbox().submit(request(), context(controller.signal)))).outcome).toBe(
        'timeout',
      );
    });

    it('fails submissions at failure_rate, using the injected random source', async () => {
      const draws = [0.1, 0.9];
      const provider = sandbox({ failure_rate: 0.5 }, { random: () => draws.shift() ?? 1 });
      expect((await rejection(provider.submit(request(), context()))).outcome).toBe('error');
      expect((await provider.submit(request(), context())).status).toBe('completed');
    });
  });

  describe('options', () => {
    it('applies defaults', () => {
      expect(parseSandboxOptions({})).toEqual({
        latency_ms: 0,
        failure_rate: 0,
        mode: 'sync',
        long_side: 512,
      });
    });

    it.each([
      [{ failure_rate: 1.5 }, 'failure_rate'],
      [{ latency_ms: -1 }, 'latency_ms'],
      [{ mode: 'sometimes' }, 'mode'],
      [{ latency: 5 }, 'latency'],
    ])('names the offending option in the error for %j', (options, name) => {
      expect(() => sandbox(options)).toThrow(new RegExp(`"${name}"`));
    });
  });
});

describe('provider registry', () => {
  it('builds each provider type by name', () => {
    expect(createProvider('sandbox', { deploymentId: 's', options: {} }).type).toBe('sandbox');
    expect(createProvider('bfl', { deploymentId: 'b', options: {}, apiKey: 'k' }).type).toBe('bfl');
    expect(Object.keys(providerTypes).sort()).toEqual([
      'azure-openai',
      'bfl',
      'comfyui',
      'fal',
      'gemini',
      'ideogram',
      'journeyapi',
      'midjourney-proxy',
      'openai',
      'replicate',
      'sandbox',
      'together',
    ]);
  });

  it('names the known types when asked for an unknown one', () => {
    expect(() => createProvider('dalle', { deploymentId: 'x', options: {} })).toThrow(
      /unknown provider type "dalle".*sandbox/,
    );
  });
});

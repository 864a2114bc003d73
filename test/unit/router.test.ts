import { buildCatalog } from '../../core/catalog';
import type { GenerateInput } from '../../core/jobs/contract';
import type { JobAttempt, UpstreamJobRef } from '../../core/jobs/store';
import type { ImageStore } from '../../platform/image-store';
import { createLogger } from '../../platform/logger';
import { createMetrics } from '../../platform/metrics';
import { PROVIDER_TYPES } from '../../providers/registry';
import { renderSandboxImage, SANDBOX_CAPABILITIES } from '../../providers/sandbox';
import {
  ProviderError,
  type ImageProvider,
  type ModelCapabilities,
  type ProviderCallContext,
  type SubmitResult,
} from '../../providers/types';
import { GuardedDeploymentCaller } from '../../routing/caller';
import { buildProviderConfig, type ProviderConfig } from '../../routing/deployments';
import {
  GenerationCancelled,
  GenerationFailed,
  ImageRouter,
  type GenerationHooks,
} from '../../routing/router';

const catalog = buildCatalog(undefined);

/** What a fake deployment does when it is called. */
type Behaviour = 'ok' | 'async' | 'hang' | 'server_error' | 'rate_limited' | 'content_policy' | 'rejected';

const png = renderSandboxImage({ model: 'm', prompt: 'p', index: 0, width: 32, height: 16 });

/** An adapter that does what its script says, and counts what it was asked. */
class ScriptedProvider implements ImageProvider {
  readonly type = 'sandbox';
  readonly capabilities = (): ModelCapabilities => SANDBOX_CAPABILITIES;
  submits = 0;
  polls = 0;
  constructor(public behaviour: Behaviour) {}

  async submit(_request: unknown, context: ProviderCallContext): Promise<SubmitResult> {
    this.submits += 1;
    switch (this.behaviour) {
      case 'ok':
        return { status: 'completed', images: [{ kind: 'bytes', data: png, contentType: 'image/png' }] };
      case 'async':
        return { status: 'pending', upstreamJobId: `up-${this.submits}`, pollAfterMs: 1 };
      case 'hang':
        return new Promise((_, reject) =>
          context.signal.addEventListener('abort', () => reject(new ProviderError('timeout', 'aborted'))),
        );
      case 'server_error':
        throw new ProviderError('error', 'HTTP 503 from upstream', { status: 503 });
      case 'rate_limited':
        throw new ProviderError('rate_limited', 'HTTP 429 from upstream', {
          status: 429,
          retryAfterMs: 30_000,
        });
      case 'content_policy':
        throw new ProviderError('content_policy', 'refused by moderation', { status: 400 });
      case 'rejected':
        throw new ProviderError('rejected', 'invalid prompt', { status: 422 });
    }
  }

  async poll(upstreamJobId: string, context: ProviderCallContext) {
    this.polls += 1;
    context.onProgress?.(0.5);
    if (this.polls < 2) return { status: 'pending' as const, progress: 0.5, pollAfterMs: 1 };
    return {
      status: 'completed' as const,
      images: [{ kind: 'url' as const, url: `https://upstream.test/${upstreamJobId}.png` }],
    };
  }
}

class MemoryImageStore implements Pick<ImageStore, 'put'> {
  readonly images = new Map<string, Uint8Array>();
  async put(bytes: Uint8Array): Promise<string> {
    const key = `img${this.images.size}`;
    this.images.set(key, bytes);
    return key;
  }
}

interface Setup {
  router: ImageRouter;
  adapters: Record<'a' | 'b' | 'c', ScriptedProvider>;
  store: MemoryImageStore;
  caller: GuardedDeploymentCaller;
  fetched: string[];
}

/** Deployments a, b (tried in that order) serving flux-2-dev, and c serving flux-schnell. */
function setup(
  behaviours: Record<'a' | 'b' | 'c', Behaviour>,
  extra: Partial<Record<'a' | 'b' | 'c', Record<string, unknown>>> = {},
): Setup {
  const deployment = (id: 'a' | 'b' | 'c', priority: number, model: string) => ({
    id,
    type: 'sandbox',
    priority,
    timeout_ms: 200,
    models: { [model]: { upstream_model: `${model}-upstream`, cost_usd_micros: 1_000 } },
    ...extra[id],
  });
  const providers: ProviderConfig = buildProviderConfig(
    {
      deployments: [
        deployment('a', 1, 'flux-2-dev'),
        deployment('b', 2, 'flux-2-dev'),
        deployment('c', 3, 'flux-schnell'),
      ],
      default_strategy: 'priority',
    },
    catalog,
    PROVIDER_TYPES,
  );
  const adapters = {
    a: new ScriptedProvider(behaviours.a),
    b: new ScriptedProvider(behaviours.b),
    c: new ScriptedProvider(behaviours.c),
  };
  const caller = new GuardedDeploymentCaller({
    deployments: providers.deployments,
    logger: createLogger('silent'),
    metrics: createMetrics(),
  });
  const store = new MemoryImageStore();
  const fetched: string[] = [];
  const fakeFetch = (async (url: string | URL | Request) => {
    fetched.push(url instanceof Request ? url.url : url.toString());
    return new Response(png, { status: 200, headers: { 'content-type': 'image/png' } });
  }) as typeof fetch;
  const router = new ImageRouter({
    catalog,
    providers,
    adapters: new Map(Object.entries(adapters)),
    images: store,
    caller,
    fetch: fakeFetch,
    pollIntervalMs: 1,
  });
  return { router, adapters, store, caller, fetched };
}

function input(overrides: Partial<GenerateInput['request']> = {}, model = 'flux-2-dev'): GenerateInput {
  return {
    jobId: 'job_test',
    model,
    creditsPerImage: catalog.models[model]!.credits,
    request: { requested_model: model, prompt: 'a lighthouse', n: 1, aspect_ratio: '1:1', ...overrides },
  };
}

/** Hooks that record what the router told the job. */
function recordingHooks(over: Partial<GenerationHooks> = {}) {
  const written = {
    failed: [] as JobAttempt[],
    upstream: [] as Array<UpstreamJobRef | null>,
    progress: [] as number[],
  };
  const hooks: GenerationHooks = {
    cancelled: new AbortController().signal,
    earlierAttempts: [],
    attemptFailed: async (a) => void written.failed.push(a),
    upstreamJob: async (u) => void written.upstream.push(u),
    progress: async (p) => void written.progress.push(p),
    heartbeat: () => undefined,
    ...over,
  };
  return { hooks, written };
}

const outcomes = (attempts: JobAttempt[]): string[] => attempts.map((a) => `${a.provider}:${a.outcome}`);

async function failure(promise: Promise<unknown>): Promise<GenerationFailed> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof GenerationFailed)) throw new Error(`expected GenerationFailed, got ${String(err)}`);
  return err;
}

describe('image router: what each upstream outcome does to a job', () => {
  it('stores the images of the first deployment that succeeds and reports its attempt', async () => {
    const { router, store, adapters } = setup({ a: 'ok', b: 'ok', c: 'ok' });
    const { hooks, written } = recordingHooks();
    const result = await router.generate(input(), hooks);
    expect(result).toMatchObject({ model: 'flux-2-dev', provider: 'a', creditsPerImage: 1, sandbox: true });
    expect(outcomes(result.attempts)).toEqual(['a:success']);
    expect(result.images).toEqual([
      { key: 'img0', width: 32, height: 16, content_type: 'image/png', bytes: png.byteLength },
    ]);
    expect(store.images.size).toBe(1);
    expect(adapters.b.submits).toBe(0);
    expect(written.failed).toEqual([]);
  });

  it.each([
    ['a timeout', 'hang', 'timeout'],
    ['a 5xx', 'server_error', 'error'],
    ['a 429 with Retry-After', 'rate_limited', 'rate_limited'],
  ] as const)(
    'moves on to the next deployment after %s, writing the failed attempt at once',
    async (_, behaviour, outcome) => {
      const { router } = setup({ a: behaviour, b: 'ok', c: 'ok' });
      const { hooks, written } = recordingHooks();
      const result = await router.generate(input(), hooks);
      expect(result.provider).toBe('b');
      expect(outcomes(result.attempts)).toEqual([`a:${outcome}`, 'b:success']);
      expect(outcomes(written.failed)).toEqual([`a:${outcome}`]);
      // The failed attempt's upstream job (if any) is forgotten, so a retry does not resume it.
      expect(written.upstream).toEqual([null]);
    },
  );

  it('skips a deployment that is cooling down after a 429 until its Retry-After has passed', async () => {
    const { router, adapters } = setup({ a: 'rate_limited', b: 'ok', c: 'ok' });
    await router.generate(input(), recordingHooks().hooks);
    adapters.a.behaviour = 'ok';
    const second = await router.generate(input(), recordingHooks().hooks);
    expect(outcomes(second.attempts)).toEqual(['a:skipped', 'b:success']);
    expect(second.attempts[0]!.error).toMatch(/cooling down for 30 s/);
    expect(adapters.a.submits).toBe(1);
  });

  it('asks to be retried after the soonest Retry-After when every deployment rate limits', async () => {
    const { router } = setup({ a: 'rate_limited', b: 'rate_limited', c: 'ok' });
    const err = await failure(router.generate(input(), recordingHooks().hooks));
    expect(err.type).toBe('upstream_rate_limited');
    expect(err.retryAfterMs).toBe(30_000);
    expect(err.message).toBe('Every provider is rate limiting; retrying in 30 s');
  });

  it('fails at once on a content-policy refusal: another provider would refuse the same prompt', async () => {
    const { router, adapters } = setup({ a: 'content_policy', b: 'ok', c: 'ok' });
    const err = await failure(router.generate(input(), recordingHooks().hooks));
    expect(err.type).toBe('content_policy');
    expect(outcomes(err.attempts)).toEqual(['a:content_policy']);
    expect(adapters.b.submits).toBe(0);
  });

  it('tries the next deployment after a content-policy refusal where the deployment allows it', async () => {
    const { router } = setup(
      { a: 'content_policy', b: 'ok', c: 'ok' },
      { a: { retry_on_content_policy: true } },
    );
    const result = await router.generate(input(), recordingHooks().hooks);
    expect(outcomes(result.attempts)).toEqual(['a:content_policy', 'b:success']);
  });

  it('fails at once on a rejected request', async () => {
    const { router, adapters } = setup({ a: 'rejected', b: 'ok', c: 'ok' });
    const err = await failure(router.generate(input(), recordingHooks().hooks));
    expect(err.type).toBe('rejected');
    expect(adapters.b.submits).toBe(0);
  });

  it('does not call a deployment whose breaker is open, and names it in the attempts', async () => {
    const breaker = { error_threshold_percent: 1, volume_threshold: 1, reset_timeout_ms: 60_000 };
    const { router, adapters, caller } = setup({ a: 'server_error', b: 'ok', c: 'ok' }, { a: { breaker } });
    try {
      await router.generate(input(), recordingHooks().hooks);
      expect(caller.snapshot().a!.state).toBe('open');
      const second = await router.generate(input(), recordingHooks().hooks);
      expect(outcomes(second.attempts)).toEqual(['a:circuit_open', 'b:success']);
      expect(adapters.a.submits).toBe(1);
    } finally {
      caller.shutdown();
    }
  });

  it('reports the breaker window it opens on: upstream failures and unsent refusals, not client errors', async () => {
    const breaker = {
      error_threshold_percent: 50,
      volume_threshold: 3,
      reset_timeout_ms: 60_000,
      rolling_window_ms: 1_000,
    };
    const { router, adapters, caller } = setup({ a: 'content_policy', b: 'ok', c: 'ok' }, { a: { breaker } });
    try {
      await failure(router.generate(input(), recordingHooks().hooks));
      // A content-policy refusal counts against the job, not the upstream.
      expect(caller.snapshot().a).toMatchObject({
        failures: 1,
        recent: { windowMs: 1_000, calls: 1, failures: 0, refused: 0 },
      });
      adapters.a.behaviour = 'server_error';
      for (let i = 0; i < 3; i++) await router.generate(input(), recordingHooks().hooks);
      expect(caller.snapshot().a).toMatchObject({
        state: 'open',
        failures: 3,
        recent: { calls: 3, failures: 2, refused: 1 },
      });
      // The window rolls on: a second later it holds nothing, whatever happened since start.
      await new Promise((r) => setTimeout(r, 1_200));
      expect(caller.snapshot().a).toMatchObject({
        failures: 3,
        recent: { calls: 0, failures: 0, refused: 0 },
      });
    } finally {
      caller.shutdown();
    }
  });

  it('fails naming every attempt when every deployment fails', async () => {
    const { router } = setup({ a: 'server_error', b: 'server_error', c: 'ok' });
    const err = await failure(router.generate(input(), recordingHooks().hooks));
    expect(err.type).toBe('all_providers_failed');
    expect(err.message).toBe(
      'Every provider failed: a/flux-2-dev: error (HTTP 503 from upstream); b/flux-2-dev: error (HTTP 503 from upstream)',
    );
  });

  it('falls back to an allowed model costing no more than was reserved, and charges that model', async () => {
    const { router } = setup({ a: 'server_error', b: 'server_error', c: 'ok' });
    const result = await router.generate(
      input({ fallback_models: ['flux-schnell', 'ideogram-v3'] }),
      recordingHooks().hooks,
    );
    expect(result).toMatchObject({ model: 'flux-schnell', provider: 'c', creditsPerImage: 1 });
    expect(outcomes(result.attempts)).toEqual(['a:error', 'b:error', 'c:success']);
  });

  it('saves an asynchronous upstream job before polling it, then downloads its result', async () => {
    const { router, fetched } = setup({ a: 'async', b: 'ok', c: 'ok' });
    const { hooks, written } = recordingHooks();
    const result = await router.generate(input(), hooks);
    expect(written.upstream).toEqual([
      { deployment: 'a', model: 'flux-2-dev', job_id: 'up-1', submitted_at: expect.any(Date) },
    ]);
    expect(written.progress).toContain(0.5);
    expect(fetched).toEqual(['https://upstream.test/up-1.png']);
    expect(result.images[0]).toMatchObject({ width: 32, height: 16, content_type: 'image/png' });
  });

  it('resumes polling the upstream job an earlier run left, without submitting again', async () => {
    const { router, adapters } = setup({ a: 'async', b: 'async', c: 'ok' });
    const earlier: JobAttempt = {
      provider: 'a',
      model: 'flux-2-dev',
      outcome: 'timeout',
      duration_ms: 5,
      at: new Date(),
    };
    const { hooks } = recordingHooks({
      earlierAttempts: [earlier],
      resume: { deployment: 'b', model: 'flux-2-dev', job_id: 'up-earlier', submitted_at: new Date() },
    });
    const result = await router.generate(input(), hooks);
    expect(result.provider).toBe('b');
    expect(adapters.b.submits).toBe(0);
    expect(adapters.b.polls).toBe(2);
    expect(adapters.a.submits).toBe(0);
    expect(outcomes(result.attempts)).toEqual(['a:timeout', 'b:success']);
  });

  it('reports a cancelled job as cancelled, not as a provider failure', async () => {
    const { router } = setup({ a: 'hang', b: 'ok', c: 'ok' }, { a: { timeout_ms: 60_000 } });
    const cancel = new AbortController();
    const { hooks, written } = recordingHooks({ cancelled: cancel.signal });
    setTimeout(() => cancel.abort(), 20);
    await expect(router.generate(input(), hooks)).rejects.toBeInstanceOf(GenerationCancelled);
    expect(written.failed).toEqual([]);
  });
});

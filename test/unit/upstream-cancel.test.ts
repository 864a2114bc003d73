import { buildCatalog } from '../../core/catalog';
import { createLogger } from '../../platform/logger';
import { PROVIDER_TYPES } from '../../providers/registry';
import { createSandboxProvider, SANDBOX_CAPABILITIES } from '../../providers/sandbox';
import {
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type ModelCapabilities,
  type PollResult,
  type ProviderCallContext,
  type SubmitResult,
} from '../../providers/types';
import { GuardedDeploymentCaller } from '../../routing/caller';
import { buildProviderConfig } from '../../routing/deployments';
import { GenerationCancelled, ImageRouter, type GenerationHooks } from '../../routing/router';
import { CallCancelled } from '../../routing/timeout';
import {
  runUpstreamJob,
  UPSTREAM_CANCEL_TIMEOUT_MS,
  type UpstreamCancelOutcome,
  type UpstreamJobHooks,
} from '../../routing/upstream-job';

const request: GenerationRequest = {
  upstreamModel: 'flux-2-dev-upstream',
  model: 'flux-2-dev',
  prompt: 'a lighthouse',
  n: 1,
  aspectRatio: '1:1',
};

/** An asynchronous upstream whose jobs never finish, and that records the cancels it is sent. */
class EndlessAsyncProvider implements ImageProvider {
  readonly type = 'sandbox';
  readonly capabilities = (): ModelCapabilities => ({ ...SANDBOX_CAPABILITIES, cancel: true });
  readonly cancels: Array<{ upstreamJobId: string; signal: AbortSignal }> = [];
  polls = 0;
  constructor(private readonly cancelBehaviour: 'ok' | 'fail' | 'hang' = 'ok') {}

  async submit(): Promise<SubmitResult> {
    return { status: 'pending', upstreamJobId: 'up-1', pollAfterMs: 5 };
  }

  async poll(_id: string, context: ProviderCallContext): Promise<PollResult> {
    this.polls += 1;
    if (context.signal.aborted) throw new ProviderError('timeout', 'aborted');
    return { status: 'pending', progress: 0.1, pollAfterMs: 5 };
  }

  cancel(upstreamJobId: string, signal: AbortSignal): Promise<void> {
    this.cancels.push({ upstreamJobId, signal });
    if (this.cancelBehaviour === 'fail')
      return Promise.reject(new ProviderError('error', 'HTTP 500 from the cancel endpoint'));
    if (this.cancelBehaviour === 'hang') return new Promise(() => undefined); // ignores its signal
    return Promise.resolve();
  }
}

function hooksFor(cancel: AbortController, timeout = new AbortController()) {
  const reported: Array<[string, UpstreamCancelOutcome]> = [];
  const hooks: UpstreamJobHooks = {
    signal: AbortSignal.any([cancel.signal, timeout.signal]),
    cancelled: cancel.signal,
    pollIntervalMs: 5,
    accepted: async () => undefined,
    progress: async () => undefined,
    polled: () => undefined,
    upstreamCancelled: (id, result) => void reported.push([id, result]),
  };
  return { hooks, reported };
}

const rejection = (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );

describe('cancelling the upstream job of a cancelled job', () => {
  it('cancels the in-flight upstream job with a bounded signal and still ends the job as stopped', async () => {
    const adapter = new EndlessAsyncProvider('ok');
    const cancel = new AbortController();
    const { hooks, reported } = hooksFor(cancel);
    setTimeout(() => cancel.abort(new Error('job cancelled')), 30);
    const err = await rejection(runUpstreamJob(adapter, request, undefined, hooks));
    expect((err as Error).message).toContain('job cancelled');
    expect(adapter.cancels.map((c) => c.upstreamJobId)).toEqual(['up-1']);
    // The adapter gets its own deadline, not the job's (already aborted) signal.
    expect(adapter.cancels[0]!.signal.aborted).toBe(false);
    expect(reported).toEqual([['up-1', { outcome: 'cancelled' }]]);
  });

  it('cancels a resumed upstream job too', async () => {
    const adapter = new EndlessAsyncProvider('ok');
    const cancel = new AbortController();
    const { hooks } = hooksFor(cancel);
    setTimeout(() => cancel.abort(), 30);
    await rejection(runUpstreamJob(adapter, request, 'up-earlier', hooks));
    expect(adapter.cancels.map((c) => c.upstreamJobId)).toEqual(['up-earlier']);
  });

  it('reports a cancel the upstream refused, without changing how the job ends', async () => {
    const adapter = new EndlessAsyncProvider('fail');
    const cancel = new AbortController();
    const { hooks, reported } = hooksFor(cancel);
    setTimeout(() => cancel.abort(new Error('job cancelled')), 30);
    const err = await rejection(runUpstreamJob(adapter, request, undefined, hooks));
    expect((err as Error).message).toContain('job cancelled');
    expect(reported).toEqual([
      [
        'up-1',
        {
          outcome: 'failed',
          error: expect.objectContaining({ message: 'HTTP 500 from the cancel endpoint' }),
        },
      ],
    ]);
  });

  it('gives up on an upstream that does not answer the cancel within its time', async () => {
    const adapter = new EndlessAsyncProvider('hang');
    const cancel = new AbortController();
    const { hooks, reported } = hooksFor(cancel);
    setTimeout(() => cancel.abort(), 10);
    const started = Date.now();
    await rejection(runUpstreamJob(adapter, request, undefined, hooks));
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(UPSTREAM_CANCEL_TIMEOUT_MS - 50);
    expect(took).toBeLessThan(UPSTREAM_CANCEL_TIMEOUT_MS + 500);
    expect(adapter.cancels[0]!.signal.aborted).toBe(true);
    expect(reported).toEqual([
      [
        'up-1',
        { outcome: 'failed', error: expect.objectContaining({ message: expect.stringMatching(/within/) }) },
      ],
    ]);
  });

  it('says so when the provider cannot cancel', async () => {
    const endless = new EndlessAsyncProvider();
    const adapter: ImageProvider = {
      type: endless.type,
      capabilities: () => ({ ...SANDBOX_CAPABILITIES, cancel: false }),
      submit: () => endless.submit(),
      poll: (id, context) => endless.poll(id, context),
    };
    const cancel = new AbortController();
    const { hooks, reported } = hooksFor(cancel);
    setTimeout(() => cancel.abort(), 20);
    await rejection(runUpstreamJob(adapter, request, undefined, hooks));
    expect(reported).toEqual([['up-1', { outcome: 'unsupported' }]]);
  });

  it('does not cancel upstream when only the attempt timed out', async () => {
    const adapter = new EndlessAsyncProvider('ok');
    const timeout = new AbortController();
    const { hooks, reported } = hooksFor(new AbortController(), timeout);
    setTimeout(() => timeout.abort(new Error('attempt timed out')), 20);
    await rejection(runUpstreamJob(adapter, request, undefined, hooks));
    expect(adapter.cancels).toEqual([]);
    expect(reported).toEqual([]);
  });
});

describe('the router and the caller when a job is cancelled', () => {
  const catalog = buildCatalog(undefined);
  const providers = buildProviderConfig(
    {
      deployments: [
        {
          id: 'a',
          type: 'sandbox',
          priority: 1,
          timeout_ms: 60_000,
          breaker: { error_threshold_percent: 1, volume_threshold: 1, reset_timeout_ms: 60_000 },
          models: { 'flux-2-dev': { upstream_model: 'flux-2-dev-upstream', cost_usd_micros: 1_000 } },
        },
      ],
      default_strategy: 'priority',
    },
    catalog,
    PROVIDER_TYPES,
  );

  const hooks = (cancelled: AbortSignal): GenerationHooks => ({
    cancelled,
    earlierAttempts: [],
    attemptFailed: async () => undefined,
    upstreamJob: async () => undefined,
    progress: async () => undefined,
    heartbeat: () => undefined,
  });
  const input = {
    jobId: 'job_test',
    model: 'flux-2-dev',
    creditsPerImage: 1,
    request: { requested_model: 'flux-2-dev', prompt: 'a lighthouse', n: 1, aspect_ratio: '1:1' as const },
  };

  it('cancels the upstream job, ends the job cancelled, and never counts the cancel against the upstream', async () => {
    const adapter = new EndlessAsyncProvider('ok');
    const caller = new GuardedDeploymentCaller({
      deployments: providers.deployments,
      logger: createLogger('silent'),
    });
    const router = new ImageRouter({
      catalog,
      providers,
      adapters: new Map([['a', adapter]]),
      images: { put: async () => 'k' },
      caller,
      pollIntervalMs: 5,
    });
    try {
      // A breaker that opens on one failure stays closed through several cancels.
      for (let i = 0; i < 3; i++) {
        const cancel = new AbortController();
        setTimeout(() => cancel.abort(), 20);
        await expect(router.generate(input, hooks(cancel.signal))).rejects.toBeInstanceOf(
          GenerationCancelled,
        );
      }
      expect(adapter.cancels).toHaveLength(3);
      expect(caller.snapshot().a).toMatchObject({ state: 'closed', failures: 0 });
    } finally {
      caller.shutdown();
    }
  });

  it('stops waiting for an upstream rate slot when the job is cancelled', async () => {
    const limited = providers.deployments.map((d) => ({ ...d, requests_per_second: 1 }));
    const caller = new GuardedDeploymentCaller({
      deployments: limited,
      logger: createLogger('silent'),
      acquireUpstreamSlot: (_d, signal) =>
        new Promise((_, reject) =>
          signal.addEventListener('abort', () => reject(new Error('stopped waiting for a slot'))),
        ),
    });
    try {
      const cancel = new AbortController();
      setTimeout(() => cancel.abort(), 20);
      const started = Date.now();
      const err = await rejection(caller.call(limited[0]!, 'flux-2-dev', async () => 'never', cancel.signal));
      expect(err).toBeInstanceOf(CallCancelled);
      expect(Date.now() - started).toBeLessThan(1_000);
    } finally {
      caller.shutdown();
    }
  });
});

describe('sandbox: cancelling an async job', () => {
  const sandbox = () =>
    createSandboxProvider({ deploymentId: 'sandbox-test', options: { mode: 'async', latency_ms: 10_000 } });
  const context = (): ProviderCallContext => ({ signal: new AbortController().signal });

  it('makes later polls of the job fail as cancelled, and leaves other jobs alone', async () => {
    const provider = sandbox();
    const one = await provider.submit(request, context());
    const two = await provider.submit(request, context());
    if (one.status !== 'pending' || two.status !== 'pending') throw new Error('expected async jobs');
    await provider.cancel!(one.upstreamJobId, AbortSignal.timeout(1_000));
    const err = await rejection(provider.poll(one.upstreamJobId, context()));
    expect(err).toMatchObject({ outcome: 'error', details: { upstreamCode: 'canceled' } });
    expect(await provider.poll(two.upstreamJobId, context())).toMatchObject({ status: 'pending' });
  });

  it('refuses to cancel an id it did not make', async () => {
    const err = await rejection(sandbox().cancel!('not-a-sandbox-id', AbortSignal.timeout(1_000)));
    expect(err).toMatchObject({ outcome: 'rejected', details: { upstreamCode: 'malformed_job_id' } });
  });
});

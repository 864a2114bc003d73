import { BflFake } from '../fakes/bfl-fake';
import { FalFake } from '../fakes/fal-fake';
import { createGeminiFake } from '../fakes/gemini-fake';
import { IdeogramFake } from '../fakes/ideogram-fake';
import { JourneyapiFake } from '../fakes/journeyapi-fake';
import { MidjourneyProxyFake } from '../fakes/midjourney-proxy-fake';
import { createOpenaiFake } from '../fakes/openai-fake';
import { ReplicateFake } from '../fakes/replicate-fake';
import { TogetherFake } from '../fakes/together-fake';
import { METRICS_TOKEN, startTestEasel, type TestEasel } from '../support/easel';
import { waitFor, writeConfig } from '../support/config';
import type { JobView } from '../../core/jobs/view';
import { imageDimensions } from '../../platform/image-store';
import { ZERO_CONFIG_DEPLOYMENTS } from '../../routing/zero-config';

const KEYS = {
  TEST_HOSTS_FAL_KEY: 'fal-test-key',
  TEST_HOSTS_REPLICATE_TOKEN: 'r8_test_token',
  TEST_HOSTS_TOGETHER_KEY: 'together-test-key',
  TEST_HOSTS_JOURNEYAPI_KEY: 'japi_test_key',
  TEST_HOSTS_OPENAI_KEY: 'openai-test-key',
  TEST_HOSTS_GEMINI_KEY: 'gemini-test-key',
  TEST_HOSTS_IDEOGRAM_KEY: 'ideogram-test-key',
  TEST_HOSTS_BFL_KEY: 'bfl-test-key',
  TEST_HOSTS_MJ_SECRET: 'mj-proxy-secret',
};
Object.assign(process.env, KEYS);

/** The catalog's credits per image (core/catalog.ts). */
const CREDITS: Record<string, number> = {
  'flux-2-dev': 1,
  'flux-schnell': 1,
  'nano-banana': 2,
  'gpt-image-1': 2,
  'flux-2-flex': 2,
  'nano-banana-2': 3,
  midjourney: 4,
  'flux-2-max': 4,
  'ideogram-v3': 5,
};
const MODELS = Object.keys(CREDITS);

/** The models map of a zero-config deployment: the upstream ids (and costs) Easel ships with. */
function zeroConfigModels(
  id: string,
  only?: readonly string[],
): Record<string, { upstream_model: string; cost_usd_micros: number }> {
  const z = ZERO_CONFIG_DEPLOYMENTS.find((d) => d.id === id);
  if (!z) throw new Error(`no zero-config deployment ${id}`);
  return Object.fromEntries(
    Object.entries(z.models)
      .filter(([model]) => !only || only.includes(model))
      .map(([model, m]) => [model, { upstream_model: m.upstream_model, cost_usd_micros: m.cost_usd_micros }]),
  );
}

function deployment(
  id: string,
  type: string,
  url: string,
  keyEnv: keyof typeof KEYS,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
    id,
    type,
    base_url: url,
    api_key_env: keyEnv,
    // The fakes listen on loopback: the deployments opt in to private addresses.
    allow_private_network: true,
    timeout_ms: 15_000,
    breaker: { volume_threshold: 1_000 },
    ...extra,
  };
}

type Job = JobView & { error: (JobView['error'] & { details?: unknown }) | null };

interface Client {
  easel: TestEasel;
  key: string;
}

const terminal = (j: JobView): boolean => ['succeeded', 'failed', 'canceled'].includes(j.status);

async function submit(c: Client, body: Record<string, unknown>): Promise<JobView> {
  const r = await c.easel.call<JobView>('POST', '/v1/imagine', { token: c.key, body });
  if (r.status !== 202) throw new Error(`submit: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

const read = (c: Client, id: string, wait = 0): Promise<Job> =>
  c.easel
    .call<Job>('GET', `/v1/jobs/${id}${wait > 0 ? `?wait=${wait}` : ''}`, { token: c.key })
    .then((r) => r.body);

const finished = (c: Client, id: string): Promise<Job> => waitFor(() => read(c, id, 10), terminal, 60_000, 0);

async function run(c: Client, body: Record<string, unknown>): Promise<Job> {
  return finished(c, (await submit(c, body)).id);
}

const balance = async (c: Client): Promise<{ available: number; held: number }> =>
  (
    await c.easel.call<{ balance: { available: number; held: number } }>('GET', '/v1/account', {
      token: c.key,
    })
  ).body.balance;

/** Every stored image answers 200 with the content type the job names, and is a real image. */
async function expectStoredImages(job: JobView): Promise<void> {
  expect(job.images.length).toBeGreaterThan(0);
  for (const image of job.images) {
    expect(image.content_type).toMatch(/^image\/(png|jpeg|webp)$/);
    const res = await fetch(image.url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(image.content_type);
    const bytes = new Uint8Array(await res.arrayBuffer());
    expect(imageDimensions(bytes)).toEqual({ width: image.width, height: image.height });
  }
}

const outcomes = (job: JobView): string[] => job.attempts.map((a) => `${a.provider}:${a.outcome}`);

interface Faultable {
  inject(fault: { on: 'any'; status: number; times: number }): void;
  clearFaults(): void;
}

describe('every catalog model through every host that serves it', () => {
  const fal = new FalFake({ apiKey: KEYS.TEST_HOSTS_FAL_KEY, concurrency: 4, runMs: 50 });
  const replicate = new ReplicateFake({ apiKey: KEYS.TEST_HOSTS_REPLICATE_TOKEN, runMs: 100 });
  const together = new TogetherFake({ apiKey: KEYS.TEST_HOSTS_TOGETHER_KEY, latencyMs: 20 });
  const journeyapi = new JourneyapiFake({ apiKey: KEYS.TEST_HOSTS_JOURNEYAPI_KEY, asyncMs: 300 });
  const openai = createOpenaiFake({ apiKey: KEYS.TEST_HOSTS_OPENAI_KEY });
  const gemini = createGeminiFake({ apiKey: KEYS.TEST_HOSTS_GEMINI_KEY });
  const ideogram = new IdeogramFake({ apiKey: KEYS.TEST_HOSTS_IDEOGRAM_KEY });
  const bfl = new BflFake({ apiKey: KEYS.TEST_HOSTS_BFL_KEY, pendingMs: 100 });
  const mjProxy = new MidjourneyProxyFake({ secret: KEYS.TEST_HOSTS_MJ_SECRET });
  const fakes: Record<string, Faultable & { start(): Promise<unknown>; close(): Promise<void> }> = {
    fal,
    replicate,
    together,
    journeyapi,
    openai,
    gemini,
    ideogram,
    bfl,
    'midjourney-proxy': mjProxy,
  };
  let c: Client;
  /** Deployment ids serving each model, in priority order. */
  const hostsOf: Record<string, string[]> = {};

  beforeAll(async () => {
    await Promise.all(Object.values(fakes).map((f) => f.start()));
    const fast = { poll_interval_ms: 100 };
    const deployments = [
      deployment('fal', 'fal', fal.url, 'TEST_HOSTS_FAL_KEY', {
        priority: 1,
        models: zeroConfigModels('fal'),
        options: fast,
      }),
      deployment('replicate', 'replicate', replicate.url, 'TEST_HOSTS_REPLICATE_TOKEN', {
        priority: 2,
        models: zeroConfigModels('replicate'),
        options: fast,
      }),
      deployment('together', 'together', together.url, 'TEST_HOSTS_TOGETHER_KEY', {
        priority: 3,
        models: zeroConfigModels('together'),
      }),
      deployment('journeyapi', 'journeyapi', journeyapi.url, 'TEST_HOSTS_JOURNEYAPI_KEY', {
        priority: 4,
        models: zeroConfigModels('journeyapi'),
        options: fast,
      }),
      // The models' own vendors last.
      deployment('openai', 'openai', openai.url, 'TEST_HOSTS_OPENAI_KEY', {
        priority: 5,
        models: zeroConfigModels('openai'),
      }),
      deployment('gemini', 'gemini', gemini.url, 'TEST_HOSTS_GEMINI_KEY', {
        priority: 5,
        models: zeroConfigModels('gemini'),
      }),
      deployment('ideogram', 'ideogram', ideogram.url, 'TEST_HOSTS_IDEOGRAM_KEY', {
        priority: 5,
        models: zeroConfigModels('ideogram'),
      }),
      deployment('bfl', 'bfl', bfl.url, 'TEST_HOSTS_BFL_KEY', {
        priority: 5,
        models: zeroConfigModels('bfl'),
        options: fast,
      }),
      deployment('midjourney-proxy', 'midjourney-proxy', mjProxy.url, 'TEST_HOSTS_MJ_SECRET', {
        priority: 5,
        models: zeroConfigModels('midjourney-proxy'),
        options: fast,
      }),
    ];
    for (const model of MODELS) {
      hostsOf[model] = deployments
        .filter((d) => Object.hasOwn(d.models as object, model))
        .map((d) => d.id as string);
    }
    const easel = await startTestEasel({
      env: {
        EASEL_CONFIG: writeConfig({ providers: { default_strategy: 'priority', deployments } }),
      },
    });
    const account = await easel.newAccount('scale-2');
    c = { easel, key: account.key };
  });
  afterAll(async () => {
    await c?.easel.stop();
    await Promise.all(Object.values(fakes).map((f) => f.close()));
  });

  it('has at least two hosts for each of the nine models', () => {
    expect(Object.keys(hostsOf)).toHaveLength(9);
    for (const model of MODELS) expect(hostsOf[model]!.length).toBeGreaterThanOrEqual(2);
  });

  it.each(MODELS)(
    'serves %s through each of its hosts in turn, the earlier ones answering 503',
    async (model) => {
      const hosts = hostsOf[model]!;
      const started = Date.now();
      for (const [index, host] of hosts.entries()) {
        const down = hosts.slice(0, index);
        for (const h of down) fakes[h]!.inject({ on: 'any', status: 503, times: 1_000 });
        const before = await balance(c);
        let job: Job;
        try {
          job = await run(c, { model, prompt: `${model} through ${host}` });
        } finally {
          for (const h of down) fakes[h]!.clearFaults();
        }
        expect({ host, status: job.status, error: job.error }).toEqual({
          host,
          status: 'succeeded',
          error: null,
        });
        expect(job.provider).toBe(host);
        expect(outcomes(job)).toEqual([...down.map((h) => `${h}:error`), `${host}:success`]);
        expect(job).toMatchObject({ credits_reserved: CREDITS[model], credits_charged: CREDITS[model] });
        await expectStoredImages(job);
        if (model === 'midjourney') {
          // One generation: its grid and four candidates, charged once.
          expect(job.images.map((i) => i.role)).toEqual([
            'grid',
            'candidate',
            'candidate',
            'candidate',
            'candidate',
          ]);
        } else {
          expect(job.images.map((i) => i.role)).toEqual(['image']);
        }
        expect(await balance(c)).toMatchObject({ available: before.available - CREDITS[model]!, held: 0 });
      }
      console.log(`${model}: ${hosts.length} jobs through ${hosts.join(', ')} in ${Date.now() - started} ms`);
    },
  );

  it('sent each host the upstream ids of routing/zero-config.ts', () => {
    expect(new Set(fal.submissions.map((s) => s.endpoint))).toEqual(
      new Set(Object.values(zeroConfigModels('fal')).map((m) => m.upstream_model)),
    );
    expect(new Set(replicate.predictions.map((p) => p.model))).toEqual(
      new Set(Object.values(zeroConfigModels('replicate')).map((m) => m.upstream_model)),
    );
    expect(new Set(together.submissions.map((s) => s.body.model))).toEqual(
      new Set(Object.values(zeroConfigModels('together')).map((m) => m.upstream_model)),
    );
    expect(new Set(journeyapi.submissions.map((s) => s.model))).toEqual(new Set(MODELS));
    expect(mjProxy.submissionCount('imagine')).toBe(1);
    expect(mjProxy.submissionCount('change')).toBe(4);
  });
});

describe('fal and Replicate: cancels, expired outputs, breakers across strategies', () => {
  const fal = new FalFake({ apiKey: KEYS.TEST_HOSTS_FAL_KEY, concurrency: 1, runMs: 100 });
  const replicate = new ReplicateFake({ apiKey: KEYS.TEST_HOSTS_REPLICATE_TOKEN, runMs: 700 });
  let c: Client;
  const RESET_MS = 1_500;

  beforeAll(async () => {
    await Promise.all([fal.start(), replicate.start()]);
    const shared = ['flux-2-dev', 'flux-schnell', 'nano-banana', 'ideogram-v3'];
    const falModels = zeroConfigModels('fal', shared);
    // fal is the cheaper host of flux-schnell, so `cheapest` tries it first.
    falModels['flux-schnell']!.cost_usd_micros = 1_000;
    const config = writeConfig({
      providers: {
        default_strategy: 'priority',
        routing: {
          'flux-2-dev': { strategy: 'fastest' },
          'flux-schnell': { strategy: 'cheapest' },
          'nano-banana': { strategy: 'weighted' },
        },
        deployments: [
          deployment('fal', 'fal', fal.url, 'TEST_HOSTS_FAL_KEY', {
            priority: 2,
            weight: 9,
            models: falModels,
            options: { poll_interval_ms: 100 },
            breaker: {
              volume_threshold: 3,
              error_threshold_percent: 50,
              reset_timeout_ms: RESET_MS,
              rolling_window_ms: 10_000,
            },
          }),
          deployment('replicate', 'replicate', replicate.url, 'TEST_HOSTS_REPLICATE_TOKEN', {
            priority: 1,
            weight: 1,
            models: zeroConfigModels('replicate', shared),
            options: { poll_interval_ms: 100 },
          }),
        ],
      },
    });
    const easel = await startTestEasel({ env: { EASEL_CONFIG: config } });
    const account = await easel.newAccount('scale-2');
    c = { easel, key: account.key };
  });
  afterAll(async () => {
    await c?.easel.stop();
    await Promise.all([fal.close(), replicate.close()]);
  });

  const cancel = async (id: string): Promise<JobView> => {
    const r = await c.easel.call<JobView>('POST', `/v1/jobs/${id}/cancel`, { token: c.key });
    expect(r.status).toBe(200);
    return r.body;
  };
  /** The job once its attempt says how cancelling the upstream job went. */
  const cancelledAttempt = (id: string) =>
    waitFor(
      () => read(c, id),
      (j) => j.attempts.some((a) => a.upstream_cancel !== undefined),
      10_000,
    );
  const falRequestOf = (prompt: string) => fal.submissions.find((s) => s.body.prompt === prompt);
  const predictionOf = (prompt: string) => replicate.predictions.find((p) => p.input.prompt === prompt);

  it('cancels a job queued at fal behind a busy runner: fal takes the cancel, the credits come back', async () => {
    const before = await balance(c);
    const runMs = fal.options.runMs;
    fal.options.runMs = 60_000; // one runner, busy for a minute: the next request waits in fal's queue
    try {
      const busy = await submit(c, { model: 'flux-schnell', prompt: 'keeps the runner busy' });
      await waitFor(
        async () => falRequestOf('keeps the runner busy'),
        (s) => s !== undefined && fal.stateOf(s.id) === 'IN_PROGRESS',
        10_000,
        20,
      );
      const queued = await submit(c, { model: 'flux-schnell', prompt: 'waits in the queue' });
      // Easel shows where the job waits upstream.
      const waiting = await waitFor(
        () => read(c, queued.id),
        (j) => j.queue_position === 0,
        10_000,
        100,
      );
      expect(waiting.status).toBe('running');
      const request = falRequestOf('waits in the queue')!;
      expect(fal.stateOf(request.id)).toBe('IN_QUEUE');

      expect(await cancel(queued.id)).toMatchObject({ status: 'canceled', credits_charged: 0 });
      const job = await cancelledAttempt(queued.id);
      expect(job.status).toBe('canceled');
      expect(job.attempts).toEqual([
        expect.objectContaining({ provider: 'fal', outcome: 'canceled', upstream_cancel: 'cancelled' }),
      ]);
      expect(fal.cancels).toContainEqual({ id: request.id, answer: 'CANCELLATION_REQUESTED' });

      // The runner's own request, cancelled while fal runs it.
      await cancel(busy.id);
      expect((await cancelledAttempt(busy.id)).attempts[0]).toMatchObject({ upstream_cancel: 'cancelled' });
      expect(fal.cancels).toContainEqual({
        id: falRequestOf('keeps the runner busy')!.id,
        answer: 'CANCELLATION_REQUESTED',
      });
      expect(fal.submissions.filter((s) => /busy|queue/.test(String(s.body.prompt)))).toHaveLength(2);
    } finally {
      fal.options.runMs = runMs;
    }
    expect(await balance(c)).toEqual(before);
  });

  it('cancels a job while Replicate processes it: Replicate takes POST /cancel, the credits come back', async () => {
    const before = await balance(c);
    const runMs = replicate.options.runMs;
    replicate.options.runMs = 60_000;
    try {
      // ideogram-v3 goes by priority: Replicate first.
      const submitted = await submit(c, { model: 'ideogram-v3', prompt: 'a long render' });
      const prediction = await waitFor(
        async () => predictionOf('a long render'),
        (p) => p !== undefined && replicate.statusOf(p.id) === 'processing',
        10_000,
        20,
      );
      await waitFor(
        () => read(c, submitted.id),
        (j) => j.status === 'running',
        10_000,
        100,
      );
      expect(await cancel(submitted.id)).toMatchObject({ status: 'canceled', credits_charged: 0 });
      const job = await cancelledAttempt(submitted.id);
      expect(job.attempts).toEqual([
        expect.objectContaining({ provider: 'replicate', outcome: 'canceled', upstream_cancel: 'cancelled' }),
      ]);
      expect(replicate.cancels).toEqual([
        expect.objectContaining({ id: prediction!.id, statusBefore: 'processing' }),
      ]);
      expect(replicate.requestCount('POST', `/v1/predictions/${prediction!.id}/cancel`)).toBe(1);
      expect(replicate.statusOf(prediction!.id)).toBe('canceled');
      expect(fal.submissions.some((s) => s.body.prompt === 'a long render')).toBe(false);
    } finally {
      replicate.options.runMs = runMs;
    }
    expect(await balance(c)).toEqual(before);
  });

  it('fails over to fal when the Replicate output has expired by the time Easel fetches it', async () => {
    const before = await balance(c);
    const prompt = 'an output collected too late';
    const submitted = await submit(c, { model: 'ideogram-v3', prompt });
    // The prediction is created, then (while it still runs) two hours pass for it: by the time it
    // is read as succeeded, Replicate has deleted its output (after one hour).
    const prediction = await waitFor(
      async () => predictionOf(prompt),
      (p) => p !== undefined,
      10_000,
      5,
    );
    expect(replicate.statusOf(prediction!.id)).toBe('processing');
    replicate.age(prediction!.id, 2 * 60 * 60_000);
    const job = await finished(c, submitted.id);
    expect(job).toMatchObject({ status: 'succeeded', provider: 'fal', credits_charged: 5 });
    expect(outcomes(job)).toEqual(['replicate:error', 'fal:success']);
    expect(job.attempts[0]!.error).toMatch(/removed/);
    await expectStoredImages(job);
    expect(replicate.predictions.filter((p) => p.input.prompt === prompt)).toHaveLength(1);
    expect(fal.submissions.filter((s) => s.body.prompt === prompt)).toHaveLength(1);
    expect(await balance(c)).toMatchObject({ available: before.available - 5, held: 0 });
  });

  const breakerState = async (): Promise<string | undefined> => {
    const status = await c.easel.admin<{
      deployments: Array<{ id: string; workers: Array<{ state: string }> }>;
    }>('GET', '/providers');
    return status.body.deployments.find((d) => d.id === 'fal')?.workers[0]?.state;
  };
  const breakerMetric = async (): Promise<number> => {
    const text = (await c.easel.call<string>('GET', '/metrics', { token: METRICS_TOKEN })).body;
    const line = text.split('\n').find((l) => l.startsWith('easel_circuit_breaker_state{provider="fal"}'));
    return Number(line?.split(' ').pop());
  };

  it('delivers every job through Replicate under fastest, cheapest and weighted while fal answers 503, opening fal’s breaker, then closes it once fal is back', async () => {
    const started = Date.now();
    const falSubmitsBefore = fal.requestCount('POST', '/fal-ai/');
    fal.inject({ on: 'submit', status: 503, times: 1_000 });
    const strategies = [
      ['fastest', 'flux-2-dev'],
      ['cheapest', 'flux-schnell'],
      ['weighted', 'nano-banana'],
    ] as const;
    const jobs: Array<{ strategy: string; job: Job }> = [];
    try {
      for (let round = 0; round < 4; round++) {
        for (const [strategy, model] of strategies) {
          jobs.push({
            strategy,
            job: await run(c, { model, prompt: `${strategy} during fal's outage ${round}` }),
          });
        }
      }
      expect(jobs.map(({ job }) => `${job.status}:${job.provider}`)).toEqual(
        jobs.map(() => 'succeeded:replicate'),
      );
      // cheapest always tries fal first (cheaper); fastest too once Replicate, unmeasured until its
      // first success here, is measured slower than fal; weighted mostly (9:1).
      for (const [i, { strategy, job }] of jobs.entries()) {
        if (strategy === 'cheapest' || (strategy === 'fastest' && i > 0))
          expect(job.attempts[0]!.provider).toBe('fal');
        expect(job.attempts.at(-1)).toMatchObject({ provider: 'replicate', outcome: 'success' });
      }
      const onFal = jobs.flatMap(({ job }) =>
        job.attempts.filter((a) => a.provider === 'fal').map((a) => a.outcome),
      );
      // fal's 503s open its breaker within a few calls; from then on most attempts are refused locally.
      const firstRefusal = onFal.indexOf('circuit_open');
      expect(firstRefusal).toBeGreaterThanOrEqual(2);
      expect(onFal.slice(0, firstRefusal)).toEqual(onFal.slice(0, firstRefusal).map(() => 'error'));
      expect(new Set(onFal)).toEqual(new Set(['error', 'circuit_open']));
      // The open breaker stopped the calls: fewer reached fal than jobs tried it.
      const falSubmits = fal.requestCount('POST', '/fal-ai/') - falSubmitsBefore;
      expect(falSubmits).toBe(onFal.filter((o) => o === 'error').length);
      expect(falSubmits).toBeLessThan(onFal.length);
      expect(['open', 'half_open']).toContain(await breakerState());
      expect(await breakerMetric()).toBeGreaterThanOrEqual(1);
      console.log(
        `breaker: ${jobs.length} jobs in ${Date.now() - started} ms; fal attempts ${onFal.join(' ')}; ${falSubmits} reached fal`,
      );
    } finally {
      fal.clearFaults();
    }

    // fal is healthy again: after the reset timeout one probe goes through and closes the breaker.
    await new Promise((r) => setTimeout(r, RESET_MS + 300));
    const probe = await run(c, { model: 'flux-schnell', prompt: 'probe after the outage' });
    expect(probe).toMatchObject({ status: 'succeeded', provider: 'fal' });
    expect(outcomes(probe)).toEqual(['fal:success']);
    await waitFor(breakerState, (s) => s === 'closed', 10_000);
    expect(await breakerMetric()).toBe(0);
    for (const [, model] of strategies.slice(0, 2)) {
      const after = await run(c, { model, prompt: `${model} back to normal` });
      expect(after).toMatchObject({ status: 'succeeded', provider: 'fal' });
    }
  });
});

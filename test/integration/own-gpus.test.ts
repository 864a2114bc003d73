import path from 'node:path';
import { createComfyuiFake, type ComfyuiFake } from '../fakes/comfyui-fake';
import { MidjourneyProxyFake } from '../fakes/midjourney-proxy-fake';
import { createTogetherFake } from '../fakes/together-fake';
import { METRICS_TOKEN, startTestEasel, type TestEasel } from '../support/easel';
import { waitFor, writeConfig } from '../support/config';
import type { JobView } from '../../core/jobs/view';
import { imageDimensions } from '../../platform/image-store';

process.env.TEST_TOGETHER_KEY = 'together-test-key';
process.env.TEST_MJ_PROXY_SECRET = 'mj-test-secret';

const TEMPLATE_FILE = path.resolve(__dirname, '..', 'fixtures', 'comfyui', 'flux2-dev.json');

/** The FLUX.2 dev template's request inputs (docs/self-hosted-gpus.md shows the same map). */
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

const comfyDeployment = (
  fake: ComfyuiFake,
  extra: Record<string, unknown> = {},
): Record<string, unknown> => ({
  id: 'gpu-box',
  type: 'comfyui',
  base_url: fake.url,
  // The fake listens on loopback: the deployment opts in to private addresses.
  allow_private_network: true,
  priority: 1,
  timeout_ms: 30_000,
  breaker: { volume_threshold: 100 },
  // Amortised GPU cost of one image (the box's cost per hour / images per hour).
  models: { 'flux-2-dev': { upstream_model: 'flux2-dev', cost_usd_micros: 2_000 } },
  options: {
    templates: { 'flux2-dev': { file: TEMPLATE_FILE, inputs: FLUX2_INPUTS } },
    poll_interval_ms: 100,
  },
  ...extra,
});

type Job = JobView & { error: { code: string; message?: string } | null };

interface Harness {
  easel: TestEasel;
  key: string;
}

async function harness(config: unknown): Promise<Harness> {
  const easel = await startTestEasel({ env: { EASEL_CONFIG: writeConfig(config) } });
  const account = await easel.newAccount('scale-2');
  await easel.admin('PATCH', `/accounts/${account.id}`, {
    rate_limits: { requests_per_second: 1_000, concurrent_jobs: 1_000 },
  });
  return { easel, key: account.key };
}

const submit = async (h: Harness, body: Record<string, unknown>): Promise<Job> => {
  const r = await h.easel.call<Job>('POST', '/v1/imagine', { token: h.key, body });
  expect(r.status).toBe(202);
  return r.body;
};
const getJob = (h: Harness, id: string, wait = 0): Promise<Job> =>
  h.easel.call<Job>('GET', `/v1/jobs/${id}?wait=${wait}`, { token: h.key }).then((r) => r.body);
const TERMINAL = ['succeeded', 'failed', 'canceled'];
const finished = (h: Harness, id: string): Promise<Job> =>
  waitFor(
    () => getJob(h, id, 20),
    (j) => TERMINAL.includes(j.status),
    60_000,
  );
/** Jobs polled one at a time: an account may have only a few reads in flight. */
const allFinished = (h: Harness, ids: string[]): Promise<Job[]> =>
  waitFor(
    async () => {
      const jobs: Job[] = [];
      for (const id of ids) jobs.push(await getJob(h, id));
      return jobs;
    },
    (jobs) => jobs.every((j) => TERMINAL.includes(j.status)),
    60_000,
    250,
  );
const balance = async (h: Harness): Promise<{ available: number; held: number }> =>
  (
    await h.easel.call<{ balance: { available: number; held: number } }>('GET', '/v1/account', {
      token: h.key,
    })
  ).body.balance;
const metric = async (easel: TestEasel, pattern: RegExp): Promise<number> => {
  const text = (await easel.call<string>('GET', '/metrics', { token: METRICS_TOKEN })).body;
  return text
    .split('\n')
    .filter((l) => pattern.test(l))
    .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);
};

/** The graph the fake queued for a job, found by its (unique) prompt text. */
type Graph = Record<string, { class_type: string; inputs: Record<string, unknown> }>;
function graphFor(fake: ComfyuiFake, prompt: string): { id: string; graph: Graph }[] {
  return fake.prompts
    .filter((p) => (p.body.prompt as Graph)['6']?.inputs.text === prompt)
    .map((p) => ({ id: p.id, graph: p.body.prompt as Graph }));
}

/**
 * The team's own GPUs end to end: a ComfyUI box (the fake) serving flux-2-dev through the FLUX.2
 * dev template, first in line and limited to its capacity, a hosted provider (the Together fake)
 * taking the overflow, and a self-hosted midjourney-proxy.
 */
describe('own GPUs: ComfyUI first, hosted overflow, midjourney-proxy', () => {
  const comfy = createComfyuiFake({ concurrency: 4, runMs: 300 });
  const together = createTogetherFake({ apiKey: 'together-test-key', latencyMs: 100 });
  const mj = new MidjourneyProxyFake({ secret: 'mj-test-secret', bannedWords: ['forbidden'] });
  let h: Harness;

  beforeAll(async () => {
    await Promise.all([comfy.start(), together.start(), mj.start()]);
    h = await harness({
      providers: {
        routing: { 'flux-2-dev': { strategy: 'priority' } },
        deployments: [
          comfyDeployment(comfy, { max_concurrency: 2, overflow: 'fallback' }),
          {
            id: 'together',
            type: 'together',
            base_url: together.url,
            allow_private_network: true,
            api_key_env: 'TEST_TOGETHER_KEY',
            priority: 2,
            timeout_ms: 10_000,
            models: {
              'flux-2-dev': { upstream_model: 'black-forest-labs/FLUX.2-dev', cost_usd_micros: 15_400 },
            },
          },
          {
            id: 'mj-proxy',
            type: 'midjourney-proxy',
            base_url: mj.url,
            allow_private_network: true,
            api_key_env: 'TEST_MJ_PROXY_SECRET',
            timeout_ms: 20_000,
            models: { midjourney: { upstream_model: 'midjourney-v7', cost_usd_micros: 66_667 } },
            options: { poll_interval_ms: 100 },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await h?.easel.stop();
    await Promise.all([comfy.close(), together.close(), mj.close()]);
  });

  it('runs flux-2-dev on ComfyUI through the template: prompt, seed and size where the template says', async () => {
    const prompt = 'a red fox in fresh snow, template test';
    const submitted = await submit(h, {
      model: 'flux-2-dev',
      prompt,
      seed: 424_242,
      aspect_ratio: '16:9',
      n: 2,
    });
    const job = await finished(h, submitted.id);
    expect(job).toMatchObject({ status: 'succeeded', provider: 'gpu-box', credits_charged: 2 });
    expect(job.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual(['gpu-box:success']);

    const [queued, ...again] = graphFor(comfy, prompt);
    expect(again).toHaveLength(0);
    const graph = queued!.graph;
    const inputs = (node: string): Record<string, unknown> => graph[node]?.inputs ?? {};
    expect(inputs('6').text).toBe(prompt);
    expect(inputs('25').noise_seed).toBe(424_242);
    // 16:9 at the 1024 long side, rounded to 16: the latent and the scheduler agree.
    expect(inputs('47')).toMatchObject({ width: 1024, height: 576, batch_size: 2 });
    expect(inputs('48')).toMatchObject({ width: 1024, height: 576 });
    // Everything else is the template's own.
    expect(inputs('1').unet_name).toBe('flux2_dev_fp8mixed.safetensors');
    expect(inputs('48').steps).toBe(20);

    expect(job.images).toHaveLength(2);
    for (const image of job.images) {
      expect(image).toMatchObject({ content_type: 'image/png', width: 1024, height: 576 });
      const res = await fetch(image.url);
      expect(res.status).toBe(200);
      expect(imageDimensions(new Uint8Array(await res.arrayBuffer()))).toEqual({ width: 1024, height: 576 });
    }
  });

  it('cancels a running prompt with an interrupt and a queued one with a delete; credits released', async () => {
    const before = await balance(h);
    comfy.options.runMs = 10_000;
    try {
      const prompt = 'a slow lighthouse to be interrupted';
      const submitted = await submit(h, { model: 'flux-2-dev', prompt });
      const promptId = await waitFor(
        async () => graphFor(comfy, prompt)[0]?.id,
        (id) => id !== undefined && comfy.runningIds.includes(id),
        20_000,
        50,
      );
      const answer = await h.easel.call<Job>('POST', `/v1/jobs/${submitted.id}/cancel`, { token: h.key });
      expect(answer.status).toBe(200);
      expect(answer.body.status).toBe('canceled');
      await waitFor(
        async () => comfy.interrupts,
        (list) => list.some((i) => i.promptId === promptId),
        5_000,
        50,
      );
      expect(comfy.interrupts.filter((i) => i.promptId === promptId)).toEqual([
        { promptId, interrupted: promptId },
      ]);
      expect(comfy.runningIds).not.toContain(promptId);
      const job = await waitFor(
        () => getJob(h, submitted.id),
        (j) => j.attempts.some((a) => a.upstream_cancel !== undefined),
        10_000,
      );
      expect(job).toMatchObject({ status: 'canceled', credits_charged: 0 });
      expect(job.attempts.at(-1)).toMatchObject({ provider: 'gpu-box', upstream_cancel: 'cancelled' });
      expect(await balance(h)).toEqual(before);
    } finally {
      comfy.options.runMs = 300;
    }

    // A prompt still waiting in ComfyUI's queue (the box runs nothing new) is deleted from it.
    comfy.options.concurrency = 0;
    try {
      const prompt = 'a queued lighthouse to be deleted';
      const submitted = await submit(h, { model: 'flux-2-dev', prompt });
      const promptId = await waitFor(
        async () => graphFor(comfy, prompt)[0]?.id,
        (id) => id !== undefined && comfy.pendingIds.includes(id),
        20_000,
        50,
      );
      const answer = await h.easel.call<Job>('POST', `/v1/jobs/${submitted.id}/cancel`, { token: h.key });
      expect(answer.body.status).toBe('canceled');
      await waitFor(
        async () => comfy.deletes,
        (list) => list.includes(promptId!),
        5_000,
        50,
      );
      expect(comfy.pendingIds).not.toContain(promptId);
      expect(comfy.interrupts.some((i) => i.promptId === promptId)).toBe(false);
      const job = await waitFor(
        () => getJob(h, submitted.id),
        (j) => j.attempts.some((a) => a.upstream_cancel !== undefined),
        10_000,
      );
      expect(job.attempts.at(-1)).toMatchObject({ provider: 'gpu-box', upstream_cancel: 'cancelled' });
      expect(await balance(h)).toEqual(before);
    } finally {
      comfy.options.concurrency = 4;
    }
  });

  it('never runs more than max_concurrency (2) on the GPU box; the overflow goes to the hosted provider', async () => {
    comfy.maxConcurrent = 0;
    comfy.options.runMs = 1_500;
    const fallbacksBefore = await metric(
      h.easel,
      /^easel_provider_fallbacks_total\{.*from_provider="gpu-box".*to_provider="together"/,
    );
    const togetherBefore = together.submissions.length;
    let observed = 0;
    const sampler = setInterval(() => (observed = Math.max(observed, comfy.runningCount)), 20);
    try {
      const prompts = Array.from({ length: 10 }, (_, i) => `overflow test ${i}`);
      const submitted = await Promise.all(
        prompts.map((prompt) => submit(h, { model: 'flux-2-dev', prompt })),
      );
      const jobs = await allFinished(
        h,
        submitted.map((j) => j.id),
      );
      expect(jobs.map((j) => j.status)).toEqual(prompts.map(() => 'succeeded'));
      const onGpu = jobs.filter((j) => j.provider === 'gpu-box');
      const hosted = jobs.filter((j) => j.provider === 'together');
      console.log(
        `overflow: ${onGpu.length} on gpu-box, ${hosted.length} on together; fake max concurrent ${comfy.maxConcurrent}`,
      );
      expect(onGpu.length + hosted.length).toBe(10);
      expect(onGpu.length).toBeGreaterThanOrEqual(2);
      expect(hosted.length).toBeGreaterThanOrEqual(1);
      expect(comfy.maxConcurrent).toBeLessThanOrEqual(2);
      expect(observed).toBeLessThanOrEqual(2);
      // Every job was queued on exactly one upstream.
      for (const job of jobs) {
        const gpuPrompts = graphFor(comfy, job.prompt).length;
        const hostedPrompts = together.submissions.filter((s) => s.body.prompt === job.prompt).length;
        expect([job.provider, gpuPrompts, hostedPrompts]).toEqual(
          job.provider === 'gpu-box' ? ['gpu-box', 1, 0] : ['together', 0, 1],
        );
      }
      expect(together.submissions.length - togetherBefore).toBe(hosted.length);
      // A job that overflowed says so: the GPU box was full, the hosted provider made it.
      for (const job of hosted) {
        expect(job.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual([
          'gpu-box:rate_limited',
          'together:success',
        ]);
        expect(job.attempts[0]!.error).toContain('max_concurrency');
      }
      expect(
        await metric(
          h.easel,
          /^easel_provider_fallbacks_total\{.*from_provider="gpu-box".*to_provider="together"/,
        ),
      ).toBe(fallbacksBefore + hosted.length);
    } finally {
      clearInterval(sampler);
      comfy.options.runMs = 300;
    }
  });

  it('fails a job over to the hosted provider when ComfyUI restarts and loses its queue', async () => {
    comfy.options.runMs = 10_000;
    try {
      const prompt = 'a lighthouse lost in a restart';
      const submitted = await submit(h, { model: 'flux-2-dev', prompt });
      await waitFor(
        async () => graphFor(comfy, prompt)[0]?.id,
        (id) => id !== undefined && comfy.runningIds.includes(id),
        20_000,
        50,
      );
      comfy.restart();
      const job = await finished(h, submitted.id);
      expect(job).toMatchObject({ status: 'succeeded', provider: 'together', credits_charged: 1 });
      expect(job.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual([
        'gpu-box:error',
        'together:success',
      ]);
      expect(job.attempts[0]!.error).toContain('ComfyUI restarted');
      expect(graphFor(comfy, prompt)).toHaveLength(1);
    } finally {
      comfy.options.runMs = 300;
    }
  });

  it('returns a Midjourney grid and its four candidates, charged once', async () => {
    const before = await balance(h);
    const submitted = await submit(h, { model: 'midjourney', prompt: 'an editorial portrait, soft light' });
    expect(submitted.credits_reserved).toBe(4);
    const job = await finished(h, submitted.id);
    expect(job).toMatchObject({ status: 'succeeded', provider: 'mj-proxy', credits_charged: 4 });
    expect(job.images.map((i) => i.role)).toEqual([
      'grid',
      'candidate',
      'candidate',
      'candidate',
      'candidate',
    ]);
    const grid = job.images[0]!;
    for (const candidate of job.images.slice(1)) {
      // Each candidate is a quarter of the 2×2 grid.
      expect(candidate.width * 2).toBe(grid.width);
      expect(candidate.height * 2).toBe(grid.height);
    }
    for (const image of job.images) expect((await fetch(image.url)).status).toBe(200);
    expect(mj.submissionCount('imagine')).toBe(1);
    expect(mj.submissionCount('change')).toBe(4);
    expect(mj.submissions.every((s) => s.secret === 'mj-test-secret')).toBe(true);
    const after = await balance(h);
    expect(after).toMatchObject({ available: before.available - 4, held: before.held });
  });

  it('fails a Midjourney prompt with a banned word (code 24) as content_policy and releases its credits', async () => {
    const before = await balance(h);
    const submitted = await submit(h, { model: 'midjourney', prompt: 'a forbidden scene' });
    const job = await finished(h, submitted.id);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ code: 'content_policy' });
    expect(job.credits_charged).toBe(0);
    const refused = mj.submissions.filter((s) => s.code === 24);
    expect(refused).toHaveLength(1);
    expect(String(refused[0]!.body.prompt)).toContain('a forbidden scene');
    expect(await balance(h)).toEqual(before);
  });
});

describe('own GPUs with overflow: wait and no other deployment', () => {
  const comfy = createComfyuiFake({ concurrency: 4, runMs: 400 });
  let h: Harness;

  beforeAll(async () => {
    await comfy.start();
    h = await harness({
      providers: {
        routing: { 'flux-2-dev': { strategy: 'least_busy' } },
        deployments: [comfyDeployment(comfy, { max_concurrency: 2, overflow: 'wait' })],
      },
    });
  });
  afterAll(async () => {
    await h?.easel.stop();
    await comfy.close();
  });

  it('runs all 10 jobs on the GPU box, never more than 2 at once', async () => {
    let observed = 0;
    const sampler = setInterval(() => (observed = Math.max(observed, comfy.runningCount)), 20);
    try {
      const prompts = Array.from({ length: 10 }, (_, i) => `wait test ${i}`);
      const submitted = await Promise.all(
        prompts.map((prompt) => submit(h, { model: 'flux-2-dev', prompt })),
      );
      const jobs = await allFinished(
        h,
        submitted.map((j) => j.id),
      );
      console.log(`wait: fake max concurrent ${comfy.maxConcurrent}, sampled ${observed}`);
      expect(jobs.map((j) => `${j.status}:${j.provider}`)).toEqual(prompts.map(() => 'succeeded:gpu-box'));
      for (const job of jobs) {
        expect(job.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual(['gpu-box:success']);
        expect(graphFor(comfy, job.prompt)).toHaveLength(1);
      }
      expect(comfy.prompts).toHaveLength(10);
      // The limit is Easel's: the fake would have run 4 at once.
      expect(comfy.maxConcurrent).toBe(2);
      expect(observed).toBeLessThanOrEqual(2);
    } finally {
      clearInterval(sampler);
    }
  });
});

describe('own GPUs with least_busy: two ComfyUI boxes at one prompt each, then the hosted provider', () => {
  const boxA = createComfyuiFake({ concurrency: 4, runMs: 2_500 });
  const boxB = createComfyuiFake({ concurrency: 4, runMs: 2_500 });
  const together = createTogetherFake({ apiKey: 'together-test-key', latencyMs: 100 });
  let h: Harness;

  beforeAll(async () => {
    await Promise.all([boxA.start(), boxB.start(), together.start()]);
    h = await harness({
      providers: {
        routing: { 'flux-2-dev': { strategy: 'least_busy' } },
        deployments: [
          comfyDeployment(boxA, { id: 'gpu-a', max_concurrency: 1 }),
          comfyDeployment(boxB, { id: 'gpu-b', max_concurrency: 1 }),
          {
            id: 'together',
            type: 'together',
            base_url: together.url,
            allow_private_network: true,
            api_key_env: 'TEST_TOGETHER_KEY',
            priority: 2,
            timeout_ms: 10_000,
            models: {
              'flux-2-dev': { upstream_model: 'black-forest-labs/FLUX.2-dev', cost_usd_micros: 15_400 },
            },
          },
        ],
      },
    });
  });
  afterAll(async () => {
    await h?.easel.stop();
    await Promise.all([boxA.close(), boxB.close(), together.close()]);
  });

  it('sends a job to an idle GPU box while there is one, and to the hosted provider only when both are busy', async () => {
    const running = (): number => boxA.runningCount + boxB.runningCount;
    const first = await submit(h, { model: 'flux-2-dev', prompt: 'least busy 1' });
    await waitFor(
      async () => running(),
      (n) => n === 1,
      10_000,
      50,
    );
    const second = await submit(h, { model: 'flux-2-dev', prompt: 'least busy 2' });
    await waitFor(
      async () => running(),
      (n) => n === 2,
      10_000,
      50,
    );
    expect([boxA.runningCount, boxB.runningCount]).toEqual([1, 1]);
    const third = await submit(h, { model: 'flux-2-dev', prompt: 'least busy 3' });
    const jobs = await allFinished(h, [first.id, second.id, third.id]);
    expect(jobs.map((j) => j.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect(new Set(jobs.slice(0, 2).map((j) => j.provider))).toEqual(new Set(['gpu-a', 'gpu-b']));
    expect(jobs[2]!.provider).toBe('together');
    // Chosen as least busy, not refused at capacity: the hosted job's only attempt is its success.
    expect(jobs[2]!.attempts.map((a) => `${a.provider}:${a.outcome}`)).toEqual(['together:success']);
    expect(boxA.prompts.length + boxB.prompts.length).toBe(2);
    expect(together.submissions).toHaveLength(1);
  });
});

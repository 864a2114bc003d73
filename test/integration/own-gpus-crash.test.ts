import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type mongoose from 'mongoose';
import { JobStore } from '../../core/jobs/store';
import { createComfyuiFake } from '../fakes/comfyui-fake';
import { freshDatabase } from '../support/db';
import { requireDevStack, startTestEasel, type TestEasel } from '../support/easel';
import { waitFor, writeConfig } from '../support/config';
import { killProcess, startWorkerProcess } from '../support/easel-process';
import type { JobView } from '../../core/jobs/view';

const TEMPLATE_FILE = path.resolve(__dirname, '..', 'fixtures', 'comfyui', 'flux2-dev.json');

describe('a worker killed while ComfyUI runs its prompts', () => {
  // Long enough that the prompts are still running when the worker dies.
  const comfy = createComfyuiFake({ concurrency: 4, runMs: 6_000 });
  let easel: TestEasel;
  let workerEnv: Record<string, string>;
  let worker: ChildProcess | undefined;
  let db: mongoose.Connection;

  beforeAll(async () => {
    await comfy.start();
    const config = writeConfig({
      providers: {
        deployments: [
          {
            id: 'gpu-box',
            type: 'comfyui',
            base_url: comfy.url,
            // The fake listens on loopback: the deployment opts in to private addresses.
            allow_private_network: true,
            timeout_ms: 120_000,
            models: { 'flux-2-dev': { upstream_model: 'flux2-dev', cost_usd_micros: 2_000 } },
            options: {
              poll_interval_ms: 250,
              templates: {
                'flux2-dev': {
                  file: TEMPLATE_FILE,
                  inputs: {
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
                  },
                },
              },
            },
          },
        ],
      },
    });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-gpu-crash-'));
    easel = await startTestEasel({ role: 'api', env: { EASEL_CONFIG: config, EASEL_DATA_DIR: dataDir } });
    db = await freshDatabase(easel.dbName);
    const stack = requireDevStack();
    workerEnv = {
      MONGODB_URI: `${stack.mongoUri}${easel.dbName}`,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: easel.taskQueue,
      EASEL_CONFIG: config,
      EASEL_DATA_DIR: dataDir,
    };
  });
  afterAll(async () => {
    if (worker) await killProcess(worker, 'SIGTERM');
    await db?.close();
    await easel?.stop();
    await comfy.close();
  });

  it('resumes from /history on a new worker: every job succeeds, each prompt queued once', async () => {
    worker = await startWorkerProcess(workerEnv);
    const { key } = await easel.newAccount('scale-2');
    const prompts = Array.from({ length: 3 }, (_, i) => `gpu crash test ${i}`);
    const ids: string[] = [];
    for (const [i, prompt] of prompts.entries()) {
      const r = await easel.call<JobView>('POST', '/v1/imagine', {
        token: key,
        body: { model: 'flux-2-dev', prompt, seed: 1_000 + i, aspect_ratio: '3:2' },
      });
      expect(r.status).toBe(202);
      ids.push(r.body.id);
    }
    // Every job has recorded its prompt id, and ComfyUI is running every prompt.
    const store = new JobStore(db);
    await waitFor(
      () => Promise.all(ids.map((id) => store.get(id))),
      (docs) => docs.every((d) => Boolean(d?.upstream?.job_id)),
      30_000,
    );
    expect(comfy.prompts).toHaveLength(3);
    expect(comfy.runningCount).toBe(3);

    await killProcess(worker, 'SIGKILL');
    const afterKill = comfy.requests.length;
    worker = await startWorkerProcess(workerEnv);

    const jobs = await waitFor(
      async () => {
        const all: JobView[] = [];
        for (const id of ids)
          all.push((await easel.call<JobView>('GET', `/v1/jobs/${id}`, { token: key })).body);
        return all;
      },
      (all) => all.every((j) => j.status === 'succeeded' || j.status === 'failed'),
      90_000,
      500,
    );
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));
    // One prompt per job: the new worker polled the prompt the dead one had queued.
    expect(comfy.prompts).toHaveLength(3);
    for (const [i, prompt] of prompts.entries()) {
      const queued = comfy.prompts.filter(
        (p) =>
          (p.body.prompt as Record<string, { inputs: Record<string, unknown> }>)['6']?.inputs.text === prompt,
      );
      expect(queued).toHaveLength(1);
      const graph = queued[0]!.body.prompt as Record<string, { inputs: Record<string, unknown> }>;
      expect(graph['25']!.inputs.noise_seed).toBe(1_000 + i);
      expect(graph['47']!.inputs).toMatchObject({ width: 1024, height: 688 });
    }
    // The new worker read each prompt's /history (by the id the dead one recorded) and queued nothing.
    const sinceKill = comfy.requests.slice(afterKill);
    for (const { id } of comfy.prompts) {
      expect(sinceKill.some((r) => r.method === 'GET' && r.path === `/history/${id}`)).toBe(true);
    }
    expect(sinceKill.filter((r) => r.path === '/prompt')).toEqual([]);
    for (const j of jobs) {
      expect(j).toMatchObject({ provider: 'gpu-box', credits_charged: 1 });
      expect(j.images).toHaveLength(1);
      expect(j.images[0]).toMatchObject({ width: 1024, height: 688 });
      expect((await fetch(j.images[0]!.url)).status).toBe(200);
    }
    const audit = await easel.admin<{ violations: unknown[] }>('POST', '/audit');
    expect(audit.body.violations).toEqual([]);
  });
});

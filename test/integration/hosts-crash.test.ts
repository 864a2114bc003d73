import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type mongoose from 'mongoose';
import { JobStore } from '../../core/jobs/store';
import { FalFake } from '../fakes/fal-fake';
import { freshDatabase } from '../support/db';
import { requireDevStack, startTestEasel, type TestEasel } from '../support/easel';
import { waitFor, writeConfig } from '../support/config';
import { killProcess, startWorkerProcess } from '../support/easel-process';
import type { JobView } from '../../core/jobs/view';
import { ZERO_CONFIG_DEPLOYMENTS } from '../../routing/zero-config';

const FAL_KEY = 'fal-crash-key';

describe('a worker SIGKILLed while its fal requests wait in fal’s queue', () => {
  // Two runners, 2.5 s a request: of eight requests six wait IN_QUEUE at first, and the last
  // ones still do when the new worker picks them up.
  const fal = new FalFake({ apiKey: FAL_KEY, concurrency: 2, runMs: 2_500 });
  let easel: TestEasel;
  let workerEnv: Record<string, string>;
  let worker: ChildProcess | undefined;
  let db: mongoose.Connection;

  beforeAll(async () => {
    await fal.start();
    const upstream = ZERO_CONFIG_DEPLOYMENTS.find((d) => d.id === 'fal')!.models['flux-2-dev']!;
    const config = writeConfig({
      providers: {
        deployments: [
          {
            id: 'fal',
            type: 'fal',
            base_url: fal.url,
            // The fake listens on loopback: the deployment opts in to private addresses.
            allow_private_network: true,
            api_key_env: 'TEST_CRASH_FAL_KEY',
            models: {
              'flux-2-dev': {
                upstream_model: upstream.upstream_model,
                cost_usd_micros: upstream.cost_usd_micros,
              },
            },
            timeout_ms: 120_000,
            options: { poll_interval_ms: 250 },
          },
        ],
      },
    });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-hosts-crash-'));
    easel = await startTestEasel({ role: 'api', env: { EASEL_CONFIG: config, EASEL_DATA_DIR: dataDir } });
    db = await freshDatabase(easel.dbName);
    const stack = requireDevStack();
    workerEnv = {
      MONGODB_URI: `${stack.mongoUri}${easel.dbName}`,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: easel.taskQueue,
      EASEL_CONFIG: config,
      EASEL_DATA_DIR: dataDir,
      TEST_CRASH_FAL_KEY: FAL_KEY,
    };
  });
  afterAll(async () => {
    if (worker) await killProcess(worker, 'SIGTERM');
    await db?.close();
    await easel?.stop();
    await fal.close();
  });

  it('resumes every IN_QUEUE request on a new worker: each submitted to fal once, all succeed, the ledger sound', async () => {
    const started = Date.now();
    worker = await startWorkerProcess(workerEnv);
    const { key } = await easel.newAccount('scale-2');
    const balance = async () =>
      (
        await easel.call<{ balance: { available: number; held: number } }>('GET', '/v1/account', {
          token: key,
        })
      ).body.balance;
    const before = await balance();
    const prompts = Array.from({ length: 8 }, (_, i) => `queued at fal ${i}`);
    const ids: string[] = [];
    for (const prompt of prompts) {
      const r = await easel.call<JobView>('POST', '/v1/imagine', {
        token: key,
        body: { model: 'flux-2-dev', prompt },
      });
      expect(r.status).toBe(202);
      ids.push(r.body.id);
    }
    // Every job has recorded its fal request (the upstream job id is saved before any polling).
    const store = new JobStore(db);
    await waitFor(
      () => Promise.all(ids.map((id) => store.get(id))),
      (docs) => docs.every((d) => Boolean(d?.upstream?.job_id)),
      30_000,
    );
    expect(fal.submissions).toHaveLength(8);
    const queuedAtKill = fal.submissions.filter((s) => fal.stateOf(s.id) === 'IN_QUEUE').length;
    expect(queuedAtKill).toBeGreaterThanOrEqual(4);

    await killProcess(worker, 'SIGKILL');
    const killedAt = Date.now();
    worker = await startWorkerProcess(workerEnv);
    const queuedAtRestart = fal.submissions.filter((s) => fal.stateOf(s.id) === 'IN_QUEUE').length;

    const jobs = await waitFor(
      // One read at a time: an account may have only a few reads in flight.
      async () => {
        const all: JobView[] = [];
        for (const id of ids)
          all.push((await easel.call<JobView>('GET', `/v1/jobs/${id}`, { token: key })).body);
        return all;
      },
      (all) => all.every((j) => ['succeeded', 'failed', 'canceled'].includes(j.status)),
      60_000,
      500,
    );
    expect(jobs.map((j) => j.status)).toEqual(ids.map(() => 'succeeded'));
    // No second submission: one fal request per job, each job served by the request it made.
    expect(fal.submissions).toHaveLength(8);
    for (const prompt of prompts)
      expect(fal.submissions.filter((s) => s.body.prompt === prompt)).toHaveLength(1);
    for (const j of jobs) {
      expect(j).toMatchObject({ provider: 'fal', credits_charged: 1 });
      expect(j.attempts.filter((a) => a.outcome === 'success')).toHaveLength(1);
      const res = await fetch(j.images[0]!.url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe(j.images[0]!.content_type);
    }
    expect(await balance()).toMatchObject({ available: before.available - 8, held: 0 });
    const audit = await easel.admin<{ violations: unknown[] }>('POST', '/audit');
    expect(audit.body.violations).toEqual([]);
    console.log(
      `8 jobs; ${queuedAtKill} IN_QUEUE at the SIGKILL, ${queuedAtRestart} still when the new worker was up ` +
        `(${Date.now() - killedAt} ms from kill to all done, ${Date.now() - started} ms in all)`,
    );
  });
});

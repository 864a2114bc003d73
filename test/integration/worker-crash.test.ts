import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type mongoose from 'mongoose';
import { JobStore } from '../../core/jobs/store';
import { BflFake } from '../fakes/bfl-fake';
import { freshDatabase } from '../support/db';
import { requireDevStack, startTestEasel, type TestEasel } from '../support/easel';
import { bflDeployment, waitFor, writeConfig } from '../support/config';
import { killProcess, startWorkerProcess } from '../support/easel-process';
import type { JobView } from '../../core/jobs/view';

describe('a worker killed while jobs are in flight on an asynchronous upstream', () => {
  const fake = new BflFake({ apiKey: 'bfl-test-key', pendingMs: 5_000 });
  let easel: TestEasel;
  let workerEnv: Record<string, string>;
  let worker: ChildProcess | undefined;
  let db: mongoose.Connection;

  beforeAll(async () => {
    await fake.start();
    const config = writeConfig({
      providers: {
        deployments: [
          bflDeployment('bfl-main', fake, { timeout_ms: 120_000, options: { poll_interval_ms: 250 } }),
        ],
      },
    });
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-crash-'));
    easel = await startTestEasel({ role: 'api', env: { EASEL_CONFIG: config, EASEL_DATA_DIR: dataDir } });
    db = await freshDatabase(easel.dbName);
    const stack = requireDevStack();
    workerEnv = {
      MONGODB_URI: `${stack.mongoUri}${easel.dbName}`,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: easel.taskQueue,
      EASEL_CONFIG: config,
      EASEL_DATA_DIR: dataDir,
      TEST_BFL_KEY: 'bfl-test-key',
    };
  });
  afterAll(async () => {
    if (worker) await killProcess(worker, 'SIGTERM');
    await db?.close();
    await easel?.stop();
    await fake.close();
  });

  it('resumes polling the same upstream jobs on a new worker: every job succeeds, each submitted once, the ledger sound', async () => {
    worker = await startWorkerProcess(workerEnv);
    const { key } = await easel.newAccount('scale-2');
    const prompts = Array.from({ length: 20 }, (_, i) => `crash test ${i}`);
    const ids: string[] = [];
    for (const prompt of prompts) {
      const r = await easel.call<JobView>('POST', '/v1/imagine', {
        token: key,
        body: { model: 'flux-2-dev', prompt },
      });
      expect(r.status).toBe(202);
      ids.push(r.body.id);
    }
    // Every job is now waiting on its upstream task, whose id it has recorded. (A worker killed
    // between the upstream's answer and that write submits again on retry: the upstream API has
    // no idempotency key. That window is not what this test is about.)
    const store = new JobStore(db);
    await waitFor(
      () => Promise.all(ids.map((id) => store.get(id))),
      (docs) => docs.every((d) => Boolean(d?.upstream?.job_id)),
      30_000,
    );
    expect(fake.submissions).toHaveLength(20);

    await killProcess(worker, 'SIGKILL');
    worker = await startWorkerProcess(workerEnv);

    const jobs = await waitFor(
      // One read at a time: an account may have only a few reads in flight.
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
    for (const prompt of prompts) expect(fake.submissionCount(prompt)).toBe(1);
    expect(fake.submissions).toHaveLength(20);
    for (const j of jobs) {
      expect(j).toMatchObject({ provider: 'bfl-main', credits_charged: 1 });
      expect((await fetch(j.images[0]!.url)).status).toBe(200);
    }
    const audit = await easel.admin<{ violations: unknown[] }>('POST', '/audit');
    expect(audit.body.violations).toEqual([]);
  });
});

import type mongoose from 'mongoose';
import { JobStore } from '../../core/jobs/store';
import { startTestEasel, type TestEasel } from '../support/easel';
import { sandboxProviders, waitFor, writeConfig } from '../support/config';
import { freshDatabase } from '../support/db';
import type { JobView } from '../../core/jobs/view';

describe('a submission whose API stopped between writing the job and starting its workflow', () => {
  let easel: TestEasel;
  let db: mongoose.Connection;
  beforeAll(async () => {
    easel = await startTestEasel({
      env: {
        EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 50 }) }),
        EASEL_UNSTARTED_JOB_AFTER_MS: '1000',
      },
    });
    db = await freshDatabase(easel.dbName);
  });
  afterAll(async () => {
    await db?.close();
    await easel?.stop();
  });

  it('is started by the worker sweep and runs to a charged success', async () => {
    const { id, key } = await easel.newAccount('pro');
    const jobId = 'job_orphaned_by_a_killed_api_0001';
    // What the API leaves behind when killed after its two writes: a hold and a queued job.
    await easel.ledger.reserve(id, jobId, 2, 10);
    await new JobStore(db).create({
      _id: jobId,
      account_id: id,
      plan: 'pro',
      status: 'queued',
      model: 'nano-banana',
      request: { requested_model: 'nano-banana', prompt: 'left behind', n: 1, aspect_ratio: '1:1' },
      request_hash: 'hash-of-the-request',
      credits_reserved: 2,
      credits_charged: 0,
      images: [],
      attempts: [],
    });
    const held = await easel.call<{ balance: { held: number } }>('GET', '/v1/account', { token: key });
    expect(held.body.balance.held).toBe(2);

    const done = await waitFor(
      () => easel.call<JobView>('GET', `/v1/jobs/${jobId}?wait=5`, { token: key }).then((r) => r.body),
      (j) => j.status === 'succeeded',
      30_000,
    );
    expect(done.credits_charged).toBe(2);
    const after = await easel.call<{ balance: { held: number; captured: number } }>('GET', '/v1/account', {
      token: key,
    });
    expect(after.body.balance).toMatchObject({ held: 0, captured: 2 });
    const audit = await easel.admin<{ violations: unknown[] }>('POST', '/audit');
    expect(audit.body.violations).toEqual([]);
  });
});

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
        EASEL_FAILPOINTS: 'true',
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
    const { reservation } = await easel.ledger.reserve({
      accountId: id,
      jobId,
      credits: 2,
      requestHash: 'hash-of-the-request',
      maxOpenReservations: 10,
    });
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
      reservation,
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

  it('is cancelled, not run, when its client cancels it before the sweep starts it', async () => {
    const { key } = await easel.newAccount('pro');
    const submitted = await easel.call<{ error: { code: string } }>('POST', '/v1/imagine', {
      token: key,
      body: {
        model: 'nano-banana',
        prompt: 'cancelled before it ever started, else runs until stopped [timeout]',
      },
      headers: { 'Idempotency-Key': 'stopped-after-write', 'Easel-Failpoint': 'submit.after_job_write=fail' },
    });
    expect(submitted.status).toBe(500);
    // The job was written, queued, without a workflow.
    const listed = await easel.call<{ data: JobView[] }>('GET', '/v1/jobs', { token: key });
    const found = listed.body.data[0]!;
    expect(found).toMatchObject({ status: 'queued', credits_reserved: 2 });
    const cancelled = await easel.call<JobView>('POST', `/v1/jobs/${found.id}/cancel`, { token: key });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'canceled', credits_charged: 0, images: [] });
    const after = await easel.call<{ balance: { held: number; captured: number } }>('GET', '/v1/account', {
      token: key,
    });
    expect(after.body.balance).toMatchObject({ held: 0, captured: 0 });
    const audit = await easel.admin<{ violations: unknown[] }>('POST', '/audit');
    expect(audit.body.violations).toEqual([]);
  });
});

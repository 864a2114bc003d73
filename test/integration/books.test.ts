import type { ChildProcess } from 'node:child_process';
import type mongoose from 'mongoose';
import { Ledger } from '../../core/ledger/ledger';
import type { JobView } from '../../core/jobs/view';
import { freePort } from '../../platform/net';
import { freshDatabase } from '../support/db';
import { ADMIN_TOKEN, requireDevStack, startTestEasel, type TestEasel } from '../support/easel';
import { killProcess, startApiProcess } from '../support/easel-process';
import { sandboxProviders, waitFor, writeConfig } from '../support/config';

/**
 * The books, tried as an attacker with a trial key would and as an operator repairing them:
 * a reservation is bound to its request, nothing between reserve and 202 strands credits, the
 * audit sees what is wrong in the books (not only in the ledger's arithmetic), and an operator
 * can find and release what is stuck.
 */

interface Account {
  balance: { available: number; held: number; captured: number; granted: number; expired: number };
  running_jobs: number;
}
interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}
interface Violation {
  account_id: string;
  job_id?: string;
  entry_seq?: number;
  holds_credits?: true;
  problem: string;
  links: Record<string, string>;
}
interface Entry {
  seq: number;
  kind: string;
  credits: number;
  job_id?: string;
  reason?: string;
  settles?: number;
}
interface AdminJob extends JobView {
  account_id: string;
  reservation: { seq: number; credits: number };
  ledger: Entry[];
}

const FAIL_JOB_WRITE = { 'Easel-Failpoint': 'submit.job_write=fail' };
/** A trial account may submit once a second. */
const nextSecond = (): Promise<void> => new Promise((r) => setTimeout(r, 1_100));
const config = writeConfig({ providers: sandboxProviders({ latency_ms: 300 }) });

/** Client-side helpers on one Easel. */
function clientOf(easel: () => TestEasel) {
  return {
    account: (key: string): Promise<Account> =>
      easel()
        .call<Account>('GET', '/v1/account', { token: key })
        .then((r) => r.body),
    submit: (key: string, body: unknown, headers: Record<string, string> = {}) =>
      easel().call<JobView & ErrorBody>('POST', '/v1/imagine', { token: key, body, headers }),
    finished: (key: string, id: string): Promise<JobView> =>
      waitFor(
        () =>
          easel()
            .call<JobView>('GET', `/v1/jobs/${id}?wait=10`, { token: key })
            .then((r) => r.body),
        (j) => ['succeeded', 'failed', 'canceled'].includes(j.status),
      ),
    violations: async (): Promise<Violation[]> =>
      (await easel().admin<{ violations: Violation[] }>('POST', '/audit')).body.violations,
  };
}

describe('the books', () => {
  let easel: TestEasel;
  let db: mongoose.Connection;
  beforeAll(async () => {
    easel = await startTestEasel({ env: { EASEL_CONFIG: config, EASEL_FAILPOINTS: 'true' } });
    db = await freshDatabase(easel.dbName);
  });
  afterAll(async () => {
    await db?.close();
    await easel?.stop();
  });
  const { account, submit, finished, violations } = clientOf(() => easel);

  it('releases a failed job write at once and never answers a replay with another body from the old reservation', async () => {
    const { key } = await easel.newAccount(); // trial: 25 credits
    const cheap = { model: 'flux-2-dev', prompt: 'a lighthouse at dusk' };
    const failed = await submit(key, cheap, { 'Idempotency-Key': 'replayed-1', ...FAIL_JOB_WRITE });
    expect(failed.status).toBe(500);
    expect((await account(key)).balance).toMatchObject({ available: 25, held: 0 });
    await nextSecond();

    // The attack: the same key, 20 credits' worth of images.
    const greedy = await submit(
      key,
      { model: 'ideogram-v3', prompt: 'a lighthouse at dusk', n: 4 },
      { 'Idempotency-Key': 'replayed-1' },
    );
    expect(greedy.status).toBe(422);
    expect(greedy.body.error.code).toBe('idempotency_key_reused');
    expect((await account(key)).balance).toMatchObject({ available: 25, held: 0, captured: 0 });
    await nextSecond();

    // The honest retry of the failed request goes through and is charged in full.
    const retried = await submit(key, cheap, { 'Idempotency-Key': 'replayed-1' });
    expect(retried.status).toBe(202);
    const done = await finished(key, retried.body.id);
    expect(done).toMatchObject({ status: 'succeeded', credits_charged: 1 });
    expect((await account(key)).balance).toMatchObject({ available: 24, held: 0, captured: 1 });

    const adminJob = await easel.admin<AdminJob>('GET', `/jobs/${retried.body.id}`);
    expect(adminJob.body.ledger.map((e) => [e.kind, e.reason ?? null])).toEqual([
      ['reserve', null],
      ['release', 'job_not_written'],
      ['reserve', null],
      ['capture', null],
    ]);
    expect(adminJob.body.reservation.seq).toBe(adminJob.body.ledger[2]!.seq);
    expect(await violations()).toEqual([]);
  });

  it('accepts one of two concurrent requests with one key and different bodies, and charges what that job ran', async () => {
    const { key } = await easel.newAccount('scale-2');
    for (let i = 0; i < 4; i++) {
      const headers = { 'Idempotency-Key': `race-${i}` };
      const answers = await Promise.all([
        submit(key, { model: 'flux-2-dev', prompt: `race ${i}` }, headers),
        submit(key, { model: 'ideogram-v3', prompt: `race ${i}`, n: 4 }, headers),
      ]);
      expect(answers.map((a) => a.status).sort()).toEqual([202, 422]);
      const accepted = answers.find((a) => a.status === 202)!;
      const done = await finished(key, accepted.body.id);
      expect(done.credits_charged).toBe(done.credits_reserved);
    }
    const jobs = await easel.call<{ data: JobView[] }>('GET', '/v1/jobs?limit=100', { token: key });
    const charged = jobs.body.data.reduce((sum, j) => sum + j.credits_charged, 0);
    expect((await account(key)).balance).toMatchObject({ held: 0, captured: charged });
    expect(await violations()).toEqual([]);
  });

  it('refuses a grant replayed under its key with another amount (409) and replays the same one (200)', async () => {
    const { id, key } = await easel.newAccount();
    const grant = (credits: number) =>
      easel.admin<{ replayed: boolean } & ErrorBody>('POST', `/accounts/${id}/grants`, {
        credits,
        idempotency_key: 'invoice-7',
      });
    expect((await grant(100)).status).toBe(201);
    expect(await grant(100)).toMatchObject({ status: 200, body: { replayed: true } });
    const other = await grant(1_000);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe('idempotency_key_conflict');
    expect((await account(key)).balance.available).toBe(125);
  });

  it('lets an operator page through accounts, read any job, and release a stuck reservation but not a running one', async () => {
    const created = await Promise.all([1, 2, 3].map(() => easel.newAccount()));
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { status: number; body: { data: Array<{ id: string }>; next_cursor: string | null } } =
        await easel.admin('GET', `/accounts?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.body.data.map((a) => a.id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(new Set(seen).size).toBe(seen.length);
    for (const a of created) expect(seen).toContain(a.id);

    // A reservation whose job was never written, as a dead API leaves it (a minute old).
    const { id, key } = created[0]!;
    const past = new Ledger(db, { clock: () => new Date(Date.now() - 60_000) });
    const { reservation } = await past.reserve({
      accountId: id,
      jobId: 'job_never_written',
      credits: 3,
      requestHash: 'lost',
    });
    const found = (await violations()).filter((v) => v.account_id === id);
    expect(found).toEqual([
      expect.objectContaining({
        job_id: 'job_never_written',
        entry_seq: reservation.seq,
        holds_credits: true,
        problem: expect.stringContaining('never written'),
        links: expect.objectContaining({
          release: `POST /admin/v1/accounts/${id}/reservations/${reservation.seq}/release`,
        }),
      }),
    ]);
    const release = (seq: number) =>
      easel.admin<{ entry: Entry } & ErrorBody>('POST', `/accounts/${id}/reservations/${seq}/release`, {
        reason: 'ticket 42: API crashed mid-submit',
      });
    const released = await release(reservation.seq);
    expect(released.status).toBe(200);
    expect(released.body.entry).toMatchObject({
      kind: 'release',
      settles: reservation.seq,
      reason: 'operator: ticket 42: API crashed mid-submit',
    });
    expect((await release(reservation.seq)).body.error.code).toBe('reservation_settled');
    expect((await account(key)).balance).toMatchObject({ available: 25, held: 0 });

    // A running job settles itself: the operator is told to cancel it instead.
    const running = await submit(key, { model: 'flux-2-dev', prompt: 'runs until cancelled [timeout]' });
    const view = await waitFor(
      () => easel.admin<AdminJob>('GET', `/jobs/${running.body.id}`),
      (r) => r.body.status === 'running',
    );
    expect(view.body).toMatchObject({ account_id: id, credits_reserved: 1 });
    const refused = await release(view.body.reservation.seq);
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('job_running');
    await easel.call('POST', `/v1/jobs/${running.body.id}/cancel`, { token: key });
    expect((await finished(key, running.body.id)).status).toBe('canceled');
    expect(await violations()).toEqual([]);
  });

  it('finds a job whose charge differs from its capture, planted in the database', async () => {
    const { key } = await easel.newAccount();
    const submitted = await submit(key, { model: 'nano-banana', prompt: 'a charged job' });
    const done = await finished(key, submitted.body.id);
    expect(done.credits_charged).toBe(2);
    const jobs = db.collection('jobs');
    await jobs.updateOne({ _id: done.id as never }, { $set: { credits_charged: 0 } });
    try {
      const found = await violations();
      expect(found).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ job_id: done.id, problem: expect.stringContaining('capture charged 2') }),
        ]),
      );
      expect(found.find((v) => v.job_id === done.id)?.links.job).toBe(`/admin/v1/jobs/${done.id}`);
    } finally {
      await jobs.updateOne({ _id: done.id as never }, { $set: { credits_charged: 2 } });
    }
    expect(await violations()).toEqual([]);
  });
});

describe('an API process killed between reserve and job write', () => {
  // Longer than the audit's in-flight grace, so that the audit reports the holds first.
  const ORPHANED_AFTER_MS = 8_000;
  let easel: TestEasel;
  beforeAll(async () => {
    easel = await startTestEasel({
      env: { EASEL_CONFIG: config, EASEL_ORPHANED_RESERVATION_AFTER_MS: String(ORPHANED_AFTER_MS) },
    });
  });
  afterAll(() => easel?.stop());
  const { account, submit, finished, violations } = clientOf(() => easel);
  let api: ChildProcess | undefined;
  let apiUrl = '';
  const stack = requireDevStack();
  const startApi = async (): Promise<void> => {
    const port = await freePort();
    api = await startApiProcess({
      PORT: String(port),
      MONGODB_URI: `${stack.mongoUri}${easel.dbName}`,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: easel.taskQueue,
      EASEL_CONFIG: config,
      EASEL_ADMIN_TOKEN: ADMIN_TOKEN,
      EASEL_FAILPOINTS: 'true',
      LOG_LEVEL: 'info',
    });
    apiUrl = `http://127.0.0.1:${port}`;
  };
  afterAll(async () => {
    if (api) await killProcess(api, 'SIGTERM');
  });

  it('holds the credits only until the sweep releases them as orphaned; the audit reports them until then', async () => {
    const { key } = await easel.newAccount(); // trial: 2 jobs at once
    for (let i = 0; i < 2; i++) {
      await startApi();
      const exited = new Promise((resolve) => api!.once('exit', resolve));
      const answer = await fetch(`${apiUrl}/v1/imagine`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${key}`,
          'content-type': 'application/json',
          'easel-failpoint': 'submit.after_reserve=exit',
        },
        body: JSON.stringify({ model: 'flux-2-dev', prompt: `killed ${i}` }),
      }).catch((err: unknown) => err);
      // The connection died with the process (fetch's TypeError comes from another realm).
      expect(answer).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
      await exited;
    }
    expect(await account(key)).toMatchObject({ running_jobs: 2, balance: { held: 2 } });
    const blocked = await submit(key, { model: 'flux-2-dev', prompt: 'a third job' });
    expect(blocked.status).toBe(429);
    expect(blocked.body.error.code).toBe('concurrent_jobs_limit');

    const reported = await waitFor(
      () => violations(),
      (v) => v.filter((x) => x.holds_credits).length === 2,
      ORPHANED_AFTER_MS + 10_000,
    );
    expect(reported.every((v) => v.problem.includes('never written'))).toBe(true);

    const after = await waitFor(
      () => account(key),
      (a) => a.running_jobs === 0,
      ORPHANED_AFTER_MS * 3 + 10_000,
    );
    expect(after.balance).toMatchObject({ available: 25, held: 0, captured: 0 });
    const accountId = reported[0]!.account_id;
    const ledger = await easel.admin<{ data: Entry[] }>('GET', `/accounts/${accountId}/ledger`);
    expect(ledger.body.data.filter((e) => e.kind === 'release').map((e) => e.reason)).toEqual([
      'orphaned',
      'orphaned',
    ]);
    expect(await violations()).toEqual([]);
    const next = await submit(key, { model: 'flux-2-dev', prompt: 'room again' });
    expect(next.status).toBe(202);
    expect((await finished(key, next.body.id)).status).toBe('succeeded');
  });
});

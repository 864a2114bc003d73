import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import fc from 'fast-check';
import { startDevStack, type DevStack } from '../../infra/devstack/devstack';
import type { JobView } from '../../core/jobs/view';
import { freePort } from '../../platform/net';
import { ADMIN_TOKEN, requireDevStack, startTestEasel, type TestEasel } from '../support/easel';
import { killProcess, startApiProcess } from '../support/easel-process';
import { sandboxProviders, waitFor, writeConfig } from '../support/config';

/**
 * The books under random interleavings of what clients and the world do to them: submits,
 * replays with the same and other bodies, cancels, grants and their replays, and faults (a job
 * write failing, the API process killed between steps, FerretDB restarted). After every run,
 * once every job has ended, the audit is clean and the books close from the outside.
 *
 * The API runs in a process of its own (so a fault can kill it) on a FerretDB of this test's own
 * (so restarting it disturbs no other test file); the worker runs here, on the shared Temporal.
 */

type Fault = 'none' | 'job_write_fails' | 'killed_after_reserve' | 'killed_after_job_write';

type Op =
  | { op: 'submit'; body: number; key: number | null; fault: Fault }
  | { op: 'replay'; body: number; key: number }
  | { op: 'cancel'; job: number }
  | { op: 'grant'; credits: number; key: number }
  | { op: 'restart_ferretdb' }
  | { op: 'pause'; ms: number };

/** A few request bodies of different prices, so that replays with another body change the amount. */
const BODIES = [
  { model: 'flux-2-dev', prompt: 'a quick sketch' },
  { model: 'nano-banana', prompt: 'a quick sketch', n: 2 },
  { model: 'ideogram-v3', prompt: 'a poster', n: 4 },
  { model: 'flux-2-dev', prompt: 'slow enough to cancel', n: 1, seed: 7 },
];
const KEYS = 4;
const PRICE: Record<string, number> = { 'flux-2-dev': 1, 'nano-banana': 2, 'ideogram-v3': 5 };

const FAILPOINT: Record<Exclude<Fault, 'none'>, string> = {
  job_write_fails: 'submit.job_write=fail',
  killed_after_reserve: 'submit.after_reserve=exit',
  killed_after_job_write: 'submit.after_job_write=exit',
};

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      op: fc.constant('submit' as const),
      body: fc.nat(BODIES.length - 1),
      key: fc.option(fc.nat(KEYS - 1), { nil: null }),
      fault: fc.constantFrom<Fault>(
        'none',
        'none',
        'none',
        'job_write_fails',
        'killed_after_reserve',
        'killed_after_job_write',
      ),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      op: fc.constant('replay' as const),
      body: fc.nat(BODIES.length - 1),
      key: fc.nat(KEYS - 1),
    }),
  },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('cancel' as const), job: fc.nat(20) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      op: fc.constant('grant' as const),
      credits: fc.constantFrom(5, 50),
      key: fc.nat(1),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ op: 'restart_ferretdb' as const }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('pause' as const), ms: fc.constantFrom(50, 400) }) },
);

/** Steps of up to three operations sent at once: their requests interleave on the server. */
const runArb = fc.array(fc.array(opArb, { minLength: 1, maxLength: 3 }), { minLength: 3, maxLength: 8 });

interface AccountView {
  balance: { available: number; held: number; captured: number; granted: number; expired: number };
  running_jobs: number;
}

describe('the books under random interleavings and injected faults', () => {
  let mongo: DevStack;
  let worker: TestEasel;
  let api: ChildProcess | undefined;
  let apiUrl = '';
  let apiEnv: Record<string, string>;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-faults-'));

  const startApi = async (): Promise<void> => {
    const port = await freePort();
    api = await startApiProcess({ ...apiEnv, PORT: String(port) });
    apiUrl = `http://127.0.0.1:${port}`;
  };
  /** The API answers, or is started again if a fault killed it. */
  const apiUp = async (): Promise<void> => {
    const healthy = await fetch(`${apiUrl}/healthz`, { signal: AbortSignal.timeout(5_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (healthy) return;
    // Killed by a fault: the exit may not have been reaped yet.
    if (api) await killProcess(api, 'SIGKILL');
    await startApi();
  };

  async function call<T>(
    method: string,
    route: string,
    options: { token: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T } | { status: 'no_answer'; error: string }> {
    try {
      const res = await fetch(`${apiUrl}${route}`, {
        method,
        headers: {
          authorization: `Bearer ${options.token}`,
          ...(options.body !== undefined && { 'content-type': 'application/json' }),
          ...options.headers,
        },
        ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
        signal: AbortSignal.timeout(60_000),
      });
      const text = await res.text();
      return { status: res.status, body: (text ? JSON.parse(text) : {}) as T };
    } catch (err) {
      return { status: 'no_answer', error: err instanceof Error ? err.message : String(err) };
    }
  }
  const admin = <T>(method: string, route: string, body?: unknown) =>
    call<T>(method, `/admin/v1${route}`, { token: ADMIN_TOKEN, ...(body !== undefined && { body }) });
  const ok = <T>(answer: { status: number; body: T } | { status: 'no_answer'; error: string }): T => {
    if (answer.status !== 200 && answer.status !== 201)
      throw new Error(`unexpected answer ${JSON.stringify(answer)}`);
    return (answer as { body: T }).body;
  };

  beforeAll(async () => {
    const shared = requireDevStack();
    mongo = await startDevStack({
      dataDir: path.join(dataDir, 'stack'),
      ephemeral: true,
      mongoPort: 0,
      services: { mongo: true, temporal: false },
    });
    const config = writeConfig({ providers: sandboxProviders({ latency_ms: 600 }) });
    worker = await startTestEasel({
      role: 'worker',
      mongoUri: mongo.mongoUri!,
      env: {
        EASEL_CONFIG: config,
        EASEL_DATA_DIR: dataDir,
        // Longer than the API takes to restart, so that a replay can meet a dead submission's hold.
        EASEL_ORPHANED_RESERVATION_AFTER_MS: '10000',
        EASEL_UNSTARTED_JOB_AFTER_MS: '2000',
        WORKER_METRICS_PORT: String(await freePort()),
      },
    });
    apiEnv = {
      MONGODB_URI: `${mongo.mongoUri}${worker.dbName}`,
      TEMPORAL_ADDRESS: shared.temporalAddress,
      TEMPORAL_TASK_QUEUE: worker.taskQueue,
      EASEL_CONFIG: config,
      EASEL_DATA_DIR: dataDir,
      EASEL_ADMIN_TOKEN: ADMIN_TOKEN,
      EASEL_FAILPOINTS: 'true',
      LOG_LEVEL: 'info',
    };
    await startApi();
  });
  afterAll(async () => {
    if (api) await killProcess(api, 'SIGTERM');
    await worker?.stop();
    await mongo?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('keeps the audit clean and the books closed after every run', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(runArb, async (steps) => {
        run++;
        await apiUp();
        const created = ok(
          await admin<{ id: string }>('POST', '/accounts', { name: `faults ${run}`, plan: 'pro' }),
        );
        const { key: token } = ok(await admin<{ key: string }>('POST', `/accounts/${created.id}/keys`, {}));
        const jobs: string[] = [];
        /** The body each key was accepted with: another body under that key must never be accepted. */
        const acceptedBody = new Map<number, number>();

        /**
         * What a submit may answer: a refusal in the envelope, or — only when a fault or a FerretDB
         * restart was injected in its step — a 5xx or no answer at all.
         */
        const submit = async (body: number, key: number | null, fault: Fault, disturbed: boolean) => {
          const answer = await call<JobView>('POST', '/v1/imagine', {
            token,
            body: BODIES[body],
            headers: {
              ...(key !== null && { 'Idempotency-Key': `run${run}-key${key}` }),
              ...(fault !== 'none' && { 'Easel-Failpoint': FAILPOINT[fault] }),
            },
          });
          if (answer.status === 202) {
            if (key !== null) {
              const earlier = acceptedBody.get(key);
              if (earlier !== undefined && BODIES[earlier] !== BODIES[body]) {
                throw new Error(`key ${key} accepted body ${earlier}, then body ${body}`);
              }
              acceptedBody.set(key, body);
            }
            jobs.push(answer.body.id);
            return;
          }
          const failed = answer.status === 'no_answer' || answer.status >= 500;
          if (failed && (disturbed || fault !== 'none')) return;
          if (typeof answer.status !== 'number' || ![402, 422, 429].includes(answer.status)) {
            throw new Error(`an undisturbed submit answered ${JSON.stringify(answer)}`);
          }
        };

        for (const step of steps) {
          await apiUp();
          const disturbed = step.some(
            (op) => op.op === 'restart_ferretdb' || (op.op === 'submit' && op.fault !== 'none'),
          );
          await Promise.all(
            step.map(async (op) => {
              switch (op.op) {
                case 'submit':
                  return submit(op.body, op.key, op.fault, disturbed);
                case 'replay':
                  return submit(op.body, op.key, 'none', disturbed);
                case 'cancel': {
                  const id = jobs[op.job % Math.max(jobs.length, 1)];
                  if (id) await call('POST', `/v1/jobs/${id}/cancel`, { token });
                  return;
                }
                case 'grant': {
                  const answer = await admin<{ replayed: boolean }>(
                    'POST',
                    `/accounts/${created.id}/grants`,
                    {
                      credits: op.credits,
                      idempotency_key: `run${run}-grant${op.key}`,
                    },
                  );
                  if (answer.status === 'no_answer' || answer.status >= 500) return;
                  expect([200, 201, 409]).toContain(answer.status);
                  return;
                }
                case 'restart_ferretdb':
                  return mongo.mongo!.restart();
                case 'pause':
                  return new Promise((r) => setTimeout(r, op.ms));
              }
            }),
          );
        }

        // Every accepted job ends; every hold a dead submission left is released by the sweep.
        await apiUp();
        const settled = await waitFor(
          async () => {
            const account = await call<AccountView>('GET', '/v1/account', { token });
            const page = await call<{ data: JobView[] }>('GET', '/v1/jobs?limit=100', { token });
            if (account.status !== 200 || page.status !== 200) return null;
            return { account: account.body, jobs: page.body.data };
          },
          (s) =>
            s !== null &&
            s.account.running_jobs === 0 &&
            s.jobs.every((j) => ['succeeded', 'failed', 'canceled'].includes(j.status)),
          90_000,
          500,
        );
        const { account, jobs: all } = settled!;
        for (const id of jobs) expect(all.map((j) => j.id)).toContain(id);
        // Each job charged what it ran: the catalog price of its model for each image.
        for (const j of all.filter((x) => x.status === 'succeeded')) {
          expect({ id: j.id, charged: j.credits_charged }).toEqual({
            id: j.id,
            charged: PRICE[j.model]! * j.n,
          });
        }
        const charged = all.reduce((sum, j) => sum + j.credits_charged, 0);
        const b = account.balance;
        expect(b.held).toBe(0);
        expect(charged).toBe(b.captured);
        expect(b.available + b.held + b.captured).toBe(b.granted - b.expired);
        // The audit's in-flight grace has passed for every movement of this run.
        await new Promise((r) => setTimeout(r, 5_000));
        const audit = ok(await admin<{ violations: unknown[] }>('POST', '/audit'));
        expect(audit.violations).toEqual([]);
      }),
      { numRuns: Number(process.env.FAULT_RUNS ?? 6), endOnFailure: true },
    );
  }, 900_000);
});

import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { freePort } from '../../platform/net';
import { sandboxProviders, waitFor, writeConfig } from '../support/config';
import { ADMIN_TOKEN, requireDevStack } from '../support/easel';
import { killProcess, startApiProcess, startWorkerProcess } from '../support/easel-process';
import { startS3Server, type TestS3Server } from '../support/s3-server';
import { IMAGE_URL_SECRET, METRICS_TOKEN, TEST_PAYLOAD_KEYS } from '../support/secrets';
import { WebhookReceiver } from '../support/webhook-receiver';

const execFileAsync = promisify(execFile);

const ACCOUNTS = 6;
const JOBS_PER_ACCOUNT = 50;
/** Each account's concurrent-jobs limit; its clients keep more than this in flight. */
const CONCURRENT_JOBS = 4;
const SUBMITTERS_PER_ACCOUNT = 6;

type Job = {
  id: string;
  status: string;
  credits_charged: number;
  images: Array<{ url: string; content_type: string }>;
};
type Ledger = {
  data: Array<{ seq: number; balances: { open_reservations: number } }>;
  next_before: number | null;
};
type Account = {
  balance: { available: number; held: number; captured: number; granted: number; expired: number };
};

/**
 * The production build as a platform team runs it: two API processes and two worker processes
 * (`node dist/bin/*.js`, NODE_ENV=production) on one Temporal and one MongoDB, images in a real
 * S3-compatible server, clients spread round-robin over the two APIs, one worker SIGKILLed mid-run.
 */
describe('many replicas of the production build', () => {
  const stack = requireDevStack();
  const suffix = randomBytes(4).toString('hex');
  const receiver = new WebhookReceiver();
  let s3: TestS3Server;
  const apis: Array<{ url: string; process: ChildProcess }> = [];
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    await execFileAsync('npm', ['run', 'build'], { cwd: `${__dirname}/../..`, timeout: 300_000 });
    [s3] = await Promise.all([startS3Server(), receiver.start()]);
    const ports = [await freePort(), await freePort()];
    const env = {
      NODE_ENV: 'production',
      // Info: the processes say when they are up.
      LOG_LEVEL: 'info',
      MONGODB_URI: `${stack.mongoUri}replicas_${suffix}`,
      TEMPORAL_ADDRESS: stack.temporalAddress,
      TEMPORAL_TASK_QUEUE: `replicas-${suffix}`,
      EASEL_ADMIN_TOKEN: ADMIN_TOKEN,
      EASEL_METRICS_TOKEN: METRICS_TOKEN,
      EASEL_IMAGE_URL_SECRET: IMAGE_URL_SECRET,
      EASEL_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
      EASEL_WEBHOOK_ALLOW_PRIVATE: 'true',
      EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 300 }) }),
      // Image URLs name the first API; the test reads each image through both.
      EASEL_PUBLIC_URL: `http://127.0.0.1:${ports[0]}`,
      AWS_ACCESS_KEY_ID: s3.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
      AWS_REGION: s3.region,
      ...s3.easelEnv({ EASEL_S3_PREFIX: `replicas-${suffix}/` }),
    };
    for (const port of ports) {
      apis.push({
        url: `http://127.0.0.1:${port}`,
        process: await startApiProcess({ ...env, PORT: String(port) }, 'dist'),
      });
    }
    for (let i = 0; i < 2; i++) {
      workers.push(
        await startWorkerProcess({ ...env, WORKER_METRICS_PORT: String(await freePort()) }, 'dist'),
      );
    }
  }, 600_000);

  afterAll(async () => {
    await Promise.all([...apis.map((a) => a.process), ...workers].map((p) => killProcess(p, 'SIGTERM')));
    await Promise.all([s3?.stop(), receiver.close()]);
  });

  let turn = 0;
  /** The next API, round-robin, as a load balancer would pick it. */
  const nextApi = (): string => apis[turn++ % apis.length]!.url;
  const call = async <T>(base: string, method: string, path: string, token: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };

  it('runs every job to the end, keeps each account’s concurrent-jobs limit exact and every credit accounted for', async () => {
    const accounts: Array<{ id: string; key: string }> = [];
    for (let i = 0; i < ACCOUNTS; i++) {
      const created = await call<{ id: string }>(nextApi(), 'POST', '/admin/v1/accounts', ADMIN_TOKEN, {
        name: `replica tenant ${i}`,
        plan: 'pro',
      });
      await call(nextApi(), 'PATCH', `/admin/v1/accounts/${created.body.id}`, ADMIN_TOKEN, {
        rate_limits: { concurrent_jobs: CONCURRENT_JOBS, requests_per_second: 200 },
      });
      const key = await call<{ key: string }>(
        nextApi(),
        'POST',
        `/admin/v1/accounts/${created.body.id}/keys`,
        ADMIN_TOKEN,
        {},
      );
      accounts.push({ id: created.body.id, key: key.body.key });
    }

    const started = Date.now();
    const finished: Array<Job & { account: string }> = [];
    let refusedForConcurrency = 0;
    let killed = false;
    const total = ACCOUNTS * JOBS_PER_ACCOUNT;

    const submitter = async (account: { id: string; key: string }, jobs: { left: number }): Promise<void> => {
      while (jobs.left > 0) {
        jobs.left--;
        for (;;) {
          const submitted = await call<Job & { error?: { code: string } }>(
            nextApi(),
            'POST',
            '/v1/imagine',
            account.key,
            {
              model: 'flux-2-dev',
              prompt: `replica job ${finished.length}`,
              webhook_url: receiver.url,
            },
          );
          if (submitted.status === 429) {
            expect(submitted.body.error?.code).toBe('concurrent_jobs_limit');
            refusedForConcurrency++;
            await new Promise((r) => setTimeout(r, 200));
            continue;
          }
          expect(submitted.status).toBe(202);
          let job = submitted.body;
          while (job.status === 'queued' || job.status === 'running') {
            job = (await call<Job>(nextApi(), 'GET', `/v1/jobs/${job.id}?wait=30`, account.key)).body;
          }
          finished.push({ ...job, account: account.id });
          break;
        }
        // Mid-run, one worker dies without a word; the other takes over its jobs.
        if (!killed && finished.length >= total * 0.4) {
          killed = true;
          await killProcess(workers[0]!, 'SIGKILL');
        }
      }
    };
    await Promise.all(
      accounts.flatMap((account) => {
        const jobs = { left: JOBS_PER_ACCOUNT };
        return Array.from({ length: SUBMITTERS_PER_ACCOUNT }, () => submitter(account, jobs));
      }),
    );
    const seconds = (Date.now() - started) / 1000;

    expect(killed).toBe(true);
    expect(finished).toHaveLength(total);
    expect(finished.filter((j) => j.status !== 'succeeded')).toEqual([]);
    // The clients pushed past the limit, and the limit held across the two APIs.
    expect(refusedForConcurrency).toBeGreaterThan(0);
    for (const account of accounts) {
      let most = 0;
      let before: number | null = null;
      do {
        const page: { body: Ledger } = await call<Ledger>(
          nextApi(),
          'GET',
          `/admin/v1/accounts/${account.id}/ledger?limit=500${before ? `&before=${before}` : ''}`,
          ADMIN_TOKEN,
        );
        for (const entry of page.body.data) most = Math.max(most, entry.balances.open_reservations);
        before = page.body.next_before;
      } while (before !== null);
      expect(most).toBeLessThanOrEqual(CONCURRENT_JOBS);

      const { balance } = (
        await call<Account>(nextApi(), 'GET', `/admin/v1/accounts/${account.id}`, ADMIN_TOKEN)
      ).body;
      const charged = finished
        .filter((j) => j.account === account.id)
        .reduce((sum, j) => sum + j.credits_charged, 0);
      expect(balance.captured).toBe(charged);
      expect(balance.held).toBe(0);
      expect(balance.granted - balance.expired).toBe(balance.available + balance.held + balance.captured);
    }
    expect(
      (await call<{ violations: unknown[] }>(nextApi(), 'POST', '/admin/v1/audit', ADMIN_TOKEN)).body
        .violations,
    ).toEqual([]);

    // Every image, stored once in the bucket, is served by either API.
    for (const job of finished) {
      for (const image of job.images) {
        const url = new URL(image.url);
        for (const api of apis) {
          const res = await fetch(`${api.url}${url.pathname}${url.search}`);
          expect({ job: job.id, api: api.url, status: res.status }).toEqual({
            job: job.id,
            api: api.url,
            status: 200,
          });
          expect(res.headers.get('content-type')).toBe(image.content_type);
          await res.arrayBuffer();
        }
      }
    }

    // Every job's webhook arrived (at least once: a delivery cut by the kill is sent again, under
    // the same webhook-id, which receivers deduplicate on).
    await waitFor(
      async () =>
        new Set(receiver.deliveries.filter((d) => d.status === 200).map((d) => d.headers['webhook-id'])).size,
      (delivered) => delivered === total,
      60_000,
    );

    console.log(
      `replicas: ${total} jobs over 2 APIs and 2 workers (one SIGKILLed at 40 %) in ${seconds.toFixed(1)} s; ` +
        `${refusedForConcurrency} submissions refused at the concurrent-jobs limit of ${CONCURRENT_JOBS}; ` +
        `${receiver.deliveries.length} webhook deliveries for ${total} jobs`,
    );
  }, 900_000);
});

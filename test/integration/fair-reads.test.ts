import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type mongoose from 'mongoose';
import { connectDatabase } from '../../platform/db';
import { freePort } from '../../platform/net';
import { ADMIN_TOKEN, requireDevStack, startTestEasel, type TestEasel } from '../support/easel';
import { killProcess, startApiProcess } from '../support/easel-process';
import { sandboxProviders, writeConfig } from '../support/config';

/**
 * One tenant's reads must not slow the others (listing and usage look up the account's own jobs
 * by index; reads count against a per-account limit). The database holds a heavy tenant's 3,000
 * jobs and 10,000 of other tenants'; a light tenant's list and submit latencies are measured
 * idle, then while 20 loops read the heavy tenant's usage as fast as they are answered (waiting
 * as long as Retry-After says when refused, as the official clients do).
 *
 * The API runs in a process of its own, as in production, so the load and the measurement made
 * here do not share its event loop.
 */

const HEAVY_JOBS = 3_000;
const OTHER_JOBS = 10_000;
const READERS = 20;
const SAMPLES = 15;
const ROUNDS = 3;

const MODELS = ['flux-2-dev', 'nano-banana', 'gpt-image-1', 'ideogram-v3'];

function seededJob(accountId: string, i: number, now: number): Record<string, unknown> {
  const created = new Date(now - (i % 29) * 24 * 3600_000 - i * 1000);
  const model = MODELS[i % MODELS.length]!;
  const succeeded = i % 10 !== 0;
  return {
    _id: `job_seed_${accountId}_${i}`,
    account_id: accountId,
    plan: 'pro',
    status: succeeded ? 'succeeded' : 'failed',
    model,
    request: { requested_model: model, prompt: `seeded prompt ${i}`, n: 1, aspect_ratio: '1:1' },
    request_hash: 'seed',
    credits_reserved: 2,
    credits_charged: succeeded ? 2 : 0,
    reservation: { seq: i + 1, credits: 2 },
    images: succeeded
      ? [{ key: `seed/${i}.png`, width: 512, height: 512, content_type: 'image/png', bytes: 1 }]
      : [],
    attempts: [],
    error: succeeded ? null : { code: 'provider_error', message: 'seeded' },
    created_at: created,
    // The key JobStore.create sets (seeded here in bulk, not one create at a time).
    account_day: `${accountId}:${created.toISOString().slice(0, 10)}`,
    completed_at: created,
    updated_at: created,
  };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

describe('fair reads: one tenant reading hard does not slow the others', () => {
  let worker: TestEasel;
  let api: ChildProcess | undefined;
  let apiUrl = '';
  let db: mongoose.Connection;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-fair-reads-'));

  const call = async (method: string, route: string, token: string, body?: unknown): Promise<Response> =>
    fetch(`${apiUrl}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  const json = async <T>(res: Response | Promise<Response>, status = 200): Promise<T> => {
    const answer = await res;
    const text = await answer.text();
    if (answer.status !== status) throw new Error(`expected ${status}, got ${answer.status}: ${text}`);
    return JSON.parse(text) as T;
  };
  const newTenant = async (plan: string): Promise<{ id: string; token: string }> => {
    const { id } = await json<{ id: string }>(
      call('POST', '/admin/v1/accounts', ADMIN_TOKEN, { name: plan, plan }),
      201,
    );
    const { key } = await json<{ key: string }>(
      call('POST', `/admin/v1/accounts/${id}/keys`, ADMIN_TOKEN, {}),
      201,
    );
    return { id, token: key };
  };

  beforeAll(async () => {
    const shared = requireDevStack();
    const config = writeConfig({ providers: sandboxProviders({ latency_ms: 0 }) });
    worker = await startTestEasel({
      role: 'worker',
      env: { EASEL_CONFIG: config, EASEL_DATA_DIR: dataDir, WORKER_METRICS_PORT: String(await freePort()) },
    });
    const port = await freePort();
    api = await startApiProcess({
      PORT: String(port),
      MONGODB_URI: `${shared.mongoUri}${worker.dbName}`,
      TEMPORAL_ADDRESS: shared.temporalAddress,
      TEMPORAL_TASK_QUEUE: worker.taskQueue,
      EASEL_CONFIG: config,
      EASEL_DATA_DIR: dataDir,
      EASEL_ADMIN_TOKEN: ADMIN_TOKEN,
    });
    apiUrl = `http://127.0.0.1:${port}`;
    db = await connectDatabase(`${shared.mongoUri}${worker.dbName}`);
  });
  afterAll(async () => {
    if (api) await killProcess(api, 'SIGTERM');
    await db?.close();
    await worker?.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it("keeps a light tenant's list and submit within 2x of idle while 20 loops read a heavy tenant's usage", async () => {
    const heavy = await newTenant('pro');
    const light = await newTenant('scale-2');
    const now = Date.now();
    const jobs = db.collection('jobs');
    const insert = async (accountOf: (i: number) => string, count: number, offset: number): Promise<void> => {
      for (let start = 0; start < count; start += 500) {
        const batch = Array.from({ length: Math.min(500, count - start) }, (_, k) =>
          seededJob(accountOf(start + k), offset + start + k, now),
        );
        await jobs.insertMany(batch);
      }
    };
    await insert(() => heavy.id, HEAVY_JOBS, 0);
    await insert((i) => `acct_other_${i % 50}`, OTHER_JOBS, HEAVY_JOBS);

    // The heavy tenant's usage counts all of its jobs, and only its jobs.
    const usage = await json<{ total: { jobs_succeeded: number; jobs_failed: number } }>(
      call('GET', '/v1/usage', heavy.token),
    );
    expect(usage.total.jobs_succeeded + usage.total.jobs_failed).toBe(HEAVY_JOBS);

    const timed = async (what: () => Promise<Response>, status: number): Promise<number> => {
      const started = performance.now();
      const res = await what();
      await res.arrayBuffer();
      expect(res.status).toBe(status);
      return performance.now() - started;
    };
    const list = (): Promise<number> => timed(() => call('GET', '/v1/jobs?limit=20', light.token), 200);
    const submit = (): Promise<number> =>
      timed(
        () => call('POST', '/v1/imagine', light.token, { model: 'flux-2-dev', prompt: 'a light job' }),
        202,
      );
    const measure = async (): Promise<{ list: number[]; submit: number[] }> => {
      const lists: number[] = [];
      const submits: number[] = [];
      for (let i = 0; i < SAMPLES; i++) {
        lists.push(await list());
        submits.push(await submit());
        // Under the light tenant's own limits (40 submissions, 400 reads a second).
        await new Promise((r) => setTimeout(r, 60));
      }
      return { list: lists, submit: submits };
    };

    // Idle and loaded rounds alternate, so that a drift of the machine's speed (another process,
    // the jobs piling up) weighs on both sides alike.
    let stop = false;
    const answers = { ok: 0, limited: 0, other: 0 };
    const readLoop = async (): Promise<void> => {
      while (!stop) {
        const res = await call('GET', '/v1/usage?group_by=day', heavy.token);
        await res.arrayBuffer();
        if (res.status === 200) answers.ok++;
        else if (res.status === 429) {
          answers.limited++;
          // As the official clients do: wait as long as Retry-After says.
          const seconds = Number(res.headers.get('retry-after'));
          expect(seconds).toBeGreaterThanOrEqual(1);
          await new Promise((r) => setTimeout(r, seconds * 1000));
        } else answers.other++;
      }
    };
    await measure(); // warm-up: connections, caches, JIT
    const idleRounds: Array<{ list: number[]; submit: number[] }> = [];
    const loadedRounds: Array<{ list: number[]; submit: number[] }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      idleRounds.push(await measure());
      stop = false;
      const readers = Array.from({ length: READERS }, readLoop);
      loadedRounds.push(await measure());
      stop = true;
      await Promise.all(readers);
    }
    const idle = {
      list: median(idleRounds.flatMap((r) => r.list)),
      submit: median(idleRounds.flatMap((r) => r.submit)),
    };
    const loaded = {
      list: median(loadedRounds.flatMap((r) => r.list)),
      submit: median(loadedRounds.flatMap((r) => r.submit)),
    };

    console.log(
      `fair reads: light tenant list ${idle.list.toFixed(1)} ms idle, ${loaded.list.toFixed(1)} ms loaded; ` +
        `submit ${idle.submit.toFixed(1)} ms idle, ${loaded.submit.toFixed(1)} ms loaded; ` +
        `heavy readers: ${answers.ok} answered, ${answers.limited} refused with 429`,
    );
    expect(answers.other).toBe(0);
    // The heavy tenant was served up to its plan's read limit, and refused beyond it.
    expect(answers.ok).toBeGreaterThan(0);
    expect(answers.limited).toBeGreaterThan(0);
    expect(loaded.list).toBeLessThanOrEqual(2 * idle.list);
    expect(loaded.submit).toBeLessThanOrEqual(2 * idle.submit);
  });
});

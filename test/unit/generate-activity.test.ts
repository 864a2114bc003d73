import { ApplicationFailure, CancelledFailure } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import { createGenerateActivity } from '../../activities/generate';
import type { GenerateInput, GenerateResult } from '../../core/jobs/contract';
import type { JobAttempt, JobRecord, JobStore } from '../../core/jobs/store';
import {
  GenerationCancelled,
  GenerationFailed,
  type GenerationHooks,
  type ImageRouter,
} from '../../routing/router';

const input: GenerateInput = {
  jobId: 'job_1',
  model: 'flux-2-dev',
  creditsPerImage: 1,
  request: { requested_model: 'flux-2-dev', prompt: 'a lighthouse', n: 1, aspect_ratio: '1:1' },
};

const attempt = (provider: string, outcome: string): JobAttempt => ({
  provider,
  model: 'flux-2-dev',
  outcome,
  duration_ms: 1,
  at: new Date(),
});

/** A job store that keeps one job document in memory and logs every write in order. */
function memoryJobs(job: Partial<JobRecord> = {}) {
  const writes: string[] = [];
  const doc = { attempts: [] as JobAttempt[], upstream: null, ...job } as JobRecord;
  const jobs: Pick<JobStore, 'get' | 'update' | 'addAttempt' | 'markRunning'> = {
    get: async () => doc,
    markRunning: async () => void writes.push('running'),
    update: async (_id, set) => {
      await new Promise((r) => setTimeout(r, 2)); // slow writes: they must still land in order
      writes.push(`update ${JSON.stringify(set)}`);
    },
    addAttempt: async (_id, a) => void writes.push(`attempt ${a.provider}:${a.outcome}`),
  };
  return { jobs, writes };
}

/** A router that plays a script against the hooks it is given. */
function scriptedRouter(script: (hooks: GenerationHooks) => Promise<GenerateResult>) {
  const seen: GenerationHooks[] = [];
  const router: Pick<ImageRouter, 'generate'> = {
    generate: async (_input, hooks) => {
      seen.push(hooks);
      return script(hooks);
    },
  };
  return { router, seen };
}

const success: GenerateResult = {
  model: 'flux-2-dev',
  creditsPerImage: 1,
  provider: 'b',
  sandbox: false,
  images: [],
  attempts: [attempt('a', 'error'), attempt('b', 'success')],
};

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected the activity to fail');
    },
    (err: unknown) => err,
  );
}

/**
 * For runs meant to fail: the SDK logs each failed activity at WARN, which here is the outcome the
 * test asserts, not news. Errors are still logged, and a run that fails unexpectedly fails its test.
 */
const failingRun = () => new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR') });

describe('generateImages activity', () => {
  it('writes failed attempts, the upstream job and progress to the job in the order they happen', async () => {
    const { jobs, writes } = memoryJobs();
    const { router } = scriptedRouter(async (hooks) => {
      await hooks.attemptFailed(attempt('a', 'error'));
      void hooks.upstreamJob(null);
      void hooks.upstreamJob({
        deployment: 'b',
        model: 'flux-2-dev',
        job_id: 'up-1',
        submitted_at: new Date(0),
      });
      void hooks.progress(0.25);
      void hooks.progress(0.25); // unchanged progress is not written again
      void hooks.progress(1); // completion is written by the settlement
      return success;
    });
    const { generateImages } = createGenerateActivity({ router, jobs });
    await expect(new MockActivityEnvironment().run(generateImages, input)).resolves.toEqual(success);
    expect(writes).toEqual([
      'running',
      'attempt a:error',
      'update {"upstream":null,"progress":null,"queue_position":null}',
      'update {"upstream":{"deployment":"b","model":"flux-2-dev","job_id":"up-1","submitted_at":"1970-01-01T00:00:00.000Z"}}',
      'update {"progress":0.25}',
    ]);
  });

  it('on its first run reads nothing; on a retry resumes the upstream job and keeps earlier attempts', async () => {
    const upstream = { deployment: 'a', model: 'flux-2-dev', job_id: 'up-9', submitted_at: new Date() };
    const earlier = [attempt('a', 'timeout')];
    const { jobs, writes } = memoryJobs({ status: 'running', attempts: earlier, upstream });
    const { router, seen } = scriptedRouter(async () => success);
    const { generateImages } = createGenerateActivity({ router, jobs });
    await new MockActivityEnvironment({ attempt: 1 }).run(generateImages, input);
    await new MockActivityEnvironment({ attempt: 2 }).run(generateImages, input);
    expect(seen[0]).toMatchObject({ earlierAttempts: [] });
    expect(seen[0]!.resume).toBeUndefined();
    expect(seen[1]).toMatchObject({ earlierAttempts: earlier, resume: upstream });
    // The first run marks the job running; the retry finds it running and writes nothing more.
    expect(writes).toEqual(['running']);
  });

  it.each(['content_policy', 'rejected', 'all_providers_failed'] as const)(
    'fails with a %s failure that Temporal does not retry, carrying the attempts',
    async (type) => {
      const attempts = [attempt('a', type === 'all_providers_failed' ? 'error' : type)];
      const { router } = scriptedRouter(async () => {
        throw new GenerationFailed(type, `failed: ${type}`, attempts);
      });
      const { generateImages } = createGenerateActivity({ router, jobs: memoryJobs().jobs });
      const err = await rejection(failingRun().run(generateImages, input));
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type, nonRetryable: true, message: `failed: ${type}` });
      expect((err as ApplicationFailure).details).toEqual([attempts]);
    },
  );

  it('asks Temporal to retry after the Retry-After when every provider rate limits (capped at a minute)', async () => {
    const { router } = scriptedRouter(async () => {
      throw new GenerationFailed('upstream_rate_limited', 'Every provider is rate limiting', [], 90_000);
    });
    const { generateImages } = createGenerateActivity({ router, jobs: memoryJobs().jobs });
    const err = await rejection(failingRun().run(generateImages, input));
    expect(err).toMatchObject({ type: 'upstream_rate_limited', nonRetryable: false, nextRetryDelay: 60_000 });
  });

  it('reports cancellation as a cancelled activity once the router stops', async () => {
    const env = new MockActivityEnvironment();
    const { router } = scriptedRouter(
      (hooks) =>
        new Promise((_, reject) =>
          hooks.cancelled.addEventListener('abort', () => {
            reject(new GenerationCancelled('The job was cancelled.'));
          }),
        ),
    );
    const { generateImages } = createGenerateActivity({ router, jobs: memoryJobs().jobs });
    const running = env.run(generateImages, input);
    setTimeout(() => env.cancel(), 10);
    await expect(running).rejects.toBeInstanceOf(CancelledFailure);
  });
});

import { ApplicationFailure, CancelledFailure, Context, heartbeat } from '@temporalio/activity';
import type { GenerateInput, GenerateResult } from '../core/jobs/contract';
import type { JobStore } from '../core/jobs/store';
import { GenerationCancelled, GenerationFailed, type ImageRouter } from '../routing/router';
import { JobWriter } from './job-writer';

export interface GenerateDeps {
  router: Pick<ImageRouter, 'generate'>;
  jobs: Pick<JobStore, 'get' | 'update' | 'addAttempt' | 'markRunning'>;
}

/** The longest a job waits for an upstream's Retry-After before the activity retries. */
const MAX_RETRY_AFTER_MS = 60_000;
/**
 * Also while a synchronous upstream call runs. Temporal answers a heartbeat with the activity's
 * cancellation, and the worker sends at most one heartbeat per throttle interval (500 ms, see
 * bin/worker-role.ts): beating twice as often means one is always waiting, so a cancel reaches
 * the job within one throttle interval.
 */
const HEARTBEAT_EVERY_MS = 250;

/**
 * The `generateImages` activity: marks the job running, routes it to its providers (see ImageRouter), writing
 * attempts, progress and the upstream job in flight to the job as they happen. An asynchronous
 * upstream job's id is saved before polling starts, so a retry after a worker crash resumes
 * polling that same upstream job instead of submitting (and paying for) a new one.
 */
export function createGenerateActivity(deps: GenerateDeps) {
  return {
    async generateImages(input: GenerateInput): Promise<GenerateResult> {
      const context = Context.current();
      const writer = new JobWriter(deps.jobs, input.jobId);
      const beat = setInterval(() => heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        // Only a retry can find an upstream job to resume or earlier attempts to keep.
        const job = context.info.attempt > 1 ? await deps.jobs.get(input.jobId) : null;
        if (!job || job.status === 'queued') await deps.jobs.markRunning(input.jobId);
        return await deps.router.generate(input, {
          cancelled: context.cancellationSignal,
          earlierAttempts: job?.attempts ?? [],
          resume: job?.upstream,
          attemptFailed: (attempt) => writer.addAttempt(attempt),
          upstreamJob: (upstream) =>
            writer.update(upstream ? { upstream } : { upstream: null, progress: null, queue_position: null }),
          progress: (progress) => writer.progress(progress),
          queuePosition: (position) => writer.queuePosition(position),
          heartbeat: (details) => heartbeat(details),
        });
      } catch (err) {
        throw activityFailure(err);
      } finally {
        clearInterval(beat);
        await writer.drain();
      }
    },
  };
}

/** How a generation failure reaches the workflow: permanent ones are not retried. */
function activityFailure(err: unknown): unknown {
  if (err instanceof GenerationCancelled) return new CancelledFailure(err.message);
  if (!(err instanceof GenerationFailed)) return err;
  if (err.type === 'upstream_rate_limited') {
    // Every deployment asked us to come back later: Temporal retries the activity then.
    return ApplicationFailure.create({
      type: err.type,
      message: err.message,
      nonRetryable: false,
      nextRetryDelay: Math.min(Math.max(err.retryAfterMs ?? 0, 100), MAX_RETRY_AFTER_MS),
    });
  }
  return ApplicationFailure.create({
    type: err.type,
    message: err.message,
    nonRetryable: true,
    details: [err.attempts],
  });
}

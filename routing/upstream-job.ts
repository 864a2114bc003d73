import { sleep } from '../platform/abort';
import type { GenerationRequest, ImageProvider, UpstreamImage, UpstreamUsage } from '../providers/types';

/**
 * How long a cancelled job waits for the upstream to take its cancel: long enough for one HTTP
 * call, short enough that the job still settles about a second after its cancel.
 */
export const UPSTREAM_CANCEL_TIMEOUT_MS = 1_000;

/** How the upstream cancel of a cancelled job's upstream job ended. */
export type UpstreamCancelOutcome =
  { outcome: 'cancelled' } | { outcome: 'unsupported' } | { outcome: 'failed'; error: unknown };

export interface UpstreamJobHooks {
  /** Aborted when the job is cancelled or the attempt times out. */
  signal: AbortSignal;
  /** Aborted only when the job is cancelled: an upstream job then in flight is cancelled there too. */
  cancelled: AbortSignal;
  /** Pause between polls when the upstream gives no hint. */
  pollIntervalMs: number;
  /** An asynchronous upstream job was accepted: saved before any polling, so a crash can resume it. */
  accepted(upstreamJobId: string): Promise<void>;
  progress(progress: number): Promise<void>;
  /** The upstream's queue position of a job waiting there (null once it runs). */
  queuePosition?(position: number | null): Promise<void>;
  /** Called after every poll (the activity heartbeats with the upstream job id). */
  polled(upstreamJobId: string): void;
  /** The job was cancelled with this upstream job in flight; says how cancelling it upstream went. */
  upstreamCancelled?(upstreamJobId: string, result: UpstreamCancelOutcome): void;
}

/** An upstream job's images, with what the upstream reported using for them. */
export interface CompletedUpstreamJob {
  images: UpstreamImage[];
  usage?: UpstreamUsage;
}

const completed = (result: { images: UpstreamImage[]; usage?: UpstreamUsage }): CompletedUpstreamJob => ({
  images: result.images,
  ...(result.usage && { usage: result.usage }),
});

/**
 * Runs one upstream job to its images: submits it (or, given `resumeJobId`, picks up the job a
 * crashed run left), then polls an asynchronous one until it completes. Never submits twice.
 * When the job is cancelled while an asynchronous upstream job is in flight, the upstream job is
 * cancelled too where the adapter can (best effort, within UPSTREAM_CANCEL_TIMEOUT_MS), and the
 * error that stopped the polling is thrown as before.
 */
export async function runUpstreamJob(
  adapter: ImageProvider,
  request: GenerationRequest,
  resumeJobId: string | undefined,
  hooks: UpstreamJobHooks,
): Promise<CompletedUpstreamJob> {
  const context = {
    signal: hooks.signal,
    onProgress: (progress: number) => void hooks.progress(progress).catch(() => undefined),
  };
  const pollUntilDone = async (upstreamJobId: string, firstWaitMs: number): Promise<CompletedUpstreamJob> => {
    let wait = firstWaitMs;
    for (;;) {
      await sleep(wait, hooks.signal);
      const result = await adapter.poll(upstreamJobId, context);
      hooks.polled(upstreamJobId);
      if (result.status === 'completed') return completed(result);
      if (result.progress !== undefined) await hooks.progress(result.progress);
      await hooks.queuePosition?.(result.queuePosition ?? null);
      wait = result.pollAfterMs ?? hooks.pollIntervalMs;
    }
  };
  const inFlight = async (upstreamJobId: string, run: () => Promise<CompletedUpstreamJob>) => {
    try {
      return await run();
    } catch (err) {
      if (hooks.cancelled.aborted) await cancelUpstream(adapter, upstreamJobId, hooks);
      throw err;
    }
  };
  if (resumeJobId) return inFlight(resumeJobId, () => pollUntilDone(resumeJobId, 0));
  const submitted = await adapter.submit(request, context);
  if (submitted.status === 'completed') return completed(submitted);
  const upstreamJobId = submitted.upstreamJobId;
  return inFlight(upstreamJobId, async () => {
    await hooks.accepted(upstreamJobId);
    hooks.polled(upstreamJobId);
    return pollUntilDone(upstreamJobId, submitted.pollAfterMs ?? hooks.pollIntervalMs);
  });
}

/** Never throws and never takes longer than UPSTREAM_CANCEL_TIMEOUT_MS. */
async function cancelUpstream(
  adapter: ImageProvider,
  upstreamJobId: string,
  hooks: UpstreamJobHooks,
): Promise<void> {
  const report = (result: UpstreamCancelOutcome): void => {
    try {
      hooks.upstreamCancelled?.(upstreamJobId, result);
    } catch {
      // Reporting is best effort too.
    }
  };
  if (!adapter.cancel) return report({ outcome: 'unsupported' });
  const deadline = AbortSignal.timeout(UPSTREAM_CANCEL_TIMEOUT_MS);
  // The race bounds an adapter that ignores its signal.
  const timedOut = new Promise<never>((_, reject) =>
    deadline.addEventListener(
      'abort',
      () => reject(new Error(`no answer to the cancel within ${UPSTREAM_CANCEL_TIMEOUT_MS} ms`)),
      { once: true },
    ),
  );
  try {
    await Promise.race([adapter.cancel(upstreamJobId, deadline), timedOut]);
    report({ outcome: 'cancelled' });
  } catch (error) {
    report({ outcome: 'failed', error });
  }
}

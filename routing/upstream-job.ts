import { sleep } from '../platform/abort';
import type { GenerationRequest, ImageProvider, UpstreamImage } from '../providers/types';

export interface UpstreamJobHooks {
  signal: AbortSignal;
  /** Pause between polls when the upstream gives no hint. */
  pollIntervalMs: number;
  /** An asynchronous upstream job was accepted: saved before any polling, so a crash can resume it. */
  accepted(upstreamJobId: string): Promise<void>;
  progress(progress: number): Promise<void>;
  /** Called after every poll (the activity heartbeats with the upstream job id). */
  polled(upstreamJobId: string): void;
}

/**
 * Runs one upstream job to its images: submits it (or, given `resumeJobId`, picks up the job a
 * crashed run left), then polls an asynchronous one until it completes. Never submits twice.
 */
export async function runUpstreamJob(
  adapter: ImageProvider,
  request: GenerationRequest,
  resumeJobId: string | undefined,
  hooks: UpstreamJobHooks,
): Promise<UpstreamImage[]> {
  const context = {
    signal: hooks.signal,
    onProgress: (progress: number) => void hooks.progress(progress).catch(() => undefined),
  };
  const pollUntilDone = async (upstreamJobId: string, firstWaitMs: number): Promise<UpstreamImage[]> => {
    let wait = firstWaitMs;
    for (;;) {
      await sleep(wait, hooks.signal);
      const result = await adapter.poll(upstreamJobId, context);
      hooks.polled(upstreamJobId);
      if (result.status === 'completed') return result.images;
      if (result.progress !== undefined) await hooks.progress(result.progress);
      wait = result.pollAfterMs ?? hooks.pollIntervalMs;
    }
  };
  if (resumeJobId) return pollUntilDone(resumeJobId, 0);
  const submitted = await adapter.submit(request, context);
  if (submitted.status === 'completed') return submitted.images;
  await hooks.accepted(submitted.upstreamJobId);
  hooks.polled(submitted.upstreamJobId);
  return pollUntilDone(submitted.upstreamJobId, submitted.pollAfterMs ?? hooks.pollIntervalMs);
}

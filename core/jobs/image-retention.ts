import {
  ScheduleAlreadyRunning,
  ScheduleNotFoundError,
  ScheduleOverlapPolicy,
  type Client,
  type ScheduleOptionsAction,
} from '@temporalio/client';
import type { ImageRetentionInput } from './contract';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Keeps the image retention schedule (`image-retention-<task queue>`) in step with the configured
 * retention: created or updated when there is one, removed when there is none. It runs hourly
 * (more often for a retention of a few hours, as tests use); a run still going is not overlapped.
 */
export async function ensureImageRetention(
  client: Client,
  taskQueue: string,
  retentionDays: number | undefined,
): Promise<void> {
  const scheduleId = `image-retention-${taskQueue}`;
  const handle = client.schedule.getHandle(scheduleId);
  if (retentionDays === undefined) {
    await handle.delete().catch((err: unknown) => {
      if (!(err instanceof ScheduleNotFoundError)) throw err;
    });
    return;
  }
  const retentionMs = Math.round(retentionDays * DAY_MS);
  const every = Math.min(60 * 60 * 1000, Math.max(1_000, Math.round(retentionMs / 2)));
  const input: ImageRetentionInput = { retentionMs };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: 'imageRetentionWorkflow',
    workflowId: scheduleId,
    taskQueue,
    args: [input],
  };
  const spec = { intervals: [{ every }] };
  const policies = { overlap: ScheduleOverlapPolicy.SKIP };
  try {
    await client.schedule.create({ scheduleId, spec, action, policies });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await handle.update((current) => ({ ...current, spec, action, policies }));
  }
}

import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { ImageRetentionInput } from '../core/jobs/contract';

const { deleteExpiredImages } = proxyActivities<Activities>({
  startToCloseTimeout: '5 minutes',
  retry: { maximumInterval: '1 minute' },
});

/**
 * One run of the image retention schedule (`image-retention-<task queue>`): deletes the images of
 * every job that ended more than the retention period before this run started, a batch at a time.
 */
export async function imageRetentionWorkflow(input: ImageRetentionInput): Promise<number> {
  const before = new Date(workflowInfo().startTime.getTime() - input.retentionMs).toISOString();
  let deleted = 0;
  for (;;) {
    const batch = await deleteExpiredImages(before);
    deleted += batch;
    if (batch === 0) return deleted;
  }
}

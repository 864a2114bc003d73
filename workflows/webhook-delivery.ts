import { ActivityFailure, ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { WebhookDeliveryInput } from '../core/jobs/contract';

/**
 * Delivers a job's terminal event, retrying with exponential backoff for up to a day. A child of
 * the job workflow that outlives it (ParentClosePolicy ABANDON): the job and its credits are final
 * before the first delivery attempt, and a slow receiver never keeps the job open.
 */
export async function webhookDeliveryWorkflow(input: WebhookDeliveryInput): Promise<'delivered' | 'failed'> {
  const { deliverWebhook, markWebhookFailed } = proxyActivities<Activities>({
    startToCloseTimeout: '30 seconds',
    scheduleToCloseTimeout: '24 hours',
    retry: {
      initialInterval: input.initialRetryMs,
      backoffCoefficient: 2,
      maximumInterval: '1 hour',
      nonRetryableErrorTypes: ['webhook_gone', 'webhook_refused'],
    },
  });
  try {
    await deliverWebhook({ jobId: input.jobId, accountId: input.accountId });
    return 'delivered';
  } catch (err) {
    if (!(err instanceof ActivityFailure) && !(err instanceof ApplicationFailure)) throw err;
    await markWebhookFailed({ jobId: input.jobId, accountId: input.accountId });
    return 'failed';
  }
}

import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  ParentClosePolicy,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { webhookDeliveryWorkflow } from './webhook-delivery';
import type { Activities } from '../activities';
import type { ImagineInput, ImagineOutcome, SettledJobContext, SettleInput } from '../core/jobs/contract';
import type { JobAttempt, JobError } from '../core/jobs/store';
import { JOB_STATUS, PROVIDER } from '../core/jobs/search-attributes';

const JOB_DEADLINE = '15 minutes';

const { settleJob } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});

const { generateImages } = proxyActivities<Activities>({
  startToCloseTimeout: JOB_DEADLINE,
  // A worker that dies mid-job stops heartbeating; the retry runs on another worker and resumes
  // polling the upstream job recorded on the job.
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
  // On cancel, wait until the activity has stopped before settling: its last writes to the job
  // must land before the settlement's, or (on FerretDB v1, without atomic updates) undo it.
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

function errorOf(err: unknown): JobError & { attempts?: JobAttempt[] } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const attempts = Array.isArray(cause.details?.[0]) ? (cause.details[0] as JobAttempt[]) : undefined;
    return { code: cause.type ?? 'generation_failed', message: cause.message, ...(attempts && { attempts }) };
  }
  if (cause instanceof Error && cause.name === 'TimeoutFailure') {
    return { code: 'timeout', message: `The job did not finish within ${JOB_DEADLINE}.` };
  }
  return { code: 'generation_failed', message: cause instanceof Error ? cause.message : String(cause) };
}

/**
 * One image job, its credits reserved by the API: generate → store → capture (one activity and one
 * local activity: every step fewer is a workflow task's work fewer per job); on failure,
 * timeout or cancellation the whole reservation is released in a scope that cannot itself be
 * cancelled. The job document is written by the activities, so readers never query this workflow.
 * The workflow closes as the job ended — Completed, Failed (with the job's error) or Canceled —
 * and keeps its status and provider in search attributes, so that Temporal's own views tell them.
 */
export async function imagineJobWorkflow(input: ImagineInput): Promise<ImagineOutcome> {
  const settling: Pick<SettleInput, 'jobId' | 'reservation' | 'job'> = {
    jobId: input.jobId,
    reservation: input.reservation,
    job: {
      model: input.model,
      plan: input.plan,
      submittedAt: input.submittedAt,
      hasWebhook: Boolean(input.request.webhook_url),
    } satisfies SettledJobContext,
  };

  let settlement: SettleInput;
  let cancellation: Error | undefined;
  try {
    // The job document turns running when a worker starts generating (generateImages writes it).
    upsertSearchAttributes([{ key: JOB_STATUS, value: 'running' }]);
    const result = await generateImages({
      jobId: input.jobId,
      model: input.model,
      creditsPerImage: input.creditsPerImage,
      request: input.request,
    });
    settlement = {
      ...settling,
      status: 'succeeded',
      charge: input.request.n * result.creditsPerImage,
      model: result.model,
      provider: result.provider,
      sandbox: result.sandbox,
      images: result.images,
      attempts: result.attempts,
    };
  } catch (err) {
    if (isCancellation(err)) {
      cancellation = err as Error;
      settlement = {
        ...settling,
        status: 'canceled',
        error: { code: 'canceled', message: 'The job was cancelled; its credits were released.' },
      };
    } else {
      const { attempts, ...error } = errorOf(err);
      settlement = { ...settling, status: 'failed', error, ...(attempts && { attempts }) };
    }
  }
  // Settling must happen even when the workflow itself is being cancelled.
  const settled = await CancellationScope.nonCancellable(() => settleJob(settlement));
  upsertSearchAttributes([
    { key: JOB_STATUS, value: settlement.status },
    ...(settlement.provider !== undefined ? [{ key: PROVIDER, value: settlement.provider }] : []),
  ]);
  // The webhook goes out only once the job and its credits are final, from a child workflow that
  // outlives this one, so that a slow receiver never holds the job open.
  const webhook = settled.webhook;
  if (webhook) {
    await CancellationScope.nonCancellable(() =>
      startChild(webhookDeliveryWorkflow, {
        workflowId: `webhook-${input.jobId}`,
        args: [{ jobId: input.jobId, accountId: input.accountId, initialRetryMs: webhook.initialRetryMs }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      }),
    );
  }
  // Settled and told: now close as the job ended.
  if (cancellation !== undefined) throw cancellation;
  if (settlement.status === 'failed') {
    throw ApplicationFailure.create({
      type: settlement.error?.code ?? 'generation_failed',
      message: settlement.error?.message ?? 'The job failed.',
      nonRetryable: true,
    });
  }
  return { status: settlement.status, job: settled.job };
}

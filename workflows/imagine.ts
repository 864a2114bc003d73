import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  defineUpdate,
  isCancellation,
  proxyActivities,
  proxyLocalActivities,
  allHandlersFinished,
  ParentClosePolicy,
  patched,
  setHandler,
  startChild,
} from '@temporalio/workflow';
import { webhookDeliveryWorkflow } from './webhook-delivery';
import type { Activities } from '../activities';
import type { ImagineInput, ReservationResult, SettleInput } from '../activities/jobs';
import type { JobAttempt } from '../core/jobs/jobs';

export type { ImagineInput, ReservationResult };

/**
 * Submissions from before the API reserved credits itself waited on this update (update-with-start)
 * until the workflow had reserved or refused them; kept for those workflows.
 */
export const reservationUpdate = defineUpdate<ReservationResult>('reservation');

const JOB_DEADLINE = '15 minutes';

const { reserveJob, startJob, settleJob } = proxyLocalActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});

const generateOptions = {
  startToCloseTimeout: JOB_DEADLINE,
  // A worker that dies mid-job stops heartbeating; the retry runs on another worker and resumes
  // polling the upstream job recorded on the job.
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
} as const;

/** Jobs started before the patch below keep the old behaviour when they replay. */
const { generateImages: generateImagesWithoutWaiting } = proxyActivities<Activities>(generateOptions);

/**
 * On cancel, wait until the activity has stopped before settling: its last writes to the job
 * must land before the settlement's, or (on FerretDB v1, without atomic updates) undo it.
 */
const { generateImages: generateImagesWaitingOnCancel } = proxyActivities<Activities>({
  ...generateOptions,
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
});

export interface ImagineOutcome {
  status: ReservationResult['status'] | 'succeeded' | 'failed' | 'canceled';
  /** A refused reservation, so that a retry with the same Idempotency-Key gets the same answer. */
  reservation?: ReservationResult;
}

function errorOf(err: unknown): { code: string; message: string; attempts?: JobAttempt[] } {
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
 * One image job, its credits reserved by the API: generate → store → capture; on failure,
 * timeout or cancellation the whole reservation is released in a scope that cannot itself be
 * cancelled. The job document is
 * written by the activities, so readers never query this workflow.
 */
export async function imagineJobWorkflow(input: ImagineInput): Promise<ImagineOutcome> {
  let reservation: ReservationResult | undefined = undefined;
  // Registered before the first await, so that the update sent with the start is accepted.
  setHandler(reservationUpdate, async () => {
    await condition(() => reservation !== undefined);
    return reservation!;
  });

  // The API reserves before starting the workflow; older submissions reserve here.
  const reserved: ReservationResult = input.reservation
    ? {
        status: 'reserved',
        jobId: input.jobId,
        requestHash: input.requestHash,
        credits: input.reservation.credits,
        reservationSeq: input.reservation.seq,
        ...(input.reservation.split && { split: input.reservation.split }),
      }
    : await reserveJob(input);
  reservation = reserved;
  if (reserved.status !== 'reserved') {
    await condition(allHandlersFinished);
    return { status: reserved.status, reservation: reserved };
  }
  const reservationSeq = reserved.reservationSeq;
  const known = {
    ...(reserved.split && { reservation: { credits: reserved.credits, split: reserved.split } }),
    job: {
      model: input.model,
      plan: input.plan,
      submittedAt: input.submittedAt,
      hasWebhook: Boolean(input.request.webhook_url),
    },
  };

  let settlement: SettleInput;
  try {
    await startJob(input.jobId);
    const generateImages = patched('generate-waits-for-cancellation')
      ? generateImagesWaitingOnCancel
      : generateImagesWithoutWaiting;
    const result = await generateImages({
      jobId: input.jobId,
      model: input.model,
      creditsPerImage: input.creditsPerImage,
      request: input.request,
    });
    settlement = {
      jobId: input.jobId,
      accountId: input.accountId,
      reservationSeq,
      ...known,
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
      settlement = {
        jobId: input.jobId,
        accountId: input.accountId,
        reservationSeq,
        ...known,
        status: 'canceled',
        error: { code: 'canceled', message: 'The job was cancelled; its credits were released.' },
      };
    } else {
      const { attempts, ...error } = errorOf(err);
      settlement = {
        jobId: input.jobId,
        accountId: input.accountId,
        reservationSeq,
        ...known,
        status: 'failed',
        error,
        ...(attempts && { attempts }),
      };
    }
  }
  // Settling must happen even when the workflow itself is being cancelled.
  const settled = await CancellationScope.nonCancellable(() => settleJob(settlement));
  // The webhook goes out only once the job and its credits are final, from a child workflow that
  // outlives this one, so that a slow receiver never holds the job open.
  const webhook = settled?.webhook;
  if (webhook) {
    await CancellationScope.nonCancellable(() =>
      startChild(webhookDeliveryWorkflow, {
        workflowId: `webhook-${input.jobId}`,
        args: [{ jobId: input.jobId, accountId: input.accountId, initialRetryMs: webhook.initialRetryMs }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
      }),
    );
  }
  await condition(allHandlersFinished);
  return { status: settlement.status };
}

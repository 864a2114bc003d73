import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { imagineInputOf, jobRecordFromJson, type ImagineInput, type ImagineOutcome } from './contract';
import type { Logger } from '../../platform/logger';
import { ACCOUNT_ID, JOB_STATUS, MODEL } from './search-attributes';
import { isTerminal, type JobRecord, type JobStore } from './store';

/** How long a submission waits for Temporal to take a start (the client retries in between). */
const START_DEADLINE_MS = 10_000;
const DESCRIBE_DEADLINE_MS = 3_000;

/**
 * Starts a job's workflow once its credits are reserved and its document written. Starting again
 * is harmless: a running workflow with the job's id is kept, and a finished one is never
 * restarted (the id is not reused), so an API retry and the recovery sweep cannot run a job twice.
 */
export async function startJobWorkflow(
  client: Client,
  taskQueue: string,
  input: ImagineInput,
): Promise<void> {
  try {
    await client.withDeadline(Date.now() + START_DEADLINE_MS, () =>
      client.workflow.start<(input: ImagineInput) => Promise<ImagineOutcome>>('imagineJobWorkflow', {
        workflowId: input.jobId,
        taskQueue,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        typedSearchAttributes: [
          { key: ACCOUNT_ID, value: input.accountId },
          { key: MODEL, value: input.model },
          { key: JOB_STATUS, value: 'queued' },
        ],
      }),
    );
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

/** Whether the job's workflow is running now (not finished, not unknown). */
export async function workflowRunning(client: Client, jobId: string): Promise<boolean> {
  try {
    const description = await client.withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () =>
      client.workflow.getHandle(jobId).describe(),
    );
    return description.status.name === 'RUNNING';
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

/** Whether Temporal knows a workflow for this job (running or finished). */
export async function hasWorkflow(client: Client, jobId: string): Promise<boolean> {
  try {
    await client.withDeadline(Date.now() + DESCRIBE_DEADLINE_MS, () =>
      client.workflow.getHandle(jobId).describe(),
    );
    return true;
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) return false;
    throw err;
  }
}

export interface UnstartedJobSweep {
  client: Client;
  taskQueue: string;
  jobs: JobStore;
  logger: Logger;
  /**
   * A queued job this old without a workflow was orphaned by an API that stopped mid-submit; the
   * sweep also runs this often.
   */
  olderThanMs: number;
}

/**
 * The API reserves credits, writes the job, then starts its workflow. An API process killed
 * between the write and the start leaves a queued job holding credits that nothing would run or
 * release; this finds such jobs and starts them (the client was promised the job, not a refund).
 * Returns how many it started.
 */
export async function startUnstartedJobs(sweep: UnstartedJobSweep): Promise<number> {
  const stale = await sweep.jobs.queuedBefore(new Date(Date.now() - sweep.olderThanMs), 100);
  let started = 0;
  for (const job of stale) {
    if (await hasWorkflow(sweep.client, job._id)) continue;
    await startJobWorkflow(sweep.client, sweep.taskQueue, imagineInputOf(job));
    sweep.logger.warn({ jobId: job._id }, 'started a job whose submission stopped before its workflow');
    started++;
  }
  return started;
}

/**
 * Waits up to `timeoutMs` for a job to finish: on Temporal's long-poll for its workflow's close
 * (one request however long the job takes, instead of re-reading the document), then reads the
 * document, which the workflow settles before it closes. When the workflow cannot be waited on
 * (not started yet, Temporal unreachable) the document is polled for the time left.
 */
export async function waitForJob(
  client: Client,
  jobs: JobStore,
  job: JobRecord,
  timeoutMs: number,
  abandoned?: AbortSignal,
): Promise<JobRecord> {
  if (isTerminal(job.status) || timeoutMs <= 0) return job;
  // Whole milliseconds: `?wait=2.5` is a fine wait, and AbortSignal.timeout takes integers only.
  const waitMs = Math.ceil(timeoutMs);
  const deadline = Date.now() + waitMs;
  const stop = AbortSignal.any([AbortSignal.timeout(waitMs), ...(abandoned ? [abandoned] : [])]);
  try {
    const outcome = await client.withAbortSignal(stop, () =>
      client.workflow.getHandle<(input: ImagineInput) => Promise<ImagineOutcome>>(job._id).result(),
    );
    // A succeeded job's workflow returns the document its settlement wrote.
    if (outcome.job) return jobRecordFromJson(outcome.job);
  } catch {
    // Timed out, the caller left, the workflow failed or is unknown: the document tells.
  }
  const current = (await jobs.get(job._id)) ?? job;
  if (isTerminal(current.status) || Date.now() >= deadline || abandoned?.aborted) return current;
  return jobs.waitForTerminal(current, deadline - Date.now(), () => abandoned?.aborted ?? false);
}

/**
 * The contract between Easel's processes: the job workflow's input and outcome, the activities'
 * inputs and results, and the job document's queued form. The API, the workflows and the
 * activities all import these; none of them defines its own.
 */
import type { Reservation } from '../ledger/balances';
import type { JobAttempt, JobError, JobRecord, JobRequest, JobStatus, StoredImage } from './store';

/** `imagineJobWorkflow`'s input: the API has reserved the credits and written the queued job. */
export interface ImagineInput {
  jobId: string;
  accountId: string;
  plan: string;
  model: string;
  /** Catalog credits of `model`: fallback models costing more are not tried. */
  creditsPerImage: number;
  request: JobRequest;
  submittedAt: string;
  reservation: Reservation;
}

export type SettledStatus = Extract<JobStatus, 'succeeded' | 'failed' | 'canceled'>;

/** A value as a JSON payload carries it between processes (Temporal's data converter): Dates become ISO strings. */
export type AsJson<T> = T extends Date
  ? string
  : T extends readonly (infer U)[]
    ? AsJson<U>[]
    : T extends object
      ? { [K in keyof T]: AsJson<T[K]> }
      : T;

/** A job document as a workflow's result carried it, its dates back as Dates. */
export function jobRecordFromJson(json: AsJson<JobRecord>): JobRecord {
  const { attempts, upstream, webhook_attempts, images_deleted_at, started_at, completed_at, ...rest } = json;
  const dateOrNull = (at: string | null | undefined): Date | null | undefined =>
    typeof at === 'string' ? new Date(at) : at;
  return {
    ...rest,
    attempts: attempts.map((a) => ({ ...a, at: new Date(a.at) })),
    ...(upstream !== undefined && {
      upstream: upstream && { ...upstream, submitted_at: new Date(upstream.submitted_at) },
    }),
    ...(webhook_attempts !== undefined && {
      webhook_attempts: webhook_attempts.map((a) => ({ ...a, at: new Date(a.at) })),
    }),
    ...(images_deleted_at !== undefined && { images_deleted_at: dateOrNull(images_deleted_at) }),
    ...(started_at !== undefined && { started_at: dateOrNull(started_at) }),
    ...(completed_at !== undefined && { completed_at: dateOrNull(completed_at) }),
    created_at: new Date(rest.created_at),
    updated_at: new Date(rest.updated_at),
  };
}

export interface ImagineOutcome {
  status: SettledStatus;
  /**
   * The job document as its settlement wrote it, so that a reader waiting for the workflow's
   * close answers without reading it again (null: the document was missing).
   */
  job: AsJson<JobRecord> | null;
}

export interface GenerateInput {
  jobId: string;
  model: string;
  /** Credits reserved per image: fallback models costing more are not tried. */
  creditsPerImage: number;
  request: JobRequest;
}

export interface GenerateResult {
  model: string;
  /** Catalog credits of the model used (a fallback model may cost less than the one requested). */
  creditsPerImage: number;
  provider: string;
  sandbox: boolean;
  images: StoredImage[];
  attempts: JobAttempt[];
}

/** What the workflow knows of its job, so that settling needs no job read. */
export interface SettledJobContext {
  model: string;
  plan: string;
  submittedAt: string;
  hasWebhook: boolean;
}

export interface SettleInput {
  jobId: string;
  reservation: Reservation;
  job: SettledJobContext;
  status: SettledStatus;
  /** Credits to capture on success (the model actually used × n); nothing otherwise. */
  charge?: number;
  model?: string;
  provider?: string;
  sandbox?: boolean;
  images?: StoredImage[];
  attempts?: JobAttempt[];
  error?: JobError;
}

/** What the workflow does once a job is settled. */
export interface SettleResult {
  /** Start the webhook delivery, retrying from this first delay. */
  webhook?: { initialRetryMs: number };
  /** The settled job document (the workflow's result carries it to waiting readers). */
  job: AsJson<JobRecord> | null;
}

export interface WebhookDeliveryInput {
  jobId: string;
  accountId: string;
  /** First retry delay; it doubles up to an hour, for a day in all. */
  initialRetryMs: number;
}

/** One delivery attempt's input. */
export type DeliveryInput = Pick<WebhookDeliveryInput, 'jobId' | 'accountId'>;

/** One run of the image retention schedule. */
export interface ImageRetentionInput {
  /** Images of jobs that ended longer ago than this are deleted. */
  retentionMs: number;
}

export interface BillingPeriodInput {
  accountId: string;
}

/** The submission details the job document keeps besides the workflow input. */
export interface Submission {
  requestHash: string;
  idempotencyKey?: string;
  /** Images uploaded with the request, already in the image store (see JobRecord.input_images). */
  inputImages?: StoredImage[];
}

/** The job document written once its credits are reserved (status queued). */
export function queuedJobRecord(input: ImagineInput, submission: Submission): JobRecord {
  const submittedAt = new Date(input.submittedAt);
  return {
    _id: input.jobId,
    account_id: input.accountId,
    plan: input.plan,
    status: 'queued',
    model: input.model,
    request: input.request,
    request_hash: submission.requestHash,
    ...(submission.idempotencyKey !== undefined && { idempotency_key: submission.idempotencyKey }),
    credits_reserved: input.reservation.credits,
    credits_charged: 0,
    reservation: input.reservation,
    images: [],
    ...(submission.inputImages !== undefined && { input_images: submission.inputImages }),
    attempts: [],
    error: null,
    progress: null,
    upstream: null,
    created_at: submittedAt,
    updated_at: submittedAt,
  };
}

/** The workflow input that a queued job document describes. */
export function imagineInputOf(job: JobRecord): ImagineInput {
  return {
    jobId: job._id,
    accountId: job.account_id,
    plan: job.plan,
    model: job.model,
    creditsPerImage: job.credits_reserved / job.request.n,
    request: job.request,
    submittedAt: job.created_at.toISOString(),
    reservation: job.reservation,
  };
}

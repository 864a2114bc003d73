import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKey, typedCollection } from '../../platform/db';
import type { AspectRatio } from '../../providers/types';
import type { Reservation } from '../ledger/balances';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';
export const TERMINAL_STATUSES: readonly JobStatus[] = ['succeeded', 'failed', 'canceled'];
export const isTerminal = (status: JobStatus): boolean => TERMINAL_STATUSES.includes(status);
const FIRST_WAIT_POLL_MS = 100;
const MAX_WAIT_POLL_MS = 800;

/** What the client asked for, as validated by the API. */
export interface JobRequest {
  requested_model: string;
  task?: string;
  prompt: string;
  negative_prompt?: string;
  n: number;
  aspect_ratio: AspectRatio;
  seed?: number;
  image_urls?: string[];
  webhook_url?: string;
  metadata?: Record<string, string>;
  fallback_models?: string[];
}

export interface JobAttempt {
  provider: string;
  model: string;
  outcome: string;
  duration_ms: number;
  error?: string;
  at: Date;
}

export interface StoredImage {
  /** Key in the image store; the URL is derived from it when the job is read. */
  key: string;
  width: number;
  height: number;
  content_type: string;
  bytes: number;
}

/** An asynchronous upstream job: which deployment accepted it, for which model, under which id. */
export interface UpstreamJobRef {
  deployment: string;
  model: string;
  job_id: string;
  submitted_at: Date;
}

export interface JobError {
  code: string;
  message: string;
}

export interface WebhookAttempt {
  at: Date;
  status: number | null;
  outcome: 'delivered' | 'failed' | 'gone' | 'refused';
  duration_ms: number;
  error?: string;
}

export type WebhookState = 'pending' | 'delivered' | 'failed' | 'gone';

/** What a job says about its credits (the audit holds it against the ledger). */
export type JobSettlement = Pick<
  JobRecord,
  '_id' | 'status' | 'request_hash' | 'credits_reserved' | 'credits_charged' | 'reservation'
>;

export interface JobRecord {
  _id: string;
  account_id: string;
  plan: string;
  status: JobStatus;
  model: string;
  request: JobRequest;
  request_hash: string;
  idempotency_key?: string;
  credits_reserved: number;
  credits_charged: number;
  /** The ledger reservation this job settles (its credits_reserved come from it). */
  reservation: Reservation;
  provider?: string;
  sandbox?: boolean;
  images: StoredImage[];
  attempts: JobAttempt[];
  error?: JobError | null;
  progress?: number | null;
  /** The asynchronous upstream job in flight: a retried activity resumes polling it. */
  upstream?: UpstreamJobRef | null;
  webhook_state?: WebhookState | null;
  /** When the retention schedule deleted the job's images (they are gone from `images`). */
  images_deleted_at?: Date | null;
  webhook_attempts?: WebhookAttempt[];
  created_at: Date;
  started_at?: Date | null;
  completed_at?: Date | null;
  updated_at: Date;
}

const jobSchema = new Schema<JobRecord>(
  {
    _id: String,
    account_id: { type: String, required: true },
    plan: String,
    status: { type: String, required: true },
    model: String,
    request: { type: Schema.Types.Mixed, required: true },
    request_hash: String,
    idempotency_key: String,
    credits_reserved: Number,
    credits_charged: Number,
    reservation: { type: Schema.Types.Mixed, required: true },
    provider: String,
    sandbox: Boolean,
    images: { type: Schema.Types.Mixed, default: [] },
    attempts: { type: Schema.Types.Mixed, default: [] },
    error: { type: Schema.Types.Mixed, default: null },
    progress: { type: Number, default: null },
    upstream: { type: Schema.Types.Mixed, default: null },
    webhook_state: { type: String, default: null },
    images_deleted_at: { type: Date, default: null },
    webhook_attempts: { type: Schema.Types.Mixed, default: [] },
    created_at: Date,
    started_at: Date,
    completed_at: Date,
    updated_at: Date,
  },
  { versionKey: false, collection: 'jobs', minimize: false },
);

/**
 * Job state lives in MongoDB, written by the workflow's activities, so that reading a job never
 * touches Temporal. Every write is a whole-document update of one job by `_id` (FerretDB's fast
 * path), and each is safe to repeat.
 */
export class JobStore {
  private readonly model: Model<JobRecord>;

  constructor(
    connection: Connection = mongoose.connection,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.model = connection.models.Job ?? connection.model<JobRecord>('Job', jobSchema);
  }

  async init(): Promise<void> {
    await this.model.createCollection().catch(() => undefined);
  }

  /**
   * Inserts the job once: false when a job with this id exists already (a retried activity, or a
   * concurrent request with the same Idempotency-Key), which is left as it is.
   */
  async create(job: Omit<JobRecord, 'created_at' | 'updated_at'> & { created_at?: Date }): Promise<boolean> {
    const now = this.clock();
    try {
      await typedCollection(this.model).insertOne({
        ...job,
        created_at: job.created_at ?? now,
        updated_at: now,
      });
      return true;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return false;
    }
  }

  async get(jobId: string): Promise<JobRecord | null> {
    return this.model.findById(jobId).lean<JobRecord>();
  }

  /**
   * Re-reads the job until it is terminal or the time is up (long-polling). Reading the document,
   * not the workflow, lets any API replica answer whichever worker runs the job.
   */
  async waitForTerminal(
    job: JobRecord,
    timeoutMs: number,
    isClosed: () => boolean = () => false,
  ): Promise<JobRecord> {
    const deadline = Date.now() + timeoutMs;
    let current = job;
    // Quick first looks for short jobs, then a gentler pace for long ones.
    let pause = FIRST_WAIT_POLL_MS;
    while (!isTerminal(current.status) && Date.now() < deadline && !isClosed()) {
      await new Promise((r) => setTimeout(r, Math.min(pause, Math.max(0, deadline - Date.now()))));
      pause = Math.min(pause * 2, MAX_WAIT_POLL_MS);
      current = (await this.get(job._id)) ?? current;
    }
    return current;
  }

  async update(jobId: string, set: Partial<JobRecord>): Promise<void> {
    await this.model.updateOne({ _id: jobId }, { $set: { ...set, updated_at: this.clock() } });
  }

  async addAttempt(jobId: string, attempt: JobAttempt): Promise<void> {
    await this.model.updateOne(
      { _id: jobId },
      { $push: { attempts: attempt }, $set: { updated_at: this.clock() } },
    );
  }

  async addWebhookAttempt(jobId: string, attempt: WebhookAttempt, state: WebhookState): Promise<void> {
    await this.model.updateOne(
      { _id: jobId },
      { $push: { webhook_attempts: attempt }, $set: { webhook_state: state, updated_at: this.clock() } },
    );
  }

  async list(
    accountId: string,
    options: { status?: JobStatus; limit: number; before?: { created_at: Date; id: string } },
  ): Promise<JobRecord[]> {
    const filter: Record<string, unknown> = { account_id: accountId };
    if (options.status) filter.status = options.status;
    if (options.before) {
      filter.$or = [
        { created_at: { $lt: options.before.created_at } },
        { created_at: options.before.created_at, _id: { $lt: options.before.id } },
      ];
    }
    return this.model.find(filter).sort({ created_at: -1, _id: -1 }).limit(options.limit).lean<JobRecord[]>();
  }

  /** An account's jobs submitted in [from, to) (the usage report). */
  async createdBetween(accountId: string, from: Date, to: Date): Promise<JobRecord[]> {
    return this.model
      .find({ account_id: accountId, created_at: { $gte: from, $lt: to } })
      .lean<JobRecord[]>();
  }

  /** Succeeded jobs that ended before `before` and still have their images (the retention schedule). */
  async withImagesEndedBefore(before: Date, limit: number): Promise<JobRecord[]> {
    return this.model
      .find({ status: 'succeeded', completed_at: { $lt: before }, images_deleted_at: null })
      .limit(limit)
      .lean<JobRecord[]>();
  }

  /** Queued jobs submitted before `before`, oldest first (the unstarted-job sweep). */
  async queuedBefore(before: Date, limit: number): Promise<JobRecord[]> {
    return this.model
      .find({ status: 'queued', created_at: { $lt: before } })
      .sort({ created_at: 1 })
      .limit(limit)
      .lean<JobRecord[]>();
  }

  /** Every job of an account with what the audit compares with the ledger. */
  async settlementsOf(accountId: string): Promise<JobSettlement[]> {
    return this.model
      .find(
        { account_id: accountId },
        { _id: 1, status: 1, request_hash: 1, credits_reserved: 1, credits_charged: 1, reservation: 1 },
      )
      .lean<JobSettlement[]>();
  }
}

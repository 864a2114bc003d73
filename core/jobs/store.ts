import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { isDuplicateKey, typedCollection } from '../../platform/db';
import type { AspectRatio, ImageRole, OutputFormat } from '../../providers/types';
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
  /** A mask for the first of `image_urls` (transparent where the image may change). */
  mask_url?: string;
  output_format?: OutputFormat;
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
  /** How the deployment served the request differently from how it was asked ("16:9 served as 1536x1024"). */
  adaptations?: string[];
  /** What the upstream reported using (OpenAI's tokens, Gemini's usageMetadata). */
  upstream_usage?: Record<string, number>;
  /** For a job cancelled mid-attempt: whether its upstream job was cancelled there too. */
  upstream_cancel?: 'cancelled' | 'unsupported' | 'failed';
  at: Date;
}

export interface StoredImage {
  /** Key in the image store; the URL is derived from it when the job is read. */
  key: string;
  /** Absent: `image`. Midjourney's generations store their `grid` and four `candidate`s. */
  role?: ImageRole;
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

/** What the usage report reads of a job. */
export type UsageFacts = Pick<
  JobRecord,
  | '_id'
  | 'model'
  | 'plan'
  | 'status'
  | 'created_at'
  | 'credits_reserved'
  | 'credits_charged'
  | 'images_deleted_at'
> & { request: Pick<JobRequest, 'task' | 'n'>; images: unknown[] };

const accountDay = (accountId: string, day: string): string => `${accountId}:${day}`;

const USAGE_FIELDS = {
  _id: 1,
  model: 1,
  plan: 1,
  status: 1,
  created_at: 1,
  credits_reserved: 1,
  credits_charged: 1,
  'request.task': 1,
  'request.n': 1,
  images: 1,
  images_deleted_at: 1,
} as const;

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
  /**
   * Images uploaded with the request (`POST /v1/images/edits`), stored by Easel: `image_urls` and
   * `mask_url` are signed URLs of them. Never charged nor shown as the job's images; retention
   * deletes them with the job's images (null once deleted).
   */
  input_images?: StoredImage[] | null;
  attempts: JobAttempt[];
  error?: JobError | null;
  progress?: number | null;
  /** The job's place in the upstream's queue while it waits there (0: next). */
  queue_position?: number | null;
  /** The asynchronous upstream job in flight: a retried activity resumes polling it. */
  upstream?: UpstreamJobRef | null;
  webhook_state?: WebhookState | null;
  /** When the retention schedule deleted the job's images (they are gone from `images`). */
  images_deleted_at?: Date | null;
  webhook_attempts?: WebhookAttempt[];
  /** `<account>:<UTC day of created_at>`, set by `create`: the key the usage report reads a day by. */
  account_day?: string;
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
    input_images: { type: Schema.Types.Mixed, default: undefined },
    attempts: { type: Schema.Types.Mixed, default: [] },
    error: { type: Schema.Types.Mixed, default: null },
    progress: { type: Number, default: null },
    queue_position: { type: Number, default: null },
    upstream: { type: Schema.Types.Mixed, default: null },
    webhook_state: { type: String, default: null },
    images_deleted_at: { type: Date, default: null },
    webhook_attempts: { type: Schema.Types.Mixed, default: [] },
    created_at: Date,
    started_at: Date,
    completed_at: Date,
    updated_at: Date,
    account_day: String,
  },
  { versionKey: false, collection: 'jobs', minimize: false },
);
// An account's reads look up its own jobs by key, never by scanning other tenants' jobs: a page
// of its list comes from its ledger (jobListing.ts), its usage from one account-day at a time.
// The audit reads an account's jobs by account_id. (The dev stack's FerretDB narrows an equality
// on the leading field of an index through that index; it uses no other part of a compound one.)
jobSchema.index({ account_day: 1 }, { name: 'account_day' });
jobSchema.index({ account_id: 1, created_at: -1 }, { name: 'account_newest_first' });
// The sweeps: queued jobs that never started, succeeded jobs whose images retention deletes.
jobSchema.index({ status: 1, created_at: 1 }, { name: 'status_oldest_first' });
jobSchema.index({ status: 1, completed_at: 1 }, { name: 'status_by_completion' });

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
    await this.model.syncIndexes();
  }

  /**
   * Inserts the job once: false when a job with this id exists already (a retried activity, or a
   * concurrent request with the same Idempotency-Key), which is left as it is.
   */
  async create(
    job: Omit<JobRecord, 'created_at' | 'updated_at' | 'account_day'> & { created_at?: Date },
  ): Promise<boolean> {
    const now = this.clock();
    try {
      const createdAt = job.created_at ?? now;
      await typedCollection(this.model).insertOne({
        ...job,
        created_at: createdAt,
        updated_at: now,
        account_day: accountDay(job.account_id, createdAt.toISOString().slice(0, 10)),
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

  /** Jobs by id in one lookup by primary key; the ones that do not exist are left out. */
  async getMany(jobIds: readonly string[]): Promise<Map<string, JobRecord>> {
    if (jobIds.length === 0) return new Map();
    const found = await this.model.find({ _id: { $in: jobIds } }).lean<JobRecord[]>();
    return new Map(found.map((job) => [job._id, job]));
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

  /**
   * A queued job turns running (a worker started generating it); a job past queued is left as it
   * is, so that a retried generation keeps its first start and never undoes a settlement.
   */
  async markRunning(jobId: string): Promise<void> {
    const now = this.clock();
    await this.model.updateOne(
      { _id: jobId, status: 'queued' },
      { $set: { status: 'running', started_at: now, updated_at: now } },
    );
  }

  /** Like `update`, answering with the document as written (one round trip, not two). */
  async updateAndGet(jobId: string, set: Partial<JobRecord>): Promise<JobRecord | null> {
    return this.model
      .findOneAndUpdate(
        { _id: jobId },
        { $set: { ...set, updated_at: this.clock() } },
        { returnDocument: 'after' },
      )
      .lean<JobRecord>();
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

  /** An account's jobs submitted on one UTC day (`YYYY-MM-DD`), with what the usage report reads of them. */
  async submittedOn(accountId: string, day: string): Promise<UsageFacts[]> {
    return this.model.find({ account_day: accountDay(accountId, day) }, USAGE_FIELDS).lean<UsageFacts[]>();
  }

  /** Succeeded jobs that ended before `before` and still have their images (the retention schedule). */
  async withImagesEndedBefore(before: Date, limit: number): Promise<JobRecord[]> {
    return this.model
      .find({ status: 'succeeded', completed_at: { $lt: before }, images_deleted_at: null })
      .limit(limit)
      .lean<JobRecord[]>();
  }

  /**
   * Settled jobs that ended before `before` and still hold uploaded input images (the retention
   * schedule: a failed or cancelled job has no images of its own to delete, but may have inputs).
   */
  async withInputImagesEndedBefore(before: Date, limit: number): Promise<JobRecord[]> {
    return this.model
      .find({
        status: { $in: TERMINAL_STATUSES },
        completed_at: { $lt: before },
        input_images: { $exists: true, $ne: null },
      })
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

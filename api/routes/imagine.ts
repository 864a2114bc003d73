import { createHash } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { randomToken, sha256Hex } from '../../platform/ids';
import type { Account, AccountService } from '../../core/accounts/accounts';
import { resolveModel, type Catalog } from '../../core/catalog';
import { IdempotencyKeyReused, InvalidInput, ModelUnavailable } from '../../core/errors';
import { queuedJobRecord, type ImagineInput, type Submission } from '../../core/jobs/contract';
import { hasWorkflow, startJobWorkflow } from '../../core/jobs/job-workflow';
import type { JobRecord, JobRequest, JobStore } from '../../core/jobs/store';
import { presentJob } from '../../core/jobs/view';
import { MovementRefused, type Ledger, type Reservation } from '../../core/ledger/ledger';
import type { ProviderConfig } from '../../routing/deployments';
import { ASPECT_RATIOS } from '../../providers/types';
import { ApiError, tooManyRequests } from '../errors';
import { currentAccount } from '../middleware';
import type { RequestRateLimiter } from '../rate-limit';
import { parseInput } from '../validation';

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

export const imagineBody = z.strictObject({
  model: z.string().min(1, 'give a model, or "auto" with a task'),
  prompt: z.string().trim().min(1, 'must not be empty').max(4_000),
  task: z.string().min(1).optional(),
  n: z.number().int().min(1).max(4).default(1),
  aspect_ratio: z.enum(ASPECT_RATIOS as [string, ...string[]]).default('1:1'),
  seed: z.number().int().min(0).max(4_294_967_295).optional(),
  negative_prompt: z.string().max(2_000).optional(),
  image_urls: z.array(httpUrl).max(8).optional(),
  webhook_url: httpUrl.optional(),
  metadata: z
    .record(z.string().max(64), z.string().max(512))
    .refine((m) => Object.keys(m).length <= 16, 'at most 16 keys')
    .optional(),
  fallback_models: z.array(z.string()).max(4).optional(),
});
export type ImagineBody = z.infer<typeof imagineBody>;

export interface SubmitDeps {
  catalog: Catalog;
  providers: ProviderConfig;
  accounts: AccountService;
  ledger: Ledger;
  jobs: JobStore;
  temporal: Client;
  taskQueue: string;
  rateLimiter: RequestRateLimiter;
  baseUrl: () => string;
  /** Validates a webhook target (the webhooks layer refuses private addresses). */
  checkWebhookUrl?: (url: string) => Promise<void>;
  observe?: {
    submitted?(model: string, plan: string, credits: number): void;
    rateLimited?(plan: string, limit: string): void;
    insufficientCredits?(plan: string): void;
  };
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Accepts an image job: checks the plan's request rate, validates, reserves the credits in the
 * ledger (too few answer 402 at once, leaving nothing behind), writes the queued job and starts
 * its workflow. The answer never waits for a worker, however busy the workers are.
 */
export class JobSubmitter {
  constructor(private readonly deps: SubmitDeps) {}

  async submit(req: Request, res: Response): Promise<void> {
    const account = currentAccount(req);
    this.checkRequestRate(account);
    const body = parseInput(imagineBody, req.body);
    const job = await this.accept(account, body, req.header('idempotency-key'));
    res.status(202).location(`/v1/jobs/${job._id}`).json(presentJob(job, this.deps.baseUrl()));
  }

  /** The plan's requests-per-second limit (a 429 naming it when exceeded). */
  checkRequestRate(account: Account): void {
    const { deps } = this;
    const limits = deps.accounts.effectiveRateLimits(account);
    const wait = deps.rateLimiter.take(account._id, limits.requests_per_second);
    if (wait > 0) {
      deps.observe?.rateLimited?.(account.plan, 'requests_per_second');
      throw tooManyRequests(
        'rate_limited',
        `Too many requests: this account may submit ${limits.requests_per_second} per second.`,
        wait,
        {
          limit: 'requests_per_second',
          value: limits.requests_per_second,
        },
      );
    }
  }

  /**
   * Validates and reserves a job, returning it as it stands (queued, or further along for a
   * repeated Idempotency-Key). Refusals are ApiErrors: 402, 422, 429.
   */
  async accept(account: Account, body: ImagineBody, idempotencyKeyHeader?: string): Promise<JobRecord> {
    const { deps } = this;
    const limits = deps.accounts.effectiveRateLimits(account);
    const model = resolveModel(deps.catalog, body.model, body.task);
    if (deps.providers.unservedModels.includes(model)) throw new ModelUnavailable(model);
    for (const fallback of body.fallback_models ?? []) {
      if (!deps.catalog.models[fallback]) {
        throw new InvalidInput(`Unknown fallback model "${fallback}".`, {
          fallback_models: `unknown model "${fallback}"`,
        });
      }
    }
    if (body.webhook_url) await deps.checkWebhookUrl?.(body.webhook_url);

    const idempotencyKey = idempotencyKeyHeader?.trim();
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
      throw new InvalidInput('Idempotency-Key must be 1 to 255 characters.', {
        'Idempotency-Key': 'length 1–255',
      });
    }
    const requestHash = createHash('sha256').update(canonicalJson(body)).digest('hex');
    const jobId = idempotencyKey
      ? `job_${sha256Hex(`${account._id}\u0000${idempotencyKey}`).slice(0, 32)}`
      : `job_${randomToken(24)}`;
    const creditsPerImage = deps.catalog.models[model]!.credits;
    const request: JobRequest = {
      requested_model: body.model,
      prompt: body.prompt,
      n: body.n,
      aspect_ratio: body.aspect_ratio as JobRequest['aspect_ratio'],
      ...(body.task !== undefined && { task: body.task }),
      ...(body.negative_prompt !== undefined && { negative_prompt: body.negative_prompt }),
      ...(body.seed !== undefined && { seed: body.seed }),
      ...(body.image_urls !== undefined && { image_urls: body.image_urls }),
      ...(body.webhook_url !== undefined && { webhook_url: body.webhook_url }),
      ...(body.metadata !== undefined && { metadata: body.metadata }),
      ...(body.fallback_models !== undefined && { fallback_models: body.fallback_models }),
    };
    const submission: Submission = {
      requestHash,
      ...(idempotencyKey !== undefined && { idempotencyKey }),
    };

    if (idempotencyKey !== undefined) {
      const earlier = await deps.jobs.get(jobId);
      if (earlier) return sameRequestOrRefuse(earlier, requestHash);
    }
    const credits = creditsPerImage * body.n;
    const reservation = await this.reserve(account, jobId, credits, limits.concurrent_jobs);
    const input: ImagineInput = {
      jobId,
      accountId: account._id,
      plan: account.plan,
      model,
      creditsPerImage,
      request,
      submittedAt: new Date().toISOString(),
      reservation,
    };
    // The answer is the document as written: no read-back.
    const job = queuedJobRecord(input, submission);
    if (!(await deps.jobs.create(job))) {
      // A concurrent request with the same Idempotency-Key wrote the job first (and reserved its
      // credits: the reservation above was that one, replayed). Answer with that job.
      const twin = await deps.jobs.get(jobId);
      if (twin) {
        sameRequestOrRefuse(twin, requestHash);
        await startJobWorkflow(deps.temporal, deps.taskQueue, input);
        return twin;
      }
    }
    await this.start(input);
    deps.observe?.submitted?.(model, account.plan, credits);
    return job;
  }

  /** Reserves the job's credits in the ledger; too few credits or too many running jobs refuse it. */
  private async reserve(
    account: Account,
    jobId: string,
    credits: number,
    maxConcurrentJobs: number,
  ): Promise<Reservation> {
    const { deps } = this;
    try {
      return (await deps.ledger.reserve(account._id, jobId, credits, maxConcurrentJobs)).reservation;
    } catch (err) {
      if (err instanceof MovementRefused) {
        if (err.code === 'insufficient_credits') deps.observe?.insufficientCredits?.(account.plan);
        if (err.code === 'concurrent_jobs_limit')
          deps.observe?.rateLimited?.(account.plan, 'concurrent_jobs');
      }
      throw err;
    }
  }

  /**
   * Starts the job's workflow. When Temporal cannot be reached the job is marked failed and its
   * credits released at once, and the client is told to retry: nothing is left holding credits.
   * (A process killed before this point leaves a queued job that the worker's sweep starts.)
   */
  private async start(input: ImagineInput): Promise<void> {
    const { deps } = this;
    try {
      await startJobWorkflow(deps.temporal, deps.taskQueue, input);
    } catch (err) {
      // The start may have reached Temporal even though its answer did not reach us.
      if (await hasWorkflow(deps.temporal, input.jobId).catch(() => false)) return;
      const message =
        'Easel could not start this job (the workflow service did not answer); its credits were released.';
      await deps.ledger.release(input.reservation, 'not_started');
      await deps.jobs.update(input.jobId, {
        status: 'failed',
        error: { code: 'not_started', message },
        completed_at: new Date(),
      });
      throw new ApiError(503, 'temporarily_unavailable', `${message} Retry in a few seconds.`, {
        cause: err instanceof Error ? err.message : String(err),
      });
    }
  }
}

/** A repeated Idempotency-Key gets its job back, but only for the very same request body. */
function sameRequestOrRefuse(job: JobRecord, requestHash: string): JobRecord {
  if (job.request_hash !== requestHash) throw new IdempotencyKeyReused();
  return job;
}

export function imagineRoutes(submitter: JobSubmitter): Router {
  const router = Router();
  router.post('/imagine', (req, res) => submitter.submit(req, res));
  return router;
}

import { createHash } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { randomToken, sha256Hex } from '../../platform/ids';
import type { Account, AccountService } from '../../core/accounts/accounts';
import { catalogModel, resolveModel, type Catalog } from '../../core/catalog';
import {
  DomainError,
  IdempotencyKeyReused,
  InvalidInput,
  ModelUnavailable,
  UnsupportedParameters,
} from '../../core/errors';
import { capableDeployments } from '../../routing/capabilities';
import {
  imagineInputOf,
  queuedJobRecord,
  type ImagineInput,
  type Submission,
} from '../../core/jobs/contract';
import { hasWorkflow, startJobWorkflow } from '../../core/jobs/job-workflow';
import {
  isTerminal,
  type JobRecord,
  type JobRequest,
  type JobStore,
  type StoredImage,
} from '../../core/jobs/store';
import { presentJob, type ImageLinks } from '../../core/jobs/view';
import { MovementConflict, MovementRefused, type Ledger, type Reservation } from '../../core/ledger/ledger';
import { NO_FAILPOINTS, parseFailpoints, type Failpoints } from '../../platform/failpoints';
import type { Logger } from '../../platform/logger';
import type { ProviderConfig } from '../../routing/deployments';
import { ASPECT_RATIOS, OUTPUT_FORMATS, type OutputFormat } from '../../providers/types';
import { ApiError, tooManyRequests } from '../errors';
import { currentAccount } from '../middleware';
import type { RequestRateLimiter } from '../rate-limit';
import { parseInput } from '../validation';

/** The most reference images one job takes (`image_urls`, the uploads of `/v1/images/edits`). */
export const MAX_REFERENCE_IMAGES = 8;

const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

/**
 * Metadata is stored as a sub-document of the job, so its keys keep to an alphabet the database
 * takes literally: no "$" (an operator), "." (a path), NUL or spaces.
 */
const METADATA_KEY = /^[A-Za-z0-9_-][A-Za-z0-9_:-]{0,63}$/;
const metadataKeyRule = 'keys are 1 to 64 letters, digits, "_", "-" or ":" (not first)';

export const imagineBody = z
  .strictObject({
    model: z.string().min(1, 'give a model, or "auto" with a task'),
    prompt: z.string().trim().min(1, 'must not be empty').max(4_000),
    task: z.string().min(1).optional(),
    n: z.number().int().min(1).max(4).default(1),
    aspect_ratio: z.enum(ASPECT_RATIOS as [string, ...string[]]).default('1:1'),
    seed: z.number().int().min(0).max(4_294_967_295).optional(),
    negative_prompt: z.string().max(2_000).optional(),
    image_urls: z.array(httpUrl).max(MAX_REFERENCE_IMAGES).optional(),
    /** A mask for the first of `image_urls`: a PNG, transparent where the image may change. */
    mask_url: httpUrl.optional(),
    /** The image format; absent, each provider's default (PNG for most). */
    output_format: z.enum(OUTPUT_FORMATS as [OutputFormat, ...OutputFormat[]]).optional(),
    webhook_url: httpUrl.optional(),
    metadata: z
      // zod's records drop a `__proto__` key without a word (JSON.parse makes it an own key): refuse it.
      .preprocess(
        (m, ctx) => {
          if (m !== null && typeof m === 'object' && Object.hasOwn(m, '__proto__')) {
            ctx.issues.push({
              code: 'custom',
              input: m,
              message: `key "__proto__" refused: ${metadataKeyRule}`,
            });
          }
          return m;
        },
        z
          .record(z.string().regex(METADATA_KEY), z.string().max(512), {
            error: (issue) =>
              issue.code === 'invalid_key'
                ? `key ${JSON.stringify(issue.input)} refused: ${metadataKeyRule}`
                : undefined,
          })
          .refine((m) => Object.keys(m).length <= 16, 'at most 16 keys'),
      )
      .optional(),
    fallback_models: z.array(z.string()).max(4).optional(),
  })
  .refine((body) => body.mask_url === undefined || (body.image_urls?.length ?? 0) > 0, {
    path: ['mask_url'],
    message: 'a mask applies to the first of image_urls: give image_urls too',
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
  imageLinks: ImageLinks;
  /** Validates a webhook target (the webhooks layer refuses private addresses). */
  checkWebhookUrl?: (url: string) => Promise<void>;
  /** Honour the `Easel-Failpoint` header (tests only: EASEL_FAILPOINTS). */
  failpoints?: boolean;
  logger: Logger;
  observe?: {
    submitted?(model: string, plan: string, credits: number): void;
    rateLimited?(plan: string, limit: string): void;
    insufficientCredits?(plan: string): void;
  };
}

/** What a submission's HTTP request adds to its body. */
export interface SubmitContext {
  idempotencyKey?: string;
  failpoints: Failpoints;
  /** Images uploaded with the request, stored already; the body's image_urls and mask_url sign them. */
  uploads?: UploadedInputs;
}

/** What `POST /v1/images/edits` stored before submitting, and how the request hash sees it. */
export interface UploadedInputs {
  images: StoredImage[];
  /**
   * `image_urls` and `mask_url` as the request hash covers them: a stored upload by its bytes'
   * digest, since its signed URL is new on every retry (an Idempotency-Key replay must match).
   */
  hashedAs: Pick<ImagineBody, 'image_urls' | 'mask_url'>;
}

/**
 * A job whose reservation keeps being released before its document is written (each retry's job
 * write failed) stops reusing its key after this many reservations.
 */
const MAX_RESERVE_ATTEMPTS = 10;

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
    const job = await this.accept(account, body, this.contextOf(req));
    res.status(202).location(`/v1/jobs/${job._id}`).json(presentJob(job, this.deps.imageLinks));
  }

  /** The Idempotency-Key and, in tests, the faults armed for this request. */
  contextOf(req: Request): SubmitContext {
    const idempotencyKey = req.header('idempotency-key');
    const failpoint = this.deps.failpoints ? req.header('easel-failpoint') : undefined;
    return {
      ...(idempotencyKey !== undefined && { idempotencyKey }),
      failpoints: failpoint ? parseFailpoints(failpoint) : NO_FAILPOINTS,
    };
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

  /** Refuses, before anything is reserved, a request no deployment of the model can serve as asked. */
  private checkServable(model: string, body: ImagineBody): void {
    const { catalog, providers } = this.deps;
    const asked = { ...body, aspect_ratio: body.aspect_ratio as JobRequest['aspect_ratio'] };
    const { unmet } = capableDeployments(providers, model, asked);
    if (unmet.length === 0) return;
    const accepting = Object.keys(catalog.models).filter(
      (m) => m !== model && capableDeployments(providers, m, asked).capable.length > 0,
    );
    throw new UnsupportedParameters(model, unmet, accepting);
  }

  /**
   * Validates and reserves a job, returning it as it stands (queued, or further along for a
   * repeated Idempotency-Key). Refusals are ApiErrors: 402, 422, 429.
   */
  async accept(account: Account, body: ImagineBody, context: SubmitContext): Promise<JobRecord> {
    const { deps } = this;
    const limits = deps.accounts.effectiveRateLimits(account);
    const model = resolveModel(deps.catalog, body.model, body.task);
    if (deps.providers.unservedModels.includes(model)) throw new ModelUnavailable(model);
    this.checkServable(model, body);
    for (const fallback of body.fallback_models ?? []) {
      if (!catalogModel(deps.catalog, fallback)) {
        throw new InvalidInput(`Unknown fallback model "${fallback}".`, {
          fallback_models: `unknown model "${fallback}"`,
        });
      }
    }
    if (body.webhook_url) await deps.checkWebhookUrl?.(body.webhook_url);

    const idempotencyKey = context.idempotencyKey?.trim();
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 255)) {
      throw new InvalidInput('Idempotency-Key must be 1 to 255 characters.', {
        'Idempotency-Key': 'length 1–255',
      });
    }
    const hashed = context.uploads ? { ...body, ...context.uploads.hashedAs } : body;
    const requestHash = createHash('sha256').update(canonicalJson(hashed)).digest('hex');
    const jobId = idempotencyKey
      ? `job_${sha256Hex(`${account._id}\u0000${idempotencyKey}`).slice(0, 32)}`
      : `job_${randomToken(24)}`;
    const creditsPerImage = catalogModel(deps.catalog, model)!.credits;
    const request: JobRequest = {
      requested_model: body.model,
      prompt: body.prompt,
      n: body.n,
      aspect_ratio: body.aspect_ratio as JobRequest['aspect_ratio'],
      ...(body.task !== undefined && { task: body.task }),
      ...(body.negative_prompt !== undefined && { negative_prompt: body.negative_prompt }),
      ...(body.seed !== undefined && { seed: body.seed }),
      ...(body.image_urls !== undefined && { image_urls: body.image_urls }),
      ...(body.mask_url !== undefined && { mask_url: body.mask_url }),
      ...(body.output_format !== undefined && { output_format: body.output_format }),
      ...(body.webhook_url !== undefined && { webhook_url: body.webhook_url }),
      ...(body.metadata !== undefined && { metadata: body.metadata }),
      ...(body.fallback_models !== undefined && { fallback_models: body.fallback_models }),
    };
    const submission: Submission = {
      requestHash,
      ...(idempotencyKey !== undefined && { idempotencyKey }),
      ...(context.uploads && { inputImages: context.uploads.images }),
    };

    if (idempotencyKey !== undefined) {
      const earlier = await deps.jobs.get(jobId);
      if (earlier) {
        sameRequestOrRefuse(earlier, requestHash);
        // Its submission may have stopped before starting the workflow: the retry starts it.
        if (earlier.status === 'queued') {
          await startJobWorkflow(deps.temporal, deps.taskQueue, imagineInputOf(earlier));
        }
        return earlier;
      }
    }
    const credits = creditsPerImage * body.n;
    const reservation = await this.reserve(account, {
      jobId,
      credits,
      requestHash,
      maxOpenReservations: limits.concurrent_jobs,
    });
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
    let created: boolean;
    try {
      await context.failpoints.reach('submit.after_reserve');
      await context.failpoints.reach('submit.job_write');
      created = await deps.jobs.create(job);
    } catch (err) {
      // Nothing was promised yet: the credits go back at once. Should that fail as well, the
      // orphaned-reservation sweep releases them (and the audit reports them until it does).
      await deps.ledger
        .release(reservation, 'job_not_written')
        .catch((releaseErr: unknown) =>
          deps.logger.error({ err: releaseErr, jobId }, 'could not release the credits of an unwritten job'),
        );
      throw err;
    }
    await context.failpoints.reach('submit.after_job_write');
    if (!created) {
      // A concurrent request with the same Idempotency-Key wrote the job first.
      const twin = await deps.jobs.get(jobId);
      if (!twin) throw new Error(`job ${jobId} was reported written but cannot be read`);
      if (twin.reservation.seq !== reservation.seq) await deps.ledger.release(reservation, 'duplicate');
      sameRequestOrRefuse(twin, requestHash);
      if (!isTerminal(twin.status))
        await startJobWorkflow(deps.temporal, deps.taskQueue, imagineInputOf(twin));
      return twin;
    }
    await this.start(input);
    deps.observe?.submitted?.(model, account.plan, credits);
    return job;
  }

  /**
   * Reserves the job's credits in the ledger; too few credits or too many running jobs refuse it.
   * A retry of the same request (its Idempotency-Key and body) gets its open reservation back; a
   * reservation already released (its job write failed) is spent, and the retry reserves anew.
   * The same key with another body is refused, whatever the ledger holds under it.
   */
  private async reserve(
    account: Account,
    request: { jobId: string; credits: number; requestHash: string; maxOpenReservations: number },
  ): Promise<Reservation> {
    const { deps } = this;
    for (let attempt = 1; attempt <= MAX_RESERVE_ATTEMPTS; attempt++) {
      let reserved;
      try {
        reserved = await deps.ledger.reserve({ accountId: account._id, ...request, attempt });
      } catch (err) {
        if (err instanceof MovementConflict) throw new IdempotencyKeyReused();
        if (err instanceof MovementRefused) {
          if (err.code === 'insufficient_credits') deps.observe?.insufficientCredits?.(account.plan);
          if (err.code === 'concurrent_jobs_limit')
            deps.observe?.rateLimited?.(account.plan, 'concurrent_jobs');
        }
        throw err;
      }
      if (!reserved.replayed) return reserved.reservation;
      if (!(await deps.ledger.settlementOf(reserved.reservation))) return reserved.reservation;
    }
    throw new DomainError(
      'idempotency_key_conflict',
      `This Idempotency-Key's job could not be written ${MAX_RESERVE_ATTEMPTS} times; submit it under a new key.`,
    );
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
      // The cause names internal addresses: it goes to the log, not to the client.
      deps.logger.error({ err, jobId: input.jobId }, 'could not start a job workflow');
      throw new ApiError(503, 'temporarily_unavailable', `${message} Retry in a few seconds.`);
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

import { ApplicationFailure, CancelledFailure, Context, heartbeat } from '@temporalio/activity';
import type { Catalog } from '../core/catalog';
import type { Deployment, ProviderConfig } from '../core/deployments';
import { contentTypeOf, imageDimensions, type ImageStore } from '../core/images';
import type { JobAttempt, JobRequest, JobStore, StoredImage } from '../core/jobs/jobs';
import type { Metrics } from '../core/metrics';
import { routingPlan, type DeploymentStats } from '../core/routing';
import {
  dimensionsFor,
  ProviderError,
  type GenerationRequest,
  type ImageProvider,
  type PollResult,
  type ProviderCallContext,
  type SubmitResult,
  type UpstreamImage,
} from '../providers/types';

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

/** How each deployment call is made: routing and circuit breakers wrap it (see the routing issue). */
export interface DeploymentCaller {
  call<T>(deployment: Deployment, model: string, work: (signal: AbortSignal) => Promise<T>): Promise<T>;
  recordFallback?(model: string, from: string, to: string): void;
  /** Why the deployment should be skipped right now (e.g. cooling down after a 429), if it should. */
  unavailable?(deploymentId: string): { reason: string; retryAfterMs: number } | undefined;
}

export interface GenerateDeps {
  catalog: Catalog;
  providers: ProviderConfig;
  adapters: ReadonlyMap<string, ImageProvider>;
  jobs: JobStore;
  images: ImageStore;
  caller: DeploymentCaller;
  fetch?: typeof fetch;
  random?: () => number;
  stats?: (deploymentId: string) => DeploymentStats | undefined;
  /** Pause between polls of an asynchronous upstream job when it gives no hint. */
  pollIntervalMs?: number;
  metrics?: Metrics;
}

/** The longest a job waits for an upstream's Retry-After before the activity retries. */
const MAX_RETRY_AFTER_MS = 60_000;

const DEFAULT_POLL_INTERVAL_MS = 500;
/** Well under the activity's heartbeat timeout, also while a synchronous upstream call runs. */
const HEARTBEAT_EVERY_MS = 2_000;

/**
 * The job document's writer for one activity run. FerretDB v1 applies an update by reading and
 * rewriting the whole document without a lock, so two concurrent writes to one job can lose one
 * (a late progress update could even undo the settlement). Writes go one after another, and the
 * activity finishes them all before it returns.
 */
class JobWriter {
  private chain: Promise<void> = Promise.resolve();
  private lastProgress: number | undefined;

  constructor(
    private readonly jobs: JobStore,
    private readonly jobId: string,
  ) {}

  update(set: Parameters<JobStore['update']>[1]): Promise<void> {
    this.chain = this.chain.then(() => this.jobs.update(this.jobId, set));
    return this.chain;
  }

  /**
   * Records upstream progress when it moved. Completion (1) is left to the settlement, which
   * writes it with the images: one write per job fewer.
   */
  progress(progress: number): Promise<void> {
    if (progress >= 1 || progress === this.lastProgress) return this.chain;
    this.lastProgress = progress;
    return this.update({ progress });
  }

  addAttempt(attempt: JobAttempt): Promise<void> {
    this.chain = this.chain.then(() => this.jobs.addAttempt(this.jobId, attempt));
    return this.chain;
  }

  async drain(): Promise<void> {
    await this.chain.catch(() => undefined);
  }
}
const DOWNLOAD_TIMEOUT_MS = 60_000;

const sleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    const timer = setTimeout(resolve, ms);
    signal.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      },
      { once: true },
    );
  });

/**
 * The `generateImages` activity: tries the routing plan's deployments in order (then the allowed
 * fallback models), stores the images and reports every attempt. An asynchronous upstream job's
 * id is saved on the job before polling starts, so a retry after a worker crash resumes polling
 * that same upstream job instead of submitting (and paying for) a new one.
 */
export function createGenerateActivity(deps: GenerateDeps) {
  const pollInterval = deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const fetchImpl = deps.fetch ?? fetch;

  async function materialise(
    images: UpstreamImage[],
    request: JobRequest,
    signal: AbortSignal,
  ): Promise<StoredImage[]> {
    const fallbackSize = dimensionsFor(request.aspect_ratio);
    const stored: StoredImage[] = [];
    for (const image of images) {
      let bytes: Uint8Array;
      let declaredType: string | undefined;
      if (image.kind === 'bytes') {
        bytes = image.data;
        declaredType = image.contentType;
      } else {
        const res = await fetchImpl(image.url, {
          signal: AbortSignal.any([signal, AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)]),
        });
        if (!res.ok)
          throw new ProviderError(
            res.status >= 500 ? 'error' : 'rejected',
            `image download failed with HTTP ${res.status}`,
          );
        bytes = new Uint8Array(await res.arrayBuffer());
        declaredType = image.contentType ?? res.headers.get('content-type') ?? undefined;
      }
      const contentType = contentTypeOf(bytes) ?? declaredType ?? 'image/png';
      const size = imageDimensions(bytes) ?? {
        width: image.width ?? fallbackSize.width,
        height: image.height ?? fallbackSize.height,
      };
      const key = await deps.images.put(bytes, contentType);
      stored.push({ key, ...size, content_type: contentType, bytes: bytes.byteLength });
    }
    return stored;
  }

  async function pollUntilDone(
    adapter: ImageProvider,
    upstreamJobId: string,
    writer: JobWriter,
    context: ProviderCallContext,
    firstWaitMs?: number,
  ): Promise<UpstreamImage[]> {
    let wait = firstWaitMs ?? pollInterval;
    for (;;) {
      await sleep(wait, context.signal);
      const result: PollResult = await adapter.poll(upstreamJobId, context);
      heartbeat({ upstreamJobId });
      if (result.status === 'completed') return result.images;
      if (result.progress !== undefined) await writer.progress(result.progress);
      wait = result.pollAfterMs ?? pollInterval;
    }
  }

  async function attempt(
    input: GenerateInput,
    deployment: Deployment,
    model: string,
    resume: string | undefined,
    writer: JobWriter,
  ): Promise<StoredImage[]> {
    const adapter = deps.adapters.get(deployment.id);
    if (!adapter) throw new ProviderError('error', `deployment ${deployment.id} has no adapter`);
    const upstream = deployment.models[model]!;
    const request: GenerationRequest = {
      upstreamModel: upstream.upstream_model,
      model,
      prompt: input.request.prompt,
      n: input.request.n,
      aspectRatio: input.request.aspect_ratio,
      ...(input.request.negative_prompt !== undefined && { negativePrompt: input.request.negative_prompt }),
      ...(input.request.seed !== undefined && { seed: input.request.seed }),
      ...(input.request.image_urls !== undefined && { imageUrls: input.request.image_urls }),
    };
    const cancelled = Context.current().cancellationSignal;
    return deps.caller.call(deployment, model, async (timeoutSignal) => {
      const signal = AbortSignal.any([cancelled, timeoutSignal]);
      const context: ProviderCallContext = {
        signal,
        onProgress: (progress) => void writer.progress(progress).catch(() => undefined),
      };
      let images: UpstreamImage[];
      if (resume) {
        images = await pollUntilDone(adapter, resume, writer, context, 0);
      } else {
        const submitted: SubmitResult = await adapter.submit(request, context);
        if (submitted.status === 'completed') {
          images = submitted.images;
        } else {
          await writer.update({
            upstream: {
              deployment: deployment.id,
              model,
              job_id: submitted.upstreamJobId,
              submitted_at: new Date(),
            },
          });
          heartbeat({ upstreamJobId: submitted.upstreamJobId });
          images = await pollUntilDone(
            adapter,
            submitted.upstreamJobId,
            writer,
            context,
            submitted.pollAfterMs,
          );
        }
      }
      return materialise(images, input.request, signal);
    });
  }

  return {
    async generateImages(input: GenerateInput): Promise<GenerateResult> {
      const writer = new JobWriter(deps.jobs, input.jobId);
      const beat = setInterval(() => heartbeat(), HEARTBEAT_EVERY_MS);
      try {
        return await generate(input, writer);
      } finally {
        clearInterval(beat);
        await writer.drain();
      }
    },
  };

  async function generate(input: GenerateInput, writer: JobWriter): Promise<GenerateResult> {
    // Only a retry can find an upstream job to resume or earlier attempts to keep.
    const job = Context.current().info.attempt > 1 ? await deps.jobs.get(input.jobId) : null;
    const attempts: JobAttempt[] = [...(job?.attempts ?? [])];
    const allowed = (input.request.fallback_models ?? []).filter(
      (m) => m !== input.model && (deps.catalog.models[m]?.credits ?? Infinity) <= input.creditsPerImage,
    );
    const models = [input.model, ...allowed];
    let previous: string | undefined;
    let resume = job?.upstream ?? undefined;
    let retryAfterMs: number | undefined;

    for (const model of models) {
      const plan = routingPlan(model, deps.providers, {
        ...(deps.random && { random: deps.random }),
        ...(deps.stats && { stats: deps.stats }),
      });
      // A resumed upstream job goes first, on the deployment that accepted it.
      const order =
        resume && resume.model === model
          ? [...plan.deployments].sort((a) => (a.id === resume!.deployment ? -1 : 0))
          : plan.deployments;
      for (const deployment of order) {
        const resumeId =
          resume && resume.model === model && resume.deployment === deployment.id ? resume.job_id : undefined;
        resume = undefined;
        const skip = resumeId ? undefined : deps.caller.unavailable?.(deployment.id);
        if (skip) {
          retryAfterMs = Math.min(retryAfterMs ?? Infinity, skip.retryAfterMs);
          const record: JobAttempt = {
            provider: deployment.id,
            model,
            outcome: 'skipped',
            duration_ms: 0,
            error: skip.reason,
            at: new Date(),
          };
          attempts.push(record);
          await writer.addAttempt(record);
          continue;
        }
        if (previous && previous !== deployment.id) {
          deps.caller.recordFallback?.(model, previous, deployment.id);
        }
        previous = deployment.id;
        const started = Date.now();
        try {
          const images = await attempt(input, deployment, model, resumeId, writer);
          const record: JobAttempt = {
            provider: deployment.id,
            model,
            outcome: 'success',
            duration_ms: Date.now() - started,
            at: new Date(),
          };
          // The success is written with the settlement; failures are written at once (below)
          // so that a running job shows them and a retried activity keeps them.
          attempts.push(record);
          deps.metrics?.upstreamCost.inc(
            { provider: deployment.id, model },
            (deployment.models[model]!.cost_usd_micros * input.request.n) / 1e6,
          );
          return {
            model,
            creditsPerImage: deps.catalog.models[model]?.credits ?? input.creditsPerImage,
            provider: deployment.id,
            sandbox: deployment.type === 'sandbox',
            images,
            attempts,
          };
        } catch (err) {
          // A cancelled job reports the activity as cancelled, not as a provider failure.
          if (Context.current().cancellationSignal.aborted)
            throw new CancelledFailure('The job was cancelled.');
          const failure =
            err instanceof ProviderError
              ? err
              : new ProviderError('error', err instanceof Error ? err.message : String(err));
          if (failure.outcome === 'rate_limited' && failure.details.retryAfterMs !== undefined) {
            retryAfterMs = Math.min(retryAfterMs ?? Infinity, failure.details.retryAfterMs);
          }
          const record: JobAttempt = {
            provider: deployment.id,
            model,
            outcome: failure.details.upstreamCode === 'circuit_open' ? 'circuit_open' : failure.outcome,
            duration_ms: Date.now() - started,
            error: failure.message,
            at: new Date(),
          };
          attempts.push(record);
          await writer.addAttempt(record);
          await writer.update({ upstream: null, progress: null });
          if (
            failure.outcome === 'rejected' ||
            (failure.outcome === 'content_policy' && !deployment.retry_on_content_policy)
          ) {
            throw ApplicationFailure.create({
              type: failure.outcome,
              message: failure.message,
              nonRetryable: true,
              details: [attempts],
            });
          }
        }
      }
    }
    const thisRun = attempts.slice(job?.attempts.length ?? 0);
    if (
      retryAfterMs !== undefined &&
      thisRun.every((a) => a.outcome === 'rate_limited' || a.outcome === 'skipped')
    ) {
      // Every deployment asked us to come back later: Temporal retries the activity then.
      throw ApplicationFailure.create({
        type: 'upstream_rate_limited',
        message: `Every provider is rate limiting; retrying in ${Math.ceil(retryAfterMs / 1000)} s`,
        nonRetryable: false,
        nextRetryDelay: Math.min(Math.max(retryAfterMs, 100), MAX_RETRY_AFTER_MS),
      });
    }
    const summary = attempts
      .map((a) => `${a.provider}/${a.model}: ${a.outcome}${a.error ? ` (${a.error})` : ''}`)
      .join('; ');
    throw ApplicationFailure.create({
      type: 'all_providers_failed',
      message: `Every provider failed: ${summary || 'no deployment serves this model'}`,
      nonRetryable: true,
      details: [attempts],
    });
  }
}

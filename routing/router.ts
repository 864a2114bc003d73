import { catalogModel, type Catalog } from '../core/catalog';
import type { GenerateInput, GenerateResult } from '../core/jobs/contract';
import type { JobAttempt, UpstreamJobRef } from '../core/jobs/store';
import type { ImageStore } from '../platform/image-store';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import { createOutboundPolicy, DEFAULT_MAX_IMAGE_BYTES, type OutboundPolicy } from '../platform/outbound';
import { ProviderError, type GenerationRequest, type ImageProvider } from '../providers/types';
import type { DeploymentCaller } from './caller';
import { deploymentsFor, strategyFor, type Deployment, type ProviderConfig } from './deployments';
import { capableDeployments } from './capabilities';
import { materialiseImages } from './materialise';
import { routingPlan } from './plan';
import { runUpstreamJob, type UpstreamCancelOutcome } from './upstream-job';

/** Why a job's generation ended without images; the activity turns it into its failure. */
export class GenerationFailed extends Error {
  constructor(
    /** `rejected` / `content_policy` (the request's fault), `all_providers_failed`, or `upstream_rate_limited`. */
    readonly type: 'rejected' | 'content_policy' | 'all_providers_failed' | 'upstream_rate_limited',
    message: string,
    readonly attempts: JobAttempt[],
    /** For `upstream_rate_limited`: the soonest Retry-After any deployment gave. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'GenerationFailed';
  }
}

/** The job was cancelled while a deployment was working on it. */
export class GenerationCancelled extends Error {
  override name = 'GenerationCancelled';
}

/** What the router tells the job (its activity writes it to the job document). */
export interface GenerationHooks {
  /** Aborted when the job is cancelled. */
  cancelled: AbortSignal;
  /** Attempts of earlier runs of this job: kept, and the failure summary names them too. */
  earlierAttempts: JobAttempt[];
  /** The upstream job an earlier run left in flight: polled again first, never resubmitted. */
  resume?: UpstreamJobRef | null | undefined;
  /** A failed or skipped attempt, written at once so that a running job shows it. */
  attemptFailed(attempt: JobAttempt): Promise<void>;
  /** An asynchronous upstream job was accepted (null: the attempt holding it failed). */
  upstreamJob(upstream: UpstreamJobRef | null): Promise<void>;
  progress(progress: number): Promise<void>;
  /** Where the job waits in the upstream's queue (null: not waiting there). */
  queuePosition?(position: number | null): Promise<void>;
  heartbeat(details?: unknown): void;
}

export interface ImageRouterDeps {
  catalog: Catalog;
  providers: ProviderConfig;
  adapters: ReadonlyMap<string, ImageProvider>;
  images: Pick<ImageStore, 'put'>;
  caller: DeploymentCaller;
  /** Each deployment's outbound policy (createOutboundPolicies); built from its config when absent. */
  outbound?: ReadonlyMap<string, OutboundPolicy>;
  /** The fetch under the policies built here (tests inject fakes). */
  fetch?: typeof fetch;
  /** The largest upstream image downloaded (default 50 MiB). */
  maxImageBytes?: number;
  random?: () => number;
  /** Pause between polls of an asynchronous upstream job when it gives no hint. */
  pollIntervalMs?: number;
  metrics?: Metrics;
  /** Where the upstream cancels of cancelled jobs are reported. */
  logger?: Logger;
}

const DEFAULT_POLL_INTERVAL_MS = 500;

/**
 * Generates a job's images: tries the routing plan's deployments in order, then the fallback
 * models the request allows (none costing more than was reserved), stores the images and reports
 * every attempt. A rejected or content-policy answer ends the job at once (another provider would
 * refuse the same request); every other failure moves on to the next deployment.
 */
export class ImageRouter {
  private readonly pollIntervalMs: number;
  private readonly outbound = new Map<string, OutboundPolicy>();
  /** How cancelling each cancelled job's upstream job went, until its attempt records it. */
  private readonly upstreamCancels = new Map<string, UpstreamCancelOutcome>();

  constructor(private readonly deps: ImageRouterDeps) {
    this.pollIntervalMs = deps.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  }

  async generate(input: GenerateInput, hooks: GenerationHooks): Promise<GenerateResult> {
    const { deps } = this;
    const attempts: JobAttempt[] = [...hooks.earlierAttempts];
    const allowed = (input.request.fallback_models ?? []).filter(
      (m) =>
        m !== input.model && (catalogModel(deps.catalog, m)?.credits ?? Infinity) <= input.creditsPerImage,
    );
    let previous: string | undefined;
    let resume = hooks.resume ?? undefined;
    let retryAfterMs: number | undefined;

    for (const model of [input.model, ...allowed]) {
      const busy =
        strategyFor(deps.providers, model) === 'least_busy' && deps.caller.busy
          ? await deps.caller.busy(deploymentsFor(deps.providers, model).map((d) => d.id))
          : undefined;
      const plan = routingPlan(model, deps.providers, {
        ...(deps.random && { random: deps.random }),
        stats: deps.caller.stats,
        ...(busy && { busy }),
      });
      // Only deployments that can serve the request as asked (the API refused it if none could;
      // a fallback model whose deployments cannot is passed over). A resumed upstream job goes
      // first, on the deployment that accepted it.
      const capable = new Set(
        capableDeployments(deps.providers, model, input.request).capable.map((d) => d.id),
      );
      const candidates = plan.deployments.filter(
        (d) => capable.has(d.id) || (resume?.model === model && resume.deployment === d.id),
      );
      const order =
        resume && resume.model === model
          ? [...candidates].sort((a) => (a.id === resume!.deployment ? -1 : 0))
          : candidates;
      for (const deployment of order) {
        const resumeId =
          resume && resume.model === model && resume.deployment === deployment.id ? resume.job_id : undefined;
        resume = undefined;
        const skip = resumeId ? undefined : deps.caller.unavailable(deployment.id);
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
          await hooks.attemptFailed(record);
          continue;
        }
        if (previous && previous !== deployment.id)
          deps.caller.recordFallback(model, previous, deployment.id);
        previous = deployment.id;
        const started = Date.now();
        const adaptations = this.adaptations(input, deployment, model);
        try {
          const { images, usage } = await this.attempt(input, deployment, model, resumeId, hooks);
          // The success is written with the settlement; failures are written at once.
          attempts.push({
            provider: deployment.id,
            model,
            outcome: 'success',
            duration_ms: Date.now() - started,
            ...(adaptations.length > 0 && { adaptations }),
            ...(usage && { upstream_usage: usage }),
            at: new Date(),
          });
          deps.metrics?.upstreamCost.inc(
            { provider: deployment.id, model },
            (deployment.models[model]!.cost_usd_micros * input.request.n) / 1e6,
          );
          return {
            model,
            creditsPerImage: catalogModel(deps.catalog, model)?.credits ?? input.creditsPerImage,
            provider: deployment.id,
            sandbox: deployment.type === 'sandbox',
            images,
            attempts,
          };
        } catch (err) {
          // A cancelled job reports the job as cancelled, not as a provider failure; its attempt
          // says whether the upstream job in flight was cancelled there too.
          if (hooks.cancelled.aborted) {
            const upstream = this.upstreamCancels.get(input.jobId);
            this.upstreamCancels.delete(input.jobId);
            if (upstream) {
              await hooks.attemptFailed({
                provider: deployment.id,
                model,
                outcome: 'canceled',
                duration_ms: Date.now() - started,
                error: UPSTREAM_CANCEL_WORDS[upstream.outcome],
                upstream_cancel: upstream.outcome,
                at: new Date(),
              });
            }
            throw new GenerationCancelled('The job was cancelled.');
          }
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
            ...(adaptations.length > 0 && { adaptations }),
            at: new Date(),
          };
          attempts.push(record);
          await hooks.attemptFailed(record);
          await hooks.upstreamJob(null);
          if (
            failure.outcome === 'rejected' ||
            (failure.outcome === 'content_policy' && !deployment.retry_on_content_policy)
          ) {
            throw new GenerationFailed(failure.outcome, failure.message, attempts);
          }
        }
      }
    }
    const thisRun = attempts.slice(hooks.earlierAttempts.length);
    if (
      retryAfterMs !== undefined &&
      thisRun.every((a) => a.outcome === 'rate_limited' || a.outcome === 'skipped')
    ) {
      throw new GenerationFailed(
        'upstream_rate_limited',
        `Every provider is rate limiting; retrying in ${Math.ceil(retryAfterMs / 1000)} s`,
        attempts,
        retryAfterMs,
      );
    }
    const summary = attempts
      .map((a) => `${a.provider}/${a.model}: ${a.outcome}${a.error ? ` (${a.error})` : ''}`)
      .join('; ');
    throw new GenerationFailed(
      'all_providers_failed',
      `Every provider failed: ${summary || 'no deployment serves this model'}`,
      attempts,
    );
  }

  private async attempt(
    input: GenerateInput,
    deployment: Deployment,
    model: string,
    resumeJobId: string | undefined,
    hooks: GenerationHooks,
  ) {
    const { deps } = this;
    const adapter = deps.adapters.get(deployment.id);
    if (!adapter) throw new ProviderError('error', `deployment ${deployment.id} has no adapter`);
    const r = input.request;
    // One key per upstream request: a retry after a failure is a new request, a retried submit
    // of the same attempt (a crash before its id was saved) is the same one.
    const request = {
      ...generationRequest(input, deployment, model),
      idempotencyKey: `${input.jobId}-${hooks.earlierAttempts.length}-${deployment.id}`,
    };
    // The caller aborts the call's signal on the attempt's timeout and on the job's cancellation.
    const work = async (signal: AbortSignal) => {
      const done = await runUpstreamJob(adapter, request, resumeJobId, {
        signal,
        cancelled: hooks.cancelled,
        pollIntervalMs: this.pollIntervalMs,
        accepted: (jobId) =>
          hooks.upstreamJob({ deployment: deployment.id, model, job_id: jobId, submitted_at: new Date() }),
        progress: (progress) => hooks.progress(progress),
        queuePosition: async (position) => hooks.queuePosition?.(position),
        polled: (jobId) => hooks.heartbeat({ upstreamJobId: jobId }),
        upstreamCancelled: (jobId, result) => this.reportUpstreamCancel(input, deployment, jobId, result),
      });
      const images = await materialiseImages(done.images, {
        store: deps.images,
        outbound: this.outboundFor(deployment),
        maxBytes: deps.maxImageBytes ?? DEFAULT_MAX_IMAGE_BYTES,
        aspectRatio: r.aspect_ratio,
        signal,
      });
      return { images, ...(done.usage && { usage: done.usage }) };
    };
    return deps.caller.call(deployment, model, work, hooks.cancelled);
  }

  /** How the deployment's adapter will serve the request differently from how it was asked. */
  private adaptations(input: GenerateInput, deployment: Deployment, model: string): string[] {
    const adapter = this.deps.adapters.get(deployment.id);
    return adapter?.adaptations?.(generationRequest(input, deployment, model)) ?? [];
  }

  private outboundFor(deployment: Deployment): OutboundPolicy {
    const given = this.deps.outbound?.get(deployment.id);
    if (given) return given;
    let policy = this.outbound.get(deployment.id);
    if (!policy) {
      policy = createOutboundPolicy({
        allowPrivate: deployment.allow_private_network,
        ...(this.deps.fetch && { fetch: this.deps.fetch }),
      });
      this.outbound.set(deployment.id, policy);
    }
    return policy;
  }

  private reportUpstreamCancel(
    input: GenerateInput,
    deployment: Deployment,
    upstreamJobId: string,
    result: UpstreamCancelOutcome,
  ): void {
    // Self-describing upstream job ids can carry the prompt: only their start goes to the log.
    const fields = { jobId: input.jobId, provider: deployment.id, upstreamJobId: upstreamJobId.slice(0, 40) };
    const logger = this.deps.logger;
    this.upstreamCancels.set(input.jobId, result);
    if (result.outcome === 'cancelled') logger?.info(fields, 'cancelled the upstream job of a cancelled job');
    else if (result.outcome === 'unsupported')
      logger?.info(fields, 'the provider cannot cancel upstream jobs; the upstream job runs to its end');
    else
      logger?.warn({ ...fields, err: result.error }, 'could not cancel the upstream job of a cancelled job');
  }
}

const UPSTREAM_CANCEL_WORDS: Record<UpstreamCancelOutcome['outcome'], string> = {
  cancelled: 'job cancelled; the upstream job was cancelled too',
  unsupported: 'job cancelled; this provider cannot cancel, so its upstream job ran to its end',
  failed: 'job cancelled; cancelling the upstream job failed, it may run to its end',
};

/** The request one deployment receives for a job: its own id for the model, the job's parameters. */
function generationRequest(input: GenerateInput, deployment: Deployment, model: string): GenerationRequest {
  const r = input.request;
  return {
    upstreamModel: deployment.models[model]!.upstream_model,
    model,
    prompt: r.prompt,
    n: r.n,
    aspectRatio: r.aspect_ratio,
    ...(r.negative_prompt !== undefined && { negativePrompt: r.negative_prompt }),
    ...(r.seed !== undefined && { seed: r.seed }),
    ...(r.image_urls !== undefined && { imageUrls: r.image_urls }),
    ...(r.mask_url !== undefined && { maskUrl: r.mask_url }),
    ...(r.output_format !== undefined && { outputFormat: r.output_format }),
  };
}

import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { sleep as abortableSleep } from '../../platform/abort';
import { abortedCall, decodeJobId, encodeJobId, parseAdapterOptions } from '../shared';
import {
  ASPECT_RATIOS,
  dimensionsFor,
  OUTPUT_FORMATS,
  ProviderError,
  type AspectRatio,
  type GenerationRequest,
  type ImageProvider,
  type ModelCapabilities,
  type OutputFormat,
  type PollResult,
  type ProviderCallContext,
  type ProviderSettings,
  type SubmitResult,
  type UpstreamImage,
} from '../types';
import { renderSandboxImageAs } from './render';

export { renderSandboxImage, renderSandboxImageAs, type SandboxImageSpec } from './render';

/**
 * Prompt tokens that make the sandbox misbehave on purpose, so demos and tests can trigger each
 * failure path without randomness.
 */
export const SANDBOX_TOKENS = {
  fail: '[fail]',
  contentPolicy: '[content_policy]',
  timeout: '[timeout]',
} as const;

const sandboxOptionsSchema = z.strictObject({
  /** Simulated upstream processing time. */
  latency_ms: z.number().int().min(0).max(3_600_000).default(0),
  /** Probability that a submission fails with an `error` outcome. */
  failure_rate: z.number().min(0).max(1).default(0),
  /** `sync` answers submit with images; `async` answers with an upstream job id to poll. */
  mode: z.enum(['sync', 'async']).default('sync'),
  /** Long side of the images in pixels; the short side follows the aspect ratio. */
  long_side: z.number().int().min(16).max(4096).default(512),
});

export type SandboxOptions = z.output<typeof sandboxOptionsSchema>;

export interface SandboxDependencies {
  /** Draws against `failure_rate`; defaults to Math.random. */
  random?: () => number;
  /** Wall clock in ms; async jobs compare it with the submission time encoded in their id. */
  now?: () => number;
}

/** Parses a deployment's sandbox options, throwing an error that names the offending option. */
export function parseSandboxOptions(
  options: Record<string, unknown>,
  deploymentId = 'sandbox',
): SandboxOptions {
  return parseAdapterOptions(sandboxOptionsSchema, options, 'sandbox', deploymentId);
}

/**
 * The built-in offline provider: real PNGs, deterministic from model, prompt, seed and image
 * index, after a configurable latency and with a configurable failure rate.
 *
 * In `async` mode everything poll needs (request, submission time, latency, size) is encoded in
 * the upstream job id, so a worker that restarts can keep polling with a fresh instance.
 */
export function createSandboxProvider(
  settings: ProviderSettings,
  deps: SandboxDependencies = {},
): ImageProvider {
  const options = parseSandboxOptions(settings.options, settings.deploymentId);
  const random = deps.random ?? Math.random;
  const now = deps.now ?? Date.now;
  /** Nonces of the async jobs cancelled through this instance, oldest first (bounded). */
  const cancelled = new Set<string>();

  return {
    type: 'sandbox',
    capabilities: () => SANDBOX_CAPABILITIES,

    async submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult> {
      throwIfAborted(context.signal);
      validateRequest(request);
      const failsRandomly = options.failure_rate > 0 && random() < options.failure_rate;
      const job: SandboxJob = {
        v: 1,
        model: request.model,
        upstreamModel: request.upstreamModel,
        prompt: request.prompt,
        n: request.n,
        aspectRatio: request.aspectRatio,
        ...(request.seed === undefined ? {} : { seed: request.seed }),
        longSide: options.long_side,
        submittedAt: now(),
        latencyMs: options.latency_ms,
        nonce: randomBytes(6).toString('base64url'),
        ...(request.outputFormat !== undefined && { format: request.outputFormat }),
      };

      if (options.mode === 'async') {
        if (failsRandomly) throw simulatedFailure();
        return { status: 'pending', upstreamJobId: encodeJob(job), pollAfterMs: pollDelay(job.latencyMs) };
      }

      if (hasToken(job.prompt, SANDBOX_TOKENS.timeout)) await waitForAbort(context.signal);
      await sleep(job.latencyMs, context.signal);
      if (failsRandomly) throw simulatedFailure();
      throwForPromptTokens(job.prompt);
      context.onProgress?.(1);
      return { status: 'completed', images: await renderJob(job) };
    },

    async poll(upstreamJobId: string, context: ProviderCallContext): Promise<PollResult> {
      throwIfAborted(context.signal);
      const job = decodeJob(upstreamJobId);
      if (cancelled.has(job.nonce)) {
        throw new ProviderError('error', 'sandbox: the upstream job was cancelled', {
          upstreamCode: 'canceled',
        });
      }
      if (hasToken(job.prompt, SANDBOX_TOKENS.timeout)) {
        context.onProgress?.(0);
        return { status: 'pending', progress: 0, pollAfterMs: 1000 };
      }
      const elapsed = Math.max(0, now() - job.submittedAt);
      if (elapsed < job.latencyMs) {
        const progress = elapsed / job.latencyMs;
        context.onProgress?.(progress);
        return { status: 'pending', progress, pollAfterMs: pollDelay(job.latencyMs - elapsed) };
      }
      throwForPromptTokens(job.prompt);
      context.onProgress?.(1);
      return { status: 'completed', images: await renderJob(job) };
    },

    /**
     * Stops an async job: later polls of it fail as cancelled. The job lives in its id, so only
     * this instance remembers the cancel (a restarted worker forgets it, as it forgets nothing else).
     */
    async cancel(upstreamJobId: string, signal: AbortSignal): Promise<void> {
      throwIfAborted(signal);
      const job = decodeJob(upstreamJobId);
      cancelled.add(job.nonce);
      if (cancelled.size > MAX_REMEMBERED_CANCELS) {
        cancelled.delete(cancelled.values().next().value as string);
      }
    },
  };
}

const MAX_REMEMBERED_CANCELS = 10_000;

/**
 * The sandbox stands in for any model and takes every parameter (a negative prompt, reference
 * images and a mask are accepted and do not change the picture); it draws PNG, JPEG or WebP.
 */
export const SANDBOX_CAPABILITIES: ModelCapabilities = {
  maxImages: 10,
  seed: true,
  negativePrompt: true,
  maxReferenceImages: 16,
  mask: true,
  aspectRatios: ASPECT_RATIOS,
  outputFormats: OUTPUT_FORMATS,
  cancel: true,
};

const sandboxJobSchema = z.object({
  v: z.literal(1),
  model: z.string(),
  upstreamModel: z.string(),
  prompt: z.string(),
  n: z.number().int().min(1),
  aspectRatio: z.enum(ASPECT_RATIOS as [AspectRatio, ...AspectRatio[]]),
  seed: z.number().int().optional(),
  longSide: z.number().int().min(16),
  submittedAt: z.number(),
  latencyMs: z.number().min(0),
  nonce: z.string(),
  format: z.enum(OUTPUT_FORMATS as [OutputFormat, ...OutputFormat[]]).optional(),
});

type SandboxJob = z.output<typeof sandboxJobSchema>;

const JOB_ID_PREFIX = 'sbx1.';

function encodeJob(job: SandboxJob): string {
  return encodeJobId(JOB_ID_PREFIX, job);
}

function decodeJob(upstreamJobId: string): SandboxJob {
  return decodeJobId(JOB_ID_PREFIX, sandboxJobSchema, upstreamJobId, 'sandbox');
}

function validateRequest(request: GenerationRequest): void {
  const reject = (message: string): ProviderError =>
    new ProviderError('rejected', `sandbox: ${message}`, { upstreamCode: 'invalid_request' });
  if (!Number.isInteger(request.n) || request.n < 1 || request.n > 10)
    throw reject(`n must be 1–10, got ${request.n}`);
  if (!ASPECT_RATIOS.includes(request.aspectRatio))
    throw reject(`unsupported aspect ratio "${request.aspectRatio}"`);
  if (request.prompt.trim() === '') throw reject('prompt is empty');
  if (request.seed !== undefined && !Number.isInteger(request.seed)) throw reject('seed must be an integer');
}

async function renderJob(job: SandboxJob): Promise<UpstreamImage[]> {
  const { width, height } = dimensionsFor(job.aspectRatio, job.longSide);
  const format = job.format ?? 'png';
  return Promise.all(
    Array.from({ length: job.n }, async (_, index) => ({
      kind: 'bytes' as const,
      data: await renderSandboxImageAs(
        { model: job.model, prompt: job.prompt, seed: job.seed, index, width, height },
        format,
      ),
      contentType: `image/${format}`,
      width,
      height,
    })),
  );
}

function hasToken(prompt: string, token: string): boolean {
  return prompt.toLowerCase().includes(token);
}

function throwForPromptTokens(prompt: string): void {
  if (hasToken(prompt, SANDBOX_TOKENS.contentPolicy)) {
    throw new ProviderError(
      'content_policy',
      'sandbox: prompt refused by content policy ([content_policy] token)',
      {
        upstreamCode: 'content_policy',
      },
    );
  }
  if (hasToken(prompt, SANDBOX_TOKENS.fail)) {
    throw new ProviderError('error', 'sandbox: generation failed ([fail] token)', {
      upstreamCode: 'generation_failed',
    });
  }
}

function simulatedFailure(): ProviderError {
  return new ProviderError('error', 'sandbox: simulated upstream failure (failure_rate)', {
    status: 503,
    upstreamCode: 'simulated_failure',
  });
}

function pollDelay(remainingMs: number): number {
  return Math.min(Math.max(remainingMs, 0), 1000);
}

function abortError(signal: AbortSignal): ProviderError {
  return abortedCall(signal, 'sandbox');
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}

async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  throwIfAborted(signal);
  if (ms <= 0) return;
  await abortableSleep(ms, signal).catch(() => {
    throw abortError(signal);
  });
}

/** Never resolves; rejects when the call is aborted, as a hung upstream would. */
function waitForAbort(signal: AbortSignal): Promise<never> {
  throwIfAborted(signal);
  return new Promise((_, reject) => {
    signal.addEventListener('abort', () => reject(abortError(signal)), { once: true });
  });
}

import { z } from 'zod';
import { abortedCall, decodeJobId, encodeJobId, parseAdapterOptions } from '../shared';
import {
  outcomeForStatus,
  parseRetryAfter,
  ProviderError,
  ASPECT_RATIOS,
  OUTPUT_FORMATS,
  type AspectRatio,
  type GenerationRequest,
  type ModelCapabilities,
  type ImageProvider,
  type PollResult,
  type ProviderCallContext,
  type ProviderSettings,
  type SubmitResult,
  type UpstreamImage,
} from '../types';

/**
 * Black Forest Labs (api.bfl.ai), from its OpenAPI document (provider-specs/bfl.json).
 *
 * Submit is `POST {base}/v1/{model}` with an `x-key` header, answered by `{id, polling_url}`;
 * the result is polled at `polling_url` until `Ready` gives `result.sample`, a signed URL that
 * expires after a few minutes. BFL makes one image per request, so n images are n submissions,
 * all carried in the one upstream job id together with their polling URLs: after a restart,
 * polling resumes from the id alone and nothing is submitted twice.
 *
 * Submissions for n > 1 are sent one after another and stop at the first failure; tasks BFL had
 * already accepted are then abandoned (and billed by BFL), and the error goes to the caller.
 * BFL has no negative prompt and no mask (its capabilities say so, and routing sends it neither).
 * BFL's API has no cancel operation
 * (provider-specs/bfl.json lists none), so this adapter has no `cancel`: a cancelled job's tasks
 * run to their end upstream (and are billed by BFL).
 */

export const BFL_DEFAULT_BASE_URL = 'https://api.bfl.ai';

const bflOptionsSchema = z.strictObject({
  /** Long side in pixels for models sized by width/height; the short side follows the aspect ratio. */
  long_side: z.number().int().min(64).max(4096).default(1024),
  /** Format BFL renders; the signed result URL serves this type. */
  output_format: z.enum(['png', 'jpeg', 'webp']).default('png'),
  /** BFL's moderation tolerance, 0 (strict) to 6 (flux-2 models: 5); BFL's default when unset. */
  safety_tolerance: z.number().int().min(0).max(6).optional(),
  prompt_upsampling: z.boolean().optional(),
  /** Hint returned to the caller for the delay between polls. */
  poll_interval_ms: z.number().int().min(50).max(60_000).default(1000),
});

export type BflOptions = z.output<typeof bflOptionsSchema>;

export function parseBflOptions(options: Record<string, unknown>, deploymentId = 'bfl'): BflOptions {
  return parseAdapterOptions(bflOptionsSchema, options, 'bfl', deploymentId);
}

/** How one BFL endpoint wants its size and reference images, per the input schemas in the spec. */
export interface BflModelShape {
  size: 'dimensions' | 'aspect_ratio';
  multipleOf: number;
  min: number;
  max: number;
  maxInputImages: number;
}

export function bflModelShape(upstreamModel: string): BflModelShape {
  if (upstreamModel.startsWith('flux-2-klein')) {
    return { size: 'dimensions', multipleOf: 16, min: 64, max: 4096, maxInputImages: 4 };
  }
  if (upstreamModel.startsWith('flux-2-')) {
    return { size: 'dimensions', multipleOf: 16, min: 64, max: 4096, maxInputImages: 8 };
  }
  if (upstreamModel.startsWith('flux-kontext-')) {
    return { size: 'aspect_ratio', multipleOf: 1, min: 0, max: 0, maxInputImages: 4 };
  }
  if (upstreamModel.includes('ultra'))
    return { size: 'aspect_ratio', multipleOf: 1, min: 0, max: 0, maxInputImages: 0 };
  // flux-dev, flux-pro-1.1, flux-pro: width and height multiples of 32 in 256–1440.
  return { size: 'dimensions', multipleOf: 32, min: 256, max: 1440, maxInputImages: 0 };
}

export function bflDimensions(
  aspectRatio: AspectRatio,
  longSide: number,
  shape: BflModelShape,
): { width: number; height: number } {
  const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
  const fit = (x: number): number =>
    Math.min(shape.max, Math.max(shape.min, Math.round(x / shape.multipleOf) * shape.multipleOf));
  const long = fit(longSide);
  const short = fit((long * Math.min(w, h)) / Math.max(w, h));
  return w >= h ? { width: long, height: short } : { width: short, height: long };
}

/** n images are n tasks; more than this per job is refused by routing. */
const MAX_IMAGES_PER_JOB = 10;

export function bflCapabilities(upstreamModel: string): ModelCapabilities {
  return {
    maxImages: MAX_IMAGES_PER_JOB,
    seed: true,
    negativePrompt: false,
    maxReferenceImages: bflModelShape(upstreamModel).maxInputImages,
    mask: false,
    aspectRatios: ASPECT_RATIOS,
    outputFormats: OUTPUT_FORMATS,
    cancel: false,
  };
}

const asyncResponseSchema = z.object({ id: z.string().min(1), polling_url: z.string().optional() });

const resultResponseSchema = z.object({
  id: z.string().optional(),
  status: z.string(),
  result: z.unknown().optional(),
  progress: z.number().nullable().optional(),
  details: z.record(z.string(), z.unknown()).nullable().optional(),
});

type ResultResponse = z.output<typeof resultResponseSchema>;

const TERMINAL_FAILURES = new Set(['Task not found', 'Request Moderated', 'Content Moderated', 'Error']);

const bflJobSchema = z.object({
  v: z.literal(1),
  format: z.enum(['png', 'jpeg', 'webp']),
  tasks: z
    .array(
      z.object({
        id: z.string(),
        url: z.string(),
        width: z.number().int().optional(),
        height: z.number().int().optional(),
      }),
    )
    .min(1),
});

type BflJob = z.output<typeof bflJobSchema>;
type BflTask = BflJob['tasks'][number];

const JOB_ID_PREFIX = 'bfl1.';

export function createBflProvider(settings: ProviderSettings): ImageProvider {
  const options = parseBflOptions(settings.options, settings.deploymentId);
  const apiKey = settings.apiKey;
  if (!apiKey) {
    throw new Error(
      `deployment "${settings.deploymentId}" (bfl): no API key; set the environment variable the deployment names`,
    );
  }
  const baseUrl = (settings.baseUrl ?? BFL_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const fetchImpl = settings.fetch ?? fetch;
  const baseHost = new URL(baseUrl).hostname;

  /** The key goes only to the API's own host or a sibling (api.us1.bfl.ai for api.bfl.ai). */
  const mayReceiveKey = (url: string): boolean => {
    const host = new URL(url).hostname;
    const parent = baseHost.split('.').slice(1).join('.');
    return host === baseHost || (parent.includes('.') && host.endsWith(`.${parent}`));
  };

  async function send(
    url: string,
    init: { method: 'GET' | 'POST'; body?: unknown; withKey: boolean },
    signal: AbortSignal,
    what: string,
  ): Promise<{ response: Response; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (init.withKey) headers['x-key'] = apiKey as string;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await fetchImpl(url, {
        method: init.method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal,
      });
      const text = await response.text();
      let body: unknown;
      try {
        body = text === '' ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      return { response, body };
    } catch (error) {
      if (signal.aborted) throw abortError(signal, what);
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError('error', `bfl: ${what}: network error (${message})`, {
        upstreamCode: 'network_error',
      });
    }
  }

  async function submitOne(request: GenerationRequest, index: number, signal: AbortSignal): Promise<BflTask> {
    const shape = bflModelShape(request.upstreamModel);
    const body: Record<string, unknown> = {
      prompt: request.prompt,
      output_format: request.outputFormat ?? options.output_format,
    };
    let size: { width?: number; height?: number } = {};
    if (shape.size === 'dimensions') {
      size = bflDimensions(request.aspectRatio, options.long_side, shape);
      Object.assign(body, size);
    } else {
      body.aspect_ratio = request.aspectRatio;
    }
    if (request.seed !== undefined) body.seed = request.seed + index;
    if (options.safety_tolerance !== undefined) body.safety_tolerance = options.safety_tolerance;
    if (options.prompt_upsampling !== undefined) body.prompt_upsampling = options.prompt_upsampling;
    (request.imageUrls ?? []).forEach((url, i) => {
      body[i === 0 ? 'input_image' : `input_image_${i + 1}`] = url;
    });

    const what = `submit to ${request.upstreamModel}`;
    const { response, body: answer } = await send(
      `${baseUrl}/v1/${encodeURIComponent(request.upstreamModel)}`,
      { method: 'POST', body, withKey: true },
      signal,
      what,
    );
    if (!response.ok) throw httpError(response, answer, what);
    const parsed = asyncResponseSchema.safeParse(answer);
    if (!parsed.success) {
      throw new ProviderError('error', `bfl: ${what}: unexpected response (no task id)`, {
        status: response.status,
        upstreamCode: 'unexpected_response',
      });
    }
    const { id, polling_url: pollingUrl } = parsed.data;
    // Real clients must poll the URL BFL returns (it names the region); the id-only form is a fallback.
    const url =
      pollingUrl && isHttpUrl(pollingUrl)
        ? pollingUrl
        : `${baseUrl}/v1/get_result?id=${encodeURIComponent(id)}`;
    return { id, url, ...size };
  }

  async function getResult(task: BflTask, signal: AbortSignal): Promise<ResultResponse> {
    const what = `poll task ${task.id}`;
    const { response, body } = await send(
      task.url,
      { method: 'GET', withKey: mayReceiveKey(task.url) },
      signal,
      what,
    );
    const parsed = resultResponseSchema.safeParse(body);
    // A terminal task status is the answer even when it comes with an error code (e.g. 404).
    if (parsed.success && (response.ok || TERMINAL_FAILURES.has(parsed.data.status))) return parsed.data;
    if (!response.ok) throw httpError(response, body, what);
    throw new ProviderError('error', `bfl: ${what}: unexpected response`, {
      status: response.status,
      upstreamCode: 'unexpected_response',
    });
  }

  return {
    type: 'bfl',
    capabilities: bflCapabilities,

    adaptations(request: GenerationRequest): string[] {
      const notes: string[] = [];
      if (request.n > 1) notes.push(`${request.n} images as ${request.n} BFL tasks (one image each)`);
      const shape = bflModelShape(request.upstreamModel);
      if (shape.size === 'dimensions') {
        const { width, height } = bflDimensions(request.aspectRatio, options.long_side, shape);
        notes.push(`aspect ratio ${request.aspectRatio} rendered at ${width}x${height}`);
      }
      return notes;
    },

    async submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult> {
      if (context.signal.aborted) throw abortError(context.signal, 'submit');
      const shape = bflModelShape(request.upstreamModel);
      const imageCount = request.imageUrls?.length ?? 0;
      if (imageCount > shape.maxInputImages) {
        throw new ProviderError(
          'rejected',
          `bfl: ${request.upstreamModel} accepts at most ${shape.maxInputImages} reference image(s), got ${imageCount}`,
          { upstreamCode: 'too_many_images' },
        );
      }
      if (!Number.isInteger(request.n) || request.n < 1 || request.n > MAX_IMAGES_PER_JOB) {
        throw new ProviderError('rejected', `bfl: n must be 1–${MAX_IMAGES_PER_JOB}, got ${request.n}`);
      }
      if (request.negativePrompt !== undefined || request.maskUrl !== undefined) {
        throw new ProviderError('rejected', 'bfl: takes neither a negative prompt nor a mask', {
          upstreamCode: 'unsupported_parameters',
        });
      }
      const tasks: BflTask[] = [];
      for (let index = 0; index < request.n; index++) {
        tasks.push(await submitOne(request, index, context.signal));
      }
      const job: BflJob = { v: 1, format: request.outputFormat ?? options.output_format, tasks };
      return {
        status: 'pending',
        upstreamJobId: encodeJobId(JOB_ID_PREFIX, job),
        pollAfterMs: options.poll_interval_ms,
      };
    },

    async poll(upstreamJobId: string, context: ProviderCallContext): Promise<PollResult> {
      if (context.signal.aborted) throw abortError(context.signal, 'poll');
      const job = decodeJob(upstreamJobId);
      const results = await Promise.all(job.tasks.map((task) => getResult(task, context.signal)));

      const images: UpstreamImage[] = [];
      let progressSum = 0;
      for (const [i, result] of results.entries()) {
        const task = job.tasks[i] as BflTask;
        throwForTerminalFailure(result, task);
        if (result.status === 'Ready') {
          const sample = readSample(result.result);
          if (!sample) {
            throw new ProviderError('error', `bfl: task ${task.id} is Ready without result.sample`, {
              upstreamCode: 'missing_sample',
            });
          }
          images.push({
            kind: 'url',
            url: sample,
            contentType: `image/${job.format}`,
            ...(task.width && task.height ? { width: task.width, height: task.height } : {}),
          });
          progressSum += 1;
        } else {
          // Pending, and statuses newer than the stored spec (Reasoning, Generating): keep polling.
          progressSum += normaliseProgress(result.progress);
        }
      }
      if (images.length === job.tasks.length) {
        context.onProgress?.(1);
        return { status: 'completed', images };
      }
      const progress = progressSum / job.tasks.length;
      context.onProgress?.(progress);
      return { status: 'pending', progress, pollAfterMs: options.poll_interval_ms };
    },
  };
}

function decodeJob(upstreamJobId: string): BflJob {
  return decodeJobId(JOB_ID_PREFIX, bflJobSchema, upstreamJobId, 'bfl');
}

function throwForTerminalFailure(result: ResultResponse, task: BflTask): void {
  const reasons = moderationReasons(result.details);
  switch (result.status) {
    case 'Request Moderated':
    case 'Content Moderated':
      throw new ProviderError(
        'content_policy',
        `bfl: task ${task.id}: ${result.status}${reasons ? ` (${reasons})` : ''}`,
        { upstreamCode: result.status === 'Request Moderated' ? 'request_moderated' : 'content_moderated' },
      );
    case 'Error':
      throw new ProviderError('error', `bfl: task ${task.id} failed upstream`, {
        upstreamCode: 'generation_error',
      });
    case 'Task not found':
      throw new ProviderError('error', `bfl: task ${task.id} not found (expired or unknown)`, {
        upstreamCode: 'task_not_found',
      });
    default:
  }
}

function readSample(result: unknown): string | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const sample = (result as { sample?: unknown }).sample;
  return typeof sample === 'string' && isHttpUrl(sample) ? sample : undefined;
}

function moderationReasons(details: Record<string, unknown> | null | undefined): string | undefined {
  const reasons = details?.['Moderation Reasons'];
  return Array.isArray(reasons) && reasons.length > 0 ? reasons.map(String).join(', ') : undefined;
}

/** BFL reports progress as a fraction or a percentage depending on the model; accept both. */
function normaliseProgress(progress: number | null | undefined): number {
  if (progress === null || progress === undefined || !Number.isFinite(progress) || progress < 0) return 0;
  return Math.min(progress > 1 ? progress / 100 : progress, 0.99);
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

function httpError(response: Response, body: unknown, what: string): ProviderError {
  const status = response.status;
  // 402 means our BFL account is out of credits: the upstream's problem, so route elsewhere.
  const outcome = status === 402 ? 'error' : outcomeForStatus(status);
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const upstreamCode =
    status === 402 ? 'insufficient_credits' : status === 422 ? 'validation_error' : `http_${status}`;
  const detail = describeDetail(body);
  return new ProviderError(outcome, `bfl: ${what}: HTTP ${status}${detail ? `: ${detail}` : ''}`, {
    status,
    upstreamCode,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** FastAPI-style `{detail: string | [{loc, msg}]}`, or a short text body. */
function describeDetail(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 200);
  if (typeof body !== 'object' || body === null) return undefined;
  const detail = (body as { detail?: unknown }).detail;
  if (typeof detail === 'string') return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item: unknown) => {
        if (typeof item !== 'object' || item === null) return String(item);
        const { loc, msg } = item as { loc?: unknown; msg?: unknown };
        const where = Array.isArray(loc) ? loc.join('.') : '';
        return `${where}${where ? ': ' : ''}${typeof msg === 'string' ? msg : 'invalid'}`;
      })
      .join('; ');
  }
  return undefined;
}

function abortError(signal: AbortSignal, what: string): ProviderError {
  return abortedCall(signal, `bfl: ${what}`);
}

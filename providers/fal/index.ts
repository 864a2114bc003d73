import { z } from 'zod';
import { abortedCall, decodeJobId, encodeJobId, parseAdapterOptions } from '../shared';
import {
  outcomeForStatus,
  parseRetryAfter,
  ProviderError,
  type AspectRatio,
  type GenerationRequest,
  type ImageProvider,
  type ModelCapabilities,
  type PollResult,
  type ProviderCallContext,
  type ProviderSettings,
  type SubmitResult,
  type UpstreamImage,
  NO_CAPABILITIES,
} from '../types';
import { FAL_MODELS, falAppId, falDimensions, type FalModel } from './models';

export { FAL_MODELS, falDimensions, falAppId } from './models';

/**
 * fal.ai's queue (queue.fal.run), from fal's generated queue spec (provider-specs/fal-queue-flux-dev.json),
 * the queue, error and platform-header docs (docs.fal.ai "Queue", "Errors", "Request Error Types",
 * "Platform Headers") and the official client `@fal-ai/client` (fal-ai/fal-js, queue.ts, response.ts).
 *
 * Submit is `POST {base}/{model_id}` with `Authorization: Key <key>` and the model's own input
 * JSON, answered by `{request_id, status_url, response_url, cancel_url, queue_position}`. Status is
 * `GET …/requests/{id}/status?logs=1` (`IN_QUEUE` with `queue_position`, `IN_PROGRESS` with logs,
 * then `COMPLETED`, the only terminal state, also for failures); the result, `GET …/requests/{id}`,
 * passes on the model's own status and body: its images on fal's CDN, or its 422. Status, result
 * and cancel URLs name only `owner/app`, never an endpoint's sub-path, so the URLs fal returns are
 * followed — when they are on a host that may receive the key (the base's origin, or fal's own
 * `*.fal.run` over https; never `*.fal.media`, the CDN); otherwise the same URL is built on the base.
 *
 * Models without `num_images` (FLUX.2 [pro], [max], [flex]) make n images as n requests; every
 * request's URLs are carried in the upstream job id, so polling resumes from it after a restart.
 * An image fal flags in `has_nsfw_concepts` (a black image) fails the job as `content_policy`.
 * The queue has no idempotency key: a retried submit is a second request.
 *
 * `X-Fal-Request-Timeout` is sent with `start_timeout_s`: a request no runner has started by then
 * ends upstream (504, not billed) instead of running after Easel has given up on it.
 */

export const FAL_DEFAULT_BASE_URL = 'https://queue.fal.run';

const falOptionsSchema = z.strictObject({
  /** Long side in pixels for models sized by `image_size`; the short side follows the aspect ratio. */
  long_side: z.number().int().min(256).max(2048).default(1024),
  /** Format asked of models that take `output_format` when the request names none. */
  output_format: z.enum(['png', 'jpeg', 'webp']).default('png'),
  /** fal's safety checker, for models that have the switch. */
  enable_safety_checker: z.boolean().default(true),
  /** `safety_tolerance` (1 strict … 5 or 6), for models that take it; the model's default when unset. */
  safety_tolerance: z.number().int().min(1).max(6).optional(),
  /**
   * Prompt rewriting (FLUX.2 `enable_prompt_expansion`, Ideogram `expand_prompt`). Off by default so
   * the image follows the prompt as written, as every Easel provider does.
   */
  prompt_expansion: z.boolean().default(false),
  /** Nano Banana 2's output resolution. */
  resolution: z.enum(['0.5K', '1K', '2K', '4K']).default('1K'),
  /** Ideogram 3.0's rendering speed (and price tier). */
  rendering_speed: z.enum(['TURBO', 'BALANCED', 'QUALITY']).default('BALANCED'),
  /**
   * `X-Fal-Request-Timeout`: seconds fal may keep a request queued before a runner starts it (set it
   * to the deployment's `timeout_ms`); fal requires more than 1.
   */
  start_timeout_s: z.number().int().min(2).max(3600).default(120),
  /** Hint returned to the caller for the delay between polls. */
  poll_interval_ms: z.number().int().min(50).max(60_000).default(1000),
});

export type FalOptions = z.output<typeof falOptionsSchema>;

export function parseFalOptions(options: Record<string, unknown>, deploymentId = 'fal'): FalOptions {
  return parseAdapterOptions(falOptionsSchema, options, 'fal', deploymentId);
}

/** n images as n requests for models that make one per request; more per job is refused. */
const MAX_REQUESTS_PER_JOB = 10;

/** What a deployment can do for an upstream model (no key needed to know it). */
export function falCapabilities(
  upstreamModel: string,
  rawOptions: Record<string, unknown>,
): ModelCapabilities {
  parseFalOptions(rawOptions);
  return modelCapabilities(upstreamModel);
}

function modelCapabilities(upstreamModel: string): ModelCapabilities {
  const model = FAL_MODELS[upstreamModel];
  if (!model) return NO_CAPABILITIES;
  return {
    maxImages: model.maxPerRequest > 1 ? model.maxPerRequest : MAX_REQUESTS_PER_JOB,
    seed: true,
    negativePrompt: model.negativePrompt,
    maxReferenceImages: model.maxReferenceImages,
    mask: false,
    aspectRatios: model.size.kind === 'aspect_ratio' ? model.size.ratios : ALL_RATIOS,
    outputFormats: model.outputFormats,
    cancel: true,
  };
}

const ALL_RATIOS: readonly AspectRatio[] = [
  '1:1',
  '16:9',
  '9:16',
  '4:3',
  '3:4',
  '3:2',
  '2:3',
  '21:9',
  '9:21',
];

const submitResponseSchema = z.object({
  request_id: z.string().min(1),
  status_url: z.string().optional(),
  response_url: z.string().optional(),
  cancel_url: z.string().optional(),
  queue_position: z.number().optional(),
});

const statusResponseSchema = z.object({
  status: z.string(),
  queue_position: z.number().nullable().optional(),
  logs: z
    .array(z.object({ message: z.unknown() }).loose())
    .nullable()
    .optional(),
});

const resultSchema = z.object({
  images: z.array(
    z
      .object({
        url: z.string(),
        width: z.number().nullable().optional(),
        height: z.number().nullable().optional(),
        content_type: z.string().nullable().optional(),
      })
      .loose(),
  ),
  has_nsfw_concepts: z.array(z.boolean()).nullable().optional(),
});

const falJobSchema = z.object({
  v: z.literal(1),
  endpoint: z.string(),
  format: z.enum(['png', 'jpeg', 'webp']),
  requests: z
    .array(
      z.object({
        id: z.string(),
        images: z.number().int().min(1),
        status: z.string(),
        result: z.string(),
        cancel: z.string(),
      }),
    )
    .min(1),
});

type FalJob = z.output<typeof falJobSchema>;
type FalRequest = FalJob['requests'][number];

const JOB_ID_PREFIX = 'fal1.';

export function createFalProvider(settings: ProviderSettings): ImageProvider {
  const options = parseFalOptions(settings.options, settings.deploymentId);
  const apiKey = settings.apiKey;
  if (!apiKey) {
    throw new Error(
      `deployment "${settings.deploymentId}" (fal): no API key; set the environment variable the deployment names`,
    );
  }
  const baseUrl = (settings.baseUrl ?? FAL_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const baseOrigin = new URL(baseUrl).origin;
  const fetchImpl = settings.fetch ?? fetch;

  /** The key goes to the base's own origin and to fal's API hosts over https, never to the CDN. */
  const mayReceiveKey = (url: string): boolean => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return false;
    }
    if (parsed.origin === baseOrigin) return true;
    const host = parsed.hostname;
    return parsed.protocol === 'https:' && (host === 'fal.run' || host.endsWith('.fal.run'));
  };

  async function send(
    url: string,
    method: 'GET' | 'POST' | 'PUT',
    body: unknown,
    signal: AbortSignal,
    what: string,
  ): Promise<{ response: Response; body: unknown }> {
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Key ${apiKey}` };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      headers['x-fal-request-timeout'] = String(options.start_timeout_s);
    }
    try {
      const response = await fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: 'error',
        signal,
      });
      const text = await response.text();
      let parsed: unknown;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        parsed = text;
      }
      return { response, body: parsed };
    } catch (error) {
      if (signal.aborted) throw abortedCall(signal, `fal: ${what}`);
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError('error', `fal: ${what}: network error (${message})`, {
        upstreamCode: 'network_error',
      });
    }
  }

  function modelOf(upstreamModel: string): FalModel {
    const model = FAL_MODELS[upstreamModel];
    if (!model) {
      throw new ProviderError(
        'rejected',
        `fal: unknown upstream model "${upstreamModel}" (known: ${Object.keys(FAL_MODELS).join(', ')})`,
        { upstreamCode: 'unknown_model' },
      );
    }
    return model;
  }

  /** Refuses what capabilities() does not declare, before anything is sent. */
  function checkRequest(request: GenerationRequest, model: FalModel): void {
    const unsupported = (what: string): ProviderError =>
      new ProviderError('rejected', `fal: ${request.upstreamModel}: ${what}`, {
        upstreamCode: 'unsupported_parameters',
      });
    const caps = modelCapabilities(request.upstreamModel);
    if (!Number.isInteger(request.n) || request.n < 1 || request.n > caps.maxImages) {
      throw unsupported(`n must be 1–${caps.maxImages}, got ${request.n}`);
    }
    if (!caps.aspectRatios.includes(request.aspectRatio)) {
      throw unsupported(
        `aspect ratio ${request.aspectRatio} is not served (${caps.aspectRatios.join(', ')})`,
      );
    }
    if (request.negativePrompt !== undefined && !caps.negativePrompt)
      throw unsupported('takes no negative prompt');
    if (request.maskUrl !== undefined) throw unsupported('takes no mask');
    if (request.seed !== undefined && (!Number.isInteger(request.seed) || request.seed < 0)) {
      throw unsupported(`seed must be a non-negative integer, got ${request.seed}`);
    }
    const references = request.imageUrls?.length ?? 0;
    if (references > model.maxReferenceImages) {
      throw unsupported(`at most ${model.maxReferenceImages} reference image(s), got ${references}`);
    }
    const format = request.outputFormat;
    if (format !== undefined && !caps.outputFormats.includes(format)) {
      throw unsupported(`output format ${format} is not served (${caps.outputFormats.join(', ')})`);
    }
  }

  /** The output format asked: the request's, else the option's when the model serves it, else its first. */
  function formatFor(request: GenerationRequest, model: FalModel): FalJob['format'] {
    if (request.outputFormat) return request.outputFormat;
    return model.outputFormats.includes(options.output_format)
      ? options.output_format
      : model.outputFormats[0]!;
  }

  function inputFor(
    request: GenerationRequest,
    model: FalModel,
    images: number,
    index: number,
  ): Record<string, unknown> {
    const input: Record<string, unknown> = { prompt: request.prompt };
    if (model.size.kind === 'image_size') {
      input.image_size = falDimensions(request.aspectRatio, options.long_side, model.size);
    } else {
      input.aspect_ratio = request.aspectRatio;
    }
    if (model.maxPerRequest > 1) input.num_images = images;
    if (request.seed !== undefined) input.seed = request.seed + index;
    if (model.sendsOutputFormat) input.output_format = formatFor(request, model);
    if (model.enableSafetyChecker) input.enable_safety_checker = options.enable_safety_checker;
    if (model.maxSafetyTolerance > 0 && options.safety_tolerance !== undefined) {
      input.safety_tolerance = String(Math.min(options.safety_tolerance, model.maxSafetyTolerance));
    }
    if (model.promptExpansion) input[model.promptExpansion] = options.prompt_expansion;
    if (model.resolution) input.resolution = options.resolution;
    if (model.renderingSpeed) input.rendering_speed = options.rendering_speed;
    if (request.negativePrompt !== undefined) input.negative_prompt = request.negativePrompt;
    if (request.imageUrls && request.imageUrls.length > 0) input.image_urls = request.imageUrls;
    return input;
  }

  async function submitOne(
    endpoint: string,
    input: Record<string, unknown>,
    images: number,
    signal: AbortSignal,
  ): Promise<FalRequest> {
    const what = `submit to ${endpoint}`;
    const { response, body } = await send(`${baseUrl}/${endpoint}`, 'POST', input, signal, what);
    if (!response.ok) throw httpError(response, body, what);
    const parsed = submitResponseSchema.safeParse(body);
    if (!parsed.success) throw unexpected(what, response.status, 'no request_id');
    const { request_id: id } = parsed.data;
    const built = `${baseUrl}/${falAppId(endpoint)}/requests/${encodeURIComponent(id)}`;
    const follow = (url: string | undefined, fallback: string): string =>
      url !== undefined && mayReceiveKey(url) ? url : fallback;
    return {
      id,
      images,
      status: follow(parsed.data.status_url, `${built}/status`),
      result: follow(parsed.data.response_url, built),
      cancel: follow(parsed.data.cancel_url, `${built}/cancel`),
    };
  }

  async function readStatus(
    request: FalRequest,
    signal: AbortSignal,
  ): Promise<z.output<typeof statusResponseSchema>> {
    const what = `status of request ${request.id}`;
    const url = new URL(request.status);
    url.searchParams.set('logs', '1');
    const { response, body } = await send(url.toString(), 'GET', undefined, signal, what);
    if (!response.ok) throw httpError(response, body, what);
    const parsed = statusResponseSchema.safeParse(body);
    if (!parsed.success) throw unexpected(what, response.status, 'no status');
    return parsed.data;
  }

  async function readResult(
    request: FalRequest,
    format: string,
    signal: AbortSignal,
  ): Promise<UpstreamImage[]> {
    const what = `result of request ${request.id}`;
    const { response, body } = await send(request.result, 'GET', undefined, signal, what);
    if (!response.ok) throw httpError(response, body, what);
    const parsed = resultSchema.safeParse(body);
    if (!parsed.success) throw unexpected(what, response.status, 'no images');
    const { images, has_nsfw_concepts: nsfw } = parsed.data;
    const flagged = (nsfw ?? []).filter(Boolean).length;
    if (flagged > 0) {
      throw new ProviderError(
        'content_policy',
        `fal: ${what}: ${flagged} of ${images.length} image(s) flagged by fal's safety checker (has_nsfw_concepts; returned black)`,
        { status: response.status, upstreamCode: 'nsfw_concepts' },
      );
    }
    if (images.length !== request.images) {
      throw unexpected(what, response.status, `${images.length} image(s) for ${request.images} asked`);
    }
    return images.map((image) => {
      const size =
        typeof image.width === 'number' && typeof image.height === 'number'
          ? { width: image.width, height: image.height }
          : {};
      if (image.url.startsWith('data:'))
        return { ...dataUriImage(image.url, what, response.status), ...size };
      if (!isHttpUrl(image.url)) throw unexpected(what, response.status, 'an image without an http(s) URL');
      return { kind: 'url', url: image.url, contentType: image.content_type ?? `image/${format}`, ...size };
    });
  }

  return {
    type: 'fal',
    capabilities: modelCapabilities,

    adaptations(request: GenerationRequest): string[] {
      const model = FAL_MODELS[request.upstreamModel];
      if (!model) return [];
      const notes: string[] = [];
      if (model.maxPerRequest === 1 && request.n > 1) {
        notes.push(`${request.n} images as ${request.n} fal requests (one image each)`);
      }
      if (model.size.kind === 'image_size') {
        const { width, height } = falDimensions(request.aspectRatio, options.long_side, model.size);
        notes.push(`aspect ratio ${request.aspectRatio} rendered at ${width}x${height}`);
      }
      const references = request.imageUrls?.length ?? 0;
      if (references > 0) {
        notes.push(
          model.editEndpoint
            ? `${references} reference image(s) sent to ${model.editEndpoint}`
            : `${references} reference image(s) sent as Ideogram style references`,
        );
      }
      if (model.promptExpansion && options.prompt_expansion) {
        notes.push('fal prompt expansion on: the prompt may be rewritten before generating');
      }
      return notes;
    },

    async submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult> {
      const { signal } = context;
      if (signal.aborted) throw abortedCall(signal, 'fal: submit');
      const model = modelOf(request.upstreamModel);
      checkRequest(request, model);
      const endpoint =
        (request.imageUrls?.length ?? 0) > 0 && model.editEndpoint ? model.editEndpoint : model.endpoint;
      const counts = model.maxPerRequest > 1 ? [request.n] : Array.from({ length: request.n }, () => 1);
      const requests: FalRequest[] = [];
      // One after another, stopping at the first failure: requests fal accepted are then abandoned.
      for (const [index, images] of counts.entries()) {
        requests.push(await submitOne(endpoint, inputFor(request, model, images, index), images, signal));
      }
      const job: FalJob = { v: 1, endpoint, format: formatFor(request, model), requests };
      return {
        status: 'pending',
        upstreamJobId: encodeJobId(JOB_ID_PREFIX, job),
        pollAfterMs: options.poll_interval_ms,
      };
    },

    async poll(upstreamJobId: string, context: ProviderCallContext): Promise<PollResult> {
      const { signal } = context;
      if (signal.aborted) throw abortedCall(signal, 'fal: poll');
      const job = decodeJob(upstreamJobId);
      const statuses = await Promise.all(job.requests.map((r) => readStatus(r, signal)));

      let done = 0;
      const positions: number[] = [];
      const progresses: (number | undefined)[] = [];
      for (const [i, status] of statuses.entries()) {
        const request = job.requests[i] as FalRequest;
        switch (status.status) {
          case 'COMPLETED':
          case 'FAILED':
          case 'ERROR':
            // The result call says whether it succeeded.
            done += 1;
            progresses.push(1);
            break;
          case 'CANCELED':
          case 'CANCELLED':
            throw new ProviderError('error', `fal: request ${request.id} was cancelled upstream`, {
              upstreamCode: 'cancelled_upstream',
            });
          case 'IN_QUEUE':
            positions.push(Math.max(0, status.queue_position ?? 0));
            progresses.push(0);
            break;
          default:
            // IN_PROGRESS, and states newer than the spec: keep polling.
            progresses.push(progressFromLogs(status.logs));
        }
      }
      if (done === job.requests.length) {
        const results = await Promise.all(job.requests.map((r) => readResult(r, job.format, signal)));
        context.onProgress?.(1);
        return { status: 'completed', images: results.flat() };
      }
      const known = progresses.filter((p): p is number => p !== undefined);
      const progress =
        known.length === progresses.length && positions.length < job.requests.length
          ? known.reduce((sum, p) => sum + p, 0) / known.length
          : undefined;
      if (progress !== undefined) context.onProgress?.(progress);
      return {
        status: 'pending',
        ...(progress === undefined ? {} : { progress }),
        ...(positions.length > 0 ? { queuePosition: Math.max(...positions) } : {}),
        pollAfterMs: options.poll_interval_ms,
      };
    },

    async cancel(upstreamJobId: string, signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw abortedCall(signal, 'fal: cancel');
      const job = decodeJob(upstreamJobId);
      const outcomes = await Promise.allSettled(job.requests.map((r) => cancelOne(r, signal)));
      const failures = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
      const alreadyDone = failures.filter(
        (f) => f instanceof ProviderError && f.details.upstreamCode === 'already_completed',
      );
      // Requests that already finished need no stopping; the job is cancelled if the rest were.
      const blocking = failures.filter((f) => !alreadyDone.includes(f));
      if (blocking.length > 0) throw blocking[0];
      if (alreadyDone.length === job.requests.length) throw alreadyDone[0];
    },
  };

  async function cancelOne(request: FalRequest, signal: AbortSignal): Promise<void> {
    const what = `cancel request ${request.id}`;
    const { response, body } = await send(request.cancel, 'PUT', undefined, signal, what);
    const status = readString(body, 'status');
    if (status === 'ALREADY_COMPLETED') {
      throw new ProviderError('rejected', `fal: ${what}: already completed (billed by fal)`, {
        status: response.status,
        upstreamCode: 'already_completed',
      });
    }
    if (status === 'NOT_FOUND' || response.status === 404) {
      throw new ProviderError('error', `fal: ${what}: not found (expired or unknown)`, {
        status: response.status,
        upstreamCode: 'request_not_found',
      });
    }
    if (!response.ok) throw httpError(response, body, what);
    const success = (body as { success?: unknown } | undefined)?.success;
    if (status === 'OK' || status === 'CANCELLATION_REQUESTED' || success === true) return;
    throw unexpected(what, response.status, 'no cancellation status');
  }
}

function decodeJob(upstreamJobId: string): FalJob {
  return decodeJobId(JOB_ID_PREFIX, falJobSchema, upstreamJobId, 'fal');
}

/** Progress from a runner's logs when they show it (tqdm's "45%|" or "step 13/28"); else undefined. */
function progressFromLogs(logs: { message: unknown }[] | null | undefined): number | undefined {
  for (const log of [...(logs ?? [])].reverse()) {
    if (typeof log.message !== 'string') continue;
    const percent = /(\d{1,3})%\|/.exec(log.message);
    if (percent) return Math.min(Number(percent[1]) / 100, 0.99);
    const steps = /\b(\d+)\/(\d+) \[/.exec(log.message) ?? /\bstep (\d+)\s*\/\s*(\d+)/i.exec(log.message);
    if (steps && Number(steps[2]) > 0) return Math.min(Number(steps[1]) / Number(steps[2]), 0.99);
  }
  return undefined;
}

function dataUriImage(uri: string, what: string, status: number): UpstreamImage {
  const match = /^data:(image\/[a-z0-9.+-]+);base64,([A-Za-z0-9+/=\s]+)$/i.exec(uri);
  const data = match ? Buffer.from(match[2]!, 'base64') : undefined;
  if (!match || !data || data.byteLength === 0) throw unexpected(what, status, 'a malformed data URI image');
  return { kind: 'bytes', data: new Uint8Array(data), contentType: match[1]!.toLowerCase() };
}

function unexpected(what: string, status: number, detail: string): ProviderError {
  return new ProviderError('error', `fal: ${what}: unexpected response (${detail})`, {
    status,
    upstreamCode: 'unexpected_response',
  });
}

interface FalErrorItem {
  loc?: unknown;
  msg?: unknown;
  type?: unknown;
  categories?: unknown;
}

function httpError(response: Response, body: unknown, what: string): ProviderError {
  const status = response.status;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const base = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  const items: FalErrorItem[] = Array.isArray(detail)
    ? detail.filter((d): d is FalErrorItem => typeof d === 'object' && d !== null)
    : [];
  const described = describe(body, items);
  const message = (summary: string): string =>
    `fal: ${what}: HTTP ${status} ${summary}${described ? `: ${described}` : ''}`;

  const policy = items.filter((item) => item.type === 'content_policy_violation');
  if (policy.length > 0) {
    const categories = [
      ...new Set(
        policy.flatMap((item) => (Array.isArray(item.categories) ? item.categories.map(String) : [])),
      ),
    ];
    return new ProviderError(
      'content_policy',
      `${message('content policy violation')}${categories.length > 0 ? ` (categories: ${categories.join(', ')})` : ''}`,
      { ...base, upstreamCode: 'content_policy_violation' },
    );
  }
  const errorType = response.headers.get('x-fal-error-type') ?? readString(body, 'error_type');
  if (status === 422) {
    return new ProviderError('rejected', message('invalid input'), {
      ...base,
      upstreamCode: 'validation_error',
    });
  }
  if (status === 401 || status === 403) {
    // A locked account (no credit) is ours to fix, not the caller's: route elsewhere.
    if (typeof detail === 'string' && /locked|balance/i.test(detail)) {
      return new ProviderError('error', message('account locked; top up the fal account'), {
        ...base,
        upstreamCode: 'account_locked',
      });
    }
    return new ProviderError('rejected', message('unauthorized; check the deployment key'), {
      ...base,
      upstreamCode: 'unauthorized',
    });
  }
  if (status === 429) {
    return new ProviderError('rate_limited', message('too many requests'), {
      ...base,
      upstreamCode: 'rate_limited',
    });
  }
  if (status === 504 && response.headers.get('x-fal-request-timeout-type') === 'user') {
    return new ProviderError('timeout', message('not started within start_timeout_s (not billed)'), {
      ...base,
      upstreamCode: 'start_timeout',
    });
  }
  if (status === 404) {
    return new ProviderError('error', message('not found (expired request or unknown endpoint)'), {
      ...base,
      upstreamCode: 'not_found',
    });
  }
  return new ProviderError(
    outcomeForStatus(status),
    message(status >= 500 ? 'upstream failure (not billed by fal)' : 'failed'),
    { ...base, upstreamCode: errorType ?? `http_${status}` },
  );
}

/** fal's `{detail: [{loc, msg, type}]}`, `{detail, error_type}`, or a short text body. */
function describe(body: unknown, items: FalErrorItem[]): string | undefined {
  if (typeof body === 'string') return body.slice(0, 200) || undefined;
  if (items.length > 0) {
    return items
      .map((item) => {
        const where = Array.isArray(item.loc) ? item.loc.join('.') : '';
        const msg =
          typeof item.msg === 'string' ? item.msg : typeof item.type === 'string' ? item.type : 'invalid';
        return `${where}${where ? ': ' : ''}${msg}`;
      })
      .join('; ')
      .slice(0, 500);
  }
  return readString(body, 'detail') ?? readString(body, 'message');
}

function readString(body: unknown, key: string): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const value = (body as Record<string, unknown>)[key];
  return typeof value === 'string' && value !== '' ? value.slice(0, 300) : undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

import { z } from 'zod';
import { abortedCall, parseAdapterOptions } from '../shared';
import {
  ASPECT_RATIOS,
  outcomeForStatus,
  parseRetryAfter,
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
  NO_CAPABILITIES,
} from '../types';

/**
 * Together AI images (api.together.xyz), from its OpenAPI document (provider-specs/together.yaml,
 * `POST /images/generations`, `ImageResponse`, `ErrorData`), the official `together-ai` SDK
 * (`src/resources/images.ts`) and docs.together.ai (images overview, reference images, error
 * codes, rate limits, safety checker).
 *
 * One synchronous call: `POST {base}/v1/images/generations` with `Authorization: Bearer <key>`
 * and a JSON body, answered by `{id, model, object: "list", data: [{index, b64_json | url, type}]}`.
 * Together makes up to 4 images per request (`n`), so a job is always one request.
 *
 * Images are asked for as `response_format: "base64"` by default: the bytes come inline and
 * nothing has to be downloaded from Together's CDN (which also refuses a blank User-Agent). With
 * `response_format: "url"` the URLs are returned as `url` images for Easel to download at once;
 * this adapter never fetches them, so the key cannot follow them to another origin.
 *
 * Together's safety checker answers 422 (docs: "If the safety checker is triggered and not
 * disabled, it will return a 422 Unprocessable Entity"); a 422 whose message speaks of NSFW or
 * safety is `content_policy`, any other 422 a rejected request. Together has no idempotency key
 * and no cancel operation, and a synchronous call leaves no job to poll.
 */

export const TOGETHER_DEFAULT_BASE_URL = 'https://api.together.xyz';
const GENERATE_PATH = '/v1/images/generations';

/** Sizes Together takes (256–1920 px); the adapter keeps both sides multiples of 16. */
const MIN_SIDE = 256;
const MAX_SIDE = 1920;
const SIDE_MULTIPLE = 16;
/** `n` is 1–4 (docs.together.ai, images overview). */
const MAX_IMAGES = 4;
const MAX_SEED = 4_294_967_295;
const OUTPUT_FORMATS: readonly OutputFormat[] = ['jpeg', 'png'];

/** What one Together image model takes, per Together's docs for it. */
export interface TogetherModelShape {
  steps: { min: number; max: number; default: number };
  /** FLUX.2 takes `reference_images` (an array of URLs); FLUX.1 [schnell] takes none. */
  maxReferenceImages: number;
  /** FLUX.2 [dev] takes `guidance_scale`; FLUX.1 [schnell] is guidance-distilled and has none. */
  guidance: boolean;
}

export const TOGETHER_MODELS: Readonly<Record<string, TogetherModelShape>> = {
  // 4 steps is Together's own default for schnell, 12 its most.
  'black-forest-labs/FLUX.1-schnell': {
    steps: { min: 1, max: 12, default: 4 },
    maxReferenceImages: 0,
    guidance: false,
  },
  // Together documents steps 1–50 for FLUX.2 [dev]; 28 is BFL's usual dev setting. BFL advises at
  // most 6 reference images for [dev] (help.bfl.ai, multi-reference editing); Together states none.
  'black-forest-labs/FLUX.2-dev': {
    steps: { min: 1, max: 50, default: 28 },
    maxReferenceImages: 6,
    guidance: true,
  },
};

const togetherOptionsSchema = z
  .strictObject({
    /** Long side in pixels; the short side follows the aspect ratio, both multiples of 16. */
    long_side: z
      .number()
      .int()
      .min(MIN_SIDE)
      .max(MAX_SIDE)
      .refine((value) => value % SIDE_MULTIPLE === 0, { message: `must be a multiple of ${SIDE_MULTIPLE}` })
      .default(1024),
    /** Steps per upstream model id; each model's own default when absent. Checked against its limits. */
    steps: z.record(z.string(), z.number().int()).default({}),
    /** `base64` (default): bytes inline, no second download. `url`: Together's CDN URLs. */
    response_format: z.enum(['base64', 'url']).default('base64'),
    /** Format when the request names none; Together's own default is jpeg. */
    output_format: z.enum(['jpeg', 'png']).default('jpeg'),
    /** Sent only to models that take guidance (FLUX.2 [dev]). */
    guidance_scale: z.number().min(0).max(20).optional(),
    /** Together's NSFW checker; on unless this is true. */
    disable_safety_checker: z.boolean().optional(),
  })
  .superRefine((options, context) => {
    for (const [model, steps] of Object.entries(options.steps)) {
      const shape = TOGETHER_MODELS[model];
      if (!shape) {
        context.addIssue({
          code: 'custom',
          path: ['steps', model],
          message: `unknown model (known: ${Object.keys(TOGETHER_MODELS).join(', ')})`,
        });
      } else if (steps < shape.steps.min || steps > shape.steps.max) {
        context.addIssue({
          code: 'custom',
          path: ['steps', model],
          message: `must be ${shape.steps.min}–${shape.steps.max} for ${model}, got ${steps}`,
        });
      }
    }
  });

export type TogetherOptions = z.output<typeof togetherOptionsSchema>;

export function parseTogetherOptions(
  options: Record<string, unknown>,
  deploymentId = 'together',
): TogetherOptions {
  return parseAdapterOptions(togetherOptionsSchema, options, 'together', deploymentId);
}

/** What a deployment with these options can do for an upstream model (no key needed to know it). */
export function togetherCapabilities(
  upstreamModel: string,
  rawOptions: Record<string, unknown>,
): ModelCapabilities {
  parseTogetherOptions(rawOptions);
  return modelCapabilities(upstreamModel);
}

function modelCapabilities(upstreamModel: string): ModelCapabilities {
  const shape = TOGETHER_MODELS[upstreamModel];
  if (!shape) return NO_CAPABILITIES;
  return {
    maxImages: MAX_IMAGES,
    seed: true,
    // FLUX.2 takes no negative prompt (Together's feature matrix) and schnell, distilled without
    // classifier-free guidance, has nothing to apply one to: declared false, refused at submit.
    negativePrompt: false,
    maxReferenceImages: shape.maxReferenceImages,
    mask: false,
    aspectRatios: ASPECT_RATIOS,
    outputFormats: OUTPUT_FORMATS,
    cancel: false,
  };
}

/** Width and height for an aspect ratio: long side as configured, both multiples of 16 in 256–1920. */
export function togetherDimensions(
  aspectRatio: AspectRatio,
  longSide: number,
): { width: number; height: number } {
  const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
  const fit = (x: number): number =>
    Math.min(MAX_SIDE, Math.max(MIN_SIDE, Math.round(x / SIDE_MULTIPLE) * SIDE_MULTIPLE));
  const long = fit(longSide);
  const short = fit((long * Math.min(w, h)) / Math.max(w, h));
  return w >= h ? { width: long, height: short } : { width: short, height: long };
}

const imageDataSchema = z.object({
  index: z.number().int().min(0),
  b64_json: z.string().optional(),
  url: z.string().optional(),
  type: z.string().optional(),
  timings: z.unknown().optional(),
});

const imageResponseSchema = z.object({
  id: z.string().optional(),
  model: z.string().optional(),
  object: z.string().optional(),
  data: z.array(imageDataSchema),
});

export function createTogetherProvider(settings: ProviderSettings): ImageProvider {
  const options = parseTogetherOptions(settings.options, settings.deploymentId);
  const apiKey = settings.apiKey;
  if (!apiKey) {
    throw new Error(
      `deployment "${settings.deploymentId}" (together): no API key; set the environment variable the deployment names`,
    );
  }
  const baseUrl = (settings.baseUrl ?? TOGETHER_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const fetchImpl = settings.fetch ?? fetch;

  function stepsFor(upstreamModel: string, shape: TogetherModelShape): number {
    return options.steps[upstreamModel] ?? shape.steps.default;
  }

  /** Refuses what capabilities() does not declare, before anything is sent. */
  function checkRequest(request: GenerationRequest): TogetherModelShape {
    const unsupported = (what: string): ProviderError =>
      new ProviderError('rejected', `together: ${what}`, { upstreamCode: 'unsupported_parameters' });
    const shape = TOGETHER_MODELS[request.upstreamModel];
    if (!shape) {
      throw new ProviderError(
        'rejected',
        `together: unknown upstream model "${request.upstreamModel}" (known: ${Object.keys(TOGETHER_MODELS).join(', ')})`,
        { upstreamCode: 'unknown_model' },
      );
    }
    if (!Number.isInteger(request.n) || request.n < 1 || request.n > MAX_IMAGES) {
      throw unsupported(`n must be 1–${MAX_IMAGES}, got ${request.n}`);
    }
    if (!ASPECT_RATIOS.includes(request.aspectRatio)) {
      throw unsupported(`aspect ratio ${String(request.aspectRatio)} is not served`);
    }
    if (
      request.seed !== undefined &&
      (!Number.isInteger(request.seed) || request.seed < 0 || request.seed > MAX_SEED)
    ) {
      throw unsupported(`seed must be an integer in 0–${MAX_SEED}, got ${request.seed}`);
    }
    if (request.negativePrompt !== undefined) {
      throw unsupported(`${request.upstreamModel} takes no negative prompt`);
    }
    if (request.maskUrl !== undefined) throw unsupported('Together image generation takes no mask');
    if (request.outputFormat !== undefined && !OUTPUT_FORMATS.includes(request.outputFormat)) {
      throw unsupported(`output format ${request.outputFormat} is not served (jpeg or png)`);
    }
    const references = request.imageUrls?.length ?? 0;
    if (references > shape.maxReferenceImages) {
      throw unsupported(
        shape.maxReferenceImages === 0
          ? `${request.upstreamModel} takes no reference images`
          : `${request.upstreamModel} takes at most ${shape.maxReferenceImages} reference images, got ${references}`,
      );
    }
    return shape;
  }

  async function post(body: unknown, signal: AbortSignal): Promise<{ response: Response; body: unknown }> {
    try {
      const response = await fetchImpl(`${baseUrl}${GENERATE_PATH}`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${apiKey as string}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(body),
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
      if (signal.aborted) throw abortedCall(signal, 'together: generate');
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError('error', `together: generate: network error (${message})`, {
        upstreamCode: 'network_error',
      });
    }
  }

  return {
    type: 'together',
    capabilities: modelCapabilities,

    adaptations(request: GenerationRequest): string[] {
      const { width, height } = togetherDimensions(request.aspectRatio, options.long_side);
      const notes = [`aspect ratio ${request.aspectRatio} rendered at ${width}x${height}`];
      const references = request.imageUrls?.length ?? 0;
      if (references > 0) notes.push(`${references} reference image(s) sent as FLUX.2 reference_images`);
      return notes;
    },

    async submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult> {
      const { signal } = context;
      if (signal.aborted) throw abortedCall(signal, 'together: submit');
      const shape = checkRequest(request);
      const { width, height } = togetherDimensions(request.aspectRatio, options.long_side);
      // checkRequest refused webp, so the request's format is one Together serves.
      const format =
        request.outputFormat === 'png' || request.outputFormat === 'jpeg'
          ? request.outputFormat
          : options.output_format;

      const body: Record<string, unknown> = {
        model: request.upstreamModel,
        prompt: request.prompt,
        width,
        height,
        steps: stepsFor(request.upstreamModel, shape),
        n: request.n,
        response_format: options.response_format,
        output_format: format,
      };
      if (request.seed !== undefined) body.seed = request.seed;
      if (request.imageUrls && request.imageUrls.length > 0) body.reference_images = request.imageUrls;
      if (shape.guidance && options.guidance_scale !== undefined)
        body.guidance_scale = options.guidance_scale;
      if (options.disable_safety_checker !== undefined) {
        body.disable_safety_checker = options.disable_safety_checker;
      }

      const { response, body: answer } = await post(body, signal);
      if (!response.ok) throw httpError(response, answer);
      const images = readImages(answer, request.n, response.status, format, { width, height });
      context.onProgress?.(1);
      return { status: 'completed', images };
    },

    poll(upstreamJobId: string): Promise<PollResult> {
      // Together answers submit with the images; there is never an upstream job to poll.
      return Promise.reject(
        new ProviderError(
          'rejected',
          `together: generation is synchronous; no upstream job "${upstreamJobId.slice(0, 40)}" to poll`,
          { upstreamCode: 'malformed_job_id' },
        ),
      );
    },
  };
}

/** Exactly `n` images, inline bytes or URLs, in Together's index order, or the reason why not. */
function readImages(
  body: unknown,
  n: number,
  status: number,
  format: 'jpeg' | 'png',
  size: { width: number; height: number },
): UpstreamImage[] {
  const unexpected = (what: string): ProviderError =>
    new ProviderError('error', `together: generate: unexpected response (${what})`, {
      status,
      upstreamCode: 'unexpected_response',
    });
  const parsed = imageResponseSchema.safeParse(body);
  if (!parsed.success) {
    throw unexpected(typeof body === 'object' && body !== null ? 'not an ImageResponse' : 'not JSON');
  }
  const data = [...parsed.data.data].sort((a, b) => a.index - b.index);
  if (data.length !== n) throw unexpected(`${data.length} image(s) for ${n} asked`);
  return data.map((item): UpstreamImage => {
    if (item.b64_json !== undefined) {
      const bytes = decodeBase64(item.b64_json);
      const contentType = bytes ? sniffImageType(bytes) : undefined;
      if (!bytes || !contentType) throw unexpected(`image ${item.index} is not base64 PNG or JPEG data`);
      return { kind: 'bytes', data: bytes, contentType, ...size };
    }
    if (item.url !== undefined && isHttpUrl(item.url)) {
      return { kind: 'url', url: item.url, contentType: `image/${format}`, ...size };
    }
    throw unexpected(`image ${item.index} has neither b64_json nor an http(s) url`);
  });
}

/** Strict base64 (standard alphabet, padding optional); undefined when it is anything else or empty. */
function decodeBase64(value: string): Uint8Array | undefined {
  const clean = value.replace(/\s+/g, '');
  if (clean === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(clean) || clean.length % 4 === 1) return undefined;
  const bytes = Buffer.from(clean, 'base64');
  return bytes.byteLength === 0 ? undefined : new Uint8Array(bytes);
}

function sniffImageType(bytes: Uint8Array): string | undefined {
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'image/png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return undefined;
}

const SAFETY_WORDS = /nsfw|safety|unsafe|content polic|moderat|inappropriate/i;

function httpError(response: Response, body: unknown): ProviderError {
  const status = response.status;
  const { message, type, code } = describeError(body);
  const retryAfterMs =
    parseRetryAfter(response.headers.get('retry-after')) ??
    parseRetryAfter(response.headers.get('x-ratelimit-reset'));
  const base = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  const text = (what: string): string =>
    `together: generate: HTTP ${status} ${what}${message ? `: ${message}` : ''}`;
  const upstreamCode = (fallback: string): string => code ?? type ?? fallback;

  switch (status) {
    case 400:
      return new ProviderError('rejected', text('invalid request'), {
        ...base,
        upstreamCode: upstreamCode('invalid_request'),
      });
    case 401:
      return new ProviderError('rejected', text("unauthorized; check the deployment's Together API key"), {
        ...base,
        upstreamCode: upstreamCode('unauthorized'),
      });
    case 402:
      // Our Together account hit its credit or spending limit, not the caller's fault: route on.
      return new ProviderError(
        'error',
        text('payment required; add credits or raise the spending limit of the Together account'),
        { ...base, upstreamCode: upstreamCode('insufficient_credits') },
      );
    case 403:
      // E.g. `third_party_data_sharing_blocked` for partner-hosted FLUX.2: an account setting.
      return new ProviderError(
        'error',
        text('forbidden; check the Together account settings for this model'),
        {
          ...base,
          upstreamCode: upstreamCode('forbidden'),
        },
      );
    case 404:
      // An unknown or retired model id is the deployment's configuration, not the caller's request.
      return new ProviderError('error', text('model or endpoint not found; check the deployment model map'), {
        ...base,
        upstreamCode: upstreamCode('not_found'),
      });
    case 422:
      if (message && SAFETY_WORDS.test(message)) {
        return new ProviderError('content_policy', text("flagged by Together's safety checker"), {
          ...base,
          upstreamCode: 'nsfw_detected',
        });
      }
      return new ProviderError('rejected', text('unprocessable request'), {
        ...base,
        upstreamCode: upstreamCode('unprocessable'),
      });
    case 429:
      return new ProviderError('rate_limited', text('rate limited'), {
        ...base,
        upstreamCode: upstreamCode('rate_limited'),
      });
    case 503:
      return new ProviderError('error', text('overloaded'), {
        ...base,
        upstreamCode: upstreamCode('overloaded'),
      });
    default:
      return new ProviderError(outcomeForStatus(status), text('failed'), {
        ...base,
        upstreamCode: upstreamCode(`http_${status}`),
      });
  }
}

/** Together's `{error: {message, type, param, code}}`, a bare `{message}`, `{error: "..."}` or text. */
function describeError(body: unknown): { message?: string; type?: string; code?: string } {
  if (typeof body === 'string') return body.trim() ? { message: body.trim().slice(0, 300) } : {};
  if (typeof body !== 'object' || body === null) return {};
  const record = body as Record<string, unknown>;
  const error = record.error;
  if (typeof error === 'object' && error !== null) {
    const e = error as Record<string, unknown>;
    return { message: str(e.message), type: str(e.type), code: str(e.code) };
  }
  return {
    message: str(error) ?? str(record.message),
    type: str(record.type) ?? str(record.error_type),
    code: str(record.code),
  };
}

function str(value: unknown): string | undefined {
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

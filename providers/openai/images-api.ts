import { z } from 'zod';
import { abortedCall, fetchImageBytes } from '../shared';
import {
  outcomeForStatus,
  parseRetryAfter,
  ProviderError,
  ASPECT_RATIOS,
  OUTPUT_FORMATS,
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
  type UpstreamUsage,
  NO_CAPABILITIES,
} from '../types';

/**
 * OpenAI's Images API for the GPT image models (provider-specs/openai.yaml: `createImage`,
 * `createImageEdit`, `ImagesResponse`), shared by the `openai` adapter and the `azure-openai` one,
 * which serves the same models behind Azure's deployment URLs with the same bodies and answers.
 * The two differ only in where a request goes and how it authenticates ({@link ImagesApiTarget}).
 *
 * The API is synchronous: one request makes all n images (n ≤ 10) and answers with base64 only
 * (`b64_json`; `response_format` is refused for GPT image models) and the token `usage`, which is
 * returned on the completed result so the attempt records what OpenAI bills by. A call takes tens
 * of seconds; nothing can be cancelled, and no job id exists, so `poll` is never needed.
 * Reference images go to `/images/edits` as multipart `image[]` parts (up to 16, per the spec's
 * `maxItems`), with an optional PNG `mask` for the first one. There is no seed and no negative
 * prompt, and only three sizes, so aspect ratios are served by the nearest size (an adaptation).
 */

/** The sizes every GPT image model takes (the spec's standard sizes; `auto` is never sent). */
export type GptImageSize = '1024x1024' | '1536x1024' | '1024x1536';

/** Most images per request (`n`), and most reference images for an edit (`image` maxItems). */
export const GPT_IMAGE_MAX_IMAGES = 10;
export const GPT_IMAGE_MAX_REFERENCE_IMAGES = 16;

/** Reference image types the edits endpoint takes; the mask must be a PNG. */
const EDIT_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp']);
/**
 * The reference's limits for edits with GPT image models: each image "less than 50MB", the mask
 * "less than 4MB". Checked before the upload, so that a download Easel allowed (its own limit is
 * EASEL_MAX_IMAGE_BYTES) is refused in words rather than sent to be refused.
 */
export const GPT_IMAGE_MAX_EDIT_IMAGE_BYTES = 50 * 1024 * 1024;
export const GPT_IMAGE_MAX_MASK_BYTES = 4 * 1024 * 1024;

/**
 * Options both adapters take, as the API names them. `quality` defaults to `medium` rather than
 * the API's `auto`: `auto` lets OpenAI pick up to `high`, about four times the price, so the cost
 * of a job would not be known in advance.
 */
export const imagesApiOptionFields = {
  quality: z.enum(['low', 'medium', 'high', 'auto']).default('medium'),
  /** Format when the request names none. */
  output_format: z.enum(['png', 'jpeg', 'webp']).default('png'),
  /** 0–100, sent only with jpeg and webp (the API refuses it otherwise). */
  output_compression: z.number().int().min(0).max(100).optional(),
  /** `transparent` needs png or webp, so such a deployment does not offer jpeg. */
  background: z.enum(['transparent', 'opaque', 'auto']).optional(),
  /** Generation moderation strictness (`auto` is the API's default). Edits take no such field. */
  moderation: z.enum(['auto', 'low']).optional(),
};

/** Refuses option combinations the API would refuse on every request. */
export function checkImagesApiOptions(
  options: { output_format: OutputFormat; background?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (options.background === 'transparent' && options.output_format === 'jpeg') {
    ctx.addIssue({
      code: 'custom',
      path: ['background'],
      message: 'transparent needs output_format png or webp',
    });
  }
}

export interface ImagesApiOptions {
  quality: 'low' | 'medium' | 'high' | 'auto';
  output_format: OutputFormat;
  output_compression?: number | undefined;
  background?: 'transparent' | 'opaque' | 'auto' | undefined;
  moderation?: 'auto' | 'low' | undefined;
}

/** The nearest standard size: square stays square, landscape is 3:2, portrait 2:3. */
export function gptImageSize(aspectRatio: AspectRatio): GptImageSize {
  const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
  if (w === h) return '1024x1024';
  return w > h ? '1536x1024' : '1024x1536';
}

const EXACT_SIZES: Partial<Record<AspectRatio, true>> = { '1:1': true, '3:2': true, '2:3': true };

export function gptImageCapabilities(options: ImagesApiOptions): ModelCapabilities {
  return {
    maxImages: GPT_IMAGE_MAX_IMAGES,
    seed: false,
    negativePrompt: false,
    maxReferenceImages: GPT_IMAGE_MAX_REFERENCE_IMAGES,
    mask: true,
    aspectRatios: ASPECT_RATIOS,
    outputFormats: options.background === 'transparent' ? ['png', 'webp'] : OUTPUT_FORMATS,
    cancel: false,
  };
}

/** Where one adapter sends Images API requests, and how it authenticates there. */
export interface ImagesApiTarget {
  /** The adapter type, which also prefixes every message. */
  type: string;
  /** The full URL of an operation for an upstream model (OpenAI) or deployment (Azure). */
  url(upstreamModel: string, operation: 'generations' | 'edits'): string;
  /** Authentication and account headers, sent only to `url`'s origin. */
  headers: Record<string, string>;
  /** OpenAI names the model in the body; Azure's deployment URL already names it. */
  modelInBody: boolean;
  /** Whether this upstream model is a GPT image model the adapter can drive. */
  supportsModel(upstreamModel: string): boolean;
  /** A sentence for a 401, telling the operator what to fix. */
  invalidKeyHint: string;
}

export function createImagesApiProvider(
  target: ImagesApiTarget,
  options: ImagesApiOptions,
  settings: ProviderSettings,
): ImageProvider {
  const { type } = target;
  const fetchImpl = settings.fetch ?? fetch;
  const fetchImage = settings.fetchImage ?? fetchImageBytes(fetchImpl, type);
  const capabilities = gptImageCapabilities(options);

  function check(request: GenerationRequest): void {
    const refuse = (message: string, upstreamCode = 'unsupported_parameters'): never => {
      throw new ProviderError('rejected', `${type}: ${message}`, { upstreamCode });
    };
    if (!target.supportsModel(request.upstreamModel)) {
      refuse(`${request.upstreamModel} is not a GPT image model this adapter serves`, 'unsupported_model');
    }
    if (!Number.isInteger(request.n) || request.n < 1 || request.n > GPT_IMAGE_MAX_IMAGES) {
      refuse(`n must be 1–${GPT_IMAGE_MAX_IMAGES}, got ${request.n}`, 'invalid_n');
    }
    if (request.seed !== undefined) refuse('GPT image models take no seed');
    if (request.negativePrompt !== undefined) refuse('GPT image models take no negative prompt');
    const imageCount = request.imageUrls?.length ?? 0;
    if (imageCount > GPT_IMAGE_MAX_REFERENCE_IMAGES) {
      refuse(
        `at most ${GPT_IMAGE_MAX_REFERENCE_IMAGES} reference images, got ${imageCount}`,
        'too_many_images',
      );
    }
    if (request.maskUrl !== undefined && imageCount === 0) {
      refuse('a mask needs a reference image to apply to');
    }
    const format = request.outputFormat ?? options.output_format;
    if (!capabilities.outputFormats.includes(format)) {
      refuse(`output format ${format} is not served with background ${options.background ?? 'auto'}`);
    }
  }

  /** The fields generations and edits share, in the API's names. */
  function commonFields(request: GenerationRequest, forEdit: boolean): Record<string, string | number> {
    const format = request.outputFormat ?? options.output_format;
    const fields: Record<string, string | number> = {};
    if (target.modelInBody) fields.model = request.upstreamModel;
    fields.prompt = request.prompt;
    fields.n = request.n;
    fields.size = gptImageSize(request.aspectRatio);
    fields.quality = options.quality;
    fields.output_format = format;
    if (options.output_compression !== undefined && format !== 'png') {
      fields.output_compression = options.output_compression;
    }
    if (options.background !== undefined) fields.background = options.background;
    // The edits endpoint has no `moderation` field and refuses unknown ones.
    if (options.moderation !== undefined && !forEdit) fields.moderation = options.moderation;
    return fields;
  }

  async function editForm(request: GenerationRequest, signal: AbortSignal): Promise<FormData> {
    const urls = request.imageUrls ?? [];
    const [images, mask] = await Promise.all([
      Promise.all(urls.map((url) => fetchImage(url, signal))),
      request.maskUrl === undefined ? undefined : fetchImage(request.maskUrl, signal),
    ]);
    const form = new FormData();
    for (const [name, value] of Object.entries(commonFields(request, true))) form.append(name, String(value));
    const invalid = (message: string): ProviderError =>
      new ProviderError('rejected', `${type}: ${message}`, { upstreamCode: 'reference_image_invalid' });
    images.forEach((image, i) => {
      const contentType = image.contentType.toLowerCase();
      if (!EDIT_IMAGE_TYPES.has(contentType)) {
        throw invalid(
          `reference image ${urls[i] ?? i} is ${image.contentType}; edits take png, jpeg or webp`,
        );
      }
      if (image.bytes.byteLength >= GPT_IMAGE_MAX_EDIT_IMAGE_BYTES) {
        throw invalid(
          `reference image ${urls[i] ?? i} is ${image.bytes.byteLength} bytes; edits take images of less than 50 MB`,
        );
      }
      form.append(
        'image[]',
        new Blob([image.bytes], { type: contentType }),
        `image-${i}.${extension(contentType)}`,
      );
    });
    if (mask) {
      if (mask.contentType.toLowerCase() !== 'image/png') {
        throw invalid(`the mask must be a PNG, got ${mask.contentType}`);
      }
      if (mask.bytes.byteLength >= GPT_IMAGE_MAX_MASK_BYTES) {
        throw invalid(`the mask is ${mask.bytes.byteLength} bytes; it must be a PNG of less than 4 MB`);
      }
      form.append('mask', new Blob([mask.bytes], { type: 'image/png' }), 'mask.png');
    }
    return form;
  }

  async function send(
    url: string,
    body: FormData | string,
    signal: AbortSignal,
    what: string,
  ): Promise<{ response: Response; text: string }> {
    const headers: Record<string, string> = { accept: 'application/json', ...target.headers };
    // fetch sets the multipart content type itself, with its boundary.
    if (typeof body === 'string') headers['content-type'] = 'application/json';
    try {
      const response = await fetchImpl(url, { method: 'POST', headers, body, signal });
      return { response, text: await response.text() };
    } catch (error) {
      if (signal.aborted) throw abortedCall(signal, `${type}: ${what}`);
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError('error', `${type}: ${what}: network error (${message})`, {
        upstreamCode: 'network_error',
      });
    }
  }

  return {
    type,
    capabilities: (upstreamModel) => (target.supportsModel(upstreamModel) ? capabilities : NO_CAPABILITIES),

    adaptations(request: GenerationRequest): string[] {
      if (EXACT_SIZES[request.aspectRatio]) return [];
      return [
        `aspect ratio ${request.aspectRatio} served as ${gptImageSize(request.aspectRatio)}, the nearest size GPT image models make`,
      ];
    },

    async submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult> {
      const { signal } = context;
      if (signal.aborted) throw abortedCall(signal, `${type}: submit`);
      check(request);
      const isEdit = (request.imageUrls?.length ?? 0) > 0;
      const operation = isEdit ? 'edits' : 'generations';
      const what = `${operation} with ${request.upstreamModel}`;
      const body = isEdit ? await editForm(request, signal) : JSON.stringify(commonFields(request, false));
      const { response, text } = await send(target.url(request.upstreamModel, operation), body, signal, what);
      const parsed = parseJson(text);
      if (!response.ok) throw imagesApiError(type, response, parsed, what, target.invalidKeyHint);
      const result = readImagesResponse(type, parsed, request, what);
      context.onProgress?.(1);
      return { status: 'completed', ...result };
    },

    async poll(upstreamJobId: string): Promise<PollResult> {
      // Every submit completes at once; there is never an upstream job to poll.
      throw new ProviderError(
        'rejected',
        `${type}: no upstream job "${upstreamJobId.slice(0, 40)}" to poll`,
        {
          upstreamCode: 'malformed_job_id',
        },
      );
    },
  };
}

function extension(contentType: string): string {
  return contentType === 'image/jpeg' ? 'jpg' : contentType.slice('image/'.length);
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return text;
  }
}

const imagesResponseSchema = z.object({
  created: z.number().optional(),
  data: z.array(z.object({ b64_json: z.string().min(1) })).min(1),
  size: z.string().optional(),
  usage: z.unknown().optional(),
});

/** Image bytes by their signature: the type the bytes really are, whatever was asked. */
function sniffImageType(bytes: Uint8Array): string | undefined {
  const starts = (...sig: number[]): boolean => sig.every((b, i) => bytes[i] === b);
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x52, 0x49, 0x46, 0x46) && String.fromCharCode(...bytes.subarray(8, 12)) === 'WEBP') {
    return 'image/webp';
  }
  return undefined;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function readImagesResponse(
  type: string,
  body: unknown,
  request: GenerationRequest,
  what: string,
): { images: UpstreamImage[]; usage?: UpstreamUsage } {
  const unexpected = (why: string): ProviderError =>
    new ProviderError('error', `${type}: ${what}: unexpected response (${why})`, {
      status: 200,
      upstreamCode: 'unexpected_response',
    });
  const parsed = imagesResponseSchema.safeParse(body);
  if (!parsed.success) throw unexpected(typeof body === 'object' ? 'no data[].b64_json' : 'not JSON');
  const { data, size, usage } = parsed.data;
  // A short answer would be a silent loss of what was paid for; routing retries instead.
  if (data.length !== request.n) throw unexpected(`asked for ${request.n} image(s), got ${data.length}`);
  const dimensions = /^(\d+)x(\d+)$/.exec(size ?? gptImageSize(request.aspectRatio));
  const images = data.map((item, i): UpstreamImage => {
    const b64 = item.b64_json.replace(/\s+/g, '');
    if (b64.length % 4 !== 0 || !BASE64.test(b64)) throw unexpected(`data[${i}].b64_json is not base64`);
    const bytes = new Uint8Array(Buffer.from(b64, 'base64'));
    const contentType = sniffImageType(bytes);
    if (!contentType) throw unexpected(`data[${i}] is not a png, jpeg or webp image`);
    return {
      kind: 'bytes',
      data: bytes,
      contentType,
      ...(dimensions ? { width: Number(dimensions[1]), height: Number(dimensions[2]) } : {}),
    };
  });
  const counts = readUsage(usage);
  return counts ? { images, usage: counts } : { images };
}

/** `usage` flattened to numbers: input/output/total tokens, and their text/image split. */
export function readUsage(usage: unknown): UpstreamUsage | undefined {
  if (typeof usage !== 'object' || usage === null) return undefined;
  const counts: UpstreamUsage = {};
  const take = (name: string, value: unknown): void => {
    if (typeof value === 'number' && Number.isFinite(value)) counts[name] = value;
  };
  const u = usage as Record<string, unknown>;
  take('input_tokens', u.input_tokens);
  take('output_tokens', u.output_tokens);
  take('total_tokens', u.total_tokens);
  for (const side of ['input', 'output'] as const) {
    const details = u[`${side}_tokens_details`];
    if (typeof details !== 'object' || details === null) continue;
    const d = details as Record<string, unknown>;
    take(`${side}_text_tokens`, d.text_tokens);
    take(`${side}_image_tokens`, d.image_tokens);
  }
  return Object.keys(counts).length > 0 ? counts : undefined;
}

interface ApiErrorBody {
  message?: string;
  type?: string;
  code?: string;
  param?: string;
  contentFilter: boolean;
}

/** OpenAI's `{error:{message,type,param,code}}`, with Azure's `innererror` content-filter result. */
function readErrorBody(body: unknown): ApiErrorBody {
  const error = typeof body === 'object' && body !== null ? (body as { error?: unknown }).error : undefined;
  if (typeof error !== 'object' || error === null) {
    return { message: typeof body === 'string' ? body.slice(0, 200) : undefined, contentFilter: false };
  }
  const e = error as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
  const inner = (e.innererror ?? e.inner_error) as Record<string, unknown> | undefined;
  const contentFilter =
    typeof inner === 'object' &&
    inner !== null &&
    (inner.code === 'ResponsibleAIPolicyViolation' || typeof inner.content_filter_result === 'object');
  return {
    message: str(e.message),
    type: str(e.type),
    code: str(e.code) ?? (typeof e.code === 'number' ? String(e.code) : undefined),
    param: str(e.param),
    contentFilter,
  };
}

/** Codes of a prompt or image refused by OpenAI's safety system or Azure's content filter. */
const CONTENT_POLICY_CODES = new Set([
  'moderation_blocked',
  'image_generation_user_error',
  'content_policy_violation',
  'contentFilter',
  'content_filter',
]);

/**
 * One table for every Images API failure. A 429 is transient except `insufficient_quota`: the
 * account is out of money until someone pays, so it is an `error` of this deployment (routing
 * moves on) and not a rate limit to wait out.
 */
export function imagesApiError(
  type: string,
  response: Response,
  body: unknown,
  what: string,
  invalidKeyHint: string,
): ProviderError {
  const status = response.status;
  const err = readErrorBody(body);
  const detail = [err.message, err.param ? `(param ${err.param})` : undefined].filter(Boolean).join(' ');
  const message = (text: string): string => `${type}: ${what}: HTTP ${status}: ${text}`;
  const upstreamCode = err.code ?? err.type;

  if (status === 400 && (err.contentFilter || CONTENT_POLICY_CODES.has(err.code ?? err.type ?? ''))) {
    return new ProviderError('content_policy', message(detail || 'refused by the safety system'), {
      status,
      upstreamCode: err.code ?? 'moderation_blocked',
    });
  }
  if (status === 401) {
    return new ProviderError('rejected', message(`${invalidKeyHint}${detail ? ` (${detail})` : ''}`), {
      status,
      upstreamCode: upstreamCode ?? 'invalid_api_key',
    });
  }
  if (status === 403 && /verif/i.test(err.message ?? '')) {
    return new ProviderError(
      'rejected',
      message(
        `the OpenAI organisation must be verified to use this model: verify it at ` +
          `https://platform.openai.com/settings/organization/general (access can take 15 minutes to propagate)`,
      ),
      { status, upstreamCode: 'organization_not_verified' },
    );
  }
  if (status === 429 && (err.code === 'insufficient_quota' || err.type === 'insufficient_quota')) {
    return new ProviderError(
      'error',
      message(
        `the account is out of quota; add credit or raise its limits (${detail || 'insufficient_quota'})`,
      ),
      { status, upstreamCode: 'insufficient_quota' },
    );
  }
  const outcome = outcomeForStatus(status);
  const retryAfterMs = status === 429 ? rateLimitWaitMs(response.headers) : undefined;
  return new ProviderError(outcome, message(detail || 'no error detail'), {
    status,
    upstreamCode: upstreamCode ?? `http_${status}`,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/**
 * How long a 429 asks to wait: `retry-after-ms` (which the official SDK reads first), then
 * `Retry-After`, then the reset of whichever `x-ratelimit-*` budget is exhausted (durations such
 * as "1s" or "6m0s"); when none says it is exhausted, the soonest reset.
 */
export function rateLimitWaitMs(headers: Headers): number | undefined {
  const ms = Number(headers.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const retryAfter = parseRetryAfter(headers.get('retry-after'));
  if (retryAfter !== undefined) return retryAfter;
  const resets: { exhausted: boolean; ms: number }[] = [];
  for (const budget of ['requests', 'tokens']) {
    const reset = parseResetDuration(headers.get(`x-ratelimit-reset-${budget}`));
    if (reset === undefined) continue;
    resets.push({ exhausted: headers.get(`x-ratelimit-remaining-${budget}`) === '0', ms: reset });
  }
  const exhausted = resets.filter((r) => r.exhausted);
  if (exhausted.length > 0) return Math.max(...exhausted.map((r) => r.ms));
  return resets.length > 0 ? Math.min(...resets.map((r) => r.ms)) : undefined;
}

/** OpenAI's reset durations: "20ms", "1s", "0.5s", "6m0s", "1h2m3s". */
export function parseResetDuration(value: string | null): number | undefined {
  if (!value) return undefined;
  const match =
    /^(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?(?:(\d+(?:\.\d+)?)ms)?$/.exec(
      value.trim(),
    );
  if (!match || match.slice(1).every((part) => part === undefined)) return undefined;
  const [, h, m, s, millis] = match.map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  return Math.round(((h * 60 + m) * 60 + s) * 1000 + millis);
}

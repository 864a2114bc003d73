import { z } from 'zod';
import { abortedCall, fetchImageBytes, parseAdapterOptions } from '../shared';
import {
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
  type UpstreamUsage,
} from '../types';

/**
 * Google's Gemini API image models ("Nano Banana"), from the v1beta discovery document
 * (provider-specs/gemini.openapi.json) and ai.google.dev/gemini-api/docs/image-generation.
 *
 * `POST {base}/v1beta/models/{model}:generateContent` with an `x-goog-api-key` header answers
 * synchronously: images come back inline as base64 `inlineData` parts. There is no job to poll
 * and no cancel. A request makes one image (the image models document `candidateCount` 1 only),
 * so n images are n concurrent requests; the first failure aborts the others, and any that had
 * already finished are billed by Google and discarded.
 *
 * Refusals arrive as HTTP 200: a `promptFeedback.blockReason` with no candidates, or a candidate
 * whose `finishReason` is not STOP, or one that answered in words only. None of them is ever a
 * success without images.
 *
 * The upstream model ids come from the deployment's model map; capabilities branch on the known
 * id families (`gemini-2.5-flash-image…`, `gemini-3…-image…`), with a permissive default for ids
 * this adapter does not know (a newer model is more likely to take more, not less).
 */

export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';

export const GEMINI_IMAGE_SIZES = ['512', '1K', '2K', '4K'] as const;
export type GeminiImageSize = (typeof GEMINI_IMAGE_SIZES)[number];

const geminiOptionsSchema = z.strictObject({
  /**
   * `imageConfig.imageSize` for the models that take one (upper-case K: Google silently serves a
   * small default image for "2k"). Models that cannot render it get the nearest they can, noted.
   */
  image_size: z.enum(GEMINI_IMAGE_SIZES).default('1K'),
  /** Ask for ["TEXT","IMAGE"] rather than ["IMAGE"] (older image models refuse IMAGE alone). */
  include_text: z.boolean().default(false),
});

export type GeminiOptions = z.output<typeof geminiOptionsSchema>;

export function parseGeminiOptions(options: Record<string, unknown>, deploymentId = 'gemini'): GeminiOptions {
  return parseAdapterOptions(geminiOptionsSchema, options, 'gemini', deploymentId);
}

/** What one Gemini image model takes, per Google's model pages. */
export interface GeminiModelShape {
  /** Sizes it renders; empty when it takes no `imageSize` at all (then it is never sent). */
  imageSizes: readonly GeminiImageSize[];
  maxReferenceImages: number;
  /** Formats its answers are known to come in; empty when the format varies between answers. */
  outputFormats: readonly OutputFormat[];
}

export function geminiModelShape(upstreamModel: string): GeminiModelShape {
  const id = upstreamModel.replace(/^models\//, '');
  // Nano Banana: 1K only, no imageSize; "works best with up to 3 input images"; answers PNG.
  if (id.startsWith('gemini-2.5-flash-image')) {
    return { imageSizes: [], maxReferenceImages: 3, outputFormats: ['png'] };
  }
  // Nano Banana 2 (3.1 Flash Image) adds a 512 size; Pro and 2 take up to 14 reference images.
  // Gemini 3 image models return PNG or JPEG from one answer to the next, so no format is promised.
  if (id.startsWith('gemini-3.1-flash-image')) {
    return { imageSizes: ['512', '1K', '2K', '4K'], maxReferenceImages: 14, outputFormats: [] };
  }
  return { imageSizes: ['1K', '2K', '4K'], maxReferenceImages: 14, outputFormats: [] };
}

/**
 * Easel's aspect ratios that Gemini has exactly; 9:21 has no Gemini equivalent, so it is not
 * offered (routing sends such requests elsewhere).
 */
const GEMINI_ASPECT_RATIOS: readonly AspectRatio[] = [
  '1:1',
  '16:9',
  '9:16',
  '4:3',
  '3:4',
  '3:2',
  '2:3',
  '21:9',
];

/**
 * Each image is a separate synchronous, billed request of 5–30 s. Four run side by side within an
 * ordinary attempt timeout and stay inside the low requests-per-minute limits of image models on
 * the lower paid tiers; larger batches belong to Google's Batch API, which this adapter does not use.
 */
const MAX_IMAGES_PER_JOB = 4;

/** Inline image types Gemini accepts as input (GIF is refused). */
const INPUT_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif']);

export function geminiCapabilities(upstreamModel: string): ModelCapabilities {
  const shape = geminiModelShape(upstreamModel);
  return {
    maxImages: MAX_IMAGES_PER_JOB,
    // generationConfig.seed is in the API and image models take it; it makes results repeatable
    // only as far as Google's serving does, which it does not promise.
    seed: true,
    negativePrompt: false,
    maxReferenceImages: shape.maxReferenceImages,
    mask: false,
    aspectRatios: GEMINI_ASPECT_RATIOS,
    outputFormats: shape.outputFormats,
    cancel: false,
  };
}

/** The `imageSize` sent for a model (undefined: none is sent), with a note when it differs from the option. */
export function geminiImageSize(
  upstreamModel: string,
  wanted: GeminiImageSize,
): { size: GeminiImageSize | undefined; note?: string } {
  const { imageSizes } = geminiModelShape(upstreamModel);
  if (imageSizes.length === 0) {
    return wanted === '1K'
      ? { size: undefined }
      : { size: undefined, note: `${upstreamModel} renders 1K only; image_size ${wanted} not applied` };
  }
  if (imageSizes.includes(wanted)) return { size: wanted };
  return { size: '1K', note: `${upstreamModel} has no image size ${wanted}; rendered at 1K` };
}

/** A safety outcome Google reports as a candidate's finishReason. */
const POLICY_FINISH_REASONS = new Set([
  'SAFETY',
  'RECITATION',
  'BLOCKLIST',
  'PROHIBITED_CONTENT',
  'SPII',
  'IMAGE_SAFETY',
  'IMAGE_PROHIBITED_CONTENT',
  'IMAGE_RECITATION',
]);

/** Prompt blocks that are policy; OTHER ("unknown reasons") is treated as an upstream error. */
const POLICY_BLOCK_REASONS = new Set(['SAFETY', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'IMAGE_SAFETY']);

const blobSchema = z.object({ mimeType: z.string().optional(), data: z.string().optional() });
const blobSnakeSchema = z.object({ mime_type: z.string().optional(), data: z.string().optional() });

const partSchema = z
  .object({
    text: z.string().optional(),
    thought: z.boolean().optional(),
    inlineData: blobSchema.optional(),
    inline_data: blobSnakeSchema.optional(),
  })
  .passthrough();

const responseSchema = z.object({
  candidates: z
    .array(
      z.object({
        content: z
          .object({ parts: z.array(partSchema).optional() })
          .passthrough()
          .optional(),
        finishReason: z.string().optional(),
        finishMessage: z.string().optional(),
      }),
    )
    .optional(),
  promptFeedback: z.object({ blockReason: z.string().optional() }).passthrough().optional(),
  usageMetadata: z.record(z.string(), z.unknown()).optional(),
  modelVersion: z.string().optional(),
});

type GeminiResponse = z.output<typeof responseSchema>;

export function createGeminiProvider(settings: ProviderSettings): ImageProvider {
  const options = parseGeminiOptions(settings.options, settings.deploymentId);
  const apiKey = settings.apiKey;
  if (!apiKey) {
    throw new Error(
      `deployment "${settings.deploymentId}" (gemini): no API key; set the environment variable the deployment names`,
    );
  }
  const baseUrl = (settings.baseUrl ?? GEMINI_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const fetchImpl = settings.fetch ?? fetch;
  // Reference images are fetched without the key, under the outbound policy when one is given.
  const fetchImage = settings.fetchImage ?? fetchImageBytes(fetchImpl, 'gemini');

  async function referenceParts(
    request: GenerationRequest,
    signal: AbortSignal,
  ): Promise<{ inlineData: { mimeType: string; data: string } }[]> {
    const parts: { inlineData: { mimeType: string; data: string } }[] = [];
    for (const url of request.imageUrls ?? []) {
      const { bytes, contentType } = await fetchImage(url, signal);
      const mimeType = contentType.toLowerCase() === 'image/jpg' ? 'image/jpeg' : contentType.toLowerCase();
      if (!INPUT_IMAGE_TYPES.has(mimeType)) {
        throw new ProviderError(
          'rejected',
          `gemini: reference image ${url} is ${contentType}; Gemini takes PNG, JPEG, WebP, HEIC or HEIF`,
          { upstreamCode: 'reference_image_invalid' },
        );
      }
      parts.push({ inlineData: { mimeType, data: Buffer.from(bytes).toString('base64') } });
    }
    return parts;
  }

  function requestBody(
    request: GenerationRequest,
    index: number,
    references: { inlineData: { mimeType: string; data: string } }[],
  ): Record<string, unknown> {
    const imageConfig: Record<string, string> = { aspectRatio: request.aspectRatio };
    const { size } = geminiImageSize(request.upstreamModel, options.image_size);
    if (size !== undefined) imageConfig.imageSize = size;
    const generationConfig: Record<string, unknown> = {
      responseModalities: options.include_text ? ['TEXT', 'IMAGE'] : ['IMAGE'],
      imageConfig,
    };
    // Consecutive seeds, so the n requests of one job do not draw the same picture.
    if (request.seed !== undefined) generationConfig.seed = (request.seed + index) | 0;
    return {
      contents: [{ role: 'user', parts: [{ text: request.prompt }, ...references] }],
      generationConfig,
    };
  }

  async function generateOne(
    request: GenerationRequest,
    body: Record<string, unknown>,
    signal: AbortSignal,
  ): Promise<{ images: UpstreamImage[]; usage: UpstreamUsage }> {
    const what = `generateContent on ${request.upstreamModel}`;
    const url = `${baseUrl}/v1beta/models/${encodeURIComponent(request.upstreamModel.replace(/^models\//, ''))}:generateContent`;
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(url, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          'x-goog-api-key': apiKey as string,
        },
        body: JSON.stringify(body),
        signal,
      });
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw abortedCall(signal, `gemini: ${what}`);
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError('error', `gemini: ${what}: network error (${message})`, {
        upstreamCode: 'network_error',
      });
    }
    let answer: unknown;
    try {
      answer = text === '' ? undefined : JSON.parse(text);
    } catch {
      answer = text;
    }
    if (!response.ok) throw httpError(response, answer, what, request.upstreamModel);
    const parsed = responseSchema.safeParse(answer);
    if (!parsed.success) {
      throw new ProviderError(
        'error',
        `gemini: ${what}: unexpected response (not a GenerateContentResponse)`,
        {
          status: response.status,
          upstreamCode: 'unexpected_response',
        },
      );
    }
    return { images: readImages(parsed.data, request, what), usage: readUsage(parsed.data) };
  }

  return {
    type: 'gemini',
    capabilities: geminiCapabilities,

    adaptations(request: GenerationRequest): string[] {
      const notes: string[] = [];
      if (request.n > 1) notes.push(`${request.n} images as ${request.n} Gemini requests (one image each)`);
      const { note } = geminiImageSize(request.upstreamModel, options.image_size);
      if (note) notes.push(note);
      return notes;
    },

    async submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult> {
      if (context.signal.aborted) throw abortedCall(context.signal, 'gemini: submit');
      refuseUnsupported(request);

      const references = await referenceParts(request, context.signal);
      // One controller for the n requests: the first failure stops the others.
      const siblings = new AbortController();
      const onAbort = (): void => siblings.abort(context.signal.reason);
      context.signal.addEventListener('abort', onAbort, { once: true });
      try {
        const results = await Promise.all(
          Array.from({ length: request.n }, (_, index) =>
            generateOne(request, requestBody(request, index, references), siblings.signal).catch(
              (error: unknown) => {
                if (!siblings.signal.aborted) siblings.abort(new Error('another image request failed'));
                throw error;
              },
            ),
          ),
        );
        const images = results.flatMap((r) => r.images);
        const usage: UpstreamUsage = {};
        for (const result of results) {
          for (const [key, value] of Object.entries(result.usage)) usage[key] = (usage[key] ?? 0) + value;
        }
        context.onProgress?.(1);
        return { status: 'completed', images, usage };
      } catch (error) {
        // The caller's own abort wins over a sibling's "another request failed".
        if (context.signal.aborted) throw abortedCall(context.signal, 'gemini: submit');
        throw error;
      } finally {
        context.signal.removeEventListener('abort', onAbort);
      }
    },

    poll(upstreamJobId: string): Promise<PollResult> {
      // generateContent answers at once: submit never hands out a job id to poll.
      return Promise.reject(
        new ProviderError(
          'rejected',
          `gemini: answers synchronously, so there is no upstream job "${upstreamJobId.slice(0, 40)}" to poll`,
          { upstreamCode: 'malformed_job_id' },
        ),
      );
    },
  };
}

function refuseUnsupported(request: GenerationRequest): void {
  const capabilities = geminiCapabilities(request.upstreamModel);
  const refuse = (message: string): never => {
    throw new ProviderError('rejected', `gemini: ${message}`, { upstreamCode: 'unsupported_parameters' });
  };
  if (!Number.isInteger(request.n) || request.n < 1 || request.n > MAX_IMAGES_PER_JOB) {
    refuse(`n must be 1–${MAX_IMAGES_PER_JOB}, got ${request.n}`);
  }
  if (request.negativePrompt !== undefined || request.maskUrl !== undefined) {
    refuse('takes neither a negative prompt nor a mask');
  }
  if (!capabilities.aspectRatios.includes(request.aspectRatio)) {
    refuse(`has no aspect ratio ${request.aspectRatio}`);
  }
  const imageCount = request.imageUrls?.length ?? 0;
  if (imageCount > capabilities.maxReferenceImages) {
    refuse(
      `${request.upstreamModel} takes at most ${capabilities.maxReferenceImages} reference image(s), got ${imageCount}`,
    );
  }
  if (request.outputFormat !== undefined && !capabilities.outputFormats.includes(request.outputFormat)) {
    refuse(
      `${request.upstreamModel} cannot promise ${request.outputFormat} output (Gemini has no output format setting)`,
    );
  }
}

function readImages(answer: GeminiResponse, request: GenerationRequest, what: string): UpstreamImage[] {
  const blockReason = answer.promptFeedback?.blockReason;
  const candidate = answer.candidates?.[0];
  if (blockReason && blockReason !== 'BLOCK_REASON_UNSPECIFIED') {
    if (POLICY_BLOCK_REASONS.has(blockReason)) {
      throw new ProviderError('content_policy', `gemini: ${what}: prompt blocked (${blockReason})`, {
        status: 200,
        upstreamCode: `blocked_${blockReason.toLowerCase()}`,
      });
    }
    throw new ProviderError(
      'error',
      `gemini: ${what}: prompt blocked for an unstated reason (${blockReason})`,
      {
        status: 200,
        upstreamCode: `blocked_${blockReason.toLowerCase()}`,
      },
    );
  }
  if (!candidate) {
    throw new ProviderError(
      'error',
      `gemini: ${what}: unexpected response (no candidates and no block reason)`,
      {
        status: 200,
        upstreamCode: 'unexpected_response',
      },
    );
  }

  const finishReason = candidate.finishReason ?? 'STOP';
  const detail = candidate.finishMessage ? `: ${shorten(candidate.finishMessage)}` : '';
  if (POLICY_FINISH_REASONS.has(finishReason)) {
    throw new ProviderError('content_policy', `gemini: ${what}: stopped by ${finishReason}${detail}`, {
      status: 200,
      upstreamCode: finishReason.toLowerCase(),
    });
  }

  const parts = (candidate.content?.parts ?? []).filter((part) => part.thought !== true);
  const images: UpstreamImage[] = [];
  for (const part of parts) {
    const blob =
      part.inlineData ??
      (part.inline_data && { mimeType: part.inline_data.mime_type, data: part.inline_data.data });
    if (!blob || !(blob.mimeType ?? '').startsWith('image/')) continue;
    images.push(decodeImage(blob.data, blob.mimeType as string, request, what));
  }

  if (images.length > 0 && (finishReason === 'STOP' || finishReason === 'MAX_TOKENS')) return images;
  if (finishReason !== 'STOP') {
    // NO_IMAGE, IMAGE_OTHER ("other miscellaneous issue"), OTHER, MALFORMED_RESPONSE, …
    throw new ProviderError('error', `gemini: ${what}: no image (finishReason ${finishReason}${detail})`, {
      status: 200,
      upstreamCode: finishReason.toLowerCase(),
    });
  }
  const words = parts
    .map((part) => part.text ?? '')
    .join(' ')
    .trim();
  if (words) {
    throw new ProviderError('error', `gemini: ${what}: answered in words, no image: "${shorten(words)}"`, {
      status: 200,
      upstreamCode: 'text_only',
    });
  }
  throw new ProviderError('error', `gemini: ${what}: unexpected response (a candidate without image parts)`, {
    status: 200,
    upstreamCode: 'unexpected_response',
  });
}

const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function decodeImage(
  data: string | undefined,
  mimeType: string,
  request: GenerationRequest,
  what: string,
): UpstreamImage {
  const malformed = (why: string): ProviderError =>
    new ProviderError('error', `gemini: ${what}: unexpected response (${why})`, {
      status: 200,
      upstreamCode: 'unexpected_response',
    });
  const compact = (data ?? '').replace(/\s+/g, '');
  if (!compact || !BASE64.test(compact)) throw malformed('image part without valid base64 data');
  const bytes = new Uint8Array(
    Buffer.from(compact, compact.includes('-') || compact.includes('_') ? 'base64url' : 'base64'),
  );
  const sniffed = sniffImage(bytes);
  if (!sniffed) throw malformed(`image part is not a PNG, JPEG or WebP (declared ${mimeType})`);
  // Gemini 3 models have been seen labelling JPEG bytes image/png: the bytes are the truth.
  if (request.outputFormat !== undefined && sniffed.format !== request.outputFormat) {
    throw new ProviderError(
      'error',
      `gemini: ${what}: answered ${sniffed.format} where ${request.outputFormat} was asked for`,
      { status: 200, upstreamCode: 'unexpected_format' },
    );
  }
  return {
    kind: 'bytes',
    data: bytes,
    contentType: `image/${sniffed.format}`,
    ...(sniffed.width && sniffed.height ? { width: sniffed.width, height: sniffed.height } : {}),
  };
}

/** The real format (and size, where cheap to read) of image bytes, from their header. */
export function sniffImage(
  bytes: Uint8Array,
): { format: OutputFormat; width?: number; height?: number } | undefined {
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.length >= 24 && view.readUInt32BE(0) === 0x89504e47 && view.readUInt32BE(4) === 0x0d0a1a0a) {
    return { format: 'png', width: view.readUInt32BE(16), height: view.readUInt32BE(20) };
  }
  if (view.length >= 3 && view[0] === 0xff && view[1] === 0xd8 && view[2] === 0xff) {
    return { format: 'jpeg', ...jpegSize(view) };
  }
  if (
    view.length >= 12 &&
    view.toString('latin1', 0, 4) === 'RIFF' &&
    view.toString('latin1', 8, 12) === 'WEBP'
  ) {
    return { format: 'webp' };
  }
  return undefined;
}

/** Reads a JPEG's size from its first start-of-frame marker. */
function jpegSize(view: Buffer): { width?: number; height?: number } {
  let offset = 2;
  while (offset + 9 < view.length) {
    if (view[offset] !== 0xff) return {};
    const marker = view[offset + 1] as number;
    const length = view.readUInt16BE(offset + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) return { height: view.readUInt16BE(offset + 5), width: view.readUInt16BE(offset + 7) };
    offset += 2 + length;
  }
  return {};
}

function readUsage(answer: GeminiResponse): UpstreamUsage {
  const usage: UpstreamUsage = {};
  for (const [key, value] of Object.entries(answer.usageMetadata ?? {})) {
    if (typeof value === 'number' && Number.isFinite(value)) usage[key] = value;
  }
  return usage;
}

interface GoogleError {
  code?: number;
  message?: string;
  status?: string;
  details?: unknown[];
}

function httpError(response: Response, body: unknown, what: string, upstreamModel: string): ProviderError {
  const status = response.status;
  const error: GoogleError =
    typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'object'
      ? ((body as { error: GoogleError }).error ?? {})
      : {};
  const googleStatus = typeof error.status === 'string' ? error.status : undefined;
  const upstreamMessage =
    typeof error.message === 'string' ? error.message : typeof body === 'string' ? body.slice(0, 200) : '';
  const described = `HTTP ${status}${googleStatus ? ` ${googleStatus}` : ''}${upstreamMessage ? `: ${shorten(upstreamMessage)}` : ''}`;

  let upstreamCode = googleStatus ? googleStatus.toLowerCase() : `http_${status}`;
  let outcome = outcomeForStatus(status);
  let message = `gemini: ${what}: ${described}`;
  // A wrong key is 400 INVALID_ARGUMENT with ErrorInfo reason API_KEY_INVALID, not 401.
  const keyInvalid = (error.details ?? []).some(
    (d) => typeof d === 'object' && d !== null && (d as { reason?: unknown }).reason === 'API_KEY_INVALID',
  );
  if (
    keyInvalid ||
    status === 401 ||
    status === 403 ||
    googleStatus === 'PERMISSION_DENIED' ||
    googleStatus === 'UNAUTHENTICATED'
  ) {
    outcome = 'rejected';
    if (keyInvalid) upstreamCode = 'api_key_invalid';
    message = `gemini: ${what}: ${described} (operator: check the deployment's API key and that the Generative Language API is enabled for its project)`;
  } else if (status === 404) {
    outcome = 'rejected';
    message = `gemini: ${what}: ${described} (upstream model id "${upstreamModel}" is unknown or retired; check the deployment's model map)`;
  } else if (googleStatus === 'FAILED_PRECONDITION') {
    // Free tier not offered in the project's region, or billing not set up: this deployment
    // cannot serve anything until the operator fixes it, whatever the request.
    outcome = 'error';
    message = `gemini: ${what}: ${described} (operator: enable billing for the deployment's project)`;
  }
  const retryAfterMs =
    status === 429
      ? (retryDelayOf(error.details) ?? parseRetryAfter(response.headers.get('retry-after')))
      : undefined;
  return new ProviderError(outcome, message, {
    status,
    upstreamCode,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  });
}

/** `google.rpc.RetryInfo.retryDelay`, a protobuf Duration in JSON ("12s", "0.5s"). */
function retryDelayOf(details: unknown[] | undefined): number | undefined {
  for (const detail of details ?? []) {
    if (typeof detail !== 'object' || detail === null) continue;
    const { '@type': type, retryDelay } = detail as { '@type'?: unknown; retryDelay?: unknown };
    if (typeof type === 'string' && !type.endsWith('google.rpc.RetryInfo')) continue;
    if (typeof retryDelay !== 'string') continue;
    const match = /^(\d+(?:\.\d+)?)s$/.exec(retryDelay.trim());
    if (match) return Math.round(Number(match[1]) * 1000);
  }
  return undefined;
}

function shorten(text: string, max = 160): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

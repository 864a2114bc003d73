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
  NO_CAPABILITIES,
} from '../types';

/**
 * Ideogram 3.0 (api.ideogram.ai), from its OpenAPI document (provider-specs/ideogram.json) and the
 * developer reference (developer.ideogram.ai, "Generate with Ideogram 3.0", "Errors and Billing",
 * "Rate limits").
 *
 * One synchronous call: `POST {base}/v1/ideogram-v3/generate` with an `Api-Key` header and a
 * multipart/form-data body, answered by `{created, data: [{url, prompt, resolution, is_image_safe,
 * seed, style_type}]}`. Ideogram makes up to 8 images per request, so a job is always one request.
 * The URLs are ephemeral; they are returned as `url` images for Easel to download at once.
 *
 * Easel's reference images become Ideogram *style* references (`style_reference_images`), fetched
 * here and uploaded as files: Ideogram's character references take a single image and are billed
 * at the character-reference price, so they are not what a plain reference image should turn into.
 *
 * An image Ideogram withholds (`is_image_safe: false`, empty URL) fails the whole job as
 * `content_policy`, even when the others are safe: returning fewer images than were asked for
 * would silently short the caller. Ideogram bills a request whose images it withheld.
 *
 * Ideogram has no cancel operation and no job to poll, so this adapter has neither. Edits and masks
 * are other endpoints, not served here.
 */

export const IDEOGRAM_DEFAULT_BASE_URL = 'https://api.ideogram.ai';
const GENERATE_PATH = '/v1/ideogram-v3/generate';

const RENDERING_SPEEDS = ['FLASH', 'TURBO', 'BALANCED', 'DEFAULT', 'QUALITY'] as const;
type RenderingSpeed = (typeof RENDERING_SPEEDS)[number];

const ideogramOptionsSchema = z.strictObject({
  /** Ideogram's rendering speed (and price tier) for the `ideogram-v3` model id. */
  rendering_speed: z.enum(RENDERING_SPEEDS).default('DEFAULT'),
  /**
   * Ideogram's style type; Ideogram's own default (GENERAL) when unset. CUSTOM is left out: it needs
   * a custom model URI this adapter does not send.
   */
  style_type: z.enum(['AUTO', 'GENERAL', 'REALISTIC', 'DESIGN', 'FICTION', 'STYLIZED']).optional(),
  /**
   * Magic Prompt rewrites the prompt before generating. OFF by default so the image follows the
   * prompt the caller wrote, as every other Easel provider does (Ideogram's own default is AUTO).
   */
  magic_prompt: z.enum(['AUTO', 'ON', 'OFF']).default('OFF'),
});

export type IdeogramOptions = z.output<typeof ideogramOptionsSchema>;

export function parseIdeogramOptions(
  options: Record<string, unknown>,
  deploymentId = 'ideogram',
): IdeogramOptions {
  return parseAdapterOptions(ideogramOptionsSchema, options, 'ideogram', deploymentId);
}

/**
 * Upstream model ids: `ideogram-v3` renders at the deployment's `rendering_speed`; the others pin
 * one speed, so a deployment can price each tier as its own model.
 */
const MODEL_SPEEDS: Record<string, RenderingSpeed | 'option'> = {
  'ideogram-v3': 'option',
  'ideogram-v3-flash': 'FLASH',
  'ideogram-v3-turbo': 'TURBO',
  'ideogram-v3-balanced': 'BALANCED',
  'ideogram-v3-default': 'DEFAULT',
  'ideogram-v3-quality': 'QUALITY',
};

/** Easel's aspect ratios in Ideogram's `AspectRatioV3` notation; 21:9 and 9:21 have none. */
export const IDEOGRAM_ASPECT_RATIOS: Partial<Record<AspectRatio, string>> = {
  '1:1': '1x1',
  '16:9': '16x9',
  '9:16': '9x16',
  '4:3': '4x3',
  '3:4': '3x4',
  '3:2': '3x2',
  '2:3': '2x3',
};
const SERVED_RATIOS = Object.keys(IDEOGRAM_ASPECT_RATIOS) as AspectRatio[];

/** `num_images` is 1–8 in the spec. */
const MAX_IMAGES = 8;
const MAX_SEED = 2_147_483_647;
/**
 * Ideogram's app takes up to 10 style references (docs.ideogram.ai, "Style Reference"); the API
 * states only a total size, checked at submit.
 */
const MAX_STYLE_REFERENCES = 10;
const MAX_STYLE_REFERENCE_BYTES = 10 * 1024 * 1024;
const REFERENCE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
/** The ephemeral URLs serve PNG; Ideogram's generate endpoint has no output format parameter. */
const OUTPUT_FORMATS: readonly OutputFormat[] = ['png'];

const imageObjectSchema = z.object({
  url: z.string().nullable().optional(),
  prompt: z.string().optional(),
  resolution: z.string().regex(/^\d{2,5}x\d{2,5}$/),
  is_image_safe: z.boolean(),
  seed: z.number().int().optional(),
  style_type: z.string().optional(),
});

const generateResponseSchema = z.object({
  created: z.string().optional(),
  data: z.array(imageObjectSchema),
});

/** What a deployment with these options can do for an upstream model (no key needed to know it). */
export function ideogramCapabilities(
  upstreamModel: string,
  rawOptions: Record<string, unknown>,
): ModelCapabilities {
  return ideogramModelCapabilities(upstreamModel, parseIdeogramOptions(rawOptions));
}

function ideogramModelCapabilities(upstreamModel: string, options: IdeogramOptions): ModelCapabilities {
  if (!(upstreamModel in MODEL_SPEEDS)) return NO_CAPABILITIES;
  // Style references work with the AUTO and GENERAL styles only (docs.ideogram.ai, "Style Reference").
  const styleReferences =
    options.style_type === undefined || options.style_type === 'AUTO' || options.style_type === 'GENERAL';
  return {
    maxImages: MAX_IMAGES,
    seed: true,
    negativePrompt: true,
    maxReferenceImages: styleReferences ? MAX_STYLE_REFERENCES : 0,
    mask: false,
    aspectRatios: SERVED_RATIOS,
    outputFormats: OUTPUT_FORMATS,
    cancel: false,
  };
}

export function createIdeogramProvider(settings: ProviderSettings): ImageProvider {
  const options = parseIdeogramOptions(settings.options, settings.deploymentId);
  const apiKey = settings.apiKey;
  if (!apiKey) {
    throw new Error(
      `deployment "${settings.deploymentId}" (ideogram): no API key; set the environment variable the deployment names`,
    );
  }
  const baseUrl = (settings.baseUrl ?? IDEOGRAM_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const fetchImpl = settings.fetch ?? fetch;
  const fetchImage = settings.fetchImage ?? fetchImageBytes(fetchImpl, 'ideogram');
  const capabilities = (upstreamModel: string): ModelCapabilities =>
    ideogramModelCapabilities(upstreamModel, options);

  function renderingSpeed(upstreamModel: string): RenderingSpeed {
    const speed = MODEL_SPEEDS[upstreamModel];
    if (speed === undefined) {
      throw new ProviderError(
        'rejected',
        `ideogram: unknown upstream model "${upstreamModel}" (known: ${Object.keys(MODEL_SPEEDS).join(', ')})`,
        { upstreamCode: 'unknown_model' },
      );
    }
    return speed === 'option' ? options.rendering_speed : speed;
  }

  /** Refuses what capabilities() does not declare, before anything is fetched or sent. */
  function checkRequest(request: GenerationRequest): string {
    const unsupported = (what: string): ProviderError =>
      new ProviderError('rejected', `ideogram: ${what}`, { upstreamCode: 'unsupported_parameters' });
    const caps = capabilities(request.upstreamModel);
    if (!Number.isInteger(request.n) || request.n < 1 || request.n > MAX_IMAGES) {
      throw unsupported(`n must be 1–${MAX_IMAGES}, got ${request.n}`);
    }
    const ratio = IDEOGRAM_ASPECT_RATIOS[request.aspectRatio];
    if (ratio === undefined) {
      throw unsupported(`aspect ratio ${request.aspectRatio} is not served (${SERVED_RATIOS.join(', ')})`);
    }
    if (
      request.seed !== undefined &&
      (!Number.isInteger(request.seed) || request.seed < 0 || request.seed > MAX_SEED)
    ) {
      throw unsupported(`seed must be an integer in 0–${MAX_SEED}, got ${request.seed}`);
    }
    if (request.maskUrl !== undefined) throw unsupported('generate takes no mask');
    if (request.outputFormat !== undefined && !OUTPUT_FORMATS.includes(request.outputFormat)) {
      throw unsupported(`output format ${request.outputFormat} is not served (png only)`);
    }
    const references = request.imageUrls?.length ?? 0;
    if (references > caps.maxReferenceImages) {
      throw unsupported(
        caps.maxReferenceImages === 0
          ? `style type ${options.style_type} takes no style reference images`
          : `at most ${caps.maxReferenceImages} reference images, got ${references}`,
      );
    }
    return ratio;
  }

  async function styleReferenceFiles(
    urls: string[],
    signal: AbortSignal,
  ): Promise<{ blob: Blob; name: string }[]> {
    const fetched = await Promise.all(urls.map((url) => fetchImage(url, signal)));
    let total = 0;
    return fetched.map(({ bytes, contentType }, i) => {
      const type = contentType.split(';')[0]!.trim().toLowerCase();
      if (!REFERENCE_TYPES.has(type)) {
        throw new ProviderError(
          'rejected',
          `ideogram: reference image ${urls[i]} is ${type || 'untyped'}; Ideogram takes JPEG, PNG or WebP`,
          { upstreamCode: 'reference_image_invalid' },
        );
      }
      total += bytes.byteLength;
      if (total > MAX_STYLE_REFERENCE_BYTES) {
        throw new ProviderError(
          'rejected',
          `ideogram: reference images total more than Ideogram's 10 MB limit for style references`,
          { upstreamCode: 'reference_image_too_large' },
        );
      }
      return { blob: new Blob([bytes], { type }), name: `style-reference-${i + 1}.${type.slice(6)}` };
    });
  }

  async function post(form: FormData, signal: AbortSignal): Promise<{ response: Response; body: unknown }> {
    const what = 'generate';
    try {
      // fetch sets the multipart content type with its boundary from the FormData body.
      const response = await fetchImpl(`${baseUrl}${GENERATE_PATH}`, {
        method: 'POST',
        headers: { 'Api-Key': apiKey as string, accept: 'application/json' },
        body: form,
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
      if (signal.aborted) throw abortedCall(signal, `ideogram: ${what}`);
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError('error', `ideogram: ${what}: network error (${message})`, {
        upstreamCode: 'network_error',
      });
    }
  }

  return {
    type: 'ideogram',
    capabilities,

    adaptations(request: GenerationRequest): string[] {
      const notes: string[] = [];
      const references = request.imageUrls?.length ?? 0;
      if (references > 0) {
        notes.push(`${references} reference image(s) sent as Ideogram style references`);
      }
      if (options.magic_prompt !== 'OFF') {
        notes.push(
          `Ideogram Magic Prompt ${options.magic_prompt}: the prompt may be rewritten before generating`,
        );
      }
      return notes;
    },

    async submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult> {
      const { signal } = context;
      if (signal.aborted) throw abortedCall(signal, 'ideogram: submit');
      const speed = renderingSpeed(request.upstreamModel);
      const aspectRatio = checkRequest(request);

      const form = new FormData();
      form.append('prompt', request.prompt);
      form.append('aspect_ratio', aspectRatio);
      form.append('rendering_speed', speed);
      form.append('magic_prompt', options.magic_prompt);
      form.append('num_images', String(request.n));
      if (options.style_type !== undefined) form.append('style_type', options.style_type);
      if (request.seed !== undefined) form.append('seed', String(request.seed));
      if (request.negativePrompt !== undefined) form.append('negative_prompt', request.negativePrompt);
      for (const { blob, name } of await styleReferenceFiles(request.imageUrls ?? [], signal)) {
        form.append('style_reference_images', blob, name);
      }

      const { response, body } = await post(form, signal);
      if (!response.ok) throw httpError(response, body);
      const images = readImages(body, request.n, response.status);
      context.onProgress?.(1);
      return { status: 'completed', images };
    },

    poll(upstreamJobId: string): Promise<PollResult> {
      // Ideogram answers submit with the images; there is never an upstream job to poll.
      return Promise.reject(
        new ProviderError(
          'rejected',
          `ideogram: generation is synchronous; no upstream job "${upstreamJobId.slice(0, 40)}" to poll`,
          { upstreamCode: 'malformed_job_id' },
        ),
      );
    },
  };
}

/** Exactly `n` safe images with URLs and sizes, or the reason why not. */
function readImages(body: unknown, n: number, status: number): UpstreamImage[] {
  const unexpected = (what: string): ProviderError =>
    new ProviderError('error', `ideogram: generate: unexpected response (${what})`, {
      status,
      upstreamCode: 'unexpected_response',
    });
  const parsed = generateResponseSchema.safeParse(body);
  if (!parsed.success) {
    throw unexpected(
      typeof body === 'object' && body !== null ? 'not an ImageGenerationResponseV3' : 'not JSON',
    );
  }
  const data = parsed.data.data;
  const unsafe = data.filter((image) => !image.is_image_safe).length;
  if (unsafe > 0) {
    throw new ProviderError(
      'content_policy',
      `ideogram: ${unsafe} of ${data.length} image(s) withheld by Ideogram's safety check (the request is billed)`,
      { status, upstreamCode: 'image_unsafe' },
    );
  }
  if (data.length !== n) throw unexpected(`${data.length} image(s) for ${n} asked`);
  return data.map((image) => {
    if (!image.url || !isHttpUrl(image.url)) throw unexpected('a safe image without a URL');
    const [width, height] = image.resolution.split('x').map(Number) as [number, number];
    return { kind: 'url', url: image.url, contentType: 'image/png', width, height };
  });
}

function httpError(response: Response, body: unknown): ProviderError {
  const status = response.status;
  const detail = describeError(body);
  const rejectReason = readString(body, 'reject_reason');
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const base = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  const message = (what: string): string =>
    `ideogram: generate: HTTP ${status} ${what}${detail ? `: ${detail}` : ''}${rejectReason ? ` (${rejectReason})` : ''}`;

  switch (status) {
    case 400:
      return new ProviderError('rejected', message('invalid input'), {
        ...base,
        upstreamCode: 'invalid_input',
      });
    case 401:
      return new ProviderError('rejected', message('unauthorized; check the deployment key'), {
        ...base,
        upstreamCode: 'unauthorized',
      });
    case 402:
      // Our Ideogram balance or plan limit, not the caller's request: routing should move on.
      return new ProviderError('error', message('payment required; top up the Ideogram account'), {
        ...base,
        upstreamCode: rejectReason ?? 'payment_required',
      });
    case 422:
      return new ProviderError('content_policy', message('prompt failed the safety check'), {
        ...base,
        upstreamCode: 'prompt_unsafe',
      });
    case 429:
      return new ProviderError('rate_limited', message('too many requests'), {
        ...base,
        upstreamCode: rejectReason ?? 'rate_limited',
      });
    default:
      return new ProviderError(outcomeForStatus(status), message('failed'), {
        ...base,
        upstreamCode: `http_${status}`,
      });
  }
}

/** Ideogram's `{error: "..."}`, a FastAPI/Connexion-style `{detail}` or `{message}`, or a short text. */
function describeError(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 200) || undefined;
  return readString(body, 'error') ?? readString(body, 'detail') ?? readString(body, 'message');
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

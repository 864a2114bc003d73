import { z } from 'zod';
import { abortedCall, decodeJobId, encodeJobId, parseAdapterOptions } from '../shared';
import {
  outcomeForStatus,
  parseRetryAfter,
  ProviderError,
  ASPECT_RATIOS,
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
import { customSize, nearestGptImageRatio, replicateModelShape, type ReplicateModelShape } from './models';

/**
 * Replicate (api.replicate.com), from its OpenAPI document (provider-specs/replicate.json) and the
 * official `replicate` JS client.
 *
 * Official models run by name: `POST {base}/v1/models/{owner}/{name}/predictions` with
 * `Authorization: Bearer <token>` and `{input: {...}}`, answered by a prediction
 * `{id, status, output, error, logs, urls: {get, cancel}}`. With `Prefer: wait=N` (1–60 s) the
 * answer waits for the result; otherwise, or when N seconds are not enough, it comes back
 * `starting` and is polled at `GET /v1/predictions/{id}` through `starting` → `processing` →
 * `succeeded` | `failed` | `canceled` | `aborted`. `Cancel-After` makes Replicate stop a prediction
 * that outlives the deployment's timeout (`canceled` if it was running, `aborted` if it never
 * started). `POST /v1/predictions/{id}/cancel` stops one we no longer want.
 *
 * Replicate has no idempotency key: a retried create starts (and bills) a second prediction. What
 * prevents double submission is the upstream job id, which carries every prediction id and is
 * saved before any waiting, so a restarted worker polls instead of creating again. That is why
 * `sync_wait_seconds` defaults to 0: a worker that dies while a `Prefer: wait` create is open
 * leaves a prediction nobody will collect, and the retry pays for another.
 *
 * Models that take a count (`num_outputs`, `number_of_images`) make n images in one prediction;
 * the others make one per prediction, so n images are n predictions, created one after another and
 * stopping at the first failure; those already created are then cancelled, best effort (Replicate
 * bills the time they ran).
 *
 * Output files are URLs on `replicate.delivery`, deleted after an hour: they are returned as `url`
 * images for Easel to download at once. The API token goes only to the API's own origin.
 *
 * A `failed` prediction whose error names Replicate's or the model's safety check ("NSFW content
 * detected", "flagged as sensitive (E005)") is `content_policy`; any other failure is `error`.
 *
 * `openai/gpt-image-1` on Replicate bills the caller's own OpenAI account and takes that account's
 * key as an input (`openai_api_key`): a deployment serves it only with `openai_api_key_env` set,
 * and that key is sent to Replicate in the request body.
 */

export const REPLICATE_DEFAULT_BASE_URL = 'https://api.replicate.com';
const TYPE = 'replicate';
const JOB_ID_PREFIX = 'rep1.';
/** Predictions per job for models that make one image per prediction. */
const MAX_PREDICTIONS_PER_JOB = 4;

const durationSchema = z
  .number()
  .int()
  .min(5)
  .max(7 * 24 * 3600);

const replicateOptionsSchema = z.strictObject({
  /**
   * `Prefer: wait=N` on create; 0 sends none. See the module comment for why the default is 0.
   */
  sync_wait_seconds: z.number().int().min(0).max(60).default(0),
  /**
   * `Cancel-After` on create, in seconds: Replicate stops the prediction after this long (from its
   * creation). Should match the deployment's `timeout_ms`, which the adapter does not receive.
   */
  cancel_after_seconds: durationSchema.default(120),
  /** Hint returned to the caller for the delay between polls. */
  poll_interval_ms: z.number().int().min(50).max(60_000).default(1000),
  /** Format asked for when the request names none; the model's own default when unset. */
  output_format: z.enum(['png', 'jpeg', 'webp']).optional(),
  /** flux-2 pro/flex/max output size (not used for ratios served by `custom` width/height). */
  flux2_resolution: z.enum(['0.5 MP', '1 MP', '2 MP', '4 MP']).default('1 MP'),
  /** flux-2 pro/flex/max moderation, 1 (strict) to 5; Replicate's default (2) when unset. */
  safety_tolerance: z.number().int().min(1).max(5).optional(),
  /**
   * flux-2-flex rewrites prompts by default on Replicate; off here so the image follows the prompt
   * the caller wrote.
   */
  prompt_upsampling: z.boolean().default(false),
  /** flux-schnell and flux-2-dev: Replicate's speed optimisations (its default: on). */
  go_fast: z.boolean().optional(),
  /** flux-schnell and flux-2-dev run a safety checker on outputs unless this is true. */
  disable_safety_checker: z.boolean().optional(),
  /** flux-schnell output size. */
  schnell_megapixels: z.enum(['1', '0.25']).optional(),
  /** nano-banana-2 output size. */
  nano_banana_resolution: z.enum(['1K', '2K', '4K']).default('1K'),
  /** gpt-image-1 quality; medium is what the zero-config price assumes. */
  gpt_image_quality: z.enum(['low', 'medium', 'high', 'auto']).default('medium'),
  /** gpt-image-1 moderation level; OpenAI's default (auto) when unset. */
  gpt_image_moderation: z.enum(['auto', 'low']).optional(),
  /**
   * The environment variable holding the OpenAI key gpt-image-1 on Replicate requires (it bills
   * that OpenAI account). Without it the deployment does not serve gpt-image-1.
   */
  openai_api_key_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'name an environment variable, not the key itself')
    .optional(),
  /** Ideogram Magic Prompt; off so the image follows the caller's prompt (Replicate's default: Auto). */
  magic_prompt: z.enum(['Auto', 'On', 'Off']).default('Off'),
  /** Ideogram style type; the model's default when unset. */
  ideogram_style_type: z.enum(['None', 'Auto', 'General', 'Realistic', 'Design']).optional(),
});

export type ReplicateOptions = z.output<typeof replicateOptionsSchema>;

export function parseReplicateOptions(
  options: Record<string, unknown>,
  deploymentId = TYPE,
): ReplicateOptions {
  return parseAdapterOptions(replicateOptionsSchema, options, TYPE, deploymentId);
}

/** What a deployment with these options can do for an upstream model (no key needed to know it). */
export function replicateCapabilities(
  upstreamModel: string,
  rawOptions: Record<string, unknown>,
): ModelCapabilities {
  return modelCapabilities(upstreamModel, parseReplicateOptions(rawOptions));
}

function modelCapabilities(upstreamModel: string, options: ReplicateOptions): ModelCapabilities {
  const shape = replicateModelShape(upstreamModel);
  if (!shape) return NO_CAPABILITIES;
  if (shape.family === 'gpt-image' && options.openai_api_key_env === undefined) return NO_CAPABILITIES;
  return {
    maxImages: shape.imagesField ? shape.imagesPerPrediction : MAX_PREDICTIONS_PER_JOB,
    seed: shape.seed,
    negativePrompt: false,
    maxReferenceImages: shape.maxReferenceImages,
    mask: false,
    aspectRatios: shape.otherRatios === 'none' ? shape.exactRatios : ASPECT_RATIOS,
    outputFormats: shape.outputFormats,
    cancel: true,
  };
}

const predictionSchema = z.object({
  id: z.string().min(1),
  status: z.string(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  logs: z.string().nullable().optional(),
  data_removed: z.boolean().optional(),
  urls: z
    .object({ get: z.string().optional(), cancel: z.string().optional() })
    .partial()
    .nullable()
    .optional(),
});

type Prediction = z.output<typeof predictionSchema>;

const jobSchema = z.object({
  v: z.literal(1),
  model: z.string(),
  /** Images each prediction must return. */
  per: z.number().int().min(1),
  predictions: z
    .array(z.object({ id: z.string().min(1), get: z.string().optional(), cancel: z.string().optional() }))
    .min(1),
});

type ReplicateJob = z.output<typeof jobSchema>;
type JobPrediction = ReplicateJob['predictions'][number];

/** Words in a `failed` prediction's error that mean a safety check refused it. */
const SAFETY_FAILURE =
  /nsfw|flagged as sensitive|\(E005\)|safety (checker|filter|system)|content policy|moderation/i;

export function createReplicateProvider(settings: ProviderSettings): ImageProvider {
  const options = parseReplicateOptions(settings.options, settings.deploymentId);
  const apiKey = settings.apiKey;
  if (!apiKey) {
    throw new Error(
      `deployment "${settings.deploymentId}" (replicate): no API token; set the environment variable the deployment names`,
    );
  }
  const openaiKey = options.openai_api_key_env ? process.env[options.openai_api_key_env] : undefined;
  if (options.openai_api_key_env && !openaiKey) {
    throw new Error(
      `deployment "${settings.deploymentId}" (replicate): option openai_api_key_env names ${options.openai_api_key_env}, which is not set`,
    );
  }
  const baseUrl = (settings.baseUrl ?? REPLICATE_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const origin = new URL(baseUrl).origin;
  const fetchImpl = settings.fetch ?? fetch;
  const capabilities = (upstreamModel: string): ModelCapabilities =>
    modelCapabilities(upstreamModel, options);

  /** A URL Replicate handed back, used only when it is on the API's origin (where the token may go). */
  const sameOrigin = (url: string | undefined): string | undefined => {
    if (!url) return undefined;
    try {
      return new URL(url).origin === origin ? url : undefined;
    } catch {
      return undefined;
    }
  };

  async function send(
    url: string,
    init: { method: 'GET' | 'POST'; body?: unknown; headers?: Record<string, string> },
    signal: AbortSignal,
    what: string,
  ): Promise<{ response: Response; body: unknown }> {
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${apiKey as string}`,
      ...init.headers,
    };
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
      if (signal.aborted) throw abortedCall(signal, `${TYPE}: ${what}`);
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError('error', `${TYPE}: ${what}: network error (${message})`, {
        upstreamCode: 'network_error',
      });
    }
  }

  function readPrediction(body: unknown, status: number, what: string): Prediction {
    const parsed = predictionSchema.safeParse(body);
    if (!parsed.success) {
      throw new ProviderError(
        'error',
        `${TYPE}: ${what}: unexpected response (${typeof body === 'object' && body !== null ? 'not a prediction' : 'not JSON'})`,
        { status, upstreamCode: 'unexpected_response' },
      );
    }
    return parsed.data;
  }

  /** Refuses what capabilities() does not declare, before anything is sent. */
  function checkRequest(request: GenerationRequest): ReplicateModelShape {
    const shape = replicateModelShape(request.upstreamModel);
    if (!shape) {
      throw new ProviderError(
        'rejected',
        `${TYPE}: upstream model "${request.upstreamModel}" is not one this adapter drives`,
        {
          upstreamCode: 'unknown_model',
        },
      );
    }
    const caps = capabilities(request.upstreamModel);
    const unsupported = (what: string): ProviderError =>
      new ProviderError('rejected', `${TYPE}: ${request.upstreamModel}: ${what}`, {
        upstreamCode: 'unsupported_parameters',
      });
    if (caps.maxImages === 0) {
      throw unsupported('needs the option openai_api_key_env (Replicate runs it on your own OpenAI account)');
    }
    if (!Number.isInteger(request.n) || request.n < 1 || request.n > caps.maxImages) {
      throw unsupported(`n must be 1–${caps.maxImages}, got ${request.n}`);
    }
    if (!caps.aspectRatios.includes(request.aspectRatio)) {
      throw unsupported(
        `aspect ratio ${request.aspectRatio} is not served (${caps.aspectRatios.join(', ')})`,
      );
    }
    if (request.seed !== undefined && !caps.seed) throw unsupported('takes no seed');
    if (request.negativePrompt !== undefined) throw unsupported('takes no negative prompt');
    if (request.maskUrl !== undefined) throw unsupported('takes no mask');
    const format = request.outputFormat ?? options.output_format;
    if (format !== undefined && !caps.outputFormats.includes(format)) {
      throw unsupported(`output format ${format} is not served (${caps.outputFormats.join(', ')})`);
    }
    const references = request.imageUrls?.length ?? 0;
    if (references > caps.maxReferenceImages) {
      throw unsupported(`at most ${caps.maxReferenceImages} reference image(s), got ${references}`);
    }
    return shape;
  }

  function buildInput(
    request: GenerationRequest,
    shape: ReplicateModelShape,
    index: number,
  ): Record<string, unknown> {
    const input: Record<string, unknown> = { prompt: request.prompt };
    const format = request.outputFormat ?? options.output_format;
    if (format !== undefined) input.output_format = format === 'jpeg' ? shape.jpegName : format;
    if (shape.imagesField) input[shape.imagesField] = request.n;
    if (request.seed !== undefined) input.seed = shape.imagesField ? request.seed : request.seed + index;
    const references = request.imageUrls ?? [];
    if (shape.referenceField && references.length > 0) input[shape.referenceField] = references;

    if (shape.exactRatios.includes(request.aspectRatio)) input.aspect_ratio = request.aspectRatio;
    else if (shape.otherRatios === 'nearest') input.aspect_ratio = nearestGptImageRatio(request.aspectRatio);
    else if (shape.otherRatios === 'custom' && shape.custom) {
      input.aspect_ratio = 'custom';
      Object.assign(input, customSize(request.aspectRatio, shape.custom));
    }

    const model = request.upstreamModel;
    switch (shape.family) {
      case 'flux-schnell':
        if (options.schnell_megapixels !== undefined) input.megapixels = options.schnell_megapixels;
        if (options.go_fast !== undefined) input.go_fast = options.go_fast;
        if (options.disable_safety_checker !== undefined)
          input.disable_safety_checker = options.disable_safety_checker;
        break;
      case 'flux-2':
        if (model.endsWith('/flux-2-dev')) {
          if (options.go_fast !== undefined) input.go_fast = options.go_fast;
          if (options.disable_safety_checker !== undefined)
            input.disable_safety_checker = options.disable_safety_checker;
        } else {
          if (input.aspect_ratio !== 'custom') input.resolution = options.flux2_resolution;
          if (options.safety_tolerance !== undefined) input.safety_tolerance = options.safety_tolerance;
          if (model.endsWith('/flux-2-flex')) input.prompt_upsampling = options.prompt_upsampling;
        }
        break;
      case 'nano-banana':
        if (model === 'google/nano-banana-2') input.resolution = options.nano_banana_resolution;
        break;
      case 'gpt-image':
        input.openai_api_key = openaiKey;
        input.quality = options.gpt_image_quality;
        if (options.gpt_image_moderation !== undefined) input.moderation = options.gpt_image_moderation;
        break;
      case 'ideogram-v3':
        input.magic_prompt_option = options.magic_prompt;
        if (options.ideogram_style_type !== undefined) input.style_type = options.ideogram_style_type;
        break;
    }
    return input;
  }

  async function create(
    request: GenerationRequest,
    shape: ReplicateModelShape,
    index: number,
    signal: AbortSignal,
  ): Promise<Prediction> {
    const what = `create prediction on ${request.upstreamModel}`;
    const headers: Record<string, string> = { 'cancel-after': `${options.cancel_after_seconds}s` };
    if (options.sync_wait_seconds > 0) headers.prefer = `wait=${options.sync_wait_seconds}`;
    const [owner, name] = request.upstreamModel.split('/') as [string, string];
    const { response, body } = await send(
      `${baseUrl}/v1/models/${encodeURIComponent(owner)}/${encodeURIComponent(name)}/predictions`,
      { method: 'POST', body: { input: buildInput(request, shape, index) }, headers },
      signal,
      what,
    );
    if (!response.ok) throw httpError(response, body, what);
    return readPrediction(body, response.status, what);
  }

  async function get(prediction: JobPrediction, signal: AbortSignal): Promise<Prediction> {
    const what = `get prediction ${prediction.id}`;
    const url = prediction.get ?? `${baseUrl}/v1/predictions/${encodeURIComponent(prediction.id)}`;
    const { response, body } = await send(url, { method: 'GET' }, signal, what);
    if (!response.ok) {
      if (response.status === 404) {
        throw new ProviderError(
          'error',
          `${TYPE}: prediction ${prediction.id} not found (unknown, or another account's)`,
          {
            status: 404,
            upstreamCode: 'prediction_not_found',
          },
        );
      }
      throw httpError(response, body, what);
    }
    return readPrediction(body, response.status, what);
  }

  /** The images of a finished prediction, or undefined while it runs; throws for every failure. */
  function settle(prediction: Prediction, expected: number): UpstreamImage[] | undefined {
    const where = `${TYPE}: prediction ${prediction.id}`;
    switch (prediction.status) {
      case 'starting':
      case 'processing':
        return undefined;
      case 'succeeded':
        return readOutput(prediction, expected);
      case 'failed': {
        const reason =
          typeof prediction.error === 'string' ? prediction.error.slice(0, 300) : 'no error given';
        if (SAFETY_FAILURE.test(reason)) {
          throw new ProviderError('content_policy', `${where} refused by a safety check: ${reason}`, {
            upstreamCode: 'safety_check',
          });
        }
        throw new ProviderError('error', `${where} failed: ${reason}`, { upstreamCode: 'prediction_failed' });
      }
      case 'canceled':
        throw new ProviderError(
          'timeout',
          `${where} was canceled (by a cancel request, or by Cancel-After ${options.cancel_after_seconds}s while running)`,
          { upstreamCode: 'canceled' },
        );
      case 'aborted':
        throw new ProviderError(
          'timeout',
          `${where} was aborted before it started (Cancel-After ${options.cancel_after_seconds}s passed in the queue)`,
          { upstreamCode: 'aborted' },
        );
      default:
        throw new ProviderError('error', `${where}: unexpected status "${prediction.status.slice(0, 40)}"`, {
          upstreamCode: 'unexpected_response',
        });
    }
  }

  function readOutput(prediction: Prediction, expected: number): UpstreamImage[] {
    const unexpected = (what: string, code = 'unexpected_response'): ProviderError =>
      new ProviderError('error', `${TYPE}: prediction ${prediction.id} succeeded with ${what}`, {
        upstreamCode: code,
      });
    if (prediction.data_removed === true || prediction.output === null || prediction.output === undefined) {
      // Replicate deletes outputs an hour after the prediction: it has to be run again.
      throw unexpected(
        prediction.data_removed ? 'its output already removed (older than an hour)' : 'no output',
        prediction.data_removed ? 'output_removed' : 'unexpected_response',
      );
    }
    const urls = Array.isArray(prediction.output) ? prediction.output : [prediction.output];
    if (urls.length !== expected) throw unexpected(`${urls.length} output(s) for ${expected} asked`);
    return urls.map((url) => {
      if (typeof url !== 'string' || !isHttpUrl(url)) throw unexpected('an output that is not a URL');
      const contentType = contentTypeOf(url);
      return { kind: 'url', url, ...(contentType ? { contentType } : {}) };
    });
  }

  return {
    type: TYPE,
    capabilities,

    adaptations(request: GenerationRequest): string[] {
      const shape = replicateModelShape(request.upstreamModel);
      if (!shape) return [];
      const notes: string[] = [];
      if (request.n > 1 && !shape.imagesField) {
        notes.push(`${request.n} images as ${request.n} Replicate predictions (one image each)`);
      }
      if (!shape.exactRatios.includes(request.aspectRatio)) {
        if (shape.otherRatios === 'nearest') {
          notes.push(
            `aspect ratio ${request.aspectRatio} served as ${nearestGptImageRatio(request.aspectRatio)}, the nearest ratio the model makes`,
          );
        } else if (shape.otherRatios === 'custom' && shape.custom) {
          const { width, height } = customSize(request.aspectRatio, shape.custom);
          notes.push(`aspect ratio ${request.aspectRatio} rendered at custom ${width}x${height}`);
        }
      }
      if (shape.family === 'ideogram-v3' && options.magic_prompt !== 'Off') {
        notes.push(
          `Ideogram Magic Prompt ${options.magic_prompt}: the prompt may be rewritten before generating`,
        );
      }
      if (shape.family === 'ideogram-v3' && (request.imageUrls?.length ?? 0) > 0) {
        notes.push(`${request.imageUrls?.length} reference image(s) sent as Ideogram style references`);
      }
      return notes;
    },

    async submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult> {
      const { signal } = context;
      if (signal.aborted) throw abortedCall(signal, `${TYPE}: submit`);
      const shape = checkRequest(request);
      const count = shape.imagesField ? 1 : request.n;
      const per = shape.imagesField ? request.n : 1;

      const created: Prediction[] = [];
      try {
        for (let index = 0; index < count; index++) created.push(await create(request, shape, index, signal));
      } catch (error) {
        // The job fails here, so its predictions already created are stopped (best effort, unbilled
        // from then on) rather than left to run for nobody.
        await Promise.allSettled(created.map((p) => cancelOne({ id: p.id }, AbortSignal.timeout(5_000))));
        throw error;
      }

      // Prefer: wait may have answered with finished predictions; failures surface at once.
      const settled = created.map((prediction) => settle(prediction, per));
      if (settled.every((images) => images !== undefined)) {
        context.onProgress?.(1);
        return { status: 'completed', images: settled.flatMap((images) => images ?? []) };
      }
      const job: ReplicateJob = {
        v: 1,
        model: request.upstreamModel,
        per,
        predictions: created.map((p) => ({
          id: p.id,
          ...(sameOrigin(p.urls?.get) ? { get: p.urls?.get } : {}),
          ...(sameOrigin(p.urls?.cancel) ? { cancel: p.urls?.cancel } : {}),
        })),
      };
      return {
        status: 'pending',
        upstreamJobId: encodeJobId(JOB_ID_PREFIX, job),
        pollAfterMs: options.poll_interval_ms,
      };
    },

    async poll(upstreamJobId: string, context: ProviderCallContext): Promise<PollResult> {
      const { signal } = context;
      if (signal.aborted) throw abortedCall(signal, `${TYPE}: poll`);
      const job = decodeJob(upstreamJobId);
      const predictions = await Promise.all(job.predictions.map((p) => get(sameOriginJob(p), signal)));

      const images: UpstreamImage[] = [];
      let progressSum = 0;
      let done = 0;
      for (const prediction of predictions) {
        const result = settle(prediction, job.per);
        if (result) {
          images.push(...result);
          progressSum += 1;
          done += 1;
        } else {
          progressSum += progressFromLogs(prediction.logs) ?? 0;
        }
      }
      if (done === predictions.length) {
        context.onProgress?.(1);
        return { status: 'completed', images };
      }
      const progress = Math.min(progressSum / predictions.length, 0.99);
      context.onProgress?.(progress);
      return { status: 'pending', progress, pollAfterMs: options.poll_interval_ms };
    },

    async cancel(upstreamJobId: string, signal: AbortSignal): Promise<void> {
      if (signal.aborted) throw abortedCall(signal, `${TYPE}: cancel`);
      const job = decodeJob(upstreamJobId);
      await Promise.all(job.predictions.map((p) => cancelOne(sameOriginJob(p), signal)));
    },
  };

  async function cancelOne(prediction: JobPrediction, signal: AbortSignal): Promise<void> {
    const what = `cancel prediction ${prediction.id}`;
    const url = prediction.cancel ?? `${baseUrl}/v1/predictions/${encodeURIComponent(prediction.id)}/cancel`;
    const { response, body } = await send(url, { method: 'POST' }, signal, what);
    // A finished prediction answers 200 unchanged: nothing left to stop, which is success.
    if (!response.ok) throw httpError(response, body, what);
  }

  /** A job id could be forged or stale: its URLs are used only on the API's origin. */
  function sameOriginJob(prediction: JobPrediction): JobPrediction {
    return {
      id: prediction.id,
      ...(sameOrigin(prediction.get) ? { get: prediction.get } : {}),
      ...(sameOrigin(prediction.cancel) ? { cancel: prediction.cancel } : {}),
    };
  }
}

function decodeJob(upstreamJobId: string): ReplicateJob {
  return decodeJobId(JOB_ID_PREFIX, jobSchema, upstreamJobId, TYPE);
}

/**
 * Progress from a prediction's logs: the last tqdm-style line (`45%|████  | 13/28 [...]`), as the
 * official client's `parseProgressFromLogs` reads it. Undefined when the model logs none.
 */
export function progressFromLogs(logs: string | null | undefined): number | undefined {
  if (!logs) return undefined;
  const lines = logs.split('\n').reverse();
  for (const line of lines) {
    const match = /^\s*(\d+)%\s*\|.+?\|\s*(\d+)\/(\d+)/.exec(line);
    if (match) return Math.min(Math.max(Number(match[1]) / 100, 0), 0.99);
  }
  return undefined;
}

function contentTypeOf(url: string): string | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  const types: Record<string, OutputFormat> = { png: 'png', jpg: 'jpeg', jpeg: 'jpeg', webp: 'webp' };
  const format = ext ? types[ext] : undefined;
  return format ? `image/${format}` : undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

/** Replicate's errors are RFC 7807 problem details: `{title, detail, status, invalid_fields?}`. */
function httpError(response: Response, body: unknown, what: string): ProviderError {
  const status = response.status;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const base = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  const detail = describeProblem(body);
  const message = (summary: string): string =>
    `${TYPE}: ${what}: HTTP ${status} ${summary}${detail ? `: ${detail}` : ''}`;

  switch (status) {
    case 401:
    case 403:
      return new ProviderError(
        'rejected',
        message('unauthorized; check the Replicate API token the deployment names'),
        {
          ...base,
          upstreamCode: 'unauthorized',
        },
      );
    case 402:
      // Our Replicate account's credit or billing, not the caller's request: routing moves on.
      return new ProviderError(
        'error',
        message('payment required; add credit or fix billing on the Replicate account'),
        {
          ...base,
          upstreamCode: 'payment_required',
        },
      );
    case 404:
      return new ProviderError('rejected', message('not found (unknown model, or not an official model)'), {
        ...base,
        upstreamCode: 'not_found',
      });
    case 422:
      return new ProviderError('rejected', message('invalid input'), {
        ...base,
        upstreamCode: 'invalid_fields',
      });
    case 429:
      return new ProviderError('rate_limited', message('throttled'), {
        ...base,
        upstreamCode: 'rate_limited',
      });
    default:
      return new ProviderError(outcomeForStatus(status), message('failed'), {
        ...base,
        upstreamCode: `http_${status}`,
      });
  }
}

function describeProblem(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 200) || undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  const problem = body as { title?: unknown; detail?: unknown; invalid_fields?: unknown };
  const fields = Array.isArray(problem.invalid_fields)
    ? problem.invalid_fields
        .map((item: unknown) => {
          if (typeof item !== 'object' || item === null) return String(item);
          const { field, description, type } = item as {
            field?: unknown;
            description?: unknown;
            type?: unknown;
          };
          const name = typeof field === 'string' && field !== '' ? field : '(body)';
          const why =
            typeof description === 'string' ? description : typeof type === 'string' ? type : 'invalid';
          return `${name}: ${why}`;
        })
        .join('; ')
    : undefined;
  const text =
    typeof problem.detail === 'string'
      ? problem.detail
      : typeof problem.title === 'string'
        ? problem.title
        : undefined;
  if (fields) return text ? `${fields} (${text.slice(0, 200)})` : fields;
  return text?.slice(0, 300);
}

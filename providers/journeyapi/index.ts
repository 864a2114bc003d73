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
  type OutputFormat,
  type PollResult,
  type ProviderCallContext,
  type ProviderSettings,
  type SubmitResult,
  type UpstreamImage,
  NO_CAPABILITIES,
} from '../types';

/**
 * JourneyAPI (api.journeyapi.com), a hosted gateway serving Midjourney and about thirty other
 * models through one endpoint, from its public reference (journeyapi.co/docs: authentication,
 * imagine, fetch, fetch-many, models/*).
 *
 * Submit is `POST {base}/api/v1/imagine` with the raw key in `Authorization` (no "Bearer") and a
 * JSON body `{model, prompt, aspect_ratio, …}`. Most models are synchronous and answer
 * `{task_id, status: "finished", image_url}` at once. Midjourney and the Flux.1 models
 * (flux-pro, flux-dev, flux-schnell) answer `{task_id}` only; the task is polled, free of credits,
 * with `POST /api/v1/fetch {task_id}` or `POST /api/v1/fetch-many {task_ids}` (2–20 ids) through
 * `staged | pending | starting | processing` to `finished | failed`, with a string `percentage`.
 * The adapter goes by the answer's shape, not by a list of which models are asynchronous.
 *
 * A Midjourney task finishes with a 2×2 grid (`original_image_url`) and its four quarters
 * (`image_urls`): one generation, returned as the grid (role `grid`) then the four candidates
 * (role `candidate`), so Midjourney serves one image per job. Every other model makes one image
 * per request: n images are n requests, sent one after another and stopped at the first failure
 * (images already made are then lost, and billed by JourneyAPI). Pending task ids are carried in
 * the upstream job id, so a restarted worker resumes polling and submits nothing twice.
 *
 * Midjourney reads its own parameters from the prompt (the docs name --ar, --sref, --style,
 * --chaos); with `midjourney_prompt_parameters` on (the default) a seed is sent as `--seed N` and a
 * negative prompt as `--no …` appended to the prompt, and adaptations say so. The Flux models whose
 * pages list `negative_prompt` get it as that field; no other model documents a seed or a negative
 * prompt, so their capabilities say false. Reference images: the one `image_url` field, on the
 * models whose pages list it. Masks: no documented field, so none.
 *
 * Assumptions where the docs are silent (the fake follows them): a wrong key is 401 with `{}`
 * (documented); other errors are JSON `{error: string}`; an empty balance is 402 (or any 4xx whose
 * message speaks of credits), mapped to `error` so routing moves on; a prompt refused by moderation
 * is a `failed` task whose `error` names the content policy (documented for /fetch; the same shape
 * is assumed for a synchronous imagine answer), or a 4xx whose message names it; 429 carries
 * Retry-After; /fetch of an unknown task is 404, and fetch-many silently omits it (documented).
 * JourneyAPI documents no cancel operation and no idempotency key, so this adapter has no `cancel`
 * (a cancelled job's task runs to its end upstream; JourneyAPI charges only successful tasks) and
 * sends no idempotency key: a retried submit can start a second task.
 */

export const JOURNEYAPI_DEFAULT_BASE_URL = 'https://api.journeyapi.com';
const IMAGINE_PATH = '/api/v1/imagine';
const FETCH_PATH = '/api/v1/fetch';
const FETCH_MANY_PATH = '/api/v1/fetch-many';

const journeyapiOptionsSchema = z.strictObject({
  /** Hint returned to the caller for the delay between polls (Midjourney grids take 30–90 s). */
  poll_interval_ms: z.number().int().min(50).max(60_000).default(2000),
  /** `resolution` for the models that take it (nano-banana-2, the Flux.1 models); theirs when unset. */
  resolution: z.enum(['1K', '2K', '4K']).optional(),
  /** Send a seed as `--seed` and a negative prompt as `--no` in Midjourney prompts. */
  midjourney_prompt_parameters: z.boolean().default(true),
});

export type JourneyapiOptions = z.output<typeof journeyapiOptionsSchema>;

export function parseJourneyapiOptions(
  options: Record<string, unknown>,
  deploymentId = 'journeyapi',
): JourneyapiOptions {
  return parseAdapterOptions(journeyapiOptionsSchema, options, 'journeyapi', deploymentId);
}

/** What the model pages document for one JourneyAPI model id. */
interface JourneyModel {
  /** Makes one 2×2 grid and four candidates per task (Midjourney). */
  grid?: true;
  negativePrompt?: true;
  /** Takes `image_url`: optional, or required (edit models). */
  reference?: 'optional' | 'required';
  /** Takes `output_format` png | jpg (Flux.1 only). */
  outputFormat?: true;
  resolution?: true;
}

const FLUX1: JourneyModel = { negativePrompt: true, outputFormat: true, resolution: true };

/**
 * The image models of the docs' model list that this adapter can serve as asked. Left out:
 * ideogram-v3-edit (it needs a mask, and the docs name no mask field).
 */
export const JOURNEYAPI_MODELS: Record<string, JourneyModel> = {
  midjourney: { grid: true },
  'flux-pro': FLUX1,
  'flux-dev': FLUX1,
  'flux-schnell': FLUX1,
  'flux-2-dev': { negativePrompt: true },
  'flux-2-flex': {},
  'flux-2-max': { negativePrompt: true },
  'flux-kontext-pro': { reference: 'required' },
  'flux-kontext-max': { reference: 'required' },
  'nano-banana': {},
  'nano-banana-2': { reference: 'optional', resolution: true },
  'nano-banana-hd': {},
  'seedream-3': {},
  'seedream-4': {},
  'seedream-4.5': {},
  'seedream-5-lite': {},
  seededit: { reference: 'required' },
  'gpt-image-1': { reference: 'optional' },
  'gpt-image-1.5': { reference: 'optional' },
  'gpt-4o-image': { reference: 'optional' },
  'grok-image': { reference: 'optional' },
  'grok-image-2': { reference: 'optional' },
  'z-image': {},
  'qwen-image': {},
  'qwen-image-edit': { reference: 'required' },
  'ideogram-v3': {},
  'ideogram-v3-remix': { reference: 'required' },
  'ideogram-v3-reframe': { reference: 'required' },
  recraft: {},
};

/** The aspect ratios every model page allows. */
export const JOURNEYAPI_ASPECT_RATIOS: readonly AspectRatio[] = [
  '1:1',
  '16:9',
  '9:16',
  '4:3',
  '3:4',
  '3:2',
  '2:3',
];

/** Every model but Midjourney makes one image per request; more than this per job is refused. */
const MAX_IMAGES_PER_JOB = 4;
/** Midjourney's `--seed` range. */
const MAX_MIDJOURNEY_SEED = 4_294_967_295;
/** "Max 4000 characters" on the Flux pages. */
const MAX_NEGATIVE_PROMPT = 4000;

/** What a deployment with these options can do for an upstream model (no key needed to know it). */
export function journeyapiCapabilities(
  upstreamModel: string,
  rawOptions: Record<string, unknown>,
): ModelCapabilities {
  return modelCapabilities(upstreamModel, parseJourneyapiOptions(rawOptions));
}

/** The documented model of that id, an own-property lookup. */
function journeyModel(upstreamModel: string): JourneyModel | undefined {
  return Object.prototype.hasOwnProperty.call(JOURNEYAPI_MODELS, upstreamModel)
    ? JOURNEYAPI_MODELS[upstreamModel]
    : undefined;
}

function modelCapabilities(upstreamModel: string, options: JourneyapiOptions): ModelCapabilities {
  const model = journeyModel(upstreamModel);
  if (!model) return NO_CAPABILITIES;
  const promptParameters = model.grid === true && options.midjourney_prompt_parameters;
  // Output URLs are PNG in every example; only the Flux.1 models let the format be chosen.
  const outputFormats: readonly OutputFormat[] = model.outputFormat ? ['png', 'jpeg'] : ['png'];
  return {
    maxImages: model.grid ? 1 : MAX_IMAGES_PER_JOB,
    seed: promptParameters,
    negativePrompt: promptParameters || model.negativePrompt === true,
    maxReferenceImages: model.reference ? 1 : 0,
    mask: false,
    aspectRatios: JOURNEYAPI_ASPECT_RATIOS,
    outputFormats,
    cancel: false,
  };
}

const taskSchema = z.object({
  task_id: z.string().min(1),
  status: z.string().optional(),
  percentage: z.union([z.string(), z.number()]).nullable().optional(),
  image_url: z.string().nullable().optional(),
  original_image_url: z.string().nullable().optional(),
  image_urls: z.array(z.string()).nullable().optional(),
  error: z.string().nullable().optional(),
});

type Task = z.output<typeof taskSchema>;

const fetchManySchema = z.object({ tasks: z.array(z.unknown()) });

const journeyJobSchema = z.object({
  v: z.literal(1),
  model: z.string(),
  /** One entry per requested image: a pending task, or one that finished at submit. */
  tasks: z
    .array(z.object({ id: z.string().min(1), images: z.array(z.string()).optional() }))
    .min(1)
    .max(MAX_IMAGES_PER_JOB),
});

type JourneyJob = z.output<typeof journeyJobSchema>;
type JobTask = JourneyJob['tasks'][number];

const JOB_ID_PREFIX = 'japi1.';
const MODERATION = /content policy|moderat|banned|prohibited|nsfw|unsafe|safety|inappropriate/i;
const CREDITS = /credit/i;

export function createJourneyapiProvider(settings: ProviderSettings): ImageProvider {
  const options = parseJourneyapiOptions(settings.options, settings.deploymentId);
  const apiKey = settings.apiKey;
  if (!apiKey) {
    throw new Error(
      `deployment "${settings.deploymentId}" (journeyapi): no API key; set the environment variable the deployment names`,
    );
  }
  const baseUrl = (settings.baseUrl ?? JOURNEYAPI_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const fetchImpl = settings.fetch ?? fetch;
  const capabilities = (upstreamModel: string): ModelCapabilities =>
    modelCapabilities(upstreamModel, options);

  /** Every call goes to the API's own origin: the key is never sent anywhere else. */
  async function post(path: string, body: unknown, signal: AbortSignal, what: string): Promise<unknown> {
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(`${baseUrl}${path}`, {
        method: 'POST',
        headers: {
          authorization: apiKey as string,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(body),
        signal,
      });
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw abortedCall(signal, `journeyapi: ${what}`);
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError('error', `journeyapi: ${what}: network error (${message})`, {
        upstreamCode: 'network_error',
      });
    }
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = text;
    }
    if (!response.ok) throw httpError(response, parsed, what);
    if (typeof parsed !== 'object' || parsed === null) {
      throw unexpected(what, response.status, 'not JSON');
    }
    return parsed;
  }

  /** Refuses what capabilities() does not declare, before anything is sent. */
  function checkRequest(request: GenerationRequest): JourneyModel {
    const unsupported = (what: string): ProviderError =>
      new ProviderError('rejected', `journeyapi: ${request.upstreamModel}: ${what}`, {
        upstreamCode: 'unsupported_parameters',
      });
    const model = journeyModel(request.upstreamModel);
    if (!model) {
      throw new ProviderError('rejected', `journeyapi: unknown upstream model "${request.upstreamModel}"`, {
        upstreamCode: 'unknown_model',
      });
    }
    const caps = capabilities(request.upstreamModel);
    if (!Number.isInteger(request.n) || request.n < 1 || request.n > caps.maxImages) {
      throw unsupported(`n must be 1–${caps.maxImages}, got ${request.n}`);
    }
    if (!caps.aspectRatios.includes(request.aspectRatio)) {
      throw unsupported(
        `aspect ratio ${request.aspectRatio} is not served (${caps.aspectRatios.join(', ')})`,
      );
    }
    if (request.seed !== undefined) {
      if (!caps.seed) throw unsupported('takes no seed');
      if (!Number.isInteger(request.seed) || request.seed < 0 || request.seed > MAX_MIDJOURNEY_SEED) {
        throw unsupported(`seed must be an integer in 0–${MAX_MIDJOURNEY_SEED}, got ${request.seed}`);
      }
    }
    if (request.negativePrompt !== undefined) {
      if (!caps.negativePrompt) throw unsupported('takes no negative prompt');
      if (request.negativePrompt.length > MAX_NEGATIVE_PROMPT) {
        throw unsupported(`negative prompt is longer than ${MAX_NEGATIVE_PROMPT} characters`);
      }
    }
    if (request.maskUrl !== undefined) throw unsupported('takes no mask');
    if (request.outputFormat !== undefined && !caps.outputFormats.includes(request.outputFormat)) {
      throw unsupported(
        `output format ${request.outputFormat} is not served (${caps.outputFormats.join(', ')})`,
      );
    }
    const references = request.imageUrls?.length ?? 0;
    if (references > caps.maxReferenceImages) {
      throw unsupported(`takes at most ${caps.maxReferenceImages} reference image(s), got ${references}`);
    }
    if (model.reference === 'required' && references === 0) {
      throw new ProviderError(
        'rejected',
        `journeyapi: ${request.upstreamModel} edits an image: give one reference image`,
        {
          upstreamCode: 'reference_image_required',
        },
      );
    }
    return model;
  }

  function imagineBody(request: GenerationRequest, model: JourneyModel): Record<string, unknown> {
    let prompt = request.prompt;
    if (model.grid) {
      if (request.negativePrompt !== undefined) prompt += ` --no ${request.negativePrompt}`;
      if (request.seed !== undefined) prompt += ` --seed ${request.seed}`;
    }
    const body: Record<string, unknown> = {
      model: request.upstreamModel,
      prompt,
      aspect_ratio: request.aspectRatio,
    };
    if (!model.grid && request.negativePrompt !== undefined) body.negative_prompt = request.negativePrompt;
    if (model.outputFormat && request.outputFormat !== undefined) {
      body.output_format = request.outputFormat === 'jpeg' ? 'jpg' : 'png';
    }
    if (model.resolution && options.resolution !== undefined) body.resolution = options.resolution;
    const reference = request.imageUrls?.[0];
    if (reference !== undefined) body.image_url = reference;
    return body;
  }

  return {
    type: 'journeyapi',
    capabilities,

    adaptations(request: GenerationRequest): string[] {
      const notes: string[] = [];
      const model = journeyModel(request.upstreamModel);
      if (model?.grid) {
        notes.push('one Midjourney generation: its 2x2 grid and the four candidates');
        const appended = [
          request.negativePrompt !== undefined ? '--no' : undefined,
          request.seed !== undefined ? '--seed' : undefined,
        ].filter((p) => p !== undefined);
        if (appended.length > 0) notes.push(`${appended.join(' and ')} appended to the Midjourney prompt`);
      } else if (request.n > 1) {
        notes.push(`${request.n} images as ${request.n} JourneyAPI requests (one image each)`);
      }
      return notes;
    },

    async submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult> {
      const { signal } = context;
      if (signal.aborted) throw abortedCall(signal, 'journeyapi: submit');
      const model = checkRequest(request);
      const body = imagineBody(request, model);
      const what = `imagine with ${request.upstreamModel}`;

      const tasks: JobTask[] = [];
      for (let i = 0; i < request.n; i++) {
        const answer = await post(IMAGINE_PATH, body, signal, what);
        const task = readTask(answer, what);
        // A synchronous model's answer is the finished task; an asynchronous one's is `{task_id}`.
        if (task.status === 'finished') tasks.push({ id: task.task_id, images: imageUrlsOf(task, what) });
        else if (task.status === 'failed') throw taskFailure(task);
        else tasks.push({ id: task.task_id });
      }
      const job: JourneyJob = { v: 1, model: request.upstreamModel, tasks };
      if (tasks.every((t) => t.images !== undefined)) {
        context.onProgress?.(1);
        return { status: 'completed', images: imagesOf(job) };
      }
      return {
        status: 'pending',
        upstreamJobId: encodeJobId(JOB_ID_PREFIX, job),
        pollAfterMs: options.poll_interval_ms,
      };
    },

    async poll(upstreamJobId: string, context: ProviderCallContext): Promise<PollResult> {
      const { signal } = context;
      if (signal.aborted) throw abortedCall(signal, 'journeyapi: poll');
      const job = decodeJobId(JOB_ID_PREFIX, journeyJobSchema, upstreamJobId, 'journeyapi');
      const pending = job.tasks.filter((t) => t.images === undefined).map((t) => t.id);
      const found = await fetchTasks(pending, signal);

      let progressSum = job.tasks.length - pending.length;
      const tasks: JobTask[] = [];
      for (const entry of job.tasks) {
        if (entry.images !== undefined) {
          tasks.push(entry);
          continue;
        }
        const task = found.get(entry.id);
        if (!task) {
          throw new ProviderError('error', `journeyapi: task ${entry.id} not found (expired or unknown)`, {
            upstreamCode: 'task_not_found',
          });
        }
        if (task.status === 'failed') throw taskFailure(task);
        if (task.status === 'finished') {
          tasks.push({ id: entry.id, images: imageUrlsOf(task, `fetch task ${entry.id}`) });
          progressSum += 1;
          continue;
        }
        if (task.status === undefined || task.status === '') {
          throw unexpected(`fetch task ${entry.id}`, 200, 'a task without status');
        }
        // staged | pending | starting | processing, and statuses newer than the docs: keep polling.
        tasks.push(entry);
        progressSum += percentage(task.percentage);
      }
      const done: JourneyJob = { ...job, tasks };
      if (tasks.every((t) => t.images !== undefined)) {
        context.onProgress?.(1);
        return { status: 'completed', images: imagesOf(done) };
      }
      const progress = progressSum / job.tasks.length;
      context.onProgress?.(progress);
      return { status: 'pending', progress, pollAfterMs: options.poll_interval_ms };
    },
  };

  /** One task by /fetch, several by one /fetch-many (free either way); missing ones are absent. */
  async function fetchTasks(ids: string[], signal: AbortSignal): Promise<Map<string, Task>> {
    const found = new Map<string, Task>();
    if (ids.length === 1) {
      const id = ids[0] as string;
      const what = `fetch task ${id}`;
      try {
        const task = readTask(await post(FETCH_PATH, { task_id: id }, signal, what), what);
        found.set(task.task_id, task);
      } catch (error) {
        // An unknown task is 404 (assumed); it is reported as not found below.
        if (!(error instanceof ProviderError && error.details.status === 404)) throw error;
      }
      return found;
    }
    const what = `fetch ${ids.length} tasks`;
    const answer = fetchManySchema.safeParse(await post(FETCH_MANY_PATH, { task_ids: ids }, signal, what));
    if (!answer.success) throw unexpected(what, 200, 'no tasks array');
    for (const item of answer.data.tasks) {
      const task = readTask(item, what);
      found.set(task.task_id, task);
    }
    return found;
  }
}

function readTask(body: unknown, what: string): Task {
  const parsed = taskSchema.safeParse(body);
  if (!parsed.success) throw unexpected(what, 200, 'no task_id');
  return parsed.data;
}

/** A finished task's URLs: the grid then the four candidates for Midjourney, else the one image. */
function imageUrlsOf(task: Task, what: string): string[] {
  if (task.original_image_url != null || (task.image_urls != null && task.image_urls.length > 0)) {
    const grid = task.original_image_url;
    const candidates = task.image_urls ?? [];
    if (!grid || !isHttpUrl(grid) || candidates.length !== 4 || !candidates.every(isHttpUrl)) {
      throw unexpected(what, 200, 'a finished grid task without a grid and four image URLs');
    }
    return [grid, ...candidates];
  }
  if (!task.image_url || !isHttpUrl(task.image_url)) {
    throw unexpected(what, 200, 'a finished task without image_url');
  }
  return [task.image_url];
}

function imagesOf(job: JourneyJob): UpstreamImage[] {
  const grid = journeyModel(job.model)?.grid === true;
  return job.tasks.flatMap((task) =>
    (task.images ?? []).map((url, i): UpstreamImage => {
      if (!grid) return { kind: 'url', url };
      return { kind: 'url', url, role: i === 0 ? 'grid' : 'candidate' };
    }),
  );
}

function taskFailure(task: Task): ProviderError {
  const reason = task.error ?? 'no reason given';
  if (MODERATION.test(reason)) {
    return new ProviderError('content_policy', `journeyapi: task ${task.task_id} refused: ${reason}`, {
      upstreamCode: 'content_policy',
    });
  }
  return new ProviderError('error', `journeyapi: task ${task.task_id} failed upstream: ${reason}`, {
    upstreamCode: 'generation_failed',
  });
}

/** `percentage` is a string "0"–"100" in the docs; a number is accepted too. Kept below 1 while pending. */
function percentage(value: string | number | null | undefined): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (value === null || value === undefined || value === '' || !Number.isFinite(n) || n < 0) return 0;
  return Math.min(n / 100, 0.99);
}

function unexpected(what: string, status: number, detail: string): ProviderError {
  return new ProviderError('error', `journeyapi: ${what}: unexpected response (${detail})`, {
    status,
    upstreamCode: 'unexpected_response',
  });
}

function httpError(response: Response, body: unknown, what: string): ProviderError {
  const status = response.status;
  const detail = describeError(body);
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const base = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  const message = (text: string): string =>
    `journeyapi: ${what}: HTTP ${status} ${text}${detail ? `: ${detail}` : ''}`;

  if (status === 401) {
    return new ProviderError('rejected', message('unauthorized; check the deployment key'), {
      ...base,
      upstreamCode: 'unauthorized',
    });
  }
  if (status === 429) {
    return new ProviderError('rate_limited', message('too many requests for the JourneyAPI plan'), {
      ...base,
      upstreamCode: 'rate_limited',
    });
  }
  if (status >= 400 && status < 500 && detail && MODERATION.test(detail)) {
    return new ProviderError('content_policy', message('prompt refused by moderation'), {
      ...base,
      upstreamCode: 'content_policy',
    });
  }
  // Our JourneyAPI balance, not the caller's request: routing should move on.
  if (status === 402 || (status >= 400 && status < 500 && detail && CREDITS.test(detail))) {
    return new ProviderError('error', message('insufficient credits; top up the JourneyAPI account'), {
      ...base,
      upstreamCode: 'insufficient_credits',
    });
  }
  if (status === 403) {
    return new ProviderError('rejected', message('forbidden; check the key and the JourneyAPI plan'), {
      ...base,
      upstreamCode: 'forbidden',
    });
  }
  if (status === 400 || status === 422) {
    return new ProviderError('rejected', message('invalid request'), {
      ...base,
      upstreamCode: 'invalid_request',
    });
  }
  return new ProviderError(outcomeForStatus(status), message('failed'), {
    ...base,
    upstreamCode: `http_${status}`,
  });
}

/** `{error}` as the docs show on failed tasks; `{message}` or `{detail}` accepted too; or short text. */
function describeError(body: unknown): string | undefined {
  if (typeof body === 'string') return body.slice(0, 200) || undefined;
  if (typeof body !== 'object' || body === null) return undefined;
  for (const key of ['error', 'message', 'detail'] as const) {
    const value = (body as Record<string, unknown>)[key];
    if (typeof value === 'string' && value !== '') return value.slice(0, 300);
    if (typeof value === 'object' && value !== null) {
      const inner = (value as { message?: unknown }).message;
      if (typeof inner === 'string') return inner.slice(0, 300);
    }
  }
  return undefined;
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

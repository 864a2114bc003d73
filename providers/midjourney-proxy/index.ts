import { z } from 'zod';
import { abortedCall, decodeJobId, encodeJobId, fetchImageBytes, parseAdapterOptions } from '../shared';
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

/**
 * A self-hosted midjourney-proxy (novicezk/midjourney-proxy, and forks that keep its API such as
 * trueai-org/midjourney-proxy), from its controllers (SubmitController, TaskController), ReturnCode,
 * TaskStatus, Task, SubmitResultVO and docs/api.md.
 *
 * Submit is `POST {base}/mj/submit/imagine` `{prompt, base64Array?, state?}` with the
 * `mj-api-secret` header (checked only when the proxy has `mj.api-secret` set; a mismatch is 401
 * with an empty body). Apart from auth and rate limits the proxy always answers HTTP 200
 * `{code, description, result: taskId, properties}`: 1 submitted, 22 queued (accepted, with
 * `properties.numberOfQueues`), 21 already exists, 23 queue full, 24 banned word
 * (`properties.bannedWord`), 4 validation error, 3 not found (no Discord account available),
 * 9 system error. The task is polled with `GET /mj/task/{id}/fetch` (an unknown id answers an
 * empty body) until `SUCCESS` (`imageUrl` is the 2×2 grid), `FAILURE` (`failReason`, free text,
 * often Chinese) or, in forks, `CANCEL`.
 *
 * Midjourney rule: one generation is one image (charged once); the job returns the grid (role
 * `grid`) and its four single images (role `candidate`), each made by `POST /mj/submit/change`
 * `{taskId, action: "UPSCALE", index}`, a task of its own. The upscales can only be submitted once
 * the grid is `SUCCESS` (the proxy refuses a change on an unfinished task), so they are submitted
 * during poll, and the upstream job id, fixed at submit, cannot carry their ids. They are kept:
 * - in memory, keyed by the imagine task id, for the worker that submitted them;
 * - after a restart, found again in `GET /mj/task/list` by the proxy's own description of a change
 *   task (`/up {imagineId} U{index}`, the same in novicezk and trueai) or by the `state` marker this
 *   adapter sends (`easel-upscale:{imagineId}:{index}`). `list-by-condition` needs the ids, which
 *   is what was lost. trueai's list holds only the latest 100 tasks; an upscale not found there is
 *   submitted again.
 * - Re-submitting a change is the last resort: novicezk before March 2024 (b146e94) answered it
 *   with code 21 and the existing task's id; later versions make a new upscale task. Midjourney's
 *   U buttons separate an image from the grid, so a duplicate costs little GPU time.
 *
 * Midjourney takes its parameters in the prompt: the aspect ratio is `--ar W:H`, the seed
 * `--seed N`, the negative prompt `--no …` and the model version `--v N` / `--niji N` (from the
 * upstream model id); `adaptations` says so. Reference images become image prompts (`base64Array`,
 * data URLs the proxy uploads to Discord).
 *
 * novicezk has no cancel route; trueai's `POST /mj/task/{id}/cancel` answers 200 even when it did
 * nothing (not the owner, unknown task), so this adapter declares no cancel.
 */

const IMAGINE_PATH = '/mj/submit/imagine';
const CHANGE_PATH = '/mj/submit/change';
const TASK_LIST_PATH = '/mj/task/list';
const TASK_QUEUE_PATH = '/mj/task/queue';
const SECRET_HEADER = 'mj-api-secret';

const midjourneyProxyOptionsSchema = z.strictObject({
  /** Hint returned to the caller for the delay between polls; a Midjourney job takes about a minute. */
  poll_interval_ms: z.number().int().min(50).max(60_000).default(3000),
  /** Midjourney parameters appended to every prompt (e.g. `--style raw --q 1`), verbatim. */
  prompt_suffix: z.string().max(500).optional(),
  /** Most image prompts per job (each is uploaded to Discord by the proxy). */
  max_reference_images: z.number().int().min(0).max(10).default(5),
});

export type MidjourneyProxyOptions = z.output<typeof midjourneyProxyOptionsSchema>;

export function parseMidjourneyProxyOptions(
  options: Record<string, unknown>,
  deploymentId = 'midjourney-proxy',
): MidjourneyProxyOptions {
  return parseAdapterOptions(midjourneyProxyOptionsSchema, options, 'midjourney-proxy', deploymentId);
}

/**
 * Upstream model ids: `midjourney` (the account's default version), `midjourney-v{N}` (`--v N`,
 * e.g. midjourney-v7, midjourney-v6.1) and `niji` / `niji-{N}` (`--niji`, Midjourney's anime model).
 */
export function midjourneyVersionParameter(upstreamModel: string): string | undefined | null {
  if (upstreamModel === 'midjourney') return undefined;
  if (upstreamModel === 'niji') return '--niji';
  const version = /^midjourney-v(\d{1,2}(?:\.\d)?)$/.exec(upstreamModel);
  if (version) return `--v ${version[1]}`;
  const niji = /^niji-(\d{1,2})$/.exec(upstreamModel);
  if (niji) return `--niji ${niji[1]}`;
  return null;
}

/** Midjourney's `--seed` range. */
const MAX_SEED = 4_294_967_295;
/** Midjourney's grids and upscales are Discord PNG attachments. */
const OUTPUT_FORMATS: readonly OutputFormat[] = ['png'];
const UPSCALE_INDEXES = [1, 2, 3, 4] as const;
/** Share of the progress bar given to the grid; the four upscales fill the rest. */
const GRID_SHARE = 0.8;
/** Upscale ids remembered for jobs still polling; beyond this the oldest are forgotten (and looked up again). */
const MAX_REMEMBERED_JOBS = 10_000;

/** What a deployment with these options can do for an upstream model (no secret needed to know it). */
export function midjourneyProxyCapabilities(
  upstreamModel: string,
  rawOptions: Record<string, unknown>,
): ModelCapabilities {
  return modelCapabilities(upstreamModel, parseMidjourneyProxyOptions(rawOptions));
}

function modelCapabilities(upstreamModel: string, options: MidjourneyProxyOptions): ModelCapabilities {
  if (midjourneyVersionParameter(upstreamModel) === null) return NO_CAPABILITIES;
  return {
    maxImages: 1,
    seed: true,
    negativePrompt: true,
    maxReferenceImages: options.max_reference_images,
    mask: false,
    aspectRatios: ASPECT_RATIOS,
    outputFormats: OUTPUT_FORMATS,
    cancel: false,
  };
}

const submitResultSchema = z.object({
  code: z.number().int(),
  description: z.string().nullable().optional(),
  result: z.union([z.string(), z.number()]).nullable().optional(),
  properties: z.record(z.string(), z.unknown()).nullable().optional(),
});

type SubmitResultVO = z.output<typeof submitResultSchema>;

const taskSchema = z.object({
  id: z.union([z.string(), z.number()]).transform(String),
  action: z.string().nullable().optional(),
  status: z.string(),
  description: z.string().nullable().optional(),
  state: z.string().nullable().optional(),
  submitTime: z.number().nullable().optional(),
  progress: z.string().nullable().optional(),
  imageUrl: z.string().nullable().optional(),
  failReason: z.string().nullable().optional(),
});

type Task = z.output<typeof taskSchema>;

const jobSchema = z.object({ v: z.literal(1), imagine: z.string().min(1) });

type Job = z.output<typeof jobSchema>;

const JOB_ID_PREFIX = 'mjp1.';

const RETURN_CODES = {
  SUCCESS: 1,
  NOT_FOUND: 3,
  VALIDATION_ERROR: 4,
  FAILURE: 9,
  EXISTED: 21,
  IN_QUEUE: 22,
  QUEUE_REJECTED: 23,
  BANNED_PROMPT: 24,
} as const;

/**
 * Moderation in a FAILURE's failReason: Midjourney's "Banned prompt detected", "Our AI moderator
 * thinks…", "community standards", "Job action restricted", image filters, and the proxies' Chinese
 * "敏感词" (sensitive word) and "违规" (violation).
 */
const MODERATION_REASON =
  /banned|moderat|community (standards|guidelines)|action restricted|inappropriate|image filter|nsfw|敏感|违规|违禁/i;
/** novicezk's TaskTimeoutSchedule fails a task with "任务超时" ("task timed out"). */
const TIMEOUT_REASON = /任务超时|timed? ?out/i;

export function parseProgress(progress: string | null | undefined): number | undefined {
  const match = progress ? /^\s*(\d{1,3}(?:\.\d+)?)\s*%\s*$/.exec(progress) : null;
  return match ? Math.min(1, Math.max(0, Number(match[1]) / 100)) : undefined;
}

export function upscaleState(imagineId: string, index: number): string {
  return `easel-upscale:${imagineId}:${index}`;
}

export function createMidjourneyProxyProvider(settings: ProviderSettings): ImageProvider {
  const options = parseMidjourneyProxyOptions(settings.options, settings.deploymentId);
  if (!settings.baseUrl) {
    throw new Error(
      `deployment "${settings.deploymentId}" (midjourney-proxy): no base URL; midjourney-proxy is self-hosted, set the proxy's address (http://host:8080)`,
    );
  }
  // The proxy's context path is /mj; accept a base URL that already ends with it.
  const baseUrl = settings.baseUrl.replace(/\/+$/, '').replace(/\/mj$/, '');
  const secret = settings.apiKey;
  const fetchImpl = settings.fetch ?? fetch;
  const fetchImage = settings.fetchImage ?? fetchImageBytes(fetchImpl, 'midjourney-proxy');
  const capabilities = (upstreamModel: string): ModelCapabilities =>
    modelCapabilities(upstreamModel, options);

  /** Upscale task ids per imagine task id (index 1–4 at 0–3), for jobs this worker is polling. */
  const upscalesByJob = new Map<string, (string | undefined)[]>();
  /** One upscale submission round per imagine task at a time, so concurrent polls do not double it. */
  const inFlight = new Map<string, Promise<string[]>>();

  async function call(
    path: string,
    init: { method: 'GET' | 'POST'; body?: unknown },
    signal: AbortSignal,
    what: string,
  ): Promise<{ response: Response; body: unknown; text: string }> {
    // The secret goes only to the proxy's own origin: every call is built from baseUrl.
    const headers: Record<string, string> = { accept: 'application/json' };
    if (secret) headers[SECRET_HEADER] = secret;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await fetchImpl(`${baseUrl}${path}`, {
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
      return { response, body, text };
    } catch (error) {
      if (signal.aborted) throw abortedCall(signal, `midjourney-proxy: ${what}`);
      const message = error instanceof Error ? error.message : String(error);
      throw new ProviderError('error', `midjourney-proxy: ${what}: network error (${message})`, {
        upstreamCode: 'network_error',
      });
    }
  }

  /** A submit call's SubmitResultVO (trueai answers some codes with HTTP 404 and the same body). */
  async function submitCall(path: string, body: unknown, signal: AbortSignal, what: string): Promise<string> {
    const { response, body: answer } = await call(path, { method: 'POST', body }, signal, what);
    const parsed = submitResultSchema.safeParse(answer);
    if (!response.ok && !(parsed.success && response.status === 404)) throw httpError(response, answer, what);
    if (!parsed.success) throw unexpected(what, response.status, 'not a SubmitResultVO');
    return acceptedTaskId(parsed.data, what, response.status);
  }

  async function fetchTask(id: string, signal: AbortSignal): Promise<Task> {
    const what = `fetch task ${id}`;
    const { response, body, text } = await call(
      `/mj/task/${encodeURIComponent(id)}/fetch`,
      { method: 'GET' },
      signal,
      what,
    );
    if (!response.ok) throw httpError(response, body, what);
    // The proxy returns null (an empty body) for an id it does not hold: expired, or the proxy
    // restarted with its in-memory task store.
    if (text.trim() === '' || body === null) {
      throw new ProviderError(
        'error',
        `midjourney-proxy: task ${id} not found (expired, or the proxy restarted)`,
        {
          status: response.status,
          upstreamCode: 'task_not_found',
        },
      );
    }
    const parsed = taskSchema.safeParse(body);
    if (!parsed.success) throw unexpected(what, response.status, 'not a Task');
    return parsed.data;
  }

  /** Upscale tasks of this imagine task already on the proxy, by index; best effort. */
  async function findUpscales(imagineId: string, signal: AbortSignal): Promise<(string | undefined)[]> {
    const what = 'list tasks';
    const { response, body } = await call(TASK_LIST_PATH, { method: 'GET' }, signal, what);
    // A fork without the list route: nothing to recover, the upscales are submitted again.
    if (response.status === 404 || response.status === 405) return [];
    if (!response.ok) throw httpError(response, body, what);
    const tasks = z.array(z.unknown()).safeParse(body);
    if (!tasks.success) throw unexpected(what, response.status, 'not a list of tasks');
    const found: (Task | undefined)[] = [];
    for (const raw of tasks.data) {
      const task = taskSchema.safeParse(raw);
      if (!task.success || task.data.action !== 'UPSCALE') continue;
      if (task.data.status === 'FAILURE' || task.data.status === 'CANCEL') continue;
      const index = UPSCALE_INDEXES.find(
        (i) =>
          task.data.description === `/up ${imagineId} U${i}` ||
          task.data.state === upscaleState(imagineId, i),
      );
      if (index === undefined) continue;
      const previous = found[index - 1];
      // Prefer a finished one, then the latest.
      const better =
        !previous ||
        (task.data.status === 'SUCCESS' && previous.status !== 'SUCCESS') ||
        (task.data.status === previous.status && (task.data.submitTime ?? 0) > (previous.submitTime ?? 0));
      if (better) found[index - 1] = task.data;
    }
    return found.map((t) => t?.id);
  }

  function remember(imagineId: string, ids: (string | undefined)[]): void {
    if (!upscalesByJob.has(imagineId) && upscalesByJob.size >= MAX_REMEMBERED_JOBS) {
      const oldest = upscalesByJob.keys().next().value;
      if (oldest !== undefined) upscalesByJob.delete(oldest);
    }
    upscalesByJob.set(imagineId, ids);
  }

  /** The four upscale task ids, submitting those neither remembered nor found on the proxy. */
  async function ensureUpscales(imagineId: string, signal: AbortSignal): Promise<string[]> {
    let ids = upscalesByJob.get(imagineId);
    if (!ids) {
      ids = await findUpscales(imagineId, signal);
      remember(imagineId, ids);
    }
    for (const index of UPSCALE_INDEXES) {
      if (ids[index - 1] !== undefined) continue;
      const id = await submitCall(
        CHANGE_PATH,
        { taskId: imagineId, action: 'UPSCALE', index, state: upscaleState(imagineId, index) },
        signal,
        `submit upscale U${index} of task ${imagineId}`,
      );
      // Recorded at once: a later failure of another index must not lose this one.
      ids[index - 1] = id;
    }
    return ids as string[];
  }

  function ensureUpscalesOnce(imagineId: string, signal: AbortSignal): Promise<string[]> {
    const running = inFlight.get(imagineId);
    if (running) return running;
    const promise = ensureUpscales(imagineId, signal).finally(() => inFlight.delete(imagineId));
    inFlight.set(imagineId, promise);
    return promise;
  }

  /** Place in the proxy's queue (novicezk's `/mj/task/queue`); absent when the route is not there. */
  async function queuePosition(id: string, signal: AbortSignal): Promise<number | undefined> {
    try {
      const { response, body } = await call(TASK_QUEUE_PATH, { method: 'GET' }, signal, 'task queue');
      if (!response.ok || !Array.isArray(body)) return undefined;
      // The queue lists running tasks too; the ones not yet started are the waiting line.
      const waiting = body
        .map((t) => taskSchema.safeParse(t))
        .filter((t) => t.success && t.data.status === 'NOT_START')
        .map((t) => (t.success ? t.data.id : ''));
      const position = waiting.indexOf(id);
      return position >= 0 ? position : undefined;
    } catch (error) {
      if (signal.aborted) throw error;
      return undefined;
    }
  }

  function checkRequest(request: GenerationRequest): string | undefined {
    const unsupported = (what: string): ProviderError =>
      new ProviderError('rejected', `midjourney-proxy: ${what}`, { upstreamCode: 'unsupported_parameters' });
    const version = midjourneyVersionParameter(request.upstreamModel);
    if (version === null) {
      throw new ProviderError(
        'rejected',
        `midjourney-proxy: unknown upstream model "${request.upstreamModel}" (midjourney, midjourney-v{N}, niji, niji-{N})`,
        { upstreamCode: 'unknown_model' },
      );
    }
    if (request.n !== 1) {
      throw unsupported(
        `one Midjourney generation per job (its grid and four candidates), got n=${request.n}`,
      );
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
    if (request.maskUrl !== undefined) throw unsupported('imagine takes no mask');
    if (request.outputFormat !== undefined && !OUTPUT_FORMATS.includes(request.outputFormat)) {
      throw unsupported(`output format ${request.outputFormat} is not served (png only)`);
    }
    const references = request.imageUrls?.length ?? 0;
    if (references > options.max_reference_images) {
      throw unsupported(`at most ${options.max_reference_images} reference images, got ${references}`);
    }
    if (request.prompt.trim() === '') throw unsupported('the prompt is empty');
    return version;
  }

  /** The prompt with Midjourney's parameters appended, as the proxy passes it to /imagine. */
  function midjourneyPrompt(request: GenerationRequest, version: string | undefined): string {
    // Midjourney reads one line; a "--" inside the negative prompt would start a parameter.
    const oneLine = (text: string): string => text.replace(/\s+/g, ' ').trim();
    const parts = [oneLine(request.prompt)];
    if (request.negativePrompt !== undefined && request.negativePrompt.trim() !== '') {
      parts.push(`--no ${oneLine(request.negativePrompt.replace(/-{2,}/g, ' '))}`);
    }
    parts.push(`--ar ${request.aspectRatio}`);
    if (request.seed !== undefined) parts.push(`--seed ${request.seed}`);
    if (version !== undefined) parts.push(version);
    if (options.prompt_suffix) parts.push(oneLine(options.prompt_suffix));
    return parts.join(' ');
  }

  return {
    type: 'midjourney-proxy',
    capabilities,

    adaptations(request: GenerationRequest): string[] {
      const notes = [
        `aspect ratio ${request.aspectRatio} sent as "--ar ${request.aspectRatio}" in the prompt`,
      ];
      if (request.seed !== undefined) notes.push(`seed sent as "--seed ${request.seed}" in the prompt`);
      if (request.negativePrompt !== undefined && request.negativePrompt.trim() !== '') {
        notes.push('negative prompt sent as "--no …" in the prompt');
      }
      const version = midjourneyVersionParameter(request.upstreamModel);
      if (version) notes.push(`model version sent as "${version}" in the prompt`);
      const references = request.imageUrls?.length ?? 0;
      if (references > 0) notes.push(`${references} reference image(s) sent as Midjourney image prompts`);
      notes.push('one generation: the 2x2 grid and its four upscaled candidates (U1–U4)');
      return notes;
    },

    async submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult> {
      const { signal } = context;
      if (signal.aborted) throw abortedCall(signal, 'midjourney-proxy: submit');
      const version = checkRequest(request);
      const references = await Promise.all(
        (request.imageUrls ?? []).map(async (url) => {
          const { bytes, contentType } = await fetchImage(url, signal);
          const type = contentType.split(';')[0]!.trim().toLowerCase();
          if (!type.startsWith('image/')) {
            throw new ProviderError('rejected', `midjourney-proxy: reference image ${url} is not an image`, {
              upstreamCode: 'reference_image_invalid',
            });
          }
          return `data:${type};base64,${Buffer.from(bytes).toString('base64')}`;
        }),
      );
      const body: Record<string, unknown> = { prompt: midjourneyPrompt(request, version) };
      if (references.length > 0) body.base64Array = references;
      // The proxy has no idempotency key; `state` is echoed on the task, so the attempt can be traced.
      if (request.idempotencyKey !== undefined) body.state = request.idempotencyKey;
      const imagine = await submitCall(IMAGINE_PATH, body, signal, 'submit imagine');
      // This worker knows there are no upscales yet; only a restarted one needs to look them up.
      remember(imagine, []);
      const job: Job = { v: 1, imagine };
      return {
        status: 'pending',
        upstreamJobId: encodeJobId(JOB_ID_PREFIX, job),
        pollAfterMs: options.poll_interval_ms,
      };
    },

    async poll(upstreamJobId: string, context: ProviderCallContext): Promise<PollResult> {
      const { signal } = context;
      if (signal.aborted) throw abortedCall(signal, 'midjourney-proxy: poll');
      const job = decodeJobId(JOB_ID_PREFIX, jobSchema, upstreamJobId, 'midjourney-proxy');
      const pending = (progress: number, queue?: number): PollResult => {
        context.onProgress?.(progress);
        return {
          status: 'pending',
          progress,
          ...(queue === undefined ? {} : { queuePosition: queue }),
          pollAfterMs: options.poll_interval_ms,
        };
      };

      const grid = await fetchTask(job.imagine, signal);
      throwForFailure(grid, 'imagine');
      if (grid.status !== 'SUCCESS') {
        // NOT_START (queued), SUBMITTED, MODAL (fork: waiting for remix input), IN_PROGRESS; an
        // IN_PROGRESS imageUrl is only a preview.
        const queue = grid.status === 'NOT_START' ? await queuePosition(grid.id, signal) : undefined;
        return pending(GRID_SHARE * (parseProgress(grid.progress) ?? 0), queue);
      }
      const gridUrl = readImageUrl(grid, 'imagine');

      // A failure mid-round (code 23, a network error) leaves the ones submitted remembered for the next poll.
      const upscaleIds = await ensureUpscalesOnce(job.imagine, signal);
      const upscales = await Promise.all(upscaleIds.map((id) => fetchTask(id, signal)));
      let done = 0;
      let progressSum = 0;
      for (const task of upscales) {
        throwForFailure(task, 'upscale', () => upscalesByJob.delete(job.imagine));
        if (task.status === 'SUCCESS') {
          done += 1;
          progressSum += 1;
        } else {
          progressSum += parseProgress(task.progress) ?? 0;
        }
      }
      if (done < upscales.length) return pending(GRID_SHARE + ((1 - GRID_SHARE) * progressSum) / 4);

      const images: UpstreamImage[] = [
        { ...urlImage(gridUrl), role: 'grid' },
        ...upscales.map((task): UpstreamImage => ({
          ...urlImage(readImageUrl(task, 'upscale')),
          role: 'candidate',
        })),
      ];
      upscalesByJob.delete(job.imagine);
      context.onProgress?.(1);
      return { status: 'completed', images };
    },
  };
}

/** The task id of an accepted submission (codes 1, 22, 21), or the error its code means. */
function acceptedTaskId(vo: SubmitResultVO, what: string, status: number): string {
  const description = vo.description ? `: ${vo.description.slice(0, 200)}` : '';
  const property = (name: string): unknown => vo.properties?.[name];
  switch (vo.code) {
    case RETURN_CODES.SUCCESS:
    case RETURN_CODES.IN_QUEUE:
    case RETURN_CODES.EXISTED: {
      const id = vo.result;
      if (id === null || id === undefined || String(id).trim() === '') {
        throw unexpected(what, status, `code ${vo.code} without a task id`);
      }
      return String(id);
    }
    case RETURN_CODES.QUEUE_REJECTED:
      return fail('rate_limited', 'queue_full', 'the proxy queue is full (code 23); try again later');
    case RETURN_CODES.BANNED_PROMPT: {
      const word = property('bannedWord');
      return fail(
        'content_policy',
        'banned_prompt',
        `the prompt contains a banned word${typeof word === 'string' ? ` ("${word}")` : ''} (code 24)`,
      );
    }
    case RETURN_CODES.VALIDATION_ERROR:
      return fail('rejected', 'validation_error', `validation error (code 4)${description}`);
    case RETURN_CODES.NOT_FOUND:
      // Imagine: no Discord account available on the proxy; change: the grid task is gone.
      return fail(
        'error',
        'not_found',
        `not found (code 3)${description}; check the proxy's Discord accounts`,
      );
    case RETURN_CODES.FAILURE:
      return fail('error', 'system_error', `proxy system error (code 9)${description}`);
    default:
      throw unexpected(what, status, `unknown code ${vo.code}${description}`);
  }

  function fail(
    outcome: 'rate_limited' | 'content_policy' | 'rejected' | 'error',
    upstreamCode: string,
    message: string,
  ): never {
    throw new ProviderError(outcome, `midjourney-proxy: ${what}: ${message}`, { status, upstreamCode });
  }
}

function throwForFailure(task: Task, kind: 'imagine' | 'upscale', onFailure?: () => void): void {
  if (task.status !== 'FAILURE' && task.status !== 'CANCEL') return;
  onFailure?.();
  const reason = task.failReason ? `: ${task.failReason.slice(0, 300)}` : '';
  const what = `midjourney-proxy: ${kind} task ${task.id}`;
  if (task.status === 'CANCEL') {
    throw new ProviderError('error', `${what} was cancelled on the proxy${reason}`, {
      upstreamCode: 'cancelled',
    });
  }
  if (task.failReason && MODERATION_REASON.test(task.failReason)) {
    throw new ProviderError('content_policy', `${what} refused by Midjourney moderation${reason}`, {
      upstreamCode: 'moderated',
    });
  }
  if (task.failReason && TIMEOUT_REASON.test(task.failReason)) {
    throw new ProviderError('timeout', `${what} timed out on the proxy${reason}`, {
      upstreamCode: 'upstream_timeout',
    });
  }
  throw new ProviderError('error', `${what} failed${reason}`, { upstreamCode: 'generation_failed' });
}

function readImageUrl(task: Task, kind: string): string {
  const url = task.imageUrl;
  if (!url || !isHttpUrl(url)) {
    throw new ProviderError(
      'error',
      `midjourney-proxy: ${kind} task ${task.id} is SUCCESS without an imageUrl`,
      {
        upstreamCode: 'unexpected_response',
      },
    );
  }
  return url;
}

function urlImage(url: string): UpstreamImage {
  const extension = /\.(png|webp|jpe?g)(?:$|[?#])/i.exec(new URL(url).pathname)?.[1]?.toLowerCase();
  const contentType =
    extension === 'png'
      ? 'image/png'
      : extension === 'webp'
        ? 'image/webp'
        : extension
          ? 'image/jpeg'
          : undefined;
  return { kind: 'url', url, ...(contentType ? { contentType } : {}) };
}

function unexpected(what: string, status: number, detail: string): ProviderError {
  return new ProviderError('error', `midjourney-proxy: ${what}: unexpected response (${detail})`, {
    status,
    upstreamCode: 'unexpected_response',
  });
}

function httpError(response: Response, body: unknown, what: string): ProviderError {
  const status = response.status;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const base = { status, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
  const detail = typeof body === 'string' ? body.slice(0, 200) : readMessage(body);
  const message = (text: string): string =>
    `midjourney-proxy: ${what}: HTTP ${status} ${text}${detail ? ` (${detail})` : ''}`;
  if (status === 401 || status === 403) {
    return new ProviderError(
      'rejected',
      message("unauthorized; check the deployment's mj-api-secret against the proxy's mj.api-secret"),
      { ...base, upstreamCode: 'unauthorized' },
    );
  }
  if (status === 429) {
    return new ProviderError('rate_limited', message('too many requests'), {
      ...base,
      upstreamCode: 'rate_limited',
    });
  }
  if (status === 404) {
    // A wrong base URL or a proxy without this route: the deployment's problem, so routing moves on.
    return new ProviderError(
      'error',
      message('not found; check the deployment base URL (http://host:8080)'),
      {
        ...base,
        upstreamCode: 'http_404',
      },
    );
  }
  if (status === 400) {
    return new ProviderError('rejected', message('bad request'), { ...base, upstreamCode: 'bad_request' });
  }
  return new ProviderError(outcomeForStatus(status), message('failed'), {
    ...base,
    upstreamCode: `http_${status}`,
  });
}

/** Spring's `{error, message}` error body, or trueai's SubmitResultVO `description`. */
function readMessage(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const record = body as Record<string, unknown>;
  for (const key of ['description', 'message', 'error']) {
    const value = record[key];
    if (typeof value === 'string' && value !== '') return value.slice(0, 200);
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

import { createHash, randomInt, randomUUID } from 'node:crypto';
import { WebSocket } from 'undici';
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
import {
  fillTemplate,
  fixedAspectRatio,
  isRequestInput,
  loadTemplate,
  templateDimensions,
  templateSpecSchema,
  type TemplateInputName,
  type WorkflowTemplate,
} from './template';

/**
 * A self-hosted ComfyUI server, through its own HTTP API (server.py): `POST /prompt` queues an
 * API-format workflow built from the deployment's template for the upstream model, and answers
 * `{prompt_id, number, node_errors}` or 400 with the validation errors per node.
 *
 * Completion is read from `GET /history/{prompt_id}`, which is empty until the prompt finished and
 * needs nothing but the id, so a restarted worker resumes polling from the upstream job id. While
 * the prompt waits, `GET /queue` gives its place. Progress (`progress` events) is only on ComfyUI's
 * websocket: the adapter listens on it (undici's WebSocket, ProgressSocket below) and reports the
 * fraction done while a prompt runs.
 *
 * ComfyUI keeps its queue and history in memory: a prompt that is neither queued, running nor in
 * history was lost (the server restarted, or someone deleted it), and polling says so.
 *
 * n images are one prompt with the latent's batch_size set to n, when the template maps it; a
 * template without it makes one image per job. A template with a seed input always gets a seed:
 * the request's, or a random one, because in API mode ComfyUI runs the seed written in the graph
 * (the UI's "randomize after generate" is front-end behaviour), so every job would otherwise
 * repeat the same picture.
 *
 * Cancel removes a queued prompt (`POST /queue {delete}`) or interrupts the running one
 * (`POST /interrupt {prompt_id}`, which newer builds ignore unless that prompt is running).
 * Builds older than the targeted interrupt stop whatever runs, so cancel interrupts only after
 * seeing the prompt in `queue_running`.
 *
 * ComfyUI has no authentication; when the deployment names a key (a reverse proxy in front), it
 * goes as `Authorization: Bearer` to the base URL's origin only. With `image_delivery: url`
 * Easel downloads `/view` URLs without it, so use `bytes` (the default) behind such a proxy.
 */

const comfyuiOptionsSchema = z.strictObject({
  /** Workflow templates by name; the deployment's model map names one as the upstream model. */
  templates: z
    .record(z.string().min(1), templateSpecSchema)
    .refine((templates) => Object.keys(templates).length > 0, 'name at least one template'),
  /** Long side in pixels for templates whose width and height are mapped. */
  long_side: z.number().int().min(64).max(8192).default(1024),
  /**
   * `bytes`: the adapter reads each image from `/view` (over the same route as the API calls).
   * `url`: Easel downloads the `/view` URL itself, under the deployment's outbound policy.
   */
  image_delivery: z.enum(['bytes', 'url']).default('bytes'),
  poll_interval_ms: z.number().int().min(50).max(60_000).default(1000),
  /** ComfyUI's client_id for our prompts (websocket messages are addressed to it). */
  client_id: z.string().min(1).optional(),
});

export type ComfyuiOptions = z.output<typeof comfyuiOptionsSchema>;

export function parseComfyuiOptions(
  options: Record<string, unknown>,
  deploymentId = 'comfyui',
): ComfyuiOptions {
  return parseAdapterOptions(comfyuiOptionsSchema, options, 'comfyui', deploymentId);
}

export const COMFYUI_DEFAULT_BASE_URL = 'http://127.0.0.1:8188';

const OUTPUT_FORMATS: readonly OutputFormat[] = ['png'];

function templateCapabilities(template: WorkflowTemplate): ModelCapabilities {
  const t = template.targets;
  return {
    maxImages: t.batch_size ? template.maxBatchSize : 1,
    seed: Boolean(t.seed),
    negativePrompt: Boolean(t.negative_prompt),
    maxReferenceImages: t.reference_image ? 1 : 0,
    mask: false,
    aspectRatios: t.width ? ASPECT_RATIOS : [fixedAspectRatio(template)],
    outputFormats: OUTPUT_FORMATS,
    cancel: true,
  };
}

/** What a deployment with these options can do for a template name (reads the template file). */
export function comfyuiCapabilities(
  upstreamModel: string,
  rawOptions: Record<string, unknown>,
): ModelCapabilities {
  const options = parseComfyuiOptions(rawOptions);
  const spec = options.templates[upstreamModel];
  if (!spec) return NO_CAPABILITIES;
  return templateCapabilities(loadTemplate(upstreamModel, spec, 'comfyui'));
}

/** The server's load, for routing: ComfyUI runs one prompt at a time, the rest wait. */
export interface ComfyuiLoad {
  running: number;
  pending: number;
  /** running + pending. */
  queueLength: number;
  devices: { name: string; vramTotal: number; vramFree: number }[];
}

export type ComfyuiProvider = ImageProvider & { load(signal: AbortSignal): Promise<ComfyuiLoad> };

const queueItemSchema = z.array(z.unknown()).min(2);
const queueSchema = z.object({
  queue_running: z.array(queueItemSchema),
  queue_pending: z.array(queueItemSchema),
});
type Queue = z.output<typeof queueSchema>;

const systemStatsSchema = z.object({
  devices: z
    .array(z.object({ name: z.string(), vram_total: z.number(), vram_free: z.number() }).loose())
    .default([]),
});

const promptAnswerSchema = z.object({ prompt_id: z.string().min(1), number: z.number().optional() });

const imageRefSchema = z.object({
  filename: z.string().min(1),
  subfolder: z.string().default(''),
  type: z.string(),
});

const historyEntrySchema = z.object({
  outputs: z.record(z.string(), z.record(z.string(), z.unknown())).default({}),
  status: z
    .object({
      status_str: z.string(),
      completed: z.boolean().optional(),
      messages: z.array(z.unknown()).default([]),
    })
    .nullable()
    .optional(),
});
type HistoryEntry = z.output<typeof historyEntrySchema>;

const uploadAnswerSchema = z.object({ name: z.string().min(1), subfolder: z.string().default('') });

const comfyuiJobSchema = z.object({
  v: z.literal(1),
  id: z.string().min(1),
  template: z.string(),
  n: z.number().int().min(1),
  width: z.number().int().optional(),
  height: z.number().int().optional(),
});
type ComfyuiJob = z.output<typeof comfyuiJobSchema>;

const JOB_ID_PREFIX = 'cfy1.';

export function createComfyuiProvider(settings: ProviderSettings): ComfyuiProvider {
  const where = `deployment "${settings.deploymentId}" (comfyui)`;
  const options = parseComfyuiOptions(settings.options, settings.deploymentId);
  const templates = new Map<string, WorkflowTemplate>();
  for (const [name, spec] of Object.entries(options.templates))
    templates.set(name, loadTemplate(name, spec, where));

  const baseUrl = (settings.baseUrl ?? COMFYUI_DEFAULT_BASE_URL).replace(/\/+$/, '');
  const fetchImpl = settings.fetch ?? fetch;
  const fetchImage = settings.fetchImage ?? fetchImageBytes(fetchImpl, 'comfyui');
  const clientId = options.client_id ?? `easel-${settings.deploymentId}`;
  const progress = new ProgressSocket(baseUrl, clientId, settings);

  const capabilities = (upstreamModel: string): ModelCapabilities => {
    const template = templates.get(upstreamModel);
    return template ? templateCapabilities(template) : NO_CAPABILITIES;
  };

  function sizeFor(
    template: WorkflowTemplate,
    request: GenerationRequest,
  ): { width: number; height: number } | undefined {
    if (!template.targets.width) return template.fixedSize;
    return templateDimensions(
      request.aspectRatio,
      template.longSide ?? options.long_side,
      template.sizeMultiple,
    );
  }

  /** Every call goes to the base URL's origin, so the key (if any) never leaves it. */
  async function send(
    path: string,
    init: { method: 'GET' | 'POST'; json?: unknown; form?: FormData },
    signal: AbortSignal,
    what: string,
  ): Promise<{ response: Response; body: unknown; bytes?: Uint8Array }> {
    const headers: Record<string, string> = {};
    if (settings.apiKey) headers.authorization = `Bearer ${settings.apiKey}`;
    if (init.json !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await fetchImpl(`${baseUrl}${path}`, {
        method: init.method,
        headers,
        body: init.form ?? (init.json === undefined ? undefined : JSON.stringify(init.json)),
        signal,
      });
      const type = response.headers.get('content-type') ?? '';
      if (type.startsWith('image/')) {
        return { response, body: undefined, bytes: new Uint8Array(await response.arrayBuffer()) };
      }
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
      throw new ProviderError('error', `comfyui: ${what}: network error (${message})`, {
        upstreamCode: 'network_error',
      });
    }
  }

  async function getJson<S extends z.ZodType>(
    path: string,
    schema: S,
    signal: AbortSignal,
    what: string,
  ): Promise<z.output<S>> {
    const { response, body } = await send(path, { method: 'GET' }, signal, what);
    if (!response.ok) throw httpError(response, body, what);
    const parsed = schema.safeParse(body);
    if (!parsed.success) throw unexpected(what, response.status);
    return parsed.data;
  }

  const getQueue = (signal: AbortSignal): Promise<Queue> =>
    getJson('/queue', queueSchema, signal, 'read the queue');

  async function getHistory(promptId: string, signal: AbortSignal): Promise<HistoryEntry | undefined> {
    const what = `read history of prompt ${promptId}`;
    const all = await getJson(
      `/history/${encodeURIComponent(promptId)}`,
      z.record(z.string(), z.unknown()),
      signal,
      what,
    );
    if (!(promptId in all)) return undefined;
    const parsed = historyEntrySchema.safeParse(all[promptId]);
    if (!parsed.success) throw unexpected(what, 200);
    return parsed.data;
  }

  async function uploadReference(url: string, signal: AbortSignal): Promise<string> {
    const { bytes, contentType } = await fetchImage(url, signal);
    const ext = contentType === 'image/jpeg' ? 'jpg' : (contentType.split('/')[1] ?? 'png');
    // Named by content, so the same reference uploaded twice is one file in ComfyUI's input folder.
    const name = `easel-${createHash('sha256').update(bytes).digest('hex').slice(0, 24)}.${ext}`;
    const form = new FormData();
    form.append('image', new Blob([bytes], { type: contentType }), name);
    form.append('type', 'input');
    form.append('overwrite', 'true');
    const what = 'upload reference image';
    const { response, body } = await send('/upload/image', { method: 'POST', form }, signal, what);
    if (!response.ok) throw httpError(response, body, what);
    const parsed = uploadAnswerSchema.safeParse(body);
    if (!parsed.success) throw unexpected(what, response.status);
    return parsed.data.subfolder ? `${parsed.data.subfolder}/${parsed.data.name}` : parsed.data.name;
  }

  async function isKnown(promptId: string, signal: AbortSignal): Promise<boolean> {
    if (await getHistory(promptId, signal)) return true;
    const queue = await getQueue(signal);
    return [...queue.queue_running, ...queue.queue_pending].some((item) => item[1] === promptId);
  }

  async function readImages(
    job: ComfyuiJob,
    entry: HistoryEntry,
    signal: AbortSignal,
  ): Promise<UpstreamImage[]> {
    const outputNode = templates.get(job.template)?.outputNode;
    const refs: z.output<typeof imageRefSchema>[] = [];
    for (const [node, output] of Object.entries(entry.outputs)) {
      if (outputNode !== undefined && node !== outputNode) continue;
      const images = output.images;
      if (!Array.isArray(images)) continue;
      for (const image of images) {
        const parsed = imageRefSchema.safeParse(image);
        if (!parsed.success) throw unexpected(`read outputs of prompt ${job.id}`, 200);
        // PreviewImage writes `temp` images; only SaveImage's `output` ones are results.
        if (outputNode === undefined && parsed.data.type !== 'output') continue;
        refs.push(parsed.data);
      }
    }
    if (refs.length === 0) {
      throw new ProviderError(
        'error',
        `comfyui: prompt ${job.id} (template "${job.template}") finished without an output image; does the template end in SaveImage?`,
        { upstreamCode: 'no_images' },
      );
    }
    const viewPath = (ref: (typeof refs)[number]): string =>
      `/view?${new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type }).toString()}`;
    const size = job.width && job.height ? { width: job.width, height: job.height } : {};
    if (options.image_delivery === 'url') {
      return refs.map((ref) => ({
        kind: 'url',
        url: `${baseUrl}${viewPath(ref)}`,
        contentType: 'image/png',
        ...size,
      }));
    }
    return Promise.all(
      refs.map(async (ref): Promise<UpstreamImage> => {
        const what = `read image ${ref.filename}`;
        const { response, body, bytes } = await send(viewPath(ref), { method: 'GET' }, signal, what);
        if (response.status === 404) {
          throw new ProviderError('error', `comfyui: ${what}: not found (the output file was removed?)`, {
            status: 404,
            upstreamCode: 'image_missing',
          });
        }
        if (!response.ok) throw httpError(response, body, what);
        const dimensions = bytes ? pngSize(bytes) : undefined;
        if (!bytes || !dimensions) throw unexpected(`${what}: not a PNG`, response.status);
        return { kind: 'bytes', data: bytes, contentType: 'image/png', ...dimensions };
      }),
    );
  }

  async function finished(job: ComfyuiJob, entry: HistoryEntry, signal: AbortSignal): Promise<PollResult> {
    const status = entry.status;
    if (status && status.status_str !== 'success') throw executionFailure(job, status.messages);
    const images = await readImages(job, entry, signal);
    return { status: 'completed', images };
  }

  async function load(signal: AbortSignal): Promise<ComfyuiLoad> {
    const [queue, stats] = await Promise.all([
      getQueue(signal),
      getJson('/system_stats', systemStatsSchema, signal, 'read system stats'),
    ]);
    const running = queue.queue_running.length;
    const pending = queue.queue_pending.length;
    return {
      running,
      pending,
      queueLength: running + pending,
      devices: stats.devices.map((d) => ({ name: d.name, vramTotal: d.vram_total, vramFree: d.vram_free })),
    };
  }

  return {
    type: 'comfyui',
    capabilities,
    load,

    adaptations(request: GenerationRequest): string[] {
      const template = templates.get(request.upstreamModel);
      if (!template) return [];
      const notes: string[] = [];
      if (request.n > 1) notes.push(`${request.n} images as one ComfyUI prompt with batch_size ${request.n}`);
      const size = sizeFor(template, request);
      if (template.targets.width && size) {
        notes.push(`aspect ratio ${request.aspectRatio} rendered at ${size.width}x${size.height}`);
      } else if (size) {
        notes.push(`template "${template.name}" has a fixed size: rendered at ${size.width}x${size.height}`);
      }
      if (template.targets.seed && request.seed === undefined) {
        notes.push(
          'no seed asked: a random seed is written into the workflow (ComfyUI does not randomise in API mode)',
        );
      }
      return notes;
    },

    async submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult> {
      const { signal } = context;
      if (signal.aborted) throw abortError(signal, 'submit');
      progress.listen();
      const template = templates.get(request.upstreamModel);
      if (!template) {
        throw new ProviderError(
          'rejected',
          `comfyui: no template "${request.upstreamModel}" in ${where}; it has ${[...templates.keys()].join(', ')}`,
          { upstreamCode: 'unknown_template' },
        );
      }
      checkRequest(request, template, capabilities(request.upstreamModel));

      const size = sizeFor(template, request);
      const values: Partial<Record<TemplateInputName, string | number>> = { prompt: request.prompt };
      if (request.negativePrompt !== undefined) values.negative_prompt = request.negativePrompt;
      if (template.targets.seed) values.seed = request.seed ?? randomInt(0, 2 ** 32);
      if (template.targets.width && size) Object.assign(values, size);
      if (template.targets.batch_size) values.batch_size = request.n;

      // A prompt_id derived from Easel's attempt id: a retried submit finds the prompt it already queued.
      const promptId = request.idempotencyKey
        ? uuidFrom(`${settings.deploymentId}\n${request.idempotencyKey}`)
        : randomUUID();
      const job = (id: string): SubmitResult => ({
        status: 'pending',
        upstreamJobId: encodeJobId(JOB_ID_PREFIX, {
          v: 1,
          id,
          template: template.name,
          n: request.n,
          ...size,
        } satisfies ComfyuiJob),
        pollAfterMs: options.poll_interval_ms,
      });
      if (request.idempotencyKey && (await isKnown(promptId, signal))) return job(promptId);

      const [reference] = request.imageUrls ?? [];
      if (reference !== undefined) values.reference_image = await uploadReference(reference, signal);

      const graph = fillTemplate(template, values);
      const what = `queue template "${template.name}"`;
      const { response, body } = await send(
        '/prompt',
        { method: 'POST', json: { prompt: graph, client_id: clientId, prompt_id: promptId } },
        signal,
        what,
      );
      if (response.status === 400) throw promptRejection(body, template, what);
      if (!response.ok) throw httpError(response, body, what);
      const parsed = promptAnswerSchema.safeParse(body);
      if (!parsed.success) throw unexpected(`${what} (no prompt_id)`, response.status);
      // Builds before client-chosen ids mint their own; the answer's id is the one to poll.
      return job(parsed.data.prompt_id);
    },

    async poll(upstreamJobId: string, context: ProviderCallContext): Promise<PollResult> {
      const { signal } = context;
      if (signal.aborted) throw abortError(signal, 'poll');
      const job = decodeJobId(JOB_ID_PREFIX, comfyuiJobSchema, upstreamJobId, 'comfyui');
      const entry = await getHistory(job.id, signal);
      if (entry) return finished(job, entry, signal);

      const queue = await getQueue(signal);
      if (queue.queue_running.some((item) => item[1] === job.id)) {
        progress.listen(); // a worker that restarted resumes listening too
        const done = progress.of(job.id);
        if (done !== undefined) context.onProgress?.(done);
        return {
          status: 'pending',
          pollAfterMs: options.poll_interval_ms,
          ...(done !== undefined && { progress: done }),
        };
      }
      // queue_pending is ComfyUI's heap, not in order: its place is its rank by number.
      const pending = [...queue.queue_pending].sort((a, b) => Number(a[0]) - Number(b[0]));
      const position = pending.findIndex((item) => item[1] === job.id);
      if (position >= 0)
        return { status: 'pending', queuePosition: position, pollAfterMs: options.poll_interval_ms };

      // It may have finished between the two reads.
      const late = await getHistory(job.id, signal);
      if (late) return finished(job, late, signal);
      throw new ProviderError(
        'error',
        `comfyui: prompt ${job.id} is neither queued, running nor in history: ComfyUI restarted (it keeps both in memory), or the prompt was deleted`,
        { upstreamCode: 'prompt_lost' },
      );
    },

    async cancel(upstreamJobId: string, signal: AbortSignal): Promise<void> {
      const job = decodeJobId(JOB_ID_PREFIX, comfyuiJobSchema, upstreamJobId, 'comfyui');
      const interrupt = async (): Promise<void> => {
        const what = `interrupt prompt ${job.id}`;
        const { response, body } = await send(
          '/interrupt',
          { method: 'POST', json: { prompt_id: job.id } },
          signal,
          what,
        );
        if (!response.ok) throw httpError(response, body, what);
      };
      const runs = (queue: Queue): boolean => queue.queue_running.some((item) => item[1] === job.id);

      const queue = await getQueue(signal);
      if (runs(queue)) return interrupt();
      if (!queue.queue_pending.some((item) => item[1] === job.id)) return; // finished or gone: nothing runs
      const what = `delete prompt ${job.id} from the queue`;
      const { response, body } = await send(
        '/queue',
        { method: 'POST', json: { delete: [job.id] } },
        signal,
        what,
      );
      if (!response.ok) throw httpError(response, body, what);
      // It may have started between the read and the delete.
      if (runs(await getQueue(signal))) await interrupt();
    },
  };
}

/** Everything the template cannot carry is refused, never dropped. */
function checkRequest(request: GenerationRequest, template: WorkflowTemplate, caps: ModelCapabilities): void {
  const refuse = (problem: string): ProviderError =>
    new ProviderError('rejected', `comfyui: template "${template.name}" ${problem}`, {
      upstreamCode: 'unsupported_parameters',
    });
  if (!Number.isInteger(request.n) || request.n < 1 || request.n > caps.maxImages) {
    throw refuse(`makes 1–${caps.maxImages} image(s) per job, asked for ${request.n}`);
  }
  if (request.negativePrompt !== undefined && !caps.negativePrompt) throw refuse('maps no negative prompt');
  if (request.seed !== undefined && !caps.seed) throw refuse('maps no seed');
  const references = request.imageUrls?.length ?? 0;
  if (references > caps.maxReferenceImages) {
    throw refuse(`takes at most ${caps.maxReferenceImages} reference image(s), got ${references}`);
  }
  if (request.maskUrl !== undefined) throw refuse('takes no mask');
  if (request.outputFormat !== undefined && !caps.outputFormats.includes(request.outputFormat)) {
    throw refuse(`saves PNG only, asked for ${request.outputFormat}`);
  }
  if (!caps.aspectRatios.includes(request.aspectRatio)) {
    throw refuse(`has a fixed size (${caps.aspectRatios.join(', ')}), asked for ${request.aspectRatio}`);
  }
}

const nodeErrorSchema = z.object({
  errors: z
    .array(
      z
        .object({
          type: z.string().optional(),
          message: z.string().optional(),
          details: z.unknown().optional(),
          extra_info: z.object({ input_name: z.string().optional() }).loose().optional(),
        })
        .loose(),
    )
    .default([]),
  class_type: z.string().optional(),
});

/**
 * A 400 from /prompt. When every failing input is one the request set (a size over the node's
 * maximum, say), the request is at fault: `rejected`. Otherwise the template or the server is (a
 * model file or custom node missing there): `error`, so routing tries another deployment.
 */
function promptRejection(body: unknown, template: WorkflowTemplate, what: string): ProviderError {
  const answer = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  const error = answer.error;
  let type = 'invalid_prompt';
  let summary = typeof error === 'string' ? error : typeof body === 'string' ? body.slice(0, 200) : '';
  if (typeof error === 'object' && error !== null) {
    const e = error as { type?: unknown; message?: unknown };
    if (typeof e.type === 'string') type = e.type;
    if (typeof e.message === 'string') summary = e.message;
  }
  const parts: string[] = summary ? [summary] : [];
  let callerInputsOnly = true;
  let nodeCount = 0;
  const nodeErrors =
    typeof answer.node_errors === 'object' && answer.node_errors !== null ? answer.node_errors : {};
  for (const [node, raw] of Object.entries(nodeErrors)) {
    const parsed = nodeErrorSchema.safeParse(raw);
    if (!parsed.success) continue;
    nodeCount += 1;
    const reasons = parsed.data.errors.map((reason) => {
      const input = reason.extra_info?.input_name;
      if (input === undefined || !isRequestInput(template, node, input)) callerInputsOnly = false;
      const details = typeof reason.details === 'string' && reason.details ? `: ${reason.details}` : '';
      return `${reason.message ?? reason.type ?? 'invalid'}${details}`;
    });
    parts.push(
      `node ${node}${parsed.data.class_type ? ` (${parsed.data.class_type})` : ''}: ${reasons.join('; ')}`,
    );
  }
  const callerAtFault = nodeCount > 0 && callerInputsOnly;
  const whose = callerAtFault ? '' : ' (the template or the server is at fault, not the request)';
  return new ProviderError(
    callerAtFault ? 'rejected' : 'error',
    `comfyui: ${what}: ComfyUI refused the workflow (HTTP 400)${whose}: ${parts.join('; ') || 'no details'}`,
    { status: 400, upstreamCode: type },
  );
}

/** A finished prompt whose status is not success: an execution error, or an interrupt. */
function executionFailure(job: ComfyuiJob, messages: unknown[]): ProviderError {
  for (const message of messages) {
    if (!Array.isArray(message) || typeof message[0] !== 'string') continue;
    const data = (typeof message[1] === 'object' && message[1] !== null ? message[1] : {}) as Record<
      string,
      unknown
    >;
    const node = `node ${typeof data.node_id === 'string' ? data.node_id : '?'}${typeof data.node_type === 'string' ? ` (${data.node_type})` : ''}`;
    if (message[0] === 'execution_error') {
      const type = typeof data.exception_type === 'string' ? `${data.exception_type}: ` : '';
      const text = typeof data.exception_message === 'string' ? data.exception_message.trim() : 'no message';
      return new ProviderError('error', `comfyui: prompt ${job.id} failed at ${node}: ${type}${text}`, {
        upstreamCode: 'execution_error',
      });
    }
    if (message[0] === 'execution_interrupted') {
      return new ProviderError('error', `comfyui: prompt ${job.id} was interrupted at ${node}`, {
        upstreamCode: 'interrupted',
      });
    }
  }
  return new ProviderError('error', `comfyui: prompt ${job.id} ended with status error and no message`, {
    upstreamCode: 'execution_error',
  });
}

/** Width and height from a PNG's IHDR chunk; undefined when the bytes are not a PNG. */
function pngSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length < 24 || signature.some((b, i) => bytes[i] !== b)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** A lowercase RFC 4122 version-4-shaped UUID from a hash, as ComfyUI's prompt_id check wants. */
function uuidFrom(text: string): string {
  const hex = createHash('sha256').update(text).digest('hex');
  const variant = ((parseInt(hex[16] as string, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function httpError(response: Response, body: unknown, what: string): ProviderError {
  const status = response.status;
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const detail =
    typeof body === 'string'
      ? body.slice(0, 200)
      : typeof body === 'object' && body !== null && typeof (body as { error?: unknown }).error === 'string'
        ? (body as { error: string }).error
        : '';
  return new ProviderError(
    outcomeForStatus(status),
    `comfyui: ${what}: HTTP ${status}${detail ? `: ${detail}` : ''}`,
    {
      status,
      upstreamCode: `http_${status}`,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    },
  );
}

function unexpected(what: string, status: number): ProviderError {
  return new ProviderError('error', `comfyui: ${what}: unexpected response`, {
    status,
    upstreamCode: 'unexpected_response',
  });
}

function abortError(signal: AbortSignal, what: string): ProviderError {
  return abortedCall(signal, `comfyui: ${what}`);
}

/**
 * Progress of our running prompts from ComfyUI's `/ws?clientId=` websocket (its `progress`
 * messages, `{value, max}` of the sampler's steps). Best effort: the websocket only adds the
 * fraction done; `/history` and `/queue` still decide where a prompt is, so a socket that drops
 * (or a ComfyUI behind a proxy without websockets) costs progress, never a job. It is opened on
 * the first submit or poll of a running prompt, through the deployment's outbound dispatcher, and
 * opened again on the next one after it closes.
 */
class ProgressSocket {
  private socket: WebSocket | undefined;
  private readonly done = new Map<string, number>();

  constructor(
    private readonly baseUrl: string,
    private readonly clientId: string,
    private readonly settings: Pick<ProviderSettings, 'apiKey' | 'dispatcher'>,
  ) {}

  /** The fraction done of a running prompt, when the websocket told it. */
  of(promptId: string): number | undefined {
    return this.done.get(promptId);
  }

  listen(): void {
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return;
    const url = `${this.baseUrl.replace(/^http/, 'ws')}/ws?clientId=${encodeURIComponent(this.clientId)}`;
    try {
      this.socket = new WebSocket(url, {
        ...(this.settings.dispatcher && { dispatcher: this.settings.dispatcher }),
        ...(this.settings.apiKey && { headers: { authorization: `Bearer ${this.settings.apiKey}` } }),
      });
    } catch {
      this.socket = undefined; // a malformed URL: no progress, the polls go on
      return;
    }
    this.socket.addEventListener('message', (event) => this.read(event.data));
    // Errors close the socket; the next poll opens another.
    this.socket.addEventListener('error', () => undefined);
  }

  private read(data: unknown): void {
    // Binary frames are previews of the image being made; only the JSON messages matter here.
    if (typeof data !== 'string') return;
    let message: {
      type?: unknown;
      data?: { prompt_id?: unknown; value?: unknown; max?: unknown; node?: unknown };
    };
    try {
      message = JSON.parse(data) as typeof message;
    } catch {
      return;
    }
    const promptId = message.data?.prompt_id;
    if (typeof promptId !== 'string') return;
    const { value, max } = message.data ?? {};
    if (message.type === 'progress' && typeof value === 'number' && typeof max === 'number' && max > 0) {
      this.done.set(promptId, Math.min(0.99, Math.max(0, value / max)));
    } else if (
      message.type === 'execution_success' ||
      message.type === 'execution_error' ||
      message.type === 'execution_interrupted' ||
      (message.type === 'executing' && message.data?.node === null)
    ) {
      this.done.delete(promptId);
    }
    if (this.done.size > MAX_TRACKED_PROMPTS) this.done.delete(this.done.keys().next().value!);
  }
}

const MAX_TRACKED_PROMPTS = 10_000;

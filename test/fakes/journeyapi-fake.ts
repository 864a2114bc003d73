import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PNG } from 'pngjs';
import { renderSandboxImage } from '../../providers/sandbox/render';

/**
 * A fake of JourneyAPI on real HTTP ports, reproducing its public reference (journeyapi.co/docs):
 * `POST /api/v1/imagine` with the raw key in `Authorization` (no "Bearer"; a wrong or missing key
 * is 401 with `{}`), synchronous models answering `{task_id, status: "finished", image_url}` at
 * once, Midjourney and the Flux.1 models answering `{task_id}` and moving through
 * `staged → pending → starting → processing → finished | failed` with a string `percentage`,
 * `POST /api/v1/fetch {task_id}` and `POST /api/v1/fetch-many {task_ids}` (2–20 ids, else 400;
 * unknown ids silently omitted), `GET /api/v1/account`. Finished Midjourney tasks carry a grid
 * (`original_image_url`, a real 2×2 PNG of the four candidates) and four `image_urls`, all served
 * by a second "CDN" server on another origin, as JourneyAPI's images live on other hosts.
 *
 * Where the docs are silent it follows the adapter's stated assumptions: errors are
 * `{error: string}`, an empty balance is 402, a refused prompt is a `failed` task whose error is
 * "Content policy violation", the requests-per-second limit is 429 with Retry-After, /fetch of an
 * unknown task is 404. Faults can be injected per route (status, Retry-After, body, malformed
 * text, hang, times).
 */

export interface JourneyapiFakeOptions {
  /** The key `Authorization` must carry, raw. */
  apiKey?: string;
  /** How long an asynchronous task takes from submit to `finished`. */
  asyncMs?: number;
  /** Latency of every synchronous imagine answer. */
  syncLatencyMs?: number;
  /** Prompts containing one of these (case-insensitive) fail with "Content policy violation". */
  moderatedWords?: string[];
  /** Prompts containing one of these fail with a generation error. */
  errorWords?: string[];
  /** Credits left; each accepted imagine costs the model's credits, 402 when short. */
  credits?: number;
  /** Imagine requests allowed per second (the plan's limit); beyond it 429 with Retry-After: 1. */
  requestsPerSecond?: number;
  /** Long side of generated images, in pixels (kept small so tests stay fast). */
  imageLongSide?: number;
}

export type JourneyapiRoute = 'imagine' | 'fetch' | 'fetch-many' | 'image' | 'any';

export interface JourneyapiFault {
  on: JourneyapiRoute;
  status?: number;
  retryAfter?: string;
  /** JSON body of the answer; default `{error: "injected <status>"}`. */
  body?: unknown;
  /** A raw (e.g. malformed) body sent as is, with status 200 unless `status` is given. */
  raw?: string;
  /** Never answer. */
  hang?: boolean;
  /** How many matching requests it hits; default 1. */
  times?: number;
}

export interface JourneyapiFakeSubmission {
  taskId: string;
  model: string;
  prompt: string;
  body: Record<string, unknown>;
  at: number;
}

export interface JourneyapiFakeRequest {
  method: string;
  /** `api` or `cdn`: which origin it reached. */
  origin: 'api' | 'cdn';
  path: string;
  authorization: string | undefined;
  status: number;
}

interface FakeTask {
  id: string;
  model: string;
  prompt: string;
  aspectRatio: string;
  grid: boolean;
  /** Answered finished (or failed) by imagine itself. */
  sync: boolean;
  createdAt: number;
  outcome: 'finished' | 'moderated' | 'error';
}

/** Models of the docs' list, their credits and whether they answer at once. */
const MODELS: Record<string, { credits: number; sync: boolean; grid?: true; needsImage?: true }> = {
  midjourney: { credits: 4, sync: false, grid: true },
  'flux-pro': { credits: 4, sync: false },
  'flux-dev': { credits: 2, sync: false },
  'flux-schnell': { credits: 1, sync: false },
  'flux-2-dev': { credits: 1, sync: true },
  'flux-2-flex': { credits: 2, sync: true },
  'flux-2-max': { credits: 4, sync: true },
  'flux-kontext-pro': { credits: 4, sync: true, needsImage: true },
  'flux-kontext-max': { credits: 8, sync: true, needsImage: true },
  'nano-banana': { credits: 2, sync: true },
  'nano-banana-2': { credits: 4, sync: true },
  'nano-banana-hd': { credits: 3, sync: true },
  'gpt-image-1': { credits: 2, sync: true },
  'gpt-image-1.5': { credits: 3, sync: true },
  'gpt-4o-image': { credits: 2, sync: true },
  seededit: { credits: 3, sync: true, needsImage: true },
  'qwen-image-edit': { credits: 4, sync: true, needsImage: true },
  'ideogram-v3': { credits: 6, sync: true },
  'ideogram-v3-remix': { credits: 6, sync: true, needsImage: true },
  'ideogram-v3-reframe': { credits: 6, sync: true, needsImage: true },
};

const ASPECT_RATIOS = new Set(['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3']);

const DEFAULTS = {
  apiKey: 'japi_test_key',
  asyncMs: 300,
  syncLatencyMs: 0,
  credits: Number.POSITIVE_INFINITY,
  requestsPerSecond: Number.POSITIVE_INFINITY,
  imageLongSide: 128,
};

export class JourneyapiFake {
  readonly options: Required<JourneyapiFakeOptions>;
  readonly submissions: JourneyapiFakeSubmission[] = [];
  readonly requests: JourneyapiFakeRequest[] = [];
  private readonly tasks = new Map<string, FakeTask>();
  private readonly faults: (JourneyapiFault & { remaining: number })[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly imagineTimes: number[] = [];
  private creditsLeft: number;
  private api: Server | undefined;
  private cdn: Server | undefined;
  private apiUrl = '';
  private cdnUrl = '';

  constructor(options: JourneyapiFakeOptions = {}) {
    this.options = { ...DEFAULTS, moderatedWords: [], errorWords: [], ...options };
    this.creditsLeft = this.options.credits;
  }

  get url(): string {
    if (!this.api) throw new Error('JourneyapiFake: not started');
    return this.apiUrl;
  }

  /** The origin that serves the images (another port: another origin). */
  get imageOrigin(): string {
    if (!this.cdn) throw new Error('JourneyapiFake: not started');
    return this.cdnUrl;
  }

  get credits(): number {
    return this.creditsLeft;
  }

  async start(): Promise<{ url: string; close: () => Promise<void> }> {
    this.api = await this.listen('api');
    this.apiUrl = `http://127.0.0.1:${(this.api.address() as AddressInfo).port}`;
    this.cdn = await this.listen('cdn');
    this.cdnUrl = `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
    return { url: this.apiUrl, close: () => this.close() };
  }

  async close(): Promise<void> {
    const servers = [this.api, this.cdn].filter((s): s is Server => s !== undefined);
    this.api = undefined;
    this.cdn = undefined;
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  inject(fault: JourneyapiFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Imagine requests accepted, in total or for one prompt. */
  submissionCount(prompt?: string): number {
    return prompt === undefined
      ? this.submissions.length
      : this.submissions.filter((s) => s.prompt === prompt).length;
  }

  requestCount(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  private async listen(origin: 'api' | 'cdn'): Promise<Server> {
    const server = createServer((req, res) => {
      this.handle(origin, req, res).catch((error: unknown) => {
        if (!res.headersSent) this.json(origin, req, res, 500, { error: String(error) });
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  private routeOf(origin: 'api' | 'cdn', method: string, path: string): JourneyapiRoute | 'other' {
    if (origin === 'cdn') return method === 'GET' ? 'image' : 'other';
    if (method !== 'POST') return 'other';
    if (path === '/api/v1/imagine') return 'imagine';
    if (path === '/api/v1/fetch') return 'fetch';
    if (path === '/api/v1/fetch-many') return 'fetch-many';
    return 'other';
  }

  private takeFault(route: string): JourneyapiFault | undefined {
    const index = this.faults.findIndex((f) => f.on === 'any' || f.on === route);
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private async handle(origin: 'api' | 'cdn', req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const route = this.routeOf(origin, method, url.pathname);
    const raw = await readBody(req);

    const fault = route === 'other' ? undefined : this.takeFault(route);
    if (fault) {
      if (fault.hang) {
        this.record(origin, req, 0);
        return;
      }
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      if (fault.raw !== undefined) {
        this.record(origin, req, fault.status ?? 200);
        res.writeHead(fault.status ?? 200, { 'content-type': 'application/json', ...headers });
        res.end(fault.raw);
        return;
      }
      const status = fault.status ?? 503;
      return this.json(origin, req, res, status, fault.body ?? { error: `injected ${status}` }, headers);
    }

    if (route === 'image') return this.image(req, res, url.pathname);
    if (origin === 'api' && method === 'GET' && url.pathname === '/api/v1/account') {
      if (!this.authorised(req, res)) return;
      return this.json(origin, req, res, 200, {
        email: 'fake@example.com',
        credits: Number.isFinite(this.creditsLeft) ? this.creditsLeft : 1e9,
        total_images: this.submissions.length,
        plan: 'hobby',
      });
    }
    if (route === 'other') return this.json(origin, req, res, 404, { error: 'Not found' });
    if (!this.authorised(req, res)) return;

    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return this.json(origin, req, res, 400, { error: 'Invalid JSON body' });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return this.json(origin, req, res, 400, { error: 'Request body must be a JSON object' });
    }
    const input = body as Record<string, unknown>;
    if (route === 'imagine') return this.imagine(req, res, input);
    if (route === 'fetch') return this.fetchOne(req, res, input);
    return this.fetchMany(req, res, input);
  }

  private authorised(req: IncomingMessage, res: ServerResponse): boolean {
    // Raw key only: "Bearer <key>" is a wrong key, as the docs warn.
    if (req.headers.authorization !== this.options.apiKey) {
      this.json('api', req, res, 401, {});
      return false;
    }
    return true;
  }

  private async imagine(
    req: IncomingMessage,
    res: ServerResponse,
    input: Record<string, unknown>,
  ): Promise<void> {
    const now = Date.now();
    while (this.imagineTimes.length > 0 && (this.imagineTimes[0] as number) <= now - 1000)
      this.imagineTimes.shift();
    if (this.imagineTimes.length >= this.options.requestsPerSecond) {
      return this.json('api', req, res, 429, { error: 'Rate limit exceeded' }, { 'retry-after': '1' });
    }
    this.imagineTimes.push(now);

    const modelName = input.model === undefined ? 'midjourney' : input.model;
    const model =
      typeof modelName === 'string' && Object.prototype.hasOwnProperty.call(MODELS, modelName)
        ? MODELS[modelName]
        : undefined;
    if (typeof modelName !== 'string' || !model) {
      return this.json('api', req, res, 400, { error: `Invalid model: ${JSON.stringify(modelName)}` });
    }
    if (typeof input.prompt !== 'string' || input.prompt.trim() === '') {
      return this.json('api', req, res, 400, { error: 'prompt is required' });
    }
    const aspectRatio = input.aspect_ratio ?? '1:1';
    if (typeof aspectRatio !== 'string' || !ASPECT_RATIOS.has(aspectRatio)) {
      return this.json('api', req, res, 400, {
        error: `Invalid aspect_ratio: ${JSON.stringify(aspectRatio)}`,
      });
    }
    if (model.needsImage && typeof input.image_url !== 'string') {
      return this.json('api', req, res, 400, { error: `image_url is required for ${modelName}` });
    }
    if (typeof input.negative_prompt === 'string' && input.negative_prompt.length > 4000) {
      return this.json('api', req, res, 400, { error: 'negative_prompt must be at most 4000 characters' });
    }
    if (this.creditsLeft < model.credits) {
      return this.json('api', req, res, 402, { error: 'Insufficient credits' });
    }

    const prompt = input.prompt;
    const task: FakeTask = {
      id: randomUUID(),
      model: modelName,
      prompt,
      aspectRatio,
      grid: model.grid === true,
      sync: model.sync,
      createdAt: now,
      outcome: this.outcomeFor(prompt),
    };
    this.tasks.set(task.id, task);
    this.submissions.push({ taskId: task.id, model: modelName, prompt, body: input, at: now });
    // Only successful generations are charged.
    if (task.outcome === 'finished') this.creditsLeft -= model.credits;

    if (!model.sync) return this.json('api', req, res, 200, { task_id: task.id });
    if (this.options.syncLatencyMs > 0) await delay(this.options.syncLatencyMs);
    if (!this.api) return;
    const answer = this.view(task);
    delete answer.task_type;
    delete answer.model;
    delete answer.percentage;
    return this.json('api', req, res, 200, answer);
  }

  private fetchOne(req: IncomingMessage, res: ServerResponse, input: Record<string, unknown>): void {
    if (typeof input.task_id !== 'string')
      return this.json('api', req, res, 400, { error: 'task_id is required' });
    const task = this.tasks.get(input.task_id);
    if (!task) return this.json('api', req, res, 404, { error: 'Task not found' });
    return this.json('api', req, res, 200, this.view(task));
  }

  private fetchMany(req: IncomingMessage, res: ServerResponse, input: Record<string, unknown>): void {
    const ids = input.task_ids;
    if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
      return this.json('api', req, res, 400, { error: 'task_ids must be an array of strings' });
    }
    if (ids.length < 2 || ids.length > 20) {
      return this.json('api', req, res, 400, { error: 'task_ids must contain between 2 and 20 ids' });
    }
    const tasks = ids.flatMap((id) => {
      const task = this.tasks.get(id);
      return task ? [this.view(task)] : [];
    });
    return this.json('api', req, res, 200, { tasks });
  }

  private outcomeFor(prompt: string): FakeTask['outcome'] {
    const has = (words: string[]): boolean =>
      words.some((w) => prompt.toLowerCase().includes(w.toLowerCase()));
    if (has(this.options.moderatedWords)) return 'moderated';
    if (has(this.options.errorWords)) return 'error';
    return 'finished';
  }

  /** A task as /fetch shows it now. */
  private view(task: FakeTask): Record<string, unknown> {
    const base: Record<string, unknown> = { task_id: task.id, task_type: 'imagine', model: task.model };
    const fraction = task.sync ? 1 : (Date.now() - task.createdAt) / Math.max(1, this.options.asyncMs);
    if (fraction < 1 && task.outcome !== 'moderated') {
      const status =
        fraction < 0.1 ? 'staged' : fraction < 0.2 ? 'pending' : fraction < 0.3 ? 'starting' : 'processing';
      return {
        ...base,
        status,
        percentage: String(status === 'processing' ? Math.floor(fraction * 100) : 0),
      };
    }
    if (task.outcome === 'moderated') return { ...base, status: 'failed', error: 'Content policy violation' };
    if (task.outcome === 'error')
      return { ...base, status: 'failed', error: 'Generation failed, please retry' };
    const image = (name: string): string => `${this.cdnUrl}/cdn/${task.id}/${name}.png`;
    if (task.grid) {
      return {
        ...base,
        status: 'finished',
        percentage: '100',
        original_image_url: image('grid_0'),
        image_urls: [0, 1, 2, 3].map((i) => image(`0_${i}`)),
      };
    }
    return { ...base, status: 'finished', percentage: '100', image_url: image('output') };
  }

  private image(req: IncomingMessage, res: ServerResponse, path: string): void {
    const match = /^\/cdn\/([^/]+)\/(grid_0|0_[0-3]|output)\.png$/.exec(path);
    const task = match?.[1] ? this.tasks.get(match[1]) : undefined;
    if (!task || this.view(task).status !== 'finished') {
      return this.json('cdn', req, res, 404, { error: 'Not found' });
    }
    const name = match?.[2] as string;
    const png =
      name === 'grid_0'
        ? this.grid(task)
        : this.candidate(task, name === 'output' ? 0 : Number(name.slice(2)));
    this.record('cdn', req, 200);
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
    res.end(png);
  }

  private size(task: FakeTask): [number, number] {
    const [w, h] = task.aspectRatio.split(':').map(Number) as [number, number];
    const long = this.options.imageLongSide;
    return w >= h ? [long, Math.round((long * h) / w)] : [Math.round((long * w) / h), long];
  }

  private candidate(task: FakeTask, index: number): Buffer {
    const [width, height] = this.size(task);
    return renderSandboxImage({ model: task.model, prompt: task.prompt, index, width, height });
  }

  /** The 2×2 grid: the four candidates side by side, as Midjourney's grid holds them. */
  private grid(task: FakeTask): Buffer {
    const [width, height] = this.size(task);
    const grid = new PNG({ width: width * 2, height: height * 2 });
    for (let i = 0; i < 4; i++) {
      const tile = PNG.sync.read(this.candidate(task, i));
      PNG.bitblt(tile, grid, 0, 0, width, height, (i % 2) * width, Math.floor(i / 2) * height);
    }
    return PNG.sync.write(grid);
  }

  private record(origin: 'api' | 'cdn', req: IncomingMessage, status: number): void {
    this.requests.push({
      method: req.method ?? 'GET',
      origin,
      path: new URL(req.url ?? '/', 'http://fake').pathname,
      authorization: req.headers.authorization,
      status,
    });
  }

  private json(
    origin: 'api' | 'cdn',
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    this.record(origin, req, status);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }
}

export function createJourneyapiFake(options: JourneyapiFakeOptions = {}): JourneyapiFake {
  return new JourneyapiFake(options);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

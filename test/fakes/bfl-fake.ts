import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { renderSandboxImage } from '../../providers/sandbox/render';

/**
 * A fake of Black Forest Labs' API on a real HTTP port, reproducing what provider-specs/bfl.json
 * documents: `POST /v1/{model}` with an `x-key` header answered by `{id, polling_url}`,
 * `GET /v1/get_result?id=` (also at the regional polling URL it hands out) moving from `Pending`
 * to `Ready` with a signed `result.sample` URL it serves itself as a real PNG, the moderation and
 * error statuses, FastAPI-style 422 validation errors, the active-task limit (429), 402 when out
 * of credits, and injected faults (any status, Retry-After, hangs).
 */

export interface BflFakeOptions {
  /** The key `x-key` must carry. */
  apiKey?: string;
  /**
   * Status for a wrong key. A missing key gets FastAPI's APIKeyHeader answer, 403 "Not
   * authenticated"; the spec does not document the wrong-key answer.
   */
  wrongKeyStatus?: 401 | 403;
  /** How long a task stays `Pending` before it is `Ready`. */
  pendingMs?: number;
  /** Prompts containing one of these (case-insensitive) end as `Request Moderated` at once. */
  moderatedWords?: string[];
  /** Prompts containing one of these end as `Content Moderated` once generated. */
  contentModeratedWords?: string[];
  /** Prompts containing one of these end as `Error` once generated. */
  errorWords?: string[];
  /** BFL's limit on tasks in flight per key; beyond it, submissions get 429. */
  maxActiveTasks?: number;
  /** Credits left; each submission costs one and 402 answers when none are left. */
  credits?: number;
  /** Lifetime of the signed sample URL (BFL's expire after about 10 minutes). */
  sampleTtlMs?: number;
  /** Region named in polling and delivery URLs, as BFL's regional hosts do. */
  region?: string;
}

export interface BflFault {
  /** Which route the fault hits. */
  on: 'submit' | 'poll' | 'sample' | 'any';
  /** Answer with this status (e.g. 503, 429, 500). */
  status?: number;
  /** Retry-After header value, e.g. '2' or an HTTP date. */
  retryAfter?: string;
  /** Never answer (the socket stays open until the client gives up or the fake closes). */
  hang?: boolean;
  /** How many matching requests it hits; default 1. */
  times?: number;
  body?: unknown;
}

export interface BflFakeSubmission {
  id: string;
  model: string;
  prompt: string;
  body: Record<string, unknown>;
  at: number;
}

interface FakeTask {
  id: string;
  model: string;
  prompt: string;
  seed: number | undefined;
  width: number;
  height: number;
  createdAt: number;
  outcome: 'Ready' | 'Request Moderated' | 'Content Moderated' | 'Error';
}

const DEFAULTS = {
  apiKey: 'bfl-test-key',
  wrongKeyStatus: 403 as 401 | 403,
  pendingMs: 0,
  maxActiveTasks: 24,
  credits: Number.POSITIVE_INFINITY,
  sampleTtlMs: 10 * 60_000,
  region: 'us1',
};

type ModelSize =
  | { kind: 'dimensions'; multipleOf: number; min: number; max: number; defaults: [number, number] }
  | { kind: 'aspect_ratio'; default: string };

interface FakeModel {
  size: ModelSize;
  promptRequired: boolean;
  maxSafetyTolerance: number;
}

const FLUX1: FakeModel = {
  size: { kind: 'dimensions', multipleOf: 32, min: 256, max: 1440, defaults: [1024, 768] },
  promptRequired: false,
  maxSafetyTolerance: 6,
};
const FLUX2: FakeModel = {
  size: { kind: 'dimensions', multipleOf: 1, min: 64, max: Number.POSITIVE_INFINITY, defaults: [1024, 1024] },
  promptRequired: true,
  maxSafetyTolerance: 5,
};

/** The text-to-image endpoints of the spec and their input constraints. */
const MODELS: Record<string, FakeModel> = {
  'flux-dev': FLUX1,
  'flux-pro-1.1': FLUX1,
  'flux-pro-1.1-ultra': {
    size: { kind: 'aspect_ratio', default: '16:9' },
    promptRequired: false,
    maxSafetyTolerance: 6,
  },
  'flux-kontext-pro': {
    size: { kind: 'aspect_ratio', default: '1:1' },
    promptRequired: true,
    maxSafetyTolerance: 6,
  },
  'flux-kontext-max': {
    size: { kind: 'aspect_ratio', default: '1:1' },
    promptRequired: true,
    maxSafetyTolerance: 6,
  },
  'flux-2-max': FLUX2,
  'flux-2-pro': FLUX2,
  'flux-2-pro-preview': FLUX2,
  'flux-2-flex': FLUX2,
  'flux-2-klein-4b': FLUX2,
  'flux-2-klein-9b': FLUX2,
  'flux-2-klein-9b-preview': FLUX2,
};

interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export class BflFake {
  readonly options: Required<BflFakeOptions>;
  readonly submissions: BflFakeSubmission[] = [];
  readonly requests: { method: string; path: string; status: number }[] = [];
  private readonly tasks = new Map<string, FakeTask>();
  private readonly polls = new Map<string, number>();
  private readonly faults: (BflFault & { remaining: number })[] = [];
  private readonly sockets = new Set<Socket>();
  private creditsLeft: number;
  private server: Server | undefined;
  private baseUrl = '';

  constructor(options: BflFakeOptions = {}) {
    this.options = {
      ...DEFAULTS,
      moderatedWords: [],
      contentModeratedWords: [],
      errorWords: [],
      ...options,
    };
    this.creditsLeft = this.options.credits;
  }

  get url(): string {
    if (!this.server) throw new Error('BflFake: not started');
    return this.baseUrl;
  }

  async start(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.json(req, res, 500, { detail: String(error) });
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url: this.baseUrl, close: () => this.close() };
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Drops every queued fault: the upstream is healthy again. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Queues a fault for the next matching request(s). */
  inject(fault: BflFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  /** Submissions accepted (200), in total or for one prompt. */
  submissionCount(prompt?: string): number {
    return prompt === undefined
      ? this.submissions.length
      : this.submissions.filter((s) => s.prompt === prompt).length;
  }

  /** get_result calls, in total or for one task id. */
  pollCount(id?: string): number {
    if (id !== undefined) return this.polls.get(id) ?? 0;
    let total = 0;
    for (const count of this.polls.values()) total += count;
    return total;
  }

  /** Requests that reached the fake for a route, answered or not. */
  requestCount(method: string, pathPrefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const route = this.routeOf(method, path);

    const fault = this.takeFault(route);
    if (fault) {
      await readBody(req);
      if (fault.hang) {
        this.requests.push({ method, path, status: 0 });
        return;
      }
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      const status = fault.status ?? 503;
      this.json(req, res, status, fault.body ?? { detail: `injected ${status}` }, headers);
      return;
    }

    if (route === 'submit') return this.submit(req, res, path.slice('/v1/'.length));
    if (route === 'poll') return this.getResult(req, res, url);
    if (route === 'sample') return this.sample(req, res, url);
    if (method === 'GET' && path === '/v1/credits') {
      if (!this.authorised(req, res)) return;
      return this.json(req, res, 200, {
        credits: Number.isFinite(this.creditsLeft) ? this.creditsLeft : 1e9,
      });
    }
    return this.json(req, res, 404, { detail: 'Not Found' });
  }

  private routeOf(method: string, path: string): 'submit' | 'poll' | 'sample' | 'other' {
    if (method === 'POST' && path.startsWith('/v1/')) return 'submit';
    if (method === 'GET' && (path === '/v1/get_result' || path === `/${this.options.region}/v1/get_result`)) {
      return 'poll';
    }
    if (method === 'GET' && path.startsWith('/delivery/')) return 'sample';
    return 'other';
  }

  private takeFault(route: string): BflFault | undefined {
    const index = this.faults.findIndex((f) => f.on === 'any' || f.on === route);
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private authorised(req: IncomingMessage, res: ServerResponse): boolean {
    const key = req.headers['x-key'];
    if (key === undefined || key === '') {
      this.json(req, res, 403, { detail: 'Not authenticated' });
      return false;
    }
    if (key !== this.options.apiKey) {
      this.json(req, res, this.options.wrongKeyStatus, { detail: 'Invalid API key' });
      return false;
    }
    return true;
  }

  private async submit(req: IncomingMessage, res: ServerResponse, modelName: string): Promise<void> {
    const raw = await readBody(req);
    const model = MODELS[modelName];
    if (!model) return this.json(req, res, 404, { detail: 'Not Found' });
    if (!this.authorised(req, res)) return;

    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      return this.json(req, res, 422, {
        detail: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }],
      });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return this.json(req, res, 422, {
        detail: [{ loc: ['body'], msg: 'Input should be a valid dictionary', type: 'dict_type' }],
      });
    }
    const input = body as Record<string, unknown>;
    const issues = validate(input, model);
    if (issues.length > 0) return this.json(req, res, 422, { detail: issues });

    const active = [...this.tasks.values()].filter((t) => this.statusOf(t).status === 'Pending').length;
    if (active >= this.options.maxActiveTasks) {
      return this.json(
        req,
        res,
        429,
        { detail: `You have exceeded the number of active tasks (${this.options.maxActiveTasks}).` },
        { 'retry-after': '1' },
      );
    }
    if (this.creditsLeft < 1) return this.json(req, res, 402, { detail: 'Insufficient credits' });
    this.creditsLeft -= 1;

    const prompt = typeof input.prompt === 'string' ? input.prompt : '';
    const [width, height] = sizeOf(input, model);
    const id = randomUUID();
    const task: FakeTask = {
      id,
      model: modelName,
      prompt,
      seed: typeof input.seed === 'number' ? input.seed : undefined,
      width,
      height,
      createdAt: Date.now(),
      outcome: this.outcomeFor(prompt),
    };
    this.tasks.set(id, task);
    this.submissions.push({ id, model: modelName, prompt, body: input, at: task.createdAt });
    const pollingUrl = `${this.baseUrl}/${this.options.region}/v1/get_result?id=${id}`;
    return this.json(req, res, 200, {
      id,
      polling_url: pollingUrl,
      cost: 1,
      input_mp: 0,
      output_mp: (width * height) / 1e6,
    });
  }

  private outcomeFor(prompt: string): FakeTask['outcome'] {
    const has = (words: string[]): boolean =>
      words.some((w) => prompt.toLowerCase().includes(w.toLowerCase()));
    if (has(this.options.moderatedWords)) return 'Request Moderated';
    if (has(this.options.contentModeratedWords)) return 'Content Moderated';
    if (has(this.options.errorWords)) return 'Error';
    return 'Ready';
  }

  private statusOf(task: FakeTask): { status: string; progress: number | null } {
    // Request moderation happens before any generation.
    if (task.outcome === 'Request Moderated') return { status: task.outcome, progress: null };
    const elapsed = Date.now() - task.createdAt;
    if (elapsed < this.options.pendingMs)
      return { status: 'Pending', progress: elapsed / this.options.pendingMs };
    return { status: task.outcome, progress: task.outcome === 'Ready' ? 1 : null };
  }

  private async getResult(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    await readBody(req);
    const id = url.searchParams.get('id');
    if (id === null) {
      return this.json(req, res, 422, {
        detail: [{ loc: ['query', 'id'], msg: 'Field required', type: 'missing' }],
      });
    }
    this.polls.set(id, (this.polls.get(id) ?? 0) + 1);
    const task = this.tasks.get(id);
    if (!task) return this.json(req, res, 200, { id, status: 'Task not found', result: null });
    const { status, progress } = this.statusOf(task);
    const answer: Record<string, unknown> = {
      id,
      status,
      result: null,
      progress,
      details: null,
      preview: null,
    };
    if (status === 'Ready') {
      const expires = Date.now() + this.options.sampleTtlMs;
      answer.result = {
        sample: `${this.baseUrl}/delivery/${this.options.region}/${id}/sample.png?se=${expires}&sig=fake`,
        prompt: task.prompt,
        seed: task.seed ?? null,
        start_time: task.createdAt / 1000,
        end_time: (task.createdAt + this.options.pendingMs) / 1000,
        duration: this.options.pendingMs / 1000,
      };
    }
    if (status === 'Request Moderated' || status === 'Content Moderated') {
      answer.details = { 'Moderation Reasons': ['Derivative Works'] };
    }
    return this.json(req, res, 200, answer);
  }

  private async sample(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    await readBody(req);
    const match = /^\/delivery\/[^/]+\/([^/]+)\/sample\.png$/.exec(url.pathname);
    const task = match?.[1] ? this.tasks.get(match[1]) : undefined;
    if (!task || this.statusOf(task).status !== 'Ready')
      return this.text(req, res, 404, 'The specified blob does not exist.');
    const expires = Number(url.searchParams.get('se'));
    if (!Number.isFinite(expires) || Date.now() > expires) {
      return this.text(req, res, 403, 'Signed expiry time has expired.');
    }
    const png = renderSandboxImage({
      model: task.model,
      prompt: task.prompt,
      seed: task.seed,
      index: 0,
      width: task.width,
      height: task.height,
    });
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, status: 200 });
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
    res.end(png);
  }

  private json(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    this.requests.push({
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', this.baseUrl).pathname,
      status,
    });
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }

  private text(req: IncomingMessage, res: ServerResponse, status: number, body: string): void {
    this.requests.push({
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', this.baseUrl).pathname,
      status,
    });
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end(body);
  }
}

export function createBflFake(options: BflFakeOptions = {}): BflFake {
  return new BflFake(options);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function validate(input: Record<string, unknown>, model: FakeModel): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const issue = (field: string, msg: string, type: string): void => {
    issues.push({ loc: ['body', field], msg, type });
  };
  const optional = (field: string): unknown => (input[field] === null ? undefined : input[field]);

  const prompt = input.prompt;
  if (prompt === undefined && model.promptRequired) issue('prompt', 'Field required', 'missing');
  else if (
    prompt !== undefined &&
    typeof prompt !== 'string' &&
    !(prompt === null && !model.promptRequired)
  ) {
    issue('prompt', 'Input should be a valid string', 'string_type');
  }

  const seed = optional('seed');
  if (seed !== undefined && !Number.isInteger(seed))
    issue('seed', 'Input should be a valid integer', 'int_type');

  const format = optional('output_format');
  if (format !== undefined && !['jpeg', 'png', 'webp'].includes(format as string)) {
    issue('output_format', "Input should be 'jpeg', 'png' or 'webp'", 'enum');
  }

  const tolerance = input.safety_tolerance;
  if (tolerance !== undefined) {
    if (!Number.isInteger(tolerance))
      issue('safety_tolerance', 'Input should be a valid integer', 'int_type');
    else if ((tolerance as number) < 0 || (tolerance as number) > model.maxSafetyTolerance) {
      issue(
        'safety_tolerance',
        `Input should be between 0 and ${model.maxSafetyTolerance}`,
        'less_than_equal',
      );
    }
  }

  const size = model.size;
  if (size.kind === 'dimensions') {
    for (const field of ['width', 'height']) {
      const value = optional(field);
      if (value === undefined) continue;
      if (!Number.isInteger(value)) issue(field, 'Input should be a valid integer', 'int_type');
      else if ((value as number) < size.min)
        issue(field, `Input should be greater than or equal to ${size.min}`, 'greater_than_equal');
      else if ((value as number) > size.max)
        issue(field, `Input should be less than or equal to ${size.max}`, 'less_than_equal');
      else if ((value as number) % size.multipleOf !== 0) {
        issue(field, `Input should be a multiple of ${size.multipleOf}`, 'multiple_of');
      }
    }
  } else {
    const ratio = optional('aspect_ratio');
    if (ratio !== undefined) {
      const match = typeof ratio === 'string' ? /^(\d+):(\d+)$/.exec(ratio) : null;
      const value = match ? Number(match[1]) / Number(match[2]) : Number.NaN;
      if (!(value >= 9 / 21 && value <= 21 / 9)) {
        issue('aspect_ratio', 'Aspect ratio must be between 21:9 and 9:21', 'value_error');
      }
    }
  }
  return issues;
}

function sizeOf(input: Record<string, unknown>, model: FakeModel): [number, number] {
  const size = model.size;
  if (size.kind === 'dimensions') {
    const width = typeof input.width === 'number' && input.width > 0 ? input.width : size.defaults[0];
    const height = typeof input.height === 'number' && input.height > 0 ? input.height : size.defaults[1];
    return [width, height];
  }
  const ratio = typeof input.aspect_ratio === 'string' ? input.aspect_ratio : size.default;
  const [w, h] = ratio.split(':').map(Number) as [number, number];
  // Around one megapixel, as BFL renders these models.
  const scale = Math.sqrt(1_048_576 / (w * h));
  const round = (x: number): number => Math.max(64, Math.round(x / 32) * 32);
  return [round(w * scale), round(h * scale)];
}

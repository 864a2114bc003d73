import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { renderSandboxImage } from '../../providers/sandbox/render';

/**
 * A fake of fal's queue API (queue.fal.run) on a real HTTP port, reproducing what fal documents
 * (provider-specs/fal-queue-flux-dev.json, docs.fal.ai "Queue", "Errors", "Request Error Types"):
 *
 * - `POST /{owner}/{app}[/{path}]` with `Authorization: Key <key>` (401 otherwise), answered by
 *   `{status: IN_QUEUE, request_id, response_url, status_url, cancel_url, queue_position}`, whose
 *   URLs name only `owner/app`. The queue takes any JSON: input is validated when a runner takes it,
 *   and a bad input shows in the result (422 `{detail: [{loc, msg, type}]}`), as on fal.
 * - A queue with `concurrency` runners and `runMs` per request: positions move, `IN_QUEUE` →
 *   `IN_PROGRESS` (tqdm-style logs with `?logs=1`) → `COMPLETED`; status answers 202 until then, 200 after.
 * - `GET …/requests/{id}`: the model's output with images on a CDN-like path of the fake
 *   (`/cdn/…`, real PNGs) that expire after `cdnTtlMs`; content-policy 422s, `has_nsfw_concepts`,
 *   runner failures (`{detail, error_type}` with `X-Fal-Error-Type`), and the start timeout sent in
 *   `X-Fal-Request-Timeout` (504 with `X-Fal-Request-Timeout-Type: user`).
 * - `PUT …/requests/{id}/cancel`: 202 `CANCELLATION_REQUESTED` while queued or running, 400
 *   `ALREADY_COMPLETED` after, 404 `NOT_FOUND` for an unknown id.
 * - 429 beyond `maxInFlight`, and injected faults (status, Retry-After, hang, malformed body, times).
 */

export interface FalFakeOptions {
  apiKey?: string;
  /** Runners serving the account's requests at once (fal's per-account concurrency). */
  concurrency?: number;
  /** How long a runner works on one request. */
  runMs?: number;
  /** Requests queued or running per key beyond which submit answers 429. */
  maxInFlight?: number;
  /** Lifetime of the CDN URLs of result images. */
  cdnTtlMs?: number;
  /** Prompts containing one of these fail with a content_policy_violation 422. */
  contentPolicyWords?: string[];
  /** Prompts containing one of these come back with `has_nsfw_concepts: true` (FLUX models). */
  nsfwWords?: string[];
  /** Prompts containing one of these end with a runner failure (503 runner_disconnected). */
  errorWords?: string[];
  /** Base for the URLs returned in submit answers (default: the fake's own URL). */
  publicUrl?: string;
}

export interface FalFault {
  on: 'submit' | 'status' | 'result' | 'cancel' | 'cdn' | 'any';
  status?: number;
  retryAfter?: string;
  hang?: boolean;
  /** Answer 200 with a body that is not JSON. */
  malformed?: boolean;
  body?: unknown;
  headers?: Record<string, string>;
  times?: number;
}

export interface FalFakeSubmission {
  id: string;
  endpoint: string;
  body: Record<string, unknown>;
  headers: { timeout?: string; authorization?: string };
  at: number;
}

type Outcome =
  | { kind: 'ok'; output: Record<string, unknown> }
  | { kind: 'error'; status: number; body: unknown; headers?: Record<string, string> };

interface FakeRequest {
  id: string;
  endpoint: string;
  app: string;
  input: Record<string, unknown>;
  enqueuedAt: number;
  deadline: number | undefined;
  startedAt?: number;
  completedAt?: number;
  cancelled: boolean;
  outcome?: Outcome;
}

interface FakeModel {
  size: 'image_size' | 'aspect_ratio';
  minSide: number;
  maxSide: number;
  maxImages: number;
  formats: string[] | undefined;
  ratios?: string[];
  nsfwField: boolean;
  edit: boolean;
  maxRefs: number;
  safetyTolerance: number;
  defaultFormat: string;
}

const FLUX2_PARTNER: FakeModel = {
  size: 'image_size',
  minSide: 64,
  maxSide: 14142,
  maxImages: 1,
  formats: ['jpeg', 'png'],
  nsfwField: false,
  edit: false,
  maxRefs: 0,
  safetyTolerance: 5,
  defaultFormat: 'jpeg',
};
const NANO_RATIOS = ['21:9', '16:9', '3:2', '4:3', '5:4', '1:1', '4:5', '3:4', '2:3', '9:16'];
const NANO: FakeModel = {
  size: 'aspect_ratio',
  minSide: 0,
  maxSide: 0,
  maxImages: 4,
  formats: ['jpeg', 'png', 'webp'],
  ratios: NANO_RATIOS,
  nsfwField: false,
  edit: false,
  maxRefs: 0,
  safetyTolerance: 6,
  defaultFormat: 'png',
};

/** Endpoint ids and their input constraints, as in @fal-ai/client's generated schemas. */
const MODELS: Record<string, FakeModel> = {
  'fal-ai/flux-2': {
    size: 'image_size',
    minSide: 512,
    maxSide: 2048,
    maxImages: 4,
    formats: ['jpeg', 'png', 'webp'],
    nsfwField: true,
    edit: false,
    maxRefs: 0,
    safetyTolerance: 0,
    defaultFormat: 'png',
  },
  'fal-ai/flux/schnell': {
    size: 'image_size',
    minSide: 1,
    maxSide: 14142,
    maxImages: 4,
    formats: ['jpeg', 'png'],
    nsfwField: true,
    edit: false,
    maxRefs: 0,
    safetyTolerance: 0,
    defaultFormat: 'jpeg',
  },
  'fal-ai/flux-2-pro': FLUX2_PARTNER,
  'fal-ai/flux-2-max': FLUX2_PARTNER,
  'fal-ai/flux-2-flex': FLUX2_PARTNER,
  'fal-ai/nano-banana': NANO,
  'fal-ai/nano-banana-2': { ...NANO, ratios: [...NANO_RATIOS, '4:1', '1:4', '8:1', '1:8'] },
  'fal-ai/ideogram/v3': {
    size: 'image_size',
    minSide: 1,
    maxSide: 14142,
    maxImages: 8,
    formats: undefined,
    nsfwField: false,
    edit: false,
    maxRefs: 10,
    safetyTolerance: 0,
    defaultFormat: 'png',
  },
};
MODELS['fal-ai/flux-2/edit'] = { ...MODELS['fal-ai/flux-2']!, edit: true, maxRefs: 4 };
for (const id of ['fal-ai/flux-2-pro', 'fal-ai/flux-2-max', 'fal-ai/flux-2-flex']) {
  MODELS[`${id}/edit`] = { ...FLUX2_PARTNER, edit: true, maxRefs: 9 };
}
MODELS['fal-ai/nano-banana/edit'] = { ...NANO, edit: true, maxRefs: 10 };
MODELS['fal-ai/nano-banana-2/edit'] = { ...MODELS['fal-ai/nano-banana-2']!, edit: true, maxRefs: 14 };

const DEFAULTS = {
  apiKey: 'fal-test-key',
  concurrency: 2,
  runMs: 0,
  maxInFlight: 100,
  cdnTtlMs: 60 * 60_000,
};

export class FalFake {
  readonly options: Required<Omit<FalFakeOptions, 'publicUrl'>> & { publicUrl?: string };
  readonly submissions: FalFakeSubmission[] = [];
  readonly cancels: { id: string; answer: string }[] = [];
  readonly requests: { method: string; path: string; status: number; authorized: boolean }[] = [];
  private readonly queue: FakeRequest[] = [];
  private readonly running: FakeRequest[] = [];
  private readonly all = new Map<string, FakeRequest>();
  private readonly faults: (FalFault & { remaining: number })[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private baseUrl = '';

  constructor(options: FalFakeOptions = {}) {
    this.options = {
      ...DEFAULTS,
      contentPolicyWords: [],
      nsfwWords: [],
      errorWords: [],
      ...options,
    };
  }

  get url(): string {
    if (!this.server) throw new Error('FalFake: not started');
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

  inject(fault: FalFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  submissionCount(): number {
    return this.submissions.length;
  }

  requestCount(method: string, pathPrefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }

  /** Where a request stands now (for tests). */
  stateOf(id: string): string | undefined {
    this.advance(Date.now());
    const request = this.all.get(id);
    return request ? this.statusOf(request) : undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = req.method ?? 'GET';
    const route = this.routeOf(method, url.pathname);
    const raw = await readBody(req);

    const fault = this.takeFault(route);
    if (fault) {
      if (fault.hang) {
        this.record(req, 0);
        return;
      }
      if (fault.malformed) {
        this.record(req, 200);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"request_id": "trunc');
        return;
      }
      const status = fault.status ?? 503;
      const headers: Record<string, string> = { ...fault.headers };
      if (fault.retryAfter) headers['retry-after'] = fault.retryAfter;
      const body = fault.body ?? { detail: `injected ${status}`, error_type: 'runner_scheduling_failure' };
      return this.json(req, res, status, body, headers);
    }

    if (route === 'cdn') return this.cdn(req, res, url);
    if (!this.authorised(req, res)) return;
    this.advance(Date.now());
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (route === 'submit') return this.submit(req, res, parts.join('/'), raw);
    const app = `${parts[0]}/${parts[1]}`;
    const request = this.all.get(parts[3] ?? '');
    if (!request || request.app !== app) {
      return this.json(req, res, 404, { detail: 'Request not found', status: 'NOT_FOUND' });
    }
    if (route === 'status') return this.status(req, res, request, url);
    if (route === 'result') return this.result(req, res, request);
    if (route === 'cancel') return this.cancel(req, res, request);
    return this.json(req, res, 405, { detail: 'Method Not Allowed' });
  }

  private routeOf(method: string, path: string): FalFault['on'] | 'other' {
    if (path.startsWith('/cdn/')) return method === 'GET' ? 'cdn' : 'other';
    const parts = path.split('/').filter(Boolean);
    if (parts[2] === 'requests' && parts.length >= 4) {
      if (method === 'GET' && parts.length === 5 && parts[4] === 'status') return 'status';
      if (method === 'GET' && parts.length === 4) return 'result';
      if (method === 'PUT' && parts.length === 5 && parts[4] === 'cancel') return 'cancel';
      return 'other';
    }
    return method === 'POST' && parts.length >= 2 ? 'submit' : 'other';
  }

  private takeFault(route: string): FalFault | undefined {
    const index = this.faults.findIndex((f) => f.on === 'any' || f.on === route);
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private authorised(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.headers.authorization === `Key ${this.options.apiKey}`) return true;
    this.json(req, res, 401, {
      detail:
        'Authentication is required to access this application. Send your key as `Authorization: Key <key>`.',
    });
    return false;
  }

  private submit(req: IncomingMessage, res: ServerResponse, endpoint: string, raw: Buffer): void {
    if (!MODELS[endpoint]) return this.json(req, res, 404, { detail: `Application '${endpoint}' not found` });
    let input: unknown;
    try {
      input = JSON.parse(raw.toString('utf8'));
    } catch {
      return this.json(req, res, 422, {
        detail: [{ loc: ['body'], msg: 'JSON decode error', type: 'json_invalid' }],
      });
    }
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return this.json(req, res, 422, {
        detail: [{ loc: ['body'], msg: 'Input should be a valid dictionary', type: 'dict_type' }],
      });
    }
    if (this.queue.length + this.running.length >= this.options.maxInFlight) {
      return this.json(
        req,
        res,
        429,
        { detail: 'Too many requests in flight for this key' },
        { 'retry-after': '2' },
      );
    }
    const now = Date.now();
    const timeout = header(req, 'x-fal-request-timeout');
    const id = randomUUID();
    const app = endpoint.split('/').slice(0, 2).join('/');
    const request: FakeRequest = {
      id,
      endpoint,
      app,
      input: input as Record<string, unknown>,
      enqueuedAt: now,
      deadline: timeout !== undefined && Number(timeout) > 0 ? now + Number(timeout) * 1000 : undefined,
      cancelled: false,
    };
    this.all.set(id, request);
    this.queue.push(request);
    this.submissions.push({
      id,
      endpoint,
      body: request.input,
      headers: { timeout, authorization: header(req, 'authorization') },
      at: now,
    });
    this.advance(now);
    return this.json(req, res, 200, {
      status: 'IN_QUEUE',
      request_id: id,
      ...this.urls(request),
      queue_position: Math.max(0, this.queue.indexOf(request)),
    });
  }

  private urls(request: FakeRequest): Record<string, string> {
    const base = `${this.options.publicUrl ?? this.baseUrl}/${request.app}/requests/${request.id}`;
    return { response_url: base, status_url: `${base}/status`, cancel_url: `${base}/cancel` };
  }

  /** Moves the queue to `now`: runners finish in time order and take the next queued request. */
  private advance(now: number): void {
    let clock = Number.NEGATIVE_INFINITY;
    for (;;) {
      while (this.running.length < this.options.concurrency && this.queue.length > 0) {
        const next = this.queue.shift() as FakeRequest;
        next.startedAt = Math.max(next.enqueuedAt, clock);
        this.running.push(next);
      }
      const finishing = [...this.running].sort((a, b) => (a.startedAt ?? 0) - (b.startedAt ?? 0))[0];
      const finishAt = finishing ? (finishing.startedAt ?? 0) + this.options.runMs : Number.POSITIVE_INFINITY;
      // Every runner is busy until finishAt: queued requests whose start deadline comes first end.
      const until = Math.min(finishAt, now);
      for (const queued of [...this.queue]) {
        if (queued.deadline !== undefined && queued.deadline <= until) {
          this.queue.splice(this.queue.indexOf(queued), 1);
          queued.completedAt = queued.deadline;
          queued.outcome = {
            kind: 'error',
            status: 504,
            body: { detail: 'Request timed out before a runner started it', error_type: 'request_timeout' },
            headers: { 'x-fal-error-type': 'request_timeout', 'x-fal-request-timeout-type': 'user' },
          };
        }
      }
      if (!finishing || finishAt > now) break;
      this.running.splice(this.running.indexOf(finishing), 1);
      finishing.completedAt = finishAt;
      finishing.outcome = this.run(finishing);
      clock = finishAt;
    }
  }

  private statusOf(request: FakeRequest): 'IN_QUEUE' | 'IN_PROGRESS' | 'COMPLETED' {
    if (request.completedAt !== undefined) return 'COMPLETED';
    return request.startedAt !== undefined ? 'IN_PROGRESS' : 'IN_QUEUE';
  }

  private status(req: IncomingMessage, res: ServerResponse, request: FakeRequest, url: URL): void {
    const status = this.statusOf(request);
    const logs = url.searchParams.get('logs') === '1';
    const body: Record<string, unknown> = { status, request_id: request.id, ...this.urls(request) };
    if (status === 'IN_QUEUE') body.queue_position = this.queue.indexOf(request);
    if (logs) body.logs = status === 'IN_QUEUE' ? [] : this.logsOf(request);
    if (status === 'COMPLETED') {
      body.metrics = { inference_time: ((request.completedAt ?? 0) - (request.startedAt ?? 0)) / 1000 };
    }
    return this.json(req, res, status === 'COMPLETED' ? 200 : 202, body);
  }

  private logsOf(request: FakeRequest): unknown[] {
    const elapsed = Date.now() - (request.startedAt ?? Date.now());
    const fraction =
      request.completedAt !== undefined || this.options.runMs === 0
        ? 1
        : Math.min(1, elapsed / this.options.runMs);
    const steps = Math.floor(fraction * 28);
    const percent = Math.floor(fraction * 100);
    return [
      { message: 'Loading pipeline', level: 'INFO', source: 'USER', timestamp: new Date().toISOString() },
      {
        message: `${String(percent).padStart(3)}%|${'█'.repeat(Math.floor(percent / 10))}| ${steps}/28 [00:01<00:02]`,
        level: 'STDERR',
        source: 'USER',
        timestamp: new Date().toISOString(),
      },
    ];
  }

  private result(req: IncomingMessage, res: ServerResponse, request: FakeRequest): void {
    if (request.cancelled && request.outcome === undefined) {
      return this.json(req, res, 400, { detail: 'Request was cancelled' });
    }
    const outcome = request.outcome;
    if (!outcome) return this.json(req, res, 400, { detail: 'Request is still in progress' });
    if (outcome.kind === 'error') return this.json(req, res, outcome.status, outcome.body, outcome.headers);
    return this.json(req, res, 200, outcome.output);
  }

  private cancel(req: IncomingMessage, res: ServerResponse, request: FakeRequest): void {
    const status = this.statusOf(request);
    if (status === 'COMPLETED') {
      this.cancels.push({ id: request.id, answer: 'ALREADY_COMPLETED' });
      return this.json(req, res, 400, { status: 'ALREADY_COMPLETED' });
    }
    // A queued request leaves the queue; a running one gets the cancel signal and stops.
    const list = status === 'IN_QUEUE' ? this.queue : this.running;
    list.splice(list.indexOf(request), 1);
    request.cancelled = true;
    request.completedAt = Date.now();
    request.outcome = { kind: 'error', status: 400, body: { detail: 'Request was cancelled' } };
    this.cancels.push({ id: request.id, answer: 'CANCELLATION_REQUESTED' });
    return this.json(req, res, 202, { status: 'CANCELLATION_REQUESTED' });
  }

  /** What the model answers for a request once a runner has it: validation first, then the output. */
  private run(request: FakeRequest): Outcome {
    const model = MODELS[request.endpoint] as FakeModel;
    const input = request.input;
    const issues = validate(input, model);
    if (issues.length > 0) return { kind: 'error', status: 422, body: { detail: issues } };
    const prompt = String(input.prompt).toLowerCase();
    const has = (words: string[]): boolean => words.some((w) => prompt.includes(w.toLowerCase()));
    if (has(this.options.contentPolicyWords)) {
      return {
        kind: 'error',
        status: 422,
        body: {
          detail: [
            {
              loc: ['body', 'prompt'],
              msg: 'The content was flagged by a content checker.',
              type: 'content_policy_violation',
              url: 'https://docs.fal.ai/errors#content_policy_violation',
              input: input.prompt,
              categories: ['sexual', 'violence'],
            },
          ],
        },
        headers: { 'x-fal-retryable': 'false' },
      };
    }
    if (has(this.options.errorWords)) {
      return {
        kind: 'error',
        status: 503,
        body: { detail: 'Runner disconnected unexpectedly', error_type: 'runner_disconnected' },
        headers: { 'x-fal-error-type': 'runner_disconnected' },
      };
    }
    const count = typeof input.num_images === 'number' ? input.num_images : 1;
    const format = typeof input.output_format === 'string' ? input.output_format : model.defaultFormat;
    const [width, height] = sizeOf(input, model);
    const expires = Date.now() + this.options.cdnTtlMs;
    const seed = typeof input.seed === 'number' ? input.seed : 42;
    const nsfw = model.nsfwField && has(this.options.nsfwWords);
    const images = Array.from({ length: count }, (_, i) => ({
      url: `${this.baseUrl}/cdn/files/${request.id}/${i}.png?exp=${expires}`,
      width,
      height,
      content_type: `image/${format === 'jpeg' ? 'jpeg' : format}`,
      file_name: `${i}.${format}`,
    }));
    const output: Record<string, unknown> = { images, seed };
    if (model.nsfwField) {
      output.has_nsfw_concepts = images.map(() => nsfw);
      output.prompt = input.prompt;
      output.timings = { inference: this.options.runMs / 1000 };
    }
    if (request.endpoint.includes('nano-banana')) output.description = '';
    return { kind: 'ok', output };
  }

  private cdn(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const match = /^\/cdn\/files\/([^/]+)\/(\d+)\.png$/.exec(url.pathname);
    const request = match ? this.all.get(match[1] as string) : undefined;
    const expires = Number(url.searchParams.get('exp'));
    if (!request || request.outcome?.kind !== 'ok' || !Number.isFinite(expires) || Date.now() > expires) {
      this.record(req, 404);
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
      return;
    }
    const [width, height] = sizeOf(request.input, MODELS[request.endpoint] as FakeModel);
    const png = renderSandboxImage({
      model: request.endpoint,
      prompt: String(request.input.prompt),
      seed: typeof request.input.seed === 'number' ? request.input.seed : undefined,
      index: Number(match?.[2]),
      width,
      height,
    });
    this.record(req, 200);
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
    res.end(png);
  }

  private record(req: IncomingMessage, status: number): void {
    this.requests.push({
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', this.baseUrl).pathname,
      status,
      authorized: req.headers.authorization !== undefined,
    });
  }

  private json(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    this.record(req, status);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  }
}

export function createFalFake(options: FalFakeOptions = {}): FalFake {
  return new FalFake(options);
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
  input?: unknown;
}

/** Pydantic-style checks of the fields the schemas constrain; unknown fields are ignored, as there. */
function validate(input: Record<string, unknown>, model: FakeModel): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const issue = (field: string, msg: string, type: string): void => {
    issues.push({ loc: ['body', field], msg, type, input: input[field] });
  };
  if (typeof input.prompt !== 'string') issue('prompt', 'Field required', 'missing');
  if (input.num_images !== undefined) {
    const n = input.num_images;
    if (model.maxImages === 1) {
      // Pydantic ignores a field the schema lacks; FLUX.2 partner models make one image.
    } else if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > model.maxImages) {
      issue('num_images', `Input should be less than or equal to ${model.maxImages}`, 'less_than_equal');
    }
  }
  if (input.seed !== undefined && !Number.isInteger(input.seed)) {
    issue('seed', 'Input should be a valid integer', 'int_type');
  }
  if (
    model.formats &&
    input.output_format !== undefined &&
    !model.formats.includes(input.output_format as string)
  ) {
    issue(
      'output_format',
      `Input should be ${model.formats.map((f) => `'${f}'`).join(' or ')}`,
      'literal_error',
    );
  }
  if (model.size === 'image_size' && input.image_size !== undefined) {
    const size = input.image_size as { width?: unknown; height?: unknown };
    for (const side of ['width', 'height'] as const) {
      const value = typeof size === 'object' && size !== null ? size[side] : undefined;
      if (typeof value !== 'number' || value < model.minSide || value > model.maxSide) {
        issues.push({
          loc: ['body', 'image_size', side],
          msg: `The ${side} must be between ${model.minSide} and ${model.maxSide} pixels.`,
          type: 'value_error',
        });
      }
    }
  }
  if (model.size === 'aspect_ratio' && input.aspect_ratio !== undefined) {
    const allowed = model.edit ? ['auto', ...(model.ratios ?? [])] : (model.ratios ?? []);
    if (!allowed.includes(input.aspect_ratio as string)) {
      issue('aspect_ratio', `Input should be ${allowed.map((r) => `'${r}'`).join(', ')}`, 'literal_error');
    }
  }
  if (input.safety_tolerance !== undefined && model.safetyTolerance > 0) {
    const allowed = Array.from({ length: model.safetyTolerance }, (_, i) => String(i + 1));
    if (!allowed.includes(input.safety_tolerance as string)) {
      issue(
        'safety_tolerance',
        `Input should be ${allowed.map((r) => `'${r}'`).join(', ')}`,
        'literal_error',
      );
    }
  }
  const refs = input.image_urls;
  if (model.edit && (!Array.isArray(refs) || refs.length === 0))
    issue('image_urls', 'Field required', 'missing');
  if (Array.isArray(refs) && refs.length > model.maxRefs) {
    issue('image_urls', `List should have at most ${model.maxRefs} items`, 'too_long');
  }
  return issues;
}

function sizeOf(input: Record<string, unknown>, model: FakeModel): [number, number] {
  if (model.size === 'image_size') {
    const size = input.image_size as { width?: number; height?: number } | undefined;
    return [size?.width ?? 1024, size?.height ?? 768];
  }
  const ratio =
    typeof input.aspect_ratio === 'string' && input.aspect_ratio !== 'auto' ? input.aspect_ratio : '1:1';
  const [w, h] = ratio.split(':').map(Number) as [number, number];
  const scale = Math.sqrt(1_048_576 / (w * h));
  return [Math.round((w * scale) / 8) * 8, Math.round((h * scale) / 8) * 8];
}

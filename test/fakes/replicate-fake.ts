import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { renderSandboxImage, renderSandboxImageAs } from '../../providers/sandbox/render';

/**
 * A fake of Replicate's HTTP API on real HTTP ports, reproducing what provider-specs/replicate.json
 * and the official clients document:
 *
 * - `POST /v1/models/{owner}/{name}/predictions` with `Authorization: Bearer <token>` and
 *   `{input}`, each official image model's input checked against its published schema; bad input
 *   is 422 problem+json `{title, detail, status, invalid_fields: [{type, field, description}]}`.
 * - `Prefer: wait=N` (1–60) holds the create open until the prediction ends or N seconds pass;
 *   without it the answer is `starting`. `Cancel-After` (min 5 s) sets a deadline after which an
 *   unfinished prediction is `canceled` (it was running) or `aborted` (it never started).
 * - `GET /v1/predictions/{id}` moves `starting` → `processing` (with tqdm progress lines in `logs`)
 *   → `succeeded` | `failed`; `POST /v1/predictions/{id}/cancel` makes an unfinished prediction
 *   `canceled` and answers a finished one unchanged.
 * - Outputs are URLs on a second server (Replicate's `replicate.delivery` is another origin) serving
 *   real images; they are deleted after `outputTtlMs` (Replicate: one hour): the file answers 404
 *   (or 410) and the prediction's `output` becomes null with `data_removed: true`.
 * - Safety failures with Replicate's own messages ("NSFW content detected…", "…flagged as
 *   sensitive… (E005)"), other failures, 402 when the account has no credit, 429 with Retry-After
 *   when creates exceed a rate, and injected faults (status, Retry-After, hang, malformed answers).
 *
 * Where the documents are silent the fake chooses, and says so: unknown input fields are refused
 * with 422 `additional_property_not_allowed` (Replicate documents that for top-level fields; for
 * model inputs it may ignore them, so the fake is stricter and a misnamed field fails a test).
 */

export interface ReplicateFakeOptions {
  /** The token `Authorization: Bearer` must carry. */
  apiKey?: string;
  /** How long a prediction stays `starting` (queued, booting) before `processing`. */
  startingMs?: number;
  /** How long it is `processing` before it ends. */
  runMs?: number;
  /** Lifetime of outputs after completion (Replicate deletes them after an hour). */
  outputTtlMs?: number;
  /** Status of an expired output file. */
  expiredStatus?: 404 | 410;
  /** Prompts containing one of these (case-insensitive) fail as NSFW once generated. */
  nsfwWords?: string[];
  /** Prompts containing one of these fail as "flagged as sensitive (E005)". */
  sensitiveWords?: string[];
  /** Prompts containing one of these fail with a model error. */
  errorWords?: string[];
  /** Creates allowed per second; beyond it, 429 with Retry-After. */
  createsPerSecond?: number;
  /** False: the account has no credit, every create is 402. */
  credit?: boolean;
  /** Hand out `urls.get`/`urls.cancel` on another origin (to check the token never goes there). */
  foreignUrls?: boolean;
}

export interface ReplicateFault {
  on: 'create' | 'get' | 'cancel' | 'output' | 'any';
  /** Answer with this status at once, with a problem+json body (or `body`). */
  status?: number;
  retryAfter?: string;
  /** Never answer (the socket stays open until the client gives up or the fake closes). */
  hang?: boolean;
  /**
   * Handle the request normally, then corrupt a 2xx answer: not JSON, no id, a succeeded
   * prediction whose output is not a URL, or a status outside the enum.
   */
  malformed?: 'not_json' | 'no_id' | 'bad_output' | 'bad_status';
  times?: number;
  body?: unknown;
}

export interface ReplicateFakePrediction {
  id: string;
  model: string;
  input: Record<string, unknown>;
  prefer: string | undefined;
  cancelAfter: string | undefined;
  at: number;
}

type Validator = (value: unknown) => string | undefined;

interface FakeModel {
  properties: Record<string, Validator>;
  required: string[];
  arrayOutput: boolean;
  countField?: string;
  defaultFormat: string;
}

interface FakePrediction {
  id: string;
  model: string;
  input: Record<string, unknown>;
  prompt: string;
  createdAt: number;
  deadline: number | undefined;
  canceledAt: number | undefined;
  outcome: 'succeeded' | 'nsfw' | 'sensitive' | 'error';
  count: number;
  format: string;
  width: number;
  height: number;
}

const DEFAULTS = {
  apiKey: 'r8_test_token',
  startingMs: 0,
  runMs: 0,
  outputTtlMs: 60 * 60_000,
  expiredStatus: 404 as 404 | 410,
  createsPerSecond: Number.POSITIVE_INFINITY,
  credit: true,
  foreignUrls: false,
};

const describe = (v: unknown): string => JSON.stringify(v);
const enumOf =
  (...values: string[]): Validator =>
  (v) =>
    typeof v === 'string' && values.includes(v)
      ? undefined
      : `must be one of the following: ${values.map((x) => `"${x}"`).join(', ')}`;
const int =
  (min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): Validator =>
  (v) => {
    if (typeof v !== 'number' || !Number.isInteger(v))
      return `Invalid type. Expected: integer, given: ${typeof v}`;
    if (v < min) return `Must be greater than or equal to ${min}`;
    if (v > max) return `Must be less than or equal to ${max}`;
    return undefined;
  };
const num =
  (min: number, max: number): Validator =>
  (v) => {
    if (typeof v !== 'number') return `Invalid type. Expected: number, given: ${typeof v}`;
    return v < min || v > max ? `Must be between ${min} and ${max}` : undefined;
  };
const bool: Validator = (v) =>
  typeof v === 'boolean' ? undefined : `Invalid type. Expected: boolean, given: ${typeof v}`;
const str: Validator = (v) =>
  typeof v === 'string' ? undefined : `Invalid type. Expected: string, given: ${typeof v}`;
const uris =
  (max = 100): Validator =>
  (v) => {
    if (!Array.isArray(v)) return `Invalid type. Expected: array, given: ${typeof v}`;
    if (v.length > max) return `Array must have at most ${max} items`;
    return v.every((x) => typeof x === 'string' && /^(https?:|data:)/.test(x))
      ? undefined
      : 'Items must be URIs';
  };

const FLUX2_RATIOS = [
  'match_input_image',
  'custom',
  '1:1',
  '16:9',
  '3:2',
  '2:3',
  '4:5',
  '5:4',
  '9:16',
  '3:4',
  '4:3',
];
const NANO_RATIOS = [
  'match_input_image',
  '1:1',
  '2:3',
  '3:2',
  '3:4',
  '4:3',
  '4:5',
  '5:4',
  '9:16',
  '16:9',
  '21:9',
];

const flux2 = (maxImages: number, maxSide: number, extra: Record<string, Validator>): FakeModel => ({
  properties: {
    prompt: str,
    input_images: uris(maxImages),
    aspect_ratio: enumOf(...FLUX2_RATIOS),
    width: int(256, maxSide),
    height: int(256, maxSide),
    seed: int(),
    output_format: enumOf('webp', 'jpg', 'png'),
    output_quality: int(0, 100),
    ...extra,
  },
  required: ['prompt'],
  arrayOutput: false,
  defaultFormat: 'webp',
});
const FLUX2_PRO_EXTRA = {
  resolution: enumOf('match_input_image', '0.5 MP', '1 MP', '2 MP', '4 MP'),
  safety_tolerance: int(1, 5),
};
const IDEOGRAM: FakeModel = {
  properties: {
    prompt: str,
    aspect_ratio: enumOf(
      '1:3',
      '3:1',
      '1:2',
      '2:1',
      '9:16',
      '16:9',
      '10:16',
      '16:10',
      '2:3',
      '3:2',
      '3:4',
      '4:3',
      '4:5',
      '5:4',
      '1:1',
    ),
    resolution: str,
    magic_prompt_option: enumOf('Auto', 'On', 'Off'),
    image: str,
    mask: str,
    style_type: enumOf('None', 'Auto', 'General', 'Realistic', 'Design'),
    style_reference_images: uris(),
    seed: int(0, 2_147_483_647),
    style_preset: str,
  },
  required: ['prompt'],
  arrayOutput: false,
  defaultFormat: 'png',
};

/** The official image models and their published input schemas. */
export const REPLICATE_FAKE_MODELS: Record<string, FakeModel> = {
  'black-forest-labs/flux-schnell': {
    properties: {
      prompt: str,
      aspect_ratio: enumOf('1:1', '16:9', '21:9', '3:2', '2:3', '4:5', '5:4', '3:4', '4:3', '9:16', '9:21'),
      num_outputs: int(1, 4),
      num_inference_steps: int(1, 4),
      seed: int(),
      output_format: enumOf('webp', 'jpg', 'png'),
      output_quality: int(0, 100),
      disable_safety_checker: bool,
      go_fast: bool,
      megapixels: enumOf('1', '0.25'),
    },
    required: ['prompt'],
    arrayOutput: true,
    countField: 'num_outputs',
    defaultFormat: 'webp',
  },
  'black-forest-labs/flux-2-dev': flux2(4, 1440, { go_fast: bool, disable_safety_checker: bool }),
  'black-forest-labs/flux-2-pro': flux2(8, 2048, FLUX2_PRO_EXTRA),
  'black-forest-labs/flux-2-max': flux2(8, 2048, FLUX2_PRO_EXTRA),
  'black-forest-labs/flux-2-flex': flux2(10, 2048, {
    ...FLUX2_PRO_EXTRA,
    steps: int(1, 50),
    guidance: num(1.5, 10),
    prompt_upsampling: bool,
  }),
  'google/nano-banana': {
    properties: {
      prompt: str,
      image_input: uris(),
      aspect_ratio: enumOf(...NANO_RATIOS),
      output_format: enumOf('jpg', 'png'),
    },
    required: ['prompt'],
    arrayOutput: false,
    defaultFormat: 'jpg',
  },
  'google/nano-banana-2': {
    properties: {
      prompt: str,
      image_input: uris(14),
      aspect_ratio: enumOf(...NANO_RATIOS, '1:4', '4:1', '1:8', '8:1'),
      resolution: enumOf('1K', '2K', '4K'),
      google_search: bool,
      image_search: bool,
      output_format: enumOf('jpg', 'png'),
    },
    required: ['prompt'],
    arrayOutput: false,
    defaultFormat: 'jpg',
  },
  'openai/gpt-image-1': {
    properties: {
      openai_api_key: str,
      prompt: str,
      aspect_ratio: enumOf('1:1', '3:2', '2:3'),
      input_fidelity: enumOf('low', 'high'),
      input_images: uris(),
      number_of_images: int(1, 10),
      quality: enumOf('low', 'medium', 'high', 'auto'),
      background: enumOf('auto', 'transparent', 'opaque'),
      output_compression: int(0, 100),
      output_format: enumOf('png', 'jpeg', 'webp'),
      moderation: enumOf('auto', 'low'),
      user_id: str,
    },
    required: ['openai_api_key', 'prompt'],
    arrayOutput: true,
    countField: 'number_of_images',
    defaultFormat: 'webp',
  },
  'ideogram-ai/ideogram-v3-turbo': IDEOGRAM,
  'ideogram-ai/ideogram-v3-balanced': IDEOGRAM,
  'ideogram-ai/ideogram-v3-quality': IDEOGRAM,
};

const TOP_LEVEL_FIELDS = new Set(['input', 'webhook', 'webhook_events_filter', 'stream']);
const CONTENT_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
};

export class ReplicateFake {
  readonly options: Required<ReplicateFakeOptions>;
  readonly predictions: ReplicateFakePrediction[] = [];
  readonly cancels: { id: string; statusBefore: string; at: number }[] = [];
  readonly requests: { method: string; path: string; authorization: string | undefined }[] = [];
  /** Requests that reached the delivery (output) origin, with any Authorization they carried. */
  readonly deliveryRequests: { path: string; authorization: string | undefined }[] = [];
  private readonly state = new Map<string, FakePrediction>();
  private readonly faults: (ReplicateFault & { remaining: number })[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly createTimes: number[] = [];
  private api: Server | undefined;
  private delivery: Server | undefined;
  private apiUrl = '';
  private deliveryUrl = '';

  constructor(options: ReplicateFakeOptions = {}) {
    this.options = { ...DEFAULTS, nsfwWords: [], sensitiveWords: [], errorWords: [], ...options };
  }

  get url(): string {
    if (!this.api) throw new Error('ReplicateFake: not started');
    return this.apiUrl;
  }

  get outputOrigin(): string {
    return this.deliveryUrl;
  }

  async start(): Promise<{ url: string; close: () => Promise<void> }> {
    this.api = await this.listen((req, res) => this.handleApi(req, res));
    this.apiUrl = `http://127.0.0.1:${(this.api.address() as AddressInfo).port}`;
    this.delivery = await this.listen((req, res) => this.handleDelivery(req, res));
    this.deliveryUrl = `http://127.0.0.1:${(this.delivery.address() as AddressInfo).port}`;
    return { url: this.apiUrl, close: () => this.close() };
  }

  async close(): Promise<void> {
    const servers = [this.api, this.delivery].filter((s): s is Server => s !== undefined);
    this.api = undefined;
    this.delivery = undefined;
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  inject(fault: ReplicateFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Moves every clock of a prediction back, as if `ms` had passed (expiry without waiting). */
  age(id: string, ms: number): void {
    const p = this.state.get(id);
    if (!p) throw new Error(`ReplicateFake: no prediction ${id}`);
    p.createdAt -= ms;
    if (p.deadline !== undefined) p.deadline -= ms;
    if (p.canceledAt !== undefined) p.canceledAt -= ms;
  }

  statusOf(id: string): string | undefined {
    const p = this.state.get(id);
    return p ? (this.view(p).status as string) : undefined;
  }

  requestCount(method: string, pathPrefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }

  private async listen(
    handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  ): Promise<Server> {
    const server = createServer((req, res) => {
      handler(req, res).catch((error: unknown) => {
        if (!res.headersSent) problem(res, 500, 'Internal server error', String(error));
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  private takeFault(route: ReplicateFault['on']): ReplicateFault | undefined {
    const index = this.faults.findIndex((f) => f.on === 'any' || f.on === route);
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  /** Answers a fault that replaces the answer; returns the fault when it only corrupts one. */
  private async applyFault(
    route: ReplicateFault['on'],
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ handled: boolean; malformed?: ReplicateFault['malformed'] }> {
    const fault = this.takeFault(route);
    if (!fault) return { handled: false };
    if (fault.malformed) return { handled: false, malformed: fault.malformed };
    await readBody(req);
    if (fault.hang) return { handled: true };
    const status = fault.status ?? 503;
    const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
    if (fault.body !== undefined) json(res, status, fault.body, headers);
    else problem(res, status, `Injected ${status}`, `injected fault on ${route}`, headers);
    return { handled: true };
  }

  private async handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.apiUrl);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const authorization = req.headers.authorization;
    this.requests.push({ method, path, authorization });

    const create = /^\/v1\/models\/([^/]+)\/([^/]+)\/predictions$/.exec(path);
    const get = /^\/v1\/predictions\/([^/]+)$/.exec(path);
    const cancel = /^\/v1\/predictions\/([^/]+)\/cancel$/.exec(path);
    const route: ReplicateFault['on'] | undefined =
      method === 'POST' && create
        ? 'create'
        : method === 'GET' && get
          ? 'get'
          : method === 'POST' && cancel
            ? 'cancel'
            : undefined;
    if (!route) {
      await readBody(req);
      return problem(res, 404, 'Not found', 'The requested resource could not be found.');
    }
    const fault = await this.applyFault(route, req, res);
    if (fault.handled) return;
    if (!this.authorised(req, res)) {
      await readBody(req);
      return;
    }
    let answer:
      { status: number; body: Record<string, unknown>; headers?: Record<string, string> } | undefined;
    if (route === 'create' && create) {
      answer = await this.create(
        req,
        res,
        `${decodeURIComponent(create[1]!)}/${decodeURIComponent(create[2]!)}`,
      );
    } else {
      await readBody(req);
      const id = decodeURIComponent((get ?? cancel)![1]!);
      const p = this.state.get(id);
      if (!p) return problem(res, 404, 'Not found', 'The requested resource could not be found.');
      if (route === 'cancel') {
        const before = this.view(p).status as string;
        this.cancels.push({ id, statusBefore: before, at: Date.now() });
        if (before === 'starting' || before === 'processing') p.canceledAt = Date.now();
      }
      answer = { status: 200, body: this.view(p) };
    }
    if (!answer) return;
    if (fault.malformed === 'not_json') {
      res.writeHead(answer.status, { 'content-type': 'text/html' });
      res.end('<html>502 Bad Gateway</html>');
      return;
    }
    const body = { ...answer.body };
    if (fault.malformed === 'no_id') delete body.id;
    if (fault.malformed === 'bad_status') body.status = 'exploded';
    if (fault.malformed === 'bad_output') {
      body.status = 'succeeded';
      body.output = 'not a url';
    }
    json(res, answer.status, body, answer.headers);
  }

  private authorised(req: IncomingMessage, res: ServerResponse): boolean {
    const header = req.headers.authorization ?? '';
    if (header !== `Bearer ${this.options.apiKey}`) {
      problem(res, 401, 'Unauthenticated', 'You did not pass a valid authentication token');
      return false;
    }
    return true;
  }

  private async create(
    req: IncomingMessage,
    res: ServerResponse,
    modelName: string,
  ): Promise<{ status: number; body: Record<string, unknown> } | undefined> {
    const raw = await readBody(req);
    const model = REPLICATE_FAKE_MODELS[modelName];
    if (!model) {
      problem(res, 404, 'Not found', `Model ${modelName} not found, or not an official model`);
      return undefined;
    }
    const prefer = header(req, 'prefer');
    if (prefer !== undefined && !/^wait(=([1-9]|[1-9][0-9]|60))?$/.test(prefer)) {
      invalid(res, [
        { type: 'pattern', field: 'Prefer', description: 'Prefer must match wait=N with N in 1–60' },
      ]);
      return undefined;
    }
    const cancelAfter = header(req, 'cancel-after');
    const cancelAfterMs = cancelAfter === undefined ? undefined : parseDuration(cancelAfter);
    if (cancelAfter !== undefined && (cancelAfterMs === undefined || cancelAfterMs < 5000)) {
      invalid(res, [
        {
          type: 'invalid',
          field: 'Cancel-After',
          description: 'Cancel-After must be a duration of at least 5s',
        },
      ]);
      return undefined;
    }
    let body: unknown;
    try {
      body = JSON.parse(raw.toString('utf8'));
    } catch {
      problem(res, 400, 'Invalid JSON', 'The request body is not valid JSON');
      return undefined;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      invalid(res, [
        { type: 'invalid_type', field: '(root)', description: 'Invalid type. Expected: object' },
      ]);
      return undefined;
    }
    const issues: { type: string; field: string; description: string }[] = [];
    for (const key of Object.keys(body)) {
      if (!TOP_LEVEL_FIELDS.has(key)) {
        issues.push({
          type: 'additional_property_not_allowed',
          field: '',
          description: `Additional property ${key} is not allowed`,
        });
      }
    }
    const input = (body as { input?: unknown }).input;
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      issues.push({ type: 'required', field: '', description: 'input is required' });
    } else {
      const fields = input as Record<string, unknown>;
      for (const name of model.required) {
        if (!(name in fields))
          issues.push({ type: 'required', field: 'input', description: `${name} is required` });
      }
      for (const [name, value] of Object.entries(fields)) {
        const check = model.properties[name];
        if (!check) {
          issues.push({
            type: 'additional_property_not_allowed',
            field: 'input',
            description: `Additional property ${name} is not allowed`,
          });
          continue;
        }
        const problemText = check(value);
        if (problemText)
          issues.push({
            type: 'invalid',
            field: `input.${name}`,
            description: `${name}: ${problemText} (given ${describe(value)})`,
          });
      }
    }
    if (issues.length > 0) {
      invalid(res, issues);
      return undefined;
    }
    const now = Date.now();
    while (this.createTimes.length > 0 && now - (this.createTimes[0] as number) >= 1000)
      this.createTimes.shift();
    if (this.createTimes.length >= this.options.createsPerSecond) {
      problem(res, 429, 'Request was throttled.', 'Request was throttled. Expected available in 1 second.', {
        'retry-after': '1',
      });
      return undefined;
    }
    if (!this.options.credit) {
      problem(
        res,
        402,
        'Insufficient credit',
        'You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing to purchase credit.',
      );
      return undefined;
    }
    this.createTimes.push(now);

    const fields = input as Record<string, unknown>;
    const prompt = typeof fields.prompt === 'string' ? fields.prompt : '';
    const format = typeof fields.output_format === 'string' ? fields.output_format : model.defaultFormat;
    const [width, height] = sizeOf(fields);
    const id = randomBytes(13)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'q')
      .slice(0, 26);
    const p: FakePrediction = {
      id,
      model: modelName,
      input: fields,
      prompt,
      createdAt: now,
      deadline: cancelAfterMs === undefined ? undefined : now + cancelAfterMs,
      canceledAt: undefined,
      outcome: this.outcomeFor(prompt),
      count:
        model.countField && typeof fields[model.countField] === 'number'
          ? (fields[model.countField] as number)
          : 1,
      format,
      width,
      height,
    };
    this.state.set(id, p);
    this.predictions.push({ id, model: modelName, input: fields, prefer, cancelAfter, at: now });

    if (prefer !== undefined) {
      const waitMs = (prefer === 'wait' ? 60 : Number(prefer.slice('wait='.length))) * 1000;
      const until = Date.now() + waitMs;
      while (Date.now() < until && !isTerminal(this.view(p).status as string) && this.api) {
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
    // Without Prefer: wait the create answers at once, before any work: `starting`.
    const view = prefer === undefined ? this.view(p, true) : this.view(p);
    return { status: isTerminal(view.status as string) ? 201 : 202, body: view };
  }

  private outcomeFor(prompt: string): FakePrediction['outcome'] {
    const has = (words: string[]): boolean =>
      words.some((w) => prompt.toLowerCase().includes(w.toLowerCase()));
    if (has(this.options.nsfwWords)) return 'nsfw';
    if (has(this.options.sensitiveWords)) return 'sensitive';
    if (has(this.options.errorWords)) return 'error';
    return 'succeeded';
  }

  /** The prediction as `GET /v1/predictions/{id}` shows it now. */
  private view(p: FakePrediction, asCreated = false): Record<string, unknown> {
    const now = asCreated ? p.createdAt - 1 : Date.now();
    const startedAt = p.createdAt + this.options.startingMs;
    const endsAt = startedAt + this.options.runMs;
    // The first of: cancel request, Cancel-After deadline, natural end.
    const stopAt = Math.min(p.canceledAt ?? Infinity, p.deadline ?? Infinity);
    let status: string;
    let completedAt: number | undefined;
    if (stopAt <= now && stopAt < endsAt) {
      const byRequest = p.canceledAt !== undefined && p.canceledAt <= (p.deadline ?? Infinity);
      // A deadline reached in the queue aborts; one reached while running (or a request) cancels.
      status = !byRequest && stopAt < startedAt ? 'aborted' : 'canceled';
      completedAt = stopAt;
    } else if (now >= endsAt) {
      status = p.outcome === 'succeeded' ? 'succeeded' : 'failed';
      completedAt = endsAt;
    } else {
      status = now >= startedAt ? 'processing' : 'starting';
    }
    const expired = completedAt !== undefined && now > completedAt + this.options.outputTtlMs;
    const steps = 28;
    const fraction =
      this.options.runMs > 0 ? Math.min(Math.max((now - startedAt) / this.options.runMs, 0), 1) : 1;
    const done = status === 'succeeded' ? steps : Math.floor(fraction * steps);
    const logs =
      status === 'starting' || status === 'aborted'
        ? ''
        : `Using seed: ${typeof p.input.seed === 'number' ? p.input.seed : 42}\n${Math.round((done / steps) * 100)}%|${'█'.repeat(Math.round(done / 3))}| ${done}/${steps} [00:01<00:01, 20.0it/s]\n`;
    const ext = p.format === 'jpeg' ? 'jpeg' : p.format;
    const urls = Array.from(
      { length: p.count },
      (_, i) => `${this.deliveryUrl}/xezq/${p.id}/out-${i}.${ext}`,
    );
    const model = REPLICATE_FAKE_MODELS[p.model] as FakeModel;
    const errors = {
      nsfw: 'NSFW content detected. Try running it again, or try a different prompt.',
      sensitive:
        'The input or output was flagged as sensitive. Please try again with different inputs. (E005)',
      error: 'Prediction failed: CUDA error: an illegal memory access was encountered',
    };
    const apiOrigin = this.options.foreignUrls ? this.deliveryUrl : this.apiUrl;
    return {
      id: p.id,
      model: p.model,
      version: 'hidden',
      input: expired ? {} : p.input,
      logs: expired ? '' : logs,
      output: status === 'succeeded' && !expired ? (model.arrayOutput ? urls : urls[0]) : null,
      data_removed: expired,
      error: status === 'failed' && p.outcome !== 'succeeded' ? errors[p.outcome] : null,
      status,
      source: 'api',
      created_at: new Date(p.createdAt).toISOString(),
      ...(status !== 'starting' && status !== 'aborted'
        ? { started_at: new Date(startedAt).toISOString() }
        : {}),
      ...(completedAt !== undefined ? { completed_at: new Date(completedAt).toISOString() } : {}),
      ...(p.deadline !== undefined ? { deadline: new Date(p.deadline).toISOString() } : {}),
      ...(completedAt !== undefined
        ? {
            metrics: {
              predict_time: this.options.runMs / 1000,
              total_time: (completedAt - p.createdAt) / 1000,
            },
          }
        : {}),
      urls: {
        web: `https://replicate.com/p/${p.id}`,
        get: `${apiOrigin}/v1/predictions/${p.id}`,
        cancel: `${apiOrigin}/v1/predictions/${p.id}/cancel`,
      },
    };
  }

  private async handleDelivery(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await readBody(req);
    const url = new URL(req.url ?? '/', this.deliveryUrl);
    this.deliveryRequests.push({ path: url.pathname, authorization: req.headers.authorization });
    const fault = await this.applyFault('output', req, res);
    if (fault.handled) return;
    const match = /^\/xezq\/([^/]+)\/out-(\d+)\.([a-z]+)$/.exec(url.pathname);
    const p = match ? this.state.get(match[1]!) : undefined;
    if (!p || !match) return text(res, 404, 'Not Found');
    const view = this.view(p);
    if (view.status !== 'succeeded') return text(res, 404, 'Not Found');
    if (view.data_removed === true) return text(res, this.options.expiredStatus, 'Not Found');
    const index = Number(match[2]);
    if (index >= p.count) return text(res, 404, 'Not Found');
    const spec = {
      model: p.model,
      prompt: p.prompt,
      seed: typeof p.input.seed === 'number' ? p.input.seed : undefined,
      index,
      width: p.width,
      height: p.height,
    };
    const format = match[3] === 'png' ? 'png' : match[3] === 'webp' ? 'webp' : 'jpeg';
    const bytes = format === 'png' ? renderSandboxImage(spec) : await renderSandboxImageAs(spec, format);
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[match[3]!] ?? 'application/octet-stream',
      'content-length': bytes.length,
    });
    res.end(bytes);
  }
}

export function createReplicateFake(options: ReplicateFakeOptions = {}): ReplicateFake {
  return new ReplicateFake(options);
}

function isTerminal(status: string): boolean {
  return status === 'succeeded' || status === 'failed' || status === 'canceled' || status === 'aborted';
}

/** `30`, `30s`, `5m`, `1h30m45s`, as Cancel-After takes them. */
export function parseDuration(value: string): number | undefined {
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$/.exec(value.trim());
  if (!match || value.trim() === '') return undefined;
  const [, h, m, s] = match;
  return ((Number(h ?? 0) * 60 + Number(m ?? 0)) * 60 + Number(s ?? 0)) * 1000;
}

/** Around one megapixel for the ratio asked (or the custom size), small enough to render quickly. */
function sizeOf(input: Record<string, unknown>): [number, number] {
  if (
    input.aspect_ratio === 'custom' &&
    typeof input.width === 'number' &&
    typeof input.height === 'number'
  ) {
    return [input.width, input.height];
  }
  const ratio = typeof input.aspect_ratio === 'string' ? /^(\d+):(\d+)$/.exec(input.aspect_ratio) : null;
  const [w, h] = ratio ? [Number(ratio[1]), Number(ratio[2])] : [1, 1];
  const scale = Math.sqrt(1_048_576 / (w * h));
  const round = (x: number): number => Math.max(64, Math.round(x / 16) * 16);
  return [round(w * scale), round(h * scale)];
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

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  type = 'application/json',
): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(payload), ...headers });
  res.end(payload);
}

function problem(
  res: ServerResponse,
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): void {
  json(res, status, { title, detail, status }, headers, 'application/problem+json');
}

function invalid(
  res: ServerResponse,
  invalidFields: { type: string; field: string; description: string }[],
): void {
  json(
    res,
    422,
    {
      title: 'Input validation failed',
      detail: invalidFields.map((f) => `- ${f.field || '(root)'}: ${f.description}`).join('\n'),
      status: 422,
      invalid_fields: invalidFields,
    },
    {},
    'application/problem+json',
  );
}

function text(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain' });
  res.end(body);
}

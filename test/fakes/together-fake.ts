import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { renderSandboxImageAs } from '../../providers/sandbox/render';

/**
 * A fake of Together AI's image generation endpoint on a real HTTP port, reproducing what
 * provider-specs/together.yaml (`POST /images/generations`, `ImageResponse`, `ErrorData`), the
 * `together-ai` SDK and docs.together.ai document:
 *
 * - `POST /v1/images/generations` with `Authorization: Bearer <key>` and a JSON body; a missing
 *   or wrong key is 401, a body that is not a JSON object 400, an unknown model 404.
 * - Every documented field checked: `prompt` and `model` required; `width`/`height` integers in
 *   256–1920 and multiples of 8 (docs: "Keep dimensions to multiples of 8"); `steps` within the
 *   model's limits (FLUX.1 [schnell] 1–12, FLUX.2 [dev] 1–50); `n` 1–4; `seed` an integer;
 *   `response_format` `base64 | url`; `output_format` `jpeg | png`; `reference_images` only for
 *   FLUX.2 [dev] (at most 6) and `image_url` for neither (FLUX.2 [dev] takes only
 *   `reference_images`); `negative_prompt` refused for both (neither model takes one).
 *   Bad input is 400 `{error: {message, type: "invalid_request_error", param, code}}`.
 * - Synchronous: after `latencyMs` it answers `{id, model, object: "list", data: [{index,
 *   b64_json, type: "b64_json", timings} | {index, url, type: "url"}]}`; images are real PNG or
 *   JPEG bytes at the width and height asked, and URLs point at images the fake serves itself.
 * - The safety checker: prompts with an unsafe word get 422 unless `disable_safety_checker`.
 * - Dynamic rate limits: over `maxRequestsPerWindow` per key, 429 with `type:
 *   "dynamic_request_limited"`, `x-ratelimit-reset` and (optionally) `Retry-After`.
 * - Injected faults: any status, Retry-After, hangs, malformed answers.
 *
 * Where the documents are silent the fake chooses, and says so: fields it does not know are
 * accepted (the docs tell Python users to pass extra fields such as `aspect_ratio` through
 * `extra_body`, so the API does not refuse unknown keys) but recorded in `unknownFields`, so a
 * test can assert that the adapter sends none; the negative-prompt and reference-image refusals
 * are stricter than Together may be, so a parameter the model would ignore fails a test.
 */

export interface TogetherFakeOptions {
  /** The key `Authorization: Bearer` must carry. */
  apiKey?: string;
  /** How long a generation takes before the answer. */
  latencyMs?: number;
  /** Requests per key per window before 429. */
  maxRequestsPerWindow?: number;
  windowMs?: number;
  /** Retry-After on the rate-limit 429 (Together does not promise one); null to send none. */
  retryAfter?: string | null;
  /** Prompts containing one of these (case-insensitive) trip the safety checker: 422. */
  unsafeWords?: string[];
}

export interface TogetherFault {
  on: 'generate' | 'image' | 'any';
  /** Answer with this status at once (e.g. 500, 503, 429). */
  status?: number;
  retryAfter?: string;
  /** Extra headers for `status`. */
  headers?: Record<string, string>;
  /** Never answer (the socket stays open until the client gives up or the fake closes). */
  hang?: boolean;
  /** Generate normally, then corrupt the 200 answer. */
  malformed?: 'not_json' | 'no_data' | 'bad_base64' | 'not_an_image' | 'missing_image' | 'fewer_images';
  /** How many matching requests it hits; default 1. */
  times?: number;
  /** Body for `status`; default Together's ErrorData shape. */
  body?: unknown;
}

export interface TogetherFakeSubmission {
  id: string;
  body: Record<string, unknown>;
  /** Fields outside the documented request schema (accepted, as Together does). */
  unknownFields: string[];
  contentType: string;
  apiKey: string;
  at: number;
}

export interface TogetherFakeModel {
  steps: { min: number; max: number; default: number };
  maxReferenceImages: number;
}

/** The models the fake serves, with Together's documented limits. */
export const TOGETHER_FAKE_MODELS: Record<string, TogetherFakeModel> = {
  'black-forest-labs/FLUX.1-schnell': { steps: { min: 1, max: 12, default: 4 }, maxReferenceImages: 0 },
  'black-forest-labs/FLUX.2-dev': { steps: { min: 1, max: 50, default: 20 }, maxReferenceImages: 6 },
};

const KNOWN_FIELDS = new Set([
  'prompt',
  'model',
  'steps',
  'image_url',
  'seed',
  'n',
  'height',
  'width',
  'negative_prompt',
  'response_format',
  'guidance_scale',
  'output_format',
  'image_loras',
  'reference_images',
  'disable_safety_checker',
]);

const DEFAULTS = {
  apiKey: 'together-test-key',
  latencyMs: 0,
  maxRequestsPerWindow: 1000,
  windowMs: 60_000,
  retryAfter: '2' as string | null,
};

const GENERATE_PATH = '/v1/images/generations';
const IMAGE_PATH = /^\/shrt\/([A-Za-z0-9-]+)\.(png|jpeg)$/;

interface StoredImage {
  bytes: Buffer;
  contentType: string;
}

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = 'invalid_request_error',
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
  }

  body(): unknown {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export class TogetherFake {
  readonly options: Required<TogetherFakeOptions>;
  readonly submissions: TogetherFakeSubmission[] = [];
  readonly requests: { method: string; path: string; status: number; authorization?: string }[] = [];
  private readonly images = new Map<string, StoredImage>();
  private readonly windows = new Map<string, number[]>();
  private readonly faults: (TogetherFault & { remaining: number })[] = [];
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private baseUrl = '';

  constructor(options: TogetherFakeOptions = {}) {
    this.options = { ...DEFAULTS, unsafeWords: [], ...options };
  }

  get url(): string {
    if (!this.server) throw new Error('TogetherFake: not started');
    return this.baseUrl;
  }

  async start(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          this.json(req, res, 500, new ApiError(500, String(error), 'server_error').body());
        }
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

  /** Queues a fault for the next matching request(s). */
  inject(fault: TogetherFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Requests that reached the fake for a route, answered or not. */
  requestCount(method: string, pathPrefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = req.method ?? 'GET';
    const route =
      url.pathname === GENERATE_PATH ? 'generate' : IMAGE_PATH.test(url.pathname) ? 'image' : 'other';
    const raw = await readBody(req);

    const fault = route === 'other' ? undefined : this.takeFault(route);
    if (fault?.hang) {
      this.requests.push({ method, path: url.pathname, status: 0, ...this.authOf(req) });
      return;
    }
    if (fault?.status !== undefined) {
      const headers: Record<string, string> = {
        ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}),
        ...fault.headers,
      };
      const body =
        fault.body ??
        new ApiError(
          fault.status,
          `injected ${fault.status}`,
          fault.status >= 500 ? 'server_error' : 'invalid_request_error',
        ).body();
      return this.json(req, res, fault.status, body, headers);
    }

    if (route === 'image' && method === 'GET') return this.serveImage(req, res, url);
    if (route === 'generate') {
      if (method !== 'POST') return this.json(req, res, 405, new ApiError(405, 'Method Not Allowed').body());
      return this.generate(req, res, raw, fault?.malformed);
    }
    return this.json(req, res, 404, new ApiError(404, `Not Found: ${url.pathname}`).body());
  }

  private takeFault(route: 'generate' | 'image'): TogetherFault | undefined {
    const index = this.faults.findIndex((f) => f.on === 'any' || f.on === route);
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private authOf(req: IncomingMessage): { authorization?: string } {
    const value = req.headers.authorization;
    return typeof value === 'string' ? { authorization: value } : {};
  }

  private async generate(
    req: IncomingMessage,
    res: ServerResponse,
    raw: Buffer,
    malformed: TogetherFault['malformed'],
  ): Promise<void> {
    const auth = req.headers.authorization ?? '';
    const key = /^Bearer (.+)$/.exec(auth)?.[1];
    if (key !== this.options.apiKey) {
      return this.json(
        req,
        res,
        401,
        new ApiError(
          401,
          'Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.',
          'invalid_request_error',
          null,
          'invalid_api_key',
        ).body(),
      );
    }

    // Together's dynamic request limit, approximated per key over a sliding window.
    const now = Date.now();
    const recent = (this.windows.get(key) ?? []).filter((at) => now - at < this.options.windowMs);
    if (recent.length >= this.options.maxRequestsPerWindow) {
      this.windows.set(key, recent);
      const resetSeconds = Math.max(1, Math.ceil((this.options.windowMs - (now - recent[0]!)) / 1000));
      const headers: Record<string, string> = {
        'x-ratelimit-limit': String(this.options.maxRequestsPerWindow),
        'x-ratelimit-remaining': '0',
        'x-ratelimit-reset': String(resetSeconds),
        ...(this.options.retryAfter === null ? {} : { 'retry-after': this.options.retryAfter }),
      };
      return this.json(
        req,
        res,
        429,
        new ApiError(
          429,
          'You have exceeded your dynamic request rate for this model.',
          'dynamic_request_limited',
        ).body(),
        headers,
      );
    }
    this.windows.set(key, [...recent, now]);

    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    let input: ValidInput;
    let body: Record<string, unknown>;
    try {
      if (contentType !== 'application/json') {
        throw new ApiError(
          400,
          `Unsupported content type "${contentType || 'none'}"; send application/json.`,
        );
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new ApiError(400, 'Request body is not valid JSON.');
      }
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
        throw new ApiError(400, 'Request body must be a JSON object.');
      }
      body = parsed as Record<string, unknown>;
      input = validate(body);
    } catch (error) {
      if (error instanceof ApiError) return this.json(req, res, error.status, error.body());
      throw error;
    }

    const unsafe = this.options.unsafeWords.some((w) => input.prompt.toLowerCase().includes(w.toLowerCase()));
    if (unsafe && body.disable_safety_checker !== true) {
      return this.json(
        req,
        res,
        422,
        new ApiError(422, 'The prompt was flagged by the safety checker as potentially NSFW content.').body(),
      );
    }

    const id = randomUUID();
    this.submissions.push({
      id,
      body,
      unknownFields: Object.keys(body).filter((k) => !KNOWN_FIELDS.has(k)),
      contentType,
      apiKey: key,
      at: Date.now(),
    });
    if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
    if (res.destroyed) return;

    const seed = input.seed ?? Math.floor(Math.random() * 2_147_483_647);
    const format = input.outputFormat;
    const rendered = await Promise.all(
      Array.from({ length: input.n }, (_, index) =>
        renderSandboxImageAs(
          { model: input.model, prompt: input.prompt, seed, index, width: input.width, height: input.height },
          format,
        ),
      ),
    );
    const data = rendered.map((bytes, index) => {
      if (input.responseFormat === 'base64') {
        return { index, b64_json: bytes.toString('base64'), type: 'b64_json', timings: { inference: 0.42 } };
      }
      const imageId = `${id}-${index}`;
      this.images.set(imageId, { bytes, contentType: `image/${format}` });
      return { index, url: `${this.baseUrl}/shrt/${imageId}.${format}`, type: 'url' };
    });
    const answer = { id, model: input.model, object: 'list', data };

    switch (malformed) {
      case 'not_json':
        return this.text(req, res, 200, '<html>upstream hiccup</html>', 'text/html');
      case 'no_data':
        return this.json(req, res, 200, { id, model: input.model, object: 'list' });
      case 'bad_base64':
        return this.json(req, res, 200, {
          ...answer,
          data: data.map((d) => ({ index: d.index, b64_json: '%%% not base64 %%%', type: 'b64_json' })),
        });
      case 'not_an_image':
        return this.json(req, res, 200, {
          ...answer,
          data: data.map((d) => ({
            index: d.index,
            b64_json: Buffer.from('this is text, not an image').toString('base64'),
            type: 'b64_json',
          })),
        });
      case 'missing_image':
        return this.json(req, res, 200, {
          ...answer,
          data: data.map((d) => ({ index: d.index, type: d.type })),
        });
      case 'fewer_images':
        return this.json(req, res, 200, { ...answer, data: data.slice(0, -1) });
      default:
        return this.json(req, res, 200, answer);
    }
  }

  private serveImage(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const imageId = IMAGE_PATH.exec(url.pathname)?.[1] ?? '';
    const image = this.images.get(imageId);
    if (!image) return this.json(req, res, 404, new ApiError(404, 'Not Found').body());
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, status: 200, ...this.authOf(req) });
    res.writeHead(200, { 'content-type': image.contentType, 'content-length': image.bytes.length });
    res.end(image.bytes);
  }

  private json(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    this.text(req, res, status, JSON.stringify(body), 'application/json', headers);
  }

  private text(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: string,
    contentType: string,
    headers: Record<string, string> = {},
  ): void {
    this.requests.push({
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', this.baseUrl).pathname,
      status,
      ...this.authOf(req),
    });
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': contentType, ...headers });
    res.end(body);
  }
}

export function createTogetherFake(options: TogetherFakeOptions = {}): TogetherFake {
  return new TogetherFake(options);
}

interface ValidInput {
  model: string;
  prompt: string;
  width: number;
  height: number;
  n: number;
  seed: number | undefined;
  responseFormat: 'base64' | 'url';
  outputFormat: 'jpeg' | 'png';
}

/** Checks a body against the documented request; throws ApiError naming the first problem. */
function validate(body: Record<string, unknown>): ValidInput {
  const bad = (param: string, message: string, status = 400): ApiError =>
    new ApiError(status, message, 'invalid_request_error', param);
  const integer = (name: string, min: number, max: number, fallback: number): number => {
    const value = body[name];
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw bad(name, `${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}.`);
    }
    return value;
  };

  const { prompt, model } = body;
  if (typeof prompt !== 'string' || prompt.trim() === '') throw bad('prompt', 'prompt is required.');
  if (typeof model !== 'string' || model === '') throw bad('model', 'model is required.');
  const shape = TOGETHER_FAKE_MODELS[model];
  if (!shape) {
    throw new ApiError(
      404,
      `Unable to access model ${model}. Please visit https://api.together.ai/models to view the list of supported models.`,
      'invalid_request_error',
      'model',
      'model_not_available',
    );
  }

  const width = integer('width', 256, 1920, 1024);
  const height = integer('height', 256, 1920, 1024);
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (value % 8 !== 0) throw bad(name, `${name} must be a multiple of 8, got ${value}.`);
  }
  integer('steps', shape.steps.min, shape.steps.max, shape.steps.default);
  const n = integer('n', 1, 4, 1);
  const seed = body.seed === undefined ? undefined : integer('seed', 0, 4_294_967_295, 0);

  const responseFormat = body.response_format ?? 'url';
  if (responseFormat !== 'base64' && responseFormat !== 'url') {
    throw bad(
      'response_format',
      `response_format must be one of base64, url; got ${JSON.stringify(responseFormat)}.`,
    );
  }
  const outputFormat = body.output_format ?? 'jpeg';
  if (outputFormat !== 'jpeg' && outputFormat !== 'png') {
    throw bad(
      'output_format',
      `output_format must be one of jpeg, png; got ${JSON.stringify(outputFormat)}.`,
    );
  }
  if (body.negative_prompt !== undefined) {
    throw bad('negative_prompt', `negative_prompt is not supported for model ${model}.`);
  }
  if (body.image_url !== undefined) {
    throw bad(
      'image_url',
      `image_url is not supported for model ${model}; use reference_images where supported.`,
    );
  }
  const references = body.reference_images;
  if (references !== undefined) {
    if (
      !Array.isArray(references) ||
      !references.every((r) => typeof r === 'string' && /^https?:\/\//.test(r))
    ) {
      throw bad('reference_images', 'reference_images must be an array of http(s) URLs.');
    }
    if (references.length > shape.maxReferenceImages) {
      throw bad(
        'reference_images',
        shape.maxReferenceImages === 0
          ? `reference_images is not supported for model ${model}.`
          : `reference_images takes at most ${shape.maxReferenceImages} images for ${model}.`,
      );
    }
  }
  if (body.guidance_scale !== undefined && typeof body.guidance_scale !== 'number') {
    throw bad('guidance_scale', 'guidance_scale must be a number.');
  }
  if (body.disable_safety_checker !== undefined && typeof body.disable_safety_checker !== 'boolean') {
    throw bad('disable_safety_checker', 'disable_safety_checker must be a boolean.');
  }
  return { model, prompt, width, height, n, seed, responseFormat, outputFormat };
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

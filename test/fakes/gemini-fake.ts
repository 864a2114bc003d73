import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { renderSandboxImage } from '../../providers/sandbox/render';

/**
 * A fake of Google's Gemini API image generation on a real HTTP port, reproducing what
 * provider-specs/gemini.openapi.json and ai.google.dev document for
 * `POST /v1beta/models/{model}:generateContent`: the key in `x-goog-api-key` or `?key=`, Google's
 * error body `{error: {code, message, status, details}}` (400 INVALID_ARGUMENT for a bad body or a
 * bad key, 403 PERMISSION_DENIED without one, 404 NOT_FOUND for an unknown model, 429
 * RESOURCE_EXHAUSTED with QuotaFailure and RetryInfo, 503 UNAVAILABLE when overloaded), camelCase
 * and snake_case inline data, and the HTTP 200 refusals (a `promptFeedback.blockReason`, each
 * `finishReason`, an answer in words) triggered by tokens in the prompt.
 *
 * Images are real PNGs from renderSandboxImage. Their size follows Gemini's 1K table for the aspect
 * ratio, times 0.5/1/2/4 for 512/1K/2K/4K, times `renderScale` (1/8 by default, so a 4K image
 * renders at 672x384 rather than 5376x3072 and tests stay fast; proportions and the relative tier
 * sizes hold). As on the real API, an `imageSize` in the wrong case ("2k") is silently ignored and
 * the model's smallest size is served.
 */

/** Prompt tokens that make the fake refuse the way Gemini does (HTTP 200). */
export const GEMINI_FAKE_TRIGGERS = {
  /** `[FINISH:<REASON>]` ends the candidate with that finishReason and no image. */
  finish: (reason: string): string => `[FINISH:${reason}]`,
  /** `[BLOCK:<REASON>]` blocks the prompt: promptFeedback.blockReason, no candidates. */
  block: (reason: string): string => `[BLOCK:${reason}]`,
  /** The model answers in words only (finishReason STOP, no image part). */
  textOnly: '[TEXT_ONLY]',
} as const;

export interface GeminiFakeModel {
  /** Takes responseModalities IMAGE (a text model refuses it with 400). */
  image: boolean;
  aspectRatios: readonly string[];
  /** imageSize values it takes; empty: an imageSize is refused (400). */
  imageSizes: readonly string[];
  maxInputImages: number;
  /** Output tokens one image costs, per size. */
  imageTokens: Record<string, number>;
}

const RATIOS = ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'];

export const GEMINI_FAKE_MODELS: Record<string, GeminiFakeModel> = {
  'gemini-2.5-flash-image': {
    image: true,
    aspectRatios: RATIOS,
    imageSizes: [],
    maxInputImages: 3,
    imageTokens: { '1K': 1290 },
  },
  'gemini-3.1-flash-image': {
    image: true,
    aspectRatios: [...RATIOS, '1:4', '4:1', '1:8', '8:1'],
    imageSizes: ['512', '1K', '2K', '4K'],
    maxInputImages: 14,
    imageTokens: { '512': 747, '1K': 1120, '2K': 1680, '4K': 2520 },
  },
  'gemini-3-pro-image': {
    image: true,
    aspectRatios: RATIOS,
    imageSizes: ['1K', '2K', '4K'],
    maxInputImages: 14,
    imageTokens: { '1K': 1120, '2K': 1120, '4K': 2000 },
  },
  'gemini-2.5-flash': {
    image: false,
    aspectRatios: [],
    imageSizes: [],
    maxInputImages: 3000,
    imageTokens: {},
  },
};

/** Gemini's 1K output sizes per aspect ratio (ai.google.dev image-generation docs). */
const ONE_K: Record<string, [number, number]> = {
  '1:1': [1024, 1024],
  '2:3': [832, 1248],
  '3:2': [1248, 832],
  '3:4': [864, 1184],
  '4:3': [1184, 864],
  '4:5': [896, 1152],
  '5:4': [1152, 896],
  '9:16': [768, 1344],
  '16:9': [1344, 768],
  '21:9': [1536, 672],
  '1:4': [512, 2048],
  '4:1': [2048, 512],
  '1:8': [384, 3072],
  '8:1': [3072, 384],
};

const SIZE_FACTOR: Record<string, number> = { '512': 0.5, '1K': 1, '2K': 2, '4K': 4 };

const INPUT_IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif']);

export interface GeminiFakeOptions {
  apiKey?: string;
  models?: Record<string, GeminiFakeModel>;
  /** Requests per minute per key; beyond it 429 RESOURCE_EXHAUSTED with RetryInfo. */
  requestsPerMinute?: number;
  /** Delay before each answer. */
  latencyMs?: number;
  /** Rendered pixels per real pixel (see the class comment). */
  renderScale?: number;
}

export type GeminiMalformed = 'non_json' | 'no_candidates' | 'bad_base64' | 'not_an_image' | 'no_parts';

export interface GeminiFault {
  /** Answer with this status and Google's error body for it (e.g. 503 UNAVAILABLE). */
  status?: number;
  /** RetryInfo.retryDelay for a 429, e.g. "12s"; omitted when absent. */
  retryDelay?: string;
  /** A Retry-After header (Google documents none; for proxies in front of it). */
  retryAfter?: string;
  /** Never answer. */
  hang?: boolean;
  /** Answer 200 with a body the API never sends. */
  malformed?: GeminiMalformed;
  /** Answer with this exact JSON body (with `status`, default 200). */
  body?: unknown;
  /** How many requests it hits; default 1. */
  times?: number;
}

export interface GeminiFakeRequest {
  model: string;
  /** How the key came: header, query, or none. */
  auth: 'header' | 'query' | 'none';
  headers: IncomingMessage['headers'];
  query: string;
  body: unknown;
  status: number;
  at: number;
  /** The client closed the connection of a hung request (it gave up or was aborted). */
  closedByClient?: boolean;
}

interface GoogleErrorBody {
  error: { code: number; message: string; status: string; details?: unknown[] };
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

const STATUS_MESSAGES: Record<number, string> = {
  500: 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
  503: 'The model is overloaded. Please try again later.',
  504: 'Deadline expired before operation could complete.',
};

export function googleError(code: number, message: string, details?: unknown[]): GoogleErrorBody {
  return {
    error: { code, message, status: STATUS_NAMES[code] ?? 'UNKNOWN', ...(details ? { details } : {}) },
  };
}

class BadRequest extends Error {}

export class GeminiFake {
  readonly options: Required<GeminiFakeOptions>;
  readonly requests: GeminiFakeRequest[] = [];
  private readonly faults: (GeminiFault & { remaining: number })[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly windows = new Map<string, number[]>();
  private server: Server | undefined;
  private baseUrl = '';

  constructor(options: GeminiFakeOptions = {}) {
    this.options = {
      apiKey: 'gemini-test-key',
      models: GEMINI_FAKE_MODELS,
      requestsPerMinute: Number.POSITIVE_INFINITY,
      latencyMs: 0,
      renderScale: 1 / 8,
      ...options,
    };
  }

  get url(): string {
    if (!this.server) throw new Error('GeminiFake: not started');
    return this.baseUrl;
  }

  async start(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.json(res, 500, googleError(500, String(error)));
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

  inject(fault: GeminiFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Requests answered with 200 and at least one image. */
  imagesServed(): number {
    return this.requests.filter((r) => r.status === 200).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw = await readBody(req);
    const url = new URL(req.url ?? '/', this.baseUrl);
    const match = /^\/v1beta\/models\/([^/:]+):generateContent$/.exec(url.pathname);
    const headerKey = req.headers['x-goog-api-key'];
    const queryKey = url.searchParams.get('key');
    const record: GeminiFakeRequest = {
      model: match ? decodeURIComponent(match[1] as string) : '',
      auth: headerKey ? 'header' : queryKey ? 'query' : 'none',
      headers: req.headers,
      query: url.search,
      body: safeJson(raw),
      status: 0,
      at: Date.now(),
    };
    this.requests.push(record);
    const answer = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      record.status = status;
      this.json(res, status, body, headers);
    };

    const fault = this.takeFault();
    if (fault?.hang) {
      res.on('close', () => {
        record.closedByClient = true;
      });
      return;
    }
    if (this.options.latencyMs > 0) await new Promise((r) => setTimeout(r, this.options.latencyMs));
    if (fault) return this.answerFault(fault, record, res);

    if (req.method !== 'POST' || !match) {
      return answer(404, googleError(404, `Method not found: ${req.method} ${url.pathname}`));
    }
    const key = typeof headerKey === 'string' ? headerKey : (queryKey ?? '');
    if (!key) {
      return answer(
        403,
        googleError(
          403,
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        ),
      );
    }
    if (key !== this.options.apiKey) {
      return answer(
        400,
        googleError(400, 'API key not valid. Please pass a valid API key.', [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'API_KEY_INVALID',
            domain: 'googleapis.com',
          },
        ]),
      );
    }
    const limited = this.rateLimit(key);
    if (limited !== undefined) {
      return answer(
        429,
        googleError(
          429,
          'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.',
          [
            {
              '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
              violations: [
                {
                  quotaMetric: 'generativelanguage.googleapis.com/generate_content_paid_tier_requests',
                  quotaId: 'GenerateRequestsPerMinutePerProjectPerModel',
                  quotaValue: String(this.options.requestsPerMinute),
                },
              ],
            },
            { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: `${limited}s` },
          ],
        ),
      );
    }

    const modelName = record.model.replace(/^models\//, '');
    const model = this.options.models[modelName];
    if (!model) {
      return answer(
        404,
        googleError(
          404,
          `models/${modelName} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`,
        ),
      );
    }
    try {
      const body = this.generate(modelName, model, record.body, raw);
      return answer(200, body);
    } catch (error) {
      if (error instanceof BadRequest) return answer(400, googleError(400, error.message));
      throw error;
    }
  }

  private answerFault(fault: GeminiFault, record: GeminiFakeRequest, res: ServerResponse): void {
    const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
    if (fault.malformed) {
      record.status = 200;
      if (fault.malformed === 'non_json') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>502 Bad Gateway</body></html>');
        return;
      }
      this.json(res, 200, malformedBody(fault.malformed));
      return;
    }
    const status = fault.status ?? (fault.body !== undefined ? 200 : 503);
    record.status = status;
    if (fault.body !== undefined) return this.json(res, status, fault.body, headers);
    const details =
      status === 429 && fault.retryDelay
        ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: fault.retryDelay }]
        : undefined;
    const message =
      STATUS_MESSAGES[status] ??
      (status === 429 ? 'Resource has been exhausted (e.g. check quota).' : `injected ${status}`);
    this.json(res, status, googleError(status, message, details), headers);
  }

  private takeFault(): GeminiFault | undefined {
    const fault = this.faults[0];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.shift();
    return fault;
  }

  /** Seconds until the key may call again, or undefined when under its limit. */
  private rateLimit(key: string): number | undefined {
    const limit = this.options.requestsPerMinute;
    if (!Number.isFinite(limit)) return undefined;
    const now = Date.now();
    const window = (this.windows.get(key) ?? []).filter((t) => now - t < 60_000);
    this.windows.set(key, window);
    if (window.length >= limit)
      return Math.max(1, Math.ceil((60_000 - (now - (window[0] as number))) / 1000));
    window.push(now);
    return undefined;
  }

  private generate(modelName: string, model: GeminiFakeModel, body: unknown, raw: Buffer): unknown {
    if (body === undefined && raw.length > 0) {
      throw new BadRequest(
        `Invalid JSON payload received. Unexpected token.\n${raw.toString('utf8').slice(0, 40)}`,
      );
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new BadRequest('* GenerateContentRequest.contents: contents is not specified\n');
    }
    const request = body as Record<string, unknown>;
    const contents = request.contents;
    if (!Array.isArray(contents) || contents.length === 0) {
      throw new BadRequest('* GenerateContentRequest.contents: contents is not specified\n');
    }

    let prompt = '';
    let inputImages = 0;
    contents.forEach((content: unknown, c) => {
      const parts = (content as { parts?: unknown } | null)?.parts;
      if (!Array.isArray(parts) || parts.length === 0) {
        throw new BadRequest(
          `* GenerateContentRequest.contents[${c}].parts: contents.parts must not be empty.\n`,
        );
      }
      parts.forEach((part: unknown, p) => {
        const where = `contents[${c}].parts[${p}]`;
        const { text, inlineData, inline_data: snake } = (part ?? {}) as Record<string, unknown>;
        if (typeof text === 'string') {
          prompt += `${prompt ? ' ' : ''}${text}`;
          return;
        }
        const blob = (inlineData ?? snake) as Record<string, unknown> | undefined;
        if (!blob)
          throw new BadRequest(
            `* GenerateContentRequest.${where}.data: required oneof field 'data' must have one initialized field\n`,
          );
        const mime = blob.mimeType ?? blob.mime_type;
        if (typeof mime !== 'string' || !mime) {
          throw new BadRequest(
            `* GenerateContentRequest.${where}.inline_data.mime_type: mime_type is not specified\n`,
          );
        }
        if (!INPUT_IMAGE_TYPES.has(mime)) throw new BadRequest(`Unsupported MIME type: ${mime}`);
        const data = blob.data;
        if (typeof data !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(data) || data.length % 4 === 1) {
          throw new BadRequest(
            `Invalid value at '${where.replace(/\[(\d+)\]/g, '[$1]')}.inline_data.data' (TYPE_BYTES), Base64 decoding failed for "${String(data).slice(0, 20)}"`,
          );
        }
        inputImages += 1;
      });
    });
    if (inputImages > model.maxInputImages) {
      throw new BadRequest(
        `The request has ${inputImages} input images; models/${modelName} takes at most ${model.maxInputImages}.`,
      );
    }

    const config = (request.generationConfig ?? {}) as Record<string, unknown>;
    const modalities = Array.isArray(config.responseModalities)
      ? config.responseModalities.map((m) => String(m).toUpperCase())
      : ['TEXT'];
    const wantsImage = modalities.includes('IMAGE');
    if (wantsImage && !model.image) {
      throw new BadRequest('Model does not support the requested response modalities: image');
    }
    const candidateCount = config.candidateCount;
    if (candidateCount !== undefined && candidateCount !== 1 && model.image) {
      throw new BadRequest(`Multiple candidates is not enabled for models/${modelName}`);
    }
    if (config.seed !== undefined && !Number.isInteger(config.seed)) {
      throw new BadRequest(
        `Invalid value at 'generation_config.seed' (TYPE_INT32), ${JSON.stringify(config.seed)}`,
      );
    }
    const imageConfig = (config.imageConfig ?? {}) as Record<string, unknown>;
    const ratio = imageConfig.aspectRatio ?? '1:1';
    if (typeof ratio !== 'string' || !model.aspectRatios.includes(ratio)) {
      throw new BadRequest(
        `Unsupported aspect ratio: ${JSON.stringify(ratio)}. Supported aspect ratios are: ${model.aspectRatios.join(', ')}.`,
      );
    }
    let size = model.imageSizes[0] ?? '1K';
    if (imageConfig.imageSize !== undefined) {
      if (model.imageSizes.length === 0) {
        throw new BadRequest(`Image size is not supported for models/${modelName}.`);
      }
      // As the real API does, a size it does not know (wrong case included) is silently ignored.
      if (typeof imageConfig.imageSize === 'string' && model.imageSizes.includes(imageConfig.imageSize)) {
        size = imageConfig.imageSize;
      }
    }

    const promptTokens = Math.ceil(prompt.length / 4) + inputImages * 258;
    const usage = (candidates: number): Record<string, number> => ({
      promptTokenCount: promptTokens,
      candidatesTokenCount: candidates,
      totalTokenCount: promptTokens + candidates,
    });
    const common = { modelVersion: modelName, responseId: randomUUID().replace(/-/g, '').slice(0, 22) };

    const block = /\[BLOCK:([A-Z_]+)\]/.exec(prompt)?.[1];
    if (block) return { promptFeedback: { blockReason: block }, usageMetadata: usage(0), ...common };
    const finish = /\[FINISH:([A-Z_]+)\]/.exec(prompt)?.[1];
    if (finish) {
      return {
        candidates: [{ content: { role: 'model', parts: [] }, finishReason: finish, index: 0 }],
        usageMetadata: usage(0),
        ...common,
      };
    }
    if (!wantsImage || prompt.includes(GEMINI_FAKE_TRIGGERS.textOnly)) {
      const words = "I can't create that picture, but here is a description of a lighthouse at dusk instead.";
      return {
        candidates: [
          { content: { role: 'model', parts: [{ text: words }] }, finishReason: 'STOP', index: 0 },
        ],
        usageMetadata: usage(20),
        ...common,
      };
    }

    const [w1k, h1k] = ONE_K[ratio] as [number, number];
    const factor = (SIZE_FACTOR[size] ?? 1) * this.options.renderScale;
    const png = renderSandboxImage({
      model: modelName,
      prompt,
      seed: typeof config.seed === 'number' ? config.seed : undefined,
      index: 0,
      width: Math.max(1, Math.round(w1k * factor)),
      height: Math.max(1, Math.round(h1k * factor)),
    });
    const parts: unknown[] = [];
    if (modalities.includes('TEXT')) parts.push({ text: 'Here is the image you asked for.' });
    parts.push({ inlineData: { mimeType: 'image/png', data: png.toString('base64') } });
    return {
      candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
      usageMetadata: usage(model.imageTokens[size] ?? 1290),
      ...common,
    };
  }

  private json(
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    res.writeHead(status, { 'content-type': 'application/json; charset=UTF-8', ...headers });
    res.end(JSON.stringify(body));
  }
}

export function createGeminiFake(options: GeminiFakeOptions = {}): GeminiFake {
  return new GeminiFake(options);
}

function malformedBody(kind: Exclude<GeminiMalformed, 'non_json'>): unknown {
  const candidate = (parts: unknown[]): unknown => ({
    candidates: [{ content: { role: 'model', parts }, finishReason: 'STOP', index: 0 }],
  });
  switch (kind) {
    case 'no_candidates':
      return { usageMetadata: { promptTokenCount: 5, totalTokenCount: 5 } };
    case 'bad_base64':
      return candidate([{ inlineData: { mimeType: 'image/png', data: '%%% not base64 %%%' } }]);
    case 'not_an_image':
      return candidate([
        { inlineData: { mimeType: 'image/png', data: Buffer.from('hello world').toString('base64') } },
      ]);
    case 'no_parts':
      return candidate([]);
  }
}

function safeJson(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PNG } from 'pngjs';
import { renderSandboxImageAs } from '../../providers/sandbox/render';
import type { OutputFormat } from '../../providers/types';

/**
 * A fake of OpenAI's Images API for the GPT image models on a real HTTP port, serving both
 * OpenAI's paths and Azure OpenAI's deployment paths from one server:
 *
 * - `POST /v1/images/generations` (JSON) and `POST /v1/images/edits` (multipart/form-data with
 *   `image` / `image[]` parts and an optional PNG `mask`), with `Authorization: Bearer <key>` and
 *   the optional `OpenAI-Organization` / `OpenAI-Project` headers (a mismatch is a 401, as for a
 *   real key bound to one organisation);
 * - `POST /openai/deployments/{deployment}/images/{generations|edits}?api-version=…` with an
 *   `api-key` header, Azure's 401/404 bodies (missing api-version, unknown deployment) and its
 *   content-filter answer (`content_policy_violation` with `innererror.content_filter_result`).
 *
 * It validates as the real API does (provider-specs/openai.yaml, `CreateImageRequest` and
 * `CreateImageEditRequest`), answering `{error:{message,type,param,code}}`: unknown fields
 * ("Unrecognized request argument supplied: seed"), `response_format` and `style` refused for GPT
 * image models, the size, n, quality, output_format, background, moderation and input_fidelity
 * enums and ranges, `output_compression` only with jpeg/webp, a transparent background only with
 * png/webp, at most 16 reference images of png/jpeg/webp of less than 50 MB each, a PNG mask of
 * less than 4 MB and of the first image's size (the reference does not give the wording of the
 * size refusals: their messages are this fake's, their code the one OpenAI's clients list for an
 * image file too large).
 * A prompt containing a moderated word gets 400 `moderation_blocked`; `unverifiedOrganization`
 * answers 403 as OpenAI does for gpt-image-1 before verification; `insufficientQuota` answers 429
 * `insufficient_quota`; `requestsPerMinute` limits each key, with 429 `rate_limit_exceeded`,
 * `x-ratelimit-*` headers (also on successes) and Retry-After. Answers are synchronous after
 * `latencyMs` (the real gpt-image-1 takes tens of seconds), `ImagesResponse` with `b64_json`
 * images of the asked size and token `usage` from OpenAI's published output-token table.
 *
 * Images come in the `output_format` asked for (PNG, JPEG or WebP). What it does not reproduce:
 * transparent pixels; streaming (`stream: true` is refused with code `fake_unsupported`); JSON
 * edits (`images` with `image_url`/`file_id`); DALL·E models; the real input-token counts (text
 * tokens are characters/4 and each reference image a fixed 194 tokens).
 */

export interface OpenaiFakeOptions {
  /** The key `Authorization: Bearer` must carry on the OpenAI paths. */
  apiKey?: string;
  /** When set, an `OpenAI-Organization` header other than this is a 401 (mismatched_organization). */
  organization?: string;
  /** When set, an `OpenAI-Project` header other than this is a 401 (mismatched_project). */
  project?: string;
  /** The key the `api-key` header must carry on the Azure paths. */
  azureApiKey?: string;
  /** Azure deployments and the model each serves. */
  azureDeployments?: Record<string, string>;
  /** `api-version` values the Azure paths accept. */
  azureApiVersions?: string[];
  /** Delay before every answer. */
  latencyMs?: number;
  /** Prompts containing one of these (case-insensitive) are refused by the safety system. */
  moderatedWords?: string[];
  /** OpenAI paths answer 403 "organization must be verified" for GPT image models. */
  unverifiedOrganization?: boolean;
  /** Every request is answered 429 insufficient_quota (the account is out of money). */
  insufficientQuota?: boolean;
  /** Requests per minute per key; beyond it, 429 rate_limit_exceeded. */
  requestsPerMinute?: number;
  /** Whether a rate-limit 429 carries Retry-After (OpenAI's do not always; x-ratelimit-* always). */
  sendRetryAfter?: boolean;
}

export interface OpenaiFault {
  on: 'generations' | 'edits' | 'any';
  /** Answer with this status and `body` (default an OpenAI-shaped server_error). */
  status?: number;
  body?: unknown;
  retryAfter?: string;
  headers?: Record<string, string>;
  /** Never answer (the socket stays open until the client gives up or the fake closes). */
  hang?: boolean;
  /** Answer 200 with a broken body, after the request passed validation. */
  malformed?: 'not_json' | 'no_data' | 'bad_base64' | 'not_an_image' | 'too_few';
  /** How many matching requests it hits; default 1. */
  times?: number;
}

export interface OpenaiFakeFile {
  field: string;
  name: string;
  type: string;
  size: number;
  /** The SHA-256 of the bytes received, so that a test can tell exactly what reached the upstream. */
  sha256: string;
  width?: number;
  height?: number;
}

export interface OpenaiFakeSubmission {
  id: string;
  flavour: 'openai' | 'azure';
  operation: 'generations' | 'edits';
  model: string;
  /** The Azure deployment the path named. */
  deployment?: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | undefined>;
  /** JSON body, or the multipart text fields (as strings). */
  fields: Record<string, unknown>;
  files: OpenaiFakeFile[];
  at: number;
}

interface ApiError {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

const DEFAULTS = {
  apiKey: 'openai-test-key',
  azureApiKey: 'azure-test-key',
  azureDeployments: { 'gpt-image-1': 'gpt-image-1' } as Record<string, string>,
  azureApiVersions: ['2025-04-01-preview', '2025-03-01-preview', 'preview'],
  latencyMs: 0,
  unverifiedOrganization: false,
  insufficientQuota: false,
  requestsPerMinute: Number.POSITIVE_INFINITY,
  sendRetryAfter: true,
};

const MODELS = ['gpt-image-1', 'gpt-image-1-mini', 'gpt-image-1.5', 'chatgpt-image-latest'];
const SIZES = ['1024x1024', '1024x1536', '1536x1024', 'auto'];
const GENERATION_FIELDS = new Set([
  'prompt',
  'model',
  'n',
  'quality',
  'response_format',
  'output_format',
  'output_compression',
  'stream',
  'partial_images',
  'size',
  'moderation',
  'background',
  'style',
  'user',
]);
const EDIT_FIELDS = new Set([
  'image',
  'image[]',
  'mask',
  'prompt',
  'model',
  'n',
  'quality',
  'response_format',
  'output_format',
  'output_compression',
  'stream',
  'partial_images',
  'size',
  'background',
  'input_fidelity',
  'user',
]);
const EDIT_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
/** The reference's limits: each image for GPT image models "less than 50MB", a mask "a valid PNG file, less than 4MB". */
const MAX_EDIT_IMAGE_BYTES = 50 * 1024 * 1024;
const MAX_MASK_BYTES = 4 * 1024 * 1024;

/** Output image tokens per image, from OpenAI's image-generation pricing (quality × size). */
const OUTPUT_TOKENS: Record<string, Record<string, number>> = {
  low: { '1024x1024': 272, '1024x1536': 408, '1536x1024': 400 },
  medium: { '1024x1024': 1056, '1024x1536': 1584, '1536x1024': 1568 },
  high: { '1024x1024': 4160, '1024x1536': 6240, '1536x1024': 6208 },
};
const IMAGE_INPUT_TOKENS = 194;

const openaiError = (
  status: number,
  message: string,
  type: string,
  param: string | null = null,
  code: string | null = null,
): ApiError => ({ status, body: { error: { message, type, param, code } } });

const invalid = (message: string, param: string | null, code: string | null): ApiError =>
  openaiError(400, message, 'invalid_request_error', param, code);

export class OpenaiFake {
  readonly options: Required<Omit<OpenaiFakeOptions, 'organization' | 'project'>> &
    Pick<OpenaiFakeOptions, 'organization' | 'project'>;
  readonly submissions: OpenaiFakeSubmission[] = [];
  readonly requests: { method: string; path: string; status: number }[] = [];
  private readonly faults: (OpenaiFault & { remaining: number })[] = [];
  private readonly windows = new Map<string, number[]>();
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  private baseUrl = '';

  constructor(options: OpenaiFakeOptions = {}) {
    this.options = { ...DEFAULTS, moderatedWords: [], ...options };
  }

  get url(): string {
    if (!this.server) throw new Error('OpenaiFake: not started');
    return this.baseUrl;
  }

  async start(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.send(req, res, openaiError(500, String(error), 'server_error'));
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
  inject(fault: OpenaiFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Requests that reached the fake for a path prefix, answered or not. */
  requestCount(pathPrefix = '/'): number {
    return this.requests.filter((r) => r.path.startsWith(pathPrefix)).length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = req.method ?? 'GET';
    const raw = await readBody(req);
    const openaiRoute = /^\/v1\/images\/(generations|edits)$/.exec(url.pathname);
    const azureRoute = /^\/openai\/deployments\/([^/]+)\/images\/(generations|edits)$/.exec(url.pathname);
    if (method !== 'POST' || (!openaiRoute && !azureRoute)) {
      return this.send(req, res, invalid(`Invalid URL (${method} ${url.pathname})`, null, null));
    }
    const operation = (openaiRoute?.[1] ?? azureRoute?.[2]) as 'generations' | 'edits';

    const fault = this.takeFault(operation);
    if (fault?.hang) {
      this.requests.push({ method, path: url.pathname, status: 0 });
      return;
    }
    if (fault?.status !== undefined) {
      const headers = { ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}), ...fault.headers };
      const body = fault.body ?? {
        error: { message: `injected ${fault.status}`, type: 'server_error', param: null, code: null },
      };
      return this.send(req, res, { status: fault.status, body, headers });
    }

    const answer = azureRoute
      ? await this.azure(req, url, decodeURIComponent(azureRoute[1] ?? ''), operation, raw, fault)
      : await this.openai(req, url, operation, raw, fault);
    if (this.options.latencyMs > 0)
      await new Promise((resolve) => setTimeout(resolve, this.options.latencyMs));
    this.send(req, res, answer);
  }

  private takeFault(operation: string): OpenaiFault | undefined {
    const index = this.faults.findIndex((f) => f.on === 'any' || f.on === operation);
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private async openai(
    req: IncomingMessage,
    url: URL,
    operation: 'generations' | 'edits',
    raw: Buffer,
    fault: OpenaiFault | undefined,
  ): Promise<ApiError> {
    const auth = header(req, 'authorization');
    const key = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined;
    if (!key) {
      return openaiError(
        401,
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        'invalid_request_error',
      );
    }
    if (key !== this.options.apiKey) {
      return openaiError(
        401,
        `Incorrect API key provided: ${redact(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        'invalid_request_error',
        null,
        'invalid_api_key',
      );
    }
    const organization = header(req, 'openai-organization');
    if (
      organization !== undefined &&
      this.options.organization &&
      organization !== this.options.organization
    ) {
      return openaiError(
        401,
        'OpenAI-Organization header should match organization for API key',
        'invalid_request_error',
        null,
        'mismatched_organization',
      );
    }
    const project = header(req, 'openai-project');
    if (project !== undefined && this.options.project && project !== this.options.project) {
      return openaiError(
        401,
        'OpenAI-Project header should match project for API key',
        'invalid_request_error',
        null,
        'mismatched_project',
      );
    }

    const input = await this.readInput(req, operation, raw);
    if ('status' in input) return input;
    // Edits default to gpt-image-1.5 (CreateImageEditRequest); generations to dall-e-2.
    const model =
      typeof input.fields.model === 'string'
        ? input.fields.model
        : operation === 'edits'
          ? 'gpt-image-1.5'
          : undefined;
    if (model === undefined) {
      // The API's default is dall-e-2, which this fake does not reproduce.
      return invalid(
        "Missing parameter 'model': this fake serves only GPT image models (the API's default is dall-e-2).",
        'model',
        'missing_required_parameter',
      );
    }
    if (!MODELS.includes(model)) {
      return invalid(
        `Invalid value: '${model}'. Supported values are: ${listOf(MODELS)}.`,
        'model',
        'invalid_value',
      );
    }
    const limited = this.rateLimit(key, model, 'openai', url);
    if (limited) return limited;
    const invalidInput = this.validate(input, model, operation);
    if (invalidInput) return invalidInput;
    if (this.options.unverifiedOrganization) {
      return openaiError(
        403,
        `Your organization must be verified to use the model \`${model}\`. Please go to: https://platform.openai.com/settings/organization/general and click on Verify Organization. If you just verified, it can take up to 15 minutes for access to propagate.`,
        'invalid_request_error',
      );
    }
    if (this.options.insufficientQuota) {
      return openaiError(
        429,
        'You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.',
        'insufficient_quota',
        null,
        'insufficient_quota',
      );
    }
    if (this.moderated(input.fields.prompt)) {
      return openaiError(
        400,
        `Your request was rejected by the safety system. If you believe this is an error, contact us at help.openai.com and include the request ID req_${randomUUID().replace(/-/g, '')}.`,
        'image_generation_user_error',
        null,
        'moderation_blocked',
      );
    }
    return this.generate(req, url, 'openai', operation, model, undefined, input, fault, key);
  }

  private async azure(
    req: IncomingMessage,
    url: URL,
    deployment: string,
    operation: 'generations' | 'edits',
    raw: Buffer,
    fault: OpenaiFault | undefined,
  ): Promise<ApiError> {
    const azureError = (status: number, code: string, message: string): ApiError => ({
      status,
      body: { error: { code, message } },
    });
    const apiVersion = url.searchParams.get('api-version');
    if (!apiVersion) return azureError(404, '404', 'Resource not found');
    if (!this.options.azureApiVersions.includes(apiVersion)) {
      return azureError(400, 'BadRequest', 'API version not supported');
    }
    const key = header(req, 'api-key');
    if (key !== this.options.azureApiKey) {
      return azureError(
        401,
        '401',
        'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
      );
    }
    const model = this.options.azureDeployments[deployment];
    if (!model) {
      return azureError(
        404,
        'DeploymentNotFound',
        'The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.',
      );
    }
    const limited = this.rateLimit(key, model, 'azure', url);
    if (limited) return limited;
    const input = await this.readInput(req, operation, raw);
    if ('status' in input) return input;
    const invalidInput = this.validate(input, model, operation);
    if (invalidInput) return invalidInput;
    if (this.moderated(input.fields.prompt)) {
      return {
        status: 400,
        body: {
          error: {
            code: 'content_policy_violation',
            message:
              'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.',
            param: 'prompt',
            type: 'invalid_request_error',
            innererror: {
              code: 'ResponsibleAIPolicyViolation',
              content_filter_result: {
                hate: { filtered: false, severity: 'safe' },
                self_harm: { filtered: false, severity: 'safe' },
                sexual: { filtered: false, severity: 'safe' },
                violence: { filtered: true, severity: 'high' },
              },
            },
          },
        },
      };
    }
    return this.generate(req, url, 'azure', operation, model, deployment, input, fault, key);
  }

  private moderated(prompt: unknown): boolean {
    const text = typeof prompt === 'string' ? prompt.toLowerCase() : '';
    return this.options.moderatedWords.some((word) => text.includes(word.toLowerCase()));
  }

  private async readInput(
    req: IncomingMessage,
    operation: 'generations' | 'edits',
    raw: Buffer,
  ): Promise<{ fields: Record<string, unknown>; files: (OpenaiFakeFile & { bytes: Buffer })[] } | ApiError> {
    const contentType = header(req, 'content-type') ?? '';
    if (operation === 'generations') {
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return invalid(
          "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
          null,
          null,
        );
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return invalid(`Invalid type for body: expected an object.`, null, 'invalid_type');
      }
      return { fields: body as Record<string, unknown>, files: [] };
    }
    if (!contentType.toLowerCase().startsWith('multipart/form-data')) {
      return invalid(
        'This fake reproduces image edits as multipart/form-data only (JSON edits are not reproduced).',
        null,
        'fake_unsupported',
      );
    }
    let form: FormData;
    try {
      form = await new Request('http://fake.invalid/', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: raw,
      }).formData();
    } catch {
      return invalid('Could not parse multipart form', null, null);
    }
    const fields: Record<string, unknown> = {};
    const files: (OpenaiFakeFile & { bytes: Buffer })[] = [];
    for (const [name, value] of form.entries()) {
      if (typeof value === 'string') {
        fields[name] = value;
        continue;
      }
      const bytes = Buffer.from(await value.arrayBuffer());
      const file: OpenaiFakeFile & { bytes: Buffer } = {
        field: name,
        name: value.name,
        type: value.type,
        size: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
        bytes,
      };
      if (value.type === 'image/png') {
        try {
          const png = PNG.sync.read(bytes);
          file.width = png.width;
          file.height = png.height;
        } catch {
          // Left without dimensions; validation refuses it.
        }
      }
      files.push(file);
    }
    return { fields, files };
  }

  private validate(
    input: { fields: Record<string, unknown>; files: (OpenaiFakeFile & { bytes: Buffer })[] },
    model: string,
    operation: 'generations' | 'edits',
  ): ApiError | undefined {
    const { fields, files } = input;
    const fromForm = operation === 'edits';
    const allowed = operation === 'generations' ? GENERATION_FIELDS : EDIT_FIELDS;
    for (const name of [...Object.keys(fields), ...files.map((f) => f.field)]) {
      if (!allowed.has(name)) return invalid(`Unrecognized request argument supplied: ${name}`, null, null);
    }
    const given = (name: string): unknown => (fields[name] === null ? undefined : fields[name]);
    for (const name of ['response_format', 'style']) {
      if (given(name) !== undefined)
        return invalid(`Unknown parameter: '${name}'.`, name, 'unknown_parameter');
    }

    const prompt = given('prompt');
    if (prompt === undefined)
      return invalid("Missing required parameter: 'prompt'.", 'prompt', 'missing_required_parameter');
    if (typeof prompt !== 'string') {
      return invalid(
        `Invalid type for 'prompt': expected a string, but got ${typeName(prompt)} instead.`,
        'prompt',
        'invalid_type',
      );
    }
    if (prompt.length > 32_000) {
      return invalid(
        `Invalid 'prompt': string too long. Expected a string with maximum length 32000, but got a string with length ${prompt.length} instead.`,
        'prompt',
        'string_above_max_length',
      );
    }

    const n = integer(given('n'), fromForm);
    if (n === 'invalid')
      return invalid(
        `Invalid type for 'n': expected an integer, but got ${typeName(given('n'))} instead.`,
        'n',
        'invalid_type',
      );
    if (n !== undefined && n < 1) {
      return invalid(
        `Invalid 'n': integer below minimum value. Expected a value >= 1, but got ${n} instead.`,
        'n',
        'integer_below_min_value',
      );
    }
    if (n !== undefined && n > 10) {
      return invalid(
        `Invalid 'n': integer above maximum value. Expected a value <= 10, but got ${n} instead.`,
        'n',
        'integer_above_max_value',
      );
    }

    const enums: [string, string[]][] = [
      ['size', SIZES],
      ['quality', ['low', 'medium', 'high', 'auto']],
      ['output_format', ['png', 'jpeg', 'webp']],
      ['background', ['transparent', 'opaque', 'auto']],
      ['moderation', ['low', 'auto']],
      ['input_fidelity', ['high', 'low']],
    ];
    for (const [name, values] of enums) {
      const value = given(name);
      if (value !== undefined && !values.includes(value as string)) {
        return invalid(
          `Invalid value: '${JSON.stringify(value).replace(/^"|"$/g, '')}'. Supported values are: ${listOf(values)}.`,
          name,
          'invalid_value',
        );
      }
    }
    if (given('input_fidelity') !== undefined && model === 'gpt-image-1-mini') {
      return invalid(
        `input_fidelity is not supported for ${model}.`,
        'input_fidelity',
        'unsupported_parameter',
      );
    }
    const stream = given('stream');
    if (stream === true || stream === 'true') {
      return invalid('Streaming is not reproduced by this fake.', 'stream', 'fake_unsupported');
    }
    const format = (given('output_format') as string | undefined) ?? 'png';
    const compression = integer(given('output_compression'), fromForm);
    if (compression === 'invalid')
      return invalid(
        "Invalid type for 'output_compression': expected an integer.",
        'output_compression',
        'invalid_type',
      );
    if (compression !== undefined) {
      if (format === 'png') {
        return invalid(
          'output_compression is only supported for the jpeg and webp output formats.',
          'output_compression',
          'invalid_value',
        );
      }
      if (compression < 0 || compression > 100) {
        return invalid(
          `Invalid 'output_compression': expected a value between 0 and 100, but got ${compression} instead.`,
          'output_compression',
          'invalid_value',
        );
      }
    }
    if (given('background') === 'transparent' && format === 'jpeg') {
      return invalid(
        'Transparent background is not supported for the jpeg output format; use png or webp.',
        'background',
        'invalid_value',
      );
    }

    if (operation === 'edits') {
      const images = files.filter((f) => f.field === 'image' || f.field === 'image[]');
      if (images.length === 0)
        return invalid("Missing required parameter: 'image'.", 'image', 'missing_required_parameter');
      if (images.length > 16) {
        return invalid(
          `Invalid 'image': array too long. Expected an array with maximum length 16, but got an array with length ${images.length} instead.`,
          'image',
          'array_above_max_length',
        );
      }
      for (const [i, file] of images.entries()) {
        if (!EDIT_TYPES.includes(file.type)) {
          return invalid(
            `Invalid file 'image': unsupported mimetype ('${file.type}'). Supported file formats are ${listOf(EDIT_TYPES)}.`,
            'image',
            'unsupported_file_mimetype',
          );
        }
        if (file.size >= MAX_EDIT_IMAGE_BYTES) {
          return invalid(
            `Invalid file 'image': ${file.size} bytes for image ${i + 1}; each image must be a file of less than 50 MB.`,
            'image',
            'image_file_too_large',
          );
        }
        if (!signatureMatches(file)) {
          return invalid(
            `Invalid image file or mode for image ${i + 1}, please check your image file.`,
            'image',
            'invalid_image_file',
          );
        }
      }
      const mask = files.find((f) => f.field === 'mask');
      if (mask) {
        if (mask.type !== 'image/png') {
          return invalid(
            `Invalid file 'mask': unsupported mimetype ('${mask.type}'). Supported file formats are 'image/png'.`,
            'mask',
            'unsupported_file_mimetype',
          );
        }
        if (mask.size >= MAX_MASK_BYTES) {
          return invalid(
            `Invalid file 'mask': ${mask.size} bytes; the mask must be a PNG file of less than 4 MB.`,
            'mask',
            'image_file_too_large',
          );
        }
        if (mask.width === undefined) {
          return invalid(
            `Invalid file 'mask': the mask must be a valid PNG file.`,
            'mask',
            'invalid_image_file',
          );
        }
        const first = images[0];
        if (first?.width !== undefined && (first.width !== mask.width || first.height !== mask.height)) {
          return invalid(
            `Invalid mask image: the mask (${mask.width}x${mask.height}) must have the same dimensions as the image (${first.width}x${first.height}).`,
            'mask',
            'invalid_image_dimensions',
          );
        }
      }
    }
    return undefined;
  }

  private rateLimit(key: string, model: string, flavour: 'openai' | 'azure', url: URL): ApiError | undefined {
    const limit = this.options.requestsPerMinute;
    if (!Number.isFinite(limit)) return undefined;
    const now = Date.now();
    const window = (this.windows.get(key) ?? []).filter((t) => now - t < 60_000);
    this.windows.set(key, window);
    if (window.length < limit) {
      window.push(now);
      return undefined;
    }
    const waitMs = 60_000 - (now - (window[0] ?? now));
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    const headers: Record<string, string> = {
      ...this.rateHeaders(key),
      'x-ratelimit-remaining-requests': '0',
    };
    if (this.options.sendRetryAfter) headers['retry-after'] = String(seconds);
    if (flavour === 'azure') {
      headers['retry-after-ms'] = String(waitMs);
      return {
        status: 429,
        headers,
        body: {
          error: {
            code: '429',
            message: `Requests to the ImageGenerations_Create Operation under Azure OpenAI API version ${url.searchParams.get('api-version') ?? ''} have exceeded call rate limit of your current AIServices S0 pricing tier. Please retry after ${seconds} seconds.`,
          },
        },
      };
    }
    return {
      ...openaiError(
        429,
        `Rate limit reached for ${model} in organization org-fake on requests per min (RPM): Limit ${limit}, Used ${limit}, Requested 1. Please try again in ${seconds}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        'requests',
        null,
        'rate_limit_exceeded',
      ),
      headers,
    };
  }

  /** OpenAI's rate-limit headers for a key, as sent on every answer when a limit is set. */
  private rateHeaders(key: string): Record<string, string> {
    const limit = this.options.requestsPerMinute;
    if (!Number.isFinite(limit)) return {};
    const now = Date.now();
    const window = (this.windows.get(key) ?? []).filter((t) => now - t < 60_000);
    const resetMs = window.length === 0 ? 0 : 60_000 - (now - (window[0] ?? now));
    return {
      'x-ratelimit-limit-requests': String(limit),
      'x-ratelimit-remaining-requests': String(Math.max(0, limit - window.length)),
      'x-ratelimit-reset-requests': formatDuration(resetMs),
      'x-ratelimit-limit-tokens': '100000',
      'x-ratelimit-remaining-tokens': '100000',
      'x-ratelimit-reset-tokens': '0s',
    };
  }

  private async generate(
    req: IncomingMessage,
    url: URL,
    flavour: 'openai' | 'azure',
    operation: 'generations' | 'edits',
    model: string,
    deployment: string | undefined,
    input: { fields: Record<string, unknown>; files: (OpenaiFakeFile & { bytes: Buffer })[] },
    fault: OpenaiFault | undefined,
    key: string,
  ): Promise<ApiError> {
    const { fields, files } = input;
    const prompt = fields.prompt as string;
    const n = (integer(fields.n ?? undefined, operation === 'edits') as number | undefined) ?? 1;
    const askedSize = (fields.size as string | undefined) ?? 'auto';
    const size = askedSize === 'auto' ? '1024x1024' : askedSize;
    const [width, height] = size.split('x').map(Number) as [number, number];
    const askedQuality = (fields.quality as string | undefined) ?? 'auto';
    const quality = askedQuality === 'auto' ? 'medium' : askedQuality;
    const format = (fields.output_format as string | undefined) ?? 'png';
    const id = randomUUID();

    this.submissions.push({
      id,
      flavour,
      operation,
      model,
      ...(deployment === undefined ? {} : { deployment }),
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: {
        authorization: header(req, 'authorization'),
        'api-key': header(req, 'api-key'),
        'openai-organization': header(req, 'openai-organization'),
        'openai-project': header(req, 'openai-project'),
        'content-type': header(req, 'content-type'),
      },
      fields,
      files: files.map(({ bytes: _bytes, ...file }) => file),
      at: Date.now(),
    });

    const headers = { 'x-request-id': `req_${id.replace(/-/g, '')}`, ...this.rateHeaders(key) };
    const images = await Promise.all(
      Array.from({ length: fault?.malformed === 'too_few' ? Math.max(0, n - 1) : n }, async (_, index) =>
        (
          await renderSandboxImageAs({ model, prompt, index, width, height }, format as OutputFormat)
        ).toString('base64'),
      ),
    );
    const textTokens = Math.ceil(prompt.length / 4);
    const imageTokens = files.filter((f) => f.field !== 'mask').length * IMAGE_INPUT_TOKENS;
    const outputTokens = (OUTPUT_TOKENS[quality]?.[size] ?? 0) * n;
    const body: Record<string, unknown> = {
      created: Math.floor(Date.now() / 1000),
      data: images.map((b64_json) => ({ b64_json })),
      background: fields.background === 'transparent' ? 'transparent' : 'opaque',
      output_format: format,
      quality,
      size,
      usage: {
        input_tokens: textTokens + imageTokens,
        input_tokens_details: { image_tokens: imageTokens, text_tokens: textTokens },
        output_tokens: outputTokens,
        output_tokens_details: { image_tokens: outputTokens, text_tokens: 0 },
        total_tokens: textTokens + imageTokens + outputTokens,
      },
    };
    switch (fault?.malformed) {
      case 'not_json':
        return { status: 200, headers, body: '<html><body>upstream connect error</body></html>' };
      case 'no_data':
        return { status: 200, headers, body: { created: body.created } };
      case 'bad_base64':
        return { status: 200, headers, body: { ...body, data: [{ b64_json: '%%% not base64 %%%' }] } };
      case 'not_an_image':
        return {
          status: 200,
          headers,
          body: {
            ...body,
            data: images.map(() => ({ b64_json: Buffer.from('hello, not an image').toString('base64') })),
          },
        };
      default:
        return { status: 200, headers, body };
    }
  }

  private send(req: IncomingMessage, res: ServerResponse, answer: ApiError): void {
    this.requests.push({
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', this.baseUrl).pathname,
      status: answer.status,
    });
    const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
    const contentType = typeof answer.body === 'string' ? 'text/html' : 'application/json';
    res.writeHead(answer.status, { 'content-type': contentType, ...answer.headers });
    res.end(text);
  }
}

export function createOpenaiFake(options: OpenaiFakeOptions = {}): OpenaiFake {
  return new OpenaiFake(options);
}

/** The same server; Azure's deployment paths are always served alongside OpenAI's. */
export function createAzureOpenaiFake(options: OpenaiFakeOptions = {}): OpenaiFake {
  return new OpenaiFake(options);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** OpenAI shows the first and last characters of a wrong key only. */
function redact(key: string): string {
  return key.length <= 8
    ? '*'.repeat(key.length)
    : `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}`;
}

function listOf(values: string[]): string {
  const quoted = values.map((v) => `'${v}'`);
  return quoted.length <= 1
    ? quoted.join('')
    : `${quoted.slice(0, -1).join(', ')}, and ${quoted.at(-1) ?? ''}`;
}

function typeName(value: unknown): string {
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a decimal';
  if (typeof value === 'boolean') return 'a boolean';
  if (Array.isArray(value)) return 'an array';
  return value === null || value === undefined ? 'null' : 'an object';
}

/** An integer from JSON, or from a multipart text field; `invalid` when it is neither. */
function integer(value: unknown, fromForm: boolean): number | undefined | 'invalid' {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  if (fromForm && typeof value === 'string' && /^-?\d+$/.test(value)) return Number(value);
  return 'invalid';
}

function signatureMatches(file: { type: string; bytes: Buffer; width?: number }): boolean {
  if (file.type === 'image/png') return file.width !== undefined;
  if (file.type === 'image/jpeg') return file.bytes[0] === 0xff && file.bytes[1] === 0xd8;
  return (
    file.bytes.subarray(0, 4).toString('latin1') === 'RIFF' &&
    file.bytes.subarray(8, 12).toString('latin1') === 'WEBP'
  );
}

/** OpenAI's reset format: "0s", "12s", "1m0s", "20ms". */
function formatDuration(ms: number): string {
  if (ms <= 0) return '0s';
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const seconds = Math.ceil(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m${seconds % 60}s`;
}

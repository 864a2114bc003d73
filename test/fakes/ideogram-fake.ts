import { createHmac, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { renderSandboxImage } from '../../providers/sandbox/render';

/**
 * A fake of Ideogram's 3.0 generate endpoint on a real HTTP port, reproducing what
 * provider-specs/ideogram.json and developer.ideogram.ai document:
 *
 * - `POST /v1/ideogram-v3/generate` with an `Api-Key` header and a multipart/form-data body
 *   (parsed with the WHATWG `Request.formData()`), every field checked against the spec's enums
 *   and ranges; bad input is 400, a missing or wrong key 401.
 * - Synchronous: after `latencyMs` it answers `{created, data: [{url, prompt, resolution,
 *   is_image_safe, seed, style_type}]}`, the URLs pointing at ephemeral PNGs it serves itself at the
 *   resolution Ideogram renders for the aspect ratio; they expire after `imageTtlMs` (then 404).
 * - Both documented safety paths: a prompt that fails the check is 422 `{error}`; a generated image
 *   that fails it comes back with `is_image_safe: false` and no URL (Ideogram bills that request).
 * - Ideogram's in-flight limit, which counts images being generated per organisation (here, per
 *   key): over it, 429 `{error, reject_reason: "inflight_limit", max_inflight_requests}`.
 * - Injected faults: any status, Retry-After, hangs, malformed answers.
 *
 * Where the documents are silent the fake chooses, and says so: 400 and 401 bodies take the
 * `{error}` shape of the documented 422 and 429 bodies; unknown form fields are refused (stricter
 * than Ideogram may be, so a misnamed field fails a test rather than being ignored); JSON bodies
 * are refused with 415 unless `acceptJson` (the developer reference documents multipart only,
 * while the served openapi.json also lists application/json).
 */

export interface IdeogramFakeOptions {
  /** The key `Api-Key` must carry. */
  apiKey?: string;
  /** How long a generation takes before the answer (the request is in flight meanwhile). */
  latencyMs?: number;
  /** Images in flight per key before 429; Ideogram's default limit is 10. */
  maxInflightImages?: number;
  /** Retry-After on the in-flight 429 (Ideogram does not promise one); null to send none. */
  retryAfter?: string | null;
  /** Prompts containing one of these (case-insensitive) fail the prompt safety check: 422. */
  unsafePromptWords?: string[];
  /** Prompts containing one of these generate images that are all withheld (`is_image_safe: false`). */
  unsafeImageWords?: string[];
  /** Prompts containing one of these have only their first image withheld. */
  partlyUnsafeWords?: string[];
  /** Lifetime of the ephemeral image URLs. */
  imageTtlMs?: number;
  /** Accept application/json bodies too, as the served openapi.json lists. */
  acceptJson?: boolean;
}

export interface IdeogramFault {
  on: 'generate' | 'image' | 'any';
  /** Answer with this status at once (e.g. 500, 503, 429). */
  status?: number;
  /** Retry-After header value for `status`. */
  retryAfter?: string;
  /** Never answer (the socket stays open until the client gives up or the fake closes). */
  hang?: boolean;
  /**
   * Generate normally, then corrupt the 200 answer: not JSON, no `data`, a safe image without a
   * URL, fewer images than asked, or an unreadable resolution.
   */
  malformed?: 'not_json' | 'no_data' | 'missing_url' | 'fewer_images' | 'bad_resolution';
  /** How many matching requests it hits; default 1. */
  times?: number;
  /** Body for `status`; default `{error: "injected <status>"}`. */
  body?: unknown;
}

export interface IdeogramFakeFile {
  name: string;
  type: string;
  size: number;
  bytes: Buffer;
}

export interface IdeogramFakeSubmission {
  id: string;
  prompt: string;
  /** Text fields as sent (the last value of a repeated field). */
  fields: Record<string, string>;
  files: Record<string, IdeogramFakeFile[]>;
  contentType: string;
  apiKey: string;
  at: number;
}

interface FakeImage {
  prompt: string;
  seed: number;
  index: number;
  width: number;
  height: number;
  expiresAt: number;
}

const DEFAULTS = {
  apiKey: 'ideogram-test-key',
  latencyMs: 0,
  maxInflightImages: 10,
  retryAfter: '1' as string | null,
  imageTtlMs: 60 * 60_000,
  acceptJson: false,
};

const GENERATE_PATH = '/v1/ideogram-v3/generate';
const IMAGE_PATH = /^\/api\/images\/ephemeral\/([A-Za-z0-9-]+)\.png$/;

/** The resolution Ideogram 3.0 renders for each `AspectRatioV3` (all in `ResolutionV3`). */
export const IDEOGRAM_RESOLUTIONS: Record<string, [number, number]> = {
  '1x1': [1024, 1024],
  '16x9': [1312, 736],
  '9x16': [736, 1312],
  '4x3': [1152, 864],
  '3x4': [864, 1152],
  '3x2': [1248, 832],
  '2x3': [832, 1248],
  '16x10': [1280, 800],
  '10x16': [800, 1280],
  '2x1': [1408, 704],
  '1x2': [704, 1408],
  '3x1': [1536, 512],
  '1x3': [512, 1536],
  '5x4': [1120, 896],
  '4x5': [896, 1120],
};

const RESOLUTIONS = new Set(
  (
    '512x1536 576x1408 576x1472 576x1536 640x1344 640x1408 640x1472 640x1536 704x1152 704x1216 704x1280 ' +
    '704x1344 704x1408 704x1472 736x1312 768x1088 768x1216 768x1280 768x1344 800x1280 832x960 832x1024 ' +
    '832x1088 832x1152 832x1216 832x1248 864x1152 896x960 896x1024 896x1088 896x1120 896x1152 960x832 ' +
    '960x896 960x1024 960x1088 1024x832 1024x896 1024x960 1024x1024 1088x768 1088x832 1088x896 1088x960 ' +
    '1120x896 1152x704 1152x832 1152x864 1152x896 1216x704 1216x768 1216x832 1248x832 1280x704 1280x768 ' +
    '1280x800 1312x736 1344x640 1344x704 1344x768 1408x576 1408x640 1408x704 1472x576 1472x640 1472x704 ' +
    '1536x512 1536x576 1536x640'
  ).split(' '),
);

const STYLE_PRESETS = new Set(
  (
    '80S_ILLUSTRATION 90S_NOSTALGIA ABSTRACT_ORGANIC ANALOG_NOSTALGIA ART_BRUT ART_DECO ART_POSTER AURA ' +
    'AVANT_GARDE BAUHAUS BLUEPRINT BLURRY_MOTION BRIGHT_ART C4D_CARTOON CHILDRENS_BOOK COLLAGE ' +
    'COLORING_BOOK_I COLORING_BOOK_II CUBISM DARK_AURA DOODLE DOUBLE_EXPOSURE DRAMATIC_CINEMA EDITORIAL ' +
    'EMOTIONAL_MINIMAL ETHEREAL_PARTY EXPIRED_FILM FLAT_ART FLAT_VECTOR FOREST_REVERIE GEO_MINIMALIST ' +
    'GLASS_PRISM GOLDEN_HOUR GRAFFITI_I GRAFFITI_II HALFTONE_PRINT HIGH_CONTRAST HIPPIE_ERA ICONIC ' +
    'JAPANDI_FUSION JAZZY LONG_EXPOSURE MAGAZINE_EDITORIAL MINIMAL_ILLUSTRATION MIXED_MEDIA MONOCHROME ' +
    'NIGHTLIFE OIL_PAINTING OLD_CARTOONS PAINT_GESTURE POP_ART RETRO_ETCHING RIVIERA_POP SPOTLIGHT_80S ' +
    'STYLIZED_RED SURREAL_COLLAGE TRAVEL_POSTER VINTAGE_GEO VINTAGE_POSTER WATERCOLOR WEIRD WOODBLOCK_PRINT'
  ).split(' '),
);

const ENUMS: Record<string, readonly string[]> = {
  aspect_ratio: Object.keys(IDEOGRAM_RESOLUTIONS),
  rendering_speed: ['FLASH', 'TURBO', 'BALANCED', 'DEFAULT', 'QUALITY'],
  magic_prompt: ['AUTO', 'ON', 'OFF'],
  style_type: ['AUTO', 'GENERAL', 'REALISTIC', 'DESIGN', 'CUSTOM', 'FICTION', 'STYLIZED'],
};

const TEXT_FIELDS = new Set([
  'prompt',
  'seed',
  'resolution',
  'aspect_ratio',
  'rendering_speed',
  'magic_prompt',
  'negative_prompt',
  'num_images',
  'color_palette',
  'style_codes',
  'style_type',
  'style_preset',
  'custom_model_uri',
]);
const FILE_FIELDS = new Set([
  'style_reference_images',
  'character_reference_images',
  'character_reference_images_mask',
]);
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp']);
const TEN_MB = 10 * 1024 * 1024;

/** A request body reduced to text fields (all values, in order) and files. */
interface ParsedBody {
  text: Map<string, string[]>;
  files: Map<string, IdeogramFakeFile[]>;
}

class BadRequest extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class IdeogramFake {
  readonly options: Required<IdeogramFakeOptions>;
  readonly submissions: IdeogramFakeSubmission[] = [];
  readonly requests: { method: string; path: string; status: number; apiKey?: string }[] = [];
  private readonly images = new Map<string, FakeImage>();
  private readonly inflight = new Map<string, number>();
  private readonly faults: (IdeogramFault & { remaining: number })[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly secret = randomUUID();
  private server: Server | undefined;
  private baseUrl = '';

  constructor(options: IdeogramFakeOptions = {}) {
    this.options = {
      ...DEFAULTS,
      unsafePromptWords: [],
      unsafeImageWords: [],
      partlyUnsafeWords: [],
      ...options,
    };
  }

  get url(): string {
    if (!this.server) throw new Error('IdeogramFake: not started');
    return this.baseUrl;
  }

  async start(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.json(req, res, 500, { error: String(error) });
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
  inject(fault: IdeogramFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Generations answered 200, in total or for one prompt. */
  submissionCount(prompt?: string): number {
    return prompt === undefined
      ? this.submissions.length
      : this.submissions.filter((s) => s.prompt === prompt).length;
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
      this.requests.push({ method, path: url.pathname, status: 0, ...this.keyOf(req) });
      return;
    }
    if (fault?.status !== undefined) {
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      return this.json(req, res, fault.status, fault.body ?? { error: `injected ${fault.status}` }, headers);
    }

    if (route === 'image' && method === 'GET') return this.serveImage(req, res, url);
    if (route === 'generate') {
      if (method !== 'POST') return this.json(req, res, 405, { error: 'Method Not Allowed' });
      return this.generate(req, res, raw, fault?.malformed);
    }
    return this.json(req, res, 404, { error: 'Not Found' });
  }

  private takeFault(route: 'generate' | 'image'): IdeogramFault | undefined {
    const index = this.faults.findIndex((f) => f.on === 'any' || f.on === route);
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private keyOf(req: IncomingMessage): { apiKey?: string } {
    const key = req.headers['api-key'];
    return typeof key === 'string' ? { apiKey: key } : {};
  }

  private async generate(
    req: IncomingMessage,
    res: ServerResponse,
    raw: Buffer,
    malformed: IdeogramFault['malformed'],
  ): Promise<void> {
    const key = req.headers['api-key'];
    if (typeof key !== 'string' || key !== this.options.apiKey) {
      return this.json(req, res, 401, { error: 'Not authorized to generate an image.' });
    }

    const contentType = req.headers['content-type'] ?? '';
    let body: ParsedBody;
    let input: ValidInput;
    try {
      body = await this.parseBody(contentType, raw);
      input = validate(body);
    } catch (error) {
      if (error instanceof BadRequest) return this.json(req, res, error.status, { error: error.message });
      throw error;
    }

    const has = (words: string[]): boolean =>
      words.some((w) => input.prompt.toLowerCase().includes(w.toLowerCase()));
    if (has(this.options.unsafePromptWords)) {
      return this.json(req, res, 422, {
        error: 'Prompt provided failed safety check due to the inclusion of prohibited content.',
      });
    }

    const inflight = this.inflight.get(key) ?? 0;
    if (inflight + input.numImages > this.options.maxInflightImages) {
      const headers: Record<string, string> =
        this.options.retryAfter === null ? {} : { 'retry-after': this.options.retryAfter };
      return this.json(
        req,
        res,
        429,
        {
          error: 'Too many requests in flight; wait for some to finish and retry.',
          reject_reason: 'inflight_limit',
          max_inflight_requests: this.options.maxInflightImages,
        },
        headers,
      );
    }

    const id = randomUUID();
    this.submissions.push({
      id,
      prompt: input.prompt,
      fields: Object.fromEntries([...body.text].map(([name, values]) => [name, values[values.length - 1]!])),
      files: Object.fromEntries(body.files),
      contentType: contentType.split(';')[0]!.trim(),
      apiKey: key,
      at: Date.now(),
    });
    this.inflight.set(key, inflight + input.numImages);
    try {
      if (this.options.latencyMs > 0) await sleep(this.options.latencyMs);
    } finally {
      this.inflight.set(key, (this.inflight.get(key) ?? input.numImages) - input.numImages);
    }
    if (res.destroyed) return;

    const unsafeAll = has(this.options.unsafeImageWords);
    const unsafeFirst = has(this.options.partlyUnsafeWords);
    const seed = input.seed ?? Math.floor(Math.random() * 2_147_483_647);
    const [width, height] = input.resolution;
    const shownPrompt =
      input.magicPrompt === 'OFF' ? input.prompt : `${input.prompt}, rendered in rich detail`;
    const expiresAt = Date.now() + this.options.imageTtlMs;
    const data = Array.from({ length: input.numImages }, (_, index) => {
      const safe = !(unsafeAll || (unsafeFirst && index === 0));
      let url: string | null = null;
      if (safe) {
        const imageId = `${id}-${index}`;
        this.images.set(imageId, { prompt: input.prompt, seed, index, width, height, expiresAt });
        const exp = Math.ceil(expiresAt / 1000);
        url = `${this.baseUrl}/api/images/ephemeral/${imageId}.png?exp=${exp}&sig=${this.sign(imageId, exp)}`;
      }
      return {
        url,
        prompt: shownPrompt,
        resolution: `${width}x${height}`,
        is_image_safe: safe,
        seed,
        style_type: input.styleType === 'AUTO' ? 'GENERAL' : input.styleType,
      };
    });
    const answer = { created: new Date().toISOString(), data };

    switch (malformed) {
      case 'not_json':
        return this.text(req, res, 200, '<html>upstream hiccup</html>', 'text/html');
      case 'no_data':
        return this.json(req, res, 200, { created: answer.created });
      case 'missing_url':
        return this.json(req, res, 200, { ...answer, data: data.map((d) => ({ ...d, url: null })) });
      case 'fewer_images':
        return this.json(req, res, 200, { ...answer, data: data.slice(0, -1) });
      case 'bad_resolution':
        return this.json(req, res, 200, {
          ...answer,
          data: data.map((d) => ({ ...d, resolution: 'large' })),
        });
      default:
        return this.json(req, res, 200, answer);
    }
  }

  private async parseBody(contentType: string, raw: Buffer): Promise<ParsedBody> {
    const type = contentType.split(';')[0]!.trim().toLowerCase();
    if (type === 'multipart/form-data') {
      let form: FormData;
      try {
        form = await new Request('http://fake.local', {
          method: 'POST',
          headers: { 'content-type': contentType },
          body: raw,
        }).formData();
      } catch {
        throw new BadRequest(400, 'Could not parse the multipart/form-data body.');
      }
      const parsed: ParsedBody = { text: new Map(), files: new Map() };
      for (const [name, value] of form.entries()) {
        if (typeof value === 'string') {
          parsed.text.set(name, [...(parsed.text.get(name) ?? []), value]);
        } else {
          const bytes = Buffer.from(await value.arrayBuffer());
          const file = { name: value.name, type: value.type, size: bytes.byteLength, bytes };
          parsed.files.set(name, [...(parsed.files.get(name) ?? []), file]);
        }
      }
      return parsed;
    }
    if (type === 'application/json' && this.options.acceptJson) {
      let json: unknown;
      try {
        json = JSON.parse(raw.toString('utf8'));
      } catch {
        throw new BadRequest(400, 'Request body is not valid JSON.');
      }
      if (typeof json !== 'object' || json === null || Array.isArray(json)) {
        throw new BadRequest(400, 'Request body must be an object.');
      }
      const parsed: ParsedBody = { text: new Map(), files: new Map() };
      for (const [name, value] of Object.entries(json)) {
        if (FILE_FIELDS.has(name)) throw new BadRequest(400, `${name} needs a multipart/form-data body.`);
        const values = Array.isArray(value) ? value : [value];
        parsed.text.set(
          name,
          values.map((v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v))),
        );
      }
      return parsed;
    }
    throw new BadRequest(415, `Unsupported content type "${type || 'none'}"; send multipart/form-data.`);
  }

  private async serveImage(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const imageId = IMAGE_PATH.exec(url.pathname)?.[1] ?? '';
    const image = this.images.get(imageId);
    const exp = Number(url.searchParams.get('exp'));
    const signed = url.searchParams.get('sig') === this.sign(imageId, exp);
    if (!image || !signed || Date.now() > image.expiresAt) {
      return this.json(req, res, 404, { error: 'Not Found' });
    }
    const png = renderSandboxImage({
      model: 'ideogram-v3',
      prompt: image.prompt,
      seed: image.seed,
      index: image.index,
      width: image.width,
      height: image.height,
    });
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, status: 200, ...this.keyOf(req) });
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': png.length });
    res.end(png);
  }

  private sign(imageId: string, exp: number): string {
    return createHmac('sha256', this.secret).update(`${imageId}:${exp}`).digest('hex');
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
      ...this.keyOf(req),
    });
    if (res.destroyed) return;
    res.writeHead(status, { 'content-type': contentType, ...headers });
    res.end(body);
  }
}

export function createIdeogramFake(options: IdeogramFakeOptions = {}): IdeogramFake {
  return new IdeogramFake(options);
}

interface ValidInput {
  prompt: string;
  seed: number | undefined;
  numImages: number;
  resolution: [number, number];
  magicPrompt: string;
  styleType: string;
}

/** Checks a body against GenerateImageRequestV3; throws BadRequest (400) naming the first problem. */
function validate(body: ParsedBody): ValidInput {
  const bad = (message: string): BadRequest => new BadRequest(400, message);
  for (const name of body.text.keys()) {
    if (FILE_FIELDS.has(name)) throw bad(`${name} must be image files.`);
    if (!TEXT_FIELDS.has(name)) throw bad(`Unknown field "${name}".`);
  }
  for (const name of body.files.keys()) {
    if (TEXT_FIELDS.has(name)) throw bad(`${name} must be a text field, not a file.`);
    if (!FILE_FIELDS.has(name)) throw bad(`Unknown field "${name}".`);
  }
  const one = (name: string): string | undefined => {
    const values = body.text.get(name);
    if (values === undefined) return undefined;
    if (values.length > 1) throw bad(`${name} was given more than once.`);
    return values[0];
  };
  const integer = (name: string, min: number, max: number): number | undefined => {
    const value = one(name);
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < min || n > max) {
      throw bad(`${name} must be an integer between ${min} and ${max}, got "${value}".`);
    }
    return n;
  };

  const prompt = one('prompt');
  if (prompt === undefined || prompt.trim() === '') throw bad('prompt is required.');
  for (const [name, allowed] of Object.entries(ENUMS)) {
    const value = one(name);
    if (value !== undefined && !allowed.includes(value)) {
      throw bad(`${name} must be one of ${allowed.join(', ')}; got "${value}".`);
    }
  }
  const seed = integer('seed', 0, 2_147_483_647);
  const numImages = integer('num_images', 1, 8) ?? 1;
  one('negative_prompt');
  one('custom_model_uri');

  const resolution = one('resolution');
  const aspectRatio = one('aspect_ratio');
  if (resolution !== undefined && aspectRatio !== undefined) {
    throw bad('resolution cannot be used in conjunction with aspect_ratio.');
  }
  if (resolution !== undefined && !RESOLUTIONS.has(resolution)) {
    throw bad(`resolution "${resolution}" is not a supported Ideogram 3.0 resolution.`);
  }
  const stylePreset = one('style_preset');
  if (stylePreset !== undefined && !STYLE_PRESETS.has(stylePreset)) {
    throw bad(`style_preset "${stylePreset}" is not a known preset.`);
  }
  const styleType = one('style_type');
  const styleCodes = body.text.get('style_codes');
  if (styleCodes !== undefined) {
    if (!styleCodes.every((code) => /^[0-9a-fA-F]{8}$/.test(code))) {
      throw bad('style_codes must be 8-character hexadecimal codes.');
    }
    if (styleType !== undefined || body.files.has('style_reference_images')) {
      throw bad('style_codes cannot be used in conjunction with style_reference_images or style_type.');
    }
  }
  const palette = one('color_palette');
  if (palette !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(palette);
    } catch {
      throw bad('color_palette must be a JSON object.');
    }
    const p = parsed as { name?: unknown; members?: unknown } | null;
    if (typeof p !== 'object' || p === null || (p.name === undefined) === (p.members === undefined)) {
      throw bad('color_palette must have either a preset name or members.');
    }
  }

  for (const name of FILE_FIELDS) {
    const files = body.files.get(name) ?? [];
    if (files.some((f) => !IMAGE_TYPES.has(f.type.toLowerCase()))) {
      throw bad(`${name}: images should be in JPEG, PNG or WebP format.`);
    }
    if (files.reduce((sum, f) => sum + f.size, 0) > TEN_MB) {
      throw bad(`${name}: maximum total size is 10MB.`);
    }
  }
  const characters = body.files.get('character_reference_images')?.length ?? 0;
  if (characters > 1) throw bad('character_reference_images currently supports only 1 image.');
  const masks = body.files.get('character_reference_images_mask')?.length ?? 0;
  if (masks > 0 && masks !== characters) {
    throw bad('character_reference_images_mask must match the number of character_reference_images.');
  }

  const size: [number, number] =
    resolution !== undefined
      ? (resolution.split('x').map(Number) as [number, number])
      : IDEOGRAM_RESOLUTIONS[aspectRatio ?? '1x1']!;
  return {
    prompt,
    seed,
    numImages,
    resolution: size,
    magicPrompt: one('magic_prompt') ?? 'AUTO',
    styleType: styleType ?? 'GENERAL',
  };
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

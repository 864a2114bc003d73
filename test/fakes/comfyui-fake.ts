import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { renderSandboxImage } from '../../providers/sandbox/render';

/**
 * A fake ComfyUI server on a real HTTP port, reproducing server.py and execution.py: `POST /prompt`
 * validates the API-format graph the way `validate_prompt` does (missing_node_type,
 * prompt_no_outputs, required_input_missing, bad_linked_input, return_type_mismatch,
 * invalid_input_type, min/max, value_not_in_list, LoadImage's "Invalid image file") and answers
 * `{prompt_id, number, node_errors}` or 400 `{error, node_errors}`; a queue ordered by number runs
 * `concurrency` prompts at once (ComfyUI itself runs one) for `runMs` each; `GET /queue`,
 * `POST /queue {delete|clear}`, `POST /interrupt` (with or without `prompt_id`),
 * `GET /history[/{id}]` with `status.messages`, `GET /view` serving real PNGs of the latent's size
 * (batch_size of them), `POST /upload/image` (multipart), `GET /system_stats`, every route also
 * under `/api`. No websocket: `ws` is not installed. Faults, restarts (queue and history are in
 * memory, as in ComfyUI) and records of prompts, interrupts and deletes are for tests.
 */

export interface ComfyuiFakeOptions {
  /** Prompts run at once (ComfyUI: 1). */
  concurrency?: number;
  /** How long one prompt runs. */
  runMs?: number;
  /** A prompt whose text inputs contain one of these fails at its sampler with an execution_error. */
  errorWords?: string[];
  /** Bearer token required on every request, as a reverse proxy in front would (none: open). */
  token?: string;
  /** Model files the loaders list (value_not_in_list otherwise). */
  models?: string[];
  /** Builds before targeted interrupts ignore `prompt_id` and stop whatever runs. */
  globalInterruptOnly?: boolean;
  /** False: `/ws` is refused (a proxy in front that does not pass websockets). */
  websocket?: boolean;
}

export interface ComfyuiFault {
  on: 'prompt' | 'history' | 'queue' | 'view' | 'interrupt' | 'upload' | 'system_stats' | 'any';
  status?: number;
  retryAfter?: string;
  /** JSON body, or a raw text body with `raw`. */
  body?: unknown;
  raw?: string;
  hang?: boolean;
  times?: number;
}

interface Item {
  number: number;
  id: string;
  prompt: Record<string, FakeNode>;
  extra: Record<string, unknown>;
  outputs: string[];
}

interface FakeNode {
  class_type: string;
  inputs: Record<string, unknown>;
}

interface Running {
  item: Item;
  startedAt: number;
  timer: NodeJS.Timeout;
}

interface StoredImage {
  model: string;
  prompt: string;
  seed: number | undefined;
  index: number;
  width: number;
  height: number;
}

type InputSpec = { type: string; min?: number; max?: number } | { type: 'COMBO'; options: () => string[] };

interface NodeClass {
  required: Record<string, InputSpec>;
  optional?: Record<string, InputSpec>;
  returns: string[];
  output?: 'output' | 'temp';
}

const DEFAULT_MODELS = [
  'flux2_dev_fp8mixed.safetensors',
  'mistral_3_small_flux2_bf16.safetensors',
  'flux2-vae.safetensors',
  'sd_xl_base_1.0.safetensors',
];

const SIZE = { type: 'INT', min: 16, max: 16384 };
const SEED = { type: 'INT', min: 0, max: Number.MAX_SAFE_INTEGER };

/** Progress messages a running prompt sends over the websocket (value 1 … PROGRESS_STEPS-1 of PROGRESS_STEPS). */
const PROGRESS_STEPS = 5;

export class ComfyuiFake {
  readonly options: Required<Omit<ComfyuiFakeOptions, 'token'>> & { token?: string };
  /** Every prompt accepted, in order. */
  readonly prompts: { id: string; number: number; body: Record<string, unknown> }[] = [];
  readonly interrupts: { promptId?: string; interrupted?: string }[] = [];
  readonly deletes: string[] = [];
  readonly uploads: { name: string; bytes: Buffer; contentType: string }[] = [];
  readonly requests: { method: string; path: string; status: number; authorization?: string }[] = [];
  /** Most prompts that ran at once. */
  maxConcurrent = 0;
  private number = 0;
  private counter = 0;
  private pending: Item[] = [];
  private readonly running = new Map<string, Running>();
  private history: Record<string, unknown> = {};
  private readonly images = new Map<string, StoredImage>();
  private readonly inputFiles = new Set<string>(['example.png']);
  private readonly faults: (ComfyuiFault & { remaining: number })[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly webSockets = new Set<{ clientId: string; socket: Socket }>();
  /** Websocket connections accepted so far. */
  wsConnections = 0;
  private server: Server | undefined;
  private baseUrl = '';
  private readonly classes: Record<string, NodeClass>;

  constructor(options: ComfyuiFakeOptions = {}) {
    this.options = {
      concurrency: 1,
      runMs: 0,
      errorWords: [],
      models: DEFAULT_MODELS,
      globalInterruptOnly: false,
      websocket: true,
      ...options,
    };
    const models = (): string[] => this.options.models;
    const combo = (list: string[]): InputSpec => ({ type: 'COMBO', options: () => list });
    const latent: NodeClass = {
      required: { width: SIZE, height: SIZE, batch_size: { type: 'INT', min: 1, max: 4096 } },
      returns: ['LATENT'],
    };
    this.classes = {
      CheckpointLoaderSimple: {
        required: { ckpt_name: { type: 'COMBO', options: models } },
        returns: ['MODEL', 'CLIP', 'VAE'],
      },
      UNETLoader: {
        required: {
          unet_name: { type: 'COMBO', options: models },
          weight_dtype: combo(['default', 'fp8_e4m3fn', 'fp8_e4m3fn_fast', 'fp8_e5m2']),
        },
        returns: ['MODEL'],
      },
      CLIPLoader: {
        required: {
          clip_name: { type: 'COMBO', options: models },
          type: combo(['stable_diffusion', 'sd3', 'flux', 'flux2', 'qwen_image']),
        },
        optional: { device: combo(['default', 'cpu']) },
        returns: ['CLIP'],
      },
      VAELoader: { required: { vae_name: { type: 'COMBO', options: models } }, returns: ['VAE'] },
      CLIPTextEncode: {
        required: { text: { type: 'STRING' }, clip: { type: 'CLIP' } },
        returns: ['CONDITIONING'],
      },
      FluxGuidance: {
        required: { conditioning: { type: 'CONDITIONING' }, guidance: { type: 'FLOAT', min: 0, max: 100 } },
        returns: ['CONDITIONING'],
      },
      BasicGuider: {
        required: { model: { type: 'MODEL' }, conditioning: { type: 'CONDITIONING' } },
        returns: ['GUIDER'],
      },
      RandomNoise: { required: { noise_seed: SEED }, returns: ['NOISE'] },
      KSamplerSelect: {
        required: { sampler_name: combo(['euler', 'dpmpp_2m', 'uni_pc']) },
        returns: ['SAMPLER'],
      },
      Flux2Scheduler: {
        required: { steps: { type: 'INT', min: 1, max: 4096 }, width: SIZE, height: SIZE },
        returns: ['SIGMAS'],
      },
      EmptyLatentImage: latent,
      EmptySD3LatentImage: latent,
      EmptyFlux2LatentImage: latent,
      SamplerCustomAdvanced: {
        required: {
          noise: { type: 'NOISE' },
          guider: { type: 'GUIDER' },
          sampler: { type: 'SAMPLER' },
          sigmas: { type: 'SIGMAS' },
          latent_image: { type: 'LATENT' },
        },
        returns: ['LATENT', 'LATENT'],
      },
      KSampler: {
        required: {
          model: { type: 'MODEL' },
          seed: SEED,
          steps: { type: 'INT', min: 1, max: 10000 },
          cfg: { type: 'FLOAT', min: 0, max: 100 },
          sampler_name: combo(['euler', 'dpmpp_2m', 'uni_pc']),
          scheduler: combo(['normal', 'karras', 'simple']),
          positive: { type: 'CONDITIONING' },
          negative: { type: 'CONDITIONING' },
          latent_image: { type: 'LATENT' },
          denoise: { type: 'FLOAT', min: 0, max: 1 },
        },
        returns: ['LATENT'],
      },
      LoadImage: {
        required: { image: { type: 'COMBO', options: () => [...this.inputFiles] } },
        returns: ['IMAGE', 'MASK'],
      },
      VAEEncode: { required: { pixels: { type: 'IMAGE' }, vae: { type: 'VAE' } }, returns: ['LATENT'] },
      ReferenceLatent: {
        required: { conditioning: { type: 'CONDITIONING' } },
        optional: { latent: { type: 'LATENT' } },
        returns: ['CONDITIONING'],
      },
      VAEDecode: { required: { samples: { type: 'LATENT' }, vae: { type: 'VAE' } }, returns: ['IMAGE'] },
      SaveImage: {
        required: { images: { type: 'IMAGE' }, filename_prefix: { type: 'STRING' } },
        returns: [],
        output: 'output',
      },
      PreviewImage: { required: { images: { type: 'IMAGE' } }, returns: [], output: 'temp' },
    };
  }

  get url(): string {
    if (!this.server) throw new Error('ComfyuiFake: not started');
    return this.baseUrl;
  }

  async start(): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) this.send(req, res, 500, 'text/plain', String(error));
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    server.on('upgrade', (req, socket) => this.upgrade(req, socket as Socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return { url: this.baseUrl, close: () => this.close() };
  }

  async close(): Promise<void> {
    for (const run of this.running.values()) clearTimeout(run.timer);
    this.running.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** A ComfyUI restart: queue, running prompts and history are gone (they live in memory). */
  restart(): void {
    for (const run of this.running.values()) clearTimeout(run.timer);
    this.running.clear();
    this.pending = [];
    this.history = {};
  }

  inject(fault: ComfyuiFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Prompts running now. */
  get runningCount(): number {
    return this.running.size;
  }

  get pendingIds(): string[] {
    return [...this.pending].sort((a, b) => a.number - b.number).map((item) => item.id);
  }

  get runningIds(): string[] {
    return [...this.running.keys()];
  }

  historyOf(id: string): unknown {
    return this.history[id];
  }

  requestCount(method: string, path: string): number {
    return this.requests.filter((r) => r.method === method && r.path === path).length;
  }

  /**
   * ComfyUI's `/ws?clientId=` websocket, as server.py speaks it: a `status` message on connect,
   * then, for the prompts queued with that client_id, `execution_start`, `executing`, `progress`
   * ({value, max}), `executed` and `executing` with node null when done, `execution_success`, or
   * `execution_error` / `execution_interrupted`. A minimal RFC 6455 server (text frames only).
   */
  private upgrade(req: IncomingMessage, socket: Socket): void {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname;
    const key = req.headers['sec-websocket-key'];
    const refused = !this.options.websocket || path !== '/ws';
    if (refused || typeof key !== 'string' || req.headers.upgrade?.toLowerCase() !== 'websocket') {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    const clientId = url.searchParams.get('clientId') ?? randomUUID().replace(/-/g, '');
    this.webSockets.add({ clientId, socket });
    this.wsConnections += 1;
    socket.on('data', (frame: Buffer) => {
      // A close frame from the client (opcode 8): answer it and hang up.
      if (frame.length > 0 && (frame[0]! & 0x0f) === 8) socket.end(Buffer.from([0x88, 0]));
    });
    const forget = (): void => {
      for (const ws of this.webSockets) if (ws.socket === socket) this.webSockets.delete(ws);
    };
    socket.on('close', forget);
    // A client that died (a SIGKILLed worker) leaves a socket whose next write fails: forget it.
    socket.on('error', () => {
      forget();
      socket.destroy();
    });
    this.sendWs(clientId, 'status', {
      status: { exec_info: { queue_remaining: this.pending.length + this.running.size } },
      sid: clientId,
    });
  }

  /** Sends one JSON message to the websockets of a client id. */
  private sendWs(clientId: unknown, type: string, data: unknown): void {
    const payload = Buffer.from(JSON.stringify({ type, data }));
    const header =
      payload.length < 126
        ? Buffer.from([0x81, payload.length])
        : payload.length < 65_536
          ? Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff])
          : Buffer.concat([
              Buffer.from([0x81, 127]),
              Buffer.from(new BigUint64Array([BigInt(payload.length)]).buffer).reverse(),
            ]);
    for (const ws of this.webSockets) {
      if (ws.clientId === clientId && !ws.socket.destroyed) ws.socket.write(Buffer.concat([header, payload]));
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = req.method ?? 'GET';
    const path = url.pathname.startsWith('/api/') ? url.pathname.slice(4) : url.pathname;
    const raw = await readBody(req);
    const route = path.startsWith('/history')
      ? 'history'
      : path === '/upload/image'
        ? 'upload'
        : (path.slice(1) as ComfyuiFault['on']);
    const fault = this.takeFault(route);
    if (fault) {
      if (fault.hang) {
        this.requests.push({ method, path, status: 0 });
        return;
      }
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      const status = fault.status ?? 500;
      if (fault.raw !== undefined) return this.send(req, res, status, 'text/plain', fault.raw, headers);
      return this.json(req, res, status, fault.body ?? { error: `injected ${status}` }, headers);
    }
    if (this.options.token && req.headers.authorization !== `Bearer ${this.options.token}`) {
      return this.send(req, res, 401, 'text/plain', '401: Unauthorized');
    }

    if (method === 'POST' && path === '/prompt') return this.postPrompt(req, res, raw);
    if (method === 'GET' && path === '/queue') return this.json(req, res, 200, this.queueBody());
    if (method === 'POST' && path === '/queue') return this.postQueue(req, res, raw);
    if (method === 'POST' && path === '/interrupt') return this.postInterrupt(req, res, raw);
    if (method === 'GET' && path === '/history') return this.json(req, res, 200, this.history);
    if (method === 'GET' && path.startsWith('/history/')) {
      const id = decodeURIComponent(path.slice('/history/'.length));
      return this.json(req, res, 200, id in this.history ? { [id]: this.history[id] } : {});
    }
    if (method === 'GET' && path === '/view') return this.view(req, res, url);
    if (method === 'POST' && path === '/upload/image') return this.upload(req, res, raw);
    if (method === 'GET' && path === '/system_stats') {
      return this.json(req, res, 200, {
        system: {
          os: 'linux',
          ram_total: 68_719_476_736,
          ram_free: 34_359_738_368,
          comfyui_version: '0.3.75',
        },
        devices: [
          {
            name: 'cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync',
            type: 'cuda',
            index: 0,
            vram_total: 25_386_352_640,
            vram_free: 20_000_000_000,
            torch_vram_total: 0,
            torch_vram_free: 0,
          },
        ],
      });
    }
    return this.send(req, res, 404, 'text/plain', '404: Not Found');
  }

  private takeFault(route: string): ComfyuiFault | undefined {
    const index = this.faults.findIndex((f) => f.on === 'any' || f.on === route);
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private queueBody(): { queue_running: unknown[]; queue_pending: unknown[] } {
    const tuple = (item: Item): unknown[] => [item.number, item.id, item.prompt, item.extra, item.outputs];
    // Like ComfyUI's heap: pending is not in order (here: newest first), clients sort by number.
    return {
      queue_running: [...this.running.values()].map((run) => tuple(run.item)),
      queue_pending: [...this.pending].reverse().map(tuple),
    };
  }

  private postPrompt(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
    } catch {
      // aiohttp's request.json() raises; ComfyUI answers 500.
      return this.send(req, res, 500, 'text/plain', '500 Internal Server Error');
    }
    const number = typeof body.number === 'number' ? body.number : this.number;
    if (typeof body.number !== 'number') this.number += 1;
    if (!('prompt' in body)) {
      return this.json(req, res, 400, {
        error: {
          type: 'no_prompt',
          message: 'No prompt provided',
          details: 'No prompt provided',
          extra_info: {},
        },
        node_errors: {},
      });
    }
    let id: string = randomUUID();
    if (body.prompt_id !== undefined && body.prompt_id !== null) {
      if (
        typeof body.prompt_id !== 'string' ||
        !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(body.prompt_id)
      ) {
        return this.json(req, res, 400, {
          error: {
            type: 'invalid_prompt_id',
            message: 'prompt_id must be a valid UUID',
            details:
              'prompt_id must be a UUID string in canonical lowercase hyphenated form; omit it to let the server generate one',
            extra_info: {},
          },
          node_errors: {},
        });
      }
      id = body.prompt_id;
    }
    const prompt = body.prompt as Record<string, FakeNode>;
    const result = this.validate(prompt);
    if (!result.ok) return this.json(req, res, 400, { error: result.error, node_errors: result.nodeErrors });
    const extra: Record<string, unknown> = { ...(body.extra_data as Record<string, unknown> | undefined) };
    if (typeof body.client_id === 'string') extra.client_id = body.client_id;
    extra.create_time = Date.now();
    this.pending.push({ number, id, prompt, extra, outputs: result.outputs });
    this.prompts.push({ id, number, body });
    this.json(req, res, 200, { prompt_id: id, number, node_errors: result.nodeErrors });
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.options.concurrency && this.pending.length > 0) {
      this.pending.sort((a, b) => a.number - b.number);
      const item = this.pending.shift() as Item;
      const timer = setTimeout(() => this.finish(item.id), this.options.runMs);
      this.running.set(item.id, { item, startedAt: Date.now(), timer });
      this.announceStart(item);
      this.maxConcurrent = Math.max(this.maxConcurrent, this.running.size);
    }
  }

  /** The websocket messages of a prompt that starts: start, the sampler executing, its steps. */
  private announceStart(item: Item): void {
    const client = item.extra.client_id;
    this.sendWs(client, 'execution_start', { prompt_id: item.id, timestamp: Date.now() });
    this.sendWs(client, 'execution_cached', { nodes: [], prompt_id: item.id, timestamp: Date.now() });
    const sampler = Object.entries(item.prompt).find(
      ([, n]) => n.class_type.startsWith('KSampler') || n.class_type === 'SamplerCustomAdvanced',
    );
    const node = sampler?.[0] ?? null;
    this.sendWs(client, 'executing', { node, display_node: node, prompt_id: item.id });
    const steps = PROGRESS_STEPS;
    for (let value = 1; value < steps; value++) {
      const tick = setTimeout(
        () => {
          if (this.running.has(item.id))
            this.sendWs(client, 'progress', { value, max: steps, prompt_id: item.id, node });
        },
        (this.options.runMs * value) / steps,
      );
      tick.unref();
    }
  }

  private finish(id: string, interrupted = false): void {
    const run = this.running.get(id);
    if (!run) return;
    clearTimeout(run.timer);
    this.running.delete(id);
    const { item } = run;
    const started = ['execution_start', { prompt_id: id, timestamp: run.startedAt }];
    const texts = Object.values(item.prompt)
      .flatMap((node) => Object.values(node.inputs))
      .filter((v): v is string => typeof v === 'string');
    const sampler = Object.entries(item.prompt).find(
      ([, n]) => n.class_type.startsWith('KSampler') || n.class_type === 'SamplerCustomAdvanced',
    );
    const failing = this.options.errorWords.find((w) =>
      texts.some((t) => t.toLowerCase().includes(w.toLowerCase())),
    );
    const entry = (status: string, messages: unknown[], outputs: Record<string, unknown>): void => {
      this.history[id] = {
        prompt: [item.number, id, item.prompt, item.extra, item.outputs],
        outputs,
        status: { status_str: status, completed: status === 'success', messages },
        meta: {},
      };
      // The same story on the websocket (execution_start went out when the prompt started).
      const client = item.extra.client_id;
      for (const [node, output] of Object.entries(outputs)) {
        this.sendWs(client, 'executed', { node, display_node: node, output, prompt_id: id });
      }
      for (const message of messages.slice(1) as Array<[string, unknown]>)
        this.sendWs(client, message[0], message[1]);
      if (status === 'success') this.sendWs(client, 'executing', { node: null, prompt_id: id });
      this.pump();
    };
    if (interrupted) {
      return entry(
        'error',
        [
          started,
          [
            'execution_interrupted',
            {
              prompt_id: id,
              node_id: sampler?.[0] ?? '0',
              node_type: sampler?.[1].class_type ?? 'unknown',
              executed: [],
              timestamp: Date.now(),
            },
          ],
        ],
        {},
      );
    }
    if (failing) {
      return entry(
        'error',
        [
          started,
          [
            'execution_error',
            {
              prompt_id: id,
              node_id: sampler?.[0] ?? '0',
              node_type: sampler?.[1].class_type ?? 'unknown',
              executed: [],
              exception_message: 'Allocation on device would exceed allowed memory. (out of memory)\n',
              exception_type: 'torch.OutOfMemoryError',
              traceback: ['  File "execution.py", line 496, in execute\n'],
              current_inputs: {},
              current_outputs: {},
              timestamp: Date.now(),
            },
          ],
        ],
        {},
      );
    }
    const latent = Object.values(item.prompt).find((n) => /^Empty.*LatentImage$/.test(n.class_type));
    const width = typeof latent?.inputs.width === 'number' ? latent.inputs.width : 512;
    const height = typeof latent?.inputs.height === 'number' ? latent.inputs.height : 512;
    const batch = typeof latent?.inputs.batch_size === 'number' ? latent.inputs.batch_size : 1;
    const text = Object.values(item.prompt).find((n) => n.class_type === 'CLIPTextEncode')?.inputs.text;
    const seedNode = Object.values(item.prompt).find((n) => 'seed' in n.inputs || 'noise_seed' in n.inputs);
    const seed = seedNode?.inputs.seed ?? seedNode?.inputs.noise_seed;
    const outputs: Record<string, unknown> = {};
    for (const nodeId of item.outputs) {
      const node = item.prompt[nodeId] as FakeNode;
      const kind = this.classes[node.class_type]?.output ?? 'output';
      const prefix =
        typeof node.inputs.filename_prefix === 'string' ? node.inputs.filename_prefix : 'ComfyUI';
      const slash = prefix.lastIndexOf('/');
      const subfolder = slash >= 0 ? prefix.slice(0, slash) : '';
      const base = slash >= 0 ? prefix.slice(slash + 1) : prefix;
      const images = [];
      for (let index = 0; index < batch; index++) {
        this.counter += 1;
        const filename = `${kind === 'temp' ? `${base}_temp` : base}_${String(this.counter).padStart(5, '0')}_.png`;
        this.images.set(`${kind}/${subfolder}/${filename}`, {
          model: String(item.prompt[Object.keys(item.prompt)[0] as string]?.class_type),
          prompt: typeof text === 'string' ? text : '',
          seed: typeof seed === 'number' ? seed : undefined,
          index,
          width,
          height,
        });
        images.push({ filename, subfolder, type: kind });
      }
      outputs[nodeId] = { images };
    }
    entry(
      'success',
      [
        started,
        ['execution_cached', { nodes: [], prompt_id: id, timestamp: run.startedAt }],
        ['execution_success', { prompt_id: id, timestamp: Date.now() }],
      ],
      outputs,
    );
  }

  private postQueue(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const body = parseJson(raw);
    if (body.clear === true) this.pending = [];
    if (Array.isArray(body.delete)) {
      for (const id of body.delete) {
        this.deletes.push(String(id));
        this.pending = this.pending.filter((item) => item.id !== id);
      }
    }
    this.send(req, res, 200, 'application/octet-stream', '');
  }

  private postInterrupt(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const body = parseJson(raw);
    const promptId = typeof body.prompt_id === 'string' && body.prompt_id ? body.prompt_id : undefined;
    let target: string | undefined;
    if (promptId && !this.options.globalInterruptOnly)
      target = this.running.has(promptId) ? promptId : undefined;
    else target = [...this.running.keys()][0];
    this.interrupts.push({ ...(promptId ? { promptId } : {}), ...(target ? { interrupted: target } : {}) });
    if (target) this.finish(target, true);
    this.send(req, res, 200, 'application/octet-stream', '');
  }

  private view(req: IncomingMessage, res: ServerResponse, url: URL): void {
    const filename = url.searchParams.get('filename');
    if (filename === null) return this.send(req, res, 404, 'text/plain', '404: Not Found');
    if (filename.startsWith('/') || filename.includes('..'))
      return this.send(req, res, 400, 'text/plain', '');
    const type = url.searchParams.get('type') ?? 'output';
    const subfolder = url.searchParams.get('subfolder') ?? '';
    if (subfolder.includes('..')) return this.send(req, res, 403, 'text/plain', '');
    const spec = this.images.get(`${type}/${subfolder}/${filename}`);
    if (!spec) return this.send(req, res, 404, 'text/plain', '404: Not Found');
    const png = renderSandboxImage(spec);
    this.send(req, res, 200, 'image/png', png, { 'content-disposition': `filename="${filename}"` });
  }

  private async upload(req: IncomingMessage, res: ServerResponse, raw: Buffer): Promise<void> {
    const headers = new Headers();
    for (const [key, value] of Object.entries(req.headers))
      if (typeof value === 'string') headers.set(key, value);
    let form: FormData;
    try {
      form = await new Request('http://fake/upload', { method: 'POST', headers, body: raw }).formData();
    } catch {
      return this.send(req, res, 400, 'text/plain', '');
    }
    const image = form.get('image');
    if (!(image instanceof Blob) || !('name' in image) || !image.name)
      return this.send(req, res, 400, 'text/plain', '');
    const name = String(image.name);
    const field = form.get('subfolder');
    const subfolder = typeof field === 'string' ? field : '';
    const key = subfolder ? `${subfolder}/${name}` : name;
    this.inputFiles.add(key);
    this.uploads.push({ name: key, bytes: Buffer.from(await image.arrayBuffer()), contentType: image.type });
    this.json(req, res, 200, { name, subfolder, type: 'input' });
  }

  private validate(
    prompt: Record<string, FakeNode>,
  ):
    | { ok: true; outputs: string[]; nodeErrors: Record<string, unknown> }
    | { ok: false; error: Record<string, unknown>; nodeErrors: Record<string, unknown> } {
    const outputs: string[] = [];
    for (const [id, node] of Object.entries(prompt)) {
      if (typeof node !== 'object' || node === null || typeof node.class_type !== 'string') {
        return {
          ok: false,
          error: {
            type: 'missing_node_type',
            message: `Node 'ID #${id}' has no class_type. The workflow may be corrupted or a custom node is missing.`,
            details: `Node ID '#${id}'`,
            extra_info: { node_id: id, class_type: null, node_title: null },
          },
          nodeErrors: {},
        };
      }
      const cls = this.classes[node.class_type];
      if (!cls) {
        return {
          ok: false,
          error: {
            type: 'missing_node_type',
            message: `Node '${node.class_type}' not found. The custom node may not be installed.`,
            details: `Node ID '#${id}'`,
            extra_info: { node_id: id, class_type: node.class_type, node_title: node.class_type },
          },
          nodeErrors: {},
        };
      }
      if (cls.output) outputs.push(id);
    }
    if (outputs.length === 0) {
      return {
        ok: false,
        error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} },
        nodeErrors: {},
      };
    }
    const validated = new Map<string, { ok: boolean; errors: Record<string, unknown>[] }>();
    const visit = (id: string): boolean => {
      const done = validated.get(id);
      if (done) return done.ok;
      validated.set(id, { ok: true, errors: [] });
      const node = prompt[id] as FakeNode;
      const cls = this.classes[node.class_type] as NodeClass;
      const inputs = typeof node.inputs === 'object' && node.inputs !== null ? node.inputs : {};
      const errors: Record<string, unknown>[] = [];
      let ok = true;
      const specs = { ...cls.required, ...cls.optional };
      for (const [name, spec] of Object.entries(specs)) {
        const err = (type: string, message: string, details: string): void => {
          errors.push({ type, message, details, extra_info: { input_name: name } });
        };
        if (!(name in inputs)) {
          if (name in cls.required) err('required_input_missing', 'Required input is missing', name);
          continue;
        }
        const value = inputs[name];
        if (Array.isArray(value)) {
          if (value.length !== 2) {
            err(
              'bad_linked_input',
              'Bad linked input, must be a length-2 list of [node_id, slot_index]',
              name,
            );
            continue;
          }
          const source = prompt[String(value[0])];
          if (!source) {
            err(
              'exception_during_inner_validation',
              'Exception when validating inner node',
              `'${String(value[0])}'`,
            );
            continue;
          }
          const received = this.classes[source.class_type]?.returns[Number(value[1])];
          if (received !== spec.type) {
            err(
              'return_type_mismatch',
              'Return type mismatch between linked nodes',
              `${name}, received_type(${String(received)}) mismatch input_type(${spec.type})`,
            );
            continue;
          }
          if (!visit(String(value[0]))) ok = false;
          continue;
        }
        if (spec.type === 'INT' || spec.type === 'FLOAT') {
          const n = Number(value);
          if (
            typeof value === 'boolean' ||
            !Number.isFinite(n) ||
            (spec.type === 'INT' && !Number.isInteger(n))
          ) {
            err(
              'invalid_input_type',
              `Failed to convert an input value to a ${spec.type} value`,
              `${name}, ${String(value)}`,
            );
            continue;
          }
          if ('min' in spec && spec.min !== undefined && n < spec.min) {
            err('value_smaller_than_min', `Value ${n} smaller than min of ${spec.min}`, name);
          } else if ('max' in spec && spec.max !== undefined && n > spec.max) {
            err('value_bigger_than_max', `Value ${n} bigger than max of ${spec.max}`, name);
          }
        } else if ('options' in spec) {
          const options = spec.options();
          if (!options.includes(String(value))) {
            if (node.class_type === 'LoadImage') {
              err(
                'custom_validation_failed',
                'Custom validation failed for node',
                `image - Invalid image file: ${String(value)}`,
              );
            } else {
              err(
                'value_not_in_list',
                'Value not in list',
                `${name}: '${String(value)}' not in [${options.map((o) => `'${o}'`).join(', ')}]`,
              );
            }
          }
        }
      }
      validated.set(id, { ok: ok && errors.length === 0, errors });
      return ok && errors.length === 0;
    };
    const nodeErrors: Record<string, { errors: unknown[]; dependent_outputs: string[]; class_type: string }> =
      {};
    const good: string[] = [];
    const lines: string[] = [];
    for (const output of outputs) {
      if (visit(output)) {
        good.push(output);
        continue;
      }
      for (const [id, result] of validated) {
        if (result.ok || result.errors.length === 0) continue;
        const entry = (nodeErrors[id] ??= {
          errors: result.errors,
          dependent_outputs: [],
          class_type: (prompt[id] as FakeNode).class_type,
        });
        entry.dependent_outputs.push(output);
        for (const e of result.errors) lines.push(`${String(e.message)}: ${String(e.details)}`);
      }
    }
    if (good.length === 0) {
      return {
        ok: false,
        error: {
          type: 'prompt_outputs_failed_validation',
          message: 'Prompt outputs failed validation',
          details: lines.join('\n'),
          extra_info: {},
        },
        nodeErrors,
      };
    }
    return { ok: true, outputs: good, nodeErrors };
  }

  private json(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    this.send(req, res, status, 'application/json; charset=utf-8', JSON.stringify(body), headers);
  }

  private send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    contentType: string,
    body: string | Buffer,
    headers: Record<string, string> = {},
  ): void {
    this.requests.push({
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', this.baseUrl).pathname,
      status,
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
    });
    res.writeHead(status, { 'content-type': contentType, ...headers });
    res.end(body);
  }
}

export function createComfyuiFake(options: ComfyuiFakeOptions = {}): ComfyuiFake {
  return new ComfyuiFake(options);
}

function parseJson(raw: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(raw.toString('utf8'));
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
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

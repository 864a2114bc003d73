import { randomInt } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { PNG } from 'pngjs';
import { renderSandboxImage } from '../../providers/sandbox/render';

/**
 * A fake of a self-hosted midjourney-proxy (novicezk/midjourney-proxy, Spring, context path /mj)
 * on a real HTTP port, reproducing its controllers:
 * - `POST /mj/submit/imagine` `{prompt, base64Array?, notifyHook?, state?}` → HTTP 200
 *   SubmitResultVO `{code, description, result, properties}`: 1 submitted, 22 queued (with
 *   `numberOfQueues`, the tasks waiting before this one), 23 queue full, 24 banned word
 *   (`promptEn`, `bannedWord`), 4 blank prompt or bad base64;
 * - `POST /mj/submit/change` `{taskId, action, index, state?}`: 4 blank taskId or bad action,
 *   3 unknown target, 4 target not SUCCESS; with `legacyExistsCheck` (novicezk before March 2024)
 *   an UPSCALE already made answers 21 with that task's id;
 * - `GET /mj/task/{id}/fetch` → the Task, or an empty 200 body for an unknown id; `GET /mj/task/list`,
 *   `GET /mj/task/queue`, `POST /mj/task/list-by-condition {ids}`;
 * - the `mj-api-secret` header checked only when `secret` is set (401, empty body, as the
 *   ApiAuthorizeInterceptor answers); Spring's 400 for a body that is not JSON and 404 otherwise.
 * Tasks move NOT_START (waiting for one of `coreSize` slots) → SUBMITTED ("0%") → IN_PROGRESS
 * ("0%"…"99%", with a preview imageUrl) → SUCCESS ("100%") or FAILURE (`failReason`, progress "").
 * Images live on a second server standing in for Discord's CDN: the grid is a real 2×2 PNG and
 * each UPSCALE's imageUrl is its quarter. Faults (status, Retry-After, hang, malformed, times) are
 * injectable and submissions recorded.
 */

export interface MidjourneyProxyFakeOptions {
  /** `mj.api-secret`; when unset the proxy checks nothing. */
  secret?: string;
  /** Words of the proxy's banned-words.txt: imagine answers code 24. */
  bannedWords?: string[];
  /** Prompts containing one of these end as FAILURE with Midjourney's banned-prompt message. */
  moderationWords?: string[];
  /** Prompts containing one of these end as FAILURE with Midjourney's invalid-parameter message. */
  failWords?: string[];
  /** Prompts containing one of these end as FAILURE "任务超时" (the proxy's timeout). */
  timeoutWords?: string[];
  /** Tasks running at once per Discord account (`mj.discord.core-size`). */
  coreSize?: number;
  /** Tasks waiting at most (`mj.discord.queue-size`); beyond it, code 23. */
  queueSize?: number;
  /** Time a started task stays SUBMITTED before Midjourney reports progress. */
  submittedMs?: number;
  /** Time an imagine task is IN_PROGRESS. */
  progressMs?: number;
  /** Time an upscale takes from start to SUCCESS. */
  upscaleMs?: number;
  /** Long side of one grid tile in pixels (the grid is twice that). */
  tileLongSide?: number;
  /** Pre-2024 novicezk: a repeated UPSCALE of the same index answers 21 with the existing task. */
  legacyExistsCheck?: boolean;
  /** Newest tasks `GET /mj/task/list` returns (trueai: 100); all when unset (novicezk). */
  taskListLimit?: number;
  /** Serve `GET /mj/task/list` (true) or answer 404 as a fork without it would. */
  listRoute?: boolean;
}

export type MidjourneyProxyRoute = 'imagine' | 'change' | 'fetch' | 'list' | 'queue' | 'image' | 'any';

export interface MidjourneyProxyFault {
  on: MidjourneyProxyRoute;
  /** Answer with this HTTP status (default 503 unless `code` or `malformed`). */
  status?: number;
  /** Answer HTTP 200 with a SubmitResultVO of this code (e.g. 9, 23) instead of handling the request. */
  code?: number;
  retryAfter?: string;
  /** Never answer. */
  hang?: boolean;
  /** Answer 200 with a body that is not JSON. */
  malformed?: boolean;
  /** A JSON body to answer with. */
  body?: unknown;
  /** How many matching requests it hits; default 1. */
  times?: number;
}

export interface MidjourneyProxySubmission {
  route: 'imagine' | 'change';
  body: Record<string, unknown>;
  secret: string | undefined;
  code: number;
  id: string | undefined;
  at: number;
}

interface FakeTask {
  id: string;
  action: 'IMAGINE' | 'UPSCALE';
  prompt: string;
  description: string;
  state: string | null;
  submitTime: number;
  startAt: number;
  finishAt: number;
  outcome: { status: 'SUCCESS' } | { status: 'FAILURE'; reason: string; at: number };
  parentId?: string;
  index?: number;
  width: number;
  height: number;
  seed?: number;
  references: number;
}

const DEFAULTS = {
  coreSize: 3,
  queueSize: 10,
  submittedMs: 20,
  progressMs: 150,
  upscaleMs: 60,
  tileLongSide: 128,
  legacyExistsCheck: false,
  listRoute: true,
};

const DISCORD_CHANNEL = '1118138338562560102';

export class MidjourneyProxyFake {
  readonly options: typeof DEFAULTS &
    MidjourneyProxyFakeOptions & {
      bannedWords: string[];
      moderationWords: string[];
      failWords: string[];
      timeoutWords: string[];
    };
  readonly submissions: MidjourneyProxySubmission[] = [];
  readonly requests: { method: string; path: string; status: number }[] = [];
  /** Requests that reached the CDN, with the headers they carried. */
  readonly cdnRequests: { path: string; headers: IncomingMessage['headers'] }[] = [];
  private readonly tasks = new Map<string, FakeTask>();
  private readonly fetches = new Map<string, number>();
  private readonly faults: (MidjourneyProxyFault & { remaining: number })[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly grids = new Map<string, PNG>();
  private slots: number[];
  private api: Server | undefined;
  private cdn: Server | undefined;
  private apiUrl = '';
  private cdnBase = '';

  constructor(options: MidjourneyProxyFakeOptions = {}) {
    this.options = {
      ...DEFAULTS,
      bannedWords: [],
      moderationWords: [],
      failWords: [],
      timeoutWords: [],
      ...options,
    };
    this.slots = new Array<number>(this.options.coreSize).fill(0);
  }

  get url(): string {
    if (!this.api) throw new Error('MidjourneyProxyFake: not started');
    return this.apiUrl;
  }

  /** The stand-in for Discord's CDN, where image URLs point. */
  get cdnUrl(): string {
    if (!this.cdn) throw new Error('MidjourneyProxyFake: not started');
    return this.cdnBase;
  }

  async start(): Promise<{ url: string; close: () => Promise<void> }> {
    const listen = async (
      handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
    ): Promise<[Server, string]> => {
      const server = createServer((req, res) => {
        handler(req, res).catch((error: unknown) => {
          if (!res.headersSent) this.springError(req, res, 500, 'Internal Server Error', String(error));
        });
      });
      server.on('connection', (socket) => {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return [server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`];
    };
    [this.api, this.apiUrl] = await listen((req, res) => this.handle(req, res));
    [this.cdn, this.cdnBase] = await listen((req, res) => this.serveCdn(req, res));
    return { url: this.apiUrl, close: () => this.close() };
  }

  async close(): Promise<void> {
    const servers = [this.api, this.cdn].filter((s): s is Server => s !== undefined);
    this.api = undefined;
    this.cdn = undefined;
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }

  inject(fault: MidjourneyProxyFault): void {
    this.faults.push({ ...fault, remaining: fault.times ?? 1 });
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Accepted submissions (a task id answered), in total or for one route. */
  submissionCount(route?: 'imagine' | 'change'): number {
    return this.submissions.filter((s) => s.id !== undefined && (route === undefined || s.route === route))
      .length;
  }

  fetchCount(id?: string): number {
    if (id !== undefined) return this.fetches.get(id) ?? 0;
    let total = 0;
    for (const count of this.fetches.values()) total += count;
    return total;
  }

  requestCount(method: string, pathPrefix: string): number {
    return this.requests.filter((r) => r.method === method && r.path.startsWith(pathPrefix)).length;
  }

  /** The Task JSON as `fetch` would answer it now. */
  taskView(id: string): Record<string, unknown> | undefined {
    const task = this.tasks.get(id);
    return task ? this.view(task) : undefined;
  }

  /** Forgets a task, as a proxy restarted with its in-memory store would. */
  forget(id: string): void {
    this.tasks.delete(id);
  }

  /** The upscale tasks made for an imagine task, by index. */
  upscalesOf(imagineId: string): { id: string; index: number | undefined }[] {
    return [...this.tasks.values()]
      .filter((t) => t.action === 'UPSCALE' && t.parentId === imagineId)
      .map((t) => ({ id: t.id, index: t.index }));
  }

  /** The PNG of one grid quarter (index 1–4), as an upscale serves it. */
  quarterPng(imagineId: string, index: number): Buffer {
    const task = this.tasks.get(imagineId);
    if (!task) throw new Error(`no task ${imagineId}`);
    return PNG.sync.write(this.quarter(task, index));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.apiUrl);
    const method = req.method ?? 'GET';
    const path = url.pathname;
    const raw = await readBody(req);
    const route = routeOf(method, path);

    if (this.options.secret !== undefined && /^\/mj\/(submit|task|account)\//.test(path)) {
      if (req.headers['mj-api-secret'] !== this.options.secret) return this.empty(req, res, 401);
    }

    const fault = this.takeFault(route);
    if (fault) {
      if (fault.hang) {
        this.requests.push({ method, path, status: 0 });
        return;
      }
      if (fault.malformed) return this.raw(req, res, 200, 'application/json', '<html>Bad Gateway</html>');
      if (fault.code !== undefined)
        return this.json(req, res, 200, vo(fault.code, `injected code ${fault.code}`, null));
      const headers: Record<string, string> = fault.retryAfter ? { 'retry-after': fault.retryAfter } : {};
      const status = fault.status ?? 503;
      if (fault.body !== undefined) return this.json(req, res, status, fault.body, headers);
      return this.springError(
        req,
        res,
        status,
        status === 429 ? 'Too Many Requests' : 'Service Unavailable',
        '',
        headers,
      );
    }

    if (route === 'imagine' || route === 'change') {
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return this.springError(req, res, 400, 'Bad Request', 'JSON parse error');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        return this.springError(req, res, 400, 'Bad Request', 'JSON parse error');
      }
      const input = body as Record<string, unknown>;
      const answer = route === 'imagine' ? this.imagine(input) : this.change(input);
      if (answer === 'bad_enum') return this.springError(req, res, 400, 'Bad Request', 'JSON parse error');
      this.submissions.push({
        route,
        body: input,
        secret: header(req, 'mj-api-secret'),
        code: answer.code,
        id: [1, 21, 22].includes(answer.code) ? (answer.result ?? undefined) : undefined,
        at: Date.now(),
      });
      return this.json(req, res, 200, answer);
    }
    if (route === 'fetch') {
      const id = decodeURIComponent(path.slice('/mj/task/'.length, -'/fetch'.length));
      this.fetches.set(id, (this.fetches.get(id) ?? 0) + 1);
      const task = this.tasks.get(id);
      // Spring writes nothing for a null return.
      if (!task) return this.empty(req, res, 200);
      return this.json(req, res, 200, this.view(task));
    }
    if (route === 'list') {
      if (!this.options.listRoute) return this.springError(req, res, 404, 'Not Found', '');
      const all = [...this.tasks.values()].sort((a, b) => b.submitTime - a.submitTime);
      const limited =
        this.options.taskListLimit === undefined ? all : all.slice(0, this.options.taskListLimit);
      return this.json(
        req,
        res,
        200,
        limited.map((t) => this.view(t)),
      );
    }
    if (route === 'queue') {
      const now = Date.now();
      const queued = [...this.tasks.values()]
        .filter((t) => now < this.endOf(t))
        .sort((a, b) => a.submitTime - b.submitTime);
      return this.json(
        req,
        res,
        200,
        queued.map((t) => this.view(t)),
      );
    }
    if (method === 'POST' && path === '/mj/task/list-by-condition') {
      let ids: unknown;
      try {
        ids = (JSON.parse(raw.toString('utf8')) as { ids?: unknown }).ids;
      } catch {
        return this.springError(req, res, 400, 'Bad Request', 'JSON parse error');
      }
      const list = Array.isArray(ids)
        ? ids.map((id) => this.tasks.get(String(id))).filter((t) => t !== undefined)
        : [];
      return this.json(
        req,
        res,
        200,
        list.map((t) => this.view(t)),
      );
    }
    return this.springError(req, res, 404, 'Not Found', '');
  }

  private imagine(input: Record<string, unknown>): ReturnType<typeof vo> {
    const prompt = typeof input.prompt === 'string' ? input.prompt.trim() : '';
    if (prompt === '') return vo(4, 'prompt不能为空', null);
    const banned = this.options.bannedWords.find((w) => new RegExp(`\\b${w}\\b`).test(prompt.toLowerCase()));
    if (banned) {
      const at = prompt.toLowerCase().indexOf(banned.toLowerCase());
      return vo(24, '可能包含敏感词', null, {
        promptEn: prompt,
        bannedWord: prompt.slice(at, at + banned.length),
      });
    }
    const base64Array = input.base64Array ?? [];
    if (!Array.isArray(base64Array) || !base64Array.every((b) => typeof b === 'string' && isDataUrl(b))) {
      return vo(4, 'base64格式错误', null);
    }
    const has = (words: string[]): boolean =>
      words.some((w) => prompt.toLowerCase().includes(w.toLowerCase()));
    const [rw, rh] = aspectOf(prompt);
    const long = this.options.tileLongSide;
    const round = (x: number): number => Math.max(8, Math.round(x));
    const [width, height] = rw >= rh ? [long, round((long * rh) / rw)] : [round((long * rw) / rh), long];
    const seedMatch = /--seed\s+(\d+)/.exec(prompt);
    let outcome: FakeTask['outcome'] = { status: 'SUCCESS' };
    if (has(this.options.moderationWords)) {
      outcome = {
        status: 'FAILURE',
        reason:
          '[Banned prompt detected] Sorry! Our AI moderator thinks this prompt is probably against our community standards.',
        at: this.options.submittedMs,
      };
    } else if (has(this.options.failWords)) {
      outcome = {
        status: 'FAILURE',
        reason: '[Invalid parameter] Invalid value',
        at: this.options.submittedMs,
      };
    } else if (has(this.options.timeoutWords)) {
      outcome = {
        status: 'FAILURE',
        reason: '任务超时',
        at: this.options.submittedMs + this.options.progressMs,
      };
    }
    return this.enqueue({
      action: 'IMAGINE',
      prompt,
      description: `/imagine ${prompt}`,
      state: typeof input.state === 'string' ? input.state : null,
      duration: this.options.submittedMs + this.options.progressMs,
      outcome,
      width,
      height,
      seed: seedMatch ? Number(seedMatch[1]) : undefined,
      references: base64Array.length,
    });
  }

  private change(input: Record<string, unknown>): ReturnType<typeof vo> | 'bad_enum' {
    const action = input.action === null ? undefined : input.action;
    if (
      action !== undefined &&
      (typeof action !== 'string' ||
        !['IMAGINE', 'UPSCALE', 'VARIATION', 'REROLL', 'DESCRIBE', 'BLEND'].includes(action))
    ) {
      // Jackson cannot read an unknown TaskAction: Spring answers 400.
      return 'bad_enum';
    }
    const taskId = typeof input.taskId === 'string' ? input.taskId : '';
    if (taskId.trim() === '') return vo(4, 'taskId不能为空', null);
    if (action === undefined || !['UPSCALE', 'VARIATION', 'REROLL'].includes(action))
      return vo(4, 'action参数错误', null);
    if (action !== 'UPSCALE') return vo(9, 'fake: only UPSCALE is implemented', null);
    const index = typeof input.index === 'number' ? input.index : undefined;
    const description = `/up ${taskId} U${index ?? 'null'}`;
    if (this.options.legacyExistsCheck) {
      const existing = [...this.tasks.values()].find((t) => t.description === description);
      if (existing) {
        const view = this.view(existing);
        return vo(21, '任务已存在', existing.id, { status: view.status, imageUrl: view.imageUrl });
      }
    }
    const target = this.tasks.get(taskId);
    if (!target) return vo(3, '关联任务不存在或已失效', null);
    if (this.statusOf(target).status !== 'SUCCESS') return vo(4, '关联任务状态错误', null);
    if (target.action !== 'IMAGINE') return vo(4, '关联任务不允许执行变化', null);
    const validIndex = index !== undefined && Number.isInteger(index) && index >= 1 && index <= 4;
    return this.enqueue({
      action: 'UPSCALE',
      prompt: target.prompt,
      description,
      state: typeof input.state === 'string' ? input.state : null,
      duration: this.options.upscaleMs,
      // Discord refuses a button that does not exist; the proxy fails the task.
      outcome: validIndex
        ? { status: 'SUCCESS' }
        : { status: 'FAILURE', reason: '[Invalid parameter] Invalid value', at: this.options.submittedMs },
      width: target.width,
      height: target.height,
      parentId: target.id,
      index,
      references: 0,
    });
  }

  private enqueue(spec: {
    action: FakeTask['action'];
    prompt: string;
    description: string;
    state: string | null;
    duration: number;
    outcome: FakeTask['outcome'];
    width: number;
    height: number;
    seed?: number;
    parentId?: string;
    index?: number;
    references: number;
  }): ReturnType<typeof vo> {
    const now = Date.now();
    const waiting = [...this.tasks.values()].filter((t) => t.startAt > now).length;
    if (waiting >= this.options.queueSize) {
      return vo(23, '队列已满，请稍后尝试', null, { discordInstanceId: DISCORD_CHANNEL });
    }
    // The slot that frees first runs the task next.
    const slot = this.slots.indexOf(Math.min(...this.slots));
    const startAt = Math.max(now, this.slots[slot] ?? now);
    const end = spec.outcome.status === 'FAILURE' ? spec.outcome.at : spec.duration;
    this.slots[slot] = startAt + end;
    const id = `${now}${String(randomInt(0, 1000)).padStart(3, '0')}`;
    const task: FakeTask = {
      id: this.tasks.has(id) ? `${id}${this.tasks.size}` : id,
      action: spec.action,
      prompt: spec.prompt,
      description: spec.description,
      state: spec.state,
      submitTime: now,
      startAt,
      finishAt: startAt + spec.duration,
      outcome: spec.outcome,
      parentId: spec.parentId,
      index: spec.index,
      width: spec.width,
      height: spec.height,
      seed: spec.seed,
      references: spec.references,
    };
    this.tasks.set(task.id, task);
    if (waiting === 0) return vo(1, '提交成功', task.id, { discordInstanceId: DISCORD_CHANNEL });
    return vo(22, `排队中，前面还有${waiting}个任务`, task.id, {
      numberOfQueues: waiting,
      discordInstanceId: DISCORD_CHANNEL,
    });
  }

  private endOf(task: FakeTask): number {
    return task.outcome.status === 'FAILURE' ? task.startAt + task.outcome.at : task.finishAt;
  }

  private statusOf(task: FakeTask): { status: string; progress: string | null } {
    const now = Date.now();
    if (now < task.startAt) return { status: 'NOT_START', progress: null };
    if (now >= this.endOf(task)) {
      return task.outcome.status === 'SUCCESS'
        ? { status: 'SUCCESS', progress: '100%' }
        : { status: 'FAILURE', progress: '' };
    }
    const running = now - task.startAt;
    const submitted = task.action === 'IMAGINE' ? this.options.submittedMs : 0;
    if (running < submitted) return { status: 'SUBMITTED', progress: '0%' };
    const span = task.finishAt - task.startAt - submitted;
    const pct = Math.min(99, Math.floor(((running - submitted) / Math.max(1, span)) * 100));
    return { status: 'IN_PROGRESS', progress: `${pct}%` };
  }

  private view(task: FakeTask): Record<string, unknown> {
    const { status, progress } = this.statusOf(task);
    const attachments = `${this.cdnBase}/attachments/${DISCORD_CHANNEL}/${task.id}`;
    let imageUrl: string | null = null;
    if (status === 'SUCCESS')
      imageUrl = `${attachments}/${task.action === 'IMAGINE' ? 'grid_0' : 'upscale_1'}.png`;
    else if (status === 'IN_PROGRESS' && task.action === 'IMAGINE')
      imageUrl = `${attachments}/preview_0.webp`;
    return {
      id: task.id,
      action: task.action,
      status,
      prompt: task.prompt,
      promptEn: task.prompt,
      description: task.description,
      state: task.state,
      submitTime: task.submitTime,
      startTime: status === 'NOT_START' ? null : task.startAt,
      finishTime: status === 'SUCCESS' || status === 'FAILURE' ? this.endOf(task) : null,
      imageUrl,
      progress,
      failReason: status === 'FAILURE' && task.outcome.status === 'FAILURE' ? task.outcome.reason : null,
      properties: { finalPrompt: task.prompt, discordInstanceId: DISCORD_CHANNEL },
    };
  }

  private grid(task: FakeTask): PNG {
    let png = this.grids.get(task.id);
    if (!png) {
      png = PNG.sync.read(
        renderSandboxImage({
          model: 'midjourney',
          prompt: task.prompt,
          seed: task.seed,
          index: 0,
          width: task.width * 2,
          height: task.height * 2,
        }),
      );
      this.grids.set(task.id, png);
    }
    return png;
  }

  private quarter(imagine: FakeTask, index: number): PNG {
    const grid = this.grid(imagine);
    const out = new PNG({ width: imagine.width, height: imagine.height });
    const x = ((index - 1) % 2) * imagine.width;
    const y = Math.floor((index - 1) / 2) * imagine.height;
    PNG.bitblt(grid, out, x, y, imagine.width, imagine.height, 0, 0);
    return out;
  }

  private async serveCdn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    await readBody(req);
    const path = new URL(req.url ?? '/', this.cdnBase).pathname;
    this.cdnRequests.push({ path, headers: req.headers });
    const fault = this.takeFault('image');
    if (fault?.hang) return;
    if (fault) {
      res.writeHead(fault.status ?? 503, { 'content-type': 'text/plain' });
      res.end('injected');
      return;
    }
    // Reference images for tests: /ref/<name>.png.
    if (/^\/ref\/[\w-]+\.png$/.test(path)) {
      return this.png(
        res,
        renderSandboxImage({ model: 'ref', prompt: path, index: 0, width: 32, height: 32 }),
      );
    }
    const match = new RegExp(
      `^/attachments/${DISCORD_CHANNEL}/(\\d+)/(grid_0\\.png|upscale_1\\.png|preview_0\\.webp)$`,
    ).exec(path);
    const task = match?.[1] ? this.tasks.get(match[1]) : undefined;
    if (!task) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Not Found');
      return;
    }
    if (task.action === 'UPSCALE') {
      const parent = task.parentId ? this.tasks.get(task.parentId) : undefined;
      if (!parent || task.index === undefined) {
        res.writeHead(404);
        res.end();
        return;
      }
      return this.png(res, PNG.sync.write(this.quarter(parent, task.index)));
    }
    return this.png(res, PNG.sync.write(this.grid(task)));
  }

  private png(res: ServerResponse, bytes: Buffer): void {
    res.writeHead(200, { 'content-type': 'image/png', 'content-length': bytes.length });
    res.end(bytes);
  }

  private takeFault(route: MidjourneyProxyRoute | 'other'): MidjourneyProxyFault | undefined {
    const index = this.faults.findIndex((f) => f.on === route || (f.on === 'any' && route !== 'image'));
    const fault = this.faults[index];
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private record(req: IncomingMessage, status: number): void {
    this.requests.push({
      method: req.method ?? 'GET',
      path: new URL(req.url ?? '/', this.apiUrl).pathname,
      status,
    });
  }

  private json(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    body: unknown,
    headers: Record<string, string> = {},
  ): void {
    this.raw(req, res, status, 'application/json', JSON.stringify(body), headers);
  }

  private raw(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    contentType: string,
    body: string,
    headers: Record<string, string> = {},
  ): void {
    this.record(req, status);
    res.writeHead(status, { 'content-type': contentType, ...headers });
    res.end(body);
  }

  private empty(req: IncomingMessage, res: ServerResponse, status: number): void {
    this.record(req, status);
    res.writeHead(status, { 'content-length': 0 });
    res.end();
  }

  /** Spring Boot's default error body. */
  private springError(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    error: string,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    const path = new URL(req.url ?? '/', this.apiUrl).pathname;
    this.json(
      req,
      res,
      status,
      { timestamp: new Date().toISOString(), status, error, message, path },
      headers,
    );
  }
}

export function createMidjourneyProxyFake(options: MidjourneyProxyFakeOptions = {}): MidjourneyProxyFake {
  return new MidjourneyProxyFake(options);
}

function vo(
  code: number,
  description: string,
  result: string | null,
  properties: Record<string, unknown> = {},
): { code: number; description: string; result: string | null; properties: Record<string, unknown> } {
  return { code, description, result, properties };
}

function routeOf(method: string, path: string): MidjourneyProxyRoute | 'other' {
  if (method === 'POST' && path === '/mj/submit/imagine') return 'imagine';
  if (method === 'POST' && path === '/mj/submit/change') return 'change';
  if (method === 'GET' && /^\/mj\/task\/[^/]+\/fetch$/.test(path)) return 'fetch';
  if (method === 'GET' && path === '/mj/task/list') return 'list';
  if (method === 'GET' && path === '/mj/task/queue') return 'queue';
  return 'other';
}

function aspectOf(prompt: string): [number, number] {
  const match = /--ar\s+(\d+):(\d+)/.exec(prompt);
  return match ? [Number(match[1]), Number(match[2])] : [1, 1];
}

function isDataUrl(value: string): boolean {
  const match = /^data:([\w.+-]+\/[\w.+-]+);base64,([A-Za-z0-9+/=]+)$/.exec(value);
  return match !== null && Buffer.from(match[2] ?? '', 'base64').length > 0;
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

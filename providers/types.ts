import type { Dispatcher } from 'undici';

/**
 * The contract every upstream image provider adapter satisfies. Real upstream APIs are mostly
 * asynchronous (submit → upstream job id → poll) and sometimes synchronous; `submit` answers
 * either way, and `poll` continues an asynchronous job. Because the upstream job id is returned
 * before any waiting, the caller can persist it and, after a crash, resume polling the same
 * upstream job instead of submitting (and paying for) it again.
 */

export type AspectRatio = '1:1' | '16:9' | '9:16' | '4:3' | '3:4' | '3:2' | '2:3' | '21:9' | '9:21';
export const ASPECT_RATIOS: readonly AspectRatio[] = [
  '1:1',
  '16:9',
  '9:16',
  '4:3',
  '3:4',
  '3:2',
  '2:3',
  '21:9',
  '9:21',
];

export type OutputFormat = 'png' | 'jpeg' | 'webp';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['png', 'jpeg', 'webp'];

export interface GenerationRequest {
  /** The model id as the upstream names it (from the deployment's model map). */
  upstreamModel: string;
  /** The catalog model (flux-2-dev, …), for providers that serve several from one endpoint. */
  model: string;
  prompt: string;
  negativePrompt?: string;
  n: number;
  aspectRatio: AspectRatio;
  seed?: number;
  /** Reference images (edits, style or character references), public URLs fetched under the outbound policy. */
  imageUrls?: string[];
  /** A mask for an edit of the first reference image (transparent where the image may change). */
  maskUrl?: string;
  /** The image format asked for; when absent the deployment's own default. */
  outputFormat?: OutputFormat;
  /**
   * Easel's id for this upstream request (the job id and attempt): sent as the host's
   * idempotency key where it has one, so that a retried submit cannot start a second job there.
   */
  idempotencyKey?: string;
}

/**
 * What an adapter can do for one upstream model. Routing keeps only deployments whose
 * capabilities cover the request as asked, so an adapter never receives a parameter it would
 * have to drop: a request no deployment can serve is refused before anything is reserved.
 */
export interface ModelCapabilities {
  /** Most images one job may ask for (the adapter may make several upstream requests for them). */
  maxImages: number;
  seed: boolean;
  negativePrompt: boolean;
  /** Most reference images; 0 when the model takes none. */
  maxReferenceImages: number;
  mask: boolean;
  /** Aspect ratios served, exactly or by the nearest size the upstream has (then an adaptation). */
  aspectRatios: readonly AspectRatio[];
  outputFormats: readonly OutputFormat[];
  /** The upstream can stop a job it accepted (the adapter has `cancel`). */
  cancel: boolean;
}

/** For an upstream model an adapter cannot drive (an unknown id, a template not configured): routing never picks it. */
export const NO_CAPABILITIES: ModelCapabilities = {
  maxImages: 0,
  seed: false,
  negativePrompt: false,
  maxReferenceImages: 0,
  mask: false,
  aspectRatios: [],
  outputFormats: [],
  cancel: false,
};

/** Token or unit counts an upstream reported for one call (OpenAI's `usage`), recorded on the attempt. */
export type UpstreamUsage = Record<string, number>;

/**
 * What one image of a job is. Most upstreams make `image`s. Midjourney makes one 2×2 `grid` per
 * generation and its four `candidate`s (the grid's quarters, upscaled): one generation is one
 * image in the catalog's sense (charged once), and the job returns the four candidates and the grid.
 */
export type ImageRole = 'image' | 'candidate' | 'grid';

/** One image as the upstream produced it: inline bytes, or a (usually expiring) URL to fetch. */
export type UpstreamImage = (
  | { kind: 'bytes'; data: Uint8Array; contentType: string; width?: number; height?: number }
  | { kind: 'url'; url: string; contentType?: string; width?: number; height?: number }
) & {
  /** Absent: `image`. */
  role?: ImageRole;
};

export type SubmitResult =
  | { status: 'completed'; images: UpstreamImage[]; usage?: UpstreamUsage }
  | { status: 'pending'; upstreamJobId: string; pollAfterMs?: number };

export type PollResult =
  | { status: 'completed'; images: UpstreamImage[]; usage?: UpstreamUsage }
  | {
      status: 'pending';
      progress?: number;
      /** Place in the upstream's queue (0: next), for a job not yet running there. */
      queuePosition?: number;
      pollAfterMs?: number;
    };

/** The small set of outcomes that routing, retries and metrics all speak. */
export type ProviderOutcome =
  'success' | 'error' | 'timeout' | 'rejected' | 'rate_limited' | 'content_policy';

/**
 * A failed upstream call, normalised. `rejected` (validation, auth) and `content_policy` are the
 * caller's problem: retrying them elsewhere would fail the same way, and they must not trip a
 * circuit breaker. `error`, `timeout` and `rate_limited` are the upstream's problem.
 */
export class ProviderError extends Error {
  constructor(
    readonly outcome: Exclude<ProviderOutcome, 'success'>,
    message: string,
    readonly details: { status?: number; retryAfterMs?: number; upstreamCode?: string } = {},
  ) {
    super(message);
    this.name = 'ProviderError';
  }

  get isClientError(): boolean {
    return this.outcome === 'rejected' || this.outcome === 'content_policy';
  }
}

export interface ProviderCallContext {
  /** Aborted when the job is cancelled or the call's own timeout passes. */
  signal: AbortSignal;
  /** Reports progress (0–1) of a long upstream job to the job's readers. */
  onProgress?: (progress: number) => void;
}

export interface ImageProvider {
  /** The adapter's type, as deployments in the config file name it (`sandbox`, `bfl`, …). */
  readonly type: string;
  /** What this adapter can do for an upstream model of its deployment (the id in the model map). */
  capabilities(upstreamModel: string): ModelCapabilities;
  /**
   * How the adapter will serve this request differently from how it was asked, in words for the
   * job's attempt ("aspect ratio 16:9 served as 1536x1024", "4 images as 4 requests"). Pure: the
   * same request gives the same notes, so they can be recomputed after a restart.
   */
  adaptations?(request: GenerationRequest): string[];
  submit(request: GenerationRequest, context: ProviderCallContext): Promise<SubmitResult>;
  poll(upstreamJobId: string, context: ProviderCallContext): Promise<PollResult>;
  /**
   * Asks the upstream to stop an asynchronous job it accepted (our job was cancelled), so that it
   * stops working and, where the provider allows, billing. Only adapters whose upstream has a
   * cancel operation have it. Resolves once the upstream took the request; throws a ProviderError
   * otherwise. The caller treats it as best effort, within the time `signal` allows.
   */
  cancel?(upstreamJobId: string, signal: AbortSignal): Promise<void>;
}

/** What an adapter factory receives from a deployment's configuration. */
export interface ProviderSettings {
  deploymentId: string;
  baseUrl?: string;
  /** Resolved from the environment variable the deployment names; never written in config. */
  apiKey?: string;
  /** Adapter-specific options (e.g. the sandbox's latency and failure rate). */
  options: Record<string, unknown>;
  /** fetch under the deployment's outbound policy; the global fetch when absent (unit tests). */
  fetch?: typeof fetch;
  /**
   * The outbound policy's undici dispatcher, for connections fetch does not make (ComfyUI's
   * progress websocket): every connection is checked the same way.
   */
  dispatcher?: Dispatcher;
  /**
   * Fetches a reference image or mask the upstream needs as bytes (Gemini's inline_data, OpenAI's
   * multipart edits), under the outbound policy and the image size cap. `fetchImageBytes` in
   * providers/shared.ts is the fallback when absent.
   */
  fetchImage?: (url: string, signal: AbortSignal) => Promise<{ bytes: Uint8Array; contentType: string }>;
}

/** Maps an HTTP response status to an outcome, the one place shared by every HTTP adapter. */
export function outcomeForStatus(status: number): Exclude<ProviderOutcome, 'success'> {
  if (status === 429) return 'rate_limited';
  if (status === 408 || status === 504) return 'timeout';
  if (status >= 500) return 'error';
  return 'rejected';
}

/** Parses Retry-After (seconds or an HTTP date) into milliseconds. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

export function dimensionsFor(aspectRatio: AspectRatio, longSide = 1024): { width: number; height: number } {
  const [w, h] = aspectRatio.split(':').map(Number) as [number, number];
  // Multiples of 16, as diffusion models and most upstreams expect.
  const round16 = (x: number): number => Math.max(16, Math.round(x / 16) * 16);
  return w >= h
    ? { width: longSide, height: round16((longSide * h) / w) }
    : { width: round16((longSide * w) / h), height: longSide };
}

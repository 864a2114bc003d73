import type { AspectRatio, ImageRole, OutputFormat } from '../../providers/types';
import type { JobError, JobRecord, JobStatus, WebhookAttempt, WebhookState } from './store';

export const SANDBOX_NOTICE =
  'Produced by the built-in sandbox provider (no upstream provider is configured): a generated test pattern, not a model output.';

export interface JobImageView {
  url: string;
  /** `image`; for Midjourney, its generation's `grid` and four `candidate`s. */
  role: ImageRole;
  width: number;
  height: number;
  content_type: string;
}

export interface JobAttemptView {
  provider: string;
  model: string;
  outcome: string;
  duration_ms: number;
  error?: string;
  adaptations?: string[];
  upstream_usage?: Record<string, number>;
  upstream_cancel?: 'cancelled' | 'unsupported' | 'failed';
}

export type WebhookAttemptView = Omit<WebhookAttempt, 'at'> & { at: string };

/** A job as the public API shows it: `GET /v1/jobs/:id`, list pages, 202 answers and webhooks. */
export interface JobView {
  id: string;
  object: 'job';
  status: JobStatus;
  model: string;
  requested_model: string;
  task?: string;
  provider: string | null;
  sandbox?: true;
  notice?: string;
  prompt: string;
  negative_prompt?: string;
  n: number;
  aspect_ratio: AspectRatio;
  seed?: number;
  output_format?: OutputFormat;
  credits_reserved: number;
  credits_charged: number;
  progress: number | null;
  /** Where the job waits in the upstream's queue (0: next); null when it is not waiting there. */
  queue_position: number | null;
  images: JobImageView[];
  error: JobError | null;
  attempts: JobAttemptView[];
  fallback_models?: string[];
  webhook_url?: string;
  webhook?: { state: WebhookState; attempts: WebhookAttemptView[] };
  metadata: Record<string, string>;
  idempotency_key?: string;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  /** Set once the retention period deleted the images (`images` is empty then). */
  images_deleted_at: string | null;
}

/** Where a stored image of an account can be fetched (signed and expiring: platform/image-urls.ts). */
export interface ImageLinks {
  url(key: string, accountId: string): string;
}

export function presentJob(job: JobRecord, images: ImageLinks): JobView {
  const r = job.request;
  return {
    id: job._id,
    object: 'job',
    status: job.status,
    model: job.model,
    requested_model: r.requested_model,
    ...(r.task !== undefined && { task: r.task }),
    provider: job.provider ?? null,
    ...(job.sandbox && { sandbox: true as const, notice: SANDBOX_NOTICE }),
    prompt: r.prompt,
    ...(r.negative_prompt !== undefined && { negative_prompt: r.negative_prompt }),
    n: r.n,
    aspect_ratio: r.aspect_ratio,
    ...(r.seed !== undefined && { seed: r.seed }),
    ...(r.output_format !== undefined && { output_format: r.output_format }),
    credits_reserved: job.credits_reserved,
    credits_charged: job.credits_charged,
    progress: job.progress ?? null,
    queue_position: job.queue_position ?? null,
    images: job.images.map((img) => ({
      url: images.url(img.key, job.account_id),
      role: img.role ?? 'image',
      width: img.width,
      height: img.height,
      content_type: img.content_type,
    })),
    error: job.error ?? null,
    attempts: job.attempts.map((a) => ({
      provider: a.provider,
      model: a.model,
      outcome: a.outcome,
      duration_ms: a.duration_ms,
      ...(a.error !== undefined && { error: a.error }),
      ...(a.adaptations !== undefined && { adaptations: a.adaptations }),
      ...(a.upstream_usage !== undefined && { upstream_usage: a.upstream_usage }),
      ...(a.upstream_cancel !== undefined && { upstream_cancel: a.upstream_cancel }),
    })),
    ...(r.fallback_models !== undefined && { fallback_models: r.fallback_models }),
    ...(r.webhook_url !== undefined && {
      webhook_url: r.webhook_url,
      webhook: {
        state: job.webhook_state ?? 'pending',
        attempts: (job.webhook_attempts ?? []).map((a) => ({
          at: new Date(a.at).toISOString(),
          status: a.status,
          outcome: a.outcome,
          duration_ms: a.duration_ms,
          ...(a.error !== undefined && { error: a.error }),
        })),
      },
    }),
    metadata: r.metadata ?? {},
    ...(job.idempotency_key !== undefined && { idempotency_key: job.idempotency_key }),
    created_at: job.created_at.toISOString(),
    started_at: job.started_at ? job.started_at.toISOString() : null,
    completed_at: job.completed_at ? job.completed_at.toISOString() : null,
    images_deleted_at: job.images_deleted_at ? new Date(job.images_deleted_at).toISOString() : null,
  };
}

import { z } from 'zod';
import { ASPECT_RATIOS, OUTPUT_FORMATS } from '../../providers/types';

/**
 * The shapes of Easel's answers, as zod schemas: the OpenAPI document (./document.ts) is generated
 * from them next to the request schemas the routes parse with, and the integration tests check
 * every answer against that document, so a view that changes without its schema fails them.
 */

const isoTime = z.iso.datetime({ offset: true });
const count = z.number().int().min(0);

/** `{error: {code, message, details?}}`: every refusal outside the OpenAI-compatible routes. */
export const errorEnvelope = z
  .object({
    error: z.object({
      code: z.string().meta({ description: 'Stable, machine-readable: branch on it.' }),
      message: z.string().meta({ description: 'What happened and what to do next, for a person.' }),
      details: z
        .record(z.string(), z.unknown())
        .optional()
        .meta({ description: 'Code-specific facts: `fields` (bad input), `retry_after_seconds`, `job`…' }),
    }),
  })
  .meta({ id: 'Error' });

/** OpenAI's error shape, which its clients read (`e.type`, `e.param`, `e.code`). */
export const openAiErrorEnvelope = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
      job_id: z
        .string()
        .optional()
        .meta({ description: 'The job behind a timeout or failure: fetch it at GET /v1/jobs/{id}.' }),
    }),
  })
  .meta({ id: 'OpenAIError' });

const jobStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'canceled']);

export const jobView = z
  .object({
    id: z.string(),
    object: z.literal('job'),
    status: jobStatus,
    model: z.string(),
    requested_model: z.string(),
    task: z.string().optional(),
    provider: z.string().nullable(),
    sandbox: z.literal(true).optional(),
    notice: z.string().optional(),
    prompt: z.string(),
    negative_prompt: z.string().optional(),
    n: z.number().int().min(1),
    aspect_ratio: z.enum(ASPECT_RATIOS),
    seed: z.number().int().optional(),
    output_format: z.enum(OUTPUT_FORMATS).optional(),
    credits_reserved: count,
    credits_charged: count,
    progress: z.number().min(0).max(1).nullable(),
    queue_position: count.nullable(),
    images: z.array(
      z.object({
        url: z.string().meta({ description: 'Signed and expiring: read the job again for a fresh one.' }),
        role: z.enum(['image', 'grid', 'candidate']),
        width: z.number().int().positive(),
        height: z.number().int().positive(),
        content_type: z.string(),
      }),
    ),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    attempts: z.array(
      z.object({
        provider: z.string(),
        model: z.string(),
        outcome: z.string(),
        duration_ms: z.number().min(0),
        error: z.string().optional(),
        adaptations: z.array(z.string()).optional(),
        upstream_usage: z.record(z.string(), z.number()).optional(),
        upstream_cancel: z.enum(['cancelled', 'unsupported', 'failed']).optional(),
      }),
    ),
    fallback_models: z.array(z.string()).optional(),
    webhook_url: z.string().optional(),
    webhook: z
      .object({
        state: z.enum(['pending', 'delivered', 'failed', 'gone']),
        attempts: z.array(
          z.object({
            at: isoTime,
            status: z.number().int().nullable(),
            outcome: z.enum(['delivered', 'failed', 'gone', 'refused']),
            duration_ms: z.number().min(0),
            error: z.string().optional(),
          }),
        ),
      })
      .optional(),
    metadata: z.record(z.string(), z.string()),
    idempotency_key: z.string().optional(),
    created_at: isoTime,
    started_at: isoTime.nullable(),
    completed_at: isoTime.nullable(),
    images_deleted_at: isoTime.nullable(),
  })
  .meta({ id: 'Job' });

export const jobPage = z.object({
  data: z.array(jobView),
  has_more: z.boolean(),
  next_cursor: z.string().nullable(),
});

const rateLimits = z.object({
  requests_per_second: z.number().int().positive(),
  concurrent_jobs: z.number().int().positive(),
  reads_per_second: z.number().int().positive(),
});

export const accountView = z
  .object({
    id: z.string(),
    name: z.string(),
    plan: z.string(),
    status: z.enum(['active', 'suspended']),
    rate_limits: rateLimits,
    rate_limit_overrides: rateLimits.partial().nullable(),
    balance: z.object({
      available: count,
      plan_credits: count,
      purchased_credits: count,
      held: count,
      captured: count,
      granted: count,
      expired: count,
    }),
    running_jobs: count,
    period: z.object({ start: isoTime, end: isoTime }).nullable(),
    created_at: isoTime,
  })
  .meta({ id: 'Account' });

export const accountPage = z.object({
  data: z.array(accountView),
  has_more: z.boolean(),
  next_cursor: z.string().nullable(),
});

export const modelView = z
  .object({
    id: z.string(),
    object: z.literal('model'),
    created: z.number().int(),
    owned_by: z.string(),
    credits: z.number().int().positive(),
    best_for: z.string(),
    fallback_models: z.array(z.string()),
    auto_tasks: z.array(z.string()),
  })
  .meta({ id: 'Model' });

export const modelList = z.object({
  object: z.literal('list'),
  data: z.array(modelView),
  auto: z.object({ description: z.string(), tasks: z.record(z.string(), z.string()) }),
});

export const planList = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      price_usd: z.number().min(0),
      monthly_credits: count,
      usd_per_credit: z.number().min(0).nullable(),
      rate_limits: z.object({
        requests_per_second: z.number().int().positive(),
        concurrent_jobs: z.number().int().positive(),
        reads_per_second: z.number().int().positive().optional(),
      }),
    }),
  ),
  trial_credits: count,
  default_plan: z.string(),
});

export const estimate = z.object({
  model: z.string(),
  task: z.string().optional(),
  count: z.number().int().positive(),
  credits_per_image: z.number().int().positive(),
  credits: z.number().int().positive(),
  plans: z.array(z.object({ plan: z.string(), usd: z.number().min(0), usd_per_image: z.number().min(0) })),
});

const usageRow = z.object({
  images: count,
  jobs_succeeded: count,
  jobs_failed: count,
  jobs_canceled: count,
  credits_charged: count,
  credits_not_charged: count.meta({ description: 'Reserved by failed and cancelled jobs, then released.' }),
  usd: z.number().min(0),
  auto: z
    .object({
      jobs_with_task: count,
      credits_charged: count,
      credits_with_auto: count,
      credits_saved: z.number(),
    })
    .meta({ description: 'For succeeded jobs that named a task: what `auto` routing would have charged.' }),
});

export const usageReport = z.object({
  from: isoTime,
  to: isoTime,
  group_by: z.enum(['model', 'day']),
  plan: z.string(),
  total: usageRow,
  data: z.array(
    usageRow.extend({
      model: z.string().optional().meta({ description: 'With group_by=model.' }),
      day: z.string().optional().meta({ description: 'With group_by=day (YYYY-MM-DD, UTC).' }),
    }),
  ),
});

export const webhookSecret = z.object({
  secret: z.string().regex(/^whsec_/),
  created_at: isoTime,
  also_signing_until: z.array(isoTime),
});

export const rotatedWebhookSecret = z.object({
  secret: z.string().regex(/^whsec_/),
  created_at: isoTime,
  note: z.string(),
  previous_expires_at: isoTime.nullable(),
});

const balances = z.object({
  plan: count,
  purchased: count,
  held: count,
  granted: count,
  captured: count,
  expired: count,
  open_reservations: count,
  period: z.object({ start: isoTime, end: isoTime }).nullable(),
  available: count,
});

export const ledgerEntry = z
  .object({
    account_id: z.string(),
    seq: z.number().int().positive(),
    kind: z.enum(['grant', 'reserve', 'capture', 'release', 'expire', 'adjust']),
    credits: z.number().int(),
    idempotency_key: z.string(),
    job_id: z.string().optional(),
    reason: z.string().optional(),
    reservation: z
      .object({ from_plan: count, from_purchased: count, period_start: isoTime.nullable() })
      .optional()
      .meta({ description: 'A reserve entry: where its credits came from.' }),
    request_hash: z.string().optional(),
    settles: z.number().int().positive().optional(),
    released: count.optional(),
    expired: count.optional(),
    balances,
    created_at: isoTime,
  })
  .meta({ id: 'LedgerEntry' });

export const ledgerPage = z.object({
  data: z.array(ledgerEntry),
  next_before: z.number().int().positive().nullable(),
});

export const grantResult = z.object({ replayed: z.boolean(), entry: ledgerEntry });

export const adminJobView = jobView.extend({
  account_id: z.string(),
  reservation: z.object({
    account_id: z.string(),
    job_id: z.string(),
    seq: z.number().int().positive(),
    credits: count,
    from_plan: count,
    from_purchased: count,
    period_start: isoTime.nullable(),
  }),
  ledger: z.array(ledgerEntry),
});

export const releaseResult = z.object({
  entry: ledgerEntry,
  job: jobView.extend({ account_id: z.string() }).nullable(),
});

export const issuedKey = z.object({
  id: z.string(),
  key: z.string().meta({ description: 'The secret: shown only in this answer.' }),
  prefix: z.string(),
  note: z.string(),
});

export const keyList = z.object({
  data: z.array(
    z.object({
      id: z.string(),
      prefix: z.string(),
      name: z.string().nullable(),
      created_at: isoTime,
      revoked_at: isoTime.nullable(),
    }),
  ),
});

export const auditReport = z.object({
  accounts_checked: count,
  violations: z.array(
    z.object({
      account_id: z.string(),
      job_id: z.string().optional(),
      entry_seq: z.number().int().positive().optional(),
      holds_credits: z.literal(true).optional(),
      problem: z.string(),
      links: z.record(z.string(), z.string()),
    }),
  ),
});

export const providerStatus = z.object({
  sandbox_only: z.boolean(),
  unserved_models: z.array(z.string()),
  default_strategy: z.string(),
  routing: z.record(z.string(), z.unknown()),
  note: z.string(),
  deployments: z.array(
    z.object({
      id: z.string(),
      type: z.string(),
      base_url: z.string().nullable(),
      weight: z.number(),
      priority: z.number(),
      timeout_ms: z.number(),
      max_concurrency: z.number().nullable(),
      requests_per_second: z.number().nullable(),
      breaker: z.record(z.string(), z.unknown()),
      models: z.record(z.string(), z.unknown()),
      workers: z.array(
        z
          .object({
            worker: z.string(),
            updated_at: isoTime,
            state: z.enum(['closed', 'half_open', 'open']).optional(),
            latencyMs: z
              .number()
              .min(0)
              .optional()
              .meta({ description: 'Exponentially weighted mean latency of successful calls.' }),
            successes: count
              .optional()
              .meta({ description: 'Calls that succeeded since the worker started.' }),
            failures: count
              .optional()
              .meta({ description: 'Calls that failed since the worker started, whatever the outcome.' }),
            recent: z
              .object({
                windowMs: z.number().int().min(0).meta({ description: 'The breaker’s rolling window.' }),
                calls: count.meta({ description: 'Calls made to the upstream in the window.' }),
                failures: count.meta({
                  description:
                    'Calls in the window that counted against the upstream (client errors, rate limits and cancellations do not).',
                }),
                refused: count.meta({
                  description: 'Calls refused without calling: the breaker open, or at max_concurrency.',
                }),
              })
              .optional()
              .meta({ description: 'The breaker’s rolling window in this worker: what it opens on.' }),
            errorRate: z
              .number()
              .min(0)
              .max(1)
              .nullable()
              .optional()
              .meta({ description: 'recent.failures / recent.calls; null when the window holds no call.' }),
            fallbacksFrom: count
              .optional()
              .meta({ description: 'Jobs that moved on to another deployment after this one failed.' }),
            fallbacksTo: count
              .optional()
              .meta({ description: 'Jobs this deployment took over after another one failed.' }),
            lastError: z.string().optional(),
            coolingDownUntil: z
              .number()
              .optional()
              .meta({ description: 'A 429 asked to wait until then (epoch ms).' }),
          })
          .catchall(z.unknown())
          .meta({
            description:
              'One live worker’s view (breakers are per worker process): counts since it started, and its breaker’s recent window.',
          }),
      ),
    }),
  ),
});

export const health = z.object({ status: z.literal('ok') });

export const readiness = z.object({
  status: z.enum(['ready', 'unavailable']),
  down: z.array(z.string()),
  checks: z.record(z.string(), z.object({ ok: z.boolean(), error: z.string().optional() })),
});

export const codecPayloads = z.object({
  payloads: z.array(z.object({ metadata: z.record(z.string(), z.string()), data: z.string() })),
});

const openAiImage = z.object({
  url: z.string().optional(),
  b64_json: z.string().optional(),
  revised_prompt: z.string().optional(),
});

export const openAiImages = z
  .object({
    created: z.number().int(),
    data: z.array(openAiImage),
    size: z.string().optional(),
    output_format: z.string().optional(),
    usage: z.record(z.string(), z.unknown()).optional(),
    easel: z
      .object({ job_id: z.string(), model: z.string(), credits_charged: count })
      .meta({ description: "Easel's own fields (OpenAI clients ignore them)." }),
  })
  .meta({ id: 'OpenAIImagesResponse' });

/** One server-sent event of `stream: true` (its `data` is the event's JSON, as OpenAI sends it). */
export const openAiImageEvent = z
  .object({
    event: z.enum(['image_generation.partial_image', 'image_generation.completed', 'error']),
    data: z.string().meta({
      contentMediaType: 'application/json',
      description:
        '`{type, b64_json, created_at, size, output_format, quality, background, usage}`, or `{type: "error", error}`.',
    }),
    id: z.string().optional(),
    retry: z.number().int().optional(),
  })
  .meta({ id: 'OpenAIImageEvent' });

/** One server-sent event of a streamed edit. */
export const openAiImageEditEvent = openAiImageEvent
  .extend({ event: z.enum(['image_edit.partial_image', 'image_edit.completed', 'error']) })
  .meta({ id: 'OpenAIImageEditEvent' });

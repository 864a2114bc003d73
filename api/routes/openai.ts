import { Router, type NextFunction, type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import { z } from 'zod';
import { ApiError, toApiError } from '../errors';
import type { ImageStore } from '../../platform/image-store';
import { DomainError } from '../../core/errors';
import { waitForJob } from '../../core/jobs/job-workflow';
import type { JobRecord, JobStore } from '../../core/jobs/store';
import type { ImageLinks } from '../../core/jobs/view';
import { ASPECT_RATIOS, OUTPUT_FORMATS, type AspectRatio, type OutputFormat } from '../../providers/types';
import { currentAccount } from '../middleware';
import { parseInput } from '../validation';
import type { JobSubmitter } from './imagine';

/**
 * `POST /v1/images/generations`, shaped like OpenAI's Images API so that the official `openai`
 * clients (and tools built on them) work against Easel unchanged: the same credits, limits,
 * routing and ledger as `/v1/imagine`, but synchronous — the answer waits for the images, or
 * streams them as OpenAI's server-sent events with `stream: true`. Every parameter is honoured
 * or refused with OpenAI's error shape; none is ignored.
 */

/** The sizes OpenAI defines for its GPT image models. */
const GPT_IMAGE_SIZES = ['auto', '1024x1024', '1536x1024', '1024x1536'] as const;
const isGptImage = (model: string): boolean => model.startsWith('gpt-image');

const generationsBody = z.strictObject({
  model: z.string().min(1).default('gpt-image-1'),
  prompt: z.string().trim().min(1).max(4_000),
  n: z.number().int().min(1).max(4).default(1),
  size: z
    .string()
    .regex(/^(auto|\d{2,5}x\d{2,5})$/, 'use WIDTHxHEIGHT (e.g. 1024x1024) or auto')
    .default('auto'),
  response_format: z.enum(['url', 'b64_json']).optional(),
  output_format: z.enum(OUTPUT_FORMATS as [OutputFormat, ...OutputFormat[]]).optional(),
  output_compression: z.number().int().min(0).max(100).optional(),
  // The deployment decides these on Easel; only their defaults are taken, anything else is refused.
  quality: z
    .literal('auto', { error: 'the deployment sets the quality on this Easel: omit it or send auto' })
    .optional(),
  background: z
    .literal('auto', {
      error: 'transparent and opaque backgrounds are not offered on this Easel: omit it or send auto',
    })
    .optional(),
  moderation: z
    .literal('auto', { error: 'the moderation level is the provider’s on this Easel: omit it or send auto' })
    .optional(),
  style: z.never({ error: 'style is a DALL·E 3 parameter no model here takes' }).optional(),
  stream: z.boolean().default(false),
  /** Easel's upstreams do not stream partial images: 0 is all it can give. */
  partial_images: z
    .literal(0, { error: 'no provider here streams partial images: omit it or send 0' })
    .optional(),
  user: z.string().max(256).optional(),
});

const SYNC_WAIT_MS = 5 * 60_000;

/** How far (on a log scale) a size may be from a catalog aspect ratio and still mean it. */
const RATIO_TOLERANCE = 0.03;

const logRatio = (a: number, b: number): number => Math.log(a / b);

/** The catalog aspect ratio closest to a WIDTHxHEIGHT size (compared on a log scale). */
export function aspectRatioForSize(size: string): AspectRatio {
  if (size === 'auto') return '1:1';
  const [w, h] = size.split('x').map(Number) as [number, number];
  const distance = (ratio: AspectRatio): number => {
    const [a, b] = ratio.split(':').map(Number) as [number, number];
    return Math.abs(logRatio(a, b) - logRatio(w, h));
  };
  return ASPECT_RATIOS.reduce((best, ratio) => (distance(ratio) < distance(best) ? ratio : best));
}

/**
 * The aspect ratio a size asks for, or an OpenAI-shaped 400: GPT image models take OpenAI's own
 * sizes (mapped to 1:1, 3:2, 2:3); other models take `auto` or a size of one of the catalog's
 * aspect ratios (the provider makes its own size for it, which the job's attempt states).
 */
function aspectRatioFor(model: string, size: string): AspectRatio {
  if (isGptImage(model)) {
    if (!(GPT_IMAGE_SIZES as readonly string[]).includes(size)) {
      throw openAiError(
        400,
        `Invalid value: '${size}'. Supported values are: ${GPT_IMAGE_SIZES.filter((s) => s !== 'auto')
          .map((s) => `'${s}'`)
          .join(', ')}, and 'auto'.`,
        { param: 'size', code: 'invalid_value' },
      );
    }
    return aspectRatioForSize(size);
  }
  if (size === 'auto') return '1:1';
  const ratio = aspectRatioForSize(size);
  const [w, h] = size.split('x').map(Number) as [number, number];
  const [a, b] = ratio.split(':').map(Number) as [number, number];
  if (w < 64 || h < 64 || Math.abs(logRatio(a, b) - logRatio(w, h)) > RATIO_TOLERANCE) {
    throw openAiError(
      400,
      `Invalid value: '${size}'. Use 'auto' or a size of one of the aspect ratios ${ASPECT_RATIOS.join(', ')} (e.g. 1024x1024, 1344x768).`,
      { param: 'size', code: 'invalid_value' },
    );
  }
  return ratio;
}

/** An error in OpenAI's shape: `{error: {message, type, param, code}}`, which its clients read. */
class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: { type: string; param: string | null; code: string | null; job_id?: string },
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function openAiError(
  status: number,
  message: string,
  fields: { type?: string; param?: string | null; code?: string | null; job_id?: string } = {},
  headers: Record<string, string> = {},
): OpenAiError {
  return new OpenAiError(
    status,
    message,
    {
      type: fields.type ?? 'invalid_request_error',
      param: fields.param ?? null,
      code: fields.code ?? null,
      ...(fields.job_id !== undefined && { job_id: fields.job_id }),
    },
    headers,
  );
}

/**
 * Easel's refusals as OpenAI's clients expect them: the first bad field as `param`, an account
 * out of credits as 429 `insufficient_quota` (which the clients must not retry), rate limits as
 * `rate_limit_exceeded` with Retry-After.
 */
function asOpenAiError(err: unknown): unknown {
  if (err instanceof OpenAiError) return err;
  const known = err instanceof DomainError ? toApiError(err) : err;
  if (!(known instanceof ApiError)) return err;
  const fields = (known.details?.fields ?? {}) as Record<string, string>;
  const param = Object.keys(fields)[0] ?? (known.details?.parameters as string[] | undefined)?.[0] ?? null;
  if (known.code === 'insufficient_credits') {
    return openAiError(
      429,
      known.message,
      { type: 'insufficient_quota', code: 'insufficient_quota' },
      { 'x-should-retry': 'false' },
    );
  }
  if (known.status === 429) {
    return openAiError(429, known.message, { type: 'requests', code: 'rate_limit_exceeded' }, known.headers);
  }
  const type =
    known.status === 401
      ? 'authentication_error'
      : known.status >= 500
        ? 'server_error'
        : 'invalid_request_error';
  const detail = Object.entries(fields)
    .map(([field, problem]) => `${field}: ${problem}`)
    .join('; ');
  return openAiError(
    known.status,
    detail && !known.message.includes(detail) ? `${known.message} (${detail})` : known.message,
    { type, param, code: known.code },
    known.headers,
  );
}

export function openAiErrorHandler(err: unknown, _req: Request, res: Response, next: NextFunction): void {
  const converted = asOpenAiError(err);
  if (!(converted instanceof OpenAiError)) return next(err);
  for (const [name, value] of Object.entries(converted.headers)) res.setHeader(name, value);
  res.status(converted.status).json({ error: { message: converted.message, ...converted.body } });
}

export function openAiRoutes(deps: {
  submitter: JobSubmitter;
  jobs: JobStore;
  temporal: Client;
  images: ImageStore;
  imageLinks: ImageLinks;
}): Router {
  const router = Router();

  /** The job's images as OpenAI's `data` items. */
  const imageData = (job: JobRecord, format: 'url' | 'b64_json') =>
    Promise.all(
      job.images.map(async (image) => {
        if (format === 'url') return { url: deps.imageLinks.url(image.key, job.account_id) };
        const bytes = await deps.images.read(image.key);
        if (!bytes)
          throw new ApiError(500, 'image_missing', `An image of job ${job._id} is missing from the store.`);
        return { b64_json: bytes.toString('base64') };
      }),
    );

  /** A job that did not succeed, as the error an OpenAI client raises. */
  const failure = (job: JobRecord): OpenAiError => {
    if (job.status === 'queued' || job.status === 'running') {
      // The job keeps running and will be charged once: a retry would submit a second one.
      return openAiError(
        504,
        `The images are not ready yet; follow job ${job._id} at GET /v1/jobs/${job._id}.`,
        { type: 'server_error', code: 'timeout', job_id: job._id },
        { 'x-should-retry': 'false' },
      );
    }
    const code = job.error?.code ?? job.status;
    if (code === 'content_policy') {
      return openAiError(400, job.error?.message ?? 'The request was refused by the safety system.', {
        code: 'moderation_blocked',
        job_id: job._id,
      });
    }
    if (code === 'rejected') {
      return openAiError(400, job.error?.message ?? 'The provider refused the request.', {
        code,
        job_id: job._id,
      });
    }
    return openAiError(502, job.error?.message ?? `The job ${job.status}.`, {
      type: 'server_error',
      code,
      job_id: job._id,
    });
  };

  router.post('/images/generations', async (req, res) => {
    const account = currentAccount(req);
    deps.submitter.checkRequestRate(account);
    const body = parseInput(generationsBody, req.body);
    const responseFormat = body.response_format ?? (isGptImage(body.model) ? 'b64_json' : 'url');
    if (body.output_compression !== undefined && (body.output_format ?? 'png') === 'png') {
      throw openAiError(400, 'output_compression is only supported for jpeg and webp.', {
        param: 'output_compression',
        code: 'invalid_value',
      });
    }
    const accepted = await deps.submitter.accept(
      account,
      {
        model: body.model,
        prompt: body.prompt,
        n: body.n,
        aspect_ratio: aspectRatioFor(body.model, body.size),
        ...(body.output_format !== undefined && { output_format: body.output_format }),
        ...(body.user && { metadata: { user: body.user } }),
      },
      deps.submitter.contextOf(req),
    );
    const left = new AbortController();
    res.on('close', () => left.abort());

    if (body.stream) {
      // OpenAI's image stream: no partial images (no upstream sends them), then one completed
      // event per image; a failure is an `error` event.
      res.status(200).setHeader('Content-Type', 'text/event-stream').setHeader('Cache-Control', 'no-cache');
      res.flushHeaders();
      const job = await waitForJob(deps.temporal, deps.jobs, accepted, SYNC_WAIT_MS, left.signal);
      if (job.status !== 'succeeded') {
        const err = failure(job);
        res.write(
          `event: error\ndata: ${JSON.stringify({ type: 'error', error: { message: err.message, ...err.body } })}\n\n`,
        );
        res.end();
        return;
      }
      const created = Math.floor((job.completed_at ?? new Date()).getTime() / 1000);
      for (const [i, item] of (await imageData(job, 'b64_json')).entries()) {
        const event = {
          type: 'image_generation.completed',
          b64_json: (item as { b64_json: string }).b64_json,
          created_at: created,
          size: `${job.images[i]!.width}x${job.images[i]!.height}`,
          output_format: job.images[i]!.content_type.replace('image/', ''),
          quality: 'auto',
          background: 'auto',
          usage: {
            input_tokens: 0,
            output_tokens: 0,
            total_tokens: 0,
            input_tokens_details: { text_tokens: 0, image_tokens: 0 },
          },
        };
        res.write(`event: image_generation.completed\ndata: ${JSON.stringify(event)}\n\n`);
      }
      res.end();
      return;
    }

    const job = await waitForJob(deps.temporal, deps.jobs, accepted, SYNC_WAIT_MS, left.signal);
    if (job.status !== 'succeeded') throw failure(job);
    const usage = job.attempts.find((a) => a.outcome === 'success')?.upstream_usage;
    res.json({
      created: Math.floor((job.completed_at ?? new Date()).getTime() / 1000),
      data: await imageData(job, responseFormat),
      ...(job.images[0] && {
        size: `${job.images[0].width}x${job.images[0].height}`,
        output_format: job.images[0].content_type.replace('image/', ''),
      }),
      ...(usage && { usage }),
      // Easel's own fields, ignored by OpenAI clients.
      easel: { job_id: job._id, model: job.model, credits_charged: job.credits_charged },
    });
  });

  router.use(openAiErrorHandler);
  return router;
}

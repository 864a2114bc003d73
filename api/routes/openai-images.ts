import type { NextFunction, Request, Response } from 'express';
import { z } from 'zod';
import { clientErrorOf } from '../errors';
import { ASPECT_RATIOS, OUTPUT_FORMATS, type AspectRatio, type OutputFormat } from '../../providers/types';

/**
 * What OpenAI's Images API routes share (`/v1/images/generations` and `/v1/images/edits`): the
 * parameters both take, how a size becomes a catalog aspect ratio, and OpenAI's error shape.
 */

/** The sizes OpenAI defines for its GPT image models. */
const GPT_IMAGE_SIZES = ['auto', '1024x1024', '1536x1024', '1024x1536'] as const;
export const isGptImage = (model: string): boolean => model.startsWith('gpt-image');

/**
 * The parameters generations and edits both take, as JSON values (a multipart edit's text fields
 * are converted first). Every one is honoured or refused; none is ignored.
 */
export const imageOptionFields = {
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
  stream: z.boolean().default(false),
  /** Easel's upstreams do not stream partial images: 0 is all it can give. */
  partial_images: z
    .literal(0, { error: 'no provider here streams partial images: omit it or send 0' })
    .optional(),
  user: z.string().max(256).optional(),
};

/** The moderation level, which generations and JSON edits take (multipart edits do not). */
export const moderationField = z
  .literal('auto', { error: 'the moderation level is the provider’s on this Easel: omit it or send auto' })
  .optional();

/** What the parsed options above decide besides the job: the answer's format and the checks OpenAI makes. */
export function responseFormatFor(body: {
  model: string;
  response_format?: 'url' | 'b64_json' | undefined;
  output_format?: OutputFormat | undefined;
  output_compression?: number | undefined;
}): 'url' | 'b64_json' {
  if (body.output_compression !== undefined && (body.output_format ?? 'png') === 'png') {
    throw openAiError(400, 'output_compression is only supported for jpeg and webp.', {
      param: 'output_compression',
      code: 'invalid_value',
    });
  }
  return body.response_format ?? (isGptImage(body.model) ? 'b64_json' : 'url');
}

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
export function aspectRatioFor(model: string, size: string): AspectRatio {
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
export class OpenAiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body: { type: string; param: string | null; code: string | null; job_id?: string },
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function openAiError(
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
 * `rate_limit_exceeded` with Retry-After. Requests the HTTP layer could not read are refused too.
 */
function asOpenAiError(err: unknown, req: Request): unknown {
  // Checked first: an OpenAiError carries a 4xx status that would pass for an unreadable request.
  if (err instanceof OpenAiError) return err;
  const known = clientErrorOf(err, req);
  if (!known) return err;
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

export function openAiErrorHandler(err: unknown, req: Request, res: Response, next: NextFunction): void {
  const converted = asOpenAiError(err, req);
  if (!(converted instanceof OpenAiError)) return next(err);
  for (const [name, value] of Object.entries(converted.headers)) res.setHeader(name, value);
  res.status(converted.status).json({ error: { message: converted.message, ...converted.body } });
}

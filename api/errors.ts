import type { NextFunction, Request, Response } from 'express';
import { DomainError, type DomainErrorCode } from '../core/errors';

/**
 * Errors that only the HTTP layer raises (authentication, request rate, timeouts of a synchronous
 * answer). Each carries its status, a stable `code` and any headers.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export const unauthorized = (
  message = 'Missing or invalid API key: send Authorization: Bearer <key>.',
): ApiError => new ApiError(401, 'unauthorized', message);

/** A 429 that says when to come back (`Retry-After` and `details.retry_after_seconds`). */
export function tooManyRequests(
  code: string,
  message: string,
  retryAfterSeconds: number,
  details: Record<string, unknown> = {},
): ApiError {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new ApiError(
    429,
    code,
    message,
    { ...details, retry_after_seconds: seconds },
    { 'Retry-After': String(seconds) },
  );
}

/** The HTTP answer to each domain refusal: the one table. */
const DOMAIN_STATUS = {
  invalid_request: { status: 400 },
  model_unavailable: { status: 400 },
  webhook_url_refused: { status: 400 },
  insufficient_credits: { status: 402 },
  account_suspended: { status: 403 },
  not_found: { status: 404 },
  idempotency_key_reused: { status: 422 },
  // A running job finishes within seconds to minutes: a short wait is the honest hint.
  concurrent_jobs_limit: { status: 429, retryAfterSeconds: 1 },
} satisfies Record<DomainErrorCode, { status: number; retryAfterSeconds?: number }>;

export function toApiError(err: DomainError): ApiError {
  const mapping: { status: number; retryAfterSeconds?: number } = DOMAIN_STATUS[err.code];
  if (mapping.retryAfterSeconds !== undefined) {
    return tooManyRequests(err.code, err.message, mapping.retryAfterSeconds, err.details);
  }
  return new ApiError(mapping.status, err.code, err.message, err.details);
}

/** The one place errors become responses: `{error: {code, message, details?}}`, never a stack trace. */
export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  const known = err instanceof DomainError ? toApiError(err) : err;
  if (known instanceof ApiError) {
    for (const [name, value] of Object.entries(known.headers)) res.setHeader(name, value);
    res.status(known.status).json({
      error: { code: known.code, message: known.message, ...(known.details && { details: known.details }) },
    });
    return;
  }
  const bodyError = err as { type?: string; status?: number; message?: string };
  if (bodyError.type === 'entity.parse.failed') {
    res.status(400).json({ error: { code: 'invalid_json', message: 'The request body is not valid JSON.' } });
    return;
  }
  if (bodyError.type === 'entity.too.large') {
    res.status(413).json({ error: { code: 'body_too_large', message: 'The request body is too large.' } });
    return;
  }
  (req.log ?? console).error({ err }, 'unhandled error');
  res.status(500).json({
    error: {
      code: 'internal_error',
      message: `Something went wrong on our side; retry, and quote request id ${req.id} if it persists.`,
    },
  });
}

export function notFoundHandler(req: Request, res: Response): void {
  res.status(404).json({ error: { code: 'not_found', message: `No route for ${req.method} ${req.path}` } });
}

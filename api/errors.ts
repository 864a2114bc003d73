import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
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
  unsupported_parameters: { status: 400 },
  webhook_url_refused: { status: 400 },
  insufficient_credits: { status: 402 },
  account_suspended: { status: 403 },
  not_found: { status: 404 },
  idempotency_key_reused: { status: 422 },
  idempotency_key_conflict: { status: 409 },
  reservation_settled: { status: 409 },
  job_running: { status: 409 },
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

interface ClientFault {
  status: number;
  code: string;
  message: string;
}

/** What body-parser's errors carry (http-errors, plus the value it refused). */
interface BodyReadError extends Error {
  type?: unknown;
  status?: unknown;
  encoding?: unknown;
  charset?: unknown;
  limit?: unknown;
}

const quoted = (value: unknown): string => JSON.stringify(String(value).slice(0, 64));

/** body-parser's and raw-body's refusals by their `type`, as the client sees them. */
const BODY_REFUSALS: Record<string, (err: BodyReadError) => ClientFault> = {
  'entity.parse.failed': () => ({
    status: 400,
    code: 'invalid_json',
    message: 'The request body is not valid JSON.',
  }),
  'entity.too.large': (err) => ({
    status: 413,
    code: 'body_too_large',
    message: `The request body is too large${typeof err.limit === 'number' ? ` (at most ${err.limit} bytes)` : ''}.`,
  }),
  'encoding.unsupported': (err) => ({
    status: 415,
    code: 'unsupported_content_encoding',
    message: `Content-Encoding ${quoted(err.encoding)} is not supported: send the body as is, or with gzip, deflate or br.`,
  }),
  'charset.unsupported': (err) => ({
    status: 415,
    code: 'unsupported_charset',
    message: `The charset ${quoted(err.charset)} is not supported: send JSON in UTF-8.`,
  }),
  'request.aborted': () => ({
    status: 400,
    code: 'request_aborted',
    message: 'The request body ended before it was complete.',
  }),
  'request.size.invalid': () => ({
    status: 400,
    code: 'invalid_content_length',
    message: 'The request body does not match its Content-Length.',
  }),
  'entity.verify.failed': () => ({
    status: 403,
    code: 'body_refused',
    message: 'The request body was refused.',
  }),
  'parameters.too.many': () => ({
    status: 413,
    code: 'too_many_parameters',
    message: 'The request body has too many parameters.',
  }),
  'querystring.parse.rangeError': () => ({
    status: 400,
    code: 'body_too_deep',
    message: 'The request body is nested too deeply.',
  }),
};

/**
 * A request that could not be read, as its own 4xx rather than a 500: body-parser's refusals, a
 * compressed body that does not decompress (zlib's error, which body-parser marks 400 with no
 * `type`), and any other error that carries a 4xx `status` the way http-errors do (express's
 * router throws one for an undecodable path parameter). Their own messages are not passed on.
 */
function clientFault(err: unknown, req: Request): ClientFault | undefined {
  if (!(err instanceof Error)) return undefined;
  const e: BodyReadError = err;
  if (typeof e.status !== 'number' || e.status < 400 || e.status > 499) return undefined;
  if (typeof e.type === 'string' && Object.hasOwn(BODY_REFUSALS, e.type)) return BODY_REFUSALS[e.type]!(e);
  const encoding = req.headers['content-encoding']?.trim().toLowerCase();
  if (e.type === undefined && e.status === 400 && encoding && encoding !== 'identity') {
    return {
      status: 400,
      code: 'invalid_body_encoding',
      message: `The request body is not valid ${quoted(encoding)} data.`,
    };
  }
  return {
    status: e.status,
    code: 'invalid_request',
    message: `The request could not be read (${e.status} ${STATUS_CODES[e.status] ?? 'Client Error'}).`,
  };
}

/**
 * An error a client caused, as the ApiError it is answered with (domain refusals, HTTP-layer
 * refusals, requests that could not be read); undefined for a fault of our own.
 */
export function clientErrorOf(err: unknown, req: Request): ApiError | undefined {
  if (err instanceof DomainError) return toApiError(err);
  if (err instanceof ApiError) return err;
  const refused = clientFault(err, req);
  return refused && new ApiError(refused.status, refused.code, refused.message);
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
  const refused = clientFault(err, req);
  if (refused) {
    res.status(refused.status).json({ error: { code: refused.code, message: refused.message } });
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

/** Refusals of Node's HTTP parser, by error code; anything else is a malformed request. */
const PARSER_REFUSALS: Record<string, ClientFault> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    code: 'headers_too_large',
    message: `The request headers are too large: keep them under ${Math.floor(maxHeaderSize / 1024)} KB in all.`,
  },
  HPE_CHUNK_EXTENSIONS_OVERFLOW: {
    status: 413,
    code: 'chunk_extensions_too_large',
    message: 'The request body has too many chunk extensions.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    code: 'request_timeout',
    message: 'The request did not arrive in time.',
  },
};

const MALFORMED_REQUEST: ClientFault = {
  status: 400,
  code: 'malformed_request',
  message: 'The request is not valid HTTP/1.1.',
};

/**
 * The server's `clientError` listener: a request that Node's HTTP parser refuses before express
 * sees it (headers over the size limit, a malformed request line) gets the same JSON envelope as
 * every other error instead of Node's bare status line, and the connection closes. Nothing is
 * written when a response is already under way on the socket: that would corrupt it.
 */
export function answerClientError(err: Error & { code?: string }, socket: Duplex): void {
  const inFlight = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (err.code === 'ECONNRESET' || !socket.writable || inFlight) {
    socket.destroy();
    return;
  }
  const fault =
    (err.code !== undefined && Object.hasOwn(PARSER_REFUSALS, err.code)
      ? PARSER_REFUSALS[err.code]
      : undefined) ?? MALFORMED_REQUEST;
  const body = JSON.stringify({ error: { code: fault.code, message: fault.message } });
  socket.end(
    `HTTP/1.1 ${fault.status} ${STATUS_CODES[fault.status] ?? ''}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
    () => socket.destroy(),
  );
}

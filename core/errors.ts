/**
 * Errors that reach API clients. Each carries an HTTP status and a stable `code`; the API's one
 * error middleware turns them into `{error: {code, message, details?}}`.
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

export const badRequest = (message: string, details?: Record<string, unknown>): ApiError =>
  new ApiError(400, 'invalid_request', message, details);
export const unauthorized = (
  message = 'Missing or invalid API key: send Authorization: Bearer <key>.',
): ApiError => new ApiError(401, 'unauthorized', message);
export const forbidden = (code: string, message: string): ApiError => new ApiError(403, code, message);
export const notFound = (what: string): ApiError => new ApiError(404, 'not_found', `${what} not found`);
export const conflict = (code: string, message: string, details?: Record<string, unknown>): ApiError =>
  new ApiError(409, code, message, details);

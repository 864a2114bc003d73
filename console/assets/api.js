// @ts-check
/**
 * The console's only way out: fetch to this origin's public and admin APIs with the signed-in
 * key as a bearer token.
 */

/** A refusal of the API, or a failure to reach it (`status` 0). */
export class ApiError extends Error {
  /**
   * @param {number} status
   * @param {string} code
   * @param {string} message
   * @param {Record<string, unknown>} details
   * @param {{retryAfter?: number, requestId?: string}} [extra]
   */
  constructor(status, code, message, details, extra = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
    this.retryAfter = extra.retryAfter;
    this.requestId = extra.requestId;
  }
}

/**
 * @template T
 * @param {string} token
 * @param {string} method
 * @param {string} path
 * @param {{body?: unknown, signal?: AbortSignal}} [options]
 * @returns {Promise<T>}
 */
export async function call(token, method, path, options = {}) {
  /** @type {Record<string, string>} */
  const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'omit',
      cache: 'no-store',
      ...(options.body !== undefined && { body: JSON.stringify(options.body) }),
      ...(options.signal && { signal: options.signal }),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new ApiError(
      0,
      'unreachable',
      'Easel could not be reached: check your connection and try again.',
      {},
    );
  }
  /** @type {unknown} */
  let body = null;
  const text = await res.text();
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (res.ok) return /** @type {T} */ (body);
  const error =
    body && typeof body === 'object' && 'error' in body && body.error && typeof body.error === 'object'
      ? /** @type {{code?: unknown, message?: unknown, details?: unknown}} */ (body.error)
      : {};
  const retryAfter = Number(res.headers.get('retry-after'));
  throw new ApiError(
    res.status,
    typeof error.code === 'string' ? error.code : `http_${res.status}`,
    typeof error.message === 'string' ? error.message : `Easel answered ${res.status}.`,
    error.details && typeof error.details === 'object'
      ? /** @type {Record<string, unknown>} */ (error.details)
      : {},
    {
      ...(Number.isFinite(retryAfter) && retryAfter > 0 && { retryAfter }),
      ...(res.headers.get('x-request-id') && { requestId: res.headers.get('x-request-id') ?? '' }),
    },
  );
}

/**
 * What went wrong and what to do, in words, for any error a call threw.
 * @param {unknown} err
 * @returns {{title: string, lines: string[]}}
 */
export function explain(err) {
  if (!(err instanceof ApiError)) {
    return { title: 'Something went wrong in the console', lines: [String(err)] };
  }
  const d = err.details;
  const lines = [];
  let title = err.message;
  switch (err.code) {
    case 'insufficient_credits': {
      title = 'Not enough credits';
      const needed =
        typeof d.required === 'number' ? d.required : typeof d.needed === 'number' ? d.needed : undefined;
      const available = typeof d.available === 'number' ? d.available : undefined;
      if (needed !== undefined && available !== undefined) {
        lines.push(
          `This job needs ${needed} credits; your balance has ${available} available. Nothing was reserved.`,
        );
      } else {
        lines.push(err.message);
      }
      lines.push(
        'Ask for fewer images, pick a cheaper model, or wait for running jobs to release their hold. ' +
          'For more credits, ask the platform team for a grant or a bigger plan.',
      );
      break;
    }
    case 'unsupported_parameters': {
      title = 'This model cannot take the request as asked';
      const parameters = Array.isArray(d.parameters) ? d.parameters.map(String) : [];
      const models = Array.isArray(d.models_accepting_request) ? d.models_accepting_request.map(String) : [];
      if (parameters.length > 0) lines.push(`Not supported here: ${parameters.join(', ')}.`);
      lines.push(
        models.length > 0
          ? `Models that would take this request: ${models.join(', ')}.`
          : 'No model on this Easel takes the request as it is: change the parameters.',
      );
      break;
    }
    case 'invalid_request': {
      title = 'Some fields need a change';
      const fields = d.fields && typeof d.fields === 'object' ? Object.entries(d.fields) : [];
      if (fields.length === 0) lines.push(err.message);
      for (const [field, problem] of fields) lines.push(`${field}: ${String(problem)}`);
      break;
    }
    case 'unauthorized':
    case 'invalid_api_key':
      title = 'Signed out';
      lines.push('Easel no longer accepts this key (it may have been revoked). Sign in again.');
      break;
    default:
      if (err.status === 429) {
        title = 'Slow down: a plan limit was hit';
        lines.push(err.message);
      } else if (err.status === 0) {
        title = 'Easel could not be reached';
        lines.push('Check your connection and try again.');
      } else if (err.status >= 500) {
        title = 'Easel had a problem';
        lines.push(`${err.message} Try again in a moment.`);
      } else {
        title = err.status === 401 ? 'Not signed in' : 'Easel refused this request';
        lines.push(err.message);
      }
  }
  if (err.status === 429 && err.retryAfter !== undefined) {
    lines.push(`Try again in ${err.retryAfter} second${err.retryAfter === 1 ? '' : 's'}.`);
  }
  if (err.requestId && err.status >= 500)
    lines.push(`Request id: ${err.requestId} (quote it when asking for help).`);
  return { title, lines };
}

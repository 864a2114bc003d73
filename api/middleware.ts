import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { ApiError, unauthorized } from '../core/errors';
import type { Logger } from '../core/logger';
import { assertActive, tokensEqual, type Account, type AccountService } from '../core/accounts/accounts';

declare module 'express-serve-static-core' {
  interface Request {
    id: string;
    log: Logger;
    account?: Account;
    apiKeyId?: string;
  }
}

export type RequestObserver = (route: string, method: string, status: number, seconds: number) => void;

/** Gives every request an id (echoed as X-Request-Id) and a child logger, and logs its completion. */
export function requestContext(logger: Logger, observe?: RequestObserver) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.header('x-request-id');
    req.id = incoming && /^[\w.-]{1,100}$/.test(incoming) ? incoming : randomUUID();
    req.log = logger.child({ request_id: req.id });
    res.setHeader('X-Request-Id', req.id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      // The matched route pattern, never the raw path: ids in paths would explode label sets.
      const route = req.route ? `${req.baseUrl}${String((req.route as { path: string }).path)}` : 'unmatched';
      observe?.(route, req.method, res.statusCode, seconds);
      const level = res.statusCode >= 500 ? 'error' : 'info';
      req.log[level](
        { method: req.method, route, status: res.statusCode, ms: Math.round(seconds * 1000) },
        'request',
      );
    });
    next();
  };
}

export function bearerToken(req: Request): string | undefined {
  const header = req.header('authorization');
  const match = header?.match(/^Bearer\s+(\S+)$/i);
  return match?.[1];
}

/** Resolves the API key to its account. A revoked key fails at once: keys are read on every call. */
export function requireApiKey(accounts: AccountService, options: { allowSuspended?: boolean } = {}) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const token = bearerToken(req);
    if (!token) throw unauthorized();
    const found = await accounts.authenticate(token);
    if (!found) throw unauthorized('Invalid or revoked API key.');
    if (!options.allowSuspended) assertActive(found.account);
    req.account = found.account;
    req.apiKeyId = found.keyId;
    req.log = req.log.child({ account_id: found.account._id });
    next();
  };
}

export function requireAdmin(adminToken: string | undefined) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const token = bearerToken(req);
    if (!adminToken)
      throw new ApiError(401, 'unauthorized', 'The admin API is disabled: EASEL_ADMIN_TOKEN is not set.');
    if (!token || !tokensEqual(token, adminToken)) {
      throw new ApiError(
        401,
        'unauthorized',
        'Missing or invalid admin token: send Authorization: Bearer $EASEL_ADMIN_TOKEN.',
      );
    }
    next();
  };
}

export function currentAccount(req: Request): Account {
  if (!req.account) throw unauthorized();
  return req.account;
}

/** The one place errors become responses: `{error: {code, message, details?}}`, never a stack trace. */
export function errorHandler(err: unknown, req: Request, res: Response, _next: NextFunction): void {
  if (err instanceof ApiError) {
    for (const [name, value] of Object.entries(err.headers)) res.setHeader(name, value);
    res.status(err.status).json({
      error: { code: err.code, message: err.message, ...(err.details && { details: err.details }) },
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

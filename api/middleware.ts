import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';
import { bearerTokenOf, tokensEqual } from '../platform/ids';
import { ApiError, unauthorized } from './errors';
import type { Logger } from '../platform/logger';
import { assertActive, type Account, type AccountService } from '../core/accounts/accounts';

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
  return bearerTokenOf(req.header('authorization'));
}

/**
 * Resolves the API key to its account. The answer is cached for AUTH_CACHE_MS, but a key revoked
 * or an account suspended through this process is refused for every request that arrives after
 * the revocation or suspension answered; through another API process, within AUTH_CACHE_MS.
 */
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

/**
 * A bearer token set in the environment (`variable`); unset, the routes it guards are closed
 * rather than open.
 */
export function requireToken(token: string | undefined, variable: string, what: string) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    const given = bearerToken(req);
    if (!token) throw new ApiError(401, 'unauthorized', `${what} is disabled: ${variable} is not set.`);
    if (!given || !tokensEqual(given, token)) {
      throw new ApiError(
        401,
        'unauthorized',
        `Missing or invalid token: send Authorization: Bearer $${variable}.`,
      );
    }
    next();
  };
}

export const requireAdmin = (adminToken: string | undefined) =>
  requireToken(adminToken, 'EASEL_ADMIN_TOKEN', 'The admin API');

/** Whether the request carries the admin token (answers that show operators more detail). */
export function isAdmin(req: Request, adminToken: string | undefined): boolean {
  const given = bearerToken(req);
  return Boolean(adminToken && given && tokensEqual(given, adminToken));
}

export function currentAccount(req: Request): Account {
  if (!req.account) throw unauthorized();
  return req.account;
}

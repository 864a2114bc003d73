import express, { type Express } from 'express';
import type { AccountService } from '../core/accounts/accounts';
import type { Catalog } from '../core/catalog';
import type { AuditService } from '../core/ledger/audit';
import type { Logger } from '../core/logger';
import {
  errorHandler,
  notFoundHandler,
  requestContext,
  requireAdmin,
  requireApiKey,
  type RequestObserver,
} from './middleware';
import { accountRoutes, catalogRoutes } from './routes/account';
import { adminRoutes } from './routes/admin';

export interface Readiness {
  /** Each dependency's reachability: names what is down. */
  check(): Promise<Record<string, { ok: boolean; error?: string }>>;
}

export interface ApiDeps {
  logger: Logger;
  catalog: Catalog;
  accounts: AccountService;
  audit: AuditService;
  readiness: Readiness;
  adminToken: string | undefined;
  observeRequest?: RequestObserver;
  /** `GET /admin/v1/providers`: deployments with each worker's breaker state and latency. */
  providerStatus: () => Promise<unknown>;
  /** `GET /metrics` in Prometheus text format. */
  metrics: () => Promise<{ contentType: string; text: string }>;
  /** Routers contributed by later layers (jobs, images, metrics), mounted before the 404 handler.
   * Routes under /v1 are already authenticated; `apiKey` is for aliases outside it. */
  extend?: (app: Express, auth: { apiKey: express.RequestHandler }) => void;
}

export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(requestContext(deps.logger, deps.observeRequest));
  app.use(express.json({ limit: '1mb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    const checks = await deps.readiness.check();
    const down = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    res
      .status(down.length === 0 ? 200 : 503)
      .json({ status: down.length === 0 ? 'ready' : 'unavailable', down, checks });
  });

  app.get('/metrics', async (_req, res) => {
    const { contentType, text } = await deps.metrics();
    res.setHeader('Content-Type', contentType).send(text);
  });

  const apiKey = requireApiKey(deps.accounts);
  app.use(
    '/admin/v1',
    requireAdmin(deps.adminToken),
    adminRoutes({ accounts: deps.accounts, audit: deps.audit, providerStatus: deps.providerStatus }),
  );
  app.use('/v1', catalogRoutes(deps.catalog));
  // Everything under /v1 past the catalog needs an API key; routes added by `extend` under /v1 get it too.
  app.use('/v1', apiKey);
  app.use('/v1', accountRoutes(deps.accounts));
  deps.extend?.(app, { apiKey });

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

import express, { type Express } from 'express';
import type { Client } from '@temporalio/client';
import type { AccountService } from '../core/accounts/accounts';
import type { Catalog } from '../core/catalog';
import type { JobStore } from '../core/jobs/store';
import type { AuditService } from '../core/ledger/audit';
import type { Ledger } from '../core/ledger/ledger';
import { checkWebhookTarget } from '../core/webhooks/targets';
import type { ImageStore } from '../platform/image-store';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import { metricsText } from '../platform/metrics-server';
import type { ProviderConfig } from '../routing/deployments';
import { errorHandler, notFoundHandler } from './errors';
import { requestContext, requireAdmin, requireApiKey } from './middleware';
import type { ProviderStatus } from './providers-view';
import { RequestRateLimiter } from './rate-limit';
import { accountRoutes, catalogRoutes } from './routes/account';
import { adminRoutes } from './routes/admin';
import { imagineRoutes, JobSubmitter } from './routes/imagine';
import { workflowRunning } from '../core/jobs/job-workflow';
import { imageRoutes, jobRoutes } from './routes/jobs';
import { openAiRoutes } from './routes/openai';
import { usageRoutes } from './routes/usage';
import { webhookRoutes } from './routes/webhooks';

export interface Readiness {
  /** Each dependency's reachability: names what is down. */
  check(): Promise<Record<string, { ok: boolean; error?: string }>>;
}

export interface ApiDeps {
  logger: Logger;
  catalog: Catalog;
  providers: ProviderConfig;
  accounts: AccountService;
  ledger: Ledger;
  jobs: JobStore;
  images: ImageStore;
  audit: AuditService;
  temporal: Client;
  taskQueue: string;
  readiness: Readiness;
  adminToken: string | undefined;
  /** Base of image URLs in answers (known once the server listens). */
  baseUrl: () => string;
  allowPrivateWebhooks: boolean;
  /** Honour the `Easel-Failpoint` request header (tests only). */
  failpoints: boolean;
  metrics: Metrics;
  /** Where the Temporal SDK serves its own metrics, appended to ours (when this process runs a worker). */
  temporalMetricsUrl?: () => string | undefined;
  /** `GET /admin/v1/providers`: deployments with each worker's breaker state and latency. */
  providerStatus: () => Promise<ProviderStatus>;
}

/** The HTTP API: every route is mounted here. */
export function createApp(deps: ApiDeps): Express {
  const { metrics } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', true);
  app.use(
    requestContext(deps.logger, (route, method, status, seconds) => {
      metrics.httpRequests.inc({ route, method, status: String(status) });
      metrics.httpDuration.observe({ route, method }, seconds);
    }),
  );
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
    const text = await metricsText(metrics, deps.temporalMetricsUrl?.());
    res.setHeader('Content-Type', metrics.registry.contentType).send(text);
  });
  app.use(imageRoutes(deps.images));

  const submitter = new JobSubmitter({
    catalog: deps.catalog,
    providers: deps.providers,
    accounts: deps.accounts,
    ledger: deps.ledger,
    jobs: deps.jobs,
    temporal: deps.temporal,
    taskQueue: deps.taskQueue,
    rateLimiter: new RequestRateLimiter(),
    baseUrl: deps.baseUrl,
    checkWebhookUrl: (url) => checkWebhookTarget(url, deps.allowPrivateWebhooks),
    failpoints: deps.failpoints,
    logger: deps.logger,
    observe: {
      submitted: (model, plan, credits) => {
        metrics.jobsSubmitted.inc({ model, plan });
        metrics.creditsReserved.inc({ model, plan }, credits);
      },
      rateLimited: (plan, limit) => metrics.rateLimited.inc({ plan, limit }),
      insufficientCredits: (plan) => metrics.insufficientCredits.inc({ plan }),
    },
  });
  const apiKey = requireApiKey(deps.accounts);

  app.use(
    '/admin/v1',
    requireAdmin(deps.adminToken),
    adminRoutes({
      accounts: deps.accounts,
      ledger: deps.ledger,
      jobs: deps.jobs,
      audit: deps.audit,
      providerStatus: deps.providerStatus,
      workflowRunning: (jobId) => workflowRunning(deps.temporal, jobId),
      baseUrl: deps.baseUrl,
    }),
  );
  // The unversioned alias of POST /v1/imagine.
  app.use('/imagine', apiKey);
  app.use(imagineRoutes(submitter));

  app.use('/v1', catalogRoutes(deps.catalog));
  // Everything under /v1 past the catalog needs an API key.
  app.use('/v1', apiKey);
  app.use('/v1', accountRoutes(deps.accounts));
  app.use('/v1', imagineRoutes(submitter));
  app.use(
    '/v1',
    jobRoutes({ jobs: deps.jobs, temporal: deps.temporal, taskQueue: deps.taskQueue, baseUrl: deps.baseUrl }),
  );
  app.use('/v1', webhookRoutes(deps.accounts));
  app.use(
    '/v1',
    openAiRoutes({
      submitter,
      jobs: deps.jobs,
      temporal: deps.temporal,
      images: deps.images,
      baseUrl: deps.baseUrl,
    }),
  );
  app.use('/v1', usageRoutes(deps.jobs, deps.catalog));

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

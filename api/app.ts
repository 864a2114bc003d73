import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { AccountService } from '../core/accounts/accounts';
import type { Catalog } from '../core/catalog';
import type { JobStore } from '../core/jobs/store';
import type { UsageReports } from '../core/jobs/usage';
import type { AuditService } from '../core/ledger/audit';
import type { Ledger } from '../core/ledger/ledger';
import { checkWebhookTarget } from '../core/webhooks/targets';
import type { ImageStore } from '../platform/image-store';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import { metricsText } from '../platform/metrics-server';
import type { ProviderConfig } from '../routing/deployments';
import { errorHandler, notFoundHandler } from './errors';
import { isAdmin, requestContext, requireAdmin, requireApiKey, requireToken } from './middleware';
import type { ProviderStatus } from './providers-view';
import { limitReads, RequestRateLimiter } from './rate-limit';
import { accountRoutes, catalogRoutes } from './routes/account';
import { adminRoutes } from './routes/admin';
import { codecRoutes } from './routes/codec';
import { consoleRoutes } from './routes/console';
import { imagineRoutes, JobSubmitter } from './routes/imagine';
import type { ImageUrlSigner } from '../platform/image-urls';
import { workflowRunning } from '../core/jobs/job-workflow';
import { imageRoutes, jobRoutes } from './routes/jobs';
import { openAiRoutes } from './routes/openai';
import { openAiErrorHandler } from './routes/openai-images';
import { referenceRoutes } from './routes/reference';
import { usageRoutes } from './routes/usage';
import { webhookRoutes } from './routes/webhooks';

export interface Readiness {
  /** Each dependency's reachability: names what is down. */
  check(): Promise<Record<string, { ok: boolean; error?: string }>>;
}

/** One answer as sent: what the tests check against the OpenAPI document. */
export interface Answer {
  method: string;
  /** The request's path as the client sent it (before any router stripped its mount point). */
  path: string;
  status: number;
  contentType: string | undefined;
  /** The body as sent (`res.json` sends through `res.send` too), when the answer was JSON. */
  body?: string;
}

export interface ApiDeps {
  logger: Logger;
  catalog: Catalog;
  providers: ProviderConfig;
  accounts: AccountService;
  ledger: Ledger;
  jobs: JobStore;
  usage: UsageReports;
  images: ImageStore;
  audit: AuditService;
  temporal: Client;
  taskQueue: string;
  readiness: Readiness;
  adminToken: string | undefined;
  /** Bearer token of `/metrics`; unset, scrapes are refused. */
  metricsToken: string | undefined;
  /** Signs image URLs in answers and checks them when an image is fetched. */
  imageUrls: ImageUrlSigner;
  allowPrivateWebhooks: boolean;
  /** Honour the `Easel-Failpoint` request header (tests only). */
  failpoints: boolean;
  metrics: Metrics;
  /** Where the Temporal SDK serves its own metrics, appended to ours (when this process runs a worker). */
  temporalMetricsUrl?: () => string | undefined;
  /** `GET /admin/v1/providers`: deployments with each worker's breaker state and latency. */
  providerStatus: () => Promise<ProviderStatus>;
  /** `/codec`: the Temporal UI's codec server (admin token), with the Temporal payload codec. */
  payloadCodec: PayloadCodec;
  codecOrigins: readonly string[];
  /**
   * Aborted when the process starts shutting down: readiness turns 503, answers ask clients to
   * close their connections, and long-polls answer at once with the job as it stands.
   */
  draining?: AbortSignal;
  /** Aborted just before the shutdown's grace period ends (synchronous waits answer then). */
  closing?: AbortSignal;
  /** How long /v1/images/generations and /edits wait for a job (EASEL_SYNC_WAIT_SECONDS). */
  syncWaitMs?: number;
  /** Sees every answer once it is sent (tests: the OpenAPI conformance check). */
  observeAnswer?: (answer: Answer) => void;
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
  if (deps.observeAnswer) app.use(observeAnswers(deps.observeAnswer));
  app.use(express.json({ limit: '1mb' }));

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  if (deps.draining?.aborted) askClientsToClose(app);
  else deps.draining?.addEventListener('abort', () => askClientsToClose(app), { once: true });
  app.get('/readyz', async (req, res) => {
    const checks = await deps.readiness.check();
    if (deps.draining?.aborted) checks.process = { ok: false, error: 'shutting down' };
    const down = Object.entries(checks)
      .filter(([, c]) => !c.ok)
      .map(([name]) => name);
    // What is down is public (load balancers read it); why, with internal addresses, is for operators.
    const shown = isAdmin(req, deps.adminToken)
      ? checks
      : Object.fromEntries(Object.entries(checks).map(([name, c]) => [name, { ok: c.ok }]));
    res
      .status(down.length === 0 ? 200 : 503)
      .json({ status: down.length === 0 ? 'ready' : 'unavailable', down, checks: shown });
  });
  app.get(
    '/metrics',
    requireToken(deps.metricsToken, 'EASEL_METRICS_TOKEN', 'Scraping'),
    async (_req, res) => {
      const text = await metricsText(metrics, deps.temporalMetricsUrl?.());
      res.setHeader('Content-Type', metrics.registry.contentType).send(text);
    },
  );
  app.use(imageRoutes({ images: deps.images, signer: deps.imageUrls, accounts: deps.accounts }));

  // One limiter for the process: submissions and reads keep separate buckets in it.
  const rateLimiter = new RequestRateLimiter();
  const submitter = new JobSubmitter({
    catalog: deps.catalog,
    providers: deps.providers,
    accounts: deps.accounts,
    ledger: deps.ledger,
    jobs: deps.jobs,
    temporal: deps.temporal,
    taskQueue: deps.taskQueue,
    rateLimiter,
    imageLinks: deps.imageUrls,
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
      imageLinks: deps.imageUrls,
    }),
  );
  app.use(
    '/codec',
    codecRoutes({ codec: deps.payloadCodec, adminToken: deps.adminToken, allowedOrigins: deps.codecOrigins }),
  );
  // The unversioned alias of POST /v1/imagine.
  app.use('/imagine', apiKey);
  app.use(imagineRoutes(submitter));

  app.use('/v1', catalogRoutes(deps.catalog));
  // Everything under /v1 past the catalog needs an API key.
  app.use('/v1', apiKey);
  app.use(
    '/v1',
    limitReads(deps.accounts, rateLimiter, (plan, limit) => metrics.rateLimited.inc({ plan, limit })),
  );
  app.use('/v1', accountRoutes(deps.accounts));
  app.use('/v1', imagineRoutes(submitter));
  app.use(
    '/v1',
    jobRoutes({
      ...(deps.draining && { draining: deps.draining }),
      jobs: deps.jobs,
      ledger: deps.ledger,
      temporal: deps.temporal,
      taskQueue: deps.taskQueue,
      imageLinks: deps.imageUrls,
    }),
  );
  app.use('/v1', webhookRoutes(deps.accounts));
  app.use(
    '/v1',
    openAiRoutes({
      submitter,
      jobs: deps.jobs,
      temporal: deps.temporal,
      images: deps.images,
      imageLinks: deps.imageUrls,
      ...(deps.syncWaitMs !== undefined && { syncWaitMs: deps.syncWaitMs }),
      ...(deps.closing && { closing: deps.closing }),
    }),
  );
  app.use('/v1', usageRoutes(deps.usage));
  app.use(referenceRoutes(deps.catalog));
  app.use(consoleRoutes({ imageUrls: deps.imageUrls }));
  // The OpenAI-compatible routes answer every refusal in OpenAI's error shape, also those of the
  // key check and the read limiter in front of them, which their official clients read.
  app.use('/v1/images', openAiErrorHandler);

  app.use(notFoundHandler);
  app.use(errorHandler);
  return app;
}

/**
 * From now on every answer this app writes — those of requests already in flight too, such as a
 * long-poll — asks its keep-alive client to close, so that it reconnects to another replica.
 * Installed on the app's response prototype once draining begins, so that nothing runs per
 * request before.
 */
function askClientsToClose(app: Express): void {
  const inherited = Object.getPrototypeOf(app.response) as { writeHead: (...args: unknown[]) => Response };
  app.response.writeHead = function (this: Response, ...args: unknown[]) {
    if (!this.headersSent) this.setHeader('Connection', 'close');
    return inherited.writeHead.apply(this, args);
  } as Response['writeHead'];
}

/** Hands each answer to `observe` once it is sent, with the text of a JSON body as `res.send` sent it. */
function observeAnswers(observe: (answer: Answer) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    let sent: unknown;
    const send = res.send.bind(res);
    res.send = (body?: unknown) => {
      sent = body;
      return send(body);
    };
    const path = req.originalUrl.split('?')[0] ?? req.originalUrl;
    res.on('finish', () => {
      const header = res.getHeader('content-type');
      const contentType = typeof header === 'string' ? header : undefined;
      const text =
        typeof sent === 'string' ? sent : Buffer.isBuffer(sent) ? sent.toString('utf8') : undefined;
      observe({
        method: req.method,
        path,
        status: res.statusCode,
        contentType,
        ...(text !== undefined && contentType?.startsWith('application/json') && { body: text }),
      });
    });
    next();
  };
}

import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import type mongoose from 'mongoose';
import { createActivities } from '../activities';
import { BreakerDeploymentCaller } from '../activities/breakers';
import { recordSettlement } from '../activities/settlement-metrics';
import { createApp, type Readiness } from '../api/app';
import { metricsText, serveMetrics } from '../api/metrics';
import { providerStatus } from '../api/providers-view';
import { imagineRoutes, JobSubmitter } from '../api/routes/imagine';
import { imageRoutes, jobRoutes } from '../api/routes/jobs';
import { openAiRoutes } from '../api/routes/openai';
import { usageRoutes } from '../api/routes/usage';
import { webhookRoutes } from '../api/routes/webhooks';
import { AccountService } from '../core/accounts/accounts';
import type { Catalog } from '../core/catalog';
import { publicBaseUrl, resolveDataDir, type Environment } from '../core/config';
import { connectDatabase, pingDatabase } from '../core/db';
import { LocalDiskImageStore } from '../core/images';
import { scheduleUnstartedJobSweep } from '../core/jobs/job-workflow';
import { JobStore } from '../core/jobs/jobs';
import { settledJobsCheck } from '../core/jobs/settlement-audit';
import { AuditService } from '../core/ledger/audit';
import { Ledger } from '../core/ledger/ledger';
import type { Logger } from '../core/logger';
import { createMetrics, initialiseSeries } from '../core/metrics';
import { ProviderHealthBoard } from '../core/provider-health';
import { RequestRateLimiter } from '../core/rate-limit';
import { connectTemporal, pingTemporal, temporalPeriodScheduler } from '../core/temporal';
import { installTemporalRuntime } from '../core/temporal-runtime';
import { SharedUpstreamRate } from '../core/upstream-rate';
import { checkWebhookTarget } from '../core/webhooks/targets';
import { freePort, startDevStack, type DevStack } from '../infra/devstack/devstack';
import { createAdapters, loadConfig } from './config';

export type Role = 'all' | 'api' | 'worker';

export interface Easel {
  baseUrl?: string;
  port?: number;
  mongoUri: string;
  temporalAddress: string;
  devStack?: DevStack;
  accounts: AccountService;
  catalog: Catalog;
  temporal: Client;
  stop(): Promise<void>;
}

export interface StartOptions {
  env: Environment;
  role: Role;
  logger: Logger;
  /** Overrides for tests: servers already running. */
  mongoUri?: string;
  temporalAddress?: string;
}

/**
 * The composition root: connects to MongoDB and Temporal (starting the embedded dev stack for
 * whatever the environment leaves unset, outside production), then runs the API, the worker, or
 * both in this process.
 */
export async function startEasel(options: StartOptions): Promise<Easel> {
  const { env, role, logger } = options;
  const { catalog, providers } = loadConfig(env);
  if (providers.unservedModels.length > 0) {
    logger.warn(
      { models: providers.unservedModels },
      'no provider deployment serves these catalog models: submissions for them are refused',
    );
  }
  const cleanups: Array<() => Promise<unknown>> = [];
  const stop = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse()) {
      await cleanup().catch((err: unknown) => logger.warn({ err }, 'shutdown step failed'));
    }
  };

  try {
    let mongoUri = options.mongoUri ?? env.MONGODB_URI;
    let temporalAddress = options.temporalAddress ?? env.TEMPORAL_ADDRESS;
    let devStack: DevStack | undefined;
    if (!mongoUri || !temporalAddress) {
      if (env.NODE_ENV === 'production')
        throw new Error('MONGODB_URI and TEMPORAL_ADDRESS are required in production');
      devStack = await startDevStack({
        dataDir: path.join(resolveDataDir(env), 'devstack'),
        mongoPort: env.DEVSTACK_MONGO_PORT,
        temporalPort: env.DEVSTACK_TEMPORAL_PORT,
        temporalUiPort: env.DEVSTACK_TEMPORAL_UI_PORT,
        services: { mongo: !mongoUri, temporal: !temporalAddress },
        log: (message) => logger.info(message),
      });
      const stack = devStack;
      cleanups.push(() => stack.stop());
      mongoUri ??= `${devStack.mongoUri}easel`;
      temporalAddress ??= devStack.temporalAddress!;
    }

    const db: mongoose.Connection = await connectDatabase(mongoUri);
    cleanups.push(() => db.close());
    const { connection, client }: { connection: Connection; client: Client } = await connectTemporal({
      address: temporalAddress,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
    });
    cleanups.push(() => connection.close());

    const ledger = new Ledger(db);
    const accounts = new AccountService(
      catalog,
      ledger,
      temporalPeriodScheduler(client, env.TEMPORAL_TASK_QUEUE),
      db,
    );
    const jobs = new JobStore(db);
    await ledger.init();
    await accounts.init();
    await jobs.init();
    const images = new LocalDiskImageStore(path.join(resolveDataDir(env), 'images'));
    const audit = new AuditService(ledger, () => accounts.listIds(), [settledJobsCheck(ledger, jobs)]);

    const metrics = createMetrics();
    initialiseSeries(metrics, catalog, providers.deployments);
    // Image URLs in API answers and webhooks; the real port is known once the API listens.
    let boundBaseUrl = publicBaseUrl(env);
    let temporalMetricsUrl: string | undefined;
    const health = new ProviderHealthBoard(db);

    if (role !== 'api') {
      ({ metricsUrl: temporalMetricsUrl } = installTemporalRuntime(logger, {
        metricsPort: await freePort(),
      }));
      const upstreamRate = new SharedUpstreamRate(db);
      let onBreakerChange = (): void => {};
      const caller = new BreakerDeploymentCaller({
        onStateChange: () => onBreakerChange(),
        deployments: providers.deployments,
        logger,
        metrics,
        acquireUpstreamSlot: (d, signal) => upstreamRate.acquire(d.id, d.requests_per_second!, signal),
      });
      cleanups.push(async () => caller.shutdown());
      const board = health.publish(() => caller.snapshot());
      onBreakerChange = board.refresh;
      cleanups.push(async () => board.stop());
      const workerConnection = await NativeConnection.connect({ address: temporalAddress });
      const worker = await Worker.create({
        connection: workerConnection,
        namespace: env.TEMPORAL_NAMESPACE,
        taskQueue: env.TEMPORAL_TASK_QUEUE,
        workflowsPath: require.resolve('../workflows'),
        activities: createActivities({
          accounts,
          jobs,
          onSettled: recordSettlement(metrics, catalog),
          webhooks: {
            baseUrl: () => boundBaseUrl,
            allowPrivateTargets: env.EASEL_WEBHOOK_ALLOW_PRIVATE,
            initialRetryMs: env.EASEL_WEBHOOK_INITIAL_RETRY_MS,
            metrics,
          },
          generate: {
            catalog,
            providers,
            adapters: createAdapters(providers),
            jobs,
            images,
            caller,
            stats: caller.stats,
            metrics,
          },
        }),
      });
      const running = worker.run();
      cleanups.push(async () => {
        await workerConnection.close().catch(() => undefined);
      });
      cleanups.push(async () => {
        worker.shutdown();
        await running;
      });
      running.catch((err: unknown) => logger.error({ err }, 'worker stopped'));
      cleanups.push(
        scheduleUnstartedJobSweep({
          client,
          taskQueue: env.TEMPORAL_TASK_QUEUE,
          jobs,
          ledger,
          logger,
          olderThanMs: env.EASEL_UNSTARTED_JOB_AFTER_MS,
        }),
      );
      if (role === 'worker') {
        const server = await serveMetrics(metrics, temporalMetricsUrl, env.HOST, env.WORKER_METRICS_PORT);
        cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
        logger.info({ port: env.WORKER_METRICS_PORT }, 'worker metrics at /metrics');
      }
      logger.info({ taskQueue: env.TEMPORAL_TASK_QUEUE }, 'worker polling');
    }

    let port: number | undefined;
    let baseUrl: string | undefined;
    if (role !== 'worker') {
      const readiness: Readiness = {
        async check() {
          const probe = async (fn: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> => {
            try {
              await fn();
              return { ok: true };
            } catch (err) {
              return { ok: false, error: err instanceof Error ? err.message : String(err) };
            }
          };
          const [mongodb, temporal] = await Promise.all([
            probe(() => pingDatabase(db)),
            probe(() => pingTemporal(connection)),
          ]);
          return { mongodb, temporal };
        },
      };
      const submitter = new JobSubmitter({
        catalog,
        providers,
        accounts,
        jobs,
        temporal: client,
        taskQueue: env.TEMPORAL_TASK_QUEUE,
        rateLimiter: new RequestRateLimiter(),
        baseUrl: () => boundBaseUrl,
        checkWebhookUrl: (url) => checkWebhookTarget(url, env.EASEL_WEBHOOK_ALLOW_PRIVATE),
        observe: {
          submitted: (model, plan, credits) => {
            metrics.jobsSubmitted.inc({ model, plan });
            metrics.creditsReserved.inc({ model, plan }, credits);
          },
          rateLimited: (plan, limit) => metrics.rateLimited.inc({ plan, limit }),
          insufficientCredits: (plan) => metrics.insufficientCredits.inc({ plan }),
        },
      });
      const app = createApp({
        logger,
        catalog,
        accounts,
        audit,
        readiness,
        adminToken: env.EASEL_ADMIN_TOKEN,
        observeRequest: (route, method, status, seconds) => {
          metrics.httpRequests.inc({ route, method, status: String(status) });
          metrics.httpDuration.observe({ route, method }, seconds);
        },
        metrics: async () => ({
          contentType: metrics.registry.contentType,
          text: await metricsText(metrics, temporalMetricsUrl),
        }),
        providerStatus: async () => providerStatus(providers, await health.workers()),
        extend: (app, { apiKey }) => {
          app.use(imageRoutes(images));
          app.use('/imagine', apiKey);
          app.use(imagineRoutes(submitter));
          app.use('/v1', imagineRoutes(submitter));
          app.use('/v1', jobRoutes({ jobs, temporal: client, baseUrl: () => boundBaseUrl }));
          app.use('/v1', webhookRoutes(accounts));
          app.use(
            '/v1',
            openAiRoutes({ submitter, jobs, temporal: client, images, baseUrl: () => boundBaseUrl }),
          );
          app.use('/v1', usageRoutes(jobs, catalog));
        },
      });
      const server = http.createServer(app);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(env.PORT, env.HOST, resolve);
      });
      port = (server.address() as AddressInfo).port;
      baseUrl = publicBaseUrl(env, port);
      boundBaseUrl = baseUrl;
      cleanups.push(
        () =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      );
      logger.info({ url: baseUrl }, 'API listening');
    }

    return {
      ...(baseUrl !== undefined && { baseUrl }),
      ...(port !== undefined && { port }),
      mongoUri,
      temporalAddress,
      ...(devStack && { devStack }),
      accounts,
      catalog,
      temporal: client,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Reads a value persisted in the data folder, or creates and saves it (local runs only). */
export function persistedSecret(env: Environment, name: string, create: () => string): string {
  const file = path.join(resolveDataDir(env), name);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const value = create();
    fs.writeFileSync(file, `${value}\n`, { mode: 0o600 });
    return value;
  }
}

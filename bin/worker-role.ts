import fs from 'node:fs';
import { NativeConnection, Worker } from '@temporalio/worker';
import { createActivities } from '../activities';
import { recordSettlement } from '../activities/settlement-metrics';
import { startUnstartedJobs } from '../core/jobs/job-workflow';
import { ensureImageRetention } from '../core/jobs/image-retention';
import { releaseOrphanedReservations } from '../core/jobs/stranded-reservations';
import { runPeriodically } from '../platform/periodic';
import { serveWorkerEndpoints } from '../platform/metrics-server';
import { ownImageReader } from '../platform/image-urls';
import { createOutboundPolicy } from '../platform/outbound';
import { encryptingDataConverter } from '../platform/temporal';
import { installTemporalRuntimeWithMetrics } from '../platform/temporal-runtime';
import { GuardedDeploymentCaller } from '../routing/caller';
import { ProviderHealthBoard } from '../routing/health-board';
import { ImageRouter } from '../routing/router';
import { SharedUpstreamRate } from '../routing/upstream-rate';
import { DeploymentLeases } from '../routing/leases';
import { countsInFlight, createOutboundPolicies } from '../routing/deployments';
import { createAdapters } from './config';
import { WORKFLOW_BUNDLE } from './workflow-bundle';
import type { ProcessParts } from './domain';

/** The most a running job's cancel waits for its activity's next heartbeat. */
const HEARTBEAT_THROTTLE = '500 milliseconds';

export interface WorkerRole extends ProcessParts {
  /** Serve this worker's own /metrics (a worker running alone). */
  serveOwnMetrics: boolean;
}

/**
 * The Temporal worker: the job, webhook and billing workflows with their activities, the routing
 * (breakers, cool-downs, shared upstream rate) and the sweeps that finish stopped submissions. Returns where the
 * Temporal SDK serves its own metrics.
 */
export async function startWorker(
  role: WorkerRole,
  cleanups: Array<() => Promise<unknown>>,
): Promise<{ temporalMetricsUrl: string | undefined }> {
  const { env, logger, catalog, providers, metrics, services, domain } = role;
  const { metricsUrl } = await installTemporalRuntimeWithMetrics(logger);

  const upstreamRate = new SharedUpstreamRate(services.db);
  const leases = new DeploymentLeases(services.db);
  await leases.init();
  const health = new ProviderHealthBoard(services.db);
  let onBreakerChange = (): void => {};
  const caller = new GuardedDeploymentCaller({
    deployments: providers.deployments,
    logger,
    metrics,
    onStateChange: () => onBreakerChange(),
    acquireUpstreamSlot: (d, signal) => upstreamRate.acquire(d.id, d.requests_per_second!, signal),
    leases: { store: leases, counted: (d) => countsInFlight(providers, d) },
  });
  cleanups.push(async () => caller.shutdown());
  const board = health.publish(() => caller.snapshot());
  onBreakerChange = board.refresh;
  cleanups.push(async () => board.stop());

  const testPublic = new Set(env.EASEL_OUTBOUND_TEST_PUBLIC_ADDRESSES);
  const treatAsPublic = testPublic.size > 0 && {
    treatAsPublic: (address: string) => testPublic.has(address),
  };
  const outbound = createOutboundPolicies(providers.deployments, { ...treatAsPublic });
  const webhookOutbound = createOutboundPolicy({
    allowPrivate: env.EASEL_WEBHOOK_ALLOW_PRIVATE,
    ...treatAsPublic,
  });
  cleanups.push(() => Promise.all([...outbound.values(), webhookOutbound].map((policy) => policy.close())));
  const router = new ImageRouter({
    catalog,
    providers,
    outbound,
    maxImageBytes: env.EASEL_MAX_IMAGE_BYTES,
    adapters: createAdapters(providers, outbound, ownImageReader(role.imageUrls, domain.images)),
    images: domain.images,
    caller,
    metrics,
    logger,
  });
  const connection = await NativeConnection.connect(services.temporalConnectionOptions);
  cleanups.push(() => connection.close().catch(() => undefined));
  const worker = await Worker.create({
    connection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    ...(fs.existsSync(WORKFLOW_BUNDLE)
      ? { workflowBundle: { codePath: WORKFLOW_BUNDLE } }
      : { workflowsPath: require.resolve('../workflows') }),
    // As the client's: every payload the worker sends to Temporal is encrypted.
    dataConverter: encryptingDataConverter(services.payloadCodec),
    // Temporal delivers an activity's cancellation only in the answer to a heartbeat, and sends
    // heartbeats at most every min(0.8 × heartbeatTimeout, this): a cancelled job stops this soon
    // after the cancel (generateImages heartbeats more often than this).
    maxHeartbeatThrottleInterval: HEARTBEAT_THROTTLE,
    // On shutdown the worker stops polling and lets running activities finish for this long
    // before cancelling them; a cancelled generation heartbeats out and its retry, on another
    // worker, resumes polling the upstream job it recorded (never submits it again).
    shutdownGraceTime: env.EASEL_SHUTDOWN_GRACE_SECONDS * 1000,
    activities: createActivities({
      accounts: domain.accounts,
      ledger: domain.ledger,
      jobs: domain.jobs,
      images: domain.images,
      router,
      onSettled: recordSettlement(metrics, catalog),
      webhooks: {
        imageLinks: role.imageUrls,
        allowPrivateTargets: env.EASEL_WEBHOOK_ALLOW_PRIVATE,
        outbound: webhookOutbound,
        initialRetryMs: env.EASEL_WEBHOOK_INITIAL_RETRY_MS,
        metrics,
      },
    }),
  });
  await ensureImageRetention(services.temporal, env.TEMPORAL_TASK_QUEUE, env.EASEL_IMAGE_RETENTION_DAYS);
  const running = worker.run();
  running.catch((err: unknown) => logger.error({ err }, 'worker stopped'));
  cleanups.push(async () => {
    // The SDK starts draining on SIGINT/SIGTERM by itself; only a worker still running is told.
    if (worker.getState() === 'RUNNING') worker.shutdown();
    await running;
  });
  // A submission that stopped halfway: a job written but never started is started; credits
  // reserved for a job never written are released.
  const unstarted = {
    client: services.temporal,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    jobs: domain.jobs,
    logger,
    olderThanMs: env.EASEL_UNSTARTED_JOB_AFTER_MS,
  };
  cleanups.push(
    runPeriodically(
      env.EASEL_UNSTARTED_JOB_AFTER_MS,
      () => startUnstartedJobs(unstarted),
      (err) => logger.warn({ err }, 'unstarted-job sweep failed'),
    ),
  );
  cleanups.push(
    runPeriodically(
      env.EASEL_ORPHANED_RESERVATION_AFTER_MS,
      () =>
        releaseOrphanedReservations(
          { ledger: domain.ledger, jobs: domain.jobs, logger },
          env.EASEL_ORPHANED_RESERVATION_AFTER_MS,
        ),
      (err) => logger.warn({ err }, 'orphaned-reservation sweep failed'),
    ),
  );
  if (role.serveOwnMetrics) {
    const server = await serveWorkerEndpoints(
      metrics,
      metricsUrl,
      { host: env.HOST, port: env.WORKER_METRICS_PORT, token: env.EASEL_METRICS_TOKEN },
      async () => {
        const checks = await services.check();
        // Ready only while the worker polls its task queue: not before it runs, not once draining.
        const state = worker.getState();
        checks.poller = state === 'RUNNING' ? { ok: true } : { ok: false, error: `worker ${state}` };
        for (const [name, c] of Object.entries(checks)) {
          if (!c.ok) logger.warn({ dependency: name, error: c.error }, 'worker not ready');
        }
        return checks;
      },
    );
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    logger.info({ port: env.WORKER_METRICS_PORT }, 'worker /metrics, /healthz and /readyz');
  }
  logger.info({ taskQueue: env.TEMPORAL_TASK_QUEUE }, 'worker polling');
  return { temporalMetricsUrl: metricsUrl };
}

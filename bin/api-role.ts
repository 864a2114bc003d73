import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp, type ApiDeps } from '../api/app';
import { answerClientError } from '../api/errors';
import { providerStatus } from '../api/providers-view';
import { publicBaseUrl } from '../platform/config';
import type { ImageStore } from '../platform/image-store';
import { ProviderHealthBoard } from '../routing/health-board';
import type { ProcessParts } from './domain';

export interface ApiRole extends ProcessParts {
  temporalMetricsUrl?: string;
  observeAnswer?: ApiDeps['observeAnswer'];
}

/** The image store's part of `/readyz`: an S3 store's error names the bucket. */
async function imageStoreCheck(images: ImageStore): Promise<{ ok: boolean; error?: string }> {
  try {
    await images.check();
    return { ok: true };
  } catch (err) {
    return { ok: false, error: err instanceof Error ? err.message : String(err) };
  }
}

/** The HTTP API, listening; returns where, and the base of its image URLs. */
export async function startApi(
  role: ApiRole,
  cleanups: Array<() => Promise<unknown>>,
): Promise<{ port: number; baseUrl: string }> {
  const { env, services, domain } = role;
  const health = new ProviderHealthBoard(services.db);
  const draining = new AbortController();
  const closing = new AbortController();
  const app = createApp({
    draining: draining.signal,
    closing: closing.signal,
    syncWaitMs: env.EASEL_SYNC_WAIT_SECONDS * 1000,
    logger: role.logger,
    catalog: role.catalog,
    providers: role.providers,
    ...domain,
    temporal: services.temporal,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    readiness: {
      async check() {
        const [checks, images] = await Promise.all([services.check(), imageStoreCheck(domain.images)]);
        return { ...checks, images };
      },
    },
    adminToken: env.EASEL_ADMIN_TOKEN,
    metricsToken: env.EASEL_METRICS_TOKEN,
    imageUrls: role.imageUrls,
    allowPrivateWebhooks: env.EASEL_WEBHOOK_ALLOW_PRIVATE,
    failpoints: env.EASEL_FAILPOINTS,
    metrics: role.metrics,
    temporalMetricsUrl: () => role.temporalMetricsUrl,
    providerStatus: async () => providerStatus(role.providers, await health.workers()),
    payloadCodec: services.payloadCodec,
    codecOrigins: env.EASEL_CODEC_CORS_ORIGINS,
    ...(role.observeAnswer && { observeAnswer: role.observeAnswer }),
  });
  const server = http.createServer(app);
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.PORT, env.HOST, resolve);
  });
  // Shutdown drains: readiness turns 503, then new connections are refused while the requests in
  // flight finish (long-polls answer at once), for at most the grace period; then what is left
  // is cut.
  cleanups.push(async () => {
    draining.abort();
    const graceMs = env.EASEL_SHUTDOWN_GRACE_SECONDS * 1000;
    // Synchronous waits answer (504 with the job id) a second before what is left is cut.
    const lastAnswers = setTimeout(() => closing.abort(), Math.max(0, graceMs - 1_000));
    // Still accepting for a moment, answering not-ready, so that load balancers take this
    // replica out before its port closes (what a Kubernetes preStop sleep is for).
    await new Promise((resolve) => setTimeout(resolve, env.EASEL_SHUTDOWN_DELAY_SECONDS * 1000));
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(cut);
    clearTimeout(lastAnswers);
  });
  const port = (server.address() as AddressInfo).port;
  const baseUrl = publicBaseUrl(env, port);
  role.logger.info({ url: baseUrl }, 'API listening');
  return { port, baseUrl };
}

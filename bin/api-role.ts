import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../api/app';
import { answerClientError } from '../api/errors';
import { providerStatus } from '../api/providers-view';
import { publicBaseUrl } from '../platform/config';
import { ProviderHealthBoard } from '../routing/health-board';
import type { ProcessParts } from './domain';

export interface ApiRole extends ProcessParts {
  temporalMetricsUrl?: string;
}

/** The HTTP API, listening; returns where, and the base of its image URLs. */
export async function startApi(
  role: ApiRole,
  cleanups: Array<() => Promise<unknown>>,
): Promise<{ port: number; baseUrl: string }> {
  const { env, services, domain } = role;
  const health = new ProviderHealthBoard(services.db);
  const app = createApp({
    logger: role.logger,
    catalog: role.catalog,
    providers: role.providers,
    ...domain,
    temporal: services.temporal,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    readiness: services,
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
  });
  const server = http.createServer(app);
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(env.PORT, env.HOST, resolve);
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  );
  const port = (server.address() as AddressInfo).port;
  const baseUrl = publicBaseUrl(env, port);
  role.logger.info({ url: baseUrl }, 'API listening');
  return { port, baseUrl };
}

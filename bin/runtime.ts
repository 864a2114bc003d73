import type { ApiDeps } from '../api/app';
import type { ProviderConfig } from '../routing/deployments';
import fs from 'node:fs';
import path from 'node:path';
import type { Client } from '@temporalio/client';
import type { AccountService } from '../core/accounts/accounts';
import type { Catalog } from '../core/catalog';
import type { Ledger } from '../core/ledger/ledger';
import type { DevStack } from '../infra/devstack/devstack';
import { publicBaseUrl, resolveDataDir, type Environment } from '../platform/config';
import { EncryptionCodec, generatePayloadKey, parsePayloadKeys } from '../platform/payload-codec';
import type { Logger } from '../platform/logger';
import { createMetrics, initialiseSeries } from '../platform/metrics';
import { randomToken } from '../platform/ids';
import { DirectImageUrlSigner, ImageUrlSigner } from '../platform/image-urls';
import { S3ImageStore } from '../platform/s3-image-store';
import { startApi } from './api-role';
import { loadConfig } from './config';
import { createDomain } from './domain';
import { connectServices } from './services';
import { startWorker } from './worker-role';

export type Role = 'all' | 'api' | 'worker';

export interface Easel {
  baseUrl?: string;
  port?: number;
  mongoUri: string;
  temporalAddress: string;
  devStack?: DevStack;
  accounts: AccountService;
  ledger: Ledger;
  catalog: Catalog;
  providers: ProviderConfig;
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
  /** Tests: sees every API answer (the OpenAPI conformance check). */
  observeAnswer?: ApiDeps['observeAnswer'];
}

/**
 * Runs the API, the worker, or both in this process, on the services the environment names (the
 * embedded dev stack for whatever it leaves unset, outside production). `stop` undoes every step
 * in reverse order.
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
    const payloadCodec = new EncryptionCodec(parsePayloadKeys(payloadKeys(env)));
    const services = await connectServices(env, logger, cleanups, { ...options, payloadCodec });
    const domain = await createDomain(env, catalog, services);
    // Not fatal, and not waited for: `/readyz` keeps reporting it (and the bucket) until the store answers.
    void domain.images.check().catch((err: unknown) => logger.warn({ err }, 'image store not ready'));
    const metrics = createMetrics();
    initialiseSeries(metrics, catalog, providers.deployments);
    // Image URLs in answers and webhooks; the API's real port is known once it listens.
    let baseUrl = publicBaseUrl(env);
    const secret = imageUrlSecret(env);
    const ttl = env.EASEL_IMAGE_URL_TTL_SECONDS;
    // The environment schema allows presigned delivery only with the S3 store.
    const imageUrls =
      env.EASEL_IMAGE_DELIVERY === 'presigned' && domain.images instanceof S3ImageStore
        ? new DirectImageUrlSigner(secret, ttl, () => baseUrl, await domain.images.presignedLinks())
        : new ImageUrlSigner(secret, ttl, () => baseUrl);
    const parts = { env, logger, catalog, providers, metrics, services, domain, imageUrls };
    const worker =
      role === 'api'
        ? undefined
        : await startWorker({ ...parts, serveOwnMetrics: role === 'worker' }, cleanups);
    const api =
      role === 'worker'
        ? undefined
        : await startApi(
            {
              ...parts,
              ...(worker && { temporalMetricsUrl: worker.temporalMetricsUrl }),
              ...(options.observeAnswer && { observeAnswer: options.observeAnswer }),
            },
            cleanups,
          );
    if (api) baseUrl = api.baseUrl;
    return {
      ...(api && { baseUrl: api.baseUrl, port: api.port }),
      mongoUri: services.mongoUri,
      temporalAddress: services.temporalAddress,
      ...(services.devStack && { devStack: services.devStack }),
      accounts: domain.accounts,
      ledger: domain.ledger,
      catalog,
      providers,
      temporal: services.temporal,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * EASEL_PAYLOAD_KEYS, or outside production (where the environment schema requires it) a key
 * generated on the first run and kept in the data folder, so that `npm start` needs no setup and
 * an API and a worker started apart on one data folder share it. Losing that file makes the
 * payloads of unfinished local workflows unreadable.
 */
function payloadKeys(env: Environment): string {
  if (env.EASEL_PAYLOAD_KEYS) return env.EASEL_PAYLOAD_KEYS;
  if (env.NODE_ENV === 'production') throw new Error('EASEL_PAYLOAD_KEYS is required in production');
  return persistedSecret(env, 'payload-keys', () =>
    generatePayloadKey(`local-${new Date().toISOString().slice(0, 10)}`),
  );
}

/** EASEL_IMAGE_URL_SECRET, or outside production one kept in the data folder (as payloadKeys). */
function imageUrlSecret(env: Environment): string {
  if (env.EASEL_IMAGE_URL_SECRET) return env.EASEL_IMAGE_URL_SECRET;
  if (env.NODE_ENV === 'production') throw new Error('EASEL_IMAGE_URL_SECRET is required in production');
  return persistedSecret(env, 'image-url-secret', () => randomToken(32));
}

/** Reads a value persisted in the data folder, or creates and saves it (local runs only). */
export function persistedSecret(env: Environment, name: string, create: () => string): string {
  const file = path.join(resolveDataDir(env), name);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const value = create();
    try {
      // `wx`: an API and a worker started together on a fresh data folder end up with one value.
      fs.writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return fs.readFileSync(file, 'utf8').trim();
      throw err;
    }
    return value;
  }
}

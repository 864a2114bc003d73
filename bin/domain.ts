import path from 'node:path';
import { AccountService } from '../core/accounts/accounts';
import { temporalPeriodScheduler } from '../core/accounts/billing-periods';
import type { Catalog } from '../core/catalog';
import { booksCheck } from '../core/jobs/books-audit';
import { JobStore } from '../core/jobs/store';
import { UsageReports } from '../core/jobs/usage';
import { AuditService } from '../core/ledger/audit';
import { Ledger } from '../core/ledger/ledger';
import { resolveDataDir, type Environment } from '../platform/config';
import type { Logger } from '../platform/logger';
import type { Metrics } from '../platform/metrics';
import type { ProviderConfig } from '../routing/deployments';
import { LocalDiskImageStore, type ImageStore } from '../platform/image-store';
import { S3ImageStore } from '../platform/s3-image-store';
import type { Services } from './services';
import type { ImageUrlSigner } from '../platform/image-urls';

/** The domain services both roles use, on one database. */
export interface Domain {
  ledger: Ledger;
  accounts: AccountService;
  jobs: JobStore;
  usage: UsageReports;
  images: ImageStore;
  audit: AuditService;
}

/** What every process role is built from. */
export interface ProcessParts {
  env: Environment;
  logger: Logger;
  catalog: Catalog;
  providers: ProviderConfig;
  metrics: Metrics;
  services: Services;
  domain: Domain;
  /** Signs the image URLs of answers and webhooks, and checks them when an image is fetched. */
  imageUrls: ImageUrlSigner;
}

export async function createDomain(env: Environment, catalog: Catalog, services: Services): Promise<Domain> {
  const { db } = services;
  const ledger = new Ledger(db);
  const accounts = new AccountService(
    catalog,
    ledger,
    temporalPeriodScheduler(services.temporal, env.TEMPORAL_TASK_QUEUE),
    db,
  );
  const jobs = new JobStore(db);
  const usage = new UsageReports(jobs, catalog, db);
  await ledger.init();
  await accounts.init();
  await jobs.init();
  await usage.init();
  const images =
    env.EASEL_IMAGE_STORE === 's3'
      ? new S3ImageStore({
          bucket: env.EASEL_S3_BUCKET!,
          prefix: env.EASEL_S3_PREFIX,
          ...(env.EASEL_S3_ENDPOINT !== undefined && { endpoint: env.EASEL_S3_ENDPOINT }),
          forcePathStyle: env.EASEL_S3_FORCE_PATH_STYLE,
        })
      : new LocalDiskImageStore(path.join(resolveDataDir(env), 'images'));
  const audit = new AuditService(
    (accountId) => ledger.history(accountId),
    () => accounts.listIds(),
    [booksCheck(jobs)],
  );
  return { ledger, accounts, jobs, usage, images, audit };
}

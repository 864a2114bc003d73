import type { AccountService } from '../core/accounts/accounts';
import type { JobStore } from '../core/jobs/store';
import type { Ledger } from '../core/ledger/ledger';
import { createBillingActivities } from './billing';
import { createGenerateActivity, type GenerateDeps } from './generate';
import { createJobActivities, type JobActivityDeps } from './jobs';
import { createRetentionActivities } from './retention';
import { createWebhookActivities, type WebhookDeps } from './webhooks';
import type { ImageStore } from '../platform/image-store';

export interface ActivityDeps {
  accounts: AccountService;
  ledger: Ledger;
  jobs: JobStore;
  images: ImageStore;
  router: GenerateDeps['router'];
  onSettled?: JobActivityDeps['onSettled'];
  webhooks: Omit<WebhookDeps, 'accounts' | 'jobs'> & { initialRetryMs?: number };
}

/** Builds the worker's activities from their dependencies (tests pass their own). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createBillingActivities(deps.accounts),
    ...createJobActivities({
      ledger: deps.ledger,
      jobs: deps.jobs,
      ...(deps.onSettled && { onSettled: deps.onSettled }),
      ...(deps.webhooks.initialRetryMs !== undefined && {
        webhookInitialRetryMs: deps.webhooks.initialRetryMs,
      }),
    }),
    ...createGenerateActivity({ router: deps.router, jobs: deps.jobs }),
    ...createWebhookActivities({ ...deps.webhooks, accounts: deps.accounts, jobs: deps.jobs }),
    ...createRetentionActivities({ jobs: deps.jobs, images: deps.images }),
  };
}

export type Activities = ReturnType<typeof createActivities>;

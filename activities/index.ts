import type { AccountService } from '../core/accounts/accounts';
import { createBillingActivities } from './billing';
import { createGenerateActivity, type GenerateDeps } from './generate';
import { createJobActivities, type JobActivityDeps } from './jobs';

export interface ActivityDeps {
  accounts: AccountService;
  jobs: JobActivityDeps['jobs'];
  generate: GenerateDeps;
  onSettled?: JobActivityDeps['onSettled'];
}

/** Builds the worker's activities from their dependencies (tests pass their own). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createBillingActivities(deps.accounts),
    ...createJobActivities({
      accounts: deps.accounts,
      jobs: deps.jobs,
      ...(deps.onSettled && { onSettled: deps.onSettled }),
    }),
    ...createGenerateActivity(deps.generate),
  };
}

export type Activities = ReturnType<typeof createActivities>;

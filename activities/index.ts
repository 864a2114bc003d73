import type { AccountService } from '../core/accounts/accounts';
import { createBillingActivities } from './billing';

export interface ActivityDeps {
  accounts: AccountService;
}

/** Builds the worker's activities from their dependencies (tests pass their own). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createBillingActivities(deps.accounts),
  };
}

export type Activities = ReturnType<typeof createActivities>;

import { log } from '@temporalio/activity';
import type { AccountService } from '../core/accounts/accounts';

export function createBillingActivities(accounts: AccountService) {
  return {
    /** Renews every ended period of the account; returns when the current one ends (null: no plan credits). */
    async renewBillingPeriods(accountId: string): Promise<string | null> {
      const end = await accounts.renewPeriods(accountId);
      log.info('billing period current', { accountId, periodEnd: end });
      return end;
    },
  };
}

import { continueAsNew, proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';

const { renewBillingPeriods } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumInterval: '5 minutes' },
});

export interface BillingPeriodInput {
  accountId: string;
}

/**
 * One per account with plan credits (`billing-period-<account>`): sleeps until the current period
 * ends, then expires its unused plan credits and grants the next period's. The activity is keyed by
 * period, so a second run of the same boundary moves nothing. A plan change restarts the period
 * from the API; this workflow notices when it next wakes and simply sleeps until the new end.
 */
export async function billingPeriodWorkflow(input: BillingPeriodInput): Promise<void> {
  for (;;) {
    const periodEnd = await renewBillingPeriods(input.accountId);
    if (periodEnd === null) return;
    const wait = Date.parse(periodEnd) - Date.now();
    if (wait > 0) await sleep(wait);
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > 1_000) {
      await continueAsNew<typeof billingPeriodWorkflow>(input);
    }
  }
}

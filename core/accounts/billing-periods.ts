import { WorkflowIdConflictPolicy, type Client } from '@temporalio/client';
import type { BillingPeriodInput } from '../jobs/contract';
import type { PeriodScheduler } from './accounts';

/** Billing periods renew in a per-account Temporal workflow, started when a period starts. */
export function temporalPeriodScheduler(client: Client, taskQueue: string): PeriodScheduler {
  return {
    async ensureRenewal(accountId: string): Promise<void> {
      const input: BillingPeriodInput = { accountId };
      await client.workflow.start('billingPeriodWorkflow', {
        taskQueue,
        workflowId: `billing-period-${accountId}`,
        args: [input],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      });
    },
  };
}

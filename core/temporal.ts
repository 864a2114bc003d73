import { Client, Connection, WorkflowIdConflictPolicy } from '@temporalio/client';
import type { PeriodScheduler } from './accounts/accounts';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

export async function connectTemporal(
  settings: TemporalSettings,
): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  return { connection, client };
}

export async function pingTemporal(connection: Connection): Promise<void> {
  await connection.withDeadline(Date.now() + 1_500, () => connection.workflowService.getSystemInfo({}));
}

/** Billing periods renew in a per-account Temporal workflow, started when a period starts. */
export function temporalPeriodScheduler(client: Client, taskQueue: string): PeriodScheduler {
  return {
    async ensureRenewal(accountId: string): Promise<void> {
      await client.workflow.start('billingPeriodWorkflow', {
        taskQueue,
        workflowId: `billing-period-${accountId}`,
        args: [{ accountId }],
        workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
      });
    },
  };
}

import { Client, Connection } from '@temporalio/client';

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

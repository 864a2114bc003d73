import { Client, Connection } from '@temporalio/client';
import type { DataConverter, PayloadCodec } from '@temporalio/common';

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
  /**
   * Encrypts what the client sends and decrypts what it reads (`EncryptionCodec`); the worker
   * must use the same one. Left out only by the bench's bare-Temporal baseline.
   */
  payloadCodec?: PayloadCodec;
}

export async function connectTemporal(
  settings: TemporalSettings,
): Promise<{ connection: Connection; client: Client }> {
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({
    connection,
    namespace: settings.namespace,
    ...(settings.payloadCodec && { dataConverter: encryptingDataConverter(settings.payloadCodec) }),
  });
  return { connection, client };
}

/**
 * What the client and the worker convert payloads with: the codec encrypts every payload, and the
 * failure converter turns failure messages and stack traces into one as well.
 */
export function encryptingDataConverter(codec: PayloadCodec): DataConverter {
  return { payloadCodecs: [codec], failureConverterPath: require.resolve('./failure-converter') };
}

export async function pingTemporal(connection: Connection): Promise<void> {
  await connection.withDeadline(Date.now() + 1_500, () => connection.workflowService.getSystemInfo({}));
}

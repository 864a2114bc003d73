import path from 'node:path';
import type { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type mongoose from 'mongoose';
import type { DevStack } from '../infra/devstack/devstack';
import { resolveDataDir, type Environment } from '../platform/config';
import { connectDatabase, pingDatabase } from '../platform/db';
import type { Logger } from '../platform/logger';
import {
  connectTemporal,
  ensureSearchAttributes,
  pingTemporal,
  temporalConnectionOptions,
  type TemporalConnectionOptions,
} from '../platform/temporal';
import { JOB_SEARCH_ATTRIBUTES } from '../core/jobs/search-attributes';

/** The outside services a process stands on, connected. */
export interface Services {
  db: mongoose.Connection;
  temporalConnection: Connection;
  /** How to connect to Temporal (TLS, API key): the worker opens its own connection with them. */
  temporalConnectionOptions: TemporalConnectionOptions;
  temporal: Client;
  /** What the client and the worker encrypt Temporal payloads with (and the codec endpoint uses). */
  payloadCodec: PayloadCodec;
  mongoUri: string;
  temporalAddress: string;
  /** The embedded dev stack, when this process started one. */
  devStack?: DevStack;
  /** Each service's reachability, for `/readyz`. */
  check(): Promise<Record<string, { ok: boolean; error?: string }>>;
}

/**
 * Connects to MongoDB and Temporal. Outside production, whatever the environment leaves unset is
 * served by the embedded dev stack (FerretDB, Temporal dev server), which is loaded only then.
 * Each cleanup is pushed to `cleanups` as soon as its resource exists.
 */
export async function connectServices(
  env: Environment,
  logger: Logger,
  cleanups: Array<() => Promise<unknown>>,
  given: { mongoUri?: string; temporalAddress?: string; payloadCodec: PayloadCodec },
): Promise<Services> {
  let mongoUri = given.mongoUri ?? env.MONGODB_URI;
  let temporalAddress = given.temporalAddress ?? env.TEMPORAL_ADDRESS;
  let devStack: DevStack | undefined;
  if (!mongoUri || !temporalAddress) {
    if (env.NODE_ENV === 'production')
      throw new Error('MONGODB_URI and TEMPORAL_ADDRESS are required in production');
    const { startDevStack } = await import('../infra/devstack/devstack');
    const stack = await startDevStack({
      dataDir: path.join(resolveDataDir(env), 'devstack'),
      mongoPort: env.DEVSTACK_MONGO_PORT,
      temporalPort: env.DEVSTACK_TEMPORAL_PORT,
      temporalUiPort: env.DEVSTACK_TEMPORAL_UI_PORT,
      services: { mongo: !mongoUri, temporal: !temporalAddress },
      log: (message) => logger.info(message),
    });
    devStack = stack;
    cleanups.push(() => stack.stop());
    mongoUri ??= `${stack.mongoUri}easel`;
    temporalAddress ??= stack.temporalAddress!;
  }
  const db = await connectDatabase(mongoUri);
  cleanups.push(() => db.close());
  const temporalConnection = temporalConnectionOptions(env, temporalAddress);
  const { connection, client } = await connectTemporal({
    connection: temporalConnection,
    namespace: env.TEMPORAL_NAMESPACE,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    payloadCodec: given.payloadCodec,
  });
  cleanups.push(() => connection.close());
  await ensureSearchAttributes(connection, env.TEMPORAL_NAMESPACE, JOB_SEARCH_ATTRIBUTES);
  const probe = async (fn: () => Promise<unknown>): Promise<{ ok: boolean; error?: string }> => {
    try {
      await fn();
      return { ok: true };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  };
  return {
    db,
    temporalConnection: connection,
    temporalConnectionOptions: temporalConnection,
    temporal: client,
    payloadCodec: given.payloadCodec,
    mongoUri,
    temporalAddress,
    ...(devStack && { devStack }),
    async check() {
      const [mongodb, temporal] = await Promise.all([
        probe(() => pingDatabase(db)),
        probe(() => pingTemporal(connection)),
      ]);
      return { mongodb, temporal };
    },
  };
}

import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_CATALOG } from '../core/catalog';
import { startDevStack, type DevStack } from '../infra/devstack/devstack';
import { freePort } from '../platform/net';
import { defaultSandboxDeployment } from '../routing/deployments';
import { JOB_TIMEOUT_MS } from './easel-client';
import { answersOk, buildEasel, startEaselProcess, type EaselBuild, type EaselProcess } from './processes';
import type { RemoteTarget } from './settings';

/** Processes on this machine whose memory and CPU the benchmark reads. */
export type ProcessName = 'api' | 'worker' | 'ferretdb' | 'temporal';

/** The Easel being measured: one started here, or a running instance (`EASEL_URL`). */
export interface BenchTarget {
  baseUrl: string;
  adminToken: string;
  /** Where the bare-Temporal baseline runs; absent when unknown (remote without it). */
  temporal?: { address: string; namespace: string };
  /** A scratch database for the ledger section; absent when unknown. */
  ledgerMongoUri?: string;
  /** The worker's `/metrics` (Temporal SDK metrics included), when known. */
  workerMetricsUrl?: string;
  /** Bearer token of both processes' `/metrics`, when known. */
  metricsToken?: string;
  pids(): Partial<Record<ProcessName, number>>;
  /**
   * Replaces API and worker with fresh processes on an empty database, so that a section's figures
   * depend neither on the sections before it nor on how many jobs they left in the database.
   */
  freshEasel?(database: string): Promise<void>;
  stop(): Promise<void>;
}

export type Role = EaselProcess['role'];

export interface LocalTargetOptions {
  log: (message: string) => void;
  /**
   * The MongoDB server URI (`mongodb://host:port/`) a process should use instead of FerretDB's
   * own: the profile's counting proxy. Called once per role.
   */
  routeMongo?: (role: Role, serverUri: string) => Promise<string>;
  /** The worker process's nice value (see BenchSettings.workerNice). */
  workerNice?: number;
  /** Extra `node` flags for a process (the profile's `--cpu-prof`). */
  nodeArgs?: (role: Role) => string[];
  /** Told about every API and worker process once it is ready. */
  onStarted?: (process: EaselProcess) => void;
  /** The code the processes run (default dist/, built first). */
  build?: EaselBuild;
}

const TASK_QUEUE = 'easel-bench';
const FIRST_DATABASE = 'easel';

/** The built-in sandbox (every catalog model), answering at once with small images. */
function sandboxConfig(): unknown {
  const sandbox = {
    ...defaultSandboxDeployment(DEFAULT_CATALOG),
    // As long as the bench follows a job: a hung attempt shows as a stuck job, not a failed one.
    timeout_ms: JOB_TIMEOUT_MS,
    options: { latency_ms: 0, long_side: 64 },
  };
  return { providers: { deployments: [sandbox] } };
}

/**
 * Starts a throw-away dev stack (FerretDB + Temporal dev server on free ports, data in a temporary
 * folder), then Easel's API and worker as two child processes, so that each one's RSS and CPU can
 * be read apart from the load generator's.
 */
export async function startLocalTarget(options: LocalTargetOptions): Promise<BenchTarget> {
  const { log } = options;
  const build = options.build ?? 'dist';
  if (build === 'dist') buildEasel(log);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-bench-'));
  const stack: DevStack = await startDevStack({
    dataDir: path.join(dir, 'devstack'),
    ephemeral: true,
    log,
  });
  const processes: EaselProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(processes.splice(0).map((p) => p.stop()));
    await stack.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const configFile = path.join(dir, 'easel.json');
    fs.writeFileSync(configFile, JSON.stringify(sandboxConfig()));
    const adminToken = `bench-admin-${randomBytes(12).toString('hex')}`;
    const metricsToken = `bench-metrics-${randomBytes(12).toString('hex')}`;
    const route = options.routeMongo ?? (async (_role: Role, uri: string) => uri);
    const mongoServer: Record<Role, string> = {
      api: await route('api', stack.mongoUri!),
      worker: await route('worker', stack.mongoUri!),
    };
    const port = await freePort();
    const workerMetricsPort = await freePort();
    const baseUrl = `http://127.0.0.1:${port}`;
    const workerMetricsUrl = `http://127.0.0.1:${workerMetricsPort}/metrics`;
    const env = (role: Role, database: string): Record<string, string> => ({
      NODE_ENV: 'development',
      HOST: '127.0.0.1',
      PORT: String(port),
      WORKER_METRICS_PORT: String(workerMetricsPort),
      MONGODB_URI: `${mongoServer[role]}${database}`,
      TEMPORAL_ADDRESS: stack.temporalAddress!,
      TEMPORAL_TASK_QUEUE: TASK_QUEUE,
      EASEL_CONFIG: configFile,
      EASEL_ADMIN_TOKEN: adminToken,
      EASEL_METRICS_TOKEN: metricsToken,
      EASEL_DATA_DIR: path.join(dir, 'data'),
      LOG_LEVEL: 'warn',
    });
    const start = async (role: Role, database: string, ready: () => Promise<boolean>): Promise<void> => {
      const started = await startEaselProcess(role, env(role, database), ready, options.nodeArgs?.(role), {
        ...(role === 'worker' && options.workerNice && { nice: options.workerNice }),
        build,
      });
      processes.push(started);
      options.onStarted?.(started);
    };
    const startEasel = async (database: string): Promise<void> => {
      // One after the other: both create the collections and indexes at start-up.
      await start('api', database, () => answersOk(`${baseUrl}/readyz`));
      await start('worker', database, () =>
        answersOk(workerMetricsUrl, { authorization: `Bearer ${metricsToken}` }),
      );
    };
    await startEasel(FIRST_DATABASE);
    log(`Easel API at ${baseUrl}, worker metrics at ${workerMetricsUrl}`);

    return {
      baseUrl,
      adminToken,
      temporal: { address: stack.temporalAddress!, namespace: 'default' },
      ledgerMongoUri: `${stack.mongoUri!}bench_ledger`,
      workerMetricsUrl,
      metricsToken,
      pids: () => ({
        ...Object.fromEntries(processes.map((p) => [p.role, p.pid])),
        ...(stack.mongo?.pid !== undefined && { ferretdb: stack.mongo.pid }),
        ...(stack.temporal?.pid !== undefined && { temporal: stack.temporal.pid }),
      }),
      freshEasel: async (database) => {
        await Promise.all(processes.splice(0).map((p) => p.stop()));
        await startEasel(database);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A running instance: only what the environment says about it is measured. */
export function remoteTarget(remote: RemoteTarget): BenchTarget {
  return {
    baseUrl: remote.url,
    adminToken: remote.adminToken,
    ...(remote.temporalAddress && {
      temporal: { address: remote.temporalAddress, namespace: remote.temporalNamespace },
    }),
    ...(remote.mongoUri && { ledgerMongoUri: remote.mongoUri }),
    pids: () => ({
      ...(remote.apiPid !== undefined && { api: remote.apiPid }),
      ...(remote.workerPid !== undefined && { worker: remote.workerPid }),
    }),
    stop: async () => undefined,
  };
}

import { execFile, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { MongoClient } from 'mongodb';
import { Connection } from '@temporalio/client';
import { freePort } from '../../platform/net';
import { FERRETDB_PATCHES, preparePatchedFerretdb } from './ferretdb-patches';
import {
  PidFileWriter,
  START_TOKEN_ENV,
  STOP_GRACE_MS,
  assertListenerIs,
  assertPortFree,
  newStartToken,
  reapOrphans,
  spawnTiedToParent,
  type PortChoice,
} from './ownership';

const execFileAsync = promisify(execFile);

/** Pinned versions: changing one rebuilds that binary on the next start. */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
export const TEMPORAL_CLI_VERSION = 'v1.5.1';
const FERRETDB_SOURCE_DIR = path.join(__dirname, 'ferretdb');

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const BIN_DIR = path.join(REPO_ROOT, '.cache', 'bin');

export interface DevStackLog {
  (message: string): void;
}

export interface DevStackOptions {
  /** Folder for FerretDB's SQLite files and Temporal's database. */
  dataDir: string;
  /** Throw-away stack (tests): Temporal keeps its state in memory. */
  ephemeral?: boolean;
  /** Each port omitted or 0: one the OS finds free. */
  mongoPort?: number;
  temporalPort?: number;
  temporalUiPort?: number;
  /** Start only some of the servers (default both): the others are given by the environment. */
  services?: { mongo: boolean; temporal: boolean };
  log?: DevStackLog;
}

export interface DevStack {
  mongoUri?: string;
  temporalAddress?: string;
  temporalUiUrl?: string;
  mongo?: ManagedProcess;
  temporal?: ManagedProcess;
  stop(): Promise<void>;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number | undefined;
  /** Starts the process again with the same arguments (after a crash or a deliberate kill). */
  restart(): Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

async function buildStamp(inputs: string[]): Promise<string> {
  return createHash('sha256').update(inputs.join('\n')).digest('hex').slice(0, 16);
}

async function isCurrent(binary: string, stamp: string): Promise<boolean> {
  try {
    const recorded = await fs.promises.readFile(`${binary}.stamp`, 'utf8');
    return recorded.trim() === stamp && fs.existsSync(binary);
  } catch {
    return false;
  }
}

async function goVersion(): Promise<string> {
  const { stdout } = await execFileAsync('go', ['version']);
  return stdout.trim();
}

/**
 * Builds the Temporal CLI and our FerretDB main with the Go toolchain, only when a binary is
 * missing or its pinned version (or our FerretDB source) changed since it was built.
 */
export async function ensureDevStackBinaries(
  log: DevStackLog = () => {},
): Promise<{ temporal: string; ferretdb: string }> {
  // Both are built whatever runs: a binary built once is what makes the second start fast.
  await fs.promises.mkdir(BIN_DIR, { recursive: true });
  const go = await goVersion();
  const temporal = path.join(BIN_DIR, 'temporal');
  const ferretdb = path.join(BIN_DIR, 'easel-ferretdb');
  const goEnv = { ...process.env, GOBIN: BIN_DIR, GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' };

  const temporalStamp = await buildStamp([go, TEMPORAL_CLI_MODULE, TEMPORAL_CLI_VERSION]);
  if (!(await isCurrent(temporal, temporalStamp))) {
    log(`building Temporal CLI ${TEMPORAL_CLI_VERSION} (first run only, takes a few minutes)…`);
    const started = Date.now();
    await execFileAsync('go', ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
      env: goEnv,
      maxBuffer: 64 * 1024 * 1024,
    });
    await fs.promises.writeFile(`${temporal}.stamp`, temporalStamp);
    log(`built Temporal CLI in ${Math.round((Date.now() - started) / 1000)} s`);
  }

  const sources = ['go.mod', 'go.sum', 'main.go'].map((f) =>
    fs.readFileSync(path.join(FERRETDB_SOURCE_DIR, f), 'utf8'),
  );
  const ferretStamp = await buildStamp([go, ...sources, JSON.stringify(FERRETDB_PATCHES)]);
  if (!(await isCurrent(ferretdb, ferretStamp))) {
    log('building FerretDB v1 (SQLite backend) (first run only, takes a few minutes)…');
    const started = Date.now();
    const modfile = await preparePatchedFerretdb(
      FERRETDB_SOURCE_DIR,
      path.join(REPO_ROOT, '.cache', 'ferretdb-patched'),
      goEnv,
    );
    await execFileAsync('go', ['build', '-modfile', modfile, '-o', ferretdb, '.'], {
      cwd: FERRETDB_SOURCE_DIR,
      env: goEnv,
      maxBuffer: 64 * 1024 * 1024,
    });
    await fs.promises.writeFile(`${ferretdb}.stamp`, ferretStamp);
    log(`built FerretDB in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  return { temporal, ferretdb };
}

async function portOrFree(port: number | undefined): Promise<number> {
  return port && port > 0 ? port : freePort();
}

async function waitUntil(
  what: string,
  probe: () => Promise<void>,
  timeoutMs: number,
  child: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}) before it answered`);
    }
    try {
      await probe();
      return;
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${what} did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

export async function pingMongo(uri: string): Promise<void> {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1000, connectTimeoutMS: 1000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

export async function pingTemporal(address: string): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: 1000 });
  try {
    await connection.workflowService.getSystemInfo({});
  } finally {
    await connection.close();
  }
}

/** Tries at most this many times when a port the stack picked itself was taken before the server bound it. */
const START_ATTEMPTS = 3;

/** The port a Go server's failed listen names ("listen tcp 127.0.0.1:33103: bind: address already in use"). */
function portTakenIn(logText: string): number | undefined {
  const match = /listen tcp [^\s]*:(\d+): bind: address already in use/.exec(logText);
  return match ? Number(match[1]) : undefined;
}

/** A server that did not answer, with the last lines of its log and the port it could not bind, if that was why. */
class ServerDidNotStart extends Error {
  constructor(
    message: string,
    readonly takenPort: number | undefined,
  ) {
    super(message);
  }
}

function managedProcess(
  name: string,
  command: string,
  /** Read at each start: a retry after a port race starts it on other ports. */
  args: () => string[],
  logFile: string,
  ready: () => Promise<void>,
  owner: { token: string; pidFile: PidFileWriter; port: () => number },
  /**
   * A port the stack picked (a free one, asked of the OS) can be taken by any other socket in the
   * moment before the server binds it: an outgoing connection's local port, or a port the
   * Temporal dev server picks the same way for its internal services. Given the port the server
   * could not bind, this picks new ones and says whether a retry can help (not for a port the
   * caller named, which someone else holds).
   */
  repickPorts: (takenPort: number) => Promise<boolean>,
): ManagedProcess & { start(): Promise<void> } {
  let child: ChildProcess | undefined;
  const startOnce = async (): Promise<void> => {
    const logStart = fs.existsSync(logFile) ? fs.statSync(logFile).size : 0;
    const out = fs.openSync(logFile, 'a');
    child = spawnTiedToParent(command, args(), {
      logFd: out,
      env: { ...process.env, [START_TOKEN_ENV]: owner.token },
    });
    fs.closeSync(out);
    const current = child;
    if (current.pid !== undefined) {
      owner.pidFile.set(name, { pid: current.pid, binary: command, port: owner.port() });
    }
    await waitUntil(name, ready, 60_000, current).catch(async (err: Error) => {
      current.kill('SIGKILL');
      const written = fs.readFileSync(logFile).subarray(logStart).toString('utf8');
      const tail = written.split('\n').slice(-15).join('\n');
      throw new ServerDidNotStart(
        `${err.message}\n--- last lines of ${logFile} ---\n${tail}`,
        portTakenIn(written),
      );
    });
  };
  /** Only the first start may move to other ports: a restarted server keeps the address its clients hold. */
  const start = async (mayRepick: boolean): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await startOnce();
      } catch (err) {
        const takenPort = err instanceof ServerDidNotStart ? err.takenPort : undefined;
        const retry = mayRepick && attempt < START_ATTEMPTS && takenPort !== undefined;
        if (!retry || !(await repickPorts(takenPort))) throw err;
      }
    }
  };
  const kill = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const current = child;
    if (!current || current.exitCode !== null || current.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => current.once('exit', () => resolve()));
    current.kill(signal);
    const forced = setTimeout(() => current.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(forced);
  };
  // One lifecycle step at a time: two restarts at once would otherwise both kill the old process
  // and both start one, the second replacing the first in `child` and orphaning it.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(step: () => Promise<T>): Promise<T> => {
    const next = queue.then(step, step);
    queue = next.catch(() => undefined);
    return next;
  };
  return {
    name,
    get pid() {
      return child?.pid;
    },
    start: () => serial(() => start(true)),
    kill: (signal) => serial(() => kill(signal)),
    restart: () =>
      serial(async () => {
        await kill();
        await start(false);
      }),
  };
}

/**
 * Starts FerretDB and the Temporal dev server on loopback and resolves once both really answer
 * (a Mongo ping, a Temporal GetSystemInfo), not merely once their ports are open.
 *
 * The servers are this stack's own: they stop when this Node process dies, however it dies; any
 * that a previous run in the same data folder left running are stopped first; and a port that
 * something else holds is refused, naming the variables that choose another.
 */
export async function startDevStack(options: DevStackOptions): Promise<DevStack> {
  const log = options.log ?? (() => {});
  const binaries = await ensureDevStackBinaries(log);
  const dataDir = path.resolve(options.dataDir);
  await fs.promises.mkdir(dataDir, { recursive: true });
  // Before the port check: a previous run's orphans hold the very ports this run wants.
  await reapOrphans(dataDir, log);

  const services = options.services ?? { mongo: true, temporal: true };
  // Ports only for the servers this stack starts (0: none).
  let mongoPort = services.mongo ? await portOrFree(options.mongoPort) : 0;
  let temporalPort = services.temporal ? await portOrFree(options.temporalPort) : 0;
  let uiPort = services.temporal ? await portOrFree(options.temporalUiPort) : 0;
  let httpPort = services.temporal ? await freePort() : 0;
  let metricsPort = services.temporal ? await freePort() : 0;
  const mongoChoice: PortChoice = {
    port: mongoPort,
    server: 'FerretDB',
    portVariable: 'DEVSTACK_MONGO_PORT',
    useExistingVariable: 'MONGODB_URI',
  };
  const temporalChoice: PortChoice = {
    port: temporalPort,
    server: 'Temporal',
    portVariable: 'DEVSTACK_TEMPORAL_PORT',
    useExistingVariable: 'TEMPORAL_ADDRESS',
  };
  const uiChoice: PortChoice = {
    port: uiPort,
    server: 'Temporal web UI',
    portVariable: 'DEVSTACK_TEMPORAL_UI_PORT',
    useExistingVariable: 'TEMPORAL_ADDRESS',
  };
  const wanted = [
    ...(services.mongo ? [mongoChoice] : []),
    ...(services.temporal ? [temporalChoice, uiChoice] : []),
  ];
  for (const choice of wanted) await assertPortFree(choice);
  const token = newStartToken();
  const pidFile = new PidFileWriter(dataDir, token);

  const mongoUri = () => `mongodb://127.0.0.1:${mongoPort}/`;
  const temporalAddress = () => `127.0.0.1:${temporalPort}`;

  const mongo = managedProcess(
    'FerretDB',
    binaries.ferretdb,
    () => ['-listen', `127.0.0.1:${mongoPort}`, '-data', path.join(dataDir, 'ferretdb')],
    path.join(dataDir, 'ferretdb.log'),
    () => pingMongo(mongoUri()),
    { token, pidFile, port: () => mongoPort },
    async (takenPort) => {
      if (takenPort !== mongoPort || options.mongoPort) return false;
      mongoPort = mongoChoice.port = await freePort();
      return true;
    },
  );
  const temporalArgs = () => [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(temporalPort),
    '--ui-port',
    String(uiPort),
    '--http-port',
    String(httpPort),
    '--metrics-port',
    String(metricsPort),
    '--log-level',
    'warn',
    // Update-with-start (the submit waits for the workflow's reservation step) needs this on 1.5.x.
    '--dynamic-config-value',
    'frontend.enableExecuteMultiOperation=true',

    // Job workflows' custom search attributes (core/jobs/search-attributes.ts).
    ...['EaselAccountId', 'EaselModel', 'EaselJobStatus', 'EaselProvider'].flatMap((name) => [
      '--search-attribute',
      `${name}=Keyword`,
    ]),
    ...(options.ephemeral ? [] : ['--db-filename', path.join(dataDir, 'temporal.db')]),
  ];
  const temporal = managedProcess(
    'Temporal',
    binaries.temporal,
    temporalArgs,
    path.join(dataDir, 'temporal.log'),
    () => pingTemporal(temporalAddress()),
    { token, pidFile, port: () => temporalPort },
    async (takenPort) => {
      if (takenPort === temporalPort && options.temporalPort) return false;
      if (takenPort === uiPort && options.temporalUiPort) return false;
      // Whichever it was (one of ours, or one the dev server picked for its internal services),
      // every port not named by the caller is picked anew.
      if (!options.temporalPort) temporalPort = temporalChoice.port = await freePort();
      if (!options.temporalUiPort) uiPort = uiChoice.port = await freePort();
      httpPort = await freePort();
      metricsPort = await freePort();
      return true;
    },
  );

  const stopAll = async (): Promise<void> => {
    await Promise.all([services.temporal && temporal.kill(), services.mongo && mongo.kill()]);
    pidFile.remove();
  };
  const started = await Promise.allSettled([
    services.mongo && mongo.start().then(() => assertListenerIs(mongo.pid, mongoChoice)),
    services.temporal && temporal.start().then(() => assertListenerIs(temporal.pid, temporalChoice)),
  ]);
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    // The one that did start would otherwise run on, out of every caller's reach.
    await stopAll();
    throw failed.reason;
  }
  if (services.mongo) log(`FerretDB answering at ${mongoUri()}`);
  if (services.temporal)
    log(`Temporal answering at ${temporalAddress()} (web UI http://127.0.0.1:${uiPort})`);

  return {
    ...(services.mongo && { mongoUri: mongoUri(), mongo }),
    ...(services.temporal && {
      temporalAddress: temporalAddress(),
      temporal,
      temporalUiUrl: `http://127.0.0.1:${uiPort}`,
    }),
    stop: async () => {
      await stopAll();
      if (options.ephemeral) await fs.promises.rm(dataDir, { recursive: true, force: true });
    },
  };
}

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { IMAGE_URL_SECRET, METRICS_TOKEN, TEST_PAYLOAD_KEYS } from './secrets';

const REPO = path.resolve(__dirname, '..', '..');

/** Which code a process runs: the sources (through tsx) or the production build in dist/. */
export type Build = 'sources' | 'dist';

/** A worker in a process of its own (`bin/worker.ts`), so that a test can SIGKILL it mid-job. */
export function startWorkerProcess(
  env: Record<string, string>,
  build: Build = 'sources',
): Promise<ChildProcess> {
  return startEaselProcess('worker', env, 'worker polling', build);
}

/** The API in a process of its own (`bin/api.ts`), so that a fault can kill it mid-request. */
export function startApiProcess(
  env: Record<string, string>,
  build: Build = 'sources',
): Promise<ChildProcess> {
  return startEaselProcess('api', env, 'API listening', build);
}

async function startEaselProcess(
  role: 'api' | 'worker',
  env: Record<string, string>,
  readyLine: string,
  build: Build,
): Promise<ChildProcess> {
  // `node --import tsx`, not the tsx CLI: the CLI runs the program in a child process, which a
  // SIGKILL of the CLI would leave running.
  const program =
    build === 'dist'
      ? [path.join(REPO, 'dist', 'bin', `${role}.js`)]
      : ['--import', 'tsx', path.join(REPO, 'bin', `${role}.ts`)];
  const child = spawn(process.execPath, program, {
    cwd: REPO,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      EASEL_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
      EASEL_METRICS_TOKEN: METRICS_TOKEN,
      EASEL_IMAGE_URL_SECRET: IMAGE_URL_SECRET,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${role} did not start within 60 s:\n${output}`));
    }, 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (output.includes(readyLine)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${role} exited with ${code} before it was ready:\n${output}`));
    });
  });
  child.removeAllListeners('exit');
  return child;
}

export async function killProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  await exited;
}

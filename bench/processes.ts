import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../infra/devstack/devstack';
import { waitFor } from '../test/support/config';
import { killProcess } from '../test/support/easel-process';

const START_TIMEOUT_MS = 120_000;

/** The production build (dist/, `npm run build`) or the sources through tsx. */
export type EaselBuild = 'dist' | 'sources';

/** Builds dist/ (compiled code and the prebuilt workflow bundle) for the processes to run. */
export function buildEasel(log: (message: string) => void): void {
  log('building dist/ (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** An Easel entry point (`bin/api.ts` or `bin/worker.ts`) running as a child process. */
export interface EaselProcess {
  readonly role: 'api' | 'worker';
  readonly pid: number;
  /** From spawning to the first ready answer (start-up work a CPU profile should leave out). */
  readonly readyAfterMs: number;
  stop(): Promise<void>;
}

/**
 * Starts `node dist/bin/<role>.js` (or `node --import tsx bin/<role>.ts`) with `env` and resolves
 * once `ready` answers. The child is our own (not the tsx CLI, which would run the program in a
 * grandchild), so its pid is the process whose memory and CPU the benchmark reads.
 */
export async function startEaselProcess(
  role: EaselProcess['role'],
  env: Record<string, string>,
  ready: () => Promise<boolean>,
  nodeArgs: string[] = [],
  options: { nice?: number; build?: EaselBuild } = {},
): Promise<EaselProcess> {
  const spawnedAt = Date.now();
  const program =
    options.build === 'sources'
      ? ['--import', 'tsx', path.join(REPO_ROOT, 'bin', `${role}.ts`)]
      : [path.join(REPO_ROOT, 'dist', 'bin', `${role}.js`)];
  const command = [process.execPath, ...nodeArgs, ...program];
  // `nice` execs the program: the pid stays the program's, and every thread it starts inherits.
  const niced = options.nice ? ['nice', '-n', String(options.nice), ...command] : command;
  const child: ChildProcess = spawn(niced[0]!, niced.slice(1), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-8_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);

  const exited = (): boolean => child.exitCode !== null || child.signalCode !== null;
  // Polls until the child answers, or exits (told apart below).
  try {
    await waitFor(
      async () => exited() || (await ready().catch(() => false)),
      (done) => done,
      START_TIMEOUT_MS,
      250,
    );
  } catch {
    child.kill('SIGKILL');
    throw new Error(`${role} not ready within ${START_TIMEOUT_MS} ms:\n${output}`);
  }
  if (exited()) {
    throw new Error(`${role} exited (${child.exitCode ?? child.signalCode}) before it was ready:\n${output}`);
  }
  return {
    role,
    pid: child.pid!,
    readyAfterMs: Date.now() - spawnedAt,
    stop: () => stopChild(child),
  };
}

/** SIGTERM, and SIGKILL if the process has not exited 15 s later. */
async function stopChild(child: ChildProcess): Promise<void> {
  const forced = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await killProcess(child, 'SIGTERM');
  clearTimeout(forced);
}

/** Resident set size of a process, in MB (VmRSS of /proc/<pid>/status); null when unreadable. */
export function rssMb(pid: number): number | null {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? null : Math.round((Number(kb) / 1024) * 10) / 10;
  } catch {
    return null;
  }
}

let clockTicks: number | undefined;

function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** CPU time (user + system) a process has used so far, in ms; null when unreadable. */
export function cpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / ticksPerSecond();
  } catch {
    return null;
  }
}

/** Answers true once `url` responds 200. */
export async function answersOk(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(2_000) });
  await res.arrayBuffer();
  return res.ok;
}

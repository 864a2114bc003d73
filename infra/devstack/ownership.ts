/**
 * How the dev stack owns its servers: it launches them so that they die with the Node process that
 * started them, records them in a pid file so that the next start can reap any that survived
 * anyway, and refuses a port that something else holds rather than talking to a stranger there.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The dev stack's record of its servers, inside its data folder. */
export const PID_FILE_NAME = 'devstack.pid.json';

/**
 * Set in each server's environment to the start token of the pid file that records it: a process
 * running our binary is only reaped as ours when it also carries that token, so a pid reused by
 * another dev stack's server (the same binary, another data folder) is left alone.
 */
export const START_TOKEN_ENV = 'EASEL_DEVSTACK_TOKEN';

/** How long a server has to stop after SIGTERM before SIGKILL. */
export const STOP_GRACE_MS = 10_000;

export interface RecordedServer {
  pid: number;
  /** The binary we launched, as /proc/<pid>/cmdline's first word shows it. */
  binary: string;
  port: number;
}

export interface PidFile {
  token: string;
  /** The Node process that started the servers, with its start time (a pid alone can be reused). */
  owner: { pid: number; startTime?: string };
  servers: Record<string, RecordedServer>;
}

/**
 * Launches `command` tied to this Node process: it stops when this process dies, even by SIGKILL.
 *
 * A small POSIX shell wrapper gets, as stdin, a pipe whose only write end Node holds (libuv opens
 * it close-on-exec, so no other child inherits it); it forks a watcher blocked in `read` on that
 * pipe, then execs the server, which so keeps the pid Node spawned (signals and exit codes go
 * straight to it). However Node dies, the kernel closes its end; the watcher's `read` returns at
 * end-of-file and it stops the server: SIGTERM, SIGKILL after a grace. Chosen because it needs
 * nothing beyond Node and `sh`, reacts at once, and costs one idle shell per server: polling the
 * parent's pid is slower and fooled by pid reuse; Linux's PR_SET_PDEATHSIG is not reachable from
 * Node (`setpriv --pdeathsig` is util-linux only); a supervisor process would itself have to
 * learn of its parent's death, the same way. When the server exits on its own, Node closes the
 * pipe as it reaps it, and the watcher finds the pid gone and just exits.
 */
export function spawnTiedToParent(
  command: string,
  args: string[],
  options: { logFd: number; env: NodeJS.ProcessEnv },
): ChildProcess {
  const graceSeconds = Math.ceil(STOP_GRACE_MS / 1000);
  // A background list's stdin is /dev/null in a non-interactive shell, so the pipe is kept on fd 4
  // for the watcher; the server itself gets /dev/null. `$$` is the shell's pid, which the server
  // keeps through `exec`.
  const script = `
exec 4<&0 </dev/null
server=$$
{
  while read -r _; do :; done
  kill -TERM "$server" 2>/dev/null || exit 0
  waited=0
  while kill -0 "$server" 2>/dev/null && [ "$waited" -lt ${graceSeconds} ]; do
    sleep 1
    waited=$((waited + 1))
  done
  kill -KILL "$server" 2>/dev/null
} <&4 &
exec 4<&-
exec "$@"
`;
  const child = spawn('sh', ['-c', script, path.basename(command), command, ...args], {
    stdio: ['pipe', options.logFd, options.logFd],
    // Own session and process group, so that Ctrl-C in the terminal reaches Easel first and Easel
    // stops these in order, rather than the servers vanishing under a still-running worker.
    detached: true,
    env: options.env,
  });
  // Nothing is ever written: the pipe only signals, by closing, that Node is gone.
  child.stdin?.on('error', () => {});
  return child;
}

export function newStartToken(): string {
  return randomBytes(12).toString('hex');
}

export function processStartTime(pid: number): string | undefined {
  const fields = procStat(pid);
  // Field 22 (starttime), counted from the state, which is field 3.
  return fields?.[22 - 3];
}

/** The fields of /proc/<pid>/stat from the state on (the command name may hold spaces). */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** Running, that is: present and not a zombie (one that nobody reaps holds no port and does nothing). */
export function isRunning(pid: number): boolean {
  const fields = procStat(pid);
  if (fields) return fields[0] !== 'Z' && fields[0] !== 'X';
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function procWords(pid: number, file: 'cmdline' | 'environ'): string[] | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8').split('\0');
  } catch {
    return undefined;
  }
}

/** Whether `pid` is still the server we recorded: our binary, started with our token. */
function isOurServer(server: RecordedServer, token: string): boolean {
  if (!isRunning(server.pid)) return false;
  const cmdline = procWords(server.pid, 'cmdline');
  const environ = procWords(server.pid, 'environ');
  return cmdline?.[0] === server.binary && environ?.includes(`${START_TOKEN_ENV}=${token}`) === true;
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isRunning(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

function readPidFile(file: string): PidFile | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as PidFile;
    return typeof parsed.token === 'string' && parsed.servers ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Before a start in `dataDir`: stops the servers a previous run recorded there and left running
 * (its Node process was killed in a way the watcher could not see, say). A stale record (dead pids,
 * or pids now running another program) is only dropped. Throws when the process that recorded
 * them is still running: two stacks on one data folder would corrupt it.
 */
export async function reapOrphans(dataDir: string, log: (message: string) => void): Promise<void> {
  const file = path.join(dataDir, PID_FILE_NAME);
  const recorded = readPidFile(file);
  if (!recorded) return;
  const { owner } = recorded;
  if (
    owner.pid !== process.pid &&
    owner.startTime !== undefined &&
    isRunning(owner.pid) &&
    processStartTime(owner.pid) === owner.startTime
  ) {
    const names = Object.keys(recorded.servers).join(' and ');
    const command = (procWords(owner.pid, 'cmdline') ?? []).filter(Boolean).join(' ');
    throw new Error(
      `the dev stack in ${dataDir} (${names}) belongs to process ${owner.pid}` +
        `${command ? ` (${shorten(command)})` : ''}, which is still running: ` +
        'stop it first, or give this one another data folder (EASEL_DATA_DIR)',
    );
  }
  await Promise.all(
    Object.entries(recorded.servers).map(async ([name, server]) => {
      if (!isOurServer(server, recorded.token)) return;
      log(`stopping ${name} (pid ${server.pid}, port ${server.port}) left running by a previous dev stack`);
      process.kill(server.pid, 'SIGTERM');
      if (await waitForExit(server.pid, STOP_GRACE_MS)) return;
      process.kill(server.pid, 'SIGKILL');
      if (!(await waitForExit(server.pid, 5_000))) {
        throw new Error(`${name} (pid ${server.pid}) left by a previous dev stack does not die`);
      }
    }),
  );
  fs.rmSync(file, { force: true });
}

/** The pid file of one running stack, rewritten whole (and atomically) whenever a server starts. */
export class PidFileWriter {
  private readonly file: string;
  private readonly record: PidFile;

  constructor(dataDir: string, token: string) {
    this.file = path.join(dataDir, PID_FILE_NAME);
    this.record = {
      token,
      owner: { pid: process.pid, startTime: processStartTime(process.pid) },
      servers: {},
    };
  }

  set(name: string, server: RecordedServer): void {
    this.record.servers[name] = server;
    const temporary = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, `${JSON.stringify(this.record, null, 2)}\n`);
    fs.renameSync(temporary, this.file);
  }

  remove(): void {
    fs.rmSync(this.file, { force: true });
  }
}

/** What to set instead, for each port the dev stack listens on. */
export interface PortChoice {
  port: number;
  server: string;
  /** The variable that picks this port. */
  portVariable: string;
  /** The variable that points Easel at an existing server instead. */
  useExistingVariable: string;
}

/**
 * Refuses a port that something else listens on: whatever answers there is not ours, and a
 * MongoDB of the user's own on 27017 must not receive Easel's data.
 */
export async function assertPortFree(choice: PortChoice): Promise<void> {
  const problem = await bindProblem(choice.port);
  if (!problem) return;
  if (problem !== 'EADDRINUSE') {
    throw new Error(
      `cannot listen on 127.0.0.1:${choice.port} for ${choice.server} (${problem}): ` +
        `set ${choice.portVariable} to another port (0 picks a free one)`,
    );
  }
  throw portHeldError(choice, findListener(choice.port).description);
}

function portHeldError(choice: PortChoice, holder: string): Error {
  return new Error(
    `port ${choice.port}, which the dev stack's ${choice.server} would listen on, is already held by ` +
      `${holder}, which the dev stack did not start. Set ${choice.portVariable} ` +
      `to another port (0 picks a free one), or set ${choice.useExistingVariable} to use that server ` +
      `instead of the dev stack's.`,
  );
}

function bindProblem(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(undefined)));
  });
}

/** Who listens on `port` on loopback, as far as /proc tells this user (Linux). */
export function findListener(port: number): { pid?: number; description: string } {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let lines: string[];
    try {
      lines = fs.readFileSync(table, 'utf8').split('\n').slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const columns = line.trim().split(/\s+/);
      const localPort = Number.parseInt(columns[1]?.split(':')[1] ?? '', 16);
      // State 0A is LISTEN; column 9 is the socket's inode.
      if (localPort === port && columns[3] === '0A' && columns[9]) inodes.add(columns[9]);
    }
  }
  if (inodes.size === 0) return { description: 'another program' };
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((entry) => /^\d+$/.test(entry));
  } catch {
    return { description: 'another program' };
  }
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      if (inode && inodes.has(inode)) {
        const command = (procWords(Number(pid), 'cmdline') ?? []).filter(Boolean).join(' ');
        return { pid: Number(pid), description: `pid ${pid}${command ? ` (${shorten(command)})` : ''}` };
      }
    }
  }
  return { description: "another user's program" };
}

/**
 * After a server answered: throws when what listens on its port is not that server. Closes the
 * gap between the port check and the server's own bind, in which a server that failed to bind
 * has not exited yet and a stranger that took the port answers the readiness probe.
 */
export function assertListenerIs(pid: number | undefined, choice: PortChoice): void {
  const listener = findListener(choice.port);
  if (listener.pid === undefined || listener.pid === pid) return;
  throw portHeldError(choice, listener.description);
}

function shorten(command: string): string {
  return command.length > 120 ? `${command.slice(0, 117)}…` : command;
}

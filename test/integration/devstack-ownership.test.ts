/**
 * The dev stack owns its servers: they die with the process that started them, a previous run's
 * survivors are reaped, and a port held by anything else is refused. Each test runs a dev stack of
 * its own (other ports, another data folder) beside the shared one of the global setup.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {
  BIN_DIR,
  REPO_ROOT,
  pingTemporal,
  startDevStack,
  type DevStack,
} from '../../infra/devstack/devstack';
import { PID_FILE_NAME, isRunning, type PidFile } from '../../infra/devstack/ownership';

const DEVSTACK_MODULE = path.resolve(__dirname, '../../infra/devstack/devstack.ts');

/**
 * Ports the next calls of freePort hand out instead of asking the OS: how a test stages the race
 * where a port the stack picked is taken before its server binds it. Empty, freePort is the real one.
 */
const mockPortsHandedOut: number[] = [];
jest.mock('../../platform/net', () => {
  const actual = jest.requireActual<typeof import('../../platform/net')>('../../platform/net');
  return {
    ...actual,
    freePort: () =>
      mockPortsHandedOut.length > 0 ? Promise.resolve(mockPortsHandedOut.shift()!) : actual.freePort(),
  };
});

interface StartedInChild {
  mongo: { pid: number; port: number };
  temporal: { pid: number; port: number; uiPort: number };
}

/** A Node process (not Jest's) that starts a dev stack and reports its servers on stdout. */
async function startStackInChild(dataDir: string): Promise<{ child: ChildProcess; started: StartedInChild }> {
  const script = `
    const { startDevStack } = require(${JSON.stringify(DEVSTACK_MODULE)});
    startDevStack({ dataDir: ${JSON.stringify(dataDir)}, mongoPort: 0, temporalPort: 0, temporalUiPort: 0 }).then(
      (stack) => {
        const port = (address) => Number(new URL('http://' + address).port);
        process.stdout.write(JSON.stringify({
          mongo: { pid: stack.mongo.pid, port: port(stack.mongoUri.slice('mongodb://'.length)) },
          temporal: { pid: stack.temporal.pid, port: port(stack.temporalAddress), uiPort: port(stack.temporalUiUrl.slice('http://'.length)) },
        }) + '\\n');
      },
      (err) => { console.error(err); process.exit(1); },
    );`;
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', '-e', script], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const started = await new Promise<StartedInChild>((resolve, reject) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('\n')) resolve(JSON.parse(stdout) as StartedInChild);
    });
    child.once('exit', (code) => reject(new Error(`dev stack child exited (${code}): ${stderr}`)));
  });
  return { child, started };
}

async function waitFor(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** The other members of a server's process group: the watcher shell of its launch wrapper. */
function groupMembersBesides(leader: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry) && Number(entry) !== leader)
    .filter((pid) => {
      try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) === leader;
      } catch {
        return false;
      }
    })
    .map(Number);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const children: ChildProcess[] = [];
const strayPids: number[] = [];
const dataDirs: string[] = [];
const stacks: DevStack[] = [];

function newDataDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-ownership-'));
  dataDirs.push(dir);
  return dir;
}

afterAll(async () => {
  await Promise.all(stacks.map((stack) => stack.stop()));
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  strayPids.forEach(killQuietly);
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

const linuxOnly = process.platform === 'linux' ? describe : describe.skip;

linuxOnly('the dev stack owns its servers', () => {
  it('stops both servers and frees their ports when the process that started them is SIGKILLed', async () => {
    const { child, started } = await startStackInChild(newDataDir());
    strayPids.push(started.mongo.pid, started.temporal.pid);
    expect(isRunning(started.mongo.pid)).toBe(true);
    expect(isRunning(started.temporal.pid)).toBe(true);

    child.kill('SIGKILL');

    await waitFor(
      'FerretDB and Temporal are gone',
      () => !isRunning(started.mongo.pid) && !isRunning(started.temporal.pid),
    );
    await waitFor(
      'their ports are free',
      async () => (await portIsFree(started.mongo.port)) && (await portIsFree(started.temporal.port)),
    );
  }, 180_000);

  it('refuses a port that a listener it did not start holds, naming the port, the holder and what to set', async () => {
    const foreign = net.createServer();
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    const port = (foreign.address() as net.AddressInfo).port;
    try {
      const starting = startDevStack({
        dataDir: newDataDir(),
        ephemeral: true,
        mongoPort: port,
        services: { mongo: true, temporal: false },
      });
      await expect(starting).rejects.toThrow(`port ${port}`);
      await expect(starting).rejects.toThrow(`pid ${process.pid}`);
      await expect(starting).rejects.toThrow(/DEVSTACK_MONGO_PORT.*MONGODB_URI/);
    } finally {
      await new Promise((resolve) => foreign.close(resolve));
    }
  });

  it('starts Temporal again on other ports when a port the stack picked is taken before Temporal binds it', async () => {
    const { freePort } = jest.requireActual<typeof import('../../platform/net')>('../../platform/net');
    const [temporalPort, temporalUiPort] = [await freePort(), await freePort()];
    // Something takes the port picked for Temporal's HTTP API in the moment after it was picked.
    const squatter = net.createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const taken = (squatter.address() as net.AddressInfo).port;
    mockPortsHandedOut.push(taken);
    const dataDir = newDataDir();
    try {
      const stack = await startDevStack({
        dataDir,
        temporalPort,
        temporalUiPort,
        services: { mongo: false, temporal: true },
      });
      stacks.push(stack);
      expect(mockPortsHandedOut).toEqual([]);
      expect(fs.readFileSync(path.join(dataDir, 'temporal.log'), 'utf8')).toContain(
        `listen tcp 127.0.0.1:${taken}: bind: address already in use`,
      );
      expect(stack.temporalAddress).toBe(`127.0.0.1:${temporalPort}`);
      await pingTemporal(stack.temporalAddress!);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
  }, 180_000);

  it('stops the servers a previous run left running before it starts its own on their ports', async () => {
    const dataDir = newDataDir();
    const { child, started } = await startStackInChild(dataDir);
    strayPids.push(started.mongo.pid, started.temporal.pid);

    // While that run's process lives, its data folder is not up for grabs.
    await expect(
      startDevStack({ dataDir, mongoPort: 0, services: { mongo: true, temporal: false } }),
    ).rejects.toThrow(`belongs to process ${child.pid}`);

    // Orphan the servers: kill their watchers first, so that nothing sees the parent die.
    for (const server of [started.mongo.pid, started.temporal.pid])
      groupMembersBesides(server).forEach(killQuietly);
    child.kill('SIGKILL');
    await waitFor('the child is gone', () => child.exitCode !== null || child.signalCode !== null);
    expect(isRunning(started.mongo.pid)).toBe(true);
    expect(isRunning(started.temporal.pid)).toBe(true);

    const stack = await startDevStack({
      dataDir,
      ephemeral: true,
      mongoPort: started.mongo.port,
      temporalPort: started.temporal.port,
      temporalUiPort: started.temporal.uiPort,
    });
    stacks.push(stack);
    expect(isRunning(started.mongo.pid)).toBe(false);
    expect(isRunning(started.temporal.pid)).toBe(false);
    expect(stack.mongoUri).toBe(`mongodb://127.0.0.1:${started.mongo.port}/`);
    expect(stack.mongo!.pid).not.toBe(started.mongo.pid);
  }, 180_000);

  it('ignores a stale pid file whose pid now runs another program, and replaces it', async () => {
    const dataDir = newDataDir();
    const bystander = spawn('sleep', ['300'], { stdio: 'ignore' });
    children.push(bystander);
    const stale: PidFile = {
      token: 'from-a-run-long-gone',
      owner: { pid: 999_999_999, startTime: '1' },
      servers: {
        FerretDB: { pid: bystander.pid!, binary: path.join(BIN_DIR, 'easel-ferretdb'), port: 1 },
        Temporal: { pid: 999_999_998, binary: path.join(BIN_DIR, 'temporal'), port: 2 },
      },
    };
    fs.writeFileSync(path.join(dataDir, PID_FILE_NAME), JSON.stringify(stale));

    const stack = await startDevStack({ dataDir, mongoPort: 0, services: { mongo: true, temporal: false } });
    stacks.push(stack);
    expect(isRunning(bystander.pid!)).toBe(true);
    const recorded = JSON.parse(fs.readFileSync(path.join(dataDir, PID_FILE_NAME), 'utf8')) as PidFile;
    expect(recorded.token).not.toBe(stale.token);
    expect(recorded.owner.pid).toBe(process.pid);
    expect(recorded.servers).toEqual({
      FerretDB: expect.objectContaining({
        pid: stack.mongo!.pid,
        binary: path.join(BIN_DIR, 'easel-ferretdb'),
      }),
    });
  });
});

import net from 'node:net';
import { freePort, startOnFreePort } from '../../platform/net';

/** Ports handed out before the OS's own free ones: lets a test hand out one that is taken. */
const portsHandedOut: number[] = [];
const pickPort = (): Promise<number> =>
  portsHandedOut.length > 0 ? Promise.resolve(portsHandedOut.shift()!) : freePort();

const servers: net.Server[] = [];

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      servers.push(server);
      resolve(server);
    });
  });
}

afterEach(async () => {
  portsHandedOut.length = 0;
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

describe('startOnFreePort', () => {
  it('starts again on another port when the one handed out was taken before the server bound it', async () => {
    const holder = await listen(0);
    const takenPort = (holder.address() as net.AddressInfo).port;
    portsHandedOut.push(takenPort);
    const tried: number[] = [];

    const server = await startOnFreePort(
      async (port) => {
        tried.push(port);
        return listen(port);
      },
      { pickPort },
    );

    expect(tried).toHaveLength(2);
    expect(tried[0]).toBe(takenPort);
    expect((server.address() as net.AddressInfo).port).toBe(tried[1]);
    expect(tried[1]).not.toBe(takenPort);
  });

  it('throws a failure that is not a bind conflict at once', async () => {
    let starts = 0;
    await expect(
      startOnFreePort(
        async () => {
          starts += 1;
          throw new Error('prometheus exited before it was ready: bad config');
        },
        { pickPort },
      ),
    ).rejects.toThrow('bad config');
    expect(starts).toBe(1);
  });

  it('gives up after three ports, with the last bind failure', async () => {
    const holder = await listen(0);
    const takenPort = (holder.address() as net.AddressInfo).port;
    portsHandedOut.push(takenPort, takenPort, takenPort, takenPort);
    let starts = 0;
    await expect(
      startOnFreePort(
        async (port) => {
          starts += 1;
          return listen(port);
        },
        { pickPort },
      ),
    ).rejects.toThrow(/address already in use/);
    expect(starts).toBe(3);
  });
});

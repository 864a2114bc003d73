import net from 'node:net';

/** A TCP port on loopback that is free right now (the OS picks it). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}

/** How many free ports a server is tried on before its bind failure is the caller's. */
const START_ATTEMPTS = 3;

/**
 * Starts something that binds a port it is given on a free one, and on a fresh one again when
 * another socket took the port between the OS handing it out and the bind ("address already in
 * use"): every process on the machine asks for ephemeral ports, so the race is rare but real.
 * `start` cleans up what it started before it throws; any other failure is thrown at once.
 */
export async function startOnFreePort<T>(
  start: (port: number) => T | Promise<T>,
  options: { pickPort?: () => Promise<number>; onTaken?: (port: number) => void } = {},
): Promise<T> {
  const pickPort = options.pickPort ?? freePort;
  for (let attempt = 1; ; attempt++) {
    const port = await pickPort();
    try {
      return await start(port);
    } catch (err) {
      // Read as text: errors from native code or another realm (Jest's) fail `instanceof Error`.
      if (attempt >= START_ATTEMPTS || !/address already in use/i.test(String(err))) throw err;
      options.onTaken?.(port);
    }
  }
}

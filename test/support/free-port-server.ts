import { freePort } from '../../platform/net';

/** How many ports a server is started on before its bind failure is the test's. */
const ATTEMPTS = 3;

/**
 * Starts a test server on a free port, and on a fresh one again when another socket took the port
 * between the OS handing it out and the server binding it: every server and test on the machine
 * asks for ephemeral ports, so the race is rare but real. `start` stops what it started before it
 * throws; a failure that is not a bind conflict ("address already in use") is thrown at once.
 */
export async function startOnFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await start(port);
    } catch (err) {
      // Read as text: Node's own errors come from outside Jest's realm, so `instanceof Error` fails.
      const bindConflict = /address already in use/i.test(String(err));
      if (!bindConflict || attempt >= ATTEMPTS) throw err;
    }
  }
}

import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** How often one command ran on one collection, and the time to its reply. */
export interface CommandStat {
  count: number;
  totalMs: number;
}

/** `"find jobs"` → stat: every command a client sent through the counter. */
export type CommandCounts = Map<string, CommandStat>;

const OP_MSG = 2013;
const HEADER_BYTES = 16;

/** Splits a byte stream into MongoDB wire messages (each starts with its int32 length). */
function messageSplitter(onMessage: (message: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    while (pending.length >= 4) {
      const length = pending.readInt32LE(0);
      if (pending.length < length) break;
      onMessage(pending.subarray(0, length));
      pending = pending.subarray(length);
    }
  };
}

/**
 * The command of an OP_MSG, named by its first field and, when that field's value is a string,
 * the collection it names (`find jobs`, `insert ledger_entries`, `ping`).
 */
export function commandOf(message: Buffer): string | undefined {
  if (message.length < HEADER_BYTES + 5 + 4 + 2 || message.readInt32LE(12) !== OP_MSG) return undefined;
  const section = HEADER_BYTES + 4; // after the header and flagBits
  if (message[section] !== 0) return undefined; // kind 0: the command document comes first
  const doc = section + 1;
  const type = message[doc + 4];
  const nameStart = doc + 5;
  const nameEnd = message.indexOf(0, nameStart);
  if (nameEnd < 0) return undefined;
  const name = message.toString('utf8', nameStart, nameEnd);
  if (type !== 0x02) return name;
  const valueLength = message.readInt32LE(nameEnd + 1);
  return `${name} ${message.toString('utf8', nameEnd + 5, nameEnd + 4 + valueLength)}`;
}

/**
 * A TCP proxy in front of FerretDB that counts the commands going through it and times each one
 * to its reply (matched by request id). Used by the profile only: the extra hop costs time.
 */
export class MongoWireCounter {
  private readonly counts: CommandCounts = new Map();
  private readonly sockets = new Set<net.Socket>();

  private constructor(private readonly server: net.Server) {}

  static async start(upstream: { host: string; port: number }): Promise<MongoWireCounter> {
    const server = net.createServer();
    const counter = new MongoWireCounter(server);
    server.on('connection', (client) => counter.relay(client, upstream));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    return counter;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** A copy of the counts so far (diff two to count a phase). */
  snapshot(): CommandCounts {
    return new Map([...this.counts].map(([k, v]) => [k, { ...v }]));
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket, upstream: { host: string; port: number }): void {
    const server = net.connect(upstream.port, upstream.host);
    this.sockets.add(client).add(server);
    const sent = new Map<number, { command: string; at: number }>();
    const fromClient = messageSplitter((message) => {
      const command = commandOf(message);
      if (command) sent.set(message.readInt32LE(4), { command, at: performance.now() });
    });
    const fromServer = messageSplitter((message) => {
      const request = sent.get(message.readInt32LE(8));
      if (!request) return;
      sent.delete(message.readInt32LE(8));
      const stat = this.counts.get(request.command) ?? { count: 0, totalMs: 0 };
      stat.count += 1;
      stat.totalMs += performance.now() - request.at;
      this.counts.set(request.command, stat);
    });
    client.on('data', (chunk: Buffer) => {
      fromClient(chunk);
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      fromServer(chunk);
      client.write(chunk);
    });
    const close = (): void => {
      client.destroy();
      server.destroy();
      this.sockets.delete(client);
      this.sockets.delete(server);
    };
    client.on('close', close).on('error', close);
    server.on('close', close).on('error', close);
  }
}

/** What ran between two snapshots. */
export function diffCounts(before: CommandCounts, after: CommandCounts): CommandCounts {
  const out: CommandCounts = new Map();
  for (const [command, stat] of after) {
    const was = before.get(command) ?? { count: 0, totalMs: 0 };
    if (stat.count > was.count) {
      out.set(command, { count: stat.count - was.count, totalMs: stat.totalMs - was.totalMs });
    }
  }
  return out;
}

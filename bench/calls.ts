/**
 * `npm run bench:calls`: the client-side CPU of each kind of call an Easel process makes, one at
 * a time on a throw-away dev stack — a MongoDB command through mongoose and through the driver,
 * a Temporal RPC through @temporalio/client, an HTTP request through express. A job's CPU in the
 * API and the worker is, to first order, the sum of its calls: these figures are what bounds it
 * (see the scaling section of docs/benchmarks.md). Writes bench/results/calls.json.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import express from 'express';
import mongoose from 'mongoose';
import { Client, Connection } from '@temporalio/client';
import { startDevStack } from '../infra/devstack/devstack';
import { describeCode } from './provenance';
import { writeJson } from './report';
import { measureCpu } from './resources';
import { round } from './stats';

const WARM_UP = 200;
const CALLS = 1_000;

interface CallCost {
  call: string;
  /** This process's CPU (user + system) per call, in ms: the caller's side. */
  cpu_ms: number;
  /** The server's CPU per call (FerretDB's or Temporal's), in ms; absent for HTTP. */
  server_cpu_ms?: number;
  wall_ms: number;
}

type Server = { name: 'ferretdb' | 'temporal'; pid: number | undefined } | null;

async function measureCall(
  call: string,
  server: Server,
  run: (i: number) => Promise<unknown>,
): Promise<CallCost> {
  // Warm-up lets the JIT settle; the measured calls then run one after another.
  for (let i = 0; i < WARM_UP; i++) await run(CALLS + i);
  const end = measureCpu(server?.pid !== undefined ? { [server.name]: server.pid } : {});
  const wall = performance.now();
  for (let i = 0; i < CALLS; i++) await run(i);
  const wallMs = performance.now() - wall;
  const used = end(CALLS).ms_per_unit;
  const serverMs = server ? used[server.name] : undefined;
  const cost: CallCost = {
    call,
    cpu_ms: round(used.bench ?? 0, 3),
    ...(serverMs !== undefined && { server_cpu_ms: round(serverMs, 3) }),
    wall_ms: round(wallMs / CALLS, 3),
  };
  const serverText = serverMs === undefined ? '' : `  ${serverMs.toFixed(2).padStart(5)} ms ${server!.name}`;
  console.log(
    `${call.padEnd(60)} ${cost.cpu_ms.toFixed(3).padStart(6)} ms CPU  ${cost.wall_ms.toFixed(2).padStart(5)} ms wall${serverText}`,
  );
  return cost;
}

/** A job-sized document: the fields and sizes of a queued job. */
function jobLike(i: number): { _id: string; account_id: string; status: string; request: object; n: number } {
  return {
    _id: `job_${i}`,
    account_id: 'acct_calls',
    status: 'queued',
    request: { prompt: 'a lighthouse on a cliff at dusk, oil painting'.repeat(3), n: 1, aspect_ratio: '1:1' },
    n: i,
  };
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-calls-'));
  const stack = await startDevStack({
    dataDir,
    ephemeral: true,
    log: (m) => console.log(`[dev stack] ${m}`),
  });
  const costs: CallCost[] = [];
  const ferretdb: Server = { name: 'ferretdb', pid: stack.mongo?.pid };
  const temporal: Server = { name: 'temporal', pid: stack.temporal?.pid };
  try {
    const db = await mongoose.createConnection(`${stack.mongoUri}easel_calls`).asPromise();
    const Job = db.model(
      'Job',
      new mongoose.Schema(
        { _id: String, account_id: String, status: String, request: Object, n: Number },
        {
          versionKey: false,
          collection: 'jobs',
        },
      ),
    );
    const raw = db.db!.collection<ReturnType<typeof jobLike>>('raw_jobs');
    const id = (i: number) => `job_${i % CALLS}`;
    costs.push(await measureCall('MongoDB insertOne (driver)', ferretdb, (i) => raw.insertOne(jobLike(i))));
    costs.push(
      await measureCall('MongoDB findOne by _id (driver)', ferretdb, (i) => raw.findOne({ _id: id(i) })),
    );
    // The model's collection gets the same documents, to read and update through mongoose.
    await db
      .db!.collection<ReturnType<typeof jobLike>>('jobs')
      .insertMany(Array.from({ length: CALLS }, (_, i) => jobLike(i)));
    costs.push(
      await measureCall('MongoDB findById().lean() (mongoose)', ferretdb, (i) => Job.findById(id(i)).lean()),
    );
    costs.push(
      await measureCall('MongoDB updateOne $set by _id (mongoose)', ferretdb, (i) =>
        Job.updateOne({ _id: id(i) }, { $set: { status: 'running' } }),
      ),
    );
    costs.push(
      await measureCall('MongoDB findOneAndUpdate by _id (mongoose, lean)', ferretdb, (i) =>
        Job.findOneAndUpdate(
          { _id: id(i) },
          { $set: { status: 'succeeded' } },
          { returnDocument: 'after' },
        ).lean(),
      ),
    );
    await db.close();

    const connection = await Connection.connect({ address: stack.temporalAddress });
    const client = new Client({ connection, namespace: 'default' });
    let started = 0;
    costs.push(
      await measureCall('Temporal StartWorkflowExecution (client.workflow.start)', temporal, () =>
        client.workflow.start('noWorkerRunsThis', {
          taskQueue: 'easel-calls-no-worker',
          workflowId: `calls-${started++}`,
          args: [jobLike(started)],
        }),
      ),
    );
    costs.push(
      await measureCall('Temporal DescribeWorkflowExecution (handle.describe)', temporal, (i) =>
        client.workflow.getHandle(`calls-${i % started}`).describe(),
      ),
    );
    await connection.close();

    const app = express();
    app.use(express.json());
    app.post('/v1/imagine', (req, res) => {
      res.status(202).json({ id: 'job_calls', status: 'queued', request: req.body as unknown });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as { port: number };
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const body = JSON.stringify({ model: 'flux-2-dev', prompt: 'a lighthouse on a cliff at dusk' });
    costs.push(
      await measureCall(
        'HTTP POST with JSON, express (client and server together)',
        null,
        () =>
          new Promise<void>((resolve, reject) => {
            const req = http.request(
              {
                host: '127.0.0.1',
                port,
                method: 'POST',
                path: '/v1/imagine',
                agent,
                headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
              },
              (res) => res.resume().on('end', resolve),
            );
            req.on('error', reject).end(body);
          }),
      ),
    );
    agent.destroy();
    await new Promise((resolve) => server.close(resolve));
  } finally {
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  const file = path.join(__dirname, 'results', 'calls.json');
  writeJson(file, {
    note: 'Client-side CPU per call, one call at a time, on the local dev stack (FerretDB, Temporal dev server).',
    code: describeCode(),
    cores: os.cpus().length,
    calls: costs,
  });
  console.log(`written to ${path.relative(process.cwd(), file)}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);

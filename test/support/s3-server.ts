import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { startOnFreePort } from '../../platform/net';

const execFileAsync = promisify(execFile);

const ROOT = path.resolve(__dirname, '..', '..');

/** A real S3-compatible server (S3Proxy on its filesystem backend), with one empty bucket. */
export interface TestS3Server {
  endpoint: string;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** Where the server keeps the bucket's objects, one file each. */
  dataDir: string;
  /** A client of the server with the right credentials (path style). */
  client: S3Client;
  /** The environment that points Easel's S3 image store at this server. */
  easelEnv(extra?: Record<string, string>): Record<string, string>;
  /**
   * Puts these credentials (default: the right ones) and the region where the SDK's default
   * chain finds them, the process environment, as in production; returns what puts them back.
   * Easel's S3 client reads them when it first needs them (its start-up check).
   */
  useAwsEnvironment(credentials?: { accessKeyId: string; secretAccessKey: string }): () => void;
  stop(): Promise<void>;
}

/**
 * Starts S3Proxy (installed by infra/s3/install-s3-server.sh, run here on first use) on a free
 * port with a throw-away data folder and its own access key, which it checks on every request
 * (AWS SigV4, presigned URLs included), and creates the bucket.
 */
export async function startS3Server(options: { bucket?: string } = {}): Promise<TestS3Server> {
  const jar = (
    await execFileAsync('bash', [path.join(ROOT, 'infra/s3/install-s3-server.sh')], { timeout: 300_000 })
  ).stdout
    .trim()
    .split('\n')
    .pop()!;
  return startOnFreePort((port) => startS3ServerOn(port, jar, options.bucket ?? 'easel-images'));
}

async function startS3ServerOn(port: number, jar: string, bucket: string): Promise<TestS3Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-s3-'));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir);
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: 'easel-test-key', secretAccessKey: 'easel-test-secret-0123456789' };
  const properties = path.join(dir, 's3proxy.conf');
  fs.writeFileSync(
    properties,
    [
      's3proxy.authorization=aws-v2-or-v4',
      `s3proxy.endpoint=${endpoint}`,
      `s3proxy.identity=${credentials.accessKeyId}`,
      `s3proxy.credential=${credentials.secretAccessKey}`,
      'jclouds.provider=filesystem-nio2',
      `jclouds.filesystem.basedir=${dataDir}`,
      '',
    ].join('\n'),
  );
  // A small heap and the quick JIT: the tests start one per file on shared CI cores.
  const child = spawn(
    'java',
    [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-jar',
      path.resolve(ROOT, jar),
      '--properties',
      properties,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const stop = async (): Promise<void> => {
    await stopProcess(child);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilListening(endpoint, child, () => output);
    const region = 'us-east-1';
    const client = new S3Client({ endpoint, region, credentials, forcePathStyle: true });
    await client.send(new CreateBucketCommand({ Bucket: bucket }));
    return {
      endpoint,
      bucket,
      region,
      credentials,
      dataDir,
      client,
      easelEnv: (extra = {}) => ({
        EASEL_IMAGE_STORE: 's3',
        EASEL_S3_BUCKET: bucket,
        EASEL_S3_ENDPOINT: endpoint,
        EASEL_S3_FORCE_PATH_STYLE: 'true',
        ...extra,
      }),
      useAwsEnvironment(given = credentials) {
        const names = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION'] as const;
        const before = names.map((name) => process.env[name]);
        process.env.AWS_ACCESS_KEY_ID = given.accessKeyId;
        process.env.AWS_SECRET_ACCESS_KEY = given.secretAccessKey;
        process.env.AWS_REGION = region;
        return () =>
          names.forEach((name, i) => {
            if (before[i] === undefined) delete process.env[name];
            else process.env[name] = before[i];
          });
      },
      async stop() {
        client.destroy();
        await stop();
      },
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Any HTTP answer (an anonymous request is a 403) means it is up. */
async function waitUntilListening(
  endpoint: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`s3proxy exited (${child.exitCode}):\n${output()}`);
    try {
      await fetch(endpoint);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw new Error(`s3proxy did not answer at ${endpoint} within 60 s:\n${output()}`);
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

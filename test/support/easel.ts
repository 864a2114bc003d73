import { randomBytes } from 'node:crypto';
import { parseEnvironment } from '../../platform/config';
import { createLogger } from '../../platform/logger';
import { startEasel, type Easel, type Role } from '../../bin/runtime';
import { AnswerChecker } from './openapi-check';
import { IMAGE_URL_SECRET, METRICS_TOKEN, TEST_PAYLOAD_KEYS } from './secrets';
import { startS3Server } from './s3-server';

export { METRICS_TOKEN } from './secrets';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

export interface TestEasel extends Easel {
  baseUrl: string;
  dbName: string;
  taskQueue: string;
  /** JSON request helper: `call('POST', '/v1/imagine', {body, token})`. */
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    options?: { body?: unknown; token?: string; headers?: Record<string, string> },
  ): Promise<{ status: number; body: T; headers: Headers }>;
  admin<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }>;
  /** A fresh account with an API key. */
  newAccount(plan?: string): Promise<{ id: string; key: string }>;
}

export function requireDevStack(): { mongoUri: string; temporalAddress: string } {
  const mongoUri = process.env.TEST_MONGODB_URI;
  const temporalAddress = process.env.TEST_TEMPORAL_ADDRESS;
  if (!mongoUri || !temporalAddress)
    throw new Error('integration tests need the global setup (jest --selectProjects integration)');
  return { mongoUri, temporalAddress };
}

/**
 * Easel (API + worker in this process) on the shared dev stack, with its own database and task
 * queue so that test files never see each other's data or steal each other's tasks.
 */
export async function startTestEasel(
  options: {
    env?: Record<string, string>;
    role?: Role;
    dbName?: string;
    taskQueue?: string;
    temporalAddress?: string;
    /** A MongoDB server of the test's own (default: the shared dev stack's). */
    mongoUri?: string;
  } = {},
): Promise<TestEasel> {
  const stack = requireDevStack();
  // TEST_IMAGE_STORE=s3 runs any test file's Easel on its own S3 server instead of local disk.
  const s3 = process.env.TEST_IMAGE_STORE === 's3' ? await startS3Server() : undefined;
  const restoreAws = s3?.useAwsEnvironment();
  const suffix = randomBytes(4).toString('hex');
  const dbName = options.dbName ?? `test_${suffix}`;
  const taskQueue = options.taskQueue ?? `test-${suffix}`;
  const env = parseEnvironment({
    NODE_ENV: 'test',
    PORT: '0',
    EASEL_ADMIN_TOKEN: ADMIN_TOKEN,
    EASEL_METRICS_TOKEN: METRICS_TOKEN,
    EASEL_IMAGE_URL_SECRET: IMAGE_URL_SECRET,
    EASEL_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
    TEMPORAL_TASK_QUEUE: taskQueue,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    EASEL_WEBHOOK_ALLOW_PRIVATE: 'true',
    ...s3?.easelEnv(),
    ...options.env,
  });
  const answers = new AnswerChecker();
  let easel: Easel;
  try {
    easel = await startEasel({
      observeAnswer: answers.observe,
      env,
      role: options.role ?? 'all',
      logger: createLogger(env.LOG_LEVEL),
      mongoUri: `${options.mongoUri ?? stack.mongoUri}${dbName}`,
      temporalAddress: options.temporalAddress ?? stack.temporalAddress,
    });
  } catch (err) {
    restoreAws?.();
    await s3?.stop();
    throw err;
  }
  const baseUrl = easel.baseUrl ?? '';
  const call: TestEasel['call'] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers,
      ...(opts.body !== undefined && {
        body: typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
      }),
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: body as never, headers: res.headers };
  };
  const admin: TestEasel['admin'] = (method, path, body) =>
    call(method, `/admin/v1${path}`, { token: ADMIN_TOKEN, ...(body !== undefined && { body }) });
  const newAccount: TestEasel['newAccount'] = async (plan) => {
    const created = await admin<{ id: string }>('POST', '/accounts', {
      name: `test ${suffix}`,
      ...(plan && { plan }),
    });
    if (created.status !== 201)
      throw new Error(`create account: ${created.status} ${JSON.stringify(created.body)}`);
    const key = await admin<{ key: string }>('POST', `/accounts/${created.body.id}/keys`, {});
    return { id: created.body.id, key: key.body.key };
  };
  /** Stops Easel, then fails the test file if any answer strayed from the OpenAPI document. */
  const stop = async (): Promise<void> => {
    await easel.stop();
    restoreAws?.();
    await s3?.stop();
    const seen = [...new Set(answers.violations)];
    if (seen.length > 0) {
      throw new Error(
        `${seen.length} answer(s) differ from the OpenAPI document (api/openapi):\n  ${seen.slice(0, 20).join('\n  ')}`,
      );
    }
  };
  return { ...easel, stop, baseUrl, dbName, taskQueue, call, admin, newAccount };
}

import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { DEFAULT_MAX_IMAGE_BYTES } from './outbound';
import { parsePayloadKeys } from './payload-codec';

const booleanFromString = z.enum(['true', 'false', '1', '0', '']).transform((v) => v === 'true' || v === '1');

const port = z.coerce.number().int().min(0).max(65535);

/**
 * Every environment variable Easel reads, parsed once at start-up. A bad value stops the process
 * with a message naming the variable, rather than surfacing later as a confusing runtime error.
 */
export const environmentSchema = z
  .object({
    NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
    HOST: z.string().min(1).default('127.0.0.1'),
    PORT: port.default(8080),
    /** Where image URLs point; defaults to http://HOST:PORT. Set it behind a proxy or load balancer. */
    EASEL_PUBLIC_URL: z.url().optional(),
    /** MongoDB connection string. Unset outside production: the embedded FerretDB is started. */
    MONGODB_URI: z
      .string()
      .regex(/^mongodb(\+srv)?:\/\//, 'must start with mongodb:// or mongodb+srv://')
      .optional(),
    /** Temporal frontend host:port. Unset outside production: the embedded Temporal dev server is started. */
    TEMPORAL_ADDRESS: z
      .string()
      .regex(/^[^\s:]+:\d+$/, 'must be host:port')
      .optional(),
    TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
    TEMPORAL_TASK_QUEUE: z.string().min(1).default('easel'),
    /**
     * Temporal's own client settings (the names of the SDK's environment configuration): an API
     * key (Temporal Cloud; turns TLS on), TLS with the server's CA and, for mTLS, a client
     * certificate and key, as files or as PEM text (`*_DATA`). `TEMPORAL_CONFIG_FILE` and
     * `TEMPORAL_PROFILE` read them from a TOML profile instead; the variables win over it.
     */
    TEMPORAL_API_KEY: z.string().min(1).optional(),
    TEMPORAL_TLS: booleanFromString.optional(),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_CA_CERT_DATA: z.string().min(1).optional(),
    TEMPORAL_TLS_CLIENT_CERT_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_CLIENT_CERT_DATA: z.string().min(1).optional(),
    TEMPORAL_TLS_CLIENT_KEY_PATH: z.string().min(1).optional(),
    TEMPORAL_TLS_CLIENT_KEY_DATA: z.string().min(1).optional(),
    TEMPORAL_TLS_SERVER_NAME: z.string().min(1).optional(),
    TEMPORAL_CONFIG_FILE: z.string().min(1).optional(),
    TEMPORAL_PROFILE: z.string().min(1).optional(),
    EASEL_ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /**
     * Bearer token of `/metrics` (API and worker): the series carry revenue, upstream cost and
     * volumes per plan. Unset, `/metrics` refuses every scrape (`npm start` generates one).
     */
    EASEL_METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
    /** HMAC secret of image URLs, shared by API and worker (generated in the data folder outside production). */
    EASEL_IMAGE_URL_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
    /** How long a signed image URL stays valid; each job read and webhook signs a fresh one. */
    EASEL_IMAGE_URL_TTL_SECONDS: z.coerce
      .number()
      .int()
      .min(60)
      .max(7 * 24 * 3600)
      .default(3_600),
    /**
     * Finished jobs' images are deleted this many days after the job ended (by a Temporal schedule
     * the worker keeps; the job says when). Unset, images are kept.
     */
    EASEL_IMAGE_RETENTION_DAYS: z.coerce.number().positive().optional(),
    /**
     * Where images are kept: `local` (files under EASEL_DATA_DIR/images) or `s3` (EASEL_S3_BUCKET,
     * with the credentials and region of the AWS SDK's default chain: AWS_ACCESS_KEY_ID,
     * AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_PROFILE, web identity/IRSA…).
     */
    EASEL_IMAGE_STORE: z.enum(['local', 's3']).default('local'),
    EASEL_S3_BUCKET: z.string().min(3).max(63).optional(),
    /** Prepended to every object key as given: `easel/` keeps the images in that folder. */
    EASEL_S3_PREFIX: z
      .string()
      .default('')
      .refine((v) => !v.startsWith('/'), 'must not start with /'),
    /** An S3-compatible server (MinIO, SeaweedFS, R2…); unset, AWS S3 itself. */
    EASEL_S3_ENDPOINT: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }).optional(),
    /** `endpoint/bucket/key` instead of `bucket.endpoint/key`: most S3-compatible servers want it. */
    EASEL_S3_FORCE_PATH_STYLE: booleanFromString.default(false),
    /**
     * How image URLs deliver: `proxy` (Easel's own signed URLs; the API streams the bytes) or
     * `presigned` (S3 presigned URLs with the same time to live; needs EASEL_IMAGE_STORE=s3).
     */
    EASEL_IMAGE_DELIVERY: z.enum(['proxy', 'presigned']).default('proxy'),
    /**
     * The keys Temporal payloads are encrypted with, `keyId:base64key[,keyId:base64key…]` (32-byte
     * keys): the first encrypts, all decrypt, so a key rotates by putting a new one first. Required
     * in production; unset elsewhere, a key is generated once and kept in EASEL_DATA_DIR.
     */
    EASEL_PAYLOAD_KEYS: z
      .string()
      .optional()
      .superRefine((value, ctx) => {
        if (value === undefined) return;
        try {
          parsePayloadKeys(value);
        } catch (err) {
          ctx.addIssue({ code: 'custom', message: (err as Error).message });
        }
      }),
    /** Origins of the Temporal UI allowed to call the codec endpoint (`/codec`), comma-separated. */
    EASEL_CODEC_CORS_ORIGINS: z
      .string()
      .default('http://localhost:8233,http://127.0.0.1:8233')
      .transform((v) =>
        v
          .split(',')
          .map((origin) => origin.trim().replace(/\/$/, ''))
          .filter((origin) => origin !== ''),
      ),
    EASEL_DATA_DIR: z.string().min(1).default('.data'),
    /** Catalog and provider overrides, YAML or JSON. */
    EASEL_CONFIG: z.string().min(1).optional(),
    /** Deliver webhooks to private and loopback addresses too (tests, local development). */
    EASEL_WEBHOOK_ALLOW_PRIVATE: booleanFromString.default(false),
    /** The largest upstream result image downloaded; a larger one fails the attempt. */
    EASEL_MAX_IMAGE_BYTES: z.coerce.number().int().min(1024).default(DEFAULT_MAX_IMAGE_BYTES),
    /**
     * How long the synchronous OpenAI-compatible routes (`/v1/images/generations`, `/edits`) wait
     * for a job before answering 504 `timeout` with its id (the job goes on, charged once). Keep
     * it below the timeout of whatever stands between the client and Easel.
     */
    EASEL_SYNC_WAIT_SECONDS: z.coerce.number().int().min(1).max(3_600).default(300),
    /** First webhook retry delay (it doubles up to an hour, for a day); tests shorten it. */
    EASEL_WEBHOOK_INITIAL_RETRY_MS: z.coerce.number().int().min(10).default(5_000),
    /**
     * A queued job this old without a workflow (its API stopped between writing and starting it)
     * is started by the worker's sweep, which runs this often. The sweep reads the jobs collection
     * (a full scan on FerretDB: 1.6 s at 10,000 jobs), so it is rare; tests shorten it.
     */
    EASEL_UNSTARTED_JOB_AFTER_MS: z.coerce.number().int().min(100).default(300_000),
    /**
     * A reservation this old whose job was never written (its API died between the two, or the
     * write failed and so did the release) is released by the worker's sweep, which runs this
     * often; until then the audit reports it. Tests shorten it.
     */
    EASEL_ORPHANED_RESERVATION_AFTER_MS: z.coerce.number().int().min(100).default(120_000),
    /**
     * Tests only: honour the `Easel-Failpoint` request header, which injects a fault (a failed
     * write, the process killed) at a named step of a submission. Refused in production.
     */
    EASEL_FAILPOINTS: booleanFromString.default(false),
    /**
     * Tests only: addresses (comma-separated) the outbound policy treats as public, so that a
     * loopback fake can stand in for an upstream on the internet. Refused in production.
     */
    EASEL_OUTBOUND_TEST_PUBLIC_ADDRESSES: z
      .string()
      .default('')
      .transform((v) =>
        v
          .split(',')
          .map((a) => a.trim())
          .filter((a) => a !== ''),
      ),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** The worker's own /metrics port when it runs as a separate process. */
    WORKER_METRICS_PORT: port.default(9464),
    /**
     * On SIGTERM: how long the API finishes in-flight requests (reporting not-ready meanwhile)
     * and the worker lets running activities finish, before cutting them. Keep it under the
     * orchestrator's own (Kubernetes: terminationGracePeriodSeconds, 30 by default).
     */
    EASEL_SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(3_600).default(20),
    /**
     * On SIGTERM the API first answers not-ready this long while still accepting, so that a load
     * balancer stops routing to it before its port closes (5 behind Kubernetes Services).
     */
    EASEL_SHUTDOWN_DELAY_SECONDS: z.coerce.number().min(0).max(300).default(0),
    /** Ports of the embedded dev stack (0 picks a free port). */
    DEVSTACK_MONGO_PORT: port.default(27017),
    DEVSTACK_TEMPORAL_PORT: port.default(7233),
    DEVSTACK_TEMPORAL_UI_PORT: port.default(8233),
  })
  .superRefine((env, ctx) => {
    if (env.EASEL_IMAGE_STORE === 's3' && !env.EASEL_S3_BUCKET) {
      ctx.addIssue({
        code: 'custom',
        path: ['EASEL_S3_BUCKET'],
        message: 'is required when EASEL_IMAGE_STORE=s3',
      });
    }
    if (env.EASEL_IMAGE_DELIVERY === 'presigned' && env.EASEL_IMAGE_STORE !== 's3') {
      ctx.addIssue({
        code: 'custom',
        path: ['EASEL_IMAGE_DELIVERY'],
        message: 'presigned needs EASEL_IMAGE_STORE=s3 (the local store has no URLs of its own)',
      });
    }
    const clientCert = env.TEMPORAL_TLS_CLIENT_CERT_PATH ?? env.TEMPORAL_TLS_CLIENT_CERT_DATA;
    const clientKey = env.TEMPORAL_TLS_CLIENT_KEY_PATH ?? env.TEMPORAL_TLS_CLIENT_KEY_DATA;
    if (Boolean(clientCert) !== Boolean(clientKey)) {
      ctx.addIssue({
        code: 'custom',
        path: [clientCert ? 'TEMPORAL_TLS_CLIENT_KEY_PATH' : 'TEMPORAL_TLS_CLIENT_CERT_PATH'],
        message: 'mTLS needs both the client certificate and its key',
      });
    }
    if (env.NODE_ENV !== 'production') return;
    if (env.EASEL_FAILPOINTS) {
      ctx.addIssue({ code: 'custom', path: ['EASEL_FAILPOINTS'], message: 'is for tests, never production' });
    }
    if (env.EASEL_OUTBOUND_TEST_PUBLIC_ADDRESSES.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['EASEL_OUTBOUND_TEST_PUBLIC_ADDRESSES'],
        message: 'is for tests, never production',
      });
    }
    for (const name of [
      'EASEL_ADMIN_TOKEN',
      'EASEL_METRICS_TOKEN',
      'EASEL_IMAGE_URL_SECRET',
      'MONGODB_URI',
      'TEMPORAL_ADDRESS',
      'EASEL_PAYLOAD_KEYS',
    ] as const) {
      if (!env[name]) {
        ctx.addIssue({
          code: 'custom',
          path: [name],
          message: 'is required when NODE_ENV=production (the dev stack never starts in production)',
        });
      }
    }
  });

export type Environment = z.infer<typeof environmentSchema>;

/** A bad environment variable or config file: start-up stops with this message. */
export class ConfigurationError extends Error {
  override name = 'ConfigurationError';
}

/** Parses the environment, throwing one error that lists every bad variable. */
export function parseEnvironment(source: NodeJS.ProcessEnv = process.env): Environment {
  const result = environmentSchema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join('.') || '(environment)';
    const value = source[variable];
    const shown = value === undefined ? 'unset' : `got ${JSON.stringify(redactIfSecret(variable, value))}`;
    return `  ${variable}: ${issue.message} (${shown})`;
  });
  throw new ConfigurationError(`Invalid environment:\n${problems.join('\n')}`);
}

function redactIfSecret(variable: string, value: string): string {
  return /TOKEN|SECRET|KEY|PASSWORD/.test(variable) ? '***' : value;
}

export function resolveDataDir(env: Environment): string {
  return path.resolve(env.EASEL_DATA_DIR);
}

export function publicBaseUrl(env: Environment, boundPort?: number): string {
  if (env.EASEL_PUBLIC_URL) return env.EASEL_PUBLIC_URL.replace(/\/$/, '');
  return `http://${env.HOST}:${boundPort ?? env.PORT}`;
}

/** Reads a YAML or JSON file (JSON is valid YAML). */
export function readConfigFile(file: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigurationError(`Cannot read EASEL_CONFIG file ${file}: ${(err as Error).message}`);
  }
  try {
    return YAML.parse(text) as unknown;
  } catch (err) {
    throw new ConfigurationError(
      `EASEL_CONFIG file ${file} is not valid YAML or JSON: ${(err as Error).message}`,
    );
  }
}

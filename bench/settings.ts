import { z } from 'zod';
import type { EaselBuild } from './processes';

/** What one benchmark run does; every number can be overridden from the environment. */
export interface BenchSettings {
  /** BENCH_QUICK=1: a smoke run of a minute or two, every section shrunk. */
  quick: boolean;
  /** BENCH_PROFILE=1: only the profile (database round trips and step timings per job). */
  profile: boolean;
  /**
   * Which code Easel's processes run: the production build (`npm run build`, done first: dist/
   * and its prebuilt workflow bundle, as the Docker image runs them) or, with
   * BENCH_FROM_SOURCES=1, the sources through tsx (no build; more memory and CPU at start-up).
   */
  build: EaselBuild;
  /**
   * BENCH_WORKER_NICE (default 10, 0 = none): the worker process's nice value. On one shared host
   * the accept path is the interactive part and jobs are queued work, so the worker yields the
   * CPU to the API when both want it (what separate machines or CPU limits give in production).
   */
  workerNice: number;
  accept: {
    /** Open-loop request rates (req/s), each held for `seconds`. */
    rates: number[];
    seconds: number;
    /** The report's `accept_p50_ms` / `accept_p99_ms` come from this rate. */
    reportedRate: number;
    saturationConcurrency: number;
    saturationSeconds: number;
  };
  e2e: { jobs: number; concurrency: number };
  /** Stops after `minutes` (at the end of a batch) if the jobs are not done by then. */
  memory: { jobs: number; concurrency: number; checkpoint: number; minutes: number };
  ledger: { seconds: number; concurrency: number; accounts: number };
  profileJobs: number;
  /** Jobs the profile adds between its two rounds, to see lookups slow down as tables grow. */
  profileFill: number;
  /** Benchmark a running instance instead of starting one. */
  remote?: RemoteTarget;
}

export interface RemoteTarget {
  url: string;
  adminToken: string;
  /** For the bare-Temporal baseline; skipped without it. */
  temporalAddress?: string;
  temporalNamespace: string;
  /** A scratch database for the ledger section; skipped without it. */
  mongoUri?: string;
  /** Local pids of the instance's API and worker, for RSS and CPU; skipped without them. */
  apiPid?: number;
  workerPid?: number;
}

const flag = z
  .enum(['', '0', '1', 'true', 'false'])
  .optional()
  .transform((v) => v === '1' || v === 'true');
const count = z.coerce.number().int().positive().optional();
const pid = z.coerce.number().int().positive().optional();

const benchEnvironment = z.object({
  BENCH_QUICK: flag,
  BENCH_PROFILE: flag,
  BENCH_FROM_SOURCES: flag,
  BENCH_WORKER_NICE: z.coerce.number().int().min(0).max(19).default(10),
  BENCH_E2E_JOBS: count,
  BENCH_E2E_CONCURRENCY: count,
  BENCH_MEMORY_JOBS: count,
  BENCH_MEMORY_CONCURRENCY: count,
  BENCH_MEMORY_MINUTES: count,
  BENCH_PROFILE_JOBS: count,
  BENCH_PROFILE_FILL: count,
  BENCH_RATE_SECONDS: count,
  BENCH_LEDGER_SECONDS: count,
  EASEL_URL: z.url().optional(),
  EASEL_ADMIN_TOKEN: z.string().min(1).optional(),
  BENCH_TEMPORAL_ADDRESS: z.string().min(1).optional(),
  BENCH_TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  BENCH_MONGODB_URI: z.string().min(1).optional(),
  EASEL_API_PID: pid,
  EASEL_WORKER_PID: pid,
});

export const ACCEPT_RATES = [5, 10, 25, 50, 100];
export const REPORTED_ACCEPT_RATE = 50;

/** Parses the BENCH_* variables (and EASEL_URL for a remote instance), failing on a bad value. */
export function readSettings(source: NodeJS.ProcessEnv = process.env): BenchSettings {
  const parsed = benchEnvironment.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new Error(`Invalid benchmark environment:\n${problems.join('\n')}`);
  }
  const env = parsed.data;
  const quick = env.BENCH_QUICK;
  const memoryJobs = env.BENCH_MEMORY_JOBS ?? (quick ? 400 : 10_000);
  if (env.EASEL_URL && !env.EASEL_ADMIN_TOKEN) {
    throw new Error('EASEL_URL needs EASEL_ADMIN_TOKEN: the benchmark creates its own account.');
  }
  return {
    quick,
    profile: env.BENCH_PROFILE,
    build: env.BENCH_FROM_SOURCES ? 'sources' : 'dist',
    workerNice: env.BENCH_WORKER_NICE,
    accept: {
      rates: ACCEPT_RATES,
      seconds: env.BENCH_RATE_SECONDS ?? (quick ? 3 : 10),
      reportedRate: REPORTED_ACCEPT_RATE,
      saturationConcurrency: 32,
      saturationSeconds: env.BENCH_RATE_SECONDS ?? (quick ? 3 : 10),
    },
    e2e: {
      jobs: env.BENCH_E2E_JOBS ?? (quick ? 60 : 1_000),
      concurrency: env.BENCH_E2E_CONCURRENCY ?? 16,
    },
    memory: {
      jobs: memoryJobs,
      concurrency: env.BENCH_MEMORY_CONCURRENCY ?? 16,
      // 1,000 of 10,000 by default: the same 1:10 ratio when the run is shrunk.
      checkpoint: Math.max(1, Math.min(1_000, Math.floor(memoryJobs / 10))),
      minutes: env.BENCH_MEMORY_MINUTES ?? (quick ? 3 : 30),
    },
    ledger: { seconds: env.BENCH_LEDGER_SECONDS ?? (quick ? 2 : 10), concurrency: 8, accounts: 100 },
    profileJobs: env.BENCH_PROFILE_JOBS ?? (quick ? 50 : 300),
    profileFill: env.BENCH_PROFILE_FILL ?? (quick ? 200 : 1_000),
    ...(env.EASEL_URL &&
      env.EASEL_ADMIN_TOKEN && {
        remote: {
          url: env.EASEL_URL.replace(/\/$/, ''),
          adminToken: env.EASEL_ADMIN_TOKEN,
          temporalNamespace: env.BENCH_TEMPORAL_NAMESPACE,
          ...(env.BENCH_TEMPORAL_ADDRESS && { temporalAddress: env.BENCH_TEMPORAL_ADDRESS }),
          ...(env.BENCH_MONGODB_URI && { mongoUri: env.BENCH_MONGODB_URI }),
          ...(env.EASEL_API_PID && { apiPid: env.EASEL_API_PID }),
          ...(env.EASEL_WORKER_PID && { workerPid: env.EASEL_WORKER_PID }),
        },
      }),
  };
}

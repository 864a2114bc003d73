import { performance } from 'node:perf_hooks';
import type { SectionContext } from '../context';
import { isTerminal } from '../../core/jobs/store';
import type { EaselClient } from '../easel-client';
import { forEachConcurrently } from '../load';
import { measureCpu, type CpuUse } from '../resources';
import { perSecond, round, summarize, type LatencySummary } from '../stats';

/** Jobs submitted and followed to the end by a fixed number of clients. */
export interface JobsRun {
  succeeded: number;
  failed: number;
  /** Jobs still not terminal after two minutes (their ids, for a look at the database). */
  stuck: string[];
  elapsedMs: number;
  /** created_at → completed_at as Easel recorded them (submit to settled), ms. */
  serverMs: number[];
  /** From sending the submit to reading the terminal job (includes the long-poll's granularity), ms. */
  clientMs: number[];
}

export interface E2eResult {
  jobs: number;
  concurrency: number;
  seconds: number;
  jobs_per_s: number;
  failed: number;
  stuck: string[];
  submit_to_succeeded: LatencySummary;
  client_observed: LatencySummary;
  cpu: CpuUse;
}

/** Enough to get past JIT compilation and first-use costs in every process. */
const WARM_UP_JOBS = 100;

/**
 * Submits `jobs` jobs, `concurrency` at a time, each followed with `GET /v1/jobs/:id?wait=30`
 * until it is terminal: the way an API client waits for its image.
 */
export async function runJobs(
  client: EaselClient,
  jobs: number,
  concurrency: number,
  onDone?: (done: number) => void,
): Promise<JobsRun> {
  const run: JobsRun = { succeeded: 0, failed: 0, stuck: [], elapsedMs: 0, serverMs: [], clientMs: [] };
  const start = performance.now();
  await forEachConcurrently(jobs, concurrency, async () => {
    const sent = performance.now();
    const accepted = await client.submit();
    const job = await client.waitForJob(accepted.id);
    run.clientMs.push(performance.now() - sent);
    if (job.status === 'succeeded' && job.completed_at) {
      run.succeeded += 1;
      run.serverMs.push(Date.parse(job.completed_at) - Date.parse(job.created_at));
    } else if (isTerminal(job.status)) {
      run.failed += 1;
    } else {
      run.stuck.push(job.id);
    }
    onDone?.(run.succeeded + run.failed + run.stuck.length);
  });
  run.elapsedMs = performance.now() - start;
  return run;
}

export async function benchEndToEnd({ settings, target, client, log }: SectionContext): Promise<E2eResult> {
  const { jobs, concurrency } = settings.e2e;
  await runJobs(client, WARM_UP_JOBS, concurrency);
  log(`end to end: ${jobs} jobs, ${concurrency} at a time`);
  const cpu = measureCpu(target.pids());
  const run = await runJobs(client, jobs, concurrency);
  const result: E2eResult = {
    jobs,
    concurrency,
    seconds: round(run.elapsedMs / 1000),
    jobs_per_s: perSecond(run.succeeded, run.elapsedMs),
    failed: run.failed,
    stuck: run.stuck,
    submit_to_succeeded: summarize(run.serverMs),
    client_observed: summarize(run.clientMs),
    cpu: cpu(jobs),
  };
  log(
    `  ${result.jobs_per_s} jobs/s, submit→succeeded p50 ${result.submit_to_succeeded.p50_ms} ms, ` +
      `p99 ${result.submit_to_succeeded.p99_ms} ms (client saw p50 ${result.client_observed.p50_ms} ms)`,
  );
  return result;
}

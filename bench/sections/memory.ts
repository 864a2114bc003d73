import { performance } from 'node:perf_hooks';
import type { SectionContext } from '../context';
import { rssMb } from '../processes';
import { measureCpu, type CpuUse } from '../resources';
import { perSecond, sleep } from '../stats';

/** API and worker RSS after a number of jobs (null when the process is not on this machine). */
export interface RssSample {
  jobs: number;
  api_mb: number | null;
  worker_mb: number | null;
}

/** One batch of the series: RSS after it, the rate of jobs through it and their CPU cost. */
export interface SeriesPoint extends RssSample {
  batch_jobs_per_s: number;
  cpu_ms_per_job: CpuUse['ms_per_unit'];
}

export interface MemoryResult {
  jobs: number;
  concurrency: number;
  batch: number;
  /** Whether API and worker were fresh processes on an empty database when the section began. */
  fresh_processes: boolean;
  /** Right after start-up (and the account's creation). */
  at_start: RssSample;
  /** Read once the jobs so far have finished and the processes have idled for a few seconds. */
  checkpoints: RssSample[];
  series: SeriesPoint[];
  /** Jobs actually run: fewer than `jobs` when the time box ran out first. */
  jobs_done: number;
  /** Why the section stopped before `jobs`, if it did. */
  stopped_early: string | null;
  jobs_per_s: number;
  /** Jobs that ended failed (at most the first page of them is counted). */
  failed: number;
}

/** Lets in-flight callbacks, timers and a GC or two run before a checkpoint is read. */
const SETTLE_MS = 3_000;
const BATCH = 250;
/** Between batches the account is polled, which costs a ledger read: not too often. */
const IDLE_POLL_MS = 1_000;

function sample({ target }: SectionContext, jobs: number): RssSample {
  const pids = target.pids();
  return {
    jobs,
    api_mb: pids.api !== undefined ? rssMb(pids.api) : null,
    worker_mb: pids.worker !== undefined ? rssMb(pids.worker) : null,
  };
}

/**
 * Submits `memory.jobs` jobs in batches (`concurrency` submissions at a time, then waiting until
 * the account runs nothing) and reads API and worker RSS after the checkpoint (1,000 by default)
 * and at the end, or when the time box runs out. Jobs are not long-polled one by one here: on
 * FerretDB every poll scans the jobs table, which would make the section slow itself down.
 */
export async function benchMemory(ctx: SectionContext): Promise<MemoryResult> {
  const { settings, target, client, log } = ctx;
  const { jobs, concurrency, checkpoint } = settings.memory;
  const batch = Math.min(BATCH, checkpoint);
  const series: SeriesPoint[] = [];
  const atStart = sample(ctx, 0);
  const checkpoints: RssSample[] = [];
  let done = 0;
  let busyMs = 0;
  let stoppedEarly: string | null = null;
  const deadline = Date.now() + settings.memory.minutes * 60_000;
  log(
    `memory: ${jobs} jobs in batches of ${batch}, ${concurrency} submissions at a time ` +
      `(stops after ${settings.memory.minutes} min)`,
  );
  for (const upTo of [checkpoint, jobs]) {
    while (done < upTo && stoppedEarly === null) {
      const size = Math.min(batch, upTo - done);
      const begun = performance.now();
      const cpu = measureCpu(target.pids());
      await client.submitMany(size, concurrency);
      try {
        // Within the section's time box: a stuck job ends the section, not the run.
        await client.waitUntilIdle({
          everyMs: IDLE_POLL_MS,
          timeoutMs: Math.max(1_000, deadline - Date.now()),
        });
      } catch (err) {
        stoppedEarly = err instanceof Error ? err.message : String(err);
        break;
      }
      const batchMs = performance.now() - begun;
      busyMs += batchMs;
      done += size;
      const point: SeriesPoint = {
        ...sample(ctx, done),
        batch_jobs_per_s: perSecond(size, batchMs),
        cpu_ms_per_job: cpu(size).ms_per_unit,
      };
      series.push(point);
      if (done % 1_000 === 0 || done === upTo) {
        log(
          `  memory: ${done}/${jobs} jobs, ${point.batch_jobs_per_s} jobs/s, ` +
            `API ${point.api_mb} MB, worker ${point.worker_mb} MB`,
        );
      }
      if (done < jobs && Date.now() > deadline) {
        stoppedEarly = `time box of ${settings.memory.minutes} min ran out after ${done} jobs`;
        log(`memory: ${stoppedEarly}`);
      }
    }
    if (checkpoints.at(-1)?.jobs === done) break;
    await sleep(SETTLE_MS);
    const s = sample(ctx, done);
    checkpoints.push(s);
    log(`memory: after ${done} jobs: API ${s.api_mb} MB, worker ${s.worker_mb} MB`);
  }
  const failedPage = await client.request<{ data: unknown[] }>('GET', '/v1/jobs?status=failed&limit=100');
  return {
    jobs,
    concurrency,
    batch,
    fresh_processes: target.freshEasel !== undefined,
    at_start: atStart,
    checkpoints,
    series,
    jobs_done: done,
    stopped_early: stoppedEarly,
    jobs_per_s: perSecond(done, busyMs),
    failed: failedPage.body.data.length,
  };
}

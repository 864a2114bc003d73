import type { SectionContext } from '../context';
import type { EaselClient } from '../easel-client';
import { closedLoop, openLoop, type LoadResult, type Outcome } from '../load';
import { measureCpu, type CpuUse } from '../resources';
import { perSecond, round, summarize } from '../stats';

/** One load step of the accept path (`POST /v1/imagine` answered 202). */
export interface AcceptRow {
  /**
   * `open`: a fixed rate while the worker runs the jobs on the same cores; `open_worker_paused`:
   * the same with the worker stopped (SIGSTOP), the jobs waiting in Temporal: the accept path's
   * own cost, as on API machines of their own; `saturation`: closed loop.
   */
  mode: 'open' | 'open_worker_paused' | 'saturation';
  /** The fixed request rate of an open-loop step. */
  offered_rps: number | null;
  /** The callers of the closed-loop (saturation) step. */
  concurrency: number | null;
  seconds: number;
  sent: number;
  accepted: number;
  accepted_rps: number;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  /** Answers other than 202, by status or error. */
  refused: Record<string, number>;
  /** CPU per accepted request (the worker's share runs the jobs the requests started). */
  cpu: CpuUse;
}

const WARM_UP_REQUESTS = 20;
const DRAINING = '; draining the backlog';

function acceptCall(client: EaselClient): () => Promise<Outcome> {
  return async () => {
    const answer = await client.imagine();
    return answer.status === 202 ? 'ok' : String(answer.status);
  };
}

function toRow(
  result: LoadResult,
  step: Pick<AcceptRow, 'mode' | 'offered_rps' | 'concurrency'>,
  cpu: (accepted: number) => CpuUse,
): AcceptRow {
  const { ok = 0, ...refused } = result.outcomes;
  const cpuUse = cpu(ok); // before the summary below: the CPU counted is the step's
  const sent = Object.values(result.outcomes).reduce((a, b) => a + b, 0);
  const latency = summarize(result.latenciesMs);
  return {
    ...step,
    seconds: round(result.elapsedMs / 1000),
    sent,
    accepted: ok,
    accepted_rps: perSecond(ok, result.elapsedMs),
    p50_ms: latency.p50_ms,
    p90_ms: latency.p90_ms,
    p99_ms: latency.p99_ms,
    max_ms: latency.max_ms,
    refused,
    cpu: cpuUse,
  };
}

/**
 * The accept path at fixed open-loop rates, then at saturation (closed loop). Each step starts
 * with no job running: the jobs a step started are drained before the next one, so that one
 * step's backlog does not load the next.
 */
export async function benchAccept({ settings, target, client, log }: SectionContext): Promise<AcceptRow[]> {
  const call = acceptCall(client);
  for (let i = 0; i < WARM_UP_REQUESTS; i++) await call();
  await client.waitUntilIdle();

  const rows: AcceptRow[] = [];
  /** Adds a step's row and drains the jobs it started. */
  const record = async (row: AcceptRow, note = ''): Promise<void> => {
    rows.push(row);
    log(`  ${row.accepted_rps} accepted/s, p50 ${row.p50_ms} ms, p99 ${row.p99_ms} ms${note}`);
    await client.waitUntilIdle();
  };
  for (const rate of settings.accept.rates) {
    log(`accept: ${rate} req/s for ${settings.accept.seconds} s`);
    const cpu = measureCpu(target.pids());
    const result = await openLoop(call, { rate, seconds: settings.accept.seconds });
    await record(toRow(result, { mode: 'open', offered_rps: rate, concurrency: null }, cpu));
  }

  const workerPid = target.pids().worker;
  if (workerPid !== undefined) {
    const rate = settings.accept.reportedRate;
    log(`accept: ${rate} req/s for ${settings.accept.seconds} s, worker paused (SIGSTOP)`);
    const cpu = measureCpu(target.pids());
    // Resumed on any exit too: an interrupted run must not leave the worker (maybe the user's own,
    // with EASEL_URL) stopped.
    const resume = (): void => void process.kill(workerPid, 'SIGCONT');
    process.once('exit', resume);
    process.kill(workerPid, 'SIGSTOP');
    let result: LoadResult;
    try {
      result = await openLoop(call, { rate, seconds: settings.accept.seconds });
    } finally {
      resume();
      process.removeListener('exit', resume);
    }
    await record(
      toRow(result, { mode: 'open_worker_paused', offered_rps: rate, concurrency: null }, cpu),
      DRAINING,
    );
  }

  const { saturationConcurrency: concurrency, saturationSeconds: seconds } = settings.accept;
  log(`accept: saturation, ${concurrency} callers for ${seconds} s`);
  const cpu = measureCpu(target.pids());
  const result = await closedLoop(call, { concurrency, seconds });
  await record(toRow(result, { mode: 'saturation', offered_rps: null, concurrency }, cpu), DRAINING);
  return rows;
}

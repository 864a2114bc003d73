import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { connectTemporal } from '../../platform/temporal';
import { createBaselineActivities, type BaselineInput } from '../baseline-activities';
import { baselineJobWorkflow } from '../baseline-workflow';
import type { SectionContext } from '../context';
import { forEachConcurrently } from '../load';
import { measureCpu, type CpuUse } from '../resources';
import { perSecond, round, summarize, type LatencySummary } from '../stats';

export interface BaselineResult {
  jobs: number;
  concurrency: number;
  seconds: number;
  jobs_per_s: number;
  /** Start → result, as `client.workflow.execute` sees it. */
  latency: LatencySummary;
  cpu: CpuUse;
}

/** As many as the Easel run warms up with. */
const WARM_UP_WORKFLOWS = 100;

let runtimeInstalled = false;

/** The SDK's runtime, installed once, logging warnings only (its default logs every worker state). */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

/**
 * The bare-Temporal baseline on the same server, at the same concurrency and job count as the
 * end-to-end section: `client.workflow.execute` of a workflow with Easel's activity calls and
 * none of its work, run by a worker in this process on a task queue of its own.
 */
export async function benchBaseline(
  { settings, target, log }: SectionContext,
  temporal: { address: string; namespace: string },
): Promise<BaselineResult> {
  installQuietRuntime();
  const { jobs, concurrency } = settings.e2e;
  const taskQueue = `bench-baseline-${randomBytes(4).toString('hex')}`;
  const workerConnection = await NativeConnection.connect({ address: temporal.address });
  const { connection: clientConnection, client } = await connectTemporal({
    connection: { address: temporal.address },
    namespace: temporal.namespace,
    taskQueue,
  });
  try {
    log('baseline: bundling the bare workflow');
    const worker = await Worker.create({
      connection: workerConnection,
      namespace: temporal.namespace,
      taskQueue,
      workflowsPath: require.resolve('../baseline-workflow'),
      activities: createBaselineActivities(),
    });
    const execute = (index: number): Promise<string> => {
      const input: BaselineInput = { jobId: `baseline-${taskQueue}-${index}`, credits: 1 };
      return client.workflow.execute(baselineJobWorkflow, {
        taskQueue,
        workflowId: input.jobId,
        args: [input],
      });
    };
    return await worker.runUntil(async () => {
      await forEachConcurrently(WARM_UP_WORKFLOWS, concurrency, (i) => execute(-1 - i).then(() => undefined));
      log(`baseline: ${jobs} workflows, ${concurrency} at a time`);
      const latencies: number[] = [];
      const cpu = measureCpu(target.pids());
      const start = performance.now();
      await forEachConcurrently(jobs, concurrency, async (i) => {
        const begun = performance.now();
        await execute(i);
        latencies.push(performance.now() - begun);
      });
      const elapsedMs = performance.now() - start;
      const result: BaselineResult = {
        jobs,
        concurrency,
        seconds: round(elapsedMs / 1000),
        jobs_per_s: perSecond(jobs, elapsedMs),
        latency: summarize(latencies),
        cpu: cpu(jobs),
      };
      log(
        `  ${result.jobs_per_s} workflows/s, p50 ${result.latency.p50_ms} ms, p99 ${result.latency.p99_ms} ms`,
      );
      return result;
    });
  } finally {
    await clientConnection.close();
    await workerConnection.close();
  }
}

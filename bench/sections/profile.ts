import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { SectionContext } from '../context';
import { cpuByArea } from '../cpu-profile';
import { createBenchAccount } from '../easel-client';
import { describeCode } from '../provenance';
import { histogramMeans, scrape, type Samples } from '../prometheus';
import { writeJson } from '../report';
import { measureCpu } from '../resources';
import type { BenchSettings } from '../settings';
import { stopOnInterrupt } from '../shutdown';
import { perSecond, round, summarize } from '../stats';
import { startLocalTarget, type BenchTarget, type Role } from '../target';
import { diffCounts, MongoWireCounter, type CommandCounts } from '../wire-counter';
import { runJobs } from './e2e';
import { formatAreas, formatPhase, formatRound } from './profile-text';
import type { JobsPhase, ProfileResult, ProfileRound, RoundTrips } from './profile-types';

const NOTE =
  'Easel processes reach FerretDB through a counting proxy here: latencies are slightly above a plain run.';
const SERIAL_JOBS = 30;
const WARM_UP_JOBS = 16;
const FILL_BATCH = 250;
const STEP_METRICS = /^(temporal_(activity|local_activity|workflow)_|easel_(job|provider_request)_duration)/;

function roundTrips(counts: CommandCounts, units: number): RoundTrips {
  let count = 0;
  let ms = 0;
  const commands = [...counts]
    .map(([command, s]) => {
      count += s.count;
      ms += s.totalMs;
      return { command, per_unit: round(s.count / units, 2), mean_ms: round(s.totalMs / s.count, 2) };
    })
    .sort((a, b) => b.per_unit - a.per_unit);
  return { per_unit: round(count / units, 2), ferretdb_ms_per_unit: round(ms / units, 2), commands };
}

/** Profiles Easel: runs jobs and reads what each process asked of FerretDB and of Temporal. */
class Profiler {
  private jobsRun = 0;

  constructor(
    private readonly ctx: SectionContext,
    private readonly counters: Record<Role, MongoWireCounter>,
  ) {}

  private async scrapeSteps(): Promise<Samples> {
    const { target } = this.ctx;
    const [worker, api] = await Promise.all([
      scrape(target.workerMetricsUrl!, target.metricsToken!),
      scrape(`${target.baseUrl}/metrics`, target.metricsToken!),
    ]);
    // Both processes export Easel's series (the API's job and provider histograms stay at zero):
    // add them up, or the API's zeros would hide the worker's figures.
    const merged = new Map(worker);
    for (const [series, value] of api) merged.set(series, (merged.get(series) ?? 0) + value);
    return merged;
  }

  async warmUp(): Promise<void> {
    await runJobs(this.ctx.client, WARM_UP_JOBS, this.ctx.settings.e2e.concurrency);
    this.jobsRun += WARM_UP_JOBS;
  }

  async jobsPhase(jobs: number, concurrency: number): Promise<JobsPhase> {
    const before = await this.scrapeSteps();
    const cpu = measureCpu(this.ctx.target.pids());
    const run = await runJobs(this.ctx.client, jobs, concurrency);
    const use = cpu(jobs);
    const after = await this.scrapeSteps();
    this.jobsRun += jobs;
    return {
      jobs,
      concurrency,
      jobs_per_s: perSecond(run.succeeded, run.elapsedMs),
      stuck: run.stuck.length,
      submit_to_succeeded: summarize(run.serverMs),
      steps: histogramMeans(before, after, (m) => STEP_METRICS.test(m)),
      cpu: use,
    };
  }

  async round(): Promise<ProfileRound> {
    const { settings, client, log } = this.ctx;
    const jobs = settings.profileJobs;
    const concurrency = settings.e2e.concurrency;
    const jobsInDatabase = this.jobsRun;
    log(`profile: ${jobs} submissions, ${concurrency} at a time (${jobsInDatabase} jobs in the database)`);
    const api0 = this.counters.api.snapshot();
    const worker0 = this.counters.worker.snapshot();
    const start = performance.now();
    await client.submitMany(jobs, concurrency);
    const acceptMs = performance.now() - start;
    const accept_api = roundTrips(diffCounts(api0, this.counters.api.snapshot()), jobs);
    await client.waitUntilIdle();
    this.jobsRun += jobs;
    const job_worker = roundTrips(diffCounts(worker0, this.counters.worker.snapshot()), jobs);
    log(
      `  ${perSecond(jobs, acceptMs)} accepted/s; API ${accept_api.per_unit} round trips/request, ` +
        `worker ${job_worker.per_unit}/job`,
    );
    log(`profile: ${jobs} jobs, ${concurrency} at a time, each long-polled to its end`);
    const api1 = this.counters.api.snapshot();
    const loaded = await this.jobsPhase(jobs, concurrency);
    const submit_and_follow_api = roundTrips(diffCounts(api1, this.counters.api.snapshot()), jobs);
    return { jobs_in_database: jobsInDatabase, accept_api, job_worker, submit_and_follow_api, loaded };
  }

  /** Adds jobs without following them one by one (cheap for the client, not for the database). */
  async fill(jobs: number): Promise<void> {
    const { client, settings, log } = this.ctx;
    log(`profile: adding ${jobs} jobs`);
    for (let done = 0; done < jobs; done += FILL_BATCH) {
      await client.submitMany(Math.min(FILL_BATCH, jobs - done), settings.e2e.concurrency);
      await client.waitUntilIdle({ everyMs: 1_000 });
    }
    this.jobsRun += jobs;
  }
}

/**
 * `BENCH_PROFILE=1 npm run bench`: starts its own Easel with each process's MongoDB traffic going
 * through a counting proxy, profiles a fresh database and a grown one, and writes
 * bench/results/profile.json.
 */
export async function runProfile(
  settings: BenchSettings,
  log: (m: string) => void,
  resultsDir: string,
): Promise<void> {
  if (settings.remote) throw new Error('the profile starts its own Easel: unset EASEL_URL');
  const code = describeCode();
  const counters: Partial<Record<Role, MongoWireCounter>> = {};
  // Kept after the run, to open in a browser's DevTools (Performance → load profile).
  const profileDir = path.join(resultsDir, 'cpu-profiles');
  fs.rmSync(profileDir, { recursive: true, force: true });
  const startUpMs: Partial<Record<Role, number>> = {};
  let target: BenchTarget | undefined;
  try {
    target = await startLocalTarget({
      log,
      build: settings.build,
      workerNice: settings.workerNice,
      // One profile per thread: a folder per process.
      nodeArgs: (role) => ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, role)}`],
      onStarted: (p) => (startUpMs[p.role] = p.readyAfterMs),
      routeMongo: async (role, serverUri) => {
        const url = new URL(serverUri);
        const counter = await MongoWireCounter.start({ host: url.hostname, port: Number(url.port) });
        counters[role] = counter;
        return `mongodb://127.0.0.1:${counter.port}/`;
      },
    });
    const started = target;
    stopOnInterrupt(async () => {
      await started.stop();
      await Promise.all(Object.values(counters).map((c) => c.close()));
    }, log);
    const { client } = await createBenchAccount(target.baseUrl, target.adminToken, 10_000_000);
    const profiler = new Profiler(
      { settings, target, client, log },
      counters as Record<Role, MongoWireCounter>,
    );
    await profiler.warmUp();
    log(`profile: ${SERIAL_JOBS} jobs one at a time`);
    const serial = await profiler.jobsPhase(SERIAL_JOBS, 1);
    const fresh = await profiler.round();
    await profiler.fill(settings.profileFill);
    const grown = await profiler.round();
    await target.stop();
    target = undefined;
    const cpu_by_area: ProfileResult['cpu_by_area'] = {};
    for (const role of ['api', 'worker'] as const) {
      const dir = path.join(profileDir, role);
      const files = fs.existsSync(dir) ? fs.readdirSync(dir).map((f) => path.join(dir, f)) : [];
      if (files.length > 0) cpu_by_area[role] = cpuByArea(files, startUpMs[role] ?? 0);
    }
    const result: ProfileResult = {
      note: NOTE,
      code,
      serial,
      fresh,
      grown,
      cpu_by_area,
    };
    console.log(
      [
        '',
        formatPhase('one job at a time', serial),
        formatRound('fresh', fresh),
        formatRound('grown', grown),
        ...Object.entries(cpu_by_area).map(([role, areas]) => formatAreas(role, areas)),
      ].join('\n'),
    );
    const file = path.join(resultsDir, 'profile.json');
    writeJson(file, result);
    log(`written to ${path.relative(process.cwd(), file)}`);
  } finally {
    await target?.stop();
    await Promise.all(Object.values(counters).map((c) => c.close()));
  }
}

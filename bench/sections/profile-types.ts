/** The profile's results (bench/results/profile.json), shared by the profile and its text form. */
import type { CpuArea } from '../cpu-profile';
import type { HistogramMean } from '../prometheus';
import type { CodeVersion } from '../provenance';
import type { CpuUse } from '../resources';
import type { LatencySummary } from '../stats';
import type { Role } from '../target';

/** Database round trips per unit of work (a request, a job), by command and collection. */
export interface RoundTrips {
  per_unit: number;
  /** Summed time from each command to its reply, per unit. */
  ferretdb_ms_per_unit: number;
  commands: Array<{ command: string; per_unit: number; mean_ms: number }>;
}

/** Jobs run by a fixed number of clients that follow each job to its end. */
export interface JobsPhase {
  jobs: number;
  concurrency: number;
  jobs_per_s: number;
  /** Jobs not terminal after two minutes. */
  stuck: number;
  submit_to_succeeded: LatencySummary;
  /** Means of the Temporal SDK's and Easel's duration histograms over the phase. */
  steps: HistogramMean[];
  cpu: CpuUse;
}

/** One round of measurements, at a known number of jobs already in the database. */
export interface ProfileRound {
  jobs_in_database: number;
  /** `POST /v1/imagine` alone: what the API process does per accepted request. */
  accept_api: RoundTrips;
  /** Everything the worker does per job (start, generate, settle). */
  job_worker: RoundTrips;
  /** The API per job when the client also long-polls the job (`?wait=30`) until it ends. */
  submit_and_follow_api: RoundTrips;
  loaded: JobsPhase;
}

export interface ProfileResult {
  note: string;
  code: CodeVersion;
  /** One job at a time on an (almost) empty database: the floor of a job's latency. */
  serial: JobsPhase;
  fresh: ProfileRound;
  /** The same round after `profileFill` more jobs: how lookups slow down as tables grow. */
  grown: ProfileRound;
  /** JavaScript CPU after start-up, all threads, by package or folder (`node --cpu-prof`); not the Rust core's threads. */
  cpu_by_area: Partial<Record<Role, CpuArea[]>>;
}

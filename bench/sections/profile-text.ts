/** The profile as text: round trips by command, step timings, CPU by area. */
import type { CpuArea } from '../cpu-profile';
import type { JobsPhase, ProfileRound, RoundTrips } from './profile-types';

function formatTrips(name: string, r: RoundTrips): string {
  return [
    `${name}: ${r.per_unit} round trips, ${r.ferretdb_ms_per_unit} ms waiting on FerretDB`,
    ...r.commands.map(
      (c) => `    ${c.per_unit.toFixed(2).padStart(6)} × ${c.command.padEnd(34)} ${c.mean_ms} ms each`,
    ),
  ].join('\n');
}

export function formatPhase(name: string, p: JobsPhase): string {
  return [
    `${name}: ${p.jobs_per_s} jobs/s, submit→succeeded p50 ${p.submit_to_succeeded.p50_ms} ms, ` +
      `p99 ${p.submit_to_succeeded.p99_ms} ms; CPU ms/job ${JSON.stringify(p.cpu.ms_per_unit)}, ` +
      `cores ${p.cpu.cores_busy_pct} % busy`,
    ...p.steps.map((s) => `    ${String(s.mean_ms).padStart(8)} ms  ${s.metric}${s.labels} (×${s.count})`),
  ].join('\n');
}

export function formatAreas(role: string, areas: CpuArea[]): string {
  return [
    `== ${role}: JavaScript CPU after start-up, by area`,
    ...areas.map((a) => `    ${String(a.pct).padStart(5)} %  ${String(a.ms).padStart(8)} ms  ${a.area}`),
  ].join('\n');
}

export function formatRound(name: string, r: ProfileRound): string {
  return [
    `== ${name}: ${r.jobs_in_database} jobs in the database`,
    formatTrips('API per accepted request', r.accept_api),
    formatTrips('worker per job', r.job_worker),
    formatTrips('API per job, submit + long-poll', r.submit_and_follow_api),
    formatPhase(`${r.loaded.concurrency} at a time`, r.loaded),
  ].join('\n');
}

import fs from 'node:fs';
import path from 'node:path';
import { describeCode, describeMachine, type CodeVersion, type Machine } from './provenance';
import type { AcceptRow } from './sections/accept';
import type { BaselineResult } from './sections/baseline';
import type { E2eResult } from './sections/e2e';
import type { LedgerResult } from './sections/ledger';
import type { MemoryResult, RssSample } from './sections/memory';
import type { BenchSettings } from './settings';
import { round } from './stats';

/** Everything one run measured; a section that could not run (remote target) is absent. */
export interface Measurements {
  target: string;
  accept?: AcceptRow[];
  e2e?: E2eResult;
  baseline?: BaselineResult;
  memory?: MemoryResult;
  ledger?: LedgerResult;
  /** Sections that failed, with the error: their figures are missing from the report. */
  errors: Record<string, string>;
}

export interface Target {
  target: string;
  value: number | null;
  /** Null when not measured, or measured over less than the target's range. */
  met: boolean | null;
  note?: string;
}

/** `latest.json`: the headline keys first, then each section in full. */
export interface Report {
  generated_at: string;
  target: string;
  code: CodeVersion;
  accept_p50_ms: number | null;
  accept_p99_ms: number | null;
  accept_rps: number | null;
  /** At the same rate with the worker stopped: the accept path without job execution beside it. */
  accept_p50_ms_worker_paused: number | null;
  accept_p99_ms_worker_paused: number | null;
  e2e_p50_ms: number | null;
  e2e_p99_ms: number | null;
  e2e_jobs_per_s: number | null;
  baseline_jobs_per_s: number | null;
  ratio_vs_baseline: number | null;
  /** Worker RSS; the API's is under rss_api_mb_*. */
  rss_mb_1k: number | null;
  rss_mb_10k: number | null;
  rss_worker_mb_1k: number | null;
  rss_worker_mb_10k: number | null;
  rss_api_mb_1k: number | null;
  rss_api_mb_10k: number | null;
  /** The last RSS read, when the memory section stopped before its last checkpoint. */
  rss_last: RssSample | null;
  ledger_pairs_per_s_hot: number | null;
  ledger_pairs_per_s_spread: number | null;
  targets: {
    e2e_vs_baseline: Target;
    accept_p99_at_50_rps_ms: Target;
    worker_rss_growth_pct: Target;
    api_rss_growth_pct: Target;
  };
  machine: Machine;
  /** The run's settings; of a remote target, only its URL (never the admin token). */
  settings: Omit<BenchSettings, 'remote'> & { remote?: { url: string } };
  accept_table: AcceptRow[] | null;
  e2e: E2eResult | null;
  baseline: BaselineResult | null;
  memory: MemoryResult | null;
  ledger: LedgerResult | null;
  /** Sections that failed, with their error. */
  errors: Record<string, string>;
}

function growthPct(first: number | null | undefined, last: number | null | undefined): number | null {
  if (first === null || first === undefined || last === null || last === undefined) return null;
  return round((100 * (last - first)) / first);
}

function judged(value: number | null, target: string, met: (v: number) => boolean): Target {
  return { target, value, met: value === null ? null : met(value) };
}

/** RSS growth from the first checkpoint to the last, judged only when the run reached the last. */
function rssGrowth(memory: MemoryResult | undefined, key: 'api_mb' | 'worker_mb'): Target {
  const [first, last] = [memory?.checkpoints[0], memory?.checkpoints.at(-1)];
  const value = first && last && first !== last ? growthPct(first[key], last[key]) : null;
  const target = judged(value, '≤ 10', (v) => v <= 10);
  if (!memory?.stopped_early || !first || !last) return target;
  return { ...target, met: null, note: `only ${first.jobs} → ${last.jobs} jobs: ${memory.stopped_early}` };
}

/** `code` is read when the run starts: the processes measured first ran that code. */
export function buildReport(settings: BenchSettings, m: Measurements, code: CodeVersion): Report {
  const atEnd = describeCode().commit;
  const reported = m.accept?.find((r) => r.mode === 'open' && r.offered_rps === settings.accept.reportedRate);
  const saturation = m.accept?.find((r) => r.mode === 'saturation');
  const paused = m.accept?.find(
    (r) => r.mode === 'open_worker_paused' && r.offered_rps === settings.accept.reportedRate,
  );
  const ratio =
    m.e2e && m.baseline && m.baseline.jobs_per_s > 0
      ? round(m.e2e.jobs_per_s / m.baseline.jobs_per_s, 2)
      : null;
  const memory = m.memory;
  const first = memory?.checkpoints.find((c) => c.jobs === settings.memory.checkpoint);
  const last = memory?.checkpoints.find((c) => c.jobs === settings.memory.jobs);
  const { remote, ...rest } = settings;
  return {
    generated_at: new Date().toISOString(),
    target: m.target,
    code: { ...code, ...(atEnd !== code.commit && { commit_at_end: atEnd }) },
    accept_p50_ms: reported?.p50_ms ?? null,
    accept_p99_ms: reported?.p99_ms ?? null,
    accept_rps: saturation?.accepted_rps ?? null,
    accept_p50_ms_worker_paused: paused?.p50_ms ?? null,
    accept_p99_ms_worker_paused: paused?.p99_ms ?? null,
    e2e_p50_ms: m.e2e?.submit_to_succeeded.p50_ms ?? null,
    e2e_p99_ms: m.e2e?.submit_to_succeeded.p99_ms ?? null,
    e2e_jobs_per_s: m.e2e?.jobs_per_s ?? null,
    baseline_jobs_per_s: m.baseline?.jobs_per_s ?? null,
    ratio_vs_baseline: ratio,
    rss_mb_1k: first?.worker_mb ?? null,
    rss_mb_10k: last?.worker_mb ?? null,
    rss_worker_mb_1k: first?.worker_mb ?? null,
    rss_worker_mb_10k: last?.worker_mb ?? null,
    rss_api_mb_1k: first?.api_mb ?? null,
    rss_api_mb_10k: last?.api_mb ?? null,
    rss_last: memory?.stopped_early ? (memory.checkpoints.at(-1) ?? null) : null,
    ledger_pairs_per_s_hot: m.ledger?.hot.pairs_per_s ?? null,
    ledger_pairs_per_s_spread: m.ledger?.spread.pairs_per_s ?? null,
    targets: {
      e2e_vs_baseline: judged(ratio, '≥ 0.7', (v) => v >= 0.7),
      accept_p99_at_50_rps_ms: judged(reported?.p99_ms ?? null, '≤ 50', (v) => v <= 50),
      worker_rss_growth_pct: rssGrowth(memory, 'worker_mb'),
      api_rss_growth_pct: rssGrowth(memory, 'api_mb'),
    },
    machine: describeMachine(),
    settings: { ...rest, ...(remote && { remote: { url: remote.url } }) },
    accept_table: m.accept ?? null,
    e2e: m.e2e ?? null,
    baseline: m.baseline ?? null,
    memory: m.memory ?? null,
    ledger: m.ledger ?? null,
    errors: m.errors,
  };
}

/** Writes a result file (`latest.json`, `profile.json`), its folder created if need be. */
export function writeJson(file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

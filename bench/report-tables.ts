/** The report as Markdown tables: printed at the end of a run and pasted into docs/benchmarks.md. */
import type { Report, Target } from './report';
import type { Accounted, CpuUse } from './resources';
import type { MemoryResult } from './sections/memory';

function markdownTable(headers: string[], rows: Array<Array<string | number>>): string {
  const line = (cells: Array<string | number>): string => `| ${cells.join(' | ')} |`;
  return [line(headers), line(headers.map(() => '---')), ...rows.map(line)].join('\n');
}

const show = (v: number | null | undefined, unit = ''): string =>
  v === null || v === undefined || Number.isNaN(v) ? '—' : `${v}${unit}`;

const verdict = (t: Target): string => (t.met === null ? 'not measured' : t.met ? 'met' : 'MISSED');

const CPU_COLUMNS: Accounted[] = ['api', 'worker', 'temporal', 'ferretdb', 'bench'];

function rssRow(r: Report, who: 'api' | 'worker'): string[] {
  const { checkpoint, jobs } = r.settings.memory;
  const [first, last, growth] =
    who === 'worker'
      ? [r.rss_worker_mb_1k, r.rss_worker_mb_10k, r.targets.worker_rss_growth_pct]
      : [r.rss_api_mb_1k, r.rss_api_mb_10k, r.targets.api_rss_growth_pct];
  const stopped = r.rss_last ? `, ${show(r.rss_last[`${who}_mb`], ' MB')} at ${r.rss_last.jobs}` : '';
  return [
    `${who === 'api' ? 'API' : 'worker'} RSS after ${checkpoint} / ${jobs} jobs`,
    `${show(first, ' MB')} / ${show(last, ' MB')}${stopped} (growth ${show(growth.value, ' %')})`,
    `growth ${growth.target} %: ${verdict(growth)}`,
  ];
}

/** Every 1,000th job of the memory section (and its last): throughput and RSS as tables grow. */
function memorySeries(memory: MemoryResult): string {
  const points = memory.series.filter((p, i) => p.jobs % 1_000 === 0 || i === memory.series.length - 1);
  return markdownTable(
    ['jobs so far', 'jobs/s (batch)', 'FerretDB CPU ms/job', 'worker CPU ms/job', 'API MB', 'worker MB'],
    points.map((p) => [
      p.jobs,
      p.batch_jobs_per_s,
      show(p.cpu_ms_per_job.ferretdb),
      show(p.cpu_ms_per_job.worker),
      show(p.api_mb),
      show(p.worker_mb),
    ]),
  );
}

export function formatReport(r: Report): string {
  const t = r.targets;
  const headline = markdownTable(
    ['measure', 'value', 'target'],
    [
      [
        `accept p50 / p99 at ${r.settings.accept.reportedRate} req/s`,
        `${show(r.accept_p50_ms, ' ms')} / ${show(r.accept_p99_ms, ' ms')}`,
        `p99 ${t.accept_p99_at_50_rps_ms.target} ms: ${verdict(t.accept_p99_at_50_rps_ms)}`,
      ],
      [
        `same, worker paused (jobs wait in Temporal)`,
        `${show(r.accept_p50_ms_worker_paused, ' ms')} / ${show(r.accept_p99_ms_worker_paused, ' ms')}`,
        '',
      ],
      [
        `accept at saturation (${r.settings.accept.saturationConcurrency} callers)`,
        show(r.accept_rps, ' req/s'),
        '',
      ],
      [
        `end to end (${r.settings.e2e.jobs} jobs, ${r.settings.e2e.concurrency} at a time)`,
        show(r.e2e_jobs_per_s, ' jobs/s'),
        '',
      ],
      ['submit → succeeded p50 / p99', `${show(r.e2e_p50_ms, ' ms')} / ${show(r.e2e_p99_ms, ' ms')}`, ''],
      ['bare Temporal baseline (same calls, same concurrency)', show(r.baseline_jobs_per_s, ' jobs/s'), ''],
      [
        'Easel / baseline',
        show(r.ratio_vs_baseline, '×'),
        `${t.e2e_vs_baseline.target}: ${verdict(t.e2e_vs_baseline)}`,
      ],
      rssRow(r, 'worker'),
      rssRow(r, 'api'),
      ['ledger reserve+capture, 1 hot account', show(r.ledger_pairs_per_s_hot, ' pairs/s'), ''],
      [
        `ledger reserve+capture, ${r.settings.ledger.accounts} accounts`,
        show(r.ledger_pairs_per_s_spread, ' pairs/s'),
        '',
      ],
    ],
  );
  const accept = r.accept_table
    ? markdownTable(
        ['load', 'sent', 'accepted/s', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'not 202'],
        r.accept_table.map((row) => [
          row.mode === 'open'
            ? `${row.offered_rps} req/s`
            : row.mode === 'open_worker_paused'
              ? `${row.offered_rps} req/s, worker paused`
              : `saturation, ${row.concurrency} callers`,
          row.sent,
          row.accepted_rps,
          row.p50_ms,
          row.p90_ms,
          row.p99_ms,
          row.max_ms,
          Object.keys(row.refused).length ? JSON.stringify(row.refused) : '0',
        ]),
      )
    : '';
  const cpuRows: Array<[string, CpuUse | undefined]> = [
    ['Easel end to end', r.e2e?.cpu],
    ['bare Temporal', r.baseline?.cpu],
  ];
  const cpu = markdownTable(
    ['CPU ms per job', ...CPU_COLUMNS, 'cores busy', 'other processes'],
    cpuRows
      .filter((row): row is [string, CpuUse] => row[1] !== undefined)
      .map(([name, use]) => [
        name,
        ...CPU_COLUMNS.map((c) => show(use.ms_per_unit[c])),
        `${use.cores_busy_pct} %`,
        show(use.other_processes_pct, ' %'),
      ]),
  );
  const series = r.memory ? memorySeries(r.memory) : '';
  const failed = Object.entries(r.errors ?? {})
    .map(([section, error]) => `**${section} failed:** ${error}`)
    .join('\n');
  return [failed, headline, accept, cpu, series].filter(Boolean).join('\n\n');
}

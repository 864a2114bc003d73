import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { createMetrics } from '../../platform/metrics';

const ROOT = path.resolve(__dirname, '../..');
const DASHBOARDS_DIR = path.join(ROOT, 'infra/grafana/dashboards');
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };
const HISTOGRAM_SUFFIX = /_(bucket|sum|count)$/;

const Target = z.object({ refId: z.string(), expr: z.string().min(1), datasource: z.unknown() });
const Panel = z.object({
  id: z.number().int(),
  type: z.enum(['timeseries', 'stat']),
  title: z.string().min(1),
  datasource: z.unknown(),
  gridPos: z.object({ x: z.number(), y: z.number(), w: z.number(), h: z.number() }),
  targets: z.array(Target).min(1),
});
const Dashboard = z.object({
  uid: z.string().min(1),
  title: z.string().min(1),
  schemaVersion: z.literal(39),
  templating: z.object({
    list: z.array(z.object({ name: z.string(), type: z.string(), query: z.unknown() })),
  }),
  panels: z.array(Panel).min(1),
});
type Dashboard = z.infer<typeof Dashboard>;

/** Every dashboard file, parsed; a file that isn't JSON or lacks the shape Grafana imports fails here. */
function loadDashboards(): { file: string; dashboard: Dashboard }[] {
  return readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const text = readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch (err) {
        throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
      }
      const result = Dashboard.safeParse(json);
      if (!result.success) throw new Error(`${file}: ${z.prettifyError(result.error)}`);
      return { file, dashboard: result.data };
    });
}

const dashboards = loadDashboards();
const exprs = dashboards.flatMap(({ dashboard }) =>
  dashboard.panels.flatMap((p) =>
    p.targets.map((t) => ({ where: `${dashboard.uid} panel ${p.id}`, expr: t.expr })),
  ),
);

async function registeredMetrics(): Promise<Map<string, string>> {
  const { registry } = createMetrics();
  const metrics = await registry.getMetricsAsJSON();
  return new Map(metrics.map((m) => [m.name, String(m.type)]));
}

/** Maps a name used in a query to its registered metric: histograms appear as _bucket, _sum and _count. */
function metricOf(name: string, registered: Map<string, string>): string | undefined {
  if (registered.has(name)) return name;
  const base = name.replace(HISTOGRAM_SUFFIX, '');
  return base !== name && registered.get(base) === 'histogram' ? base : undefined;
}

describe('Grafana dashboards', () => {
  it('ship the overview and providers dashboards with unique uids', () => {
    const uids = dashboards.map((d) => d.dashboard.uid);
    expect(new Set(uids).size).toBe(uids.length);
    expect(uids).toEqual(expect.arrayContaining(['easel-overview', 'easel-providers']));
  });

  it.each(dashboards)(
    '$file has a Prometheus datasource variable used by every panel and target',
    ({ dashboard }) => {
      expect(dashboard.templating.list).toContainEqual(
        expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }),
      );
      for (const panel of dashboard.panels) {
        expect({ panel: panel.id, datasource: panel.datasource }).toEqual({
          panel: panel.id,
          datasource: DATASOURCE,
        });
        for (const target of panel.targets) {
          expect({ panel: panel.id, refId: target.refId, datasource: target.datasource }).toEqual({
            panel: panel.id,
            refId: target.refId,
            datasource: DATASOURCE,
          });
        }
      }
    },
  );

  it.each(dashboards)('$file has unique panel ids and target refIds', ({ dashboard }) => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
    for (const panel of dashboard.panels) {
      const refIds = panel.targets.map((t) => t.refId);
      expect(new Set(refIds).size).toBe(refIds.length);
    }
  });

  it('query only metrics that core/metrics.ts registers', async () => {
    const registered = await registeredMetrics();
    const unknown = exprs.flatMap(({ where, expr }) =>
      (expr.match(/easel_[a-z_]+/g) ?? [])
        .filter((name) => metricOf(name, registered) === undefined)
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
  });

  it('chart every Easel metric (DESIGN §6) on at least one panel', async () => {
    const registered = await registeredMetrics();
    const used = new Set(
      exprs.flatMap(({ expr }) => (expr.match(/easel_[a-z_]+/g) ?? []).map((n) => metricOf(n, registered))),
    );
    // easel_process_* are prom-client's default process metrics, not part of the contract.
    const contract = [...registered.keys()].filter((name) => !name.startsWith('easel_process_'));
    expect(contract.length).toBeGreaterThan(0);
    expect(contract.filter((name) => !used.has(name))).toEqual([]);
  });

  it('use queries that Prometheus parses', () => {
    // Grafana substitutes its interval variables before Prometheus sees a query.
    const rules = exprs.map(({ expr }, i) => ({
      record: `dashboard:query_${i}`,
      expr: expr.replaceAll('$__rate_interval', '5m').replaceAll('$__range', '1h'),
    }));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'easel-dashboards-'));
    try {
      const file = path.join(dir, 'queries.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'dashboard-queries', rules }] }));
      const run = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error('promtool is not on PATH: run infra/prometheus/install-promtool.sh (as root) first.');
      }
      if (run.error) throw run.error;
      const failure = `promtool check rules rejected a dashboard query:\n${run.stdout}${run.stderr}\n${stringify(rules)}`;
      expect(run.status === 0 ? '' : failure).toBe('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('Grafana provisioning', () => {
  it('provides a Prometheus datasource and loads dashboards from files', () => {
    const read = (f: string): unknown =>
      parse(readFileSync(path.join(ROOT, 'infra/grafana/provisioning', f), 'utf8'));
    expect(read('datasources/prometheus.yaml')).toMatchObject({
      apiVersion: 1,
      datasources: [expect.objectContaining({ type: 'prometheus' })],
    });
    expect(read('dashboards/easel.yaml')).toMatchObject({
      apiVersion: 1,
      providers: [
        expect.objectContaining({
          type: 'file',
          options: expect.objectContaining({ path: expect.any(String) }),
        }),
      ],
    });
  });
});

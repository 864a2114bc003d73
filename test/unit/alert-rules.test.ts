import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const ROOT = path.resolve(__dirname, '../..');

/** The alerts the runbooks and on-call rely on; removing one must be a deliberate change here too. */
const EXPECTED_ALERTS = [
  'EaselCircuitBreakerOpen',
  'EaselProviderFailureRateHigh',
  'EaselJobFailureRateHigh',
  'EaselJobsNotCompleting',
  'EaselWorkerBacklogGrowing',
  'EaselNegativeMargin',
];

const AlertRules = z.object({
  groups: z.array(
    z.object({
      name: z.string(),
      rules: z.array(
        z.object({
          alert: z.string(),
          expr: z.string(),
          for: z.string(),
          labels: z.object({ severity: z.enum(['warning', 'critical']) }),
          annotations: z.object({ summary: z.string().min(1), runbook: z.string().min(1) }),
        }),
      ),
    }),
  ),
});

const RuleTests = z.object({
  rule_files: z.array(z.string()),
  tests: z.array(
    z.object({
      name: z.string(),
      alert_rule_test: z
        .array(z.object({ alertname: z.string(), exp_alerts: z.array(z.unknown()) }))
        .default([]),
    }),
  ),
});

/**
 * Runs promtool from the repository root. A missing promtool fails the test rather than skipping it:
 * untested alert rules are how pages go missing.
 */
function promtool(args: string[]): void {
  const run = spawnSync('promtool', args, { cwd: ROOT, encoding: 'utf8' });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('promtool is not on PATH: run infra/prometheus/install-promtool.sh (as root) first.');
  }
  if (run.error) throw run.error;
  if (run.status !== 0) {
    throw new Error(`promtool ${args.join(' ')} exited with ${run.status}:\n${run.stdout}${run.stderr}`);
  }
}

function readYaml(relative: string): unknown {
  return parse(readFileSync(path.join(ROOT, relative), 'utf8'));
}

describe('Prometheus alert rules', () => {
  const rules = AlertRules.parse(readYaml('infra/prometheus/alerts.yml')).groups.flatMap((g) => g.rules);

  it('are valid rules for promtool', () => {
    promtool(['check', 'rules', 'infra/prometheus/alerts.yml']);
  });

  it('are loaded by a valid Prometheus config that scrapes with the metrics token', () => {
    // promtool checks that the token file exists: check a copy with one beside it.
    const dir = mkdtempSync(path.join(tmpdir(), 'easel-prometheus-config-'));
    try {
      for (const file of ['prometheus.yml', 'alerts.yml']) {
        copyFileSync(path.join(ROOT, 'infra/prometheus', file), path.join(dir, file));
      }
      writeFileSync(path.join(dir, 'easel-metrics-token'), 'a-metrics-token-for-the-check\n');
      promtool(['check', 'config', path.join(dir, 'prometheus.yml')]);
      const config = z
        .object({
          scrape_configs: z.array(z.object({ authorization: z.object({ type: z.literal('Bearer') }) })),
        })
        .parse(parse(readFileSync(path.join(dir, 'prometheus.yml'), 'utf8')));
      expect(config.scrape_configs).toHaveLength(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pass their promtool unit tests', () => {
    promtool(['test', 'rules', 'infra/prometheus/alerts.test.yml']);
  });

  it('include every alert the runbooks rely on, each with a severity, a summary and a runbook line', () => {
    // The schema above already demands severity, summary and runbook on every rule.
    expect(rules.map((r) => r.alert).sort()).toEqual([...EXPECTED_ALERTS].sort());
    for (const rule of rules) expect(rule.annotations.runbook).not.toMatch(/\n/);
  });

  it('are each tested both firing and staying quiet', () => {
    const tests = RuleTests.parse(readYaml('infra/prometheus/alerts.test.yml'));
    expect(tests.rule_files).toEqual(['alerts.yml']);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    const missing = rules.flatMap((rule) => {
      const own = cases.filter((c) => c.alertname === rule.alert);
      return [
        ...(own.some((c) => c.exp_alerts.length > 0) ? [] : [`${rule.alert}: no case where it fires`]),
        ...(own.some((c) => c.exp_alerts.length === 0) ? [] : [`${rule.alert}: no exp_alerts: [] case`]),
      ];
    });
    expect(missing).toEqual([]);
  });
});

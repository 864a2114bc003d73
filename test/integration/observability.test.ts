import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { BflFake } from '../fakes/bfl-fake';
import { METRICS_TOKEN, startTestEasel, type TestEasel } from '../support/easel';
import { bflDeployment, waitFor, writeConfig } from '../support/config';
import { samplesOf, startPrometheus, type RunningPrometheus } from '../support/prometheus';
import { WebhookReceiver } from '../support/webhook-receiver';
import type { JobView } from '../../core/jobs/view';

const ROOT = path.resolve(__dirname, '../..');
const DASHBOARDS_DIR = path.join(ROOT, 'infra/grafana/dashboards');
const ALERTS_FILE = path.join(ROOT, 'infra/prometheus/alerts.yml');

/**
 * Panel targets that may come back empty, each with why no test can give it data. Keyed
 * `dashboard uid/panel id/refId`. Everything else must return a series with a finite value.
 */
// Panels allowed to show no data, with the reason. Empty: every panel gets data from the jobs
// this test drives (counters start at zero, and ratios default their numerator to 0).
const MAY_BE_EMPTY = new Map<string, string>([]);

interface PanelTarget {
  where: string;
  title: string;
  expr: string;
}

interface DashboardPanel {
  id: number;
  title: string;
  targets?: Array<{ refId: string; expr?: string }>;
  panels?: DashboardPanel[];
}

/** Every target of every panel (rows' nested panels included) of every provisioned dashboard. */
function panelTargets(): PanelTarget[] {
  const walk = (panels: DashboardPanel[]): DashboardPanel[] =>
    panels.flatMap((p) => [p, ...walk(p.panels ?? [])]);
  return fs
    .readdirSync(DASHBOARDS_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .flatMap((file) => {
      const dashboard = JSON.parse(fs.readFileSync(path.join(DASHBOARDS_DIR, file), 'utf8')) as {
        uid: string;
        panels: DashboardPanel[];
      };
      return walk(dashboard.panels).flatMap((panel) =>
        (panel.targets ?? []).map((t) => ({
          where: `${dashboard.uid}/${panel.id}/${t.refId}`,
          title: panel.title,
          expr: t.expr ?? '',
        })),
      );
    });
}

/**
 * Grafana's built-in interval variables, as Grafana would fill them in for a short range. Any
 * other variable left in an expression is an error: Prometheus could not run what Grafana sends.
 */
function toPromQL(expr: string): string {
  const query = expr.replace(/\$\{?__(rate_interval|interval|range)\}?/g, '1m');
  if (query.includes('$')) throw new Error(`unsubstituted Grafana variable in: ${expr}`);
  return query;
}

function alertRules(): Array<{ alert: string; expr: string }> {
  const file = parse(fs.readFileSync(ALERTS_FILE, 'utf8')) as {
    groups: Array<{ rules: Array<{ alert?: string; record?: string; expr: string }> }>;
  };
  return file.groups.flatMap((g) =>
    g.rules.map((r) => ({ alert: r.alert ?? r.record ?? '?', expr: String(r.expr) })),
  );
}

const BFL_KEY = 'bfl-observability-key';
process.env.TEST_BFL_KEY = BFL_KEY;

const PROMPTS = {
  success: 'obs lighthouse at dawn 4c1e',
  webhook: 'obs heron in fog 9b27',
  schnell: 'obs copper kettle 51d0',
  down: 'obs everything down 2fa8',
  fallback: 'obs fallback harbour 7e63',
  refused: 'obs broke account 0d4b',
};

describe('observability against a real Prometheus scraping a running Easel', () => {
  const a = new BflFake({ apiKey: BFL_KEY, pendingMs: 100 });
  const b = new BflFake({ apiKey: BFL_KEY, pendingMs: 100 });
  const receiver = new WebhookReceiver();
  let easel: TestEasel;
  let prometheus: RunningPrometheus | undefined;
  /** Strings that must never appear in a metric label. */
  const secrets: string[] = [...Object.values(PROMPTS)];

  const metricsText = async (): Promise<string> =>
    (await easel.call<string>('GET', '/metrics', { token: METRICS_TOKEN })).body;
  const sampleSum = (text: string, pattern: RegExp): number =>
    text
      .split('\n')
      .filter((l) => pattern.test(l))
      .reduce((sum, l) => sum + Number(l.split(' ').pop()), 0);

  beforeAll(async () => {
    await Promise.all([a.start(), b.start(), receiver.start()]);
    easel = await startTestEasel({
      env: {
        EASEL_CONFIG: writeConfig({
          // New trial accounts start with nothing, so their first submission is refused with 402.
          catalog: { trial_credits: 0 },
          providers: {
            default_strategy: 'priority',
            deployments: [
              bflDeployment('bfl-a', a, {
                priority: 1,
                models: { 'flux-2-dev': { upstream_model: 'flux-dev', cost_usd_micros: 10_000 } },
                breaker: { volume_threshold: 2, error_threshold_percent: 50, reset_timeout_ms: 60_000 },
              }),
              bflDeployment('bfl-b', b, {
                priority: 2,
                models: {
                  'flux-2-dev': { upstream_model: 'flux-dev', cost_usd_micros: 12_000 },
                  'flux-schnell': { upstream_model: 'flux-dev', cost_usd_micros: 3_000 },
                },
              }),
            ],
          },
        }),
      },
    });
    prometheus = await startPrometheus({
      jobs: [{ name: 'easel-api', targets: [new URL(easel.baseUrl).host], bearerToken: METRICS_TOKEN }],
      ruleFiles: [ALERTS_FILE],
      interval: '1s',
    });
    const running = prometheus;
    await waitFor(
      () => running.activeTargets(),
      (targets) => targets.some((t) => t.health === 'up'),
      15_000,
    );

    const pro = await easel.newAccount('pro');
    await easel.admin('PATCH', `/accounts/${pro.id}`, {
      rate_limits: { requests_per_second: 1_000, concurrent_jobs: 1_000 },
    });
    const broke = await easel.newAccount();
    secrets.push(pro.id, pro.key, broke.id, broke.key);

    const run = async (body: Record<string, unknown>): Promise<JobView> => {
      const submitted = await easel.call<JobView>('POST', '/v1/imagine', { token: pro.key, body });
      if (submitted.status !== 202)
        throw new Error(`submit: ${submitted.status} ${JSON.stringify(submitted.body)}`);
      secrets.push(submitted.body.id);
      return waitFor(
        () =>
          easel
            .call<JobView>('GET', `/v1/jobs/${submitted.body.id}?wait=10`, { token: pro.key })
            .then((r) => r.body),
        (j) => ['succeeded', 'failed', 'canceled'].includes(j.status),
        30_000,
        0,
      );
    };

    // Successes on both deployments, one with a webhook; all on a paid plan, so revenue and cost.
    const healthy = await Promise.all([
      run({ model: 'flux-2-dev', prompt: PROMPTS.success }),
      run({ model: 'flux-2-dev', prompt: PROMPTS.webhook, webhook_url: receiver.url }),
      run({ model: 'flux-schnell', prompt: PROMPTS.schnell }),
    ]);
    expect(healthy.map((j) => `${j.status}@${j.provider}`)).toEqual([
      'succeeded@bfl-a',
      'succeeded@bfl-a',
      'succeeded@bfl-b',
    ]);

    // Every deployment down: the job fails (and its generate activity with it).
    a.inject({ on: 'submit', status: 500 });
    b.inject({ on: 'submit', status: 503 });
    expect((await run({ model: 'flux-2-dev', prompt: PROMPTS.down })).status).toBe('failed');

    // A answers 503 until its breaker opens; every job falls back to B meanwhile. The reset
    // timeout (60 s) outlasts the test, so the breaker is still open when the panels are queried.
    a.inject({ on: 'submit', status: 503, times: 1_000 });
    await waitFor(
      async () => {
        const job = await run({ model: 'flux-2-dev', prompt: PROMPTS.fallback });
        expect(job).toMatchObject({ status: 'succeeded', provider: 'bfl-b' });
        return sampleSum(await metricsText(), /^easel_circuit_breaker_state\{provider="bfl-a"\}/);
      },
      (state) => state === 2,
      30_000,
      0,
    );

    // Refused submissions: the plan's 1 request/s turns one of two at once away with 429; the
    // other reaches the ledger and finds no credits (402).
    const refused = await Promise.all(
      [1, 2].map(() =>
        easel.call('POST', '/v1/imagine', {
          token: broke.key,
          body: { model: 'flux-2-dev', prompt: PROMPTS.refused },
        }),
      ),
    );
    expect(refused.map((r) => r.status).sort()).toEqual([402, 429]);

    await waitFor(
      async () => receiver.deliveries.length,
      (n) => n >= 1,
      20_000,
    );

    // Prometheus has scraped everything the drive produced, and a couple of scrapes more so that
    // rates over the window see the last increments.
    const text = await waitFor(
      () => metricsText(),
      (t) => sampleSum(t, /^easel_webhook_deliveries_total\{/) >= 1,
      20_000,
    );
    const completed = sampleSum(text, /^easel_jobs_completed_total\{/);
    await waitFor(
      async () => samplesOf(await running.query('sum(easel_jobs_completed_total)'))[0]?.value[1],
      (v) => Number(v) === completed,
      15_000,
    );
    await new Promise((r) => setTimeout(r, 2_500));
  }, 90_000);

  afterAll(async () => {
    await prometheus?.stop();
    await easel?.stop();
    await Promise.all([a.close(), b.close(), receiver.close()]);
  });

  it('scrapes the single-process Easel as the easel-api job, up and without errors', async () => {
    const targets = await prometheus!.activeTargets();
    expect(targets).toHaveLength(1);
    expect(targets[0]).toMatchObject({ labels: { job: 'easel-api' }, health: 'up', lastError: '' });
    // One endpoint carries the API's, the worker's and the Temporal SDK's metrics.
    const families = samplesOf(await prometheus!.query('count by (__name__) ({job="easel-api"})')).map(
      (s) => s.metric.__name__,
    );
    expect(families).toEqual(
      expect.arrayContaining([
        'easel_http_requests_total',
        'easel_jobs_completed_total',
        'easel_provider_requests_total',
        'temporal_workflow_completed_total',
      ]),
    );
  });

  it('answers every dashboard panel query with data, bar an allowlist of conditions no test can create', async () => {
    const targets = panelTargets();
    expect(targets.length).toBeGreaterThan(0);
    const problems: string[] = [];
    for (const target of targets) {
      const answer = await prometheus!.query(toPromQL(target.expr));
      if (answer.status !== 'success') {
        problems.push(`${target.where} "${target.title}": ${answer.error}`);
        continue;
      }
      // A ratio or quantile over nothing is NaN: Grafana draws no line, so that is no data either.
      const hasData = samplesOf(answer).some((s) => Number.isFinite(Number(s.value[1])));
      if (!hasData && !MAY_BE_EMPTY.has(target.where)) {
        problems.push(`${target.where} "${target.title}": no data for ${target.expr}`);
      }
    }
    expect(problems).toEqual([]);
    // The one 429 and the one 402 this test caused are counted, not lost to a series' first sample.
    for (const where of ['easel-overview/4/A', 'easel-overview/5/A']) {
      const target = targets.find((t) => t.where === where)!;
      const total = samplesOf(await prometheus!.query(toPromQL(target.expr))).reduce(
        (sum, s) => sum + Number(s.value[1]),
        0,
      );
      expect(total).toBeGreaterThanOrEqual(0.9);
    }
    // A stale allowlist entry hides nothing, but it should name a real target.
    const known = new Set(targets.map((t) => t.where));
    expect([...MAY_BE_EMPTY.keys()].filter((k) => !known.has(k))).toEqual([]);
  });

  it('parses every alert expression, and Prometheus evaluates every rule without error', async () => {
    const rules = alertRules();
    expect(rules.length).toBeGreaterThan(0);
    for (const rule of rules) {
      const answer = await prometheus!.query(rule.expr);
      expect({ alert: rule.alert, status: answer.status }).toEqual({ alert: rule.alert, status: 'success' });
    }
    const evaluated = await waitFor(
      () => prometheus!.rules(),
      (loaded) => loaded.length === rules.length && loaded.every((r) => r.health !== 'unknown'),
      10_000,
    );
    expect(evaluated.map((r) => ({ name: r.name, health: r.health, lastError: r.lastError ?? '' }))).toEqual(
      rules.map((r) => ({ name: r.alert, health: 'ok', lastError: '' })),
    );
  });

  it('keeps account ids, API keys, prompts and job ids out of every metric label', async () => {
    const text = await metricsText();
    expect(secrets.length).toBeGreaterThan(Object.keys(PROMPTS).length);
    expect(secrets.filter((s) => text.includes(s))).toEqual([]);
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { startOnFreePort } from '../../platform/net';

export interface ScrapeJob {
  name: string;
  /** `host:port` targets. */
  targets: string[];
  metricsPath?: string;
  /** Scraped with `Authorization: Bearer <token>` (Easel's EASEL_METRICS_TOKEN). */
  bearerToken?: string;
}

export interface PrometheusOptions {
  jobs: ScrapeJob[];
  /** Absolute paths of rule files Prometheus evaluates. */
  ruleFiles?: string[];
  /** Scrape and rule evaluation interval, e.g. '1s'. */
  interval?: string;
  /** The binary; Debian's `prometheus` package (infra/prometheus/install-promtool.sh) puts it on PATH. */
  binary?: string;
}

/** One sample of an instant query's vector (or a scalar, as a vector of one with no labels). */
export interface QuerySample {
  metric: Record<string, string>;
  value: [number, string];
}

export type QueryAnswer =
  | { status: 'success'; data: { resultType: string; result: unknown } }
  | { status: 'error'; errorType: string; error: string };

export interface ScrapeTarget {
  labels: Record<string, string>;
  scrapeUrl: string;
  health: 'up' | 'down' | 'unknown';
  lastError: string;
  lastScrape: string;
}

export interface RuleView {
  name: string;
  query: string;
  health: string;
  lastError?: string;
  type: 'alerting' | 'recording';
}

export interface RunningPrometheus {
  url: string;
  /** Instant query through the HTTP API; an unparsable expression answers `status: 'error'`. */
  query(expr: string): Promise<QueryAnswer>;
  activeTargets(): Promise<ScrapeTarget[]>;
  rules(): Promise<RuleView[]>;
  /** What the server printed, for failure messages. */
  log(): string;
  /** SIGTERM, then waits for the process to exit (SIGKILL after 10 s); removes its data. */
  stop(): Promise<void>;
}

/** An instant query's answer as samples: a vector as is, a scalar as one unlabelled sample. */
export function samplesOf(answer: QueryAnswer): QuerySample[] {
  if (answer.status !== 'success') return [];
  const { resultType, result } = answer.data;
  if (resultType === 'vector') return result as QuerySample[];
  if (resultType === 'scalar') return [{ metric: {}, value: result as [number, string] }];
  return [];
}

/**
 * A real Prometheus server on a free loopback port, with a generated config and a throw-away TSDB,
 * so tests can run dashboard and alert queries against what Easel actually exposes.
 */
export async function startPrometheus(options: PrometheusOptions): Promise<RunningPrometheus> {
  return startOnFreePort((port) => startPrometheusOn(port, options));
}

async function startPrometheusOn(port: number, options: PrometheusOptions): Promise<RunningPrometheus> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-prometheus-'));
  const interval = options.interval ?? '1s';
  const config = {
    global: { scrape_interval: interval, evaluation_interval: interval, scrape_timeout: interval },
    ...(options.ruleFiles && { rule_files: options.ruleFiles }),
    scrape_configs: options.jobs.map((job) => ({
      job_name: job.name,
      metrics_path: job.metricsPath ?? '/metrics',
      ...(job.bearerToken && { authorization: { type: 'Bearer', credentials: job.bearerToken } }),
      static_configs: [{ targets: job.targets }],
    })),
  };
  const configFile = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configFile, stringify(config));
  const url = `http://127.0.0.1:${port}`;

  let output = '';
  const child: ChildProcess = spawn(
    options.binary ?? 'prometheus',
    [
      `--config.file=${configFile}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.once('error', (err) => {
      output += `\n${String(err)}`;
      resolve(null);
    });
  });
  let running = true;
  void exited.then(() => {
    running = false;
  });

  const stop = async (): Promise<void> => {
    if (running) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(killer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const deadline = Date.now() + 20_000;
  for (;;) {
    if (!running) {
      await stop();
      throw new Error(
        `prometheus exited before it was ready (is Debian's prometheus package installed? ` +
          `infra/prometheus/install-promtool.sh):\n${output}`,
      );
    }
    const ready = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1_000) })
      .then((r) => r.ok)
      .catch(() => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready within 20 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const api = async <T>(pathAndQuery: string, init?: RequestInit): Promise<T> => {
    const res = await fetch(`${url}${pathAndQuery}`, { ...init, signal: AbortSignal.timeout(10_000) });
    return (await res.json()) as T;
  };
  return {
    url,
    query: (expr) =>
      api<QueryAnswer>('/api/v1/query', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ query: expr }).toString(),
      }),
    activeTargets: async () =>
      (await api<{ data: { activeTargets: ScrapeTarget[] } }>('/api/v1/targets?state=active')).data
        .activeTargets,
    rules: async () =>
      (await api<{ data: { groups: Array<{ rules: RuleView[] }> } }>('/api/v1/rules')).data.groups.flatMap(
        (g) => g.rules,
      ),
    log: () => output,
    stop,
  };
}

import http from 'node:http';
import { bearerTokenOf, tokensEqual } from './ids';
import type { Metrics } from './metrics';

/** Easel's registry followed by the Temporal SDK's own metrics (served by its core on loopback). */
export async function metricsText(metrics: Metrics, temporalMetricsUrl?: string): Promise<string> {
  const ours = await metrics.registry.metrics();
  if (!temporalMetricsUrl) return ours;
  try {
    const res = await fetch(temporalMetricsUrl, { signal: AbortSignal.timeout(2_000) });
    return `${ours}\n${await res.text()}`;
  } catch {
    return ours; // the SDK's exporter may not be up yet; ours are still worth serving
  }
}

/** Each dependency's state, by name (what `/readyz` shows). */
export type ReadinessChecks = Record<string, { ok: boolean; error?: string }>;

/**
 * The worker's own HTTP endpoints when it runs as a separate process: `/metrics` behind the same
 * bearer token as the API's (`token` unset: every scrape is refused), `/healthz` (the process
 * answers) and `/readyz` (its dependencies and its Temporal poller, for a load balancer or a
 * Kubernetes probe: what is down is named, why only in the worker's log).
 */
export async function serveWorkerEndpoints(
  metrics: Metrics,
  temporalMetricsUrl: string | undefined,
  listen: { host: string; port: number; token: string | undefined },
  readiness: () => Promise<ReadinessChecks>,
): Promise<http.Server> {
  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    const path = req.url?.split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      json(res, 405, { error: { code: 'method_not_allowed', message: 'Only GET is served here.' } });
      return;
    }
    if (path === '/healthz') {
      json(res, 200, { status: 'ok' });
      return;
    }
    if (path === '/readyz') {
      void readiness().then(
        (checks) => {
          const down = Object.entries(checks)
            .filter(([, c]) => !c.ok)
            .map(([name]) => name);
          const shown = Object.fromEntries(Object.entries(checks).map(([name, c]) => [name, { ok: c.ok }]));
          json(res, down.length === 0 ? 200 : 503, {
            status: down.length === 0 ? 'ready' : 'unavailable',
            down,
            checks: shown,
          });
        },
        () => json(res, 503, { status: 'unavailable', down: ['readiness'], checks: {} }),
      );
      return;
    }
    if (path !== '/metrics') {
      json(res, 404, {
        error: { code: 'not_found', message: 'The worker serves /metrics, /healthz and /readyz.' },
      });
      return;
    }
    const given = bearerTokenOf(req.headers.authorization);
    if (!listen.token || !given || !tokensEqual(given, listen.token)) {
      const message = listen.token
        ? 'Missing or invalid token: send Authorization: Bearer $EASEL_METRICS_TOKEN.'
        : 'Scraping is disabled: EASEL_METRICS_TOKEN is not set.';
      json(res, 401, { error: { code: 'unauthorized', message } });
      return;
    }
    void metricsText(metrics, temporalMetricsUrl).then((text) => {
      res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port, listen.host, resolve);
  });
  return server;
}

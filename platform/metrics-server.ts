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

/**
 * The worker's own /metrics when it runs as a separate process, behind the same bearer token as
 * the API's (`token` unset: every scrape is refused).
 */
export async function serveMetrics(
  metrics: Metrics,
  temporalMetricsUrl: string | undefined,
  listen: { host: string; port: number; token: string | undefined },
): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    const given = bearerTokenOf(req.headers.authorization);
    if (!listen.token || !given || !tokensEqual(given, listen.token)) {
      const message = listen.token
        ? 'Missing or invalid token: send Authorization: Bearer $EASEL_METRICS_TOKEN.'
        : 'Scraping is disabled: EASEL_METRICS_TOKEN is not set.';
      res
        .writeHead(401, { 'Content-Type': 'application/json' })
        .end(JSON.stringify({ error: { code: 'unauthorized', message } }));
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

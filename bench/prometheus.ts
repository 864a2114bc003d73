/** Prometheus text exposition, flattened: `name{labels}` → value. */
export type Samples = Map<string, number>;

const SAMPLE_LINE = /^([a-zA-Z_:][\w:]*)(\{.*\})?\s+(\S+)/;

export function parseSamples(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) samples.set(`${match[1]}${match[2] ?? ''}`, value);
  }
  return samples;
}

export async function scrape(url: string, token: string): Promise<Samples> {
  const res = await fetch(url, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(5_000),
  });
  if (!res.ok) throw new Error(`scrape of ${url}: ${res.status} ${await res.text()}`);
  return parseSamples(await res.text());
}

/** The mean of one histogram series over a phase. */
export interface HistogramMean {
  metric: string;
  labels: string;
  count: number;
  mean_ms: number;
}

/**
 * Mean duration, over what happened between two scrapes, of every `*_seconds` histogram whose
 * name passes `keep` (one row per label set that saw observations).
 */
export function histogramMeans(
  before: Samples,
  after: Samples,
  keep: (metric: string) => boolean,
): HistogramMean[] {
  const rows: HistogramMean[] = [];
  for (const [key, sum] of after) {
    const match = /^(\w+_seconds)_sum(\{.*\})?$/.exec(key);
    if (!match || !keep(match[1]!)) continue;
    const labels = match[2] ?? '';
    const countKey = `${match[1]}_count${labels}`;
    const count = (after.get(countKey) ?? 0) - (before.get(countKey) ?? 0);
    if (count <= 0) continue;
    const seconds = sum - (before.get(key) ?? 0);
    rows.push({ metric: match[1]!, labels, count, mean_ms: Math.round((seconds / count) * 10_000) / 10 });
  }
  return rows.sort((a, b) => a.metric.localeCompare(b.metric) || a.labels.localeCompare(b.labels));
}

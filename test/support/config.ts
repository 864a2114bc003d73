import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Writes an EASEL_CONFIG file (JSON is valid YAML) and returns its path. */
export function writeConfig(config: unknown): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'easel-config-')), 'easel.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
  return file;
}

/**
 * A BFL deployment against a fake on loopback (it opts in to private addresses), its key read
 * from TEST_BFL_KEY; `extra` overrides any field (models, timeout, breaker…).
 */
export function bflDeployment(
  id: string,
  fake: { url: string },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id,
    type: 'bfl',
    base_url: fake.url,
    allow_private_network: true,
    api_key_env: 'TEST_BFL_KEY',
    models: { 'flux-2-dev': { upstream_model: 'flux-dev', cost_usd_micros: 25_000 } },
    timeout_ms: 5_000,
    options: { poll_interval_ms: 100 },
    ...extra,
  };
}

/** A sandbox deployment serving every model, with the given adapter options. */
export function sandboxProviders(options: Record<string, unknown> = {}): unknown {
  const models = [
    'flux-2-dev',
    'flux-schnell',
    'nano-banana',
    'gpt-image-1',
    'flux-2-flex',
    'nano-banana-2',
    'midjourney',
    'flux-2-max',
    'ideogram-v3',
  ];
  return {
    deployments: [
      {
        id: 'sandbox',
        type: 'sandbox',
        models: Object.fromEntries(models.map((m) => [m, { upstream_model: m, cost_usd_micros: 0 }])),
        timeout_ms: 60_000,
        options: { latency_ms: 200, ...options },
      },
    ],
  };
}

export const waitFor = async <T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 30_000,
  everyMs = 200,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value)) {
    if (Date.now() > deadline)
      throw new Error(`condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, everyMs));
    value = await probe();
  }
  return value;
};

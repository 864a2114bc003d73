import { buildCatalog } from '../../core/catalog';
import { buildProviderConfig, type ProviderConfig } from '../../routing/deployments';
import { routingPlan, weightedOrder } from '../../routing/plan';
import { PROVIDER_TYPES } from '../../providers/registry';

const catalog = buildCatalog(undefined);

function config(routing: Record<string, { strategy: string }> = {}): ProviderConfig {
  const deployment = (id: string, extra: Record<string, unknown>) => ({
    id,
    type: 'sandbox',
    models: { 'flux-2-dev': { upstream_model: 'x', cost_usd_micros: (extra.cost as number) ?? 0 } },
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'cost')),
  });
  return buildProviderConfig(
    {
      deployments: [
        deployment('a', { weight: 3, priority: 2, cost: 30_000 }),
        deployment('b', { weight: 1, priority: 1, cost: 10_000 }),
        deployment('c', { weight: 1, priority: 3, cost: 20_000 }),
      ],
      routing,
    },
    catalog,
    PROVIDER_TYPES,
  );
}

/** A deterministic random source (mulberry32) so the split is reproducible. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('routing plans', () => {
  it('splits first picks by weight (3:1:1) and still lists every deployment as a fallback', () => {
    const random = seeded(7);
    const weighted = config();
    const firsts: Record<string, number> = { a: 0, b: 0, c: 0 };
    for (let i = 0; i < 5_000; i++) {
      const plan = routingPlan('flux-2-dev', weighted, { random });
      expect(plan.deployments.map((d) => d.id).sort()).toEqual(['a', 'b', 'c']);
      firsts[plan.deployments[0]!.id]! += 1;
    }
    expect(firsts.a! / 5_000).toBeCloseTo(0.6, 1);
    expect(firsts.b! / 5_000).toBeCloseTo(0.2, 1);
  });

  it('orders by upstream cost, by priority, and by measured latency (unmeasured first)', () => {
    expect(
      routingPlan('flux-2-dev', config({ 'flux-2-dev': { strategy: 'cheapest' } })).deployments.map(
        (d) => d.id,
      ),
    ).toEqual(['b', 'c', 'a']);
    expect(
      routingPlan('flux-2-dev', config({ 'flux-2-dev': { strategy: 'priority' } })).deployments.map(
        (d) => d.id,
      ),
    ).toEqual(['b', 'a', 'c']);
    const latency: Record<string, number> = { a: 900, b: 300 };
    const fastest = routingPlan('flux-2-dev', config({ 'flux-2-dev': { strategy: 'fastest' } }), {
      stats: (id) => (latency[id] === undefined ? undefined : { latencyMs: latency[id] }),
    });
    expect(fastest.deployments.map((d) => d.id)).toEqual(['c', 'b', 'a']);
  });

  it('falls back to the last item when rounding leaves the pick past the total', () => {
    expect(weightedOrder([{ weight: 1 }, { weight: 1 }], () => 0.9999999999).length).toBe(2);
  });
});

describe('deployment configuration', () => {
  it('names a bad field, an unknown provider type and a model no deployment serves', () => {
    expect(() =>
      buildProviderConfig(
        {
          deployments: [
            { id: 'x', type: 'nope', models: { 'flux-2-dev': { upstream_model: 'm', cost_usd_micros: 1 } } },
          ],
        },
        catalog,
        PROVIDER_TYPES,
      ),
    ).toThrow(/providers\.deployments\.0 \(x\)\.type: unknown provider type "nope"/);
    expect(() =>
      buildProviderConfig(
        { deployments: [{ id: 'x', type: 'sandbox', models: {}, api_key_env: 'sk-123' }] },
        catalog,
        PROVIDER_TYPES,
      ),
    ).toThrow(/api_key_env: name an environment variable/);
    const partial = buildProviderConfig(
      {
        deployments: [
          { id: 'x', type: 'sandbox', models: { 'flux-2-dev': { upstream_model: 'm', cost_usd_micros: 1 } } },
        ],
      },
      catalog,
      PROVIDER_TYPES,
    );
    expect(partial.unservedModels).toContain('ideogram-v3');
    expect(partial.unservedModels).not.toContain('flux-2-dev');
  });

  it('serves every model from the sandbox when no deployment is configured', () => {
    const c = buildProviderConfig(undefined, catalog, PROVIDER_TYPES);
    expect(c.sandboxOnly).toBe(true);
    expect(c.unservedModels).toEqual([]);
  });

  it('gives a vendor key in the environment its deployment and leaves the rest to the sandbox', () => {
    const c = buildProviderConfig(undefined, catalog, PROVIDER_TYPES, 'defaults', {
      GEMINI_API_KEY: 'g',
      OPENAI_API_KEY: 'o',
      OPENAI_BASE_URL: 'https://openai-proxy.example.com',
    });
    expect(c.sandboxOnly).toBe(false);
    const byId = Object.fromEntries(c.deployments.map((d) => [d.id, d]));
    expect(Object.keys(byId).sort()).toEqual(['gemini', 'openai', 'sandbox']);
    expect(byId.openai).toMatchObject({
      type: 'openai',
      api_key_env: 'OPENAI_API_KEY',
      base_url: 'https://openai-proxy.example.com',
      models: { 'gpt-image-1': { upstream_model: 'gpt-image-1' } },
    });
    expect(byId.gemini?.models['nano-banana']?.upstream_model).toBe('gemini-2.5-flash-image');
    expect(byId.gemini?.base_url).toBeUndefined();
    expect(c.sandboxModels).not.toContain('gpt-image-1');
    expect(c.sandboxModels).not.toContain('nano-banana-2');
    expect(c.sandboxModels).toContain('midjourney');
    expect(c.unservedModels).toEqual([]);
  });

  it('makes an Azure deployment only when its key, endpoint and deployment name are all set', () => {
    const partial = buildProviderConfig(undefined, catalog, PROVIDER_TYPES, 'defaults', {
      AZURE_OPENAI_API_KEY: 'a',
      AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com',
    });
    expect(partial.deployments.map((d) => d.id)).toEqual(['sandbox']);
    const full = buildProviderConfig(undefined, catalog, PROVIDER_TYPES, 'defaults', {
      AZURE_OPENAI_API_KEY: 'a',
      AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com',
      AZURE_OPENAI_IMAGE_DEPLOYMENT: 'img-east',
    });
    expect(full.deployments.find((d) => d.id === 'azure-openai')).toMatchObject({
      base_url: 'https://res.openai.azure.com',
      models: { 'gpt-image-1': { upstream_model: 'img-east' } },
    });
  });

  it('lets a config file that names deployments replace the zero-config ones', () => {
    const c = buildProviderConfig(
      {
        deployments: [
          {
            id: 'only',
            type: 'sandbox',
            models: { 'flux-2-dev': { upstream_model: 'x', cost_usd_micros: 0 } },
          },
        ],
      },
      catalog,
      PROVIDER_TYPES,
      'file',
      { OPENAI_API_KEY: 'o' },
    );
    expect(c.deployments.map((d) => d.id)).toEqual(['only']);
    expect(c.unservedModels).toContain('gpt-image-1');
  });
});

describe('least_busy routing', () => {
  const deployment = (id: string, extra: Record<string, unknown>) => ({
    id,
    type: 'sandbox',
    models: { 'flux-2-dev': { upstream_model: 'x', cost_usd_micros: 0 } },
    ...extra,
  });
  const c = buildProviderConfig(
    {
      deployments: [
        deployment('gpu', { max_concurrency: 2, priority: 1 }),
        deployment('hosted', { weight: 4, priority: 2 }),
      ],
      routing: { 'flux-2-dev': { strategy: 'least_busy' } },
    },
    catalog,
    PROVIDER_TYPES,
  );

  it('prefers the deployment with the fewest calls in flight for its capacity, the owned one on a tie', () => {
    const order = (busy: Record<string, number>) =>
      routingPlan('flux-2-dev', c, { busy: new Map(Object.entries(busy)) }).deployments.map((d) => d.id);
    expect(order({})).toEqual(['gpu', 'hosted']);
    expect(order({ gpu: 1, hosted: 1 })).toEqual(['hosted', 'gpu']); // 1/2 against 1/4
    expect(order({ gpu: 1, hosted: 2 })).toEqual(['gpu', 'hosted']); // a tie: priority
    expect(order({ gpu: 2, hosted: 0 })).toEqual(['hosted', 'gpu']);
  });
});

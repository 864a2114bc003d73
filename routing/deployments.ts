import { z } from 'zod';
import type { Catalog } from '../core/catalog';
import { catalogModel, formatIssues } from '../core/catalog';
import { ConfigurationError } from '../platform/config';
import { ZERO_CONFIG_DEPLOYMENTS } from './zero-config';
import { createOutboundPolicy, type OutboundPolicy, type OutboundPolicyOptions } from '../platform/outbound';

/**
 * Provider deployments: where each catalog model can be generated. A deployment is one upstream
 * account at one provider (type), with the models it serves, what each image costs us upstream,
 * and how to route and protect calls to it. Credentials are named by environment variable, never
 * written in the config file.
 */

const slug = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, ".", "_" or "-"');

export const breakerSettingsSchema = z.strictObject({
  /** Percentage of failed calls in the rolling window that opens the breaker. */
  error_threshold_percent: z.number().min(1).max(100).default(50),
  /** Calls needed in the window before the percentage counts. */
  volume_threshold: z.number().int().min(1).default(5),
  /** How long an open breaker fails fast before letting one probe through (half-open). */
  reset_timeout_ms: z.number().int().min(100).default(30_000),
  rolling_window_ms: z.number().int().min(1_000).default(60_000),
});
export type BreakerSettings = z.infer<typeof breakerSettingsSchema>;

export const deploymentSchema = z.strictObject({
  id: slug,
  type: z.string().min(1),
  base_url: z.url().optional(),
  /** Name of the environment variable holding the API key. */
  api_key_env: z
    .string()
    .regex(/^[A-Z_][A-Z0-9_]*$/, 'name an environment variable (e.g. BFL_API_KEY), not the key itself')
    .optional(),
  models: z.record(
    slug,
    z.strictObject({
      upstream_model: z.string().min(1),
      /** What one image costs us upstream, in integer micro-dollars. */
      cost_usd_micros: z.number().int().nonnegative(),
    }),
  ),
  weight: z.number().positive().default(1),
  /** Lower runs first under the `priority` strategy. */
  priority: z.number().int().default(0),
  /** Budget for one attempt on this deployment, submit to images (async polling included). */
  timeout_ms: z.number().int().min(100).default(120_000),
  /** Calls in flight at once on this deployment across every worker (a GPU box's capacity). */
  max_concurrency: z.number().int().positive().optional(),
  /**
   * At max_concurrency: `fallback` goes on to the next deployment at once, `wait` waits for a free
   * slot (within timeout_ms) — for the team's own GPUs first, hosted APIs only when they are down.
   */
  overflow: z.enum(['fallback', 'wait']).default('fallback'),
  requests_per_second: z.number().positive().optional(),
  breaker: breakerSettingsSchema.prefault({}),
  /** Try the next deployment after a content-policy refusal here (default: the job fails). */
  retry_on_content_policy: z.boolean().default(false),
  /**
   * The deployment is on a private network on purpose (a ComfyUI box on the LAN): its calls and
   * the downloads of its results may go to private and loopback addresses. Never the default.
   */
  allow_private_network: z.boolean().default(false),
  /** Adapter-specific options, validated by the adapter. */
  options: z.record(z.string(), z.unknown()).default({}),
});
export type Deployment = z.infer<typeof deploymentSchema>;

export const STRATEGIES = ['weighted', 'cheapest', 'fastest', 'priority', 'least_busy'] as const;
export type RoutingStrategy = (typeof STRATEGIES)[number];

const providersSectionSchema = z.strictObject({
  deployments: z.array(deploymentSchema).default([]),
  routing: z.record(slug, z.strictObject({ strategy: z.enum(STRATEGIES) })).default({}),
  default_strategy: z.enum(STRATEGIES).default('weighted'),
});

export interface ProviderConfig {
  deployments: Deployment[];
  routing: Record<string, { strategy: RoutingStrategy }>;
  default_strategy: RoutingStrategy;
  /** True when no deployment was configured and the built-in sandbox serves every model. */
  sandboxOnly: boolean;
  /** Catalog models the built-in sandbox serves (no real deployment does). */
  sandboxModels: string[];
  /** Catalog models no deployment serves: submissions for them are refused with a clear error. */
  unservedModels: string[];
}

/** The built-in sandbox, serving the catalog models (default: all) that no real deployment serves. */
export function defaultSandboxDeployment(catalog: Catalog, models = Object.keys(catalog.models)): Deployment {
  return deploymentSchema.parse({
    id: 'sandbox',
    type: 'sandbox',
    models: Object.fromEntries(models.map((m) => [m, { upstream_model: m, cost_usd_micros: 0 }])),
    timeout_ms: 60_000,
    options: { latency_ms: 1_000 },
  });
}

/**
 * The deployments the environment's vendor keys give when the config file names none
 * (ZERO_CONFIG_DEPLOYMENTS): one per vendor whose variables are all set.
 */
export function zeroConfigDeployments(
  catalog: Catalog,
  env: Readonly<Record<string, string | undefined>>,
): Deployment[] {
  const set = (name: string): string | undefined => (env[name]?.trim() ? env[name].trim() : undefined);
  return ZERO_CONFIG_DEPLOYMENTS.filter((z) => z.env.every((name) => set(name) !== undefined)).map((z) => {
    const baseUrl = set(z.base_url_env);
    return deploymentSchema.parse({
      id: z.id,
      type: z.type,
      api_key_env: z.env[0],
      ...(baseUrl !== undefined && { base_url: baseUrl }),
      models: Object.fromEntries(
        Object.entries(z.models)
          .filter(([model]) => catalogModel(catalog, model))
          .map(([model, m]) => [
            model,
            {
              upstream_model: m.upstream_model_env ? set(m.upstream_model_env) : m.upstream_model,
              cost_usd_micros: m.cost_usd_micros,
            },
          ]),
      ),
    });
  });
}

export function buildProviderConfig(
  section: unknown,
  catalog: Catalog,
  knownTypes: readonly string[],
  source = 'EASEL_CONFIG',
  env: Readonly<Record<string, string | undefined>> = {},
): ProviderConfig {
  const parsed = providersSectionSchema.safeParse(section ?? {});
  if (!parsed.success) {
    throw new ConfigurationError(
      formatIssues(
        source,
        parsed.error.issues.map((i) => ({ ...i, path: ['providers', ...i.path] })),
      ),
    );
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  parsed.data.deployments.forEach((d, i) => {
    const where = `providers.deployments.${i} (${d.id})`;
    if (seen.has(d.id)) problems.push(`${where}.id: duplicate deployment id "${d.id}"`);
    seen.add(d.id);
    if (!knownTypes.includes(d.type))
      problems.push(`${where}.type: unknown provider type "${d.type}" (known: ${knownTypes.join(', ')})`);
    for (const model of Object.keys(d.models)) {
      if (!catalogModel(catalog, model)) problems.push(`${where}.models.${model}: not a catalog model`);
    }
    if (Object.keys(d.models).length === 0) problems.push(`${where}.models: serves no model`);
  });
  for (const model of Object.keys(parsed.data.routing)) {
    if (!catalogModel(catalog, model)) problems.push(`providers.routing.${model}: not a catalog model`);
  }
  if (problems.length > 0)
    throw new ConfigurationError(`Invalid configuration in ${source}:\n  ${problems.join('\n  ')}`);

  // Without deployments in the file: the vendors whose keys are set, and the sandbox for the rest.
  let deployments = parsed.data.deployments;
  let sandboxModels: string[] = [];
  if (deployments.length === 0) {
    deployments = zeroConfigDeployments(catalog, env);
    const real = new Set(deployments.flatMap((d) => Object.keys(d.models)));
    sandboxModels = Object.keys(catalog.models).filter((m) => !real.has(m));
    if (sandboxModels.length > 0)
      deployments = [...deployments, defaultSandboxDeployment(catalog, sandboxModels)];
  }
  const served = new Set(deployments.flatMap((d) => Object.keys(d.models)));
  return {
    deployments,
    routing: parsed.data.routing,
    default_strategy: parsed.data.default_strategy,
    sandboxOnly: deployments.every((d) => d.type === 'sandbox'),
    sandboxModels,
    unservedModels: Object.keys(catalog.models).filter((m) => !served.has(m)),
  };
}

export function strategyFor(config: ProviderConfig, model: string): RoutingStrategy {
  const routing = Object.hasOwn(config.routing, model) ? config.routing[model] : undefined;
  return routing?.strategy ?? config.default_strategy;
}

/**
 * Whether calls to a deployment are counted fleet-wide (routing/leases.ts): it has a
 * max_concurrency, or a model it serves is routed `least_busy`.
 */
export function countsInFlight(config: ProviderConfig, deployment: Deployment): boolean {
  return (
    deployment.max_concurrency !== undefined ||
    Object.keys(deployment.models).some((m) => strategyFor(config, m) === 'least_busy')
  );
}

export function deploymentsFor(config: ProviderConfig, model: string): Deployment[] {
  return config.deployments.filter((d) => Object.hasOwn(d.models, model));
}

/**
 * Each deployment's outbound policy (its adapter's calls, the upstream's polling URLs and the
 * downloads of its results), private addresses allowed only where the deployment says so.
 */
export function createOutboundPolicies(
  deployments: readonly Deployment[],
  base: Omit<OutboundPolicyOptions, 'allowPrivate'> = {},
): Map<string, OutboundPolicy> {
  return new Map(
    deployments.map((d) => [d.id, createOutboundPolicy({ ...base, allowPrivate: d.allow_private_network })]),
  );
}

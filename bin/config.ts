import { buildCatalog, type Catalog } from '../core/catalog';
import { ConfigurationError, readConfigFile, type Environment } from '../platform/config';
import { buildProviderConfig, type ProviderConfig } from '../routing/deployments';
import { createProvider, PROVIDER_TYPES } from '../providers/registry';
import type { ImageProvider } from '../providers/types';
import type { OutboundPolicy } from '../platform/outbound';

/** Loads the config file (if any). Bad config stops start-up with the field that is wrong. */
export function loadConfig(env: Environment): { catalog: Catalog; providers: ProviderConfig } {
  const file = env.EASEL_CONFIG
    ? (readConfigFile(env.EASEL_CONFIG) as { catalog?: unknown; providers?: unknown } | null)
    : null;
  const source = env.EASEL_CONFIG ?? 'defaults';
  const catalog = buildCatalog(file?.catalog, source);
  const providers = buildProviderConfig(file?.providers, catalog, PROVIDER_TYPES, source, process.env);
  return { catalog, providers };
}

/**
 * One adapter per deployment, with its credentials read from the variable the config names and
 * its HTTP calls made under the deployment's outbound policy (createOutboundPolicies).
 */
export function createAdapters(
  config: ProviderConfig,
  outbound?: ReadonlyMap<string, OutboundPolicy>,
): Map<string, ImageProvider> {
  const adapters = new Map<string, ImageProvider>();
  for (const d of config.deployments) {
    const apiKey = d.api_key_env ? process.env[d.api_key_env] : undefined;
    if (d.api_key_env && !apiKey) {
      throw new ConfigurationError(
        `Deployment ${d.id}: environment variable ${d.api_key_env} (its API key) is not set.`,
      );
    }
    adapters.set(
      d.id,
      createProvider(d.type, {
        deploymentId: d.id,
        options: d.options,
        ...(d.base_url !== undefined && { baseUrl: d.base_url }),
        ...(apiKey !== undefined && { apiKey }),
        ...(outbound?.has(d.id) && {
          fetch: outbound.get(d.id)!.fetch,
          dispatcher: outbound.get(d.id)!.dispatcher,
        }),
      }),
    );
  }
  return adapters;
}

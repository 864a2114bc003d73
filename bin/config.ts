import { buildCatalog, type Catalog } from '../core/catalog';
import { ConfigurationError, readConfigFile, type Environment } from '../platform/config';
import { buildProviderConfig, type ProviderConfig } from '../routing/deployments';
import { createProvider, PROVIDER_TYPES } from '../providers/registry';
import { fetchImageBytes } from '../providers/shared';
import type { ImageProvider, ProviderSettings } from '../providers/types';
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

/** Reads one of Easel's own image URLs from its store; undefined for any other URL. */
export type OwnImageReader = (url: string) => Promise<{ bytes: Uint8Array; contentType: string } | undefined>;

/**
 * One adapter per deployment, with its credentials read from the variable the config names and
 * its HTTP calls made under the deployment's outbound policy (createOutboundPolicies). Reference
 * images an adapter needs as bytes are read from Easel's own store when they are Easel's URLs
 * (`ownImages`: the uploads of /v1/images/edits, which the policy would refuse as a private
 * address), and downloaded under the policy otherwise.
 */
export function createAdapters(
  config: ProviderConfig,
  outbound?: ReadonlyMap<string, OutboundPolicy>,
  ownImages?: OwnImageReader,
): Map<string, ImageProvider> {
  const adapters = new Map<string, ImageProvider>();
  for (const d of config.deployments) {
    const apiKey = d.api_key_env ? process.env[d.api_key_env] : undefined;
    if (d.api_key_env && !apiKey) {
      throw new ConfigurationError(
        `Deployment ${d.id}: environment variable ${d.api_key_env} (its API key) is not set.`,
      );
    }
    const policy = outbound?.get(d.id);
    const download = fetchImageBytes(policy?.fetch ?? fetch, d.type);
    const fetchImage: ProviderSettings['fetchImage'] = ownImages
      ? async (url, signal) => (await ownImages(url)) ?? download(url, signal)
      : undefined;
    adapters.set(
      d.id,
      createProvider(d.type, {
        deploymentId: d.id,
        options: d.options,
        ...(d.base_url !== undefined && { baseUrl: d.base_url }),
        ...(apiKey !== undefined && { apiKey }),
        ...(policy && { fetch: policy.fetch, dispatcher: policy.dispatcher }),
        ...(fetchImage && { fetchImage }),
      }),
    );
  }
  return adapters;
}

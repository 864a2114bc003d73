import { createBflProvider } from './bfl';
import { createSandboxProvider } from './sandbox';
import type { ImageProvider, ProviderSettings } from './types';

/** Every adapter, by the `type` a deployment names in config. A new provider is one folder and one line here. */
export const providerFactories = {
  sandbox: createSandboxProvider,
  bfl: createBflProvider,
} satisfies Record<string, (settings: ProviderSettings) => ImageProvider>;

export type ProviderType = keyof typeof providerFactories;

export const PROVIDER_TYPES = Object.keys(providerFactories) as ProviderType[];

export function isProviderType(type: string): type is ProviderType {
  return Object.prototype.hasOwnProperty.call(providerFactories, type);
}

/** Builds the adapter for a deployment; throws naming the known types when `type` is not one of them. */
export function createProvider(type: string, settings: ProviderSettings): ImageProvider {
  if (!isProviderType(type)) {
    throw new Error(
      `deployment "${settings.deploymentId}": unknown provider type "${type}" (known: ${PROVIDER_TYPES.join(', ')})`,
    );
  }
  const factory: (settings: ProviderSettings) => ImageProvider = providerFactories[type];
  return factory(settings);
}

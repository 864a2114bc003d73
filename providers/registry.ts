import { azureOpenaiCapabilities, createAzureOpenaiProvider } from './azure-openai';
import { bflCapabilities, createBflProvider } from './bfl';
import { comfyuiCapabilities, createComfyuiProvider } from './comfyui';
import { createFalProvider, falCapabilities } from './fal';
import { createGeminiProvider, geminiCapabilities } from './gemini';
import { createIdeogramProvider, ideogramCapabilities } from './ideogram';
import { createJourneyapiProvider, journeyapiCapabilities } from './journeyapi';
import { createMidjourneyProxyProvider, midjourneyProxyCapabilities } from './midjourney-proxy';
import { createOpenaiProvider, openaiCapabilities } from './openai';
import { createReplicateProvider, replicateCapabilities } from './replicate';
import { createSandboxProvider, SANDBOX_CAPABILITIES } from './sandbox';
import { createTogetherProvider, togetherCapabilities } from './together';
import type { ImageProvider, ModelCapabilities, ProviderSettings } from './types';

/** One adapter type: how to build it for a deployment, and what it can do without being built. */
interface ProviderType {
  create(settings: ProviderSettings): ImageProvider;
  /**
   * What a deployment of this type can do for an upstream model given its options: the API asks
   * before reserving anything, without the deployment's credentials (they live with the worker).
   */
  capabilities(upstreamModel: string, options: Record<string, unknown>): ModelCapabilities;
}

/** Every adapter, by the `type` a deployment names in config. A new provider is one folder and one line here. */
export const providerTypes = {
  sandbox: { create: createSandboxProvider, capabilities: () => SANDBOX_CAPABILITIES },
  bfl: { create: createBflProvider, capabilities: bflCapabilities },
  openai: { create: createOpenaiProvider, capabilities: openaiCapabilities },
  'azure-openai': { create: createAzureOpenaiProvider, capabilities: azureOpenaiCapabilities },
  gemini: { create: createGeminiProvider, capabilities: geminiCapabilities },
  ideogram: { create: createIdeogramProvider, capabilities: ideogramCapabilities },
  together: { create: createTogetherProvider, capabilities: togetherCapabilities },
  journeyapi: { create: createJourneyapiProvider, capabilities: journeyapiCapabilities },
  'midjourney-proxy': { create: createMidjourneyProxyProvider, capabilities: midjourneyProxyCapabilities },
  comfyui: { create: createComfyuiProvider, capabilities: comfyuiCapabilities },
  replicate: { create: createReplicateProvider, capabilities: replicateCapabilities },
  fal: { create: createFalProvider, capabilities: falCapabilities },
} satisfies Record<string, ProviderType>;

export type ProviderTypeName = keyof typeof providerTypes;

export const PROVIDER_TYPES = Object.keys(providerTypes) as ProviderTypeName[];

export function isProviderType(type: string): type is ProviderTypeName {
  return Object.prototype.hasOwnProperty.call(providerTypes, type);
}

function providerType(type: string, deploymentId: string): ProviderType {
  if (!isProviderType(type)) {
    throw new Error(
      `deployment "${deploymentId}": unknown provider type "${type}" (known: ${PROVIDER_TYPES.join(', ')})`,
    );
  }
  return providerTypes[type];
}

/** Builds the adapter for a deployment; throws naming the known types when `type` is not one of them. */
export function createProvider(type: string, settings: ProviderSettings): ImageProvider {
  return providerType(type, settings.deploymentId).create(settings);
}

/** Capabilities by deployment (config objects live as long as the process) and upstream model. */
const knownCapabilities = new WeakMap<object, Map<string, ModelCapabilities>>();

/**
 * What a deployment can do for one of its upstream models (throws on options its adapter
 * refuses). Worked out once per deployment and model: some types read files to know (ComfyUI's
 * workflow templates), and the API asks on every submit.
 */
export function deploymentCapabilities(
  deployment: { id: string; type: string; options: Record<string, unknown> },
  upstreamModel: string,
): ModelCapabilities {
  let byModel = knownCapabilities.get(deployment);
  if (!byModel) knownCapabilities.set(deployment, (byModel = new Map<string, ModelCapabilities>()));
  let capabilities = byModel.get(upstreamModel);
  if (!capabilities) {
    capabilities = providerType(deployment.type, deployment.id).capabilities(
      upstreamModel,
      deployment.options,
    );
    byModel.set(upstreamModel, capabilities);
  }
  return capabilities;
}

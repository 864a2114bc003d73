import { z } from 'zod';
import { parseAdapterOptions } from '../shared';
import { NO_CAPABILITIES, type ImageProvider, type ModelCapabilities, type ProviderSettings } from '../types';
import {
  checkImagesApiOptions,
  createImagesApiProvider,
  gptImageCapabilities,
  imagesApiOptionFields,
} from './images-api';

/**
 * OpenAI's GPT image models (gpt-image-1, gpt-image-1-mini, gpt-image-1.5, later gpt-image-*)
 * through `POST {base}/v1/images/generations` and, with reference images, `/v1/images/edits`,
 * with a Bearer key and optional `OpenAI-Organization` / `OpenAI-Project` headers (the official
 * SDK's `organization` and `project`). The request and answer handling, shared with the
 * `azure-openai` adapter, is in ./images-api.ts.
 *
 * A 403 saying the organisation must be verified (OpenAI requires it for gpt-image-1) is
 * `rejected` with the settings page to do it; a 429 `insufficient_quota` is the account out of
 * money, an `error` of this deployment rather than a rate limit.
 */

export const OPENAI_DEFAULT_BASE_URL = 'https://api.openai.com';

const openaiOptionsSchema = z
  .strictObject({
    ...imagesApiOptionFields,
    /** Sent as `OpenAI-Organization`, for keys that belong to several organisations. */
    organization: z.string().min(1).optional(),
    /** Sent as `OpenAI-Project`, to bill and rate-limit a project other than the key's default. */
    project: z.string().min(1).optional(),
  })
  .superRefine(checkImagesApiOptions);

export type OpenaiOptions = z.output<typeof openaiOptionsSchema>;

export function parseOpenaiOptions(options: Record<string, unknown>, deploymentId = 'openai'): OpenaiOptions {
  return parseAdapterOptions(openaiOptionsSchema, options, 'openai', deploymentId);
}

/** The GPT image models; DALL·E models answer differently (URLs, other sizes) and are not served. */
export function isGptImageModel(upstreamModel: string): boolean {
  return upstreamModel.startsWith('gpt-image-') || upstreamModel === 'chatgpt-image-latest';
}

/** What a deployment with these options can do for an upstream model (no key needed to know it). */
export function openaiCapabilities(
  upstreamModel: string,
  rawOptions: Record<string, unknown>,
): ModelCapabilities {
  return isGptImageModel(upstreamModel)
    ? gptImageCapabilities(parseOpenaiOptions(rawOptions))
    : NO_CAPABILITIES;
}

export function createOpenaiProvider(settings: ProviderSettings): ImageProvider {
  const options = parseOpenaiOptions(settings.options, settings.deploymentId);
  const apiKey = settings.apiKey;
  if (!apiKey) {
    throw new Error(
      `deployment "${settings.deploymentId}" (openai): no API key; set the environment variable the deployment names`,
    );
  }
  // The base is the API origin; a configured ".../v1" is accepted as the same thing.
  const baseUrl = (settings.baseUrl ?? OPENAI_DEFAULT_BASE_URL).replace(/\/+$/, '').replace(/\/v1$/, '');
  const headers: Record<string, string> = { authorization: `Bearer ${apiKey}` };
  if (options.organization) headers['openai-organization'] = options.organization;
  if (options.project) headers['openai-project'] = options.project;

  return createImagesApiProvider(
    {
      type: 'openai',
      url: (_model, operation) => `${baseUrl}/v1/images/${operation}`,
      headers,
      modelInBody: true,
      supportsModel: isGptImageModel,
      invalidKeyHint: `OpenAI refused the API key of deployment "${settings.deploymentId}"; set a valid key (platform.openai.com/api-keys) in the variable it names`,
    },
    options,
    settings,
  );
}

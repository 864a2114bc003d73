import { z } from 'zod';
import {
  checkImagesApiOptions,
  createImagesApiProvider,
  gptImageCapabilities,
  imagesApiOptionFields,
} from '../openai/images-api';
import { parseAdapterOptions } from '../shared';
import { NO_CAPABILITIES, type ImageProvider, type ModelCapabilities, type ProviderSettings } from '../types';

/**
 * GPT image models deployed in Azure OpenAI: the same Images API as OpenAI's (bodies, answers and
 * most errors are OpenAI's, so ./openai/images-api.ts does the work), at
 * `{endpoint}/openai/deployments/{deployment}/images/generations?api-version=…` (and
 * `/images/edits`) with an `api-key` header. The deployment's model map names the Azure
 * deployment as the upstream model, and `baseUrl` is the resource endpoint
 * (`https://<resource>.openai.azure.com`). Every deployment is taken to serve a GPT image model
 * (gpt-image-1, -1-mini, -1.5); a DALL·E 3 deployment answers differently and is not supported.
 *
 * Azure's content filter refuses a prompt with 400 and code `content_policy_violation` (or
 * `contentFilter`) and an `innererror.content_filter_result`: `content_policy`.
 */

/** The API version Azure documents for gpt-image-1 generations and edits. */
export const AZURE_OPENAI_DEFAULT_API_VERSION = '2025-04-01-preview';

const azureOpenaiOptionsSchema = z
  .strictObject({
    ...imagesApiOptionFields,
    /** The `api-version` query parameter; newer previews work the same for images. */
    api_version: z
      .string()
      .regex(/^\d{4}-\d{2}-\d{2}(-preview)?$|^(preview|latest|v1)$/, 'e.g. 2025-04-01-preview')
      .default(AZURE_OPENAI_DEFAULT_API_VERSION),
  })
  .superRefine(checkImagesApiOptions);

export type AzureOpenaiOptions = z.output<typeof azureOpenaiOptionsSchema>;

export function parseAzureOpenaiOptions(
  options: Record<string, unknown>,
  deploymentId = 'azure-openai',
): AzureOpenaiOptions {
  return parseAdapterOptions(azureOpenaiOptionsSchema, options, 'azure-openai', deploymentId);
}

/** Every Azure deployment name is taken to be a GPT image deployment. */
export function azureOpenaiCapabilities(
  azureDeployment: string,
  rawOptions: Record<string, unknown>,
): ModelCapabilities {
  return azureDeployment.length > 0
    ? gptImageCapabilities(parseAzureOpenaiOptions(rawOptions))
    : NO_CAPABILITIES;
}

export function createAzureOpenaiProvider(settings: ProviderSettings): ImageProvider {
  const options = parseAzureOpenaiOptions(settings.options, settings.deploymentId);
  const where = `deployment "${settings.deploymentId}" (azure-openai)`;
  const apiKey = settings.apiKey;
  if (!apiKey) {
    throw new Error(`${where}: no API key; set the environment variable the deployment names`);
  }
  if (!settings.baseUrl) {
    throw new Error(
      `${where}: no base_url; set it to the resource endpoint, https://<resource>.openai.azure.com`,
    );
  }
  const endpoint = settings.baseUrl.replace(/\/+$/, '').replace(/\/openai$/, '');
  const apiVersion = encodeURIComponent(options.api_version);

  return createImagesApiProvider(
    {
      type: 'azure-openai',
      url: (deployment, operation) =>
        `${endpoint}/openai/deployments/${encodeURIComponent(deployment)}/images/${operation}?api-version=${apiVersion}`,
      headers: { 'api-key': apiKey },
      modelInBody: false,
      supportsModel: (deployment) => deployment.length > 0,
      invalidKeyHint: `Azure refused the API key of deployment "${settings.deploymentId}" (a key of another resource, or the wrong endpoint); set a key of the resource at ${endpoint}`,
    },
    options,
    settings,
  );
}

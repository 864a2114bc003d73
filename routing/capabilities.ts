import type { JobRequest } from '../core/jobs/store';
import { deploymentCapabilities } from '../providers/registry';
import type { ModelCapabilities } from '../providers/types';
import { deploymentsFor, type Deployment, type ProviderConfig } from './deployments';

/** A request parameter a deployment cannot serve as asked, in the API's own field names. */
export type UnmetParameter =
  'n' | 'seed' | 'negative_prompt' | 'image_urls' | 'mask_url' | 'aspect_ratio' | 'output_format';

/** What of the request these capabilities cannot serve as asked (empty: they can serve all of it). */
export function unmetParameters(
  request: Pick<
    JobRequest,
    'n' | 'seed' | 'negative_prompt' | 'image_urls' | 'mask_url' | 'aspect_ratio' | 'output_format'
  >,
  capabilities: ModelCapabilities,
): UnmetParameter[] {
  const unmet: UnmetParameter[] = [];
  if (request.n > capabilities.maxImages) unmet.push('n');
  if (request.seed !== undefined && !capabilities.seed) unmet.push('seed');
  if (request.negative_prompt !== undefined && !capabilities.negativePrompt) unmet.push('negative_prompt');
  if ((request.image_urls?.length ?? 0) > capabilities.maxReferenceImages) unmet.push('image_urls');
  if (request.mask_url !== undefined && !capabilities.mask) unmet.push('mask_url');
  if (!capabilities.aspectRatios.includes(request.aspect_ratio)) unmet.push('aspect_ratio');
  if (request.output_format !== undefined && !capabilities.outputFormats.includes(request.output_format))
    unmet.push('output_format');
  return unmet;
}

/**
 * Which deployments can serve a request for a model as asked, and, when none can, what stood in
 * the way: the parameters each deployment could not serve, merged.
 */
export function capableDeployments(
  config: ProviderConfig,
  model: string,
  request: Parameters<typeof unmetParameters>[0],
): { capable: Deployment[]; unmet: UnmetParameter[] } {
  const capable: Deployment[] = [];
  const unmet = new Set<UnmetParameter>();
  for (const deployment of deploymentsFor(config, model)) {
    const missing = unmetParameters(
      request,
      deploymentCapabilities(deployment, deployment.models[model]!.upstream_model),
    );
    if (missing.length === 0) capable.push(deployment);
    missing.forEach((p) => unmet.add(p));
  }
  return { capable, unmet: capable.length > 0 ? [] : [...unmet] };
}

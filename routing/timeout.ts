import type { Deployment } from './deployments';
import { ProviderError } from '../providers/types';

/**
 * Runs one attempt against a deployment within its `timeout_ms`. The race matters: an adapter that
 * ignores its abort signal still cannot hold the job past the deployment's budget.
 */
export async function withDeploymentTimeout<T>(
  deployment: Deployment,
  work: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new ProviderError(
        'timeout',
        `${deployment.id} did not finish within ${deployment.timeout_ms} ms`,
      );
      controller.abort(error);
      reject(error);
    }, deployment.timeout_ms);
  });
  try {
    return await Promise.race([work(controller.signal), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

import type { Deployment } from './deployments';
import { abortReason } from '../platform/abort';
import { ProviderError } from '../providers/types';

/**
 * The attempt stopped because its job was cancelled. It says nothing about the upstream, so it is
 * neither a provider failure nor counted against the deployment (breaker, metrics, health).
 */
export class CallCancelled extends Error {
  override name = 'CallCancelled';
}

/**
 * Runs one attempt against a deployment within its `timeout_ms`, its signal aborted by the timeout
 * or by `cancelled` (the job's cancellation). The race matters: an adapter that ignores its abort
 * signal still cannot hold the job past the deployment's budget.
 */
export async function withDeploymentTimeout<T>(
  deployment: Deployment,
  work: (signal: AbortSignal) => Promise<T>,
  cancelled?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  const onCancel = (): void => controller.abort(abortReason(cancelled!));
  if (cancelled?.aborted) throw new CallCancelled(`${deployment.id} was not called: the job was cancelled`);
  cancelled?.addEventListener('abort', onCancel, { once: true });
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
  } catch (err) {
    if (cancelled?.aborted) throw new CallCancelled(`${deployment.id} was stopped: the job was cancelled`);
    throw err;
  } finally {
    clearTimeout(timer);
    cancelled?.removeEventListener('abort', onCancel);
  }
}

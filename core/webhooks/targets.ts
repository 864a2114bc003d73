import { checkOutboundUrl, OutboundRefused, type Resolver } from '../../platform/outbound';
import { DomainError } from '../errors';

/**
 * Webhook targets must be public: a URL resolving to a private, loopback, link-local or otherwise
 * internal address would let a client make Easel call into the platform's own network. Checked
 * here at submit for a clear 400; the delivery itself goes through the outbound policy
 * (platform/outbound.ts), which checks the address it actually connects to.
 */
export class WebhookTargetRefused extends DomainError {
  constructor(url: string, reason: string) {
    super(
      'webhook_url_refused',
      `webhook_url ${url} is refused: ${reason}. Use a publicly reachable https URL.`,
      { fields: { webhook_url: reason } },
    );
  }
}

export async function checkWebhookTarget(
  url: string,
  allowPrivate: boolean,
  resolve?: Resolver,
): Promise<void> {
  try {
    await checkOutboundUrl(url, { allowPrivate, ...(resolve && { resolve }) });
  } catch (err) {
    const reason =
      err instanceof OutboundRefused ? err.reason : err instanceof Error ? err.message : String(err);
    throw new WebhookTargetRefused(url, reason);
  }
}

import { ApplicationFailure } from '@temporalio/activity';
import type { AccountService } from '../core/accounts/accounts';
import type { JobStore, WebhookAttempt } from '../core/jobs/store';
import type { Metrics } from '../platform/metrics';
import { createOutboundPolicy, OutboundRefused, type OutboundPolicy } from '../platform/outbound';
import { signatureHeaders } from '../core/webhooks/signing';
import { presentJob, type ImageLinks } from '../core/jobs/view';

export interface WebhookDeps {
  accounts: AccountService;
  jobs: JobStore;
  /** Signs the payload's image URLs. */
  imageLinks: ImageLinks;
  /** Deliver to private and loopback targets too (tests, local development). */
  allowPrivateTargets: boolean;
  metrics?: Metrics;
  /** The outbound policy deliveries go through; by default one built from `allowPrivateTargets`. */
  outbound?: OutboundPolicy;
  fetch?: typeof fetch;
  timeoutMs?: number;
}

export interface DeliveryInput {
  jobId: string;
  accountId: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;

/**
 * One delivery attempt of a job's terminal event. A non-2xx answer throws, and the activity's
 * retry policy (exponential backoff for hours) tries again; `410 Gone` ends the retries, as does a
 * target the outbound policy refuses (it now resolves to a private address). Redirects are not
 * followed (a 3xx is a failed attempt). Every attempt is recorded on the job; a refused one says
 * only that it was refused.
 */
export function createWebhookActivities(deps: WebhookDeps) {
  const outbound =
    deps.outbound ??
    createOutboundPolicy({
      allowPrivate: deps.allowPrivateTargets,
      ...(deps.fetch && { fetch: deps.fetch }),
    });
  const record = async (
    jobId: string,
    attempt: WebhookAttempt,
    state: Parameters<JobStore['addWebhookAttempt']>[2],
  ): Promise<void> => {
    deps.metrics?.webhookDeliveries.inc({ outcome: attempt.outcome });
    await deps.jobs.addWebhookAttempt(jobId, attempt, state);
  };

  return {
    async deliverWebhook(input: DeliveryInput): Promise<void> {
      const job = await deps.jobs.get(input.jobId);
      const url = job?.request.webhook_url;
      if (!job || !url) return;
      const started = Date.now();
      const account = await deps.accounts.get(input.accountId);
      const secrets = deps.accounts.activeWebhookSecrets(account).map((s) => s.secret);
      const body = JSON.stringify({
        type: `job.${job.status}`,
        timestamp: new Date().toISOString(),
        data: presentJob(job, deps.imageLinks),
      });
      // One message id per job event, stable across retries, so receivers can drop duplicates.
      const headers = signatureHeaders(secrets, `msg_${job._id}`, Math.floor(Date.now() / 1000), body);
      let status: number | null = null;
      try {
        const res = await outbound.fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'Easel-Webhooks/1', ...headers },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(deps.timeoutMs ?? DEFAULT_TIMEOUT_MS),
        });
        status = res.status;
        await res.body?.cancel().catch(() => undefined);
      } catch (err) {
        if (err instanceof OutboundRefused) {
          await record(
            job._id,
            { at: new Date(), status: null, outcome: 'refused', duration_ms: 0, error: err.message },
            'failed',
          );
          throw ApplicationFailure.nonRetryable(err.message, 'webhook_refused');
        }
        const message = `delivery failed: ${err instanceof Error ? err.message : String(err)}`;
        await record(
          job._id,
          {
            at: new Date(),
            status: null,
            outcome: 'failed',
            duration_ms: Date.now() - started,
            error: message,
          },
          'pending',
        );
        throw new Error(message);
      }
      const duration_ms = Date.now() - started;
      if (status >= 200 && status < 300) {
        await record(job._id, { at: new Date(), status, outcome: 'delivered', duration_ms }, 'delivered');
        return;
      }
      if (status === 410) {
        await record(
          job._id,
          { at: new Date(), status, outcome: 'gone', duration_ms, error: 'the receiver answered 410 Gone' },
          'gone',
        );
        throw ApplicationFailure.nonRetryable('receiver answered 410 Gone: not retrying', 'webhook_gone');
      }
      await record(
        job._id,
        { at: new Date(), status, outcome: 'failed', duration_ms, error: `HTTP ${status}` },
        'pending',
      );
      throw new Error(`receiver answered HTTP ${status}`);
    },

    /** The retries ran out (or were stopped): the job shows the delivery as failed. */
    async markWebhookFailed(input: DeliveryInput): Promise<void> {
      const job = await deps.jobs.get(input.jobId);
      if (job && job.webhook_state !== 'gone' && job.webhook_state !== 'delivered') {
        await deps.jobs.update(input.jobId, { webhook_state: 'failed' });
      }
    },
  };
}

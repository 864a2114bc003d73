import type { AsJson, SettleInput, SettleResult, SettledStatus } from '../core/jobs/contract';
import type { JobRecord, JobStore } from '../core/jobs/store';
import type { Ledger } from '../core/ledger/ledger';

/** A settled job, as metrics see it. */
export interface SettledJob {
  model: string;
  plan: string;
  status: SettledStatus;
  created_at: Date;
  completed_at: Date;
}

export interface JobActivityDeps {
  ledger: Ledger;
  jobs: JobStore;
  webhookInitialRetryMs?: number;
  /** Called once a job reaches a terminal state (metrics). */
  onSettled?: (job: SettledJob, settlement: { charged: number; released: number }) => void;
}

/** The short database steps of a job: run as local activities, next to the workflow task. */
export function createJobActivities({
  ledger,
  jobs,
  onSettled,
  webhookInitialRetryMs = 5_000,
}: JobActivityDeps) {
  return {
    /**
     * Charges (success) or releases (failure, cancel) the reservation, then marks the job terminal.
     * The ledger goes first: a crash in between is repaired by the retry, because both writes are
     * idempotent and the job is only marked once its credits are settled.
     */
    async settleJob(input: SettleInput): Promise<SettleResult> {
      const { reservation, job } = input;
      const charge =
        input.status === 'succeeded' ? Math.min(input.charge ?? reservation.credits, reservation.credits) : 0;
      const { entry, replayed } =
        input.status === 'succeeded'
          ? await ledger.capture(reservation, charge)
          : await ledger.release(reservation, input.status);
      // The job is charged what its reservation's settlement says: a retried activity gets its
      // own capture back, and a reservation an operator or the sweep released first is free.
      const charged = entry.kind === 'capture' ? entry.credits : 0;
      const completedAt = new Date();
      const update: Partial<JobRecord> = {
        status: input.status,
        credits_charged: charged,
        completed_at: completedAt,
        upstream: null,
        ...(input.status === 'succeeded' && { progress: 1 }),
        ...(input.model !== undefined && { model: input.model }),
        ...(input.provider !== undefined && { provider: input.provider }),
        ...(input.sandbox !== undefined && { sandbox: input.sandbox }),
        ...(input.images !== undefined && { images: input.images }),
        ...(input.attempts !== undefined && { attempts: input.attempts }),
        ...(input.error !== undefined && { error: input.error }),
        ...(job.hasWebhook && { webhook_state: 'pending' as const }),
      };
      const settled = await jobs.updateAndGet(input.jobId, update);
      // A replayed settlement (a retried activity) was counted the first time.
      if (!replayed) {
        onSettled?.(
          {
            model: input.model ?? job.model,
            plan: job.plan,
            status: input.status,
            created_at: new Date(job.submittedAt),
            completed_at: completedAt,
          },
          { charged, released: reservation.credits - charged },
        );
      }
      return {
        // The data converter sends its Dates as ISO strings; waiting readers revive them.
        job: settled as AsJson<JobRecord> | null,
        ...(job.hasWebhook && { webhook: { initialRetryMs: webhookInitialRetryMs } }),
      };
    },
  };
}

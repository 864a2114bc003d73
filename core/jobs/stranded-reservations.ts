import { DomainError, NotFound } from '../errors';
import { reservationOf, type Ledger, type LedgerEntry } from '../ledger/ledger';
import type { Logger } from '../../platform/logger';
import { isTerminal, type JobRecord, type JobStore } from './store';

/**
 * How far back the sweep looks for stranded reservations. Older ones (the worker was down for
 * longer) are still reported by the audit, and an operator releases them.
 */
const SWEEP_LOOKBACK_MS = 24 * 60 * 60 * 1000;

export interface StrandedReservationDeps {
  ledger: Ledger;
  jobs: Pick<JobStore, 'get' | 'update'>;
  logger: Logger;
}

/**
 * The API reserves, then writes the job. When the write fails the API releases at once; when the
 * API dies in between (or the release fails too), the reservation holds credits and a running-job
 * slot for a job that does not exist. Once it is `olderThanMs` old (far longer than a write
 * takes), this releases it with reason `orphaned`. A reservation whose job was written under
 * another reservation (a retry after the release) is stranded too. Returns how many it released.
 */
export async function releaseOrphanedReservations(
  deps: StrandedReservationDeps,
  olderThanMs: number,
): Promise<number> {
  const cutoff = Date.now() - olderThanMs;
  const records = await deps.ledger.reservationsMadeBetween(
    new Date(cutoff - SWEEP_LOOKBACK_MS),
    new Date(cutoff),
  );
  let released = 0;
  for (const { reservation, settlement } of records) {
    if (settlement) continue;
    const job = await deps.jobs.get(reservation.job_id);
    if (job?.reservation.seq === reservation.seq) continue;
    const { replayed } = await deps.ledger.release(reservation, 'orphaned');
    if (replayed) continue;
    released++;
    deps.logger.warn(
      { accountId: reservation.account_id, jobId: reservation.job_id, seq: reservation.seq },
      'released a reservation whose job was never written',
    );
  }
  return released;
}

/** An operator asked to release a reservation that cannot be released. */
export class ReservationNotReleasable extends DomainError {}

export interface OperatorRelease {
  /** The release movement. */
  entry: LedgerEntry;
  /** The job as it stands afterwards, when it exists. */
  job: JobRecord | null;
}

/**
 * An operator's release of a stuck reservation (`POST /admin/v1/accounts/:id/reservations/:seq/release`):
 * a ledger movement with the operator's reason. A job whose workflow still runs is refused (it
 * settles itself; cancel it instead); a job that never finished is marked failed, and a finished
 * one keeps its status but is charged nothing, so that its document agrees with the ledger.
 */
export async function releaseByOperator(
  deps: Pick<StrandedReservationDeps, 'ledger' | 'jobs'>,
  request: {
    accountId: string;
    seq: number;
    reason: string;
    workflowRunning: (jobId: string) => Promise<boolean>;
  },
): Promise<OperatorRelease> {
  const reserve = await deps.ledger.entry(request.accountId, request.seq);
  if (!reserve || reserve.kind !== 'reserve' || reserve.job_id === undefined)
    throw new NotFound('Reservation');
  const reservation = reservationOf(reserve);
  const settlement = await deps.ledger.settlementOf(reservation);
  if (settlement) {
    throw new ReservationNotReleasable(
      'reservation_settled',
      `This reservation was already settled by entry ${settlement.seq} (${settlement.kind}); there is nothing to release.`,
      { settlement_seq: settlement.seq, kind: settlement.kind },
    );
  }
  const found = await deps.jobs.get(reservation.job_id);
  const job = found?.reservation.seq === reservation.seq ? found : null;
  if (job && !isTerminal(job.status) && (await request.workflowRunning(job._id))) {
    throw new ReservationNotReleasable(
      'job_running',
      `Job ${job._id} is still running and settles this reservation itself when it ends; cancel the job instead.`,
      { job_id: job._id, status: job.status },
    );
  }
  const { entry } = await deps.ledger.release(reservation, `operator: ${request.reason}`);
  if (job) {
    await deps.jobs.update(job._id, {
      credits_charged: 0,
      ...(!isTerminal(job.status) && {
        status: 'failed' as const,
        error: {
          code: 'released_by_operator',
          message: `An operator released this job's credits: ${request.reason}`,
        },
        completed_at: new Date(),
        upstream: null,
      }),
    });
  }
  return { entry, job: job ? await deps.jobs.get(job._id) : null };
}

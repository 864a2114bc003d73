import type { AccountService } from '../core/accounts/accounts';
import type { JobAttempt, JobRecord, JobRequest, JobStatus, JobStore, StoredImage } from '../core/jobs/jobs';
import type { ReservationSplit } from '../core/ledger/balances';
import { MovementRefused, type LedgerEntry } from '../core/ledger/ledger';

export interface ImagineInput {
  jobId: string;
  accountId: string;
  plan: string;
  model: string;
  creditsPerImage: number;
  /** Reserved up front: creditsPerImage × n. */
  credits: number;
  maxConcurrentJobs: number;
  request: JobRequest;
  requestHash: string;
  idempotencyKey?: string;
  submittedAt: string;
  /**
   * Credits the API already reserved (and the job document it wrote). Absent for jobs submitted
   * before the API reserved: their workflow reserves in its first step.
   */
  reservation?: ReservedCredits;
}

export interface ReservedCredits {
  /** The reservation's ledger entry. */
  seq: number;
  credits: number;
  split?: ReservationSplit;
}

/** A reservation's ledger entry as the workflow carries it. */
export function reservedCreditsOf(entry: LedgerEntry): ReservedCredits {
  return { seq: entry.seq, credits: entry.credits, ...(entry.reservation && { split: entry.reservation }) };
}

/** The reverse: what the ledger's capture and release take. */
export function asLedgerReservation(r: {
  credits: number;
  split?: ReservationSplit | undefined;
}): Pick<LedgerEntry, 'credits' | 'reservation'> {
  return { credits: r.credits, ...(r.split && { reservation: r.split }) };
}

/** The job document written once its credits are reserved (status queued). */
export function queuedJobRecord(input: ImagineInput): JobRecord {
  const submittedAt = new Date(input.submittedAt);
  return {
    _id: input.jobId,
    account_id: input.accountId,
    plan: input.plan,
    status: 'queued',
    model: input.model,
    request: input.request,
    request_hash: input.requestHash,
    ...(input.idempotencyKey !== undefined && { idempotency_key: input.idempotencyKey }),
    credits_reserved: input.credits,
    credits_charged: 0,
    images: [],
    attempts: [],
    error: null,
    progress: null,
    upstream: null,
    created_at: submittedAt,
    updated_at: submittedAt,
  };
}

export type ReservationResult =
  | {
      status: 'reserved';
      jobId: string;
      requestHash: string;
      credits: number;
      reservationSeq: number;
      /** Where the credits came from, so that settling needs no ledger read. */
      split?: ReservationSplit;
    }
  | { status: 'insufficient_credits'; requestHash: string; available: number; required: number }
  | { status: 'concurrent_jobs'; requestHash: string; running: number; limit: number };

export interface SettleInput {
  jobId: string;
  accountId: string;
  /** The reservation's ledger entry, read by primary key (never searched for). */
  reservationSeq: number;
  /** The reservation as the reserve step returned it; when present nothing is read back. */
  reservation?: { credits: number; split: ReservationSplit };
  /** What the workflow already knows of the job, so that settling needs no job read. */
  job?: SettledJobContext;
  status: Extract<JobStatus, 'succeeded' | 'failed' | 'canceled'>;
  /** Credits to capture on success (the model actually used × n); nothing otherwise. */
  charge?: number;
  model?: string;
  provider?: string;
  sandbox?: boolean;
  images?: StoredImage[];
  attempts?: JobAttempt[];
  error?: { code: string; message: string };
}

export interface SettledJobContext {
  model: string;
  plan: string;
  submittedAt: string;
  hasWebhook: boolean;
}

/** A settled job, as metrics see it. */
export interface SettledJob {
  model: string;
  plan: string;
  status: JobStatus;
  created_at: Date;
  completed_at: Date;
}

/** What the workflow does once a job is settled. */
export interface SettleResult {
  /** Start the webhook delivery, retrying from this first delay. */
  webhook?: { initialRetryMs: number };
}

export interface JobActivityDeps {
  accounts: AccountService;
  jobs: JobStore;
  webhookInitialRetryMs?: number;
  /** Called once a job reaches a terminal state (metrics). */
  onSettled?: (job: SettledJob, settlement: { charged: number; released: number }) => void;
}

/** The short database steps of a job: run as local activities, next to the workflow task. */
export function createJobActivities({
  accounts,
  jobs,
  onSettled,
  webhookInitialRetryMs = 5_000,
}: JobActivityDeps) {
  const ledger = accounts.ledger;
  const contextOf = async (jobId: string): Promise<SettledJobContext | null> => {
    const job = await jobs.get(jobId);
    return job
      ? {
          model: job.model,
          plan: job.plan,
          submittedAt: job.created_at.toISOString(),
          hasWebhook: Boolean(job.request.webhook_url),
        }
      : null;
  };
  return {
    /**
     * Reserves the job's credits and records the job. A refusal is a result, not an error: the
     * workflow ends at once and the API answers 402 or 429, leaving no job and no hold.
     */
    async reserveJob(input: ImagineInput): Promise<ReservationResult> {
      let reservation: LedgerEntry;
      try {
        ({ entry: reservation } = await ledger.reserve(
          input.accountId,
          input.jobId,
          input.credits,
          input.maxConcurrentJobs,
        ));
      } catch (err) {
        if (!(err instanceof MovementRefused)) throw err;
        const r = err.refusal;
        if (r.refused === 'insufficient_credits') {
          return {
            status: 'insufficient_credits',
            requestHash: input.requestHash,
            available: r.available,
            required: r.required,
          };
        }
        if (r.refused === 'concurrent_jobs') {
          return {
            status: 'concurrent_jobs',
            requestHash: input.requestHash,
            running: r.open_reservations,
            limit: r.limit,
          };
        }
        throw err;
      }
      await jobs.create(queuedJobRecord(input));
      const { seq, credits, split } = reservedCreditsOf(reservation);
      return {
        status: 'reserved',
        jobId: input.jobId,
        requestHash: input.requestHash,
        credits,
        reservationSeq: seq,
        ...(split && { split }),
      };
    },

    async startJob(jobId: string): Promise<void> {
      await jobs.update(jobId, { status: 'running', started_at: new Date() });
    },

    /**
     * Charges (success) or releases (failure, cancel) the reservation, then marks the job terminal.
     * The ledger goes first: a crash in between is repaired by the retry, because both writes are
     * idempotent and the job is only marked once its credits are settled.
     */
    async settleJob(input: SettleInput): Promise<SettleResult> {
      const reservation: Pick<LedgerEntry, 'credits' | 'reservation'> | null = input.reservation
        ? asLedgerReservation(input.reservation)
        : await ledger.entryAt(input.accountId, input.reservationSeq);
      let charged = 0;
      let released = 0;
      let replayed = false;
      if (reservation) {
        if (input.status === 'succeeded') {
          charged = Math.min(input.charge ?? reservation.credits, reservation.credits);
          replayed =
            (await ledger.capture(input.accountId, input.jobId, charged, reservation))?.replayed ?? false;
        } else {
          replayed =
            (await ledger.release(input.accountId, input.jobId, input.status, reservation))?.replayed ??
            false;
        }
        released = reservation.credits - charged;
      }
      // Histories from before the workflow passed the job's context read it back instead.
      const context = input.job ?? (await contextOf(input.jobId));
      if (!context) return {};
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
        ...(context.hasWebhook && { webhook_state: 'pending' as const }),
      };
      await jobs.update(input.jobId, update);
      // A replayed settlement (a retried activity) was counted the first time.
      if (!replayed) {
        onSettled?.(
          {
            model: input.model ?? context.model,
            plan: context.plan,
            status: input.status,
            created_at: new Date(context.submittedAt),
            completed_at: completedAt,
          },
          { charged, released },
        );
      }
      return context.hasWebhook ? { webhook: { initialRetryMs: webhookInitialRetryMs } } : {};
    },
  };
}

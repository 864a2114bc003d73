import type { Ledger } from '../ledger/ledger';
import type { JobRecord, JobStatus, JobStore } from './store';

/** Ledger entries read at once while walking back (one lookup by primary key). */
const WALK_BATCH = 50;
/** The most ledger entries one page walks; a sparse status filter then answers a short page and a cursor. */
const MAX_WALK = 500;

export interface JobPage {
  jobs: JobRecord[];
  /** Where the next page starts (a ledger sequence number, exclusive), or null at the account's first job. */
  next: number | null;
}

/**
 * An account's jobs, newest first, read from its own ledger: every job begins with a
 * reservation, so walking the account's entries back from its head by primary key finds its
 * jobs in order at a cost that depends on the page, never on the account's size or on other
 * tenants' data (the dev stack's FerretDB answers only lookups by `_id` without a scan).
 * A job that was reserved twice (its first job write failed) is listed at the reservation it
 * settles; a reservation whose job was never written lists nothing.
 */
export async function listJobs(
  ledger: Pick<Ledger, 'head' | 'entriesBackFrom'>,
  jobs: Pick<JobStore, 'getMany'>,
  accountId: string,
  options: { limit: number; status?: JobStatus; before?: number },
): Promise<JobPage> {
  const head = await ledger.head(accountId);
  let seq = Math.min(head?.seq ?? 0, (options.before ?? Number.MAX_SAFE_INTEGER) - 1);
  const found: JobRecord[] = [];
  let walked = 0;
  while (seq >= 1 && found.length < options.limit && walked < MAX_WALK) {
    const count = Math.min(WALK_BATCH, seq, MAX_WALK - walked);
    const entries = await ledger.entriesBackFrom(accountId, seq, count);
    const reservations = entries.filter((e) => e.kind === 'reserve' && e.job_id !== undefined);
    const records = await jobs.getMany(reservations.map((e) => e.job_id!));
    for (const entry of reservations) {
      const job = records.get(entry.job_id!);
      if (!job || job.account_id !== accountId || job.reservation.seq !== entry.seq) continue;
      if (options.status && job.status !== options.status) continue;
      found.push(job);
      if (found.length === options.limit) {
        return { jobs: found, next: entry.seq > 1 ? entry.seq : null };
      }
    }
    seq -= count;
    walked += count;
  }
  return { jobs: found, next: seq >= 1 ? seq + 1 : null };
}

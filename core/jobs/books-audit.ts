import type { AccountCheck, Finding } from '../ledger/audit';
import type { LedgerEntry } from '../ledger/ledger';
import { isTerminal, type JobSettlement, type JobStore } from './store';

/**
 * A submission or a settlement in progress passes through states the books call wrong (credits
 * reserved before the job is written, a reservation settled before the job is marked): they are
 * reported once they have lasted this long.
 */
export const IN_FLIGHT_MS = 5_000;

/**
 * The books, not only the ledger's arithmetic: every open reservation belongs to a job that is
 * still running; every finished job's reservation was settled exactly once, and was made for that
 * job's request; each job's `credits_reserved` and `credits_charged` are what its movements say;
 * and the credits charged
 * over all the account's jobs (what usage reports) are the credits the ledger captured.
 */
export function booksCheck(jobs: Pick<JobStore, 'settlementsOf'>, clock = () => new Date()): AccountCheck {
  return async (accountId, history) => {
    const now = clock().getTime();
    const lasted = (e: LedgerEntry): boolean => now - new Date(e.created_at).getTime() >= IN_FLIGHT_MS;
    const reserves = new Map<number, LedgerEntry>();
    const settlements = new Map<number, LedgerEntry>();
    for (const e of history) {
      if (e.kind === 'reserve') reserves.set(e.seq, e);
      if (e.settles !== undefined && !settlements.has(e.settles)) settlements.set(e.settles, e);
    }
    const accountJobs = await jobs.settlementsOf(accountId);
    const byId = new Map<string, JobSettlement>(accountJobs.map((j) => [j._id, j]));
    const findings: Finding[] = [];
    const report = (job_id: string | undefined, entry_seq: number, problem: string, open = false): void => {
      findings.push({
        ...(job_id !== undefined && { job_id }),
        entry_seq,
        ...(open && { holds_credits: true as const }),
        problem,
      });
    };

    for (const r of reserves.values()) {
      const jobId = r.job_id;
      const job = jobId === undefined ? undefined : byId.get(jobId);
      const own = job?.reservation?.seq === r.seq;
      const settlement = settlements.get(r.seq);
      if (!settlement) {
        if (!lasted(r)) continue;
        if (!job) {
          report(
            jobId,
            r.seq,
            `reservation of ${r.credits} credits is open but its job was never written`,
            true,
          );
        } else if (!own) {
          report(
            jobId,
            r.seq,
            `reservation is open but the job settles reservation ${job.reservation?.seq}`,
            true,
          );
        } else if (isTerminal(job.status)) {
          report(jobId, r.seq, `job is ${job.status} but its reservation was never settled`, true);
        }
        continue;
      }
      if (!job || !own) {
        // A reservation released before its job was written is spent; one captured charged for nothing.
        if (settlement.kind === 'capture') {
          report(
            jobId,
            settlement.seq,
            `captured ${settlement.credits} credits of a reservation no job settles`,
          );
        }
        continue;
      }
      if (!isTerminal(job.status)) {
        if (lasted(settlement)) {
          report(jobId, settlement.seq, `job is ${job.status} but its reservation was settled`);
        }
        continue;
      }
      const charged = settlement.kind === 'capture' ? settlement.credits : 0;
      if (job.credits_charged !== charged) {
        report(
          jobId,
          settlement.seq,
          `job says it was charged ${job.credits_charged} credits; its ${settlement.kind} charged ${charged}`,
        );
      }
    }

    for (const job of accountJobs) {
      const seq = job.reservation?.seq;
      const reserve = seq === undefined ? undefined : reserves.get(seq);
      if (!reserve || reserve.job_id !== job._id) {
        findings.push({ job_id: job._id, problem: `job refers to no reservation of its own (${seq})` });
        continue;
      }
      if (reserve.request_hash !== job.request_hash) {
        report(job._id, reserve.seq, 'job settles a reservation made for another request');
      }
      if (job.credits_reserved !== reserve.credits) {
        report(
          job._id,
          reserve.seq,
          `job says ${job.credits_reserved} credits are reserved; its reservation holds ${reserve.credits}`,
        );
      }
      if (!isTerminal(job.status) && job.credits_charged !== 0) {
        report(job._id, reserve.seq, `job is ${job.status} but says it was charged ${job.credits_charged}`);
      }
    }

    const last = history.at(-1);
    const charged = accountJobs.reduce((sum, j) => sum + (j.credits_charged ?? 0), 0);
    const captured = last?.balances.captured ?? 0;
    // A capture whose job is not marked yet is in flight, not a difference.
    const settling = [...settlements.values()].some((e) => !lasted(e));
    if (charged !== captured && !settling) {
      findings.push({
        ...(last && { entry_seq: last.seq }),
        problem: `the account's jobs were charged ${charged} credits in all; the ledger captured ${captured}`,
      });
    }
    return findings;
  };
}

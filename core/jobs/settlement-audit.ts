import type { AccountCheck } from '../ledger/audit';
import type { Ledger } from '../ledger/ledger';
import type { JobStore } from './jobs';

/** A finished job must have settled its reservation exactly once (the ledger audit counts "once"). */
export function settledJobsCheck(ledger: Ledger, jobs: JobStore): AccountCheck {
  return async (accountId) => {
    const finished = await jobs.terminalJobIds(accountId);
    if (finished.length === 0) return [];
    const entries = await ledger.entries
      .find({ account_id: accountId, kind: { $in: ['capture', 'release'] } }, { job_id: 1 })
      .lean<Array<{ job_id?: string }>>();
    const settled = new Set(entries.map((e) => e.job_id));
    return finished
      .filter((id) => !settled.has(id))
      .map((id) => `job ${id} is finished but its reservation was never settled`);
  };
}

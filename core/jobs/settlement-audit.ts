import type { AccountCheck } from '../ledger/audit';
import type { Ledger } from '../ledger/ledger';
import type { JobStore } from './store';

/** A finished job must have settled its reservation exactly once (the ledger audit counts "once"). */
export function settledJobsCheck(ledger: Ledger, jobs: JobStore): AccountCheck {
  return async (accountId) => {
    const finished = await jobs.terminalJobIds(accountId);
    if (finished.length === 0) return [];
    const settled = await ledger.settledJobIds(accountId);
    return finished
      .filter((id) => !settled.has(id))
      .map((id) => `job ${id} is finished but its reservation was never settled`);
  };
}

import { balanceViolations } from './balances';
import type { LedgerEntry } from './ledger';

/** One problem the audit found, naming what it concerns so an operator can go and look. */
export interface AuditViolation {
  account_id: string;
  /** The job concerned, when there is one. */
  job_id?: string;
  /** The ledger entry concerned (its sequence number in the account's ledger). */
  entry_seq?: number;
  /** The entry is a reservation still holding credits (an operator may release it). */
  holds_credits?: true;
  problem: string;
}

/** A violation found within one account. */
export type Finding = Omit<AuditViolation, 'account_id'>;

export interface AuditReport {
  accounts_checked: number;
  violations: AuditViolation[];
}

/**
 * A check of one account beyond the ledger's own arithmetic (the books: jobs against their
 * movements). It gets the account's whole ledger history, read once for all checks.
 */
export type AccountCheck = (accountId: string, history: LedgerEntry[]) => Promise<Finding[]>;

/**
 * The ledger's own invariants over an account's history (§5): no sequence gaps, sound balances
 * after every entry, every settlement settling one reservation of its job once, and the last
 * balances agreeing with the reservations still open and the credits captured.
 */
export function ledgerFindings(history: LedgerEntry[]): Finding[] {
  const findings: Finding[] = [];
  const reserves = new Map<number, LedgerEntry>();
  const settled = new Map<number, LedgerEntry>();
  let captured = 0;
  history.forEach((e, i) => {
    if (e.seq !== i + 1) findings.push({ entry_seq: e.seq, problem: `sequence gap: expected ${i + 1}` });
    for (const p of balanceViolations(e.balances)) {
      findings.push({ entry_seq: e.seq, problem: `after this ${e.kind}: ${p}` });
    }
    if (e.kind === 'reserve') reserves.set(e.seq, e);
    if (e.kind === 'capture') captured += e.credits;
    if (e.kind !== 'capture' && e.kind !== 'release') return;
    const job = e.job_id === undefined ? {} : { job_id: e.job_id };
    const reserve = e.settles === undefined ? undefined : reserves.get(e.settles);
    if (!reserve || reserve.job_id !== e.job_id) {
      findings.push({ ...job, entry_seq: e.seq, problem: `${e.kind} of no reservation of its job` });
      return;
    }
    const earlier = settled.get(reserve.seq);
    if (earlier) {
      findings.push({
        ...job,
        entry_seq: e.seq,
        problem: `reservation ${reserve.seq} settled twice (also by entry ${earlier.seq})`,
      });
    }
    settled.set(reserve.seq, e);
  });
  const last = history.at(-1);
  if (last) {
    const open = [...reserves.values()].filter((r) => !settled.has(r.seq));
    const held = open.reduce((sum, r) => sum + r.credits, 0);
    if (last.balances.open_reservations !== open.length) {
      findings.push({
        entry_seq: last.seq,
        problem: `open reservations ${last.balances.open_reservations} ≠ unsettled reservations ${open.length}`,
      });
    }
    if (last.balances.held !== held) {
      findings.push({
        entry_seq: last.seq,
        problem: `held ${last.balances.held} ≠ unsettled credits ${held}`,
      });
    }
    if (last.balances.captured !== captured) {
      findings.push({
        entry_seq: last.seq,
        problem: `captured ${last.balances.captured} ≠ sum of captures ${captured}`,
      });
    }
  }
  return findings;
}

/** Checks every account's ledger and books: `POST /admin/v1/audit`. */
export class AuditService {
  constructor(
    private readonly history: (accountId: string) => Promise<LedgerEntry[]>,
    private readonly listAccountIds: () => Promise<string[]>,
    private readonly checks: AccountCheck[] = [],
  ) {}

  async auditAccount(accountId: string): Promise<AuditViolation[]> {
    const history = await this.history(accountId);
    const findings = ledgerFindings(history);
    for (const check of this.checks) findings.push(...(await check(accountId, history)));
    return findings.map((f) => ({ account_id: accountId, ...f }));
  }

  async run(): Promise<AuditReport> {
    const ids = await this.listAccountIds();
    const violations: AuditViolation[] = [];
    for (const accountId of ids) violations.push(...(await this.auditAccount(accountId)));
    return { accounts_checked: ids.length, violations };
  }
}

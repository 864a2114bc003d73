import type { Ledger } from './ledger';

export interface AuditViolation {
  account_id: string;
  problem: string;
}

export interface AuditReport {
  accounts_checked: number;
  violations: AuditViolation[];
}

/** Extra per-account checks contributed by other parts (e.g. jobs: a terminal job holds nothing). */
export type AccountCheck = (accountId: string) => Promise<string[]>;

/** Checks every §5 invariant for every account: `POST /admin/v1/audit`. */
export class AuditService {
  constructor(
    private readonly ledger: Ledger,
    private readonly listAccountIds: () => Promise<string[]>,
    private readonly extraChecks: AccountCheck[] = [],
  ) {}

  addCheck(check: AccountCheck): void {
    this.extraChecks.push(check);
  }

  async run(): Promise<AuditReport> {
    const ids = await this.listAccountIds();
    const violations: AuditViolation[] = [];
    for (const accountId of ids) {
      const problems = await this.ledger.auditAccount(accountId);
      for (const check of this.extraChecks) problems.push(...(await check(accountId)));
      for (const problem of problems) violations.push({ account_id: accountId, problem });
    }
    return { accounts_checked: ids.length, violations };
  }
}

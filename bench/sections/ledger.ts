import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { connectDatabase } from '../../platform/db';
import { Ledger } from '../../core/ledger/ledger';
import type { SectionContext } from '../context';
import { closedLoop } from '../load';
import { perSecond, summarize, type LatencySummary } from '../stats';

/** Reserve-then-capture pairs (one job's ledger movements) against one or many accounts. */
export interface LedgerRun {
  accounts: number;
  concurrency: number;
  seconds: number;
  pairs: number;
  pairs_per_s: number;
  pair_latency: LatencySummary;
}

export interface LedgerResult {
  hot: LedgerRun;
  spread: LedgerRun;
}

const CREDITS_PER_ACCOUNT = 10_000_000;

async function fundedAccounts(ledger: Ledger, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}_${i}`);
  for (const id of ids) {
    await ledger.move(id, 'bench-grant', {
      kind: 'grant',
      credits: CREDITS_PER_ACCOUNT,
      bucket: 'purchased',
    });
  }
  return ids;
}

async function pairs(
  ledger: Ledger,
  accountIds: string[],
  concurrency: number,
  seconds: number,
): Promise<LedgerRun> {
  let next = 0;
  const result = await closedLoop(
    async () => {
      const n = next++;
      const accountId = accountIds[n % accountIds.length]!;
      const jobId = `job_${n}`;
      const { reservation } = await ledger.reserve({ accountId, jobId, credits: 1, requestHash: jobId });
      await ledger.capture(reservation, 1);
      return 'ok';
    },
    { concurrency, seconds },
  );
  const count = result.outcomes.ok ?? 0;
  const errors = Object.entries(result.outcomes).filter(([outcome]) => outcome !== 'ok');
  if (errors.length > 0)
    throw new Error(`ledger pairs failed: ${JSON.stringify(Object.fromEntries(errors))}`);
  return {
    accounts: accountIds.length,
    concurrency,
    seconds,
    pairs: count,
    pairs_per_s: perSecond(count, result.elapsedMs),
    pair_latency: summarize(result.latenciesMs),
  };
}

/**
 * `Ledger` straight on the database, no API and no Temporal: how many jobs' worth of ledger
 * movements (reserve + capture) one process gets through on one hot account, where every
 * movement appends to the same sequence, and spread over many accounts.
 */
export async function benchLedger(
  { settings, log }: SectionContext,
  mongoUri: string,
): Promise<LedgerResult> {
  const { seconds, concurrency, accounts } = settings.ledger;
  const db: Connection = await connectDatabase(mongoUri);
  try {
    const ledger = new Ledger(db);
    await ledger.init();
    const run = randomBytes(4).toString('hex');
    const [hotAccount] = await fundedAccounts(ledger, `bench_hot_${run}`, 1);
    const spreadAccounts = await fundedAccounts(ledger, `bench_spread_${run}`, accounts);

    log(`ledger: one hot account, ${concurrency} at a time, ${seconds} s`);
    const hot = await pairs(ledger, [hotAccount!], concurrency, seconds);
    log(`  ${hot.pairs_per_s} pairs/s, p50 ${hot.pair_latency.p50_ms} ms`);
    log(`ledger: ${accounts} accounts, ${concurrency} at a time, ${seconds} s`);
    const spread = await pairs(ledger, spreadAccounts, concurrency, seconds);
    log(`  ${spread.pairs_per_s} pairs/s, p50 ${spread.pair_latency.p50_ms} ms`);
    return { hot, spread };
  } finally {
    await db.close();
  }
}

import fc from 'fast-check';
import type mongoose from 'mongoose';
import { connectDatabase } from '../../platform/db';
import { available, type Balances } from '../../core/ledger/balances';
import { ledgerFindings } from '../../core/ledger/audit';
import { Ledger, MovementConflict, MovementRefused, type Reservation } from '../../core/ledger/ledger';
import { requireDevStack } from '../support/easel';
import { freshDatabase } from '../support/db';

/**
 * An independent model of the ledger: plain counters per bucket and per job, written without the
 * production arithmetic, so that the property test compares two implementations.
 */
class LedgerModel {
  plan = 0;
  purchased = 0;
  captured = 0;
  expired = 0;
  granted = 0;
  period = 0;
  jobs = new Map<
    string,
    { credits: number; plan: number; purchased: number; period: number; settled: boolean }
  >();
  held(): number {
    let h = 0;
    for (const j of this.jobs.values()) if (!j.settled) h += j.plan + j.purchased;
    return h;
  }
}

type Command =
  | { op: 'grant'; credits: number; bucket: 'plan' | 'purchased' }
  | { op: 'reserve'; job: number; credits: number }
  | { op: 'capture'; job: number; credits: number }
  | { op: 'release'; job: number }
  | { op: 'renew' }
  | { op: 'replay'; job: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    op: fc.constant('grant' as const),
    credits: fc.integer({ min: 0, max: 20 }),
    bucket: fc.constantFrom('plan' as const, 'purchased' as const),
  }),
  fc.record({
    op: fc.constant('reserve' as const),
    job: fc.integer({ min: 0, max: 7 }),
    credits: fc.integer({ min: 1, max: 12 }),
  }),
  fc.record({
    op: fc.constant('capture' as const),
    job: fc.integer({ min: 0, max: 7 }),
    credits: fc.integer({ min: 0, max: 12 }),
  }),
  fc.record({ op: fc.constant('release' as const), job: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('renew' as const) }),
  fc.record({ op: fc.constant('replay' as const), job: fc.integer({ min: 0, max: 7 }) }),
);

function periodOf(n: number): { start: string; end: string } {
  return {
    start: new Date(Date.UTC(2026, n, 1)).toISOString(),
    end: new Date(Date.UTC(2026, n + 1, 1)).toISOString(),
  };
}

/**
 * Applies a command to the model; returns whether the real ledger must refuse it (too few
 * credits), or see a conflict (a job's reservation key again with other credits).
 */
function applyToModel(m: LedgerModel, c: Command): 'ok' | 'refused' | 'conflict' | 'noop' {
  switch (c.op) {
    case 'grant':
      if (c.bucket === 'plan') m.plan += c.credits;
      else m.purchased += c.credits;
      m.granted += c.credits;
      return 'ok';
    case 'reserve': {
      const earlier = m.jobs.get(`j${c.job}`);
      if (earlier) return earlier.credits === c.credits ? 'noop' : 'conflict';
      if (m.plan + m.purchased < c.credits) return 'refused';
      const fromPlan = Math.min(m.plan, c.credits);
      m.plan -= fromPlan;
      m.purchased -= c.credits - fromPlan;
      m.jobs.set(`j${c.job}`, {
        credits: c.credits,
        plan: fromPlan,
        purchased: c.credits - fromPlan,
        period: m.period,
        settled: false,
      });
      return 'ok';
    }
    case 'capture':
    case 'release': {
      const job = m.jobs.get(`j${c.job}`);
      if (!job || job.settled) return 'noop';
      const charge = c.op === 'capture' ? c.credits : 0;
      if (charge > job.plan + job.purchased) return 'refused';
      const chargedPlan = Math.min(job.plan, charge);
      const backPlan = job.plan - chargedPlan;
      const backPurchased = job.purchased - (charge - chargedPlan);
      if (job.period === m.period) m.plan += backPlan;
      else m.expired += backPlan;
      m.purchased += backPurchased;
      m.captured += charge;
      job.settled = true;
      return 'ok';
    }
    case 'renew':
      m.expired += m.plan;
      m.plan = 0;
      m.period += 1;
      return 'ok';
    case 'replay':
      return 'noop';
  }
}

/** The reservations the model test made, by account and job. */
const reservations = new Map<string, Reservation>();

const reserveOf = (accountId: string, job: number | string, credits: number, maxOpen?: number) => ({
  accountId,
  jobId: `j${job}`,
  credits,
  requestHash: `request of j${job}`,
  ...(maxOpen !== undefined && { maxOpenReservations: maxOpen }),
});

const audit = async (ledger: Ledger, account: string) => ledgerFindings(await ledger.history(account));

async function applyToLedger(
  ledger: Ledger,
  account: string,
  c: Command,
  m: LedgerModel,
  step: number,
): Promise<void> {
  switch (c.op) {
    case 'grant':
      await ledger.move(account, `g${step}`, {
        kind: 'grant',
        credits: c.credits,
        bucket: c.bucket,
        ...(c.bucket === 'plan' && { period: periodOf(m.period) }),
      });
      return;
    case 'reserve': {
      const { reservation } = await ledger.reserve(reserveOf(account, c.job, c.credits));
      reservations.set(`${account}:${c.job}`, reservation);
      return;
    }
    case 'capture':
    case 'release': {
      // A job that never reserved has nothing to settle.
      const reservation = reservations.get(`${account}:${c.job}`);
      if (!reservation) return;
      if (c.op === 'capture') await ledger.capture(reservation, c.credits);
      else await ledger.release(reservation, 'test');
      return;
    }
    case 'renew':
      await ledger.move(account, `expire:${step}`, { kind: 'expire' });
      await ledger.move(account, `period:${step}`, {
        kind: 'grant',
        credits: 0,
        bucket: 'plan',
        period: periodOf(m.period),
      });
      return;
    case 'replay': {
      // Re-sending a job's reservation and settlement moves nothing.
      const earlier = reservations.get(`${account}:${c.job}`)!;
      const { reservation, replayed } = await ledger.reserve(reserveOf(account, c.job, earlier.credits));
      expect(replayed).toBe(true);
      expect((await ledger.release(reservation, 'replay')).replayed).toBe(true);
      return;
    }
  }
}

describe('credit ledger', () => {
  let db: mongoose.Connection;
  let ledger: Ledger;
  beforeAll(async () => {
    db = await freshDatabase();
    ledger = new Ledger(db);
    await ledger.init();
  });
  afterAll(() => db.close());

  it('matches an independent model over random operation sequences, invariants holding at every step', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb, { minLength: 1, maxLength: 25 }), async (commands) => {
        const account = `acct_model_${run++}`;
        const model = new LedgerModel();
        // Replays of a settled job are real no-ops; of a never-reserved job they would reserve.
        let step = 0;
        for (const c of commands) {
          step += 1;
          const cmd: Command =
            c.op === 'replay' && !model.jobs.get(`j${c.job}`)?.settled ? { op: 'renew' } : c;
          const expected = applyToModel(model, cmd);
          if (expected === 'refused' || expected === 'conflict') {
            await expect(applyToLedger(ledger, account, cmd, model, step)).rejects.toBeInstanceOf(
              expected === 'refused' ? MovementRefused : MovementConflict,
            );
          } else {
            await applyToLedger(ledger, account, cmd, model, step);
          }
          const b: Balances = await ledger.balances(account);
          expect({
            plan: b.plan,
            purchased: b.purchased,
            held: b.held,
            captured: b.captured,
            expired: b.expired,
            granted: b.granted,
          }).toEqual({
            plan: model.plan,
            purchased: model.purchased,
            held: model.held(),
            captured: model.captured,
            expired: model.expired,
            granted: model.granted,
          });
        }
        expect(await audit(ledger, account)).toEqual([]);
      }),
      { numRuns: 25 },
    );
  });

  it('lets exactly 100 of 200 concurrent 1-credit reservations through on a 100-credit account', async () => {
    // Several ledgers on separate connections stand in for several worker processes: each has its
    // own in-process queue, so they genuinely race for the account's next sequence number.
    const { mongoUri } = requireDevStack();
    const processes = await Promise.all(
      Array.from({ length: 8 }, () => connectDatabase(`${mongoUri}${db.name}`)),
    );
    try {
      const ledgers = processes.map((c) => new Ledger(c));
      const account = 'acct_concurrent';
      await ledger.move(account, 'seed', { kind: 'grant', credits: 100, bucket: 'purchased' });
      const results = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) => ledgers[i % ledgers.length]!.reserve(reserveOf(account, i, 1))),
      );
      const ok = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected' && r.reason instanceof MovementRefused);
      expect(ok).toHaveLength(100);
      expect(refused).toHaveLength(100);
      for (const r of refused) {
        expect(((r as PromiseRejectedResult).reason as MovementRefused).refusal.refused).toBe(
          'insufficient_credits',
        );
      }
      const b = await ledger.balances(account);
      expect(available(b)).toBe(0);
      expect(b.held).toBe(100);
      expect(await audit(ledger, account)).toEqual([]);
    } finally {
      await Promise.all(processes.map((c) => c.close()));
    }
  });

  it('moves credits once when the same reservation key arrives twice concurrently', async () => {
    const { mongoUri } = requireDevStack();
    const other = await connectDatabase(`${mongoUri}${db.name}`);
    try {
      const account = 'acct_same_key';
      await ledger.move(account, 'seed', { kind: 'grant', credits: 10, bucket: 'purchased' });
      const [a, b] = await Promise.all([
        ledger.reserve(reserveOf(account, 'x', 3)),
        new Ledger(other).reserve(reserveOf(account, 'x', 3)),
      ]);
      expect([a.replayed, b.replayed].sort()).toEqual([false, true]);
      expect(a.reservation).toEqual(b.reservation);
      const balances = await ledger.balances(account);
      expect(available(balances)).toBe(7);
      expect(balances.held).toBe(3);
      // Capture and release share one settlement key: whichever comes second moves nothing.
      const [capture, release] = await Promise.all([
        ledger.capture(a.reservation, 2),
        ledger.release(b.reservation, 'late'),
      ]);
      expect([capture.replayed, release.replayed].sort()).toEqual([false, true]);
      expect(await audit(ledger, account)).toEqual([]);
    } finally {
      await other.close();
    }
  });

  it('refuses a reservation past the concurrent-jobs limit and accepts it once a job settles', async () => {
    const account = 'acct_limit';
    await ledger.move(account, 'seed', { kind: 'grant', credits: 50, bucket: 'purchased' });
    const { reservation: a } = await ledger.reserve(reserveOf(account, 'a', 1, 2));
    await ledger.reserve(reserveOf(account, 'b', 1, 2));
    await expect(ledger.reserve(reserveOf(account, 'c', 1, 2))).rejects.toMatchObject({
      refusal: { refused: 'concurrent_jobs', limit: 2 },
    });
    await ledger.capture(a, 1);
    await expect(ledger.reserve(reserveOf(account, 'c', 1, 2))).resolves.toMatchObject({ replayed: false });
  });

  it('reads a balance with the same few primary-key reads however long the ledger is', async () => {
    const account = 'acct_long';
    for (let i = 0; i < 300; i++)
      await ledger.move(account, `g${i}`, { kind: 'grant', credits: 1, bucket: 'purchased' });
    await ledger.flushHints();
    const reads: string[] = [];
    db.set('debug', (collection: string, method: string) => reads.push(`${collection}.${method}`));
    try {
      expect(available(await ledger.balances(account))).toBe(300);
    } finally {
      db.set('debug', false);
    }
    expect(reads).toEqual(['ledger_heads.findOne', 'ledger_entries.findOne']);
  });
});

/**
 * Ledger arithmetic, free of I/O: given an account's balances after its latest entry and a
 * movement, the balances after the movement, or why the movement is refused. The persistent
 * ledger and the model-based property test both run on these functions.
 */

export interface BillingPeriodWindow {
  start: string; // ISO timestamp
  end: string;
}

export interface Balances {
  /** Plan credits still available in the current period; they expire at its end. */
  plan: number;
  /** Granted or purchased credits (trial included); they never expire. */
  purchased: number;
  /** Reserved by running jobs. */
  held: number;
  /** Cumulative totals, for the conservation invariant. */
  granted: number;
  captured: number;
  expired: number;
  /** Reservations neither captured nor released: the account's running jobs. */
  open_reservations: number;
  /** The current billing period, null for an account without plan credits. */
  period: BillingPeriodWindow | null;
}

export const EMPTY_BALANCES: Balances = {
  plan: 0,
  purchased: 0,
  held: 0,
  granted: 0,
  captured: 0,
  expired: 0,
  open_reservations: 0,
  period: null,
};

export function available(b: Balances): number {
  return b.plan + b.purchased;
}

export type EntryKind = 'grant' | 'reserve' | 'capture' | 'release' | 'expire' | 'adjust';

/**
 * A job's hold on credits, as its reserve movement made it. The API gets it from `reserve`, the
 * workflow carries it, and the settlement hands it unchanged to `capture` or `release`.
 */
export interface Reservation {
  account_id: string;
  job_id: string;
  /** Sequence number of the reserve entry. */
  seq: number;
  credits: number;
  /** Where the credits came from, so that capture and release put them back exactly. */
  from_plan: number;
  from_purchased: number;
  /** The period whose plan credits were taken; released plan credits of an ended period expire. */
  period_start: string | null;
}

/** The part of a reservation that its reserve entry records (the rest is the entry itself). */
export type ReservationSplit = Pick<Reservation, 'from_plan' | 'from_purchased' | 'period_start'>;

/** What settling a reservation needs to know of it. */
type Hold = ReservationSplit & Pick<Reservation, 'credits'>;

export type Movement =
  | { kind: 'grant'; credits: number; bucket: 'plan' | 'purchased'; period?: BillingPeriodWindow | null }
  | { kind: 'reserve'; credits: number; max_open_reservations?: number }
  | { kind: 'capture'; credits: number; reservation: Hold }
  | { kind: 'release'; reservation: Hold }
  | { kind: 'expire'; period?: BillingPeriodWindow | null }
  | { kind: 'adjust'; credits: number };

export interface EntryEffect {
  balances: Balances;
  /** Credits the entry moved (for display); for a capture, the credits charged. */
  credits: number;
  reservation?: ReservationSplit;
  /** A capture of fewer credits than reserved releases the rest in the same entry. */
  released?: number;
  /** Plan credits released after their period ended expire at once. */
  expired?: number;
}

export type Refusal =
  | { refused: 'insufficient_credits'; available: number; required: number }
  | { refused: 'concurrent_jobs'; open_reservations: number; limit: number }
  | { refused: 'invalid'; message: string };

export function isRefusal(x: EntryEffect | Refusal): x is Refusal {
  return 'refused' in x;
}

function assertCredits(n: number, allowZero = false): string | undefined {
  if (!Number.isSafeInteger(n)) return 'credits must be an integer';
  if (n < 0 || (!allowZero && n === 0)) return 'credits must be positive';
  return undefined;
}

export function applyMovement(b: Balances, m: Movement): EntryEffect | Refusal {
  switch (m.kind) {
    case 'grant': {
      const bad = assertCredits(m.credits, true);
      if (bad) return { refused: 'invalid', message: bad };
      const next = { ...b, granted: b.granted + m.credits };
      if (m.bucket === 'plan') next.plan += m.credits;
      else next.purchased += m.credits;
      if (m.period !== undefined) next.period = m.period;
      return { balances: next, credits: m.credits };
    }
    case 'reserve': {
      const bad = assertCredits(m.credits);
      if (bad) return { refused: 'invalid', message: bad };
      if (m.max_open_reservations !== undefined && b.open_reservations >= m.max_open_reservations) {
        return {
          refused: 'concurrent_jobs',
          open_reservations: b.open_reservations,
          limit: m.max_open_reservations,
        };
      }
      if (available(b) < m.credits) {
        return { refused: 'insufficient_credits', available: available(b), required: m.credits };
      }
      // Plan credits first: they expire at the period's end, purchased ones never do.
      const fromPlan = Math.min(b.plan, m.credits);
      const fromPurchased = m.credits - fromPlan;
      return {
        balances: {
          ...b,
          plan: b.plan - fromPlan,
          purchased: b.purchased - fromPurchased,
          held: b.held + m.credits,
          open_reservations: b.open_reservations + 1,
        },
        credits: m.credits,
        reservation: {
          from_plan: fromPlan,
          from_purchased: fromPurchased,
          period_start: b.period?.start ?? null,
        },
      };
    }
    case 'capture': {
      const r = m.reservation;
      const bad = assertCredits(m.credits, true);
      if (bad) return { refused: 'invalid', message: bad };
      if (m.credits > r.credits) {
        return {
          refused: 'invalid',
          message: `cannot capture ${m.credits} credits of a ${r.credits}-credit reservation`,
        };
      }
      // Charge plan credits first, as the reservation took them first; return the rest.
      const chargedPlan = Math.min(r.from_plan, m.credits);
      const chargedPurchased = m.credits - chargedPlan;
      return settle(b, r, r.from_plan - chargedPlan, r.from_purchased - chargedPurchased, m.credits);
    }
    case 'release':
      return settle(b, m.reservation, m.reservation.from_plan, m.reservation.from_purchased, 0);
    case 'expire': {
      const next = { ...b, plan: 0, expired: b.expired + b.plan };
      if (m.period !== undefined) next.period = m.period;
      return { balances: next, credits: b.plan };
    }
    case 'adjust': {
      if (!Number.isSafeInteger(m.credits) || m.credits === 0) {
        return { refused: 'invalid', message: 'credits must be a non-zero integer' };
      }
      if (b.purchased + m.credits < 0) {
        return { refused: 'insufficient_credits', available: b.purchased, required: -m.credits };
      }
      return {
        balances: { ...b, purchased: b.purchased + m.credits, granted: b.granted + m.credits },
        credits: m.credits,
      };
    }
  }
}

function settle(
  b: Balances,
  r: Hold,
  returnPlan: number,
  returnPurchased: number,
  charged: number,
): EntryEffect {
  // Plan credits from a period that has since ended are not returned to the new period.
  const periodEnded = r.period_start !== (b.period?.start ?? null);
  const expiredNow = periodEnded ? returnPlan : 0;
  const released = returnPlan + returnPurchased;
  return {
    balances: {
      ...b,
      plan: b.plan + returnPlan - expiredNow,
      purchased: b.purchased + returnPurchased,
      held: b.held - r.credits,
      captured: b.captured + charged,
      expired: b.expired + expiredNow,
      open_reservations: b.open_reservations - 1,
    },
    credits: charged,
    released,
    expired: expiredNow,
  };
}

/** The §5 invariants on one snapshot; an empty list when it is sound. */
export function balanceViolations(b: Balances): string[] {
  const problems: string[] = [];
  if (b.plan < 0) problems.push(`plan credits negative (${b.plan})`);
  if (b.purchased < 0) problems.push(`purchased credits negative (${b.purchased})`);
  if (b.held < 0) problems.push(`held negative (${b.held})`);
  if (b.open_reservations < 0) problems.push(`open reservations negative (${b.open_reservations})`);
  const lhs = b.granted - b.expired;
  const rhs = available(b) + b.held + b.captured;
  if (lhs !== rhs) problems.push(`granted − expired (${lhs}) ≠ available + held + captured (${rhs})`);
  return problems;
}

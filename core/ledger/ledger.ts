import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { DomainError, type DomainErrorCode } from '../errors';
import { isDuplicateKey, typedCollection } from '../../platform/db';
import {
  applyMovement,
  available,
  EMPTY_BALANCES,
  isRefusal,
  type Balances,
  type EntryKind,
  type Movement,
  type Refusal,
  type Reservation,
  type ReservationSplit,
} from './balances';
import { KeyedMutex } from './keyed-mutex';

/**
 * The credit ledger: an append-only list of entries per account, each carrying the balances after
 * it. Correct on MongoDB and on FerretDB v1 without transactions or atomic conditional updates:
 *
 * - an entry's `_id` is `<account>:<seq>`, so two writers that read the same head and both try to
 *   append seq n+1 collide on the primary key and the loser re-reads and retries;
 * - a unique index on (account_id, idempotency_key) makes every movement happen at most once.
 *
 * FerretDB v1 only pushes `{_id: <string>}` filters down to its storage, so every hot read here is
 * by `_id`: a per-account head hint (`ledger_heads`, a cache that may lag) and forward probes of
 * `<account>:<seq+1>` until one is missing. Reading a balance therefore costs two primary-key reads
 * whatever the ledger's length.
 */

export interface LedgerEntry {
  _id: string;
  account_id: string;
  seq: number;
  kind: EntryKind;
  credits: number;
  idempotency_key: string;
  job_id?: string;
  reason?: string;
  /** A reserve entry: where its credits came from. */
  reservation?: ReservationSplit;
  /** A reserve entry: the hash of the request it reserved for, so a replay must be that request. */
  request_hash?: string;
  /** A capture or release: the sequence number of the reserve entry it settles. */
  settles?: number;
  released?: number;
  expired?: number;
  balances: Balances;
  created_at: Date;
}

type Head = Pick<LedgerEntry, 'seq' | 'balances'>;

/** Heads remembered per process; the oldest are forgotten past this many accounts. */
const MAX_KNOWN_HEADS = 10_000;

interface LedgerHead {
  _id: string;
  seq: number;
  balances: Balances;
}

const SEQ_WIDTH = 12;
export const entryId = (accountId: string, seq: number): string =>
  `${accountId}:${String(seq).padStart(SEQ_WIDTH, '0')}`;

const balancesSchema = new Schema<Balances>(
  {
    plan: Number,
    purchased: Number,
    held: Number,
    granted: Number,
    captured: Number,
    expired: Number,
    open_reservations: Number,
    period: { type: new Schema({ start: String, end: String }, { _id: false }), default: null },
  },
  { _id: false },
);

const entrySchema = new Schema<LedgerEntry>(
  {
    _id: String,
    account_id: { type: String, required: true },
    seq: { type: Number, required: true },
    kind: { type: String, required: true },
    credits: { type: Number, required: true },
    idempotency_key: { type: String, required: true },
    job_id: String,
    reason: String,
    reservation: new Schema(
      { from_plan: Number, from_purchased: Number, period_start: String },
      { _id: false },
    ),
    request_hash: String,
    settles: Number,
    released: Number,
    expired: Number,
    balances: { type: balancesSchema, required: true },
    created_at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'ledger_entries' },
);
entrySchema.index({ account_id: 1, idempotency_key: 1 }, { unique: true, name: 'one_movement_per_key' });
// The stranded-reservation sweep reads the last day's reserve and settle entries.
entrySchema.index({ created_at: 1 }, { name: 'by_time' });

const headSchema = new Schema<LedgerHead>(
  { _id: String, seq: Number, balances: balancesSchema },
  { versionKey: false, collection: 'ledger_heads' },
);

/**
 * The balances do not allow a movement; nothing was written. Its code is what clients see:
 * `insufficient_credits`, `concurrent_jobs_limit`, or `invalid_request` for a malformed movement.
 */
export class MovementRefused extends DomainError {
  constructor(readonly refusal: Refusal) {
    super(...describeRefusal(refusal));
  }
}

function describeRefusal(r: Refusal): [DomainErrorCode, string, Record<string, unknown>?] {
  switch (r.refused) {
    case 'insufficient_credits':
      return [
        'insufficient_credits',
        `This job needs ${r.required} credits; ${r.available} are available. Buy or wait for more credits, or pick a cheaper model.`,
        { available: r.available, required: r.required },
      ];
    case 'concurrent_jobs':
      return [
        'concurrent_jobs_limit',
        `Too many running jobs: this account may run ${r.limit} at once. Retry when one finishes.`,
        { limit: 'concurrent_jobs', value: r.limit, running: r.open_reservations },
      ];
    case 'invalid':
      return ['invalid_request', r.message];
  }
}

/**
 * The idempotency key already moved credits in another movement (another amount, another kind,
 * another request): nothing moved, and the earlier entry is not passed off as this one's.
 */
export class MovementConflict extends DomainError {
  constructor(
    readonly idempotencyKey: string,
    readonly existing: LedgerEntry,
  ) {
    super(
      'idempotency_key_conflict',
      `This idempotency key was already used for another movement (${existing.kind} of ${existing.credits} credits, entry ${existing.seq}); use a new key for a new movement.`,
      { entry_seq: existing.seq, kind: existing.kind, credits: existing.credits },
    );
  }
}

/** What a movement records besides its arithmetic. */
export interface MovementDetails {
  job_id?: string;
  reason?: string;
  request_hash?: string;
  settles?: number;
}

const isSettlement = (kind: EntryKind): boolean => kind === 'capture' || kind === 'release';

/**
 * Whether an existing entry is this movement made before (a replay) rather than another movement
 * under the same key. Capture and release of one reservation share a key on purpose: the first
 * settles it, and a later one gets that settlement back, whichever kind it was.
 */
function isSameMovement(existing: LedgerEntry, movement: Movement, details: MovementDetails): boolean {
  if (isSettlement(existing.kind) && isSettlement(movement.kind)) return existing.settles === details.settles;
  if (existing.kind !== movement.kind) return false;
  if ((existing.request_hash ?? null) !== (details.request_hash ?? null)) return false;
  switch (movement.kind) {
    case 'grant':
    case 'reserve':
    case 'adjust':
      return existing.credits === movement.credits;
    default:
      // An expiry's credits are whatever was left: the key (its period) is the movement.
      return true;
  }
}

export interface MovementResult {
  entry: LedgerEntry;
  /** True when this idempotency key had already moved credits: nothing moved this time. */
  replayed: boolean;
}

export interface LedgerOptions {
  clock?: () => Date;
  /** Give up after this many lost races for one account's next sequence number. */
  maxConflictRetries?: number;
}

const DEFAULT_MAX_CONFLICT_RETRIES = 1000;
/** The least time between two head-hint writes of one account by one process. */
const HINT_INTERVAL_MS = 250;

export interface ReserveRequest {
  accountId: string;
  jobId: string;
  credits: number;
  /** Hash of the request the credits are for: a replay under the same key must be that request. */
  requestHash: string;
  /** The account's concurrent-jobs limit. */
  maxOpenReservations?: number;
  /**
   * 1 for a job's first reservation; a job whose earlier reservation was released before its
   * document was written (a failed write) reserves again under the next attempt.
   */
  attempt?: number;
}

export interface ReserveResult {
  reservation: Reservation;
  /** True when this job had reserved already: nothing moved this time. */
  replayed: boolean;
}

/** An open or settled reservation as the stranded-reservation sweep and the audit see it. */
export interface ReservationRecord {
  reservation: Reservation;
  created_at: Date;
  /** The capture or release that settled it, if any. */
  settlement: LedgerEntry | null;
}

const reserveKey = (jobId: string, attempt = 1): string =>
  attempt === 1 ? `reserve:${jobId}` : `reserve:${jobId}#${attempt}`;
/** One settlement per reservation, whichever of capture and release comes first. */
const settleKey = (r: Pick<Reservation, 'job_id' | 'seq'>): string => `settle:${r.job_id}@${r.seq}`;

/** The reservation a reserve entry made. */
export function reservationOf(entry: LedgerEntry): Reservation {
  if (entry.kind !== 'reserve' || !entry.job_id || !entry.reservation) {
    throw new Error(`ledger entry ${entry._id} is not a job's reservation`);
  }
  return {
    account_id: entry.account_id,
    job_id: entry.job_id,
    seq: entry.seq,
    credits: entry.credits,
    from_plan: entry.reservation.from_plan,
    from_purchased: entry.reservation.from_purchased,
    period_start: entry.reservation.period_start,
  };
}

export class Ledger {
  private readonly entries: Model<LedgerEntry>;
  private readonly heads: Model<LedgerHead>;
  private readonly mutex = new KeyedMutex();
  private readonly knownHeads = new Map<string, Head>();
  private readonly hintWrites = new Map<string, { writing: Promise<void>; next?: LedgerEntry }>();
  private readonly clock: () => Date;
  private readonly maxConflictRetries: number;

  constructor(connection: Connection = mongoose.connection, options: LedgerOptions = {}) {
    this.entries = connection.models.LedgerEntry ?? connection.model<LedgerEntry>('LedgerEntry', entrySchema);
    this.heads = connection.models.LedgerHead ?? connection.model<LedgerHead>('LedgerHead', headSchema);
    this.clock = options.clock ?? (() => new Date());
    this.maxConflictRetries = options.maxConflictRetries ?? DEFAULT_MAX_CONFLICT_RETRIES;
  }

  async init(): Promise<void> {
    await this.entries.createCollection().catch(() => undefined);
    await this.entries.syncIndexes();
  }

  private rememberHead(accountId: string, head: Head): void {
    this.knownHeads.delete(accountId); // re-insert: Map order is recency order
    this.knownHeads.set(accountId, head);
    if (this.knownHeads.size > MAX_KNOWN_HEADS) {
      const oldest = this.knownHeads.keys().next().value;
      if (oldest !== undefined) this.knownHeads.delete(oldest);
    }
  }

  /**
   * Updates the account's head hint off the movement's critical path. Writes for one account are
   * chained (the newest pending one wins), so the hint only moves forward from this process, and
   * spaced HINT_INTERVAL_MS apart: a busy account's hint costs a few writes a second, not one per
   * movement, and a reader probes past the few entries it lags behind.
   */
  private publishHint(accountId: string, entry: LedgerEntry): void {
    const inFlight = this.hintWrites.get(accountId);
    if (inFlight) {
      inFlight.next = entry;
      return;
    }
    const write = async (e: LedgerEntry): Promise<void> => {
      await typedCollection(this.heads)
        .replaceOne({ _id: accountId }, { seq: e.seq, balances: e.balances }, { upsert: true })
        .catch(() => undefined); // a hint: readers probe past a stale one
      // Movements during the pause only replace the pending entry; the newest is written next.
      await new Promise((r) => setTimeout(r, HINT_INTERVAL_MS));
      const state = this.hintWrites.get(accountId);
      if (state?.next) {
        const next = state.next;
        state.next = undefined;
        state.writing = write(next);
      } else {
        this.hintWrites.delete(accountId);
      }
    };
    this.hintWrites.set(accountId, { writing: Promise.resolve() });
    this.hintWrites.get(accountId)!.writing = write(entry);
  }

  /** Waits for pending hint writes (shutdown, tests). */
  async flushHints(): Promise<void> {
    while (this.hintWrites.size > 0) {
      await Promise.all([...this.hintWrites.values()].map((w) => w.writing));
    }
  }

  /** The latest entry of an account (null for an account without entries). */
  async head(accountId: string): Promise<LedgerEntry | null> {
    return this.headPast<LedgerEntry>(accountId, null);
  }

  /**
   * The head, given one this process knows that may be stale (another process appended since).
   * The walk starts from whichever is newer, the known head or the shared hint: the hint lags (it
   * is written at most every HINT_INTERVAL_MS, a writer may die between its insert and the hint
   * update), but both processes write it, so after a burst of the other's movements it is far
   * ahead of the known head.
   */
  private async headPast<K extends Head>(
    accountId: string,
    known: K | null,
  ): Promise<LedgerEntry | K | null> {
    const hint = await this.heads.findById(accountId).lean<LedgerHead>();
    const latest = await this.newestAfter(accountId, Math.max(known?.seq ?? 0, hint?.seq ?? 0));
    if (latest) return latest;
    if (hint && hint.seq > (known?.seq ?? 0)) return this.syntheticHead(accountId, hint);
    return known;
  }

  /** The newest entry past `seq`, walking forward until the next sequence number is free. */
  private async newestAfter(accountId: string, seq: number): Promise<LedgerEntry | null> {
    let latest: LedgerEntry | null = null;
    for (let at = seq + 1; ; at++) {
      const next = await this.entries.findById(entryId(accountId, at)).lean<LedgerEntry>();
      if (!next) return latest;
      latest = next;
    }
  }

  private syntheticHead(accountId: string, hint: LedgerHead): LedgerEntry {
    // The hint's copy of the head's balances saves a read; it is written from the entry itself.
    return {
      _id: entryId(accountId, hint.seq),
      account_id: accountId,
      seq: hint.seq,
      kind: 'grant',
      credits: 0,
      idempotency_key: '',
      balances: hint.balances,
      created_at: new Date(0),
    };
  }

  async balances(accountId: string): Promise<Balances> {
    return (await this.head(accountId))?.balances ?? EMPTY_BALANCES;
  }

  /** Finds the entry that an idempotency key produced, if any (a full scan on FerretDB: rare path). */
  private async findByKey(accountId: string, idempotencyKey: string): Promise<LedgerEntry | null> {
    return this.entries
      .findOne({ account_id: accountId, idempotency_key: idempotencyKey })
      .lean<LedgerEntry>();
  }

  /** An earlier entry under this movement's key: this movement made before, or a conflict. */
  private replay(
    idempotencyKey: string,
    existing: LedgerEntry,
    movement: Movement,
    details: MovementDetails,
  ): MovementResult {
    if (!isSameMovement(existing, movement, details)) throw new MovementConflict(idempotencyKey, existing);
    return { entry: existing, replayed: true };
  }

  /**
   * Appends one movement, at most once per (account, idempotency key). Throws MovementRefused
   * when the balances do not allow it, and MovementConflict when the key already moved credits
   * in another movement; nothing is written then.
   */
  async move(
    accountId: string,
    idempotencyKey: string,
    movement: Movement,
    details: MovementDetails = {},
  ): Promise<MovementResult> {
    return this.mutex.run(accountId, () => this.moveUnlocked(accountId, idempotencyKey, movement, details));
  }

  private async moveUnlocked(
    accountId: string,
    idempotencyKey: string,
    movement: Movement,
    details: MovementDetails,
  ): Promise<MovementResult> {
    let previousSeq = -1;
    // This process's last known head: a cache. When another process has appended since, the
    // insert below collides on the primary key and the entries past it are read.
    let head: Head | null | undefined = this.knownHeads.get(accountId);
    let fromCache = head !== undefined;
    for (let attempt = 0; attempt <= this.maxConflictRetries; attempt++) {
      if (head === undefined) {
        head = await this.head(accountId);
        fromCache = false;
      }
      const seq: number = head?.seq ?? 0;
      if (seq === previousSeq) {
        // The head did not move, yet the insert conflicted: the conflict is on the idempotency
        // index, so this key already moved credits in an earlier entry.
        const existing = await this.findByKey(accountId, idempotencyKey);
        if (existing) return this.replay(idempotencyKey, existing, movement, details);
      }
      previousSeq = seq;

      const effect = applyMovement(head?.balances ?? EMPTY_BALANCES, movement);
      if (isRefusal(effect)) {
        if (fromCache) {
          // Never refuse on a cached balance: another process may have granted credits since.
          head = await this.headPast(accountId, head ?? null);
          fromCache = false;
          previousSeq = -1;
          continue;
        }
        // A refused retry of a movement that already happened is a replay, not a refusal.
        const existing = await this.findByKey(accountId, idempotencyKey);
        if (existing) return this.replay(idempotencyKey, existing, movement, details);
        throw new MovementRefused(effect);
      }

      const entry: LedgerEntry = {
        _id: entryId(accountId, seq + 1),
        account_id: accountId,
        seq: seq + 1,
        kind: movement.kind,
        credits: effect.credits,
        idempotency_key: idempotencyKey,
        balances: effect.balances,
        created_at: this.clock(),
        ...(details.job_id !== undefined && { job_id: details.job_id }),
        ...(details.reason !== undefined && { reason: details.reason }),
        ...(details.request_hash !== undefined && { request_hash: details.request_hash }),
        ...(details.settles !== undefined && { settles: details.settles }),
        ...(effect.reservation && { reservation: effect.reservation }),
        ...(effect.released !== undefined && { released: effect.released }),
        ...(effect.expired !== undefined && { expired: effect.expired }),
      };
      try {
        await typedCollection(this.entries).insertOne(entry);
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
        // Another process appended since this one's last movement (or this key moved credits
        // before): read on from the newer of the head known here and the shared hint.
        this.knownHeads.delete(accountId);
        head = await this.headPast(accountId, head ?? null);
        fromCache = false;
        continue;
      }
      this.rememberHead(accountId, { seq: entry.seq, balances: entry.balances });
      this.publishHint(accountId, entry);
      return { entry, replayed: false };
    }
    throw new Error(
      `ledger: gave up after ${this.maxConflictRetries} conflicting writes on account ${accountId}`,
    );
  }

  // Job-facing movements. A reservation is bound to its request: replaying its key with other
  // credits or another request is a MovementConflict. Capture and release of one reservation
  // share one key, so it is settled exactly once whichever of the two comes first.

  async reserve(request: ReserveRequest): Promise<ReserveResult> {
    const { entry, replayed } = await this.move(
      request.accountId,
      reserveKey(request.jobId, request.attempt),
      {
        kind: 'reserve',
        credits: request.credits,
        ...(request.maxOpenReservations !== undefined && {
          max_open_reservations: request.maxOpenReservations,
        }),
      },
      { job_id: request.jobId, request_hash: request.requestHash },
    );
    return { reservation: reservationOf(entry), replayed };
  }

  /**
   * Charges `credits` (≤ reserved) and returns the rest. The answer's entry is the settlement,
   * which may be an earlier release of the same reservation: the caller charges what it says.
   */
  async capture(reservation: Reservation, credits: number): Promise<MovementResult> {
    return this.move(
      reservation.account_id,
      settleKey(reservation),
      { kind: 'capture', credits, reservation },
      { job_id: reservation.job_id, settles: reservation.seq },
    );
  }

  /** Returns the whole reservation (or gets back the settlement that came first). */
  async release(reservation: Reservation, reason: string): Promise<MovementResult> {
    return this.move(
      reservation.account_id,
      settleKey(reservation),
      { kind: 'release', reservation },
      { job_id: reservation.job_id, reason, settles: reservation.seq },
    );
  }

  /** The capture or release of a reservation, if it was settled (a scan on FerretDB: rare path). */
  async settlementOf(reservation: Reservation): Promise<LedgerEntry | null> {
    return this.findByKey(reservation.account_id, settleKey(reservation));
  }

  /** One entry by its sequence number. */
  async entry(accountId: string, seq: number): Promise<LedgerEntry | null> {
    return this.entries.findById(entryId(accountId, seq)).lean<LedgerEntry>();
  }

  /** An account's whole history, oldest first (the audit). */
  async history(accountId: string): Promise<LedgerEntry[]> {
    const entries = await this.entries.find({ account_id: accountId }).lean<LedgerEntry[]>();
    return entries.sort((a, b) => a.seq - b.seq);
  }

  /** The entries that moved a job's credits (the admin job view), oldest first. */
  async jobMovements(accountId: string, jobId: string): Promise<LedgerEntry[]> {
    const entries = await this.entries.find({ account_id: accountId, job_id: jobId }).lean<LedgerEntry[]>();
    return entries.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Reservations of every account made in [from, to), each with its settlement if any (the
   * stranded-reservation sweep). Settlements always follow their reservation, so one read of
   * the entries since `from` finds both.
   */
  async reservationsMadeBetween(from: Date, to: Date): Promise<ReservationRecord[]> {
    const entries = await this.entries
      .find({ created_at: { $gte: from }, kind: { $in: ['reserve', 'capture', 'release'] } })
      .lean<LedgerEntry[]>();
    const settlements = new Map<string, LedgerEntry>();
    for (const e of entries) {
      if (e.settles !== undefined) settlements.set(`${e.account_id}:${e.settles}`, e);
    }
    return entries
      .filter((e) => e.kind === 'reserve' && e.created_at < to && e.job_id !== undefined)
      .map((e) => ({
        reservation: reservationOf(e),
        created_at: e.created_at,
        settlement: settlements.get(`${e.account_id}:${e.seq}`) ?? null,
      }));
  }

  /**
   * `count` entries from `fromSeq` down, newest first, in one lookup by primary key (an entry
   * not written — a gap the audit reports — is left out).
   */
  async entriesBackFrom(accountId: string, fromSeq: number, count: number): Promise<LedgerEntry[]> {
    const ids = Array.from({ length: Math.max(0, Math.min(count, fromSeq)) }, (_, i) =>
      entryId(accountId, fromSeq - i),
    );
    if (ids.length === 0) return [];
    const found = await this.entries.find({ _id: { $in: ids } }).lean<LedgerEntry[]>();
    return found.sort((a, b) => b.seq - a.seq);
  }

  async page(accountId: string, options: { before?: number; limit: number }): Promise<LedgerEntry[]> {
    // Walk back by primary key from the head: cheap on FerretDB, where filters other than _id scan.
    const head = await this.head(accountId);
    const out: LedgerEntry[] = [];
    let seq = Math.min(head?.seq ?? 0, (options.before ?? Number.MAX_SAFE_INTEGER) - 1);
    while (seq >= 1 && out.length < options.limit) {
      const entry = await this.entries.findById(entryId(accountId, seq)).lean<LedgerEntry>();
      if (entry) out.push(entry);
      seq -= 1;
    }
    return out;
  }
}

export { available };
export type { Reservation };

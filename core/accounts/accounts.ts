import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { addBillingPeriod, catalogPlan, type Catalog, type Plan, type RateLimits } from '../catalog';
import { AccountSuspended, InvalidInput, NotFound } from '../errors';
import { available, type Balances } from '../ledger/balances';
import type { Ledger, LedgerEntry } from '../ledger/ledger';
import { newWebhookSecret } from '../webhooks/signing';
import { typedCollection } from '../../platform/db';
import { newId, randomToken, sha256Hex } from '../../platform/ids';

export type AccountStatus = 'active' | 'suspended';

export interface Account {
  _id: string;
  name: string;
  plan: string;
  status: AccountStatus;
  /** Per-account overrides of the plan's limits (enterprise customers). */
  rate_limits?: Partial<RateLimits> | null;
  /** Webhook signing secrets, newest first; a rotated-out secret keeps signing until it expires. */
  webhook_secrets?: WebhookSecret[];
  created_at: Date;
  updated_at: Date;
}

export interface WebhookSecret {
  secret: string;
  created_at: Date;
  expires_at: Date | null;
}

/** How long a replaced webhook secret keeps signing, so receivers can switch without losing events. */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** An API key is stored as the SHA-256 of its secret, which is its `_id`: lookups are by primary key. */
export interface ApiKeyRecord {
  _id: string;
  key_id: string;
  account_id: string;
  prefix: string;
  name?: string;
  created_at: Date;
  revoked_at?: Date | null;
}

const accountSchema = new Schema<Account>(
  {
    _id: String,
    name: { type: String, required: true },
    plan: { type: String, required: true },
    status: { type: String, required: true, enum: ['active', 'suspended'] },
    rate_limits: {
      type: new Schema(
        { requests_per_second: Number, concurrent_jobs: Number, reads_per_second: Number },
        { _id: false },
      ),
      default: null,
    },
    created_at: Date,
    updated_at: Date,
  },
  { versionKey: false, collection: 'accounts' },
);

const apiKeySchema = new Schema<ApiKeyRecord>(
  {
    _id: String,
    key_id: { type: String, required: true },
    account_id: { type: String, required: true },
    prefix: { type: String, required: true },
    name: String,
    created_at: Date,
    revoked_at: { type: Date, default: null },
  },
  { versionKey: false, collection: 'api_keys' },
);
apiKeySchema.index({ key_id: 1 }, { unique: true });
apiKeySchema.index({ account_id: 1 }, { name: 'keys_of_account' });

export const API_KEY_PREFIX = 'ek_';

/**
 * How long this process reuses an API key's authentication (account included): every request
 * would otherwise cost two database reads. Key revocations and account changes made through this
 * process apply at once, to every authentication that starts after they return: they drop the
 * cached answers and keep any cache fill already under way (one that may have read the old key or
 * account) from storing its answer. Made through another API process, they apply here within
 * this time, because nothing tells this process of them.
 */
export const AUTH_CACHE_MS = 2_000;
const AUTH_CACHE_MAX_ENTRIES = 10_000;
/** A plan that names no reads-per-second limit allows this many reads per submission it allows. */
const READS_PER_SUBMISSION = 10;

type Authenticated = { account: Account; keyId: string } | null;

/** Starts (or confirms) the per-account timer that renews billing periods. */
export interface PeriodScheduler {
  ensureRenewal(accountId: string): Promise<void>;
}

export interface AccountView {
  id: string;
  name: string;
  plan: string;
  status: AccountStatus;
  rate_limits: Required<RateLimits>;
  rate_limit_overrides: Partial<RateLimits> | null;
  balance: {
    available: number;
    plan_credits: number;
    purchased_credits: number;
    held: number;
    captured: number;
    /** Credits ever granted (plan, purchased, trial) and plan credits that expired unused. */
    granted: number;
    expired: number;
  };
  running_jobs: number;
  period: { start: string; end: string } | null;
  created_at: string;
}

export class AccountService {
  private readonly accounts: Model<Account>;
  private readonly keys: Model<ApiKeyRecord>;

  constructor(
    private readonly catalog: Catalog,
    private readonly ledger: Ledger,
    private readonly scheduler: PeriodScheduler,
    connection: Connection = mongoose.connection,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.accounts = connection.models.Account ?? connection.model<Account>('Account', accountSchema);
    this.keys = connection.models.ApiKey ?? connection.model<ApiKeyRecord>('ApiKey', apiKeySchema);
  }

  /** Recent authentications by key hash (see AUTH_CACHE_MS). */
  private readonly authCache = new Map<string, { expires: number; value: Authenticated }>();
  /**
   * Cache fills under way, by key hash. Revoking a key marks that key's fills stale; a stale fill
   * answers its own caller (it began before the revocation) but does not store its answer.
   */
  private readonly authFills = new Map<string, Set<{ stale: boolean }>>();
  /** Bumped by every account change: a fill that began under an older generation does not store. */
  private authGeneration = 0;

  /** After a key's record changed: no cached or in-flight answer about it survives. */
  private invalidateKey(hash: string): void {
    this.authCache.delete(hash);
    for (const fill of this.authFills.get(hash) ?? []) fill.stale = true;
  }

  /** After an account changed: none of the cached or in-flight answers survives. */
  private invalidateAllKeys(): void {
    this.authGeneration += 1;
    this.authCache.clear();
  }

  async init(): Promise<void> {
    for (const model of [this.accounts, this.keys]) {
      await model.createCollection().catch(() => undefined);
      await model.syncIndexes();
    }
  }

  planOf(account: Pick<Account, 'plan'>): Plan {
    const plan = catalogPlan(this.catalog, account.plan);
    if (!plan) throw new Error(`account plan "${account.plan}" is not in the catalog`);
    return plan;
  }

  effectiveRateLimits(account: Account): Required<RateLimits> {
    const plan = this.planOf(account);
    return {
      requests_per_second: account.rate_limits?.requests_per_second ?? plan.rate_limits.requests_per_second,
      concurrent_jobs: account.rate_limits?.concurrent_jobs ?? plan.rate_limits.concurrent_jobs,
      reads_per_second:
        account.rate_limits?.reads_per_second ??
        plan.rate_limits.reads_per_second ??
        READS_PER_SUBMISSION * plan.rate_limits.requests_per_second,
    };
  }

  private assertPlan(plan: string): void {
    if (!catalogPlan(this.catalog, plan)) {
      throw new InvalidInput(`Unknown plan "${plan}".`, {
        plan: `one of ${Object.keys(this.catalog.plans).join(', ')}`,
      });
    }
  }

  async create(input: { name: string; plan?: string; id?: string }): Promise<Account> {
    const plan = input.plan ?? this.catalog.default_plan;
    this.assertPlan(plan);
    const now = this.clock();
    const account: Account = {
      _id: input.id ?? newId('acct', 16),
      name: input.name,
      plan,
      status: 'active',
      rate_limits: null,
      webhook_secrets: [{ secret: newWebhookSecret(), created_at: now, expires_at: null }],
      created_at: now,
      updated_at: now,
    };
    await typedCollection(this.accounts).insertOne(account);
    if (this.catalog.trial_credits > 0) {
      await this.ledger.move(
        account._id,
        'trial',
        { kind: 'grant', credits: this.catalog.trial_credits, bucket: 'purchased' },
        { reason: 'trial credits' },
      );
    }
    await this.startPeriod(account, now);
    return account;
  }

  /** Whole-document write through the driver: mongoose's casting drops Mixed arrays of objects. */
  private async replaceAccount(account: Account): Promise<void> {
    const { _id, ...rest } = account;
    try {
      await typedCollection(this.accounts).replaceOne({ _id }, rest);
    } finally {
      // After the write (even a failed one, which may have applied): a fill that starts now reads
      // the new account, and one under way, which may have read the old one, does not store it.
      this.invalidateAllKeys();
    }
  }

  /**
   * Accounts in id order, `limit` after the id `after` (the admin list); `search` keeps the account
   * with that id and those whose name contains it, in any case.
   */
  async page(options: {
    limit: number;
    after?: string;
    status?: AccountStatus;
    search?: string;
  }): Promise<Account[]> {
    const filter: Record<string, unknown> = {};
    if (options.after !== undefined) filter._id = { $gt: options.after };
    if (options.status !== undefined) filter.status = options.status;
    if (options.search !== undefined) {
      // Escaped: the operator's text is matched literally, never run as a pattern.
      const literal = options.search.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      filter.$or = [{ _id: options.search }, { name: { $regex: literal, $options: 'i' } }];
    }
    return this.accounts.find(filter).sort({ _id: 1 }).limit(options.limit).lean<Account[]>();
  }

  async listIds(): Promise<string[]> {
    const rows = await this.accounts.find({}, { _id: 1 }).lean<Array<{ _id: string }>>();
    return rows.map((a) => a._id);
  }

  async get(accountId: string): Promise<Account> {
    const account = await this.accounts.findById(accountId).lean<Account>();
    if (!account) throw new NotFound('Account');
    return account;
  }

  async exists(accountId: string): Promise<boolean> {
    return (await this.accounts.exists({ _id: accountId })) !== null;
  }

  async update(
    accountId: string,
    patch: {
      plan?: string;
      status?: AccountStatus;
      /** Merged into the overrides: a limit set to null is the plan's again; null drops them all. */
      rate_limits?: { [K in keyof RateLimits]?: number | null } | null;
      name?: string;
    },
  ): Promise<Account> {
    const account = await this.get(accountId);
    if (patch.plan !== undefined) this.assertPlan(patch.plan);
    const planChanged = patch.plan !== undefined && patch.plan !== account.plan;
    const next: Account = {
      ...account,
      ...(patch.name !== undefined && { name: patch.name }),
      ...(patch.plan !== undefined && { plan: patch.plan }),
      ...(patch.status !== undefined && { status: patch.status }),
      ...(patch.rate_limits !== undefined && {
        rate_limits:
          patch.rate_limits === null ? null : mergeOverrides(account.rate_limits, patch.rate_limits),
      }),
      updated_at: this.clock(),
    };
    await this.replaceAccount(next);
    // A plan change starts a new billing period at once: the old plan's unused credits expire
    // and the new plan's monthly credits are granted now, rather than at the next renewal.
    if (planChanged) await this.startPeriod(next, this.clock());
    return next;
  }

  /** Expires what is left of the current period's plan credits and grants the plan's credits for a new one. */
  private async startPeriod(account: Account, start: Date): Promise<void> {
    const plan = this.planOf(account);
    const balances = await this.ledger.balances(account._id);
    if (balances.period) {
      await this.ledger.move(
        account._id,
        `expire:${balances.period.start}`,
        { kind: 'expire', period: null },
        { reason: 'plan change' },
      );
    }
    if (plan.monthly_credits === 0) return;
    const period = {
      start: start.toISOString(),
      end: addBillingPeriod(start, this.catalog.billing_period).toISOString(),
    };
    await this.ledger.move(
      account._id,
      `plan:${period.start}`,
      { kind: 'grant', credits: plan.monthly_credits, bucket: 'plan', period },
      { reason: `${account.plan} plan credits` },
    );
    await this.scheduler.ensureRenewal(account._id);
  }

  /**
   * Renews every billing period that has ended by now, back to back from the old end (so a late
   * run does not shift the account's billing day). Idempotent: the movements are keyed by period.
   * Returns when the current period ends, or null when the account has no plan credits.
   */
  async renewPeriods(accountId: string): Promise<string | null> {
    const account = await this.get(accountId);
    const plan = this.planOf(account);
    for (;;) {
      const { period } = await this.ledger.balances(accountId);
      if (!period) return null;
      if (Date.parse(period.end) > this.clock().getTime()) return period.end;
      const next = {
        start: period.end,
        end: addBillingPeriod(new Date(period.end), this.catalog.billing_period).toISOString(),
      };
      // Two movements, each keyed by its period: a run that died between them redoes the second.
      await this.ledger.move(
        accountId,
        `expire:${period.start}`,
        { kind: 'expire', ...(plan.monthly_credits === 0 && { period: null }) },
        { reason: 'period end' },
      );
      if (plan.monthly_credits === 0) return null;
      await this.ledger.move(
        accountId,
        `plan:${next.start}`,
        { kind: 'grant', credits: plan.monthly_credits, bucket: 'plan', period: next },
        { reason: `${account.plan} plan credits` },
      );
    }
  }

  async grant(
    accountId: string,
    credits: number,
    idempotencyKey: string,
    reason: string,
  ): Promise<{ entry: LedgerEntry; replayed: boolean }> {
    await this.get(accountId);
    return this.ledger.move(
      accountId,
      `grant:${idempotencyKey}`,
      { kind: 'grant', credits, bucket: 'purchased' },
      { reason },
    );
  }

  async view(account: Account): Promise<AccountView> {
    const balances: Balances = await this.ledger.balances(account._id);
    return {
      id: account._id,
      name: account.name,
      plan: account.plan,
      status: account.status,
      rate_limits: this.effectiveRateLimits(account),
      rate_limit_overrides: account.rate_limits ?? null,
      balance: {
        available: available(balances),
        plan_credits: balances.plan,
        purchased_credits: balances.purchased,
        held: balances.held,
        captured: balances.captured,
        granted: balances.granted,
        expired: balances.expired,
      },
      running_jobs: balances.open_reservations,
      period: balances.period,
      created_at: account.created_at.toISOString(),
    };
  }

  /** Secrets that sign deliveries now: the current one first, then any still inside its overlap. */
  activeWebhookSecrets(account: Account): WebhookSecret[] {
    const now = this.clock().getTime();
    return (account.webhook_secrets ?? []).filter(
      (s) => s.expires_at === null || new Date(s.expires_at).getTime() > now,
    );
  }

  async webhookSecret(accountId: string): Promise<WebhookSecret> {
    const account = await this.get(accountId);
    const current = this.activeWebhookSecrets(account)[0];
    if (current) return current;
    return this.rotateWebhookSecret(accountId);
  }

  /** Replaces the signing secret; the previous one keeps signing (alongside) for 24 hours. */
  async rotateWebhookSecret(accountId: string): Promise<WebhookSecret> {
    const account = await this.get(accountId);
    const now = this.clock();
    const fresh: WebhookSecret = { secret: newWebhookSecret(), created_at: now, expires_at: null };
    const kept = this.activeWebhookSecrets(account).map((s) => ({
      ...s,
      expires_at: s.expires_at ?? new Date(now.getTime() + WEBHOOK_SECRET_OVERLAP_MS),
    }));
    await this.replaceAccount({ ...account, webhook_secrets: [fresh, ...kept], updated_at: now });
    return fresh;
  }

  async issueKey(accountId: string, name?: string): Promise<{ id: string; key: string; prefix: string }> {
    await this.get(accountId);
    const key = `${API_KEY_PREFIX}${randomToken(40)}`;
    const record: ApiKeyRecord = {
      _id: sha256Hex(key),
      key_id: newId('key', 16),
      account_id: accountId,
      prefix: key.slice(0, 10),
      created_at: this.clock(),
      revoked_at: null,
      ...(name !== undefined && { name }),
    };
    await typedCollection(this.keys).insertOne(record);
    return { id: record.key_id, key, prefix: record.prefix };
  }

  async listKeys(accountId: string): Promise<Array<Omit<ApiKeyRecord, '_id'>>> {
    await this.get(accountId);
    const records = await this.keys.find({ account_id: accountId }).lean<ApiKeyRecord[]>();
    return records
      .sort((a, b) => a.created_at.getTime() - b.created_at.getTime())
      .map(({ _id: _hash, ...rest }) => rest);
  }

  async revokeKey(keyId: string): Promise<void> {
    const record = await this.keys.findOne({ key_id: keyId }).lean<ApiKeyRecord>();
    if (!record) throw new NotFound('API key');
    try {
      // Revoked already (perhaps through another process, whose answer this one may still hold):
      // only the invalidation below is left to do.
      if (record.revoked_at) return;
      await this.keys.replaceOne({ _id: record._id }, { ...record, revoked_at: this.clock() });
    } finally {
      // After the write, as in replaceAccount.
      this.invalidateKey(record._id);
    }
  }

  /**
   * The account behind an API key; null for an unknown or revoked key. Two primary-key reads,
   * reused for AUTH_CACHE_MS unless a revocation or account change in this process came while
   * they ran.
   */
  async authenticate(key: string): Promise<Authenticated> {
    if (!key.startsWith(API_KEY_PREFIX)) return null;
    const hash = sha256Hex(key);
    const now = Date.now();
    const cached = this.authCache.get(hash);
    if (cached && cached.expires > now) return cached.value;
    // Registered before the first read, so that an invalidation from here on reaches this fill.
    const fill = { stale: false };
    const generation = this.authGeneration;
    let fills = this.authFills.get(hash);
    if (!fills) this.authFills.set(hash, (fills = new Set()));
    fills.add(fill);
    let value: Authenticated;
    try {
      const record = await this.keys.findById(hash).lean<ApiKeyRecord>();
      const account =
        record && !record.revoked_at ? await this.accounts.findById(record.account_id).lean<Account>() : null;
      value = record && account ? { account, keyId: record.key_id } : null;
    } finally {
      fills.delete(fill);
      if (fills.size === 0) this.authFills.delete(hash);
    }
    if (fill.stale || generation !== this.authGeneration) return value;
    this.authCache.delete(hash);
    this.authCache.set(hash, { expires: now + AUTH_CACHE_MS, value });
    if (this.authCache.size > AUTH_CACHE_MAX_ENTRIES) {
      const oldest = this.authCache.keys().next().value;
      if (oldest !== undefined) this.authCache.delete(oldest);
    }
    return value;
  }
}

export function assertActive(account: Account): void {
  if (account.status !== 'active') throw new AccountSuspended();
}

/** The overrides after a patch: null removes a limit's override; none left is null. */
function mergeOverrides(
  current: Partial<RateLimits> | null | undefined,
  patch: { [K in keyof RateLimits]?: number | null },
): Partial<RateLimits> | null {
  const merged = Object.entries({ ...current, ...patch }).filter(
    (pair): pair is [string, number] => typeof pair[1] === 'number',
  );
  return merged.length > 0 ? Object.fromEntries(merged) : null;
}

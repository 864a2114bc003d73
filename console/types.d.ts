// The API's answers as the console reads them (GET /openapi.json has the whole shapes).

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'canceled';

export interface JobImage {
  url: string;
  role: 'image' | 'grid' | 'candidate';
  width: number;
  height: number;
  content_type: string;
}

export interface Job {
  id: string;
  status: JobStatus;
  model: string;
  requested_model: string;
  task?: string;
  provider: string | null;
  sandbox?: true;
  notice?: string;
  prompt: string;
  n: number;
  aspect_ratio: string;
  credits_reserved: number;
  credits_charged: number;
  progress: number | null;
  queue_position: number | null;
  images: JobImage[];
  error: { code: string; message: string } | null;
  created_at: string;
  completed_at: string | null;
  images_deleted_at: string | null;
}

export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

export interface RateLimits {
  requests_per_second: number;
  concurrent_jobs: number;
  reads_per_second?: number;
}

export interface Account {
  id: string;
  name: string;
  plan: string;
  status: 'active' | 'suspended';
  rate_limits: RateLimits;
  balance: {
    available: number;
    plan_credits: number;
    purchased_credits: number;
    held: number;
    captured: number;
    granted: number;
    expired: number;
  };
  running_jobs: number;
  period: { start: string; end: string } | null;
  created_at: string;
}

export interface Model {
  id: string;
  credits: number;
  best_for: string;
  auto_tasks: string[];
}

export interface ModelList {
  data: Model[];
  auto: { description: string; tasks: Record<string, string> };
}

export interface Estimate {
  model: string;
  count: number;
  credits_per_image: number;
  credits: number;
  plans: Array<{ plan: string; usd: number; usd_per_image: number }>;
}

export interface Plan {
  id: string;
  price_usd: number;
  monthly_credits: number;
  usd_per_credit: number | null;
  rate_limits: RateLimits;
}

export interface PlanList {
  data: Plan[];
  trial_credits: number;
  default_plan: string;
}

export interface UsageRow {
  images: number;
  jobs_succeeded: number;
  jobs_failed: number;
  jobs_canceled: number;
  credits_charged: number;
  credits_not_charged: number;
  usd: number;
  auto: { jobs_with_task: number; credits_charged: number; credits_with_auto: number; credits_saved: number };
}

export interface UsageReport {
  from: string;
  to: string;
  group_by: 'model' | 'day';
  plan: string;
  total: UsageRow;
  data: Array<UsageRow & { model?: string; day?: string }>;
}

export interface WebhookSecret {
  secret: string;
  created_at: string;
  also_signing_until: string[];
}

export interface RotatedWebhookSecret {
  secret: string;
  created_at: string;
  note: string;
  previous_expires_at: string | null;
}

export interface IssuedKey {
  id: string;
  key: string;
  prefix: string;
}

/** Who is signed in: a customer's API key or the operator's admin token. */
export interface Session {
  token: string;
  role: 'customer' | 'operator';
}

export interface ScreenContext {
  session: Session;
  main: HTMLElement;
  /** Aborted when the screen is left: its polls and pending calls stop. */
  signal: AbortSignal;
  signOut(message?: string): void;
}

// The back office's answers (admin API).

/** GET /admin/v1/accounts/:id: the account with the plan limits it overrides. */
export interface AdminAccount extends Account {
  rate_limit_overrides: Partial<RateLimits> | null;
}

export interface ApiKeyInfo {
  id: string;
  prefix: string;
  name: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface LedgerEntry {
  account_id: string;
  seq: number;
  kind: 'grant' | 'reserve' | 'capture' | 'release' | 'expire' | 'adjust';
  credits: number;
  idempotency_key: string;
  job_id?: string;
  reason?: string;
  settles?: number;
  balances: { available: number; held: number; captured: number; granted: number; expired: number };
  created_at: string;
}

export interface LedgerPage {
  data: LedgerEntry[];
  next_before: number | null;
}

export interface JobAttempt {
  provider: string;
  model: string;
  outcome: string;
  duration_ms: number;
  error?: string;
}

export interface AdminJob extends Job {
  account_id: string;
  attempts: JobAttempt[];
  reservation: { seq: number; credits: number };
  idempotency_key: string | null;
  started_at: string | null;
  ledger: LedgerEntry[];
}

export interface AuditViolation {
  account_id: string;
  job_id?: string;
  entry_seq?: number;
  holds_credits?: true;
  problem: string;
  links: Record<string, string>;
}

export interface AuditReport {
  accounts_checked: number;
  violations: AuditViolation[];
}

export type BreakerState = 'closed' | 'half_open' | 'open';

export interface WorkerDeploymentStatus {
  worker: string;
  updated_at: string;
  state?: BreakerState;
  latencyMs?: number;
  successes?: number;
  failures?: number;
  errorRate?: number | null;
  fallbacksFrom?: number;
  fallbacksTo?: number;
  lastError?: string;
  coolingDownUntil?: number;
}

export interface DeploymentStatus {
  id: string;
  type: string;
  base_url: string | null;
  weight: number;
  priority: number;
  timeout_ms: number;
  models: Record<string, unknown>;
  workers: WorkerDeploymentStatus[];
}

export interface ProviderStatus {
  sandbox_only: boolean;
  unserved_models: string[];
  default_strategy: string;
  note: string;
  deployments: DeploymentStatus[];
}

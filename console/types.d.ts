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

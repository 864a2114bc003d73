// The API's answers as the console reads them: aliases into ./openapi.d.ts, which is generated from
// the OpenAPI document (`npm run console:types`), so the console is type-checked against the
// shapes the routes really send.

import type { components, operations } from './openapi';

type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : never;
/** The JSON body of an operation's success answer. */
type Answer<Op extends keyof operations> = JsonOf<
  operations[Op]['responses'][Extract<keyof operations[Op]['responses'], 200 | 201 | 202>]
>;

export type Job = components['schemas']['Job'];
export type JobStatus = Job['status'];
export type JobImage = Job['images'][number];
export type Account = components['schemas']['Account'];
export type RateLimits = Account['rate_limits'];
export type Model = components['schemas']['Model'];
export type LedgerEntry = components['schemas']['LedgerEntry'];

/** A cursor page of GET /v1/jobs or GET /admin/v1/accounts. */
export interface Page<T> {
  data: T[];
  has_more: boolean;
  next_cursor: string | null;
}

export type ModelList = Answer<'listModels'>;
export type Estimate = Answer<'estimate'>;
export type PlanList = Answer<'listPlans'>;
export type Plan = PlanList['data'][number];
export type UsageReport = Answer<'getUsage'>;
export type UsageRow = UsageReport['total'];
export type WebhookSecret = Answer<'getWebhookSecret'>;
export type RotatedWebhookSecret = Answer<'rotateWebhookSecret'>;

// The back office's answers (admin API).

export type AdminAccount = Answer<'adminGetAccount'>;
export type IssuedKey = Answer<'adminIssueKey'>;
export type ApiKeyInfo = Answer<'adminListKeys'>['data'][number];
export type LedgerPage = Answer<'adminLedger'>;
export type AdminJob = Answer<'adminGetJob'>;
export type JobAttempt = AdminJob['attempts'][number];
export type AuditReport = Answer<'adminAudit'>;
export type AuditViolation = AuditReport['violations'][number];
export type ProviderStatus = Answer<'adminProviders'>;
export type DeploymentStatus = ProviderStatus['deployments'][number];
export type WorkerDeploymentStatus = DeploymentStatus['workers'][number];
export type BreakerState = NonNullable<WorkerDeploymentStatus['state']>;

// The console's own shapes.

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

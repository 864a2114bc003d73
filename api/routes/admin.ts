import { Router } from 'express';
import { z } from 'zod';
import type { AccountService } from '../../core/accounts/accounts';
import { NotFound } from '../../core/errors';
import { releaseByOperator } from '../../core/jobs/stranded-reservations';
import type { JobStore } from '../../core/jobs/store';
import { presentJob, type ImageLinks } from '../../core/jobs/view';
import type { AuditService, AuditViolation } from '../../core/ledger/audit';
import { available, type Ledger, type LedgerEntry } from '../../core/ledger/ledger';
import type { ProviderStatus } from '../providers-view';
import { parseInput } from '../validation';

const rateLimitOverrides = z
  .object({
    requests_per_second: z.number().int().positive().nullable().optional(),
    concurrent_jobs: z.number().int().positive().nullable().optional(),
    reads_per_second: z.number().int().positive().nullable().optional(),
  })
  .strict()
  .meta({
    description:
      'Merged into the account’s overrides: a limit set to null is the plan’s again; `rate_limits: null` drops them all.',
  });

export const createAccountBody = z
  .object({ name: z.string().trim().min(1).max(200), plan: z.string().optional() })
  .strict();
export const patchAccountBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    plan: z.string().optional(),
    status: z.enum(['active', 'suspended']).optional(),
    rate_limits: rateLimitOverrides.nullable().optional(),
  })
  .strict();
export const grantBody = z
  .object({
    credits: z.number().int().positive().max(100_000_000),
    idempotency_key: z.string().min(1).max(200),
    reason: z.string().max(500).default('grant'),
  })
  .strict();
export const issueKeyBody = z.object({ name: z.string().max(200).optional() }).strict();
export const accountsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** next_cursor of the previous page: the last account id it showed. */
  cursor: z.string().min(1).max(200).optional(),
  status: z.enum(['active', 'suspended']).optional(),
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .meta({ description: 'Finds the account with this id, and those whose name contains it (any case).' }),
});
export const releaseBody = z.object({ reason: z.string().trim().min(1).max(500) }).strict();
const seqParam = z.object({ seq: z.coerce.number().int().positive() });
export const ledgerQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
});

export interface AdminRouteDeps {
  accounts: AccountService;
  ledger: Ledger;
  jobs: JobStore;
  audit: AuditService;
  providerStatus: () => Promise<ProviderStatus>;
  /** Whether a job's workflow is still running (a running job's credits are not an operator's to release). */
  workflowRunning: (jobId: string) => Promise<boolean>;
  imageLinks: ImageLinks;
}

export function adminRoutes(deps: AdminRouteDeps): Router {
  const { accounts, ledger, jobs, audit, providerStatus } = deps;
  const router = Router();

  router.get('/accounts', async (req, res) => {
    const query = parseInput(accountsQuery, req.query, 'query');
    const page = await accounts.page({
      limit: query.limit + 1,
      ...(query.cursor !== undefined && { after: query.cursor }),
      ...(query.status !== undefined && { status: query.status }),
      ...(query.q !== undefined && { search: query.q }),
    });
    const items = page.slice(0, query.limit);
    res.json({
      data: await Promise.all(items.map((a) => accounts.view(a))),
      has_more: page.length > query.limit,
      next_cursor: page.length > query.limit ? items.at(-1)!._id : null,
    });
  });

  /** Any account's job, with its reservation and every ledger movement of its credits. */
  router.get('/jobs/:id', async (req, res) => {
    const job = await jobs.get(req.params.id);
    if (!job) throw new NotFound('Job');
    const movements = await ledger.jobMovements(job.account_id, job._id);
    res.json({
      ...presentJob(job, deps.imageLinks),
      account_id: job.account_id,
      reservation: job.reservation,
      ledger: movements.map(presentEntry),
    });
  });

  /** An operator's release of a stuck reservation: itself a ledger movement, with the reason given. */
  router.post('/accounts/:id/reservations/:seq/release', async (req, res) => {
    await accounts.get(req.params.id);
    const { seq } = parseInput(seqParam, req.params, 'path');
    const body = parseInput(releaseBody, req.body);
    const { entry, job } = await releaseByOperator(
      { ledger, jobs },
      { accountId: req.params.id, seq, reason: body.reason, workflowRunning: deps.workflowRunning },
    );
    res.json({
      entry: presentEntry(entry),
      job: job ? { ...presentJob(job, deps.imageLinks), account_id: job.account_id } : null,
    });
  });

  router.post('/accounts', async (req, res) => {
    const body = parseInput(createAccountBody, req.body);
    const account = await accounts.create({
      name: body.name,
      ...(body.plan !== undefined && { plan: body.plan }),
    });
    res.status(201).json(await accounts.view(account));
  });

  router.get('/accounts/:id', async (req, res) => {
    res.json(await accounts.view(await accounts.get(req.params.id)));
  });

  router.patch('/accounts/:id', async (req, res) => {
    const body = parseInput(patchAccountBody, req.body);
    const account = await accounts.update(req.params.id, {
      ...(body.name !== undefined && { name: body.name }),
      ...(body.plan !== undefined && { plan: body.plan }),
      ...(body.status !== undefined && { status: body.status }),
      ...(body.rate_limits !== undefined && { rate_limits: body.rate_limits }),
    });
    res.json(await accounts.view(account));
  });

  router.post('/accounts/:id/keys', async (req, res) => {
    const body = parseInput(issueKeyBody, req.body);
    const key = await accounts.issueKey(req.params.id, body.name);
    res.status(201).json({ ...key, note: 'Store this key now: it is shown only once.' });
  });

  router.get('/accounts/:id/keys', async (req, res) => {
    const keys = await accounts.listKeys(req.params.id);
    res.json({
      data: keys.map((k) => ({
        id: k.key_id,
        prefix: k.prefix,
        name: k.name ?? null,
        created_at: k.created_at,
        revoked_at: k.revoked_at ?? null,
      })),
    });
  });

  router.delete('/keys/:keyId', async (req, res) => {
    await accounts.revokeKey(req.params.keyId);
    res.status(204).end();
  });

  router.post('/accounts/:id/grants', async (req, res) => {
    const body = parseInput(grantBody, req.body);
    const { entry, replayed } = await accounts.grant(
      req.params.id,
      body.credits,
      body.idempotency_key,
      body.reason,
    );
    res.status(replayed ? 200 : 201).json({ replayed, entry: presentEntry(entry) });
  });

  router.get('/accounts/:id/ledger', async (req, res) => {
    await accounts.get(req.params.id);
    const query = parseInput(ledgerQuery, req.query, 'query');
    const entries = await ledger.page(req.params.id, {
      limit: query.limit,
      ...(query.before !== undefined && { before: query.before }),
    });
    const last = entries.at(-1);
    res.json({
      data: entries.map(presentEntry),
      next_before: last && last.seq > 1 && entries.length === query.limit ? last.seq : null,
    });
  });

  router.get('/providers', async (_req, res) => {
    res.json(await providerStatus());
  });

  router.post('/audit', async (_req, res) => {
    const report = await audit.run();
    res.json({ ...report, violations: report.violations.map(withLinks) });
  });

  return router;
}

/** Where an operator looks at (and repairs) what a violation names. */
function withLinks(v: AuditViolation): AuditViolation & { links: Record<string, string> } {
  const account = `/admin/v1/accounts/${encodeURIComponent(v.account_id)}`;
  return {
    ...v,
    links: {
      account,
      ...(v.job_id !== undefined && { job: `/admin/v1/jobs/${encodeURIComponent(v.job_id)}` }),
      ...(v.entry_seq !== undefined && { entry: `${account}/ledger?before=${v.entry_seq + 1}&limit=1` }),
      ...(v.entry_seq !== undefined &&
        v.holds_credits && { release: `POST ${account}/reservations/${v.entry_seq}/release` }),
    },
  };
}

/** A ledger entry as the admin API shows it: without its storage key, with the available balance. */
export function presentEntry(e: LedgerEntry): Omit<LedgerEntry, '_id'> & {
  balances: LedgerEntry['balances'] & { available: number };
} {
  const { _id: _ignored, ...rest } = e;
  return { ...rest, balances: { ...e.balances, available: available(e.balances) } };
}

import { Router } from 'express';
import { z } from 'zod';
import type { AccountService } from '../../core/accounts/accounts';
import type { AuditService } from '../../core/ledger/audit';
import { available, type Ledger, type LedgerEntry } from '../../core/ledger/ledger';
import type { ProviderStatus } from '../providers-view';
import { parseInput } from '../validation';

const rateLimitOverrides = z
  .object({
    requests_per_second: z.number().int().positive().nullable().optional(),
    concurrent_jobs: z.number().int().positive().nullable().optional(),
  })
  .strict();

const createAccountBody = z
  .object({ name: z.string().trim().min(1).max(200), plan: z.string().optional() })
  .strict();
const patchAccountBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    plan: z.string().optional(),
    status: z.enum(['active', 'suspended']).optional(),
    rate_limits: rateLimitOverrides.nullable().optional(),
  })
  .strict();
const grantBody = z
  .object({
    credits: z.number().int().positive().max(100_000_000),
    idempotency_key: z.string().min(1).max(200),
    reason: z.string().max(500).default('grant'),
  })
  .strict();
const issueKeyBody = z.object({ name: z.string().max(200).optional() }).strict();
const ledgerQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  before: z.coerce.number().int().positive().optional(),
});

export interface AdminRouteDeps {
  accounts: AccountService;
  ledger: Ledger;
  audit: AuditService;
  providerStatus: () => Promise<ProviderStatus>;
}

export function adminRoutes({ accounts, ledger, audit, providerStatus }: AdminRouteDeps): Router {
  const router = Router();

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
    const rateLimits =
      body.rate_limits === undefined
        ? undefined
        : body.rate_limits === null
          ? null
          : Object.fromEntries(
              Object.entries(body.rate_limits).filter(([, v]) => v !== null && v !== undefined),
            );
    const account = await accounts.update(req.params.id, {
      ...(body.name !== undefined && { name: body.name }),
      ...(body.plan !== undefined && { plan: body.plan }),
      ...(body.status !== undefined && { status: body.status }),
      ...(rateLimits !== undefined && { rate_limits: rateLimits }),
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
    res.json(await audit.run());
  });

  return router;
}

/** A ledger entry as the admin API shows it: without its storage key, with the available balance. */
export function presentEntry(e: LedgerEntry): Omit<LedgerEntry, '_id'> & {
  balances: LedgerEntry['balances'] & { available: number };
} {
  const { _id: _ignored, ...rest } = e;
  return { ...rest, balances: { ...e.balances, available: available(e.balances) } };
}

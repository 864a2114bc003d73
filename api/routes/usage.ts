import { Router } from 'express';
import { z } from 'zod';
import type { Catalog } from '../../core/catalog';
import type { JobStore } from '../../core/jobs/store';
import { summariseUsage } from '../../core/jobs/usage';
import { InvalidInput } from '../../core/errors';
import { currentAccount } from '../middleware';
import { parseInput } from '../validation';

const usageQuery = z.object({
  from: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  to: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  group_by: z.enum(['model', 'day']).default('model'),
});

export function usageRoutes(jobs: JobStore, catalog: Catalog): Router {
  const router = Router();
  router.get('/usage', async (req, res) => {
    const account = currentAccount(req);
    const q = parseInput(usageQuery, req.query, 'query');
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 30 * 24 * 3600 * 1000);
    if (from > to) throw new InvalidInput('from must be before to.', { from: 'after to' });
    const finished = await jobs.createdBetween(account._id, from, to);
    const { groups, total } = summariseUsage(finished, catalog, q.group_by);
    res.json({
      from: from.toISOString(),
      to: to.toISOString(),
      group_by: q.group_by,
      plan: account.plan,
      total,
      data: Object.entries(groups)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([key, row]) => ({ [q.group_by]: key, ...row })),
    });
  });
  return router;
}

import { Router } from 'express';
import { z } from 'zod';
import { MAX_USAGE_DAYS, summariseUsage, type UsageReports } from '../../core/jobs/usage';
import { InvalidInput } from '../../core/errors';
import { currentAccount } from '../middleware';
import { parseInput } from '../validation';

const DAY_MS = 24 * 3600_000;

const usageQuery = z.object({
  from: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  to: z.iso.datetime({ offset: true }).or(z.iso.date()).optional(),
  group_by: z.enum(['model', 'day']).default('model'),
});

export function usageRoutes(reports: UsageReports): Router {
  const router = Router();
  /**
   * Usage is kept by whole UTC days: the window reported runs from the start of `from`'s day to
   * the end of the day before `to` (`to` is exclusive), and the answer says which it was. The
   * default is the last 30 days, today included.
   */
  router.get('/usage', async (req, res) => {
    const account = currentAccount(req);
    const q = parseInput(usageQuery, req.query, 'query');
    const toExclusive = q.to ? new Date(q.to) : new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS + DAY_MS);
    const requestedFrom = q.from ? new Date(q.from) : new Date(toExclusive.getTime() - 30 * DAY_MS);
    if (requestedFrom >= toExclusive)
      throw new InvalidInput('from must be before to.', { from: 'not before to' });
    const from = new Date(Math.floor(requestedFrom.getTime() / DAY_MS) * DAY_MS);
    const to = new Date(Math.ceil(toExclusive.getTime() / DAY_MS) * DAY_MS);
    if (to.getTime() - from.getTime() > MAX_USAGE_DAYS * DAY_MS) {
      throw new InvalidInput(`A usage window spans at most ${MAX_USAGE_DAYS} days; ask for several.`, {
        from: `at most ${MAX_USAGE_DAYS} days before to`,
      });
    }
    const day = (d: Date): string => d.toISOString().slice(0, 10);
    const days = await reports.byDay(account._id, day(from), day(new Date(to.getTime() - DAY_MS)));
    const { groups, total } = summariseUsage(days, q.group_by);
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

import { Router } from 'express';
import { z } from 'zod';
import { MAX_USAGE_DAYS, summariseUsage, wholeDayWindow, type UsageReports } from '../../core/jobs/usage';
import { InvalidInput } from '../../core/errors';
import { currentAccount } from '../middleware';
import { parseInput } from '../validation';

export const usageQuery = z.object({
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
    const window = wholeDayWindow(q.from ? new Date(q.from) : undefined, q.to ? new Date(q.to) : undefined);
    if (!window) throw new InvalidInput('from must be before to.', { from: 'not before to' });
    if (window.days > MAX_USAGE_DAYS) {
      throw new InvalidInput(`A usage window spans at most ${MAX_USAGE_DAYS} days; ask for several.`, {
        from: `at most ${MAX_USAGE_DAYS} days before to`,
      });
    }
    const { from, to } = window;
    const days = await reports.byDay(account._id, window.firstDay, window.lastDay);
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

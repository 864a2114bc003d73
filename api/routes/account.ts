import { Router } from 'express';
import { z } from 'zod';
import type { AccountService } from '../../core/accounts/accounts';
import {
  catalogModel,
  creditsToUsdMicros,
  resolveModel,
  usdFromMicros,
  type Catalog,
} from '../../core/catalog';
import { currentAccount } from '../middleware';
import { parseInput } from '../validation';

export function accountRoutes(accounts: AccountService): Router {
  const router = Router();
  router.get('/account', async (req, res) => {
    res.json(await accounts.view(currentAccount(req)));
  });
  return router;
}

export const estimateBody = z
  .object({
    model: z.string().optional(),
    task: z.string().optional(),
    count: z.number().int().min(1).max(10_000_000).default(1),
  })
  .strict()
  .refine((b) => b.model !== undefined || b.task !== undefined, {
    message: 'give a model or a task',
    path: ['model'],
  });

export function catalogRoutes(catalog: Catalog): Router {
  const router = Router();

  // OpenAI's model object fields (`object`, `created`, `owned_by`) next to Easel's own, so that
  // `models.list()` and `models.retrieve()` of the official clients read them.
  const created = Math.floor(Date.now() / 1000);
  const routedBy = (model: string): string[] =>
    Object.entries(catalog.tasks)
      .filter(([, m]) => m === model)
      .map(([task]) => task);
  const modelView = (id: string) => {
    const m = catalog.models[id]!;
    return {
      id,
      object: 'model' as const,
      created,
      owned_by: 'easel',
      credits: m.credits,
      best_for: m.best_for,
      fallback_models: m.fallback_models,
      auto_tasks: routedBy(id),
    };
  };

  router.get('/models', (_req, res) => {
    res.json({
      object: 'list',
      data: Object.keys(catalog.models).map(modelView),
      auto: { description: 'model "auto" with a task picks the model below', tasks: catalog.tasks },
    });
  });

  router.get('/models/:id', (req, res) => {
    if (!Object.hasOwn(catalog.models, req.params.id)) {
      res.status(404).json({
        error: {
          message: `The model '${req.params.id}' does not exist on this Easel; GET /v1/models lists them.`,
          type: 'invalid_request_error',
          param: 'model',
          code: 'model_not_found',
        },
      });
      return;
    }
    res.json(modelView(req.params.id));
  });

  router.get('/plans', (_req, res) => {
    res.json({
      data: Object.entries(catalog.plans).map(([id, p]) => ({
        id,
        price_usd: usdFromMicros(p.price_usd_micros),
        monthly_credits: p.monthly_credits,
        usd_per_credit:
          p.monthly_credits === 0 ? null : Number((p.price_usd_micros / p.monthly_credits / 1e6).toFixed(4)),
        rate_limits: p.rate_limits,
      })),
      trial_credits: catalog.trial_credits,
      default_plan: catalog.default_plan,
    });
  });

  router.post('/estimate', (req, res) => {
    const body = parseInput(estimateBody, req.body);
    const model = resolveModel(catalog, body.model, body.task);
    const perImage = catalogModel(catalog, model)!.credits;
    const credits = perImage * body.count;
    res.json({
      model,
      ...(body.task !== undefined && { task: body.task }),
      count: body.count,
      credits_per_image: perImage,
      credits,
      plans: Object.entries(catalog.plans)
        .filter(([, p]) => p.monthly_credits > 0)
        .map(([plan, p]) => ({
          plan,
          usd: usdFromMicros(creditsToUsdMicros(p, credits)),
          usd_per_image: Number(((p.price_usd_micros * perImage) / p.monthly_credits / 1e6).toFixed(4)),
        })),
    });
  });

  return router;
}

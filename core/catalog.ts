import { z } from 'zod';
import { InvalidInput } from './errors';
import { ConfigurationError } from '../platform/config';

/**
 * The catalog: what Easel sells (models and their credit price), the plans that sell credits,
 * the task → model routing used by `model: "auto"`, and rate limits. Defaults come from the
 * business's published price list; a platform team overrides any part with EASEL_CONFIG.
 */

const slug = z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'use lowercase letters, digits, ".", "_" or "-"');
const positiveInt = z.number().int().positive();

export const rateLimitsSchema = z.object({
  requests_per_second: positiveInt,
  concurrent_jobs: positiveInt,
  /**
   * Reads (job, list, usage, account) per second: ten times the submissions by default, so that a
   * client polling its jobs is never refused while one tenant's read loop cannot crowd out the others.
   */
  reads_per_second: positiveInt.optional(),
});
export type RateLimits = z.infer<typeof rateLimitsSchema>;

export const modelSchema = z.object({
  credits: positiveInt,
  best_for: z.string().default(''),
  /** Other catalog models a job may fall back to when every provider of this one fails. */
  fallback_models: z.array(slug).default([]),
});
export type CatalogModel = z.infer<typeof modelSchema>;

export const planSchema = z.object({
  /** Monthly price in integer micro-dollars. */
  price_usd_micros: z.number().int().nonnegative(),
  monthly_credits: z.number().int().nonnegative(),
  rate_limits: rateLimitsSchema,
});
export type Plan = z.infer<typeof planSchema>;

/** Billing period length; tests shorten it to seconds to exercise renewal. */
export const periodSchema = z.union([
  z.object({ unit: z.literal('month'), count: positiveInt }),
  z.object({ unit: z.literal('second'), count: positiveInt }),
]);
export type BillingPeriod = z.infer<typeof periodSchema>;

export const catalogSchema = z
  .object({
    models: z.record(slug, modelSchema),
    plans: z.record(slug, planSchema),
    /** Plan of a new account that did not ask for one; it has trial credits and no monthly credits. */
    default_plan: slug,
    trial_credits: z.number().int().nonnegative(),
    tasks: z.record(slug, slug),
    billing_period: periodSchema,
  })
  .superRefine((catalog, ctx) => {
    if (!catalogPlan(catalog, catalog.default_plan)) {
      ctx.addIssue({
        code: 'custom',
        path: ['default_plan'],
        message: `unknown plan "${catalog.default_plan}"`,
      });
    }
    for (const [task, model] of Object.entries(catalog.tasks)) {
      if (!catalogModel(catalog, model)) {
        ctx.addIssue({ code: 'custom', path: ['tasks', task], message: `unknown model "${model}"` });
      }
    }
    for (const [name, model] of Object.entries(catalog.models)) {
      model.fallback_models.forEach((fallback, i) => {
        if (!catalogModel(catalog, fallback)) {
          ctx.addIssue({
            code: 'custom',
            path: ['models', name, 'fallback_models', i],
            message: `unknown model "${fallback}"`,
          });
        }
      });
    }
  });
export type Catalog = z.infer<typeof catalogSchema>;

/**
 * The model of that name. Names come from clients and stored documents, so this and the lookups
 * below read own properties only: "constructor", "__proto__" or "toString" name nothing.
 */
export function catalogModel(catalog: Catalog, name: string): CatalogModel | undefined {
  return Object.hasOwn(catalog.models, name) ? catalog.models[name] : undefined;
}

/** The plan of that name (own properties only, as `catalogModel`). */
export function catalogPlan(catalog: Catalog, name: string): Plan | undefined {
  return Object.hasOwn(catalog.plans, name) ? catalog.plans[name] : undefined;
}

/** The model `auto` routes a task to; undefined for a task the catalog does not know. */
export function taskModel(catalog: Catalog, task: string): string | undefined {
  return Object.hasOwn(catalog.tasks, task) ? catalog.tasks[task] : undefined;
}

const usd = (dollars: number): number => Math.round(dollars * 1_000_000);

export const DEFAULT_CATALOG: Catalog = {
  models: {
    'flux-2-dev': { credits: 1, best_for: 'prototyping, high volume', fallback_models: [] },
    'flux-schnell': { credits: 1, best_for: 'rapid iteration', fallback_models: [] },
    'nano-banana': { credits: 2, best_for: 'general purpose', fallback_models: [] },
    'gpt-image-1': { credits: 2, best_for: 'instruction following', fallback_models: [] },
    'flux-2-flex': { credits: 2, best_for: 'Flux quality, mid price', fallback_models: [] },
    'nano-banana-2': { credits: 3, best_for: 'photorealism, faces', fallback_models: [] },
    midjourney: { credits: 4, best_for: 'artistic, editorial', fallback_models: [] },
    'flux-2-max': { credits: 4, best_for: 'Flux highest quality', fallback_models: [] },
    'ideogram-v3': { credits: 5, best_for: 'text in image, design', fallback_models: [] },
  },
  plans: {
    trial: {
      price_usd_micros: 0,
      monthly_credits: 0,
      rate_limits: { requests_per_second: 1, reads_per_second: 10, concurrent_jobs: 2 },
    },
    hobby: {
      price_usd_micros: usd(19),
      monthly_credits: 1_100,
      rate_limits: { requests_per_second: 2, reads_per_second: 20, concurrent_jobs: 5 },
    },
    pro: {
      price_usd_micros: usd(99),
      monthly_credits: 6_000,
      rate_limits: { requests_per_second: 5, reads_per_second: 50, concurrent_jobs: 20 },
    },
    growth: {
      price_usd_micros: usd(299),
      monthly_credits: 20_000,
      rate_limits: { requests_per_second: 10, reads_per_second: 100, concurrent_jobs: 50 },
    },
    'scale-1': {
      price_usd_micros: usd(599),
      monthly_credits: 44_000,
      rate_limits: { requests_per_second: 20, reads_per_second: 200, concurrent_jobs: 100 },
    },
    'scale-2': {
      price_usd_micros: usd(999),
      monthly_credits: 77_000,
      rate_limits: { requests_per_second: 40, reads_per_second: 400, concurrent_jobs: 200 },
    },
  },
  default_plan: 'trial',
  trial_credits: 25,
  tasks: {
    prototyping: 'flux-2-dev',
    iteration: 'flux-2-dev',
    marketing: 'nano-banana-2',
    photorealism: 'nano-banana-2',
    artistic: 'midjourney',
    'text-in-image': 'ideogram-v3',
    general: 'nano-banana',
  },
  billing_period: { unit: 'month', count: 1 },
};

/** A partial catalog in the config file is merged key by key over the defaults. */
const catalogOverrideSchema = z
  .object({
    models: z.record(z.string(), z.unknown()).optional(),
    plans: z.record(z.string(), z.unknown()).optional(),
    default_plan: z.unknown().optional(),
    trial_credits: z.unknown().optional(),
    tasks: z.record(z.string(), z.unknown()).optional(),
    billing_period: z.unknown().optional(),
  })
  .passthrough();

export function formatIssues(source: string, issues: readonly z.core.$ZodIssue[]): string {
  const lines = issues.map((issue) => `  ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`);
  return `Invalid configuration in ${source}:\n${lines.join('\n')}`;
}

/** Parses the `catalog` section of a config file over the defaults. */
export function buildCatalog(override: unknown, source = 'EASEL_CONFIG'): Catalog {
  if (override === undefined || override === null) return DEFAULT_CATALOG;
  const parsed = catalogOverrideSchema.safeParse(override);
  if (!parsed.success) throw new ConfigurationError(formatIssues(source, parsed.error.issues));
  const o = parsed.data;
  const merged = {
    ...DEFAULT_CATALOG,
    ...o,
    models: { ...DEFAULT_CATALOG.models, ...o.models },
    plans: { ...DEFAULT_CATALOG.plans, ...o.plans },
    tasks: { ...DEFAULT_CATALOG.tasks, ...o.tasks },
  };
  const result = catalogSchema.safeParse(merged);
  if (!result.success) throw new ConfigurationError(formatIssues(source, result.error.issues));
  return result.data;
}

/** USD of `credits` on a plan, in integer micro-dollars (price / monthly credits per credit). */
export function creditsToUsdMicros(plan: Plan, credits: number): number {
  if (plan.monthly_credits === 0) return 0;
  return Math.round((credits * plan.price_usd_micros) / plan.monthly_credits);
}

export function usdFromMicros(micros: number): number {
  return micros / 1_000_000;
}

/** Adds one billing period to a date (calendar months clamp to the month's last day). */
export function addBillingPeriod(start: Date, period: BillingPeriod): Date {
  if (period.unit === 'second') return new Date(start.getTime() + period.count * 1000);
  const d = new Date(start.getTime());
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + period.count);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  return d;
}

/**
 * Resolves `model` (or `auto` + `task`) to a catalog model; a 400 names the valid choices. A task
 * sent with an explicit model is checked too: the usage report compares it with `auto`'s choice.
 */
export function resolveModel(catalog: Catalog, model: string | undefined, task: string | undefined): string {
  const tasks = `one of ${Object.keys(catalog.tasks).join(', ')}`;
  const routed = task === undefined ? undefined : taskModel(catalog, task);
  if (task !== undefined && routed === undefined) {
    throw new InvalidInput(`Unknown task "${task}".`, { task: tasks });
  }
  if (model !== undefined && model !== 'auto') {
    if (!catalogModel(catalog, model)) {
      throw new InvalidInput(`Unknown model "${model}".`, {
        model: `one of auto, ${Object.keys(catalog.models).join(', ')}`,
      });
    }
    return model;
  }
  if (routed === undefined) throw new InvalidInput('model "auto" needs a task.', { task: tasks });
  return routed;
}

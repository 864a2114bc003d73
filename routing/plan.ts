import type { Deployment, ProviderConfig, RoutingStrategy } from './deployments';
import { deploymentsFor, strategyFor } from './deployments';

/** Recent behaviour of a deployment, as the worker saw it (per process). */
export interface DeploymentStats {
  /** Exponentially weighted mean latency of successful calls, in ms; undefined before the first. */
  latencyMs?: number;
}

export interface RoutingPlan {
  model: string;
  strategy: RoutingStrategy;
  /** Deployments in the order they are tried. */
  deployments: Deployment[];
}

/**
 * Orders the deployments serving a model by the model's strategy. Pure: randomness and latency
 * statistics come in as arguments, so a test can pin them.
 */
export function routingPlan(
  model: string,
  config: ProviderConfig,
  options: {
    random?: () => number;
    stats?: (deploymentId: string) => DeploymentStats | undefined;
    /** Calls in flight on each deployment across all workers (`least_busy`). */
    busy?: ReadonlyMap<string, number>;
  } = {},
): RoutingPlan {
  const strategy = strategyFor(config, model);
  const candidates = deploymentsFor(config, model);
  const random = options.random ?? Math.random;
  let ordered: Deployment[];
  switch (strategy) {
    case 'weighted':
      ordered = weightedOrder(candidates, random);
      break;
    case 'cheapest':
      ordered = [...candidates].sort(
        (a, b) => a.models[model]!.cost_usd_micros - b.models[model]!.cost_usd_micros || b.weight - a.weight,
      );
      break;
    case 'fastest': {
      // A deployment without a measurement goes first once, so that every one gets measured.
      const latency = (d: Deployment): number => options.stats?.(d.id)?.latencyMs ?? -1;
      ordered = [...candidates].sort((a, b) => latency(a) - latency(b));
      break;
    }
    case 'priority':
      ordered = [...candidates].sort((a, b) => a.priority - b.priority);
      break;
    case 'least_busy': {
      // In flight relative to capacity (max_concurrency, else the weight); ties go by priority.
      const load = (d: Deployment): number =>
        (options.busy?.get(d.id) ?? 0) / (d.max_concurrency ?? d.weight);
      ordered = [...candidates].sort((a, b) => load(a) - load(b) || a.priority - b.priority);
      break;
    }
  }
  return { model, strategy, deployments: ordered };
}

/** Weighted random order without replacement: the first pick follows the weights exactly. */
export function weightedOrder<T extends { weight: number }>(items: readonly T[], random: () => number): T[] {
  const pool = [...items];
  const out: T[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, d) => sum + d.weight, 0);
    let pick = random() * total;
    let index = pool.findIndex((d) => (pick -= d.weight) < 0);
    if (index < 0) index = pool.length - 1;
    out.push(pool.splice(index, 1)[0]!);
  }
  return out;
}

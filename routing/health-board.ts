import os from 'node:os';
import type { Connection } from 'mongoose';
import type mongoose from 'mongoose';
import type { DeploymentHealth } from './health';

interface HealthDoc {
  _id: string;
  updated_at: Date;
  deployments: Record<string, DeploymentHealth>;
}

/** One live worker's view of every deployment. */
export interface WorkerHealth {
  worker: string;
  updated_at: Date;
  deployments: Record<string, DeploymentHealth>;
}

const PUBLISH_EVERY_MS = 5_000;
const STALE_AFTER_MS = 30_000;

/**
 * Breakers and latency live in each worker process. Each worker publishes its view every few
 * seconds (one document per process, by `_id`), so that `GET /admin/v1/providers` on any API
 * replica shows every live worker's breaker states.
 */
export class ProviderHealthBoard {
  private readonly docs: mongoose.mongo.Collection<HealthDoc>;
  readonly processId = `${os.hostname()}:${process.pid}`;

  constructor(connection: Connection) {
    this.docs = connection.collection<HealthDoc>('provider_health');
  }

  /** Publishes now and every few seconds; `refresh` publishes at once (a breaker changed state). */
  publish(snapshot: () => Record<string, DeploymentHealth>): { refresh: () => void; stop: () => void } {
    const write = (): Promise<unknown> =>
      this.docs
        .replaceOne(
          { _id: this.processId },
          { updated_at: new Date(), deployments: snapshot() },
          { upsert: true },
        )
        .catch(() => undefined);
    void write();
    const timer = setInterval(() => void write(), PUBLISH_EVERY_MS);
    timer.unref();
    return {
      refresh: () => void write(),
      stop: () => {
        clearInterval(timer);
        void this.docs.deleteOne({ _id: this.processId }).catch(() => undefined);
      },
    };
  }

  async workers(): Promise<WorkerHealth[]> {
    const docs = await this.docs.find({}).toArray();
    const fresh = Date.now() - STALE_AFTER_MS;
    return docs
      .filter((d) => d.updated_at.getTime() >= fresh)
      .map((d) => ({ worker: d._id, updated_at: d.updated_at, deployments: d.deployments }));
  }
}

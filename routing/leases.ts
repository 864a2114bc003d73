import { randomBytes } from 'node:crypto';
import mongoose, { Schema, type Connection, type Model } from 'mongoose';
import { sleep } from '../platform/abort';
import { isDuplicateKey, typedCollection } from '../platform/db';

/** A call in flight on a deployment, as every worker sees it. */
interface LeaseRecord {
  /** `<deployment>#<slot>` for a deployment with max_concurrency, `<deployment>~<random>` otherwise. */
  _id: string;
  deployment: string;
  owner: string;
  expires_at: Date;
}

const leaseSchema = new Schema<LeaseRecord>(
  {
    _id: String,
    deployment: { type: String, required: true },
    owner: { type: String, required: true },
    expires_at: { type: Date, required: true },
  },
  { versionKey: false, collection: 'deployment_leases' },
);
// busy() reads one deployment's leases by this key (FerretDB narrows the equality through it).
leaseSchema.index({ deployment: 1 }, { name: 'leases_of_deployment' });

/** A lease lives this long without renewal: a worker that dies frees its slots within it. */
export const LEASE_TTL_MS = 30_000;
const RENEW_EVERY_MS = LEASE_TTL_MS / 3;
/** Pause between looks for a free slot while waiting (`overflow: wait`). */
const WAIT_POLL_MS = 250;

export interface Lease {
  release(): Promise<void>;
}

/** Every slot of the deployment is taken, and its overflow rule says go to the next deployment. */
export class AtCapacity extends Error {
  override name = 'AtCapacity';
}

/**
 * Calls in flight on each deployment across every worker, without a lock service: a call holds a
 * lease document for as long as it runs, renewed while it does. A deployment with
 * `max_concurrency: K` has K slots, `<deployment>#0` … `#K-1`; taking one is inserting its
 * document, which the primary key gives to exactly one caller fleet-wide (MongoDB and FerretDB
 * alike). A slot whose lease expired (its worker died) is taken over. The same leases tell
 * `least_busy` routing how busy each deployment is.
 */
export class DeploymentLeases {
  private readonly leases: Model<LeaseRecord>;
  private readonly owner = randomBytes(8).toString('hex');

  constructor(
    connection: Connection = mongoose.connection,
    private readonly clock: () => number = Date.now,
  ) {
    this.leases =
      connection.models.DeploymentLease ?? connection.model<LeaseRecord>('DeploymentLease', leaseSchema);
  }

  async init(): Promise<void> {
    await this.leases.createCollection().catch(() => undefined);
    await this.leases.syncIndexes();
  }

  /**
   * Takes a slot of the deployment: at once, or — with `wait` — once one frees up (until
   * `signal` aborts). Without `wait` a full deployment throws AtCapacity. With no `capacity` the
   * lease only counts the call.
   */
  async acquire(
    deployment: string,
    capacity: number | undefined,
    options: { wait: boolean; signal: AbortSignal },
  ): Promise<Lease> {
    for (;;) {
      const id =
        capacity === undefined
          ? `${deployment}~${randomBytes(6).toString('hex')}`
          : await this.freeSlot(deployment, capacity);
      if (id !== undefined && (await this.take(id, deployment))) return this.held(id);
      if (!options.wait)
        throw new AtCapacity(`${deployment} is at its max_concurrency (${capacity}) across all workers`);
      await sleep(WAIT_POLL_MS, options.signal);
    }
  }

  /** How many calls are in flight on each deployment, fleet-wide (leases not expired). */
  async busy(deployments: readonly string[]): Promise<Map<string, number>> {
    const now = this.clock();
    const counts = new Map(deployments.map((d) => [d, 0]));
    await Promise.all(
      deployments.map(async (deployment) => {
        const leases = await this.leases.find({ deployment }, { expires_at: 1 }).lean<LeaseRecord[]>();
        counts.set(deployment, leases.filter((l) => l.expires_at.getTime() > now).length);
      }),
    );
    return counts;
  }

  /** A slot not held by a live lease, or undefined when every one is. */
  private async freeSlot(deployment: string, capacity: number): Promise<string | undefined> {
    const ids = Array.from({ length: capacity }, (_, i) => `${deployment}#${i}`);
    const held = await this.leases.find({ _id: { $in: ids } }).lean<LeaseRecord[]>();
    const now = this.clock();
    const byId = new Map(held.map((l) => [l._id, l]));
    // Start at a random slot so that concurrent callers rarely race for the same one.
    const offset = Math.floor(Math.random() * capacity);
    for (let i = 0; i < capacity; i++) {
      const id = ids[(offset + i) % capacity]!;
      const lease = byId.get(id);
      if (!lease) return id;
      if (lease.expires_at.getTime() <= now) {
        // Its worker died: free it for whoever inserts first (only that expired lease is removed).
        await this.leases.deleteOne({ _id: id, owner: lease.owner, expires_at: lease.expires_at });
        return id;
      }
    }
    return undefined;
  }

  private async take(id: string, deployment: string): Promise<boolean> {
    try {
      await typedCollection(this.leases).insertOne({
        _id: id,
        deployment,
        owner: this.owner,
        expires_at: new Date(this.clock() + LEASE_TTL_MS),
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  private held(id: string): Lease {
    const renew = setInterval(() => {
      void this.leases
        .updateOne(
          { _id: id, owner: this.owner },
          { $set: { expires_at: new Date(this.clock() + LEASE_TTL_MS) } },
        )
        .catch(() => undefined);
    }, RENEW_EVERY_MS);
    renew.unref();
    return {
      release: async () => {
        clearInterval(renew);
        await this.leases.deleteOne({ _id: id, owner: this.owner });
      },
    };
  }
}

import mongoose, { type Connection } from 'mongoose';
import { sleep } from '../platform/abort';
import { isDuplicateKey } from '../platform/db';

/**
 * An upstream's request-rate limit shared by every worker, without a lock service: each window
 * has N slots, and a call takes a slot by inserting the document `<deployment>:<window>:<slot>`.
 * The primary key makes each slot go to exactly one caller across all processes, on MongoDB and
 * FerretDB alike. A caller that finds every slot taken waits for the next window.
 */
export class SharedUpstreamRate {
  private readonly slots: mongoose.mongo.Collection<{ _id: string; at: Date }>;
  private lastSweep = 0;

  constructor(
    connection: Connection,
    private readonly clock: () => number = Date.now,
  ) {
    this.slots = connection.collection<{ _id: string; at: Date }>('upstream_rate_slots');
  }

  async acquire(key: string, perSecond: number, signal: AbortSignal): Promise<void> {
    const windowMs = Math.max(1000, Math.ceil(1000 / perSecond));
    const slotsPerWindow = Math.max(1, Math.floor((perSecond * windowMs) / 1000));
    for (;;) {
      const now = this.clock();
      const window = Math.floor(now / windowMs);
      // Start at a random slot so that concurrent callers rarely collide on the same one.
      const offset = Math.floor(Math.random() * slotsPerWindow);
      for (let i = 0; i < slotsPerWindow; i++) {
        const slot = (offset + i) % slotsPerWindow;
        try {
          await this.slots.insertOne({ _id: `${key}:${window}:${slot}`, at: new Date(now) });
          void this.sweep(now);
          return;
        } catch (err) {
          if (!isDuplicateKey(err)) throw err;
        }
      }
      await sleep((window + 1) * windowMs - now, signal);
    }
  }

  /** Old slots are garbage; one process-local sweep a minute keeps the collection small. */
  private async sweep(now: number): Promise<void> {
    if (now - this.lastSweep < 60_000) return;
    this.lastSweep = now;
    await this.slots.deleteMany({ at: { $lt: new Date(now - 60_000) } }).catch(() => undefined);
  }
}

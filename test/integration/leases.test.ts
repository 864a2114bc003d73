import type mongoose from 'mongoose';
import { AtCapacity, DeploymentLeases, LEASE_TTL_MS } from '../../routing/leases';
import { freshDatabase } from '../support/db';

/** Fleet-wide max_concurrency on the real FerretDB: slots go to one caller each across processes. */
describe('deployment leases', () => {
  let db: mongoose.Connection;
  let now = Date.now();
  const clock = (): number => now;
  const signal = (): AbortSignal => AbortSignal.timeout(5_000);

  beforeAll(async () => {
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db.close();
  });

  it('gives out at most max_concurrency slots across two workers, and frees them on release', async () => {
    // Two stores stand for two worker processes on the same database.
    const a = new DeploymentLeases(db, clock);
    const b = new DeploymentLeases(db, clock);
    await a.init();
    const taken = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) =>
        (i % 2 ? a : b).acquire('gpu', 2, { wait: false, signal: signal() }),
      ),
    );
    const held = taken.filter((t) => t.status === 'fulfilled');
    expect(held).toHaveLength(2);
    for (const t of taken) if (t.status === 'rejected') expect(t.reason).toBeInstanceOf(AtCapacity);
    expect((await a.busy(['gpu'])).get('gpu')).toBe(2);

    await (held[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
    expect((await b.busy(['gpu'])).get('gpu')).toBe(1);
    const again = await b.acquire('gpu', 2, { wait: false, signal: signal() });
    await again.release();
    await (held[1] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
    expect((await a.busy(['gpu'])).get('gpu')).toBe(0);
  });

  it('waits for a slot with overflow: wait, and takes over the slot of a worker that died', async () => {
    const a = new DeploymentLeases(db, clock);
    const first = await a.acquire('box', 1, { wait: false, signal: signal() });
    const waiting = a.acquire('box', 1, { wait: true, signal: signal() });
    await new Promise((r) => setTimeout(r, 400));
    await first.release();
    const second = await waiting;

    // The holder dies (its lease is never renewed): past the TTL another worker takes the slot.
    const other = new DeploymentLeases(db, clock);
    await expect(other.acquire('box', 1, { wait: false, signal: signal() })).rejects.toBeInstanceOf(
      AtCapacity,
    );
    now += LEASE_TTL_MS + 1;
    const takenOver = await other.acquire('box', 1, { wait: false, signal: signal() });
    expect((await other.busy(['box'])).get('box')).toBe(1);
    // The dead worker's late release does not free the slot someone else holds now.
    await second.release();
    expect((await other.busy(['box'])).get('box')).toBe(1);
    await expect(a.acquire('box', 1, { wait: false, signal: signal() })).rejects.toBeInstanceOf(AtCapacity);
    await takenOver.release();
    expect((await other.busy(['box'])).get('box')).toBe(0);
  });
});

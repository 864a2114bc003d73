/**
 * Serialises async work per key inside one process. The ledger uses it so that movements on one
 * account from the same process queue up instead of racing for the same sequence number; across
 * processes the unique index still decides, this only removes needless conflicts and retries.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const result = previous.then(work, work);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await result;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

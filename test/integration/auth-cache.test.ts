import { performance } from 'node:perf_hooks';
import { Query } from 'mongoose';
import { sha256Hex } from '../../platform/ids';
import { startTestEasel, type TestEasel } from '../support/easel';

/**
 * The API key cache (AUTH_CACHE_MS) against revocation and suspension in the same process: a
 * cache fill that read the key or the account before the change must not put the old answer back.
 */

interface Gate {
  /** Resolves once the matching read has its result from the database and is held. */
  held: Promise<void>;
  release(): void;
}

/**
 * Holds the first read of `collection` by `_id` after the database has answered and before the
 * caller sees the result: the read is done, the caller is still "filling".
 */
function holdReadOf(collection: string, id: string): Gate {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let markHeld!: () => void;
  const held = new Promise<void>((resolve) => (markHeld = resolve));
  let armed = true;
  const exec = Query.prototype.exec;
  jest.spyOn(Query.prototype, 'exec').mockImplementation(async function (
    this: Query<unknown, unknown>,
    ...args: unknown[]
  ) {
    const result: unknown = await (exec as (...a: unknown[]) => Promise<unknown>).apply(this, args);
    const filter = this.getFilter() as { _id?: unknown };
    if (armed && this.model.collection.collectionName === collection && filter._id === id) {
      armed = false;
      markHeld();
      await released;
    }
    return result;
  });
  return { held, release };
}

describe('the API key cache against revocation and suspension', () => {
  let easel: TestEasel;
  beforeAll(async () => {
    easel = await startTestEasel();
  });
  afterAll(() => easel.stop());
  afterEach(() => jest.restoreAllMocks());

  async function keyIdOf(accountId: string): Promise<string> {
    const keys = await easel.admin<{ data: Array<{ id: string }> }>('GET', `/accounts/${accountId}/keys`);
    return keys.body.data[0]!.id;
  }

  it('still reuses an authentication (no second key read within AUTH_CACHE_MS)', async () => {
    const { id, key } = await easel.newAccount();
    const exec = jest.spyOn(Query.prototype, 'exec');
    expect((await easel.accounts.authenticate(key))?.account._id).toBe(id);
    const reads = exec.mock.calls.length;
    expect(reads).toBeGreaterThan(0);
    expect((await easel.accounts.authenticate(key))?.account._id).toBe(id);
    expect(exec.mock.calls.length).toBe(reads);
  });

  it('a fill that read the key before revokeKey does not bring the key back', async () => {
    const { id, key } = await easel.newAccount();
    const keyId = await keyIdOf(id);
    const gate = holdReadOf('api_keys', sha256Hex(key));

    // The fill reads the (still valid) key record, then is held before it can cache it.
    const racing = easel.accounts.authenticate(key);
    await gate.held;
    expect((await easel.admin('DELETE', `/keys/${keyId}`)).status).toBe(204);
    gate.release();
    // It read the key before the revocation, so it may answer with it; it must not cache it.
    expect((await racing)?.keyId).toBe(keyId);

    expect(await easel.accounts.authenticate(key)).toBeNull();
    const after = await easel.call<{ error: { code: string } }>('GET', '/v1/account', { token: key });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
  });

  it('a fill that read the account before a suspension does not bring the active account back', async () => {
    const { id, key } = await easel.newAccount();
    const gate = holdReadOf('accounts', id);

    const racing = easel.accounts.authenticate(key);
    await gate.held;
    const patched = await easel.admin<{ status: string }>('PATCH', `/accounts/${id}`, {
      status: 'suspended',
    });
    expect(patched.body.status).toBe('suspended');
    gate.release();
    expect((await racing)?.account.status).toBe('active');

    expect((await easel.accounts.authenticate(key))?.account.status).toBe('suspended');
    const refused = await easel.call<{ error: { code: string } }>('GET', '/v1/account', { token: key });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('account_suspended');

    // Reactivation is an account change like any other: it applies at once too.
    await easel.admin('PATCH', `/accounts/${id}`, { status: 'active' });
    expect((await easel.call('GET', '/v1/account', { token: key })).status).toBe(200);
  });

  it('a revocation of another key does not stop a fill from being reused', async () => {
    const a = await easel.newAccount();
    const b = await easel.newAccount();
    const gate = holdReadOf('api_keys', sha256Hex(a.key));
    const racing = easel.accounts.authenticate(a.key);
    await gate.held;
    expect((await easel.admin('DELETE', `/keys/${await keyIdOf(b.id)}`)).status).toBe(204);
    gate.release();
    expect((await racing)?.account._id).toBe(a.id);
    jest.restoreAllMocks();

    const exec = jest.spyOn(Query.prototype, 'exec');
    expect((await easel.accounts.authenticate(a.key))?.account._id).toBe(a.id);
    expect(exec).not.toHaveBeenCalled();
    expect(await easel.accounts.authenticate(b.key)).toBeNull();
  });

  it('answers 401 to every request that starts after DELETE /admin/v1/keys/:keyId answered', async () => {
    const workers = 16;
    const other = await easel.newAccount();
    for (let round = 0; round < 20; round++) {
      const { id, key } = await easel.newAccount();
      const keyId = await keyIdOf(id);
      expect((await easel.call('GET', '/v1/account', { token: key })).status).toBe(200);

      const seen: Array<{ start: number; status: number }> = [];
      let stop = false;
      const hammer = async (): Promise<void> => {
        while (!stop) {
          const start = performance.now();
          const { status } = await easel.call('GET', '/v1/account', { token: key });
          seen.push({ start, status });
        }
      };
      // Admin edits of another account keep emptying the cache up to the revocation: the requests
      // around it are then cache fills racing it, not only cache hits.
      let edits = 0;
      let revoking = false;
      const editing = (async () => {
        while (!revoking) await easel.admin('PATCH', `/accounts/${other.id}`, { name: `edit ${edits++}` });
      })();
      const running = Array.from({ length: workers }, hammer);
      await new Promise((r) => setTimeout(r, 100));
      revoking = true;
      const revoked = await easel.admin('DELETE', `/keys/${keyId}`);
      const answered = performance.now();
      expect(revoked.status).toBe(204);
      const startedAfter = (): number => seen.filter((s) => s.start >= answered).length;
      const deadline = answered + 5_000;
      while (startedAfter() < 2 * workers && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
      }
      stop = true;
      await Promise.all([...running, editing]);
      expect(edits).toBeGreaterThan(0);

      const before = seen.filter((s) => s.start < answered);
      const after = seen.filter((s) => s.start >= answered);
      expect(before.some((s) => s.status === 200)).toBe(true);
      expect(after.length).toBeGreaterThanOrEqual(workers);
      expect(after.filter((s) => s.status !== 401)).toEqual([]);
    }
  });
});

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestEasel, type TestEasel } from '../support/easel';

interface AccountBody {
  id: string;
  plan: string;
  balance: { available: number; plan_credits: number; purchased_credits: number; held: number };
  period: { start: string; end: string } | null;
  rate_limits: { requests_per_second: number; concurrent_jobs: number; reads_per_second: number };
}

describe('accounts, keys and the admin API', () => {
  let easel: TestEasel;
  beforeAll(async () => {
    easel = await startTestEasel();
  });
  afterAll(() => easel.stop());

  it('creates an account with the 25 trial credits and the default plan', async () => {
    const created = await easel.admin<AccountBody>('POST', '/accounts', { name: 'Acme' });
    expect(created.status).toBe(201);
    expect(created.body.plan).toBe('trial');
    expect(created.body.balance.available).toBe(25);
    expect(created.body.rate_limits).toEqual({
      requests_per_second: 1,
      concurrent_jobs: 2,
      reads_per_second: 10,
    });
  });

  it('refuses a missing or wrong admin token with 401', async () => {
    expect((await easel.call('POST', '/admin/v1/accounts', { body: { name: 'x' } })).status).toBe(401);
    expect(
      (
        await easel.call('POST', '/admin/v1/accounts', {
          body: { name: 'x' },
          token: 'wrong-token-wrong-token',
        })
      ).status,
    ).toBe(401);
    const { key } = await easel.newAccount();
    expect((await easel.call('GET', '/admin/v1/accounts/whatever', { token: key })).status).toBe(401);
  });

  it('answers each key with its own account only', async () => {
    const a = await easel.newAccount('hobby');
    const b = await easel.newAccount('pro');
    const readA = await easel.call<AccountBody>('GET', '/v1/account', { token: a.key });
    const readB = await easel.call<AccountBody>('GET', '/v1/account', { token: b.key });
    expect(readA.body.id).toBe(a.id);
    expect(readA.body.balance.available).toBe(1_125);
    expect(readB.body.id).toBe(b.id);
    expect(readB.body.balance.available).toBe(6_025);
  });

  it('fails a revoked key at once, and lists keys without their secret', async () => {
    const { id, key } = await easel.newAccount();
    expect((await easel.call('GET', '/v1/account', { token: key })).status).toBe(200);
    const keys = await easel.admin<{
      data: Array<{ id: string; prefix: string; revoked_at: string | null }>;
    }>('GET', `/accounts/${id}/keys`);
    expect(keys.body.data).toHaveLength(1);
    expect(JSON.stringify(keys.body)).not.toContain(key);
    expect(key.startsWith(keys.body.data[0]!.prefix)).toBe(true);
    expect((await easel.admin('DELETE', `/keys/${keys.body.data[0]!.id}`)).status).toBe(204);
    const after = await easel.call<{ error: { code: string } }>('GET', '/v1/account', { token: key });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('unauthorized');
    expect((await easel.call('GET', '/v1/account')).status).toBe(401);
  });

  it('grants credits once per idempotency key and pages the ledger', async () => {
    const { id, key } = await easel.newAccount();
    const grant = { credits: 40, idempotency_key: 'invoice-17', reason: 'top-up' };
    const first = await easel.admin<{ replayed: boolean }>('POST', `/accounts/${id}/grants`, grant);
    const second = await easel.admin<{ replayed: boolean }>('POST', `/accounts/${id}/grants`, grant);
    expect([first.status, second.status]).toEqual([201, 200]);
    expect(second.body.replayed).toBe(true);
    expect((await easel.call<AccountBody>('GET', '/v1/account', { token: key })).body.balance.available).toBe(
      65,
    );
    const bad = await easel.admin<{ error: { details: { fields: Record<string, string> } } }>(
      'POST',
      `/accounts/${id}/grants`,
      { credits: -3, idempotency_key: 'x' },
    );
    expect(bad.status).toBe(400);
    expect(Object.keys(bad.body.error.details.fields)).toEqual(['credits']);

    const page1 = await easel.admin<{
      data: Array<{ seq: number; kind: string }>;
      next_before: number | null;
    }>('GET', `/accounts/${id}/ledger?limit=1`);
    expect(page1.body.data.map((e) => e.seq)).toEqual([2]);
    const page2 = await easel.admin<{ data: Array<{ seq: number }>; next_before: number | null }>(
      'GET',
      `/accounts/${id}/ledger?limit=1&before=${page1.body.next_before}`,
    );
    expect(page2.body.data.map((e) => e.seq)).toEqual([1]);
  });

  it('suspends and reactivates an account, and overrides its rate limits', async () => {
    const { id, key } = await easel.newAccount('pro');
    const patched = await easel.admin<AccountBody>('PATCH', `/accounts/${id}`, {
      status: 'suspended',
      rate_limits: { concurrent_jobs: 500 },
    });
    expect(patched.body.rate_limits).toEqual({
      requests_per_second: 5,
      concurrent_jobs: 500,
      reads_per_second: 50,
    });
    const refused = await easel.call<{ error: { code: string } }>('GET', '/v1/account', { token: key });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('account_suspended');
    await easel.admin('PATCH', `/accounts/${id}`, { status: 'active' });
    expect((await easel.call('GET', '/v1/account', { token: key })).status).toBe(200);
  });

  it('serves the catalog, and estimates reproduce the published cost table', async () => {
    const models = await easel.call<{ data: Array<{ id: string; credits: number }> }>('GET', '/v1/models');
    expect(models.body.data.find((m) => m.id === 'ideogram-v3')?.credits).toBe(5);
    // The seed's table: $/image on the Hobby plan, rounded to the cent's tenth.
    const hobbyPerImage: Record<string, number> = {
      'flux-2-dev': 0.017,
      'nano-banana': 0.035,
      'nano-banana-2': 0.052,
      midjourney: 0.069,
      'ideogram-v3': 0.087,
    };
    for (const [model, usd] of Object.entries(hobbyPerImage)) {
      const est = await easel.call<{ plans: Array<{ plan: string; usd_per_image: number }> }>(
        'POST',
        '/v1/estimate',
        { body: { model } },
      );
      expect(
        Math.abs(est.body.plans.find((p) => p.plan === 'hobby')!.usd_per_image - usd),
      ).toBeLessThanOrEqual(0.0011);
    }
    const auto = await easel.call<{ model: string; credits: number }>('POST', '/v1/estimate', {
      body: { task: 'text-in-image', count: 10 },
    });
    expect(auto.body).toMatchObject({ model: 'ideogram-v3', credits: 50 });
    const bad = await easel.call('POST', '/v1/estimate', { body: { model: 'dall-e-9' } });
    expect(bad.status).toBe(400);
  });

  it('finds nothing wrong in an audit of every account', async () => {
    const audit = await easel.admin<{ accounts_checked: number; violations: unknown[] }>('POST', '/audit');
    expect(audit.body.accounts_checked).toBeGreaterThan(5);
    expect(audit.body.violations).toEqual([]);
  });
});

describe('billing period renewal', () => {
  let easel: TestEasel;
  beforeAll(async () => {
    const config = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'easel-cfg-')), 'easel.yaml');
    fs.writeFileSync(config, 'catalog:\n  billing_period: { unit: second, count: 4 }\n');
    easel = await startTestEasel({ env: { EASEL_CONFIG: config } });
  });
  afterAll(() => easel.stop());

  it('expires unused plan credits at the period end and grants the next period, keeping purchased credits', async () => {
    const { id, key } = await easel.newAccount('hobby');
    const first = (await easel.call<AccountBody>('GET', '/v1/account', { token: key })).body;
    expect(first.balance).toMatchObject({ plan_credits: 1_100, purchased_credits: 25 });
    await easel.admin('POST', `/accounts/${id}/grants`, { credits: 10, idempotency_key: 'bought' });

    const deadline = Date.now() + 20_000;
    let now = first;
    while (Date.now() < deadline && now.period?.start === first.period?.start) {
      await new Promise((r) => setTimeout(r, 250));
      now = (await easel.call<AccountBody>('GET', '/v1/account', { token: key })).body;
    }
    expect(now.period!.start).toBe(first.period!.end);
    expect(now.balance).toMatchObject({ plan_credits: 1_100, purchased_credits: 35 });

    const ledger = await easel.admin<{
      data: Array<{ kind: string; credits: number; idempotency_key: string }>;
    }>('GET', `/accounts/${id}/ledger`);
    const kinds = ledger.body.data.map((e) => e.kind);
    expect(kinds.slice(0, 2)).toEqual(['grant', 'expire']);
    expect(ledger.body.data.find((e) => e.kind === 'expire')!.credits).toBe(1_100);
    const audit = await easel.admin<{ violations: unknown[] }>('POST', '/audit');
    expect(audit.body.violations).toEqual([]);
  });
});

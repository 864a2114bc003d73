import type mongoose from 'mongoose';
import type { Browser, Page } from 'puppeteer-core';
import { Ledger } from '../../core/ledger/ledger';
import type { z } from 'zod';
import type * as shape from '../../api/openapi/responses';
import type { JobView } from '../../core/jobs/view';
import { BflFake } from '../fakes/bfl-fake';
import { freshDatabase } from '../support/db';
import { ADMIN_TOKEN, startTestEasel, type TestEasel } from '../support/easel';
import { bflDeployment, waitFor, writeConfig } from '../support/config';
import {
  attributeOf,
  clearInput,
  countOf,
  launchBrowser,
  openPage,
  snap,
  tableRows,
  textOf,
  waitForText,
  WIDE,
  type WatchedPage,
} from '../support/browser';

/**
 * The operator's back office at /console, driven in headless Chromium against the real stack:
 * accounts (search, plan, status, limit overrides), keys, grants and the ledger, any job by id,
 * the audit with its violations linked, and the provider board following a breaker live.
 */

const BFL_KEY = 'bfl-backoffice-key';
process.env.TEST_BFL_KEY = BFL_KEY;

/** The answers these tests read, as the OpenAPI document gives them. */
type Account = z.output<typeof shape.accountView>;
type Entry = z.output<typeof shape.ledgerEntry>;
type Violation = z.output<typeof shape.auditReport>['violations'][number];
type ProviderStatus = z.output<typeof shape.providerStatus>;

describe('the operator back office at /console, in a real browser', () => {
  const primary = new BflFake({ apiKey: BFL_KEY, pendingMs: 100 });
  const spare = new BflFake({ apiKey: BFL_KEY, pendingMs: 100 });
  let easel: TestEasel;
  let db: mongoose.Connection;
  let browser: Browser;
  let operator: WatchedPage;
  let page: Page;
  const suffix = Math.random().toString(36).slice(2, 8);
  const customerName = `Backoffice Customer ${suffix}`;
  let customer: { id: string; key: string };
  /** A job of the customer's, succeeded on the primary deployment. */
  let job: JobView;

  beforeAll(async () => {
    await Promise.all([primary.start(), spare.start()]);
    const config = writeConfig({
      providers: {
        default_strategy: 'priority',
        deployments: [
          bflDeployment('bfl-primary', primary, {
            priority: 1,
            // Open long enough for the board to show it, then one probe closes it.
            breaker: {
              volume_threshold: 3,
              error_threshold_percent: 50,
              reset_timeout_ms: 15_000,
              rolling_window_ms: 20_000,
            },
          }),
          bflDeployment('bfl-spare', spare, { priority: 2 }),
        ],
      },
    });
    easel = await startTestEasel({ env: { EASEL_CONFIG: config } });
    db = await freshDatabase(easel.dbName);
    browser = await launchBrowser();
    operator = await openPage(browser, easel.baseUrl, WIDE);
    page = operator.page;
  });
  afterAll(async () => {
    await browser?.close();
    await db?.close();
    await easel?.stop();
    await Promise.all([primary.close(), spare.close()]);
  });

  const account = async (id: string): Promise<Account> =>
    (await easel.admin<Account>('GET', `/accounts/${id}`)).body;
  const finished = (key: string, id: string): Promise<JobView> =>
    waitFor(
      () => easel.call<JobView>('GET', `/v1/jobs/${id}?wait=10`, { token: key }).then((r) => r.body),
      (j) => ['succeeded', 'failed', 'canceled'].includes(j.status),
      60_000,
      0,
    );

  it('finds accounts by id or by part of the name, in any case, through the API', async () => {
    const created = await easel.admin<Account>('POST', '/accounts', { name: `Search Probe ${suffix}` });
    const other = await easel.admin<Account>('POST', '/accounts', { name: 'Unrelated (a.*) Ltd' });
    const byName = await easel.admin<{ data: Account[] }>(
      'GET',
      `/accounts?q=${encodeURIComponent(`probe ${suffix}`.toUpperCase())}`,
    );
    expect(byName.status).toBe(200);
    expect(byName.body.data.map((a) => a.id)).toEqual([created.body.id]);
    const byId = await easel.admin<{ data: Account[] }>('GET', `/accounts?q=${created.body.id}`);
    expect(byId.body.data.map((a) => a.id)).toEqual([created.body.id]);
    // Matched as text, not as a pattern: `.*` finds only the name that has it.
    const literal = await easel.admin<{ data: Account[] }>(
      'GET',
      `/accounts?q=${encodeURIComponent('(a.*)')}`,
    );
    expect(literal.body.data.map((a) => a.id)).toEqual([other.body.id]);
    expect(
      (await easel.admin<{ data: Account[] }>('GET', '/accounts?q=nothing-like-this')).body.data,
    ).toEqual([]);
    // Whatever the text, an answer (never a server error): the query is never run as a pattern.
    for (const q of ['\\', '[', '(?', '\u0000', '🦄', '$where', '{"$gt": ""}']) {
      const odd = await easel.admin<{ data: Account[] }>('GET', `/accounts?q=${encodeURIComponent(q)}`);
      expect([q, odd.status]).toEqual([q, 200]);
      expect(odd.body.data).toEqual([]);
    }
  });

  it('removes one limit override with null and keeps the others, through the API', async () => {
    const created = await easel.admin<Account>('POST', '/accounts', { name: `Overrides ${suffix}` });
    const path = `/accounts/${created.body.id}`;
    await easel.admin('PATCH', path, { rate_limits: { requests_per_second: 9, concurrent_jobs: 7 } });
    const patched = await easel.admin<Account>('PATCH', path, { rate_limits: { concurrent_jobs: null } });
    expect(patched.status).toBe(200);
    expect(patched.body.rate_limit_overrides).toEqual({ requests_per_second: 9 });
    expect(patched.body.rate_limits).toMatchObject({ requests_per_second: 9, concurrent_jobs: 2 });
    const cleared = await easel.admin<Account>('PATCH', path, { rate_limits: { requests_per_second: null } });
    expect(cleared.body.rate_limit_overrides).toBeNull();
  });

  it('signs the operator in, creates an account (its key shown once) and finds it by search', async () => {
    await page.goto(`${easel.baseUrl}/console`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#token');
    await page.type('#token', ADMIN_TOKEN);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#accounts tbody tr');
    expect(
      (await page.evaluate(`[...document.querySelectorAll('#nav a')].map((a) => a.textContent)`)) as string[],
    ).toEqual(['Accounts', 'Jobs', 'Audit', 'Providers']);

    await page.type('#account-name', customerName);
    await page.select('#account-plan', 'hobby');
    await page.click('form button[type=submit]');
    await page.waitForSelector('#new-key');
    const key = (await attributeOf(page, '#new-key', 'value')) ?? '';
    expect(key).toMatch(/^ek_/);
    const me = await easel.call<{ id: string; name: string }>('GET', '/v1/account', { token: key });
    expect(me.body.name).toBe(customerName);
    customer = { id: me.body.id, key };
    await page.click('#key-handed-over');
    expect(await countOf(page, '#new-key')).toBe(0);
    expect(await page.evaluate('document.body.innerText')).not.toContain(key);

    // By keyboard: the search box, then Enter.
    await page.focus('#account-search');
    await page.keyboard.type(`customer ${suffix}`.toUpperCase());
    await page.keyboard.press('Enter');
    await waitForText(page, '#accounts-summary', /^1 account match/);
    const found = await tableRows(page, '#accounts');
    expect(found).toEqual([
      expect.objectContaining({ Name: `${customerName}${customer.id}`, Plan: 'hobby', Status: 'active' }),
    ]);
    await snap(page, 'backoffice-accounts-search');

    await clearInput(page, '#account-search');
    await page.type('#account-search', customer.id);
    await page.keyboard.press('Enter');
    // The summary already reads "1 account match" from the search before: wait for the table's
    // one row to be this account's instead.
    await page.waitForFunction(
      `(() => { const rows = document.querySelectorAll('#accounts tbody tr'); return rows.length === 1 && rows[0].dataset.accountId === ${JSON.stringify(customer.id)}; })()`,
      { timeout: 10_000 },
    );
    await waitForText(page, '#accounts-summary', /^1 account match/);
    expect(await attributeOf(page, '#accounts tbody tr', 'data-account-id')).toBe(customer.id);
    await page.click('#clear-search');
    await waitForText(page, '#accounts-summary', /^[3-9]\d* accounts\./);
  });

  it('changes the account’s plan, and suspends and reactivates it (its key refused, then accepted)', async () => {
    await page.click(`#accounts tr[data-account-id="${customer.id}"] a`);
    await waitForText(page, '#account-title', new RegExp(customerName));
    expect(await page.evaluate('location.hash')).toBe(`#accounts/${customer.id}`);
    await snap(page, 'backoffice-account');

    await page.select('#plan-select', 'pro');
    await page.click('#change-plan');
    await waitForText(page, '#account-plan-now', /^pro$/);
    expect(await textOf(page, '#account-notice')).toBe('Plan changed to pro.');
    const changed = await account(customer.id);
    expect(changed.plan).toBe('pro');
    // The new plan's monthly credits are granted at once, on top of the trial's 25.
    expect(changed.balance.available).toBe(6_025);
    expect(await textOf(page, '#account-available')).toBe('6,025');
    // The ledger shows the movements the change made: hobby's credits expired, pro's granted.
    await waitForText(page, '#ledger tbody tr', /pro plan credits/);
    expect((await tableRows(page, '#ledger')).slice(0, 2)).toEqual([
      expect.objectContaining({ Movement: 'grant', Credits: '6,000', 'Available after': '6,025' }),
      expect.objectContaining({ Movement: 'expire', Credits: '1,100', 'Available after': '25' }),
    ]);

    await page.focus('#toggle-status');
    await page.keyboard.press('Enter');
    await waitForText(page, '#account-status', /^suspended$/);
    expect(await textOf(page, '#toggle-status')).toBe('Reactivate account');
    expect((await account(customer.id)).status).toBe('suspended');
    const refused = await easel.call<{ error: { code: string } }>('GET', '/v1/account', {
      token: customer.key,
    });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('account_suspended');
    await snap(page, 'backoffice-account-suspended');

    await page.click('#toggle-status');
    await waitForText(page, '#account-status', /^active$/);
    expect((await easel.call('GET', '/v1/account', { token: customer.key })).status).toBe(200);
  });

  it('sets limit overrides, shows them as overrides, and goes back to the plan’s limits', async () => {
    await page.type('#override-concurrent', '7');
    await page.type('#override-rps', '9');
    await page.click('#save-overrides');
    await waitForText(page, '#account-notice', /Limit overrides saved/);
    expect(await textOf(page, '#limit-concurrent_jobs')).toBe('7override');
    expect(await textOf(page, '#limit-requests_per_second')).toBe('9override');
    expect((await account(customer.id)).rate_limit_overrides).toEqual({
      concurrent_jobs: 7,
      requests_per_second: 9,
    });

    // Emptying one field gives that limit back to the plan and keeps the other override.
    await clearInput(page, '#override-rps');
    await page.click('#save-overrides');
    await waitForText(page, '#limit-requests_per_second', /^5$/);
    const after = await account(customer.id);
    expect(after.rate_limit_overrides).toEqual({ concurrent_jobs: 7 });
    expect(after.rate_limits).toMatchObject({ requests_per_second: 5, concurrent_jobs: 7 });
    await snap(page, 'backoffice-account-overrides');

    await clearInput(page, '#override-concurrent');
    await page.type('#override-concurrent', '0');
    await page.click('#save-overrides');
    await waitForText(page, '#override-errors', /whole number/);
    expect(await attributeOf(page, '#override-concurrent', 'aria-invalid')).toBe('true');
    await page.click('#clear-overrides');
    await waitForText(page, '#limit-concurrent_jobs', /^20$/);
    expect((await account(customer.id)).rate_limit_overrides).toBeNull();
    expect(await attributeOf(page, '#override-concurrent', 'aria-invalid')).toBeNull();
    // A test customer needs room for the jobs below.
    await easel.admin('PATCH', `/accounts/${customer.id}`, {
      rate_limits: { requests_per_second: 1_000, concurrent_jobs: 1_000 },
    });
  });

  it('issues a key shown once, then revokes it: the API refuses it with 401', async () => {
    await page.type('#key-name', 'ci pipeline');
    await page.click('#issue-key');
    await page.waitForSelector('#new-key');
    const key = (await attributeOf(page, '#new-key', 'value')) ?? '';
    expect(key).toMatch(/^ek_/);
    expect((await easel.call('GET', '/v1/account', { token: key })).status).toBe(200);
    const listed = await easel.admin<{ data: Array<{ id: string; prefix: string; name: string | null }> }>(
      'GET',
      `/accounts/${customer.id}/keys`,
    );
    const issued = listed.body.data.find((k) => k.name === 'ci pipeline')!;
    expect(key.startsWith(issued.prefix)).toBe(true);
    await page.waitForSelector(`#keys tr[data-key-id="${issued.id}"]`);
    expect((await tableRows(page, '#keys')).map((r) => r.State)).toEqual(['active', 'active']);
    await snap(page, 'backoffice-key-issued');
    await page.click('#key-handed-over');
    expect(await page.evaluate('document.body.innerText')).not.toContain(key);

    await page.click(`#keys tr[data-key-id="${issued.id}"] button`);
    await waitForText(page, `#keys tr[data-key-id="${issued.id}"]`, /revoked/);
    expect(await textOf(page, '#account-notice')).toContain('revoked');
    const refused = await easel.call('GET', '/v1/account', { token: key });
    expect(refused.status).toBe(401);
    // The other key still works.
    expect((await easel.call('GET', '/v1/account', { token: customer.key })).status).toBe(200);
  });

  it('grants credits: the balance and the ledger show the grant with its reason', async () => {
    const before = (await account(customer.id)).balance.available;
    await page.type('#grant-credits', '500');
    await page.type('#grant-reason', `invoice ${suffix}`);
    await page.click('#grant');
    await waitForText(page, '#account-notice', /500 credits granted/);
    const expected = (before + 500).toLocaleString('en-US');
    await waitForText(page, '#account-available', new RegExp(`^${expected}$`));
    expect((await account(customer.id)).balance.available).toBe(before + 500);
    const ledger = await easel.admin<{ data: Entry[] }>('GET', `/accounts/${customer.id}/ledger?limit=1`);
    expect(ledger.body.data[0]).toMatchObject({ kind: 'grant', credits: 500, reason: `invoice ${suffix}` });
    await waitForText(page, '#ledger tbody tr', new RegExp(`invoice ${suffix}`));
    expect((await tableRows(page, '#ledger'))[0]).toMatchObject({
      '#': String(ledger.body.data[0]!.seq),
      Movement: 'grant',
      Credits: '500',
      Reason: `invoice ${suffix}`,
      'Available after': expected,
    });
    await snap(page, 'backoffice-ledger');

    // Paged, newest first: older entries come after the first page, none twice.
    for (let i = 0; i < 25; i++) {
      const grant = await easel.admin('POST', `/accounts/${customer.id}/grants`, {
        credits: 1,
        idempotency_key: `paging-${i}`,
        reason: `paging ${i}`,
      });
      expect(grant.status).toBe(201);
    }
    const all = await easel.admin<{ data: Entry[] }>('GET', `/accounts/${customer.id}/ledger?limit=500`);
    await page.reload({ waitUntil: 'networkidle0' });
    await page.waitForSelector('#ledger tbody tr');
    expect(await countOf(page, '#ledger tbody tr')).toBe(25);
    await page.click('#older-entries');
    await page.waitForFunction(
      `document.querySelectorAll('#ledger tbody tr').length === ${all.body.data.length}`,
    );
    expect(
      (await page.evaluate(
        `[...document.querySelectorAll('#ledger tbody tr')].map((tr) => Number(tr.dataset.seq))`,
      )) as number[],
    ).toEqual(all.body.data.map((e) => e.seq));
    expect(await attributeOf(page, '#older-entries', 'hidden')).toBe('');
  });

  it('opens any account’s job by id: its attempts and the movements of its credits', async () => {
    const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
      token: customer.key,
      body: { model: 'flux-2-dev', prompt: 'a lighthouse for the back office' },
    });
    expect(submitted.status).toBe(202);
    job = await finished(customer.key, submitted.body.id);
    expect(job).toMatchObject({ status: 'succeeded', provider: 'bfl-primary' });

    await page.click('#nav a[href="#jobs"]');
    await page.waitForSelector('#job-id');
    await page.type('#job-id', job.id);
    await page.keyboard.press('Enter');
    await waitForText(page, '#job-status', /succeeded/);
    expect(await page.evaluate('location.hash')).toBe(`#jobs/${job.id}`);
    expect(await textOf(page, '#job-credits')).toBe('1 reserved, 1 charged');
    expect(await tableRows(page, '#job-attempts')).toEqual([
      expect.objectContaining({ Provider: 'bfl-primary', Model: 'flux-2-dev', Outcome: 'success' }),
    ]);
    expect((await tableRows(page, '#job-ledger')).map((r) => [r.Movement, r.Credits])).toEqual([
      [expect.stringMatching(/^capture of #\d+$/), '1'],
      ['reserve', '1'],
    ]);
    expect(await textOf(page, '#admin-job')).toContain(customer.id);
    // Its image, copied into Easel's store, served from this origin.
    await page.waitForFunction(
      `[...document.querySelectorAll('#admin-job img')].length === 1 && [...document.querySelectorAll('#admin-job img')].every((i) => i.complete && i.naturalWidth > 0)`,
      { timeout: 10_000 },
    );
    await snap(page, 'backoffice-job');

    await clearInput(page, '#job-id');
    await page.type('#job-id', 'job_that_does_not_exist');
    await page.keyboard.press('Enter');
    await waitForText(page, '#job-result', /Job not found/);
  });

  it('runs the audit: sound books, then planted violations linked to their job and movement', async () => {
    await page.click('#nav a[href="#audit"]');
    await page.waitForSelector('#run-audit');
    await page.click('#run-audit');
    await waitForText(page, '#audit-summary', /accounts? checked: the books are sound/);
    await snap(page, 'backoffice-audit-sound');

    // A job that says it was charged nothing although its capture took 1 credit, and a reservation
    // whose job was never written (as an API killed mid-submit leaves it, a minute ago).
    await db.collection('jobs').updateOne({ _id: job.id as never }, { $set: { credits_charged: 0 } });
    const past = new Ledger(db, { clock: () => new Date(Date.now() - 60_000) });
    const { reservation } = await past.reserve({
      accountId: customer.id,
      jobId: 'job_never_written',
      credits: 3,
      requestHash: 'lost',
    });
    try {
      const report = await easel.admin<{ violations: Violation[] }>('POST', '/audit');
      const charged = report.body.violations.find((v) => v.job_id === job.id && /charged 0/.test(v.problem));
      expect(charged?.entry_seq).toBeDefined();

      await page.click('#run-audit');
      await waitForText(page, '#audit-summary', /violations?\./);
      const shown = await tableRows(page, '#violations');
      expect(shown).toEqual(
        expect.arrayContaining([
          expect.objectContaining({
            Problem: charged!.problem,
            Job: job.id,
            Movement: `ledger entry #${charged!.entry_seq}`,
          }),
          expect.objectContaining({
            Problem: expect.stringContaining('never written'),
            Job: 'job_never_written',
            Movement: `ledger entry #${reservation.seq}`,
          }),
        ]),
      );
      await snap(page, 'backoffice-audit-violations');

      // The job link opens the job; the movement link opens the ledger at that entry.
      await page.click(`#violations tr[data-job-id="${job.id}"] a.job-link`);
      await waitForText(page, '#job-status', /succeeded/);
      expect(await page.evaluate('location.hash')).toBe(`#jobs/${job.id}`);
      await page.goBack();
      await page.waitForSelector('#run-audit');
      await page.click('#run-audit');
      await page.waitForSelector(`#violations tr[data-job-id="${job.id}"] a.entry-link`);
      await page.click(`#violations tr[data-job-id="${job.id}"] a.entry-link`);
      await page.waitForSelector('#ledger tr.highlight');
      expect(await attributeOf(page, '#ledger tr.highlight', 'data-seq')).toBe(String(charged!.entry_seq));
      expect(await textOf(page, '#ledger tr.highlight [data-label="Job"]')).toBe(job.id);
      await snap(page, 'backoffice-ledger-entry');

      // The stuck reservation is released from the audit, with a reason the ledger keeps.
      await page.click('#nav a[href="#audit"]');
      await page.waitForSelector('#run-audit');
      await page.click('#run-audit');
      const reasonInput = `#violations tr[data-job-id="job_never_written"] input`;
      await page.waitForSelector(reasonInput);
      await page.type(reasonInput, `ticket ${suffix}`);
      await page.keyboard.press('Enter');
      await waitForText(page, '#violations tr[data-job-id="job_never_written"]', /released/);
      const ledger = await easel.admin<{ data: Entry[] }>('GET', `/accounts/${customer.id}/ledger?limit=1`);
      expect((await account(customer.id)).balance.held).toBe(0);
      expect(ledger.body.data[0]).toMatchObject({
        kind: 'release',
        settles: reservation.seq,
        reason: `operator: ticket ${suffix}`,
      });
    } finally {
      await db.collection('jobs').updateOne({ _id: job.id as never }, { $set: { credits_charged: 1 } });
    }
    await page.click('#run-audit');
    await waitForText(page, '#audit-summary', /the books are sound/);
  });

  it('shows a breaker open on the provider board when a provider fails, and closed when it recovers, live', async () => {
    await page.click('#nav a[href="#providers"]');
    const primaryBreaker = '[data-deployment="bfl-primary"] tbody tr .breaker';
    await waitForText(page, primaryBreaker, /^closed$/);
    // The earlier tests' jobs ran on the primary; its worker publishes their latency within a
    // health interval (5 s), and the board shows it on a later refresh.
    await waitForText(page, '[data-deployment="bfl-primary"] .latency', /^[\d,]+ ms$/);
    // The error rate is the breaker window's (20 s here): the earlier jobs' calls may have left it.
    expect(await textOf(page, '[data-deployment="bfl-primary"] .error-rate')).toMatch(
      /^(0% of [1-9][\d,]*|no call) in the last 20 s$/,
    );
    await snap(page, 'backoffice-providers');
    // Gone if the page reloads: the board must change under it.
    await page.evaluate('window.sameDocument = true');

    primary.inject({ on: 'submit', status: 503, times: 1_000 });
    for (let i = 0; i < 4; i++) {
      const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
        token: customer.key,
        body: { model: 'flux-2-dev', prompt: `outage ${i}` },
      });
      const done = await finished(customer.key, submitted.body.id);
      expect(done).toMatchObject({ status: 'succeeded', provider: 'bfl-spare' });
    }
    await waitForText(page, primaryBreaker, /^open$/, 10_000);
    // Every job moved on from the failing deployment (refused by its open breaker after the
    // first failures); workers publish their counts every few seconds.
    await waitForText(page, '[data-deployment="bfl-primary"] .fallbacks', /^4 away, 0 taken over$/, 15_000);
    await waitForText(page, '[data-deployment="bfl-spare"] .fallbacks', /^0 away, 4 taken over$/);
    // The window the breaker opened on: at least its volume threshold of calls (3), more than its
    // threshold (50 %) of them failed, and the later jobs were refused without a call.
    const board = await easel.admin<ProviderStatus>('GET', '/providers');
    const seen = board.body.deployments.find((d) => d.id === 'bfl-primary')!.workers[0]!;
    expect(seen.recent).toMatchObject({ windowMs: 20_000 });
    expect(seen.recent!.calls).toBeGreaterThanOrEqual(3);
    expect(seen.recent!.refused).toBeGreaterThanOrEqual(1);
    expect(seen.errorRate).toBeCloseTo(seen.recent!.failures / seen.recent!.calls);
    expect(seen.errorRate).toBeGreaterThan(0.5);
    const failing = await tableRows(page, '[data-deployment="bfl-primary"]');
    expect(failing[0]).toMatchObject({
      Breaker: 'open',
      'Recent error rate': expect.stringMatching(
        /^([1-9]\d?|100)% of [1-9]\d* in the last 20 s; [1-9]\d* refused unsent$/,
      ),
      'Last error': expect.stringMatching(/\w/),
    });
    expect(failing[0]?.['Last error']).not.toBe('—');
    await snap(page, 'backoffice-providers-open');

    // Recovered: once the reset timeout passes, one probe goes through and closes the breaker.
    primary.clearFaults();
    await waitForText(page, primaryBreaker, /^half-open$/, 25_000);
    const probe = await easel.call<JobView>('POST', '/v1/imagine', {
      token: customer.key,
      body: { model: 'flux-2-dev', prompt: 'probe' },
    });
    expect(await finished(customer.key, probe.body.id)).toMatchObject({ provider: 'bfl-primary' });
    await waitForText(page, primaryBreaker, /^closed$/, 10_000);
    expect(await page.evaluate('window.sameDocument === true')).toBe(true);
    await snap(page, 'backoffice-providers-recovered');

    // Paused, the board stops reading.
    await page.click('#pause-board');
    expect(await attributeOf(page, '#pause-board', 'aria-pressed')).toBe('true');
    const stamp = await textOf(page, '#board-updated');
    await new Promise((r) => setTimeout(r, 4_500));
    expect(await textOf(page, '#board-updated')).toBe(stamp);
  });

  it('made no request outside the API’s origin and hit no script error or CSP violation', () => {
    expect(operator.requests.length).toBeGreaterThan(0);
    expect(operator.foreign()).toEqual([]);
    // 4xx answers the console explains are logged by Chromium as failed loads; nothing else.
    expect(
      operator.errors.filter(
        (e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e),
      ),
    ).toEqual([]);
  });
});

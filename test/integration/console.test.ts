import type { Browser, Page } from 'puppeteer-core';
import type { z } from 'zod';
import type * as shape from '../../api/openapi/responses';
import { ADMIN_TOKEN, startTestEasel, type TestEasel } from '../support/easel';
import { sandboxProviders, writeConfig } from '../support/config';
import {
  attributeOf,
  clearInput,
  countOf,
  isVisible,
  launchBrowser,
  openPage,
  snap,
  tabTo,
  tableRows,
  textOf,
  waitForText,
  WIDE,
  type WatchedPage,
} from '../support/browser';

/** The history table's rows, each a map from column to the cell's text. */
function historyRows(page: Page): Promise<Array<Record<string, string>>> {
  return tableRows(page, '#history');
}

/** The bars of the SVG chart in `selector`: their data attributes and their tooltip text. */
async function chartBars(page: Page, selector: string): Promise<Array<Record<string, string>>> {
  return (await page.evaluate(
    `[...document.querySelectorAll(${JSON.stringify(`${selector} svg rect.bar`)})].map((r) => ({ ...r.dataset, title: r.querySelector('title')?.textContent ?? '', width: r.getAttribute('width') }))`,
  )) as Array<Record<string, string>>;
}

type UsageAnswer = z.output<typeof shape.usageReport>;

async function signIn(page: Page, origin: string, token: string): Promise<void> {
  await page.goto(`${origin}/console`, { waitUntil: 'networkidle0' });
  await page.waitForSelector('#token');
  await page.type('#token', token);
  await page.keyboard.press('Enter');
}

async function submitJob(
  page: Page,
  fields: { model: string; task?: string; prompt: string; n?: number; aspect?: string },
): Promise<void> {
  await page.select('#model', fields.model);
  if (fields.task !== undefined) await page.select('#task', fields.task);
  await clearInput(page, '#prompt');
  await page.type('#prompt', fields.prompt);
  if (fields.aspect) await page.select('#aspect-ratio', fields.aspect);
  if (fields.n !== undefined) {
    await clearInput(page, '#n');
    await page.type('#n', String(fields.n));
  }
  await page.click('button[type=submit]');
}

describe('the web console at /console, in a real browser', () => {
  let easel: TestEasel;
  let browser: Browser;
  let customer: WatchedPage;
  let key: string;
  const watched: WatchedPage[] = [];

  beforeAll(async () => {
    easel = await startTestEasel({
      env: {
        EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ mode: 'async', latency_ms: 8_000 }) }),
      },
    });
    ({ key } = await easel.newAccount('pro'));
    browser = await launchBrowser();
    customer = await openPage(browser, easel.baseUrl, WIDE);
    watched.push(customer);
  });
  afterAll(async () => {
    await browser?.close();
    await easel?.stop();
  });

  it('is served with a strict Content-Security-Policy and no inline script or style', async () => {
    const res = await fetch(`${easel.baseUrl}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/img-src 'self' data: blob:/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
    const asset = await fetch(`${easel.baseUrl}/console/assets/main.js`);
    expect(asset.headers.get('content-type')).toMatch(/javascript/);
    expect(asset.headers.get('content-security-policy')).toBe(csp);
    expect((await fetch(`${easel.baseUrl}/console/assets/nothing.js`)).status).toBe(404);
  });

  it('has the browser refuse what the policy forbids, and the request log see what leaves the origin', async () => {
    const probe = await openPage(browser, easel.baseUrl, WIDE);
    try {
      await probe.page.goto(`${easel.baseUrl}/console`, { waitUntil: 'networkidle0' });
      const violations = (await probe.page.evaluate(`new Promise((resolve) => {
        const seen = [];
        document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective + ' ' + e.blockedURI));
        const img = document.createElement('img');
        img.src = 'http://127.0.0.2:9/elsewhere.png';
        document.body.append(img);
        const script = document.createElement('script');
        script.textContent = 'window.inlineRan = true';
        document.body.append(script);
        setTimeout(() => resolve(seen), 500);
      })`)) as string[];
      expect(violations).toEqual(
        expect.arrayContaining(['img-src http://127.0.0.2:9/elsewhere.png', 'script-src-elem inline']),
      );
      expect(await probe.page.evaluate('window.inlineRan === true')).toBe(false);
      // A page without the console's policy: what it sends elsewhere shows in the log (and is aborted).
      await probe.page.goto(`${easel.baseUrl}/healthz`);
      await probe.page.evaluate(`fetch('http://127.0.0.2:9/elsewhere').catch(() => undefined)`);
      expect(probe.foreign()).toEqual(['http://127.0.0.2:9/elsewhere']);
    } finally {
      await probe.close();
    }
  });

  it('explains a key Easel does not accept, then signs a customer in with theirs', async () => {
    const { page } = customer;
    await page.goto(`${easel.baseUrl}/console`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#token');
    expect(await page.evaluate('document.activeElement.id')).toBe('token');
    await snap(page, 'sign-in');
    await signIn(page, easel.baseUrl, 'ek_not-a-real-key');
    const refusal = await waitForText(page, '#sign-in-error', /neither an API key nor the admin token/);
    expect(refusal).toMatch(/copied whole/);
    expect(await attributeOf(page, '#token', 'aria-invalid')).toBe('true');
    await snap(page, 'sign-in-refused');
    await clearInput(page, '#token');
    await page.type('#token', key);
    await page.keyboard.press('Enter');
    await waitForText(page, '#price', /credit/);
    expect(await page.evaluate('location.hash')).toBe('#playground');
    expect(await page.evaluate(`sessionStorage.getItem('easel.console.session')`)).toContain(key);
    expect(await page.evaluate('localStorage.length')).toBe(0);
    expect(await page.evaluate('document.cookie')).toBe('');
  });

  it('shows the price of a model and a count before submitting, in credits and the plan’s USD', async () => {
    const { page } = customer;
    await page.select('#model', 'ideogram-v3');
    // A named model takes a task only for the usage comparison: optional, not said at first.
    expect(await textOf(page, 'label[for=task]')).toBe('Task (optional)');
    expect(await page.evaluate("document.getElementById('task').value")).toBe('');
    await clearInput(page, '#n');
    await page.type('#n', '3');
    const estimate = await easel.call<{ credits: number; plans: Array<{ plan: string; usd: number }> }>(
      'POST',
      '/v1/estimate',
      { body: { model: 'ideogram-v3', count: 3 } },
    );
    const usd = estimate.body.plans.find((p) => p.plan === 'pro')!.usd;
    const price = await waitForText(page, '#price', new RegExp(`^${estimate.body.credits} credits`));
    expect(price).toContain('5 per image');
    expect(price).toContain(`$${usd}`);
    expect(price).toContain('pro plan');
    // auto picks the model of a task, and prices it.
    await page.select('#model', 'auto');
    expect(await textOf(page, 'label[for=task]')).toBe('Task');
    expect(await page.evaluate("document.getElementById('task').value")).not.toBe('');
    await waitForText(page, '#price', /auto picks/);
    await snap(page, 'playground');
    // The task auto filled in is not carried over to a model named afterwards.
    await page.select('#model', 'flux-schnell');
    expect(await page.evaluate("document.getElementById('task').value")).toBe('');
  });

  it('submits a job, shows it queued and running with its progress, then its images at their aspect ratio', async () => {
    const { page } = customer;
    await submitJob(page, { model: 'flux-schnell', prompt: 'a lighthouse at dawn', n: 2, aspect: '16:9' });
    await waitForText(page, '#job-status', /Queued|Running/);
    const running = await waitForText(page, '#job-status', /Running: \d+% done/, 20_000);
    const progress = Number(await attributeOf(page, '#job-progress', 'value'));
    expect(progress).toBeGreaterThan(0);
    expect(progress).toBeLessThan(1);
    expect(running).toMatch(/running/);
    expect(await textOf(page, '#job .facts')).toContain('2 reserved');
    await snap(page, 'job-running');

    await waitForText(page, '#job-status', /Done: 2 images/, 30_000);
    await page.waitForFunction(
      `[...document.querySelectorAll('#job img')].length === 2 && [...document.querySelectorAll('#job img')].every((i) => i.complete && i.naturalWidth > 0)`,
      { timeout: 10_000 },
    );
    const images = (await page.evaluate(
      `[...document.querySelectorAll('#job img')].map((i) => ({ natural: i.naturalWidth / i.naturalHeight, shown: i.getBoundingClientRect().width / i.getBoundingClientRect().height, alt: i.alt }))`,
    )) as Array<{ natural: number; shown: number; alt: string }>;
    for (const image of images) {
      expect(image.natural).toBeCloseTo(16 / 9, 1);
      expect(image.shown).toBeCloseTo(16 / 9, 1);
      expect(image.alt).toContain('a lighthouse at dawn');
    }
    const links = (await page.evaluate(
      `[...document.querySelectorAll('#job figcaption a')].map((a) => a.getAttribute('href'))`,
    )) as string[];
    expect(links).toHaveLength(2);
    expect(links.every((href) => href.startsWith(`${easel.baseUrl}/images/`))).toBe(true);
    expect(await isVisible(page, '#cancel')).toBe(false);
    expect(await isVisible(page, '#job-progress')).toBe(false);
    expect(await textOf(page, '#job .facts')).toContain('2 charged');
    await snap(page, 'job-succeeded');
  });

  it('cancels a slow job, and shows it canceled with its credits released', async () => {
    const { page } = customer;
    await submitJob(page, { model: 'nano-banana', prompt: 'a very slow lighthouse [timeout]', n: 1 });
    await waitForText(page, '#job-status', /Queued|Running/);
    await page.waitForSelector('#cancel', { visible: true });
    await page.focus('#cancel');
    await page.keyboard.press('Enter');
    const canceled = await waitForText(page, '#job-status', /Canceled/, 20_000);
    expect(canceled).toContain('credits are back in your balance');
    const jobId = await attributeOf(page, '#job', 'data-job-id');
    const job = await easel.call<{ status: string; credits_charged: number }>('GET', `/v1/jobs/${jobId}`, {
      token: key,
    });
    expect(job.body).toMatchObject({ status: 'canceled', credits_charged: 0 });
    await snap(page, 'job-canceled');
  });

  it('explains a content-policy refusal in words', async () => {
    const { page } = customer;
    await submitJob(page, { model: 'flux-schnell', prompt: 'something forbidden [content_policy]', n: 1 });
    const failed = await waitForText(page, '#job-status', /Failed/, 30_000);
    expect(failed).toMatch(/content policy/);
    expect(failed).toMatch(/Nothing was charged/);
  });

  it('names the bad field of a refused request next to its input', async () => {
    const { page } = customer;
    await page.select('#model', 'flux-schnell');
    await clearInput(page, '#prompt');
    await page.click('button[type=submit]');
    await waitForText(page, '#submit-error', /Some fields need a change/);
    expect(await attributeOf(page, '#prompt', 'aria-invalid')).toBe('true');
    expect(await textOf(page, '#prompt-error')).toMatch(/prompt/i);
    expect(await page.evaluate('document.activeElement.id')).toBe('prompt');
  });

  it('explains a 429 with its Retry-After, and a 402: the balance, what the job needs, and what to do', async () => {
    const trial = await easel.newAccount('trial');
    const poor = await openPage(browser, easel.baseUrl, WIDE);
    watched.push(poor);
    await signIn(poor.page, easel.baseUrl, trial.key);
    await waitForText(poor.page, '#price', /credit/);
    await poor.page.select('#model', 'ideogram-v3');
    await poor.page.type('#prompt', 'a lighthouse');
    await clearInput(poor.page, '#n');
    await poor.page.type('#n', '2');
    // 20 of the trial's 25 credits held by a job that never ends on its own, submitted just
    // before the console's: the trial plan takes one submission a second.
    const held = await easel.call<{ id: string }>('POST', '/v1/imagine', {
      token: trial.key,
      body: { model: 'ideogram-v3', prompt: 'hold [timeout]', n: 4 },
    });
    expect(held.status).toBe(202);
    await poor.page.click('button[type=submit]');
    const limited = await waitForText(poor.page, '#submit-error', /Slow down/);
    expect(limited).toMatch(/Try again in \d+ seconds?\./);
    await snap(poor.page, 'rate-limited');

    await new Promise((r) => setTimeout(r, 1_100));
    await poor.page.click('button[type=submit]');
    const explained = await waitForText(poor.page, '#submit-error', /Not enough credits/);
    expect(explained).toContain('This job needs 10 credits; your balance has 5 available');
    expect(explained).toMatch(/fewer images|cheaper model/);
    expect(explained).toMatch(/grant or a bigger plan/);
    expect(await waitForText(poor.page, '#price', /not enough/)).toMatch(/5 available/);
    await snap(poor.page, 'insufficient-credits');
    await poor.page.click('a[href="#account"]');
    await waitForText(poor.page, '#account', /20 held by running jobs/);
    await snap(poor.page, 'account-trial');
    expect((await easel.call('POST', `/v1/jobs/${held.body.id}/cancel`, { token: trial.key })).status).toBe(
      200,
    );
  });

  it('pages the history and filters it by status, with thumbnails, model, provider and credits', async () => {
    for (let i = 0; i < 10; i++) {
      const res = await easel.call('POST', '/v1/imagine', {
        token: key,
        body: { model: 'flux-2-dev', prompt: `history ${i} [timeout]`, n: 1 },
      });
      expect(res.status).toBe(202);
      await new Promise((r) => setTimeout(r, 250));
    }
    const { page } = customer;
    await page.click('a[href="#history"]');
    await page.waitForSelector('#history tbody tr');
    expect(await countOf(page, '#history tbody tr')).toBe(10);
    expect(await textOf(page, '#page-info')).toBe('Page 1');
    expect(await attributeOf(page, '#previous-page', 'disabled')).toBe('');
    expect((await historyRows(page))[0]).toMatchObject({
      Status: expect.stringMatching(/queued|running/),
      Prompt: 'history 9 [timeout]',
      Model: 'flux-2-dev',
      Credits: '1 held',
    });
    await snap(page, 'history');

    await page.click('#next-page');
    await waitForText(page, '#page-info', /Page 2/);
    expect(await historyRows(page)).toContainEqual(
      expect.objectContaining({
        Status: 'succeeded',
        Prompt: 'a lighthouse at dawn',
        Model: 'flux-schnell',
        Provider: 'sandbox',
        Credits: '2',
      }),
    );
    expect(await countOf(page, '#history tbody tr img')).toBeGreaterThanOrEqual(2);
    await page.waitForFunction(
      `[...document.querySelectorAll('#history img')].every((i) => i.complete && i.naturalWidth > 0)`,
      { timeout: 10_000 },
    );
    await snap(page, 'history-page-2');
    await page.click('#previous-page');
    await waitForText(page, '#page-info', /Page 1/);

    await page.select('#status-filter', 'canceled');
    await page.waitForFunction(
      `[...document.querySelectorAll('#history tbody tr')].length > 0 && [...document.querySelectorAll('#history tbody tr .badge')].every((b) => b.textContent === 'canceled')`,
    );
    expect(await textOf(page, '#history tbody')).toContain('a very slow lighthouse');
    await page.select('#status-filter', 'succeeded');
    await waitForText(page, '#history tbody', /a lighthouse at dawn/);
    expect(await textOf(page, '#history tbody')).not.toContain('[timeout]');
  });

  it('shows the account card: balance available and held, plan, period end, limits', async () => {
    const { page } = customer;
    await page.click('a[href="#account"]');
    await page.waitForSelector('#account');
    const account = await easel.call<{ balance: { available: number; held: number } }>('GET', '/v1/account', {
      token: key,
    });
    const card = await textOf(page, '#account');
    expect(await textOf(page, '#balance-available')).toBe(
      account.body.balance.available.toLocaleString('en-US'),
    );
    expect(card).toContain(`${account.body.balance.held} held by running jobs`);
    expect(card).toMatch(/Plan\s*pro/);
    expect(card).toMatch(/Period ends\s*\d/);
    expect(card).toMatch(/Concurrent jobs\s*\d+ running of 20/);
    expect(card).toMatch(/Requests per second\s*5/);
    expect(await textOf(page, '#plan-terms')).toBe('$99.00 a period for 6,000 credits');
    const period = await easel.call<{ period: { start: string; end: string } }>('GET', '/v1/account', {
      token: key,
    });
    const shown = (iso: string): Promise<string> =>
      page.evaluate(
        `new Date(${JSON.stringify(iso)}).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC'`,
      ) as Promise<string>;
    expect(await textOf(page, '#period-end')).toBe(await shown(period.body.period.end));
    expect(await textOf(page, '#period-start')).toBe(await shown(period.body.period.start));
    await snap(page, 'account');
  });

  it('shows the webhook signing secret masked, reveals it by keyboard, and rotates it only once confirmed', async () => {
    const { page } = customer;
    await page.waitForSelector('#webhook-secret');
    const before = await easel.call<{ secret: string; also_signing_until: string[] }>(
      'GET',
      '/v1/webhooks/secret',
      { token: key },
    );
    expect(before.body.secret).toMatch(/^whsec_/);
    expect(before.body.also_signing_until).toEqual([]);
    const secretField = async (): Promise<{ type: string; value: string }> =>
      (await page.evaluate(
        `(({ type, value }) => ({ type, value }))(document.querySelector('#webhook-secret'))`,
      )) as { type: string; value: string };
    expect(await secretField()).toEqual({ type: 'password', value: before.body.secret });
    expect(await textOf(page, '#webhook-previous')).toMatch(/^None/);
    await snap(page, 'webhook-secret');

    await page.focus('#reveal-secret');
    await page.keyboard.press('Space');
    expect(await secretField()).toEqual({ type: 'text', value: before.body.secret });
    expect(await attributeOf(page, '#reveal-secret', 'aria-pressed')).toBe('true');
    expect(await textOf(page, '#reveal-secret')).toBe('Hide');

    // Escape in the confirmation rotates nothing, and gives the focus back.
    await page.click('#rotate-secret');
    await page.waitForSelector('#rotate-dialog[open]');
    expect(await page.evaluate('document.activeElement.id')).toBe('keep-secret');
    expect(await textOf(page, '#rotate-dialog')).toMatch(/keeps signing alongside it for 24 hours/);
    await snap(page, 'webhook-rotate-confirm');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#rotate-dialog:not([open])');
    expect(await page.evaluate('document.activeElement.id')).toBe('rotate-secret');
    const unchanged = await easel.call<{ secret: string }>('GET', '/v1/webhooks/secret', { token: key });
    expect(unchanged.body.secret).toBe(before.body.secret);

    await page.click('#rotate-secret');
    await page.waitForSelector('#rotate-dialog[open]');
    await page.click('#confirm-rotate');
    const outcome = await waitForText(page, '#rotate-outcome', /Rotated/);
    const after = await easel.call<{ secret: string; also_signing_until: string[] }>(
      'GET',
      '/v1/webhooks/secret',
      { token: key },
    );
    expect(after.body.secret).toMatch(/^whsec_/);
    expect(after.body.secret).not.toBe(before.body.secret);
    expect(await secretField()).toEqual({ type: 'text', value: after.body.secret });
    expect(after.body.also_signing_until).toHaveLength(1);
    const until = after.body.also_signing_until[0]!;
    expect(Date.parse(until) - Date.now()).toBeGreaterThan(23.9 * 3600_000);
    expect(Date.parse(until) - Date.now()).toBeLessThanOrEqual(24 * 3600_000);
    const untilShown = (await page.evaluate(
      `new Date(${JSON.stringify(until)}).toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }) + ' UTC'`,
    )) as string;
    expect(outcome).toContain(`The previous one still signs until ${untilShown}`);
    expect(await textOf(page, '#webhook-previous')).toBe(
      `Still signs, alongside this one, until ${untilShown}`,
    );
    await snap(page, 'webhook-rotated');
  });

  it('charts usage by day and by model, with what auto routing would have charged, as the API reports it', async () => {
    // A job submitted in the playground that named a task but picked its own model: ideogram-v3
    // (5 credits) where auto would have taken flux-2-dev (1) for prototyping.
    const { page } = customer;
    await page.click('a[href="#playground"]');
    await page.waitForSelector('#model');
    await submitJob(page, { model: 'ideogram-v3', task: 'prototyping', prompt: 'a usage poster', n: 1 });
    await page.waitForSelector('#job[data-job-id]');
    const taskedId = (await attributeOf(page, '#job', 'data-job-id'))!;
    const tasked = await easel.call<{ model: string; task?: string }>('GET', `/v1/jobs/${taskedId}`, {
      token: key,
    });
    expect(tasked.body).toMatchObject({ model: 'ideogram-v3', task: 'prototyping' });
    await waitForText(page, '#job .facts', /Taskprototyping/);
    const deadline = Date.now() + 40_000;
    let usage: UsageAnswer | undefined;
    // The open day's sum is reused for a few seconds: wait until the report counts the job.
    while (Date.now() < deadline) {
      await easel.call('GET', `/v1/jobs/${taskedId}?wait=5`, { token: key });
      usage = (await easel.call<UsageAnswer>('GET', '/v1/usage?group_by=model', { token: key })).body;
      if (usage.total.auto.jobs_with_task === 1) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    // 2 credits for the two flux-schnell images earlier, 5 for the poster; nothing else succeeded.
    expect(usage?.total).toMatchObject({
      credits_charged: 7,
      images: 3,
      auto: { jobs_with_task: 1, credits_charged: 5, credits_with_auto: 1, credits_saved: 4 },
    });
    const byModel = usage!;
    // The history's flux-2-dev jobs that still run have cost nothing yet: no model row of zeros.
    for (const row of byModel.data) {
      expect(row.jobs_succeeded + row.jobs_failed + row.jobs_canceled).toBeGreaterThan(0);
    }
    const byDay = (await easel.call<UsageAnswer>('GET', '/v1/usage?group_by=day', { token: key })).body;
    const today = new Date().toISOString().slice(0, 10);
    expect(byDay.data).toEqual([expect.objectContaining({ day: today, credits_charged: 7, images: 3 })]);

    await page.click('a[href="#usage"]');
    await page.waitForSelector('#day-chart svg');
    expect(await textOf(page, '#usage-credits')).toBe('7');
    expect(await textOf(page, '#usage-status')).toMatch(/through \d{4}-\d\d-\d\d: 7 credits charged\.$/);
    expect(await textOf(page, '#usage-images')).toBe('3');
    // By day: one column, today's, 7 credits high; the chart's label and table say the same.
    expect(await chartBars(page, '#day-chart')).toEqual([
      expect.objectContaining({ day: today, credits: '7', title: `${today}: 7 credits charged, 3 images` }),
    ]);
    expect(await attributeOf(page, '#day-chart svg', 'aria-label')).toContain('7 credits in all');
    expect(await tableRows(page, '#usage-by-day')).toEqual([
      expect.objectContaining({ Day: today, 'Credits charged': '7', Images: '3' }),
    ]);
    // By model: a bar per model the API reports, the dearest first, each as long as its credits.
    const modelBars = await chartBars(page, '#model-chart');
    expect(modelBars.map((b) => [b.model, Number(b.credits)])).toEqual(
      [...byModel.data]
        .sort((a, b) => b.credits_charged - a.credits_charged || (a.model! < b.model! ? -1 : 1))
        .map((r) => [r.model, r.credits_charged]),
    );
    expect(modelBars[0]).toMatchObject({ model: 'ideogram-v3', credits: '5' });
    expect(modelBars[1]).toMatchObject({ model: 'flux-schnell', credits: '2' });
    expect(Number(modelBars[0]!.width) / Number(modelBars[1]!.width)).toBeCloseTo(5 / 2, 1);
    const modelRows = await tableRows(page, '#usage-by-model');
    for (const row of byModel.data) {
      expect(modelRows).toContainEqual(
        expect.objectContaining({ Model: row.model, 'Credits charged': String(row.credits_charged) }),
      );
    }
    expect(modelRows.find((r) => r.Model === 'ideogram-v3')?.['Auto would have charged']).toBe(
      '1 for 1 job with a task (charged 5)',
    );
    // Auto: charged 5 where auto would have charged 1.
    const autoText = await textOf(page, '#auto-summary');
    expect(autoText).toContain('1 succeeded job named a task');
    expect(autoText).toContain('They were charged 5 credits');
    expect(autoText).toContain('would have charged 1 credit.');
    expect(autoText).toContain('Auto would have saved 4 credits.');
    expect((await chartBars(page, '#auto-chart')).map((b) => [b.series, b.title])).toEqual([
      ['charged', 'Charged: 5 credits'],
      ['auto', 'With auto: 1 credit'],
    ]);
    await snap(page, 'usage');

    // A window without those jobs: yesterday alone.
    const yesterday = new Date(Date.now() - 24 * 3600_000).toISOString().slice(0, 10);
    await page.evaluate(
      `for (const id of ['usage-from', 'usage-through']) document.getElementById(id).value = ${JSON.stringify(yesterday)}`,
    );
    await page.click('.usage-window button[type=submit]');
    await waitForText(page, '#usage-credits', /^0$/);
    expect(await textOf(page, '#usage-status')).toBe(
      `Usage from ${yesterday} through ${yesterday}: 0 credits charged.`,
    );
    expect(await countOf(page, '#day-chart svg rect.bar')).toBe(0);
    expect(await textOf(page, '#auto-summary')).toMatch(/None of these jobs named a task/);
    expect(await textOf(page, '#usage')).toContain('No jobs ended in these days.');
  });

  it('can be used by keyboard alone: the skip link keeps the screen, the sections, a job submitted', async () => {
    const keyboardOnly = await openPage(browser, easel.baseUrl, WIDE);
    watched.push(keyboardOnly);
    const { page } = keyboardOnly;
    await page.goto(`${easel.baseUrl}/console`, { waitUntil: 'networkidle0' });
    await page.waitForSelector('#token');
    // The key field has the focus on load, and the skip link comes before it in the tab order.
    expect(await page.evaluate('document.activeElement?.id')).toBe('token');
    await page.keyboard.down('Shift');
    await page.keyboard.press('Tab');
    await page.keyboard.up('Shift');
    expect(await page.evaluate('document.activeElement?.className')).toBe('skip-link');

    await tabTo(page, '#token');
    await page.keyboard.type(key);
    await page.keyboard.press('Enter');
    await page.waitForSelector('#model');

    await tabTo(page, 'nav a[href="#history"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#history');
    // Skipping to the content moves the focus into the screen and leaves the screen as it is.
    await page.focus('a.skip-link');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('[location.hash, document.activeElement?.id]')).toEqual(['#history', 'main']);
    expect(await countOf(page, '#history')).toBe(1);
    expect(await attributeOf(page, 'nav a[href="#history"]', 'aria-current')).toBe('page');

    await tabTo(page, 'nav a[href="#playground"]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#model');
    await tabTo(page, '#prompt');
    await page.keyboard.type('a lighthouse typed by keyboard');
    await tabTo(page, 'button[type=submit]');
    await page.keyboard.press('Enter');
    await waitForText(page, '#job-status', /Queued|Running|Done/);
    const jobId = await attributeOf(page, '#job', 'data-job-id');
    const job = await easel.call<{ prompt: string }>('GET', `/v1/jobs/${jobId}`, { token: key });
    expect(job.body.prompt).toBe('a lighthouse typed by keyboard');
  });

  it('signs the operator in with the admin token: accounts, a new account and its key shown once', async () => {
    const operator = await openPage(browser, easel.baseUrl, WIDE);
    watched.push(operator);
    const { page } = operator;
    await signIn(page, easel.baseUrl, ADMIN_TOKEN);
    await page.waitForSelector('#accounts tbody tr');
    expect(await page.evaluate('location.hash')).toBe('#accounts');
    await page.type('#account-name', 'Console Customer');
    await page.select('#account-plan', 'hobby');
    await page.click('form button[type=submit]');
    await page.waitForSelector('#new-key');
    const issued = (await attributeOf(page, '#new-key', 'value')) ?? '';
    expect(issued).toMatch(/^ek_/);
    expect(await textOf(page, '#accounts tbody tr')).toMatch(/Console Customer.*hobby/);
    const account = await easel.call<{ name: string; plan: string }>('GET', '/v1/account', { token: issued });
    expect(account.body).toMatchObject({ name: 'Console Customer', plan: 'hobby' });
    await snap(page, 'operator-accounts');
  });

  it('made no request outside the API’s origin and hit no script error or CSP violation', () => {
    for (const { foreign, errors, requests } of watched) {
      expect(requests.length).toBeGreaterThan(0);
      expect(foreign()).toEqual([]);
      // 4xx answers the console explains are logged by Chromium as failed loads; nothing else.
      expect(
        errors.filter((e) => !/Failed to load resource: the server responded with a status of 4\d\d/.test(e)),
      ).toEqual([]);
    }
  });
});

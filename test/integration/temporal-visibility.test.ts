import type { WorkflowExecutionInfo } from '@temporalio/client';
import { startTestEasel, type TestEasel } from '../support/easel';
import { sandboxProviders, waitFor, writeConfig } from '../support/config';

type Job = { id: string; status: string };

/**
 * What an SRE sees in Temporal: job workflows close as their jobs ended and carry the Easel
 * search attributes, so one customer's failed jobs are one query away.
 */
describe('job workflows in Temporal', () => {
  let easel: TestEasel;
  beforeAll(async () => {
    easel = await startTestEasel({
      env: { EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 2_000 }) }) },
    });
  });
  afterAll(async () => {
    await easel?.stop();
  });

  const submit = async (key: string, prompt: string): Promise<Job> => {
    const res = await easel.call<Job>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt },
    });
    expect(res.status).toBe(202);
    return res.body;
  };
  const settled = async (key: string, id: string): Promise<Job> =>
    (await easel.call<Job>('GET', `/v1/jobs/${id}?wait=30`, { token: key })).body;

  const list = async (query: string): Promise<WorkflowExecutionInfo[]> => {
    const found: WorkflowExecutionInfo[] = [];
    for await (const w of easel.temporal.workflow.list({ query })) found.push(w);
    return found;
  };

  it('finds one account’s failed jobs by search attributes, closed as Failed', async () => {
    const { id: accountId, key } = await easel.newAccount('pro');
    const other = await easel.newAccount('pro');
    const ok = await submit(key, 'a lighthouse');
    const broken = await submit(key, 'this one breaks [fail]');
    const othersBroken = await submit(other.key, 'also breaks [fail]');
    const cancelled = await submit(key, 'never mind');
    expect((await easel.call('POST', `/v1/jobs/${cancelled.id}/cancel`, { token: key })).status).toBe(200);
    expect((await settled(key, ok.id)).status).toBe('succeeded');
    expect((await settled(key, broken.id)).status).toBe('failed');
    expect((await settled(other.key, othersBroken.id)).status).toBe('failed');

    // Visibility is eventually consistent: wait until the account's three are listed as closed.
    const mine = await waitFor(
      () => list(`EaselAccountId = "${accountId}"`),
      (all) => all.length === 3 && all.every((w) => w.status.name !== 'RUNNING'),
      20_000,
    );
    const byId = Object.fromEntries(mine.map((w) => [w.workflowId, w]));
    expect(byId[ok.id]!.status.name).toBe('COMPLETED');
    expect(byId[broken.id]!.status.name).toBe('FAILED');
    expect(byId[cancelled.id]!.status.name).toBe('CANCELLED');
    expect(byId[ok.id]!.typedSearchAttributes.get({ name: 'EaselProvider', type: 'KEYWORD' })).toBe(
      'sandbox',
    );
    expect(byId[ok.id]!.typedSearchAttributes.get({ name: 'EaselModel', type: 'KEYWORD' })).toBe(
      'flux-2-dev',
    );

    const failed = await list(`EaselAccountId = "${accountId}" AND EaselJobStatus = "failed"`);
    expect(failed.map((w) => w.workflowId)).toEqual([broken.id]);
    const canceled = await list(`EaselAccountId = "${accountId}" AND EaselJobStatus = "canceled"`);
    expect(canceled.map((w) => w.workflowId)).toEqual([cancelled.id]);
  });
});

import type { JobView } from '../../core/jobs/view';
import { startTestEasel, type TestEasel } from '../support/easel';
import { sandboxProviders, waitFor, writeConfig } from '../support/config';

/** EASEL_IMAGE_RETENTION_DAYS: a Temporal schedule deletes finished jobs' images, the job says when. */
describe('image retention', () => {
  const RETENTION_SECONDS = 3;
  let easel: TestEasel;
  beforeAll(async () => {
    easel = await startTestEasel({
      env: {
        EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 50 }) }),
        EASEL_IMAGE_RETENTION_DAYS: String(RETENTION_SECONDS / 86_400),
      },
    });
  });
  afterAll(() => easel?.stop());

  it('deletes the images once the retention has passed and the job shows it; younger ones stay', async () => {
    const { key } = await easel.newAccount('pro');
    const submit = async (prompt: string): Promise<JobView> => {
      const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
        token: key,
        body: { model: 'flux-2-dev', prompt },
      });
      return (await easel.call<JobView>('GET', `/v1/jobs/${submitted.body.id}?wait=20`, { token: key })).body;
    };
    const old = await submit('kept for three seconds');
    expect(old).toMatchObject({ status: 'succeeded', images_deleted_at: null });
    const url = old.images[0]!.url;
    expect((await fetch(url)).status).toBe(200);

    const deleted = await waitFor(
      () => easel.call<JobView>('GET', `/v1/jobs/${old.id}`, { token: key }).then((r) => r.body),
      (j) => j.images_deleted_at !== null,
      30_000,
      250,
    );
    expect(deleted.images).toEqual([]);
    const deletedAt = Date.parse(deleted.images_deleted_at!);
    expect(deletedAt - Date.parse(old.completed_at!)).toBeGreaterThanOrEqual(RETENTION_SECONDS * 1000);
    // The file is gone, not only the reference: the signed URL still verifies but finds nothing.
    expect((await fetch(url)).status).toBe(404);
    // A job that finished just now keeps its images until its own retention passes.
    const young = await submit('just finished');
    expect(young.images).toHaveLength(1);
    expect((await fetch(young.images[0]!.url)).status).toBe(200);
  });
});

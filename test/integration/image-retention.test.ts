import { PNG } from 'pngjs';
import { JobStore } from '../../core/jobs/store';
import { ImageUrlSigner } from '../../platform/image-urls';
import { startTestEasel, type TestEasel } from '../support/easel';
import { waitFor } from '../support/config';
import { freshDatabase } from '../support/db';
import { finishedJob, imagesDeleted, RETENTION_SECONDS, retainingEnv } from '../support/image-jobs';
import { IMAGE_URL_SECRET } from '../support/secrets';

/** EASEL_IMAGE_RETENTION_DAYS: a Temporal schedule deletes finished jobs' images, the job says when. */
describe('image retention', () => {
  let easel: TestEasel;
  beforeAll(async () => {
    easel = await startTestEasel({ env: retainingEnv() });
  });
  afterAll(() => easel?.stop());

  it('deletes the images once the retention has passed and the job shows it; younger ones stay', async () => {
    const { key } = await easel.newAccount('pro');
    const old = await finishedJob(easel, key, { prompt: 'kept for three seconds' });
    expect(old).toMatchObject({ status: 'succeeded', images_deleted_at: null });
    const url = old.images[0]!.url;
    expect((await fetch(url)).status).toBe(200);

    const deleted = await imagesDeleted(easel, key, old.id);
    expect(deleted.images).toEqual([]);
    const deletedAt = Date.parse(deleted.images_deleted_at!);
    expect(deletedAt - Date.parse(old.completed_at!)).toBeGreaterThanOrEqual(RETENTION_SECONDS * 1000);
    // The file is gone, not only the reference: the signed URL still verifies but finds nothing.
    expect((await fetch(url)).status).toBe(404);
    // A job that finished just now keeps its images until its own retention passes.
    const young = await finishedJob(easel, key, { prompt: 'just finished' });
    expect(young.images).toHaveLength(1);
    expect((await fetch(young.images[0]!.url)).status).toBe(200);
  });

  it('deletes the uploaded inputs of edits with the job’s images, and those of failed edits too', async () => {
    const { key } = await easel.newAccount('pro');
    const image = new PNG({ width: 16, height: 16 });
    image.data.fill(200);
    const upload = PNG.sync.write(image);
    const edit = async (prompt: string): Promise<Response> => {
      const form = new FormData();
      form.append('model', 'gpt-image-1');
      form.append('prompt', prompt);
      form.append('image', new Blob([upload], { type: 'image/png' }), 'in.png');
      return fetch(`${easel.baseUrl}/v1/images/edits`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}` },
        body: form,
      });
    };
    const db = await freshDatabase(easel.dbName);
    try {
      const jobs = new JobStore(db);
      const signer = new ImageUrlSigner(IMAGE_URL_SECRET, 3600, () => easel.baseUrl);
      // Each job is looked at as soon as it ends, well inside the three seconds of retention.
      const inputDeleted = async (id: string): Promise<void> => {
        const job = (await jobs.get(id))!;
        expect(job.input_images).toHaveLength(1);
        // An input, not an output: the job's own images are what the provider made.
        expect(job.images.map((i) => i.key)).not.toContain(job.input_images![0]!.key);
        expect(job.request.image_urls).toHaveLength(1);
        const url = signer.url(job.input_images![0]!.key, job.account_id);
        expect((await fetch(url)).status).toBe(200);
        const cleared = await waitFor(
          () => jobs.get(id),
          (j) => j?.input_images === null,
          30_000,
          250,
        );
        expect(cleared?.input_images).toBeNull();
        expect((await fetch(url)).status).toBe(404);
      };
      const succeeded = await edit('kept a while');
      expect(succeeded.status).toBe(200);
      await inputDeleted(((await succeeded.json()) as { easel: { job_id: string } }).easel.job_id);
      const failed = await edit('blocked [content_policy]');
      expect(failed.status).toBe(400);
      await inputDeleted(((await failed.json()) as { error: { job_id: string } }).error.job_id);
    } finally {
      await db.close();
    }
  });
});

import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { PNG } from 'pngjs';
import type { JobView } from '../../core/jobs/view';
import { ImageUrlSigner } from '../../platform/image-urls';
import { sandboxProviders, waitFor, writeConfig } from '../support/config';
import { ADMIN_TOKEN, startTestEasel, type TestEasel } from '../support/easel';
import { finishedJob, imagesDeleted, retainingEnv } from '../support/image-jobs';
import { IMAGE_URL_SECRET } from '../support/secrets';
import { startS3Server, type TestS3Server } from '../support/s3-server';
import { WebhookReceiver } from '../support/webhook-receiver';

/** Easel with EASEL_IMAGE_STORE=s3 on a real S3-compatible server (S3Proxy). */
describe('images in S3', () => {
  let s3: TestS3Server;
  let restoreAws: () => void;
  beforeAll(async () => {
    s3 = await startS3Server();
    restoreAws = s3.useAwsEnvironment();
  });
  afterAll(async () => {
    restoreAws?.();
    await s3?.stop();
  });

  const objectBytes = async (key: string): Promise<Buffer> => {
    const object = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }));
    return Buffer.from(await object.Body!.transformToByteArray());
  };
  const submit = async (
    easel: TestEasel,
    token: string,
    body: Record<string, unknown> = {},
  ): Promise<JobView> => {
    const job = await finishedJob(easel, token, { prompt: 'a lighthouse in a bucket', ...body });
    expect(job.status).toBe('succeeded');
    return job;
  };

  describe('proxy delivery (the default)', () => {
    let easel: TestEasel;
    beforeAll(async () => {
      easel = await startTestEasel({ env: s3.easelEnv(retainingEnv({ EASEL_S3_PREFIX: 'proxied/' })) });
    });
    afterAll(() => easel?.stop());

    it('is ready, the store checked', async () => {
      const ready = await easel.call<{ checks: Record<string, { ok: boolean }> }>('GET', '/readyz', {
        token: ADMIN_TOKEN,
      });
      expect(ready.status).toBe(200);
      expect(ready.body.checks.images).toEqual({ ok: true });
    });

    it('serves the image at Easel’s signed URL from the object under the prefix, then retention deletes it', async () => {
      const { key } = await easel.newAccount('pro');
      const job = await submit(easel, key);
      const url = new URL(job.images[0]!.url);
      expect(url.origin).toBe(easel.baseUrl);
      const imageKey = decodeURIComponent(url.pathname.split('/').pop()!);

      const listed = await s3.client.send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'proxied/' }),
      );
      expect(listed.Contents?.map((o) => o.Key)).toContain(`proxied/${imageKey}`);
      const stored = await objectBytes(`proxied/${imageKey}`);
      expect(PNG.sync.read(stored).width).toBe(job.images[0]!.width);

      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(res.headers.get('content-length')).toBe(String(stored.length));
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
      expect(Buffer.from(await res.arrayBuffer())).toEqual(stored);

      const deleted = await imagesDeleted(easel, key, job.id);
      expect(deleted.images).toEqual([]);
      await expect(
        s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `proxied/${imageKey}` })),
      ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
      // The URL still verifies, but the object is gone.
      expect((await fetch(url)).status).toBe(404);
    });
  });

  describe('presigned delivery', () => {
    let easel: TestEasel;
    const receiver = new WebhookReceiver();
    beforeAll(async () => {
      await receiver.start();
      easel = await startTestEasel({
        env: s3.easelEnv({
          EASEL_S3_PREFIX: 'presigned/',
          EASEL_IMAGE_DELIVERY: 'presigned',
          EASEL_IMAGE_URL_TTL_SECONDS: '600',
          EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 50 }) }),
        }),
      });
    });
    afterAll(async () => {
      await easel?.stop();
      await receiver.close();
    });

    it('gives job views and webhooks presigned URLs of the bucket with the same time to live', async () => {
      const { id: accountId, key } = await easel.newAccount('pro');
      const job = await submit(easel, key, { webhook_url: receiver.url });
      const url = new URL(job.images[0]!.url);
      expect(`${url.origin}${url.pathname}`.startsWith(`${s3.endpoint}/${s3.bucket}/presigned/`)).toBe(true);
      const signedAt = Date.parse(
        url.searchParams
          .get('X-Amz-Date')!
          .replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, '$1-$2-$3T$4:$5:$6Z'),
      );
      const expiresAt = signedAt + Number(url.searchParams.get('X-Amz-Expires')) * 1000;
      expect(expiresAt - Date.now()).toBeGreaterThan(540_000);
      expect(expiresAt - Date.now()).toBeLessThanOrEqual(660_000);

      const imageKey = decodeURIComponent(url.pathname.split('/').pop()!);
      const stored = await objectBytes(`presigned/${imageKey}`);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await res.arrayBuffer())).toEqual(stored);

      const [delivery] = await waitFor(
        async () => receiver.forJob(job.id),
        (d) => d.length > 0,
        20_000,
      );
      const hooked = JSON.parse(delivery!.body) as { data: JobView };
      expect(
        hooked.data.images[0]!.url.startsWith(`${s3.endpoint}/${s3.bucket}/presigned/${imageKey}?`),
      ).toBe(true);
      expect((await fetch(hooked.data.images[0]!.url)).status).toBe(200);

      // Easel's own URLs (handed out before a switch to presigned) still serve the object.
      const own = new ImageUrlSigner(IMAGE_URL_SECRET, 600, () => easel.baseUrl).url(imageKey, accountId);
      const proxied = await fetch(own);
      expect(proxied.status).toBe(200);
      expect(Buffer.from(await proxied.arrayBuffer())).toEqual(stored);
    });
  });

  it('is not ready while the bucket refuses its credentials, and says which bucket to an operator', async () => {
    // Put back only at the end: the store's client reads the variables when it first needs them.
    const restore = s3.useAwsEnvironment({ ...s3.credentials, secretAccessKey: 'wrong-secret-0123456789' });
    let easel: TestEasel | undefined;
    try {
      easel = await startTestEasel({ role: 'api', env: s3.easelEnv() });
      const ready = await easel.call<{ down: string[]; checks: Record<string, { error?: string }> }>(
        'GET',
        '/readyz',
        { token: ADMIN_TOKEN },
      );
      expect(ready.status).toBe(503);
      expect(ready.body.down).toEqual(['images']);
      expect(ready.body.checks.images!.error).toContain(`S3 bucket "${s3.bucket}"`);
      expect(ready.body.checks.images!.error).toMatch(/403/);
    } finally {
      await easel?.stop();
      restore();
    }
  });
});

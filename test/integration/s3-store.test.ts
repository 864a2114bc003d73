import fs from 'node:fs';
import path from 'node:path';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { PNG } from 'pngjs';
import { DirectImageUrlSigner, ImageUrlSigner, ownImageReader } from '../../platform/image-urls';
import { S3ImageStore } from '../../platform/s3-image-store';
import { startS3Server, type TestS3Server } from '../support/s3-server';

function png(size: number): Buffer {
  const image = new PNG({ width: size, height: size });
  image.data.fill(90);
  return PNG.sync.write(image);
}

async function drain(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks);
}

/** The S3 image store against a real S3-compatible server (S3Proxy), which checks every signature. */
describe('S3 image store', () => {
  let s3: TestS3Server;
  let store: S3ImageStore;
  const storeOf = (overrides: Partial<ConstructorParameters<typeof S3ImageStore>[0]> = {}): S3ImageStore =>
    new S3ImageStore({
      bucket: s3.bucket,
      prefix: 'easel/',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      region: s3.region,
      credentials: s3.credentials,
      ...overrides,
    });
  beforeAll(async () => {
    s3 = await startS3Server();
    store = storeOf();
  });
  afterAll(() => s3?.stop());

  it('stores an image under the prefix with its content type and length, and streams it back', async () => {
    const bytes = png(64);
    const key = await store.put(bytes, 'image/png');
    expect(key).toMatch(/^[A-Za-z0-9]{32}\.png$/);

    const head = await s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `easel/${key}` }));
    expect(head.ContentType).toBe('image/png');
    expect(head.ContentLength).toBe(bytes.length);
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'easel/' }));
    expect(listed.Contents?.map((o) => o.Key)).toContain(`easel/${key}`);
    // The bytes are really on the server's disk, not in some mock's memory.
    expect(fs.readFileSync(path.join(s3.dataDir, s3.bucket, 'easel', key))).toEqual(bytes);

    const opened = await store.open(key);
    expect(opened).toMatchObject({ contentType: 'image/png', bytes: bytes.length });
    expect(await drain(opened!.stream)).toEqual(bytes);
    expect(await store.read(key)).toEqual(bytes);
  });

  it('keeps the content type of JPEG and WebP images', async () => {
    const key = await store.put(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]), 'image/jpeg');
    expect(key).toMatch(/\.jpg$/);
    expect((await store.open(key))?.contentType).toBe('image/jpeg');
    const webp = await store.put(Buffer.from('RIFF\0\0\0\0WEBPVP8 '), 'image/webp');
    const opened = await store.open(webp);
    expect(opened?.contentType).toBe('image/webp');
    await drain(opened!.stream);
  });

  it('deletes an image: reads find nothing, and deleting it again is no error', async () => {
    const key = await store.put(png(8), 'image/png');
    await store.delete(key);
    expect(await store.open(key)).toBeNull();
    expect(await store.read(key)).toBeNull();
    await expect(store.delete(key)).resolves.toBeUndefined();
    await expect(
      s3.client.send(new HeadObjectCommand({ Bucket: s3.bucket, Key: `easel/${key}` })),
    ).rejects.toMatchObject({ $metadata: { httpStatusCode: 404 } });
  });

  it('answers null for a key never stored and for one no store could have made', async () => {
    expect(await store.open(`${'a'.repeat(32)}.png`)).toBeNull();
    expect(await store.read(`${'a'.repeat(32)}.png`)).toBeNull();
    expect(await store.open('../../etc/passwd')).toBeNull();
  });

  it('keeps prefixes apart: a store with another prefix does not see the image', async () => {
    const key = await store.put(png(8), 'image/png');
    const other = storeOf({ prefix: 'other/' });
    expect(await other.open(key)).toBeNull();
    const bare = storeOf({ prefix: '' });
    expect(await bare.read(key)).toBeNull();
    expect(await bare.read(`easel/${key}`)).toBeNull(); // not an image key: refused before any request
  });

  it('is refused with a wrong secret key (the server checks SigV4), and says so naming the bucket', async () => {
    const forged = storeOf({
      credentials: { ...s3.credentials, secretAccessKey: 'not-the-secret-0123456789' },
    });
    await expect(forged.put(png(8), 'image/png')).rejects.toMatchObject({
      name: 'SignatureDoesNotMatch',
      $metadata: { httpStatusCode: 403 },
    });
    const key = await store.put(png(8), 'image/png');
    // A 403 is not a missing image: it must not turn into a 404.
    await expect(forged.open(key)).rejects.toMatchObject({ $metadata: { httpStatusCode: 403 } });
    await expect(forged.check()).rejects.toThrow(`S3 bucket "${s3.bucket}"`);
    await expect(store.check()).resolves.toBeUndefined();
  });

  it('fails its check naming a bucket that does not exist', async () => {
    await expect(storeOf({ bucket: 'no-such-bucket' }).check()).rejects.toThrow(
      /S3 bucket "no-such-bucket".*404/,
    );
  });

  describe('presigned URLs', () => {
    it('fetch the image straight from the server, and are recognised as the store’s own', async () => {
      const bytes = png(32);
      const key = await store.put(bytes, 'image/png');
      const links = await store.presignedLinks();
      const url = links.url(key, Math.floor(Date.now() / 1000) + 600)!;
      expect(url.startsWith(`${s3.endpoint}/${s3.bucket}/easel/${key}?`)).toBe(true);
      const res = await fetch(url);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      expect(Buffer.from(await res.arrayBuffer())).toEqual(bytes);
      expect(links.keyOf(url)).toBe(key);
    });

    it('are refused by the server once they expire, or when changed', async () => {
      const key = await store.put(png(8), 'image/png');
      // Signed two hours ago for ten minutes.
      const past = storeOf({ clock: () => Date.now() - 2 * 3600_000 });
      const expired = (await past.presignedLinks()).url(key, Math.floor(Date.now() / 1000) - 2 * 3600 + 600)!;
      const refused = await fetch(expired);
      expect(refused.status).toBe(403);
      expect(await refused.text()).toContain('Request has expired');

      const links = await store.presignedLinks();
      const good = links.url(key, Math.floor(Date.now() / 1000) + 600)!;
      expect((await fetch(good)).status).toBe(200);
      const changed = good.replace(/X-Amz-Expires=\d+/, 'X-Amz-Expires=604800');
      const tampered = await fetch(changed);
      expect(tampered.status).toBe(403);
      expect(await tampered.text()).toContain('SignatureDoesNotMatch');
      expect(links.keyOf(changed)).toBeUndefined();
      expect(links.keyOf(expired)).toBeUndefined();
      expect(links.keyOf(`${s3.endpoint}/${s3.bucket}/other/${key}`)).toBeUndefined();
    });

    it('are read from the store by the worker, like Easel’s own URLs (edits’ inputs)', async () => {
      const bytes = png(16);
      const key = await store.put(bytes, 'image/png');
      const signer = new DirectImageUrlSigner(
        's'.repeat(32),
        600,
        () => 'http://easel.test',
        await store.presignedLinks(),
      );
      const url = signer.url(key, 'acct_1');
      expect(url.startsWith(s3.endpoint)).toBe(true);
      const read = ownImageReader(signer, store);
      expect(await read(url)).toEqual({ bytes, contentType: 'image/png' });
      expect(
        await read(new ImageUrlSigner('s'.repeat(32), 600, () => 'http://easel.test').url(key, 'acct_1')),
      ).toEqual({
        bytes,
        contentType: 'image/png',
      });
      expect(await read(`${s3.endpoint}/${s3.bucket}/easel/${key}`)).toBeUndefined();
    });

    it('of a deleted image answer 404 from the server', async () => {
      const key = await store.put(png(8), 'image/png');
      const url = (await store.presignedLinks()).url(key, Math.floor(Date.now() / 1000) + 600)!;
      await store.delete(key);
      expect((await fetch(url)).status).toBe(404);
    });
  });
});

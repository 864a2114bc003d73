import { ImageUrlSigner } from '../../platform/image-urls';
import type { JobView } from '../../core/jobs/view';
import { startTestEasel, type TestEasel } from '../support/easel';
import { sandboxProviders, writeConfig } from '../support/config';
import { IMAGE_URL_SECRET } from '../support/secrets';

interface ErrorBody {
  error: { code: string; message: string };
}

/** Image URLs are bearer URLs: signed, expiring, private, and dead with their account. */
describe('signed image URLs', () => {
  let easel: TestEasel;
  let job: JobView;
  let key: string;
  let accountId: string;
  beforeAll(async () => {
    easel = await startTestEasel({
      env: { EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 50 }) }) },
    });
    ({ id: accountId, key } = await easel.newAccount('pro'));
    const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: 'a signed lighthouse' },
    });
    job = (await easel.call<JobView>('GET', `/v1/jobs/${submitted.body.id}?wait=20`, { token: key })).body;
    expect(job.status).toBe('succeeded');
  });
  afterAll(() => easel?.stop());

  const fetchJson = async (url: string) => {
    const res = await fetch(url);
    const text = await res.text();
    return {
      res,
      body: (res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as ErrorBody,
    };
  };

  it('serves the image at the URL the job gives, privately, for about an hour', async () => {
    const url = new URL(job.images[0]!.url);
    expect(url.searchParams.get('account')).toBe(accountId);
    const expires = Number(url.searchParams.get('expires')) * 1000;
    expect(expires - Date.now()).toBeGreaterThan(3_500_000);
    expect(expires - Date.now()).toBeLessThanOrEqual(3_660_000);
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/png');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toMatch(/^private, max-age=\d+$/);
    expect(Number(res.headers.get('cache-control')!.split('=')[1])).toBeLessThanOrEqual(3_660);
    await res.arrayBuffer();
  });

  it('refuses a URL without its signature, with a changed one, or for another account (403)', async () => {
    const url = new URL(job.images[0]!.url);
    const bare = `${url.origin}${url.pathname}`;
    expect((await fetchJson(bare)).res.status).toBe(403);
    for (const [param, value] of [
      ['signature', 'A'.repeat(43)],
      ['account', 'acct_someone_else'],
      ['expires', String(Number(url.searchParams.get('expires')) + 3_600)],
    ] as const) {
      const changed = new URL(url);
      changed.searchParams.set(param, value);
      const { res, body } = await fetchJson(changed.toString());
      expect({ param, status: res.status, code: body.error.code }).toEqual({
        param,
        status: 403,
        code: 'image_url_invalid',
      });
    }
  });

  it('refuses an expired URL (403 image_url_expired) and a read of the job signs a fresh one', async () => {
    const imageKey = new URL(job.images[0]!.url).pathname.split('/').pop()!;
    const yesterday = new ImageUrlSigner(
      IMAGE_URL_SECRET,
      3_600,
      () => easel.baseUrl,
      () => Date.now() - 86_400_000,
    );
    const { res, body } = await fetchJson(yesterday.url(decodeURIComponent(imageKey), accountId));
    expect(res.status).toBe(403);
    expect(body.error).toMatchObject({
      code: 'image_url_expired',
      message: expect.stringContaining('GET /v1/jobs'),
    });
    const fresh = (await easel.call<JobView>('GET', `/v1/jobs/${job.id}`, { token: key })).body;
    expect((await fetch(fresh.images[0]!.url)).status).toBe(200);
  });

  it("stops serving a suspended account's images, and serves them again once it is active", async () => {
    const url = job.images[0]!.url;
    await easel.admin('PATCH', `/accounts/${accountId}`, { status: 'suspended' });
    const { res, body } = await fetchJson(url);
    expect(res.status).toBe(403);
    expect(body.error.code).toBe('account_suspended');
    await easel.admin('PATCH', `/accounts/${accountId}`, { status: 'active' });
    expect((await fetch(url)).status).toBe(200);
  });
});

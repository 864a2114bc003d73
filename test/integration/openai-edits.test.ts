import { createHash, randomFillSync } from 'node:crypto';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import OpenAI, { toFile } from 'openai';
import { PNG } from 'pngjs';
import sharp from 'sharp';
import { createOpenaiFake } from '../fakes/openai-fake';
import { pythonWithOpenai } from '../support/python-openai';
import { startTestEasel, type TestEasel } from '../support/easel';
import { writeConfig } from '../support/config';
import type { JobView } from '../../core/jobs/view';
import { imageDimensions } from '../../platform/image-store';

const execFileAsync = promisify(execFile);
process.env.TEST_EDITS_OPENAI_KEY = 'openai-test-key';

/** A solid PNG; `alpha` 0 makes a mask that lets the whole image change. */
function png(width: number, height: number, rgb: [number, number, number], alpha = 255): Buffer {
  const image = new PNG({ width, height });
  for (let i = 0; i < width * height; i++) image.data.set([...rgb, alpha], i * 4);
  return PNG.sync.write(image);
}
const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
/** A PNG of noise, which does not compress: 1050x1050 RGBA is over 4 MB, OpenAI's limit for a mask. */
function noisePng(width: number, height: number): Buffer {
  const image = new PNG({ width, height });
  randomFillSync(image.data);
  return PNG.sync.write(image, { deflateLevel: 1 });
}

interface Balance {
  captured: number;
  held: number;
}

/**
 * `POST /v1/images/edits` end to end, with the official clients: uploads reach the upstream
 * (the OpenAI fake) byte for byte through the job, the job is charged once for its outputs, bad
 * inputs are refused in OpenAI's shape before anything is reserved, and a job slower than the
 * wait answers 504 with its id, which neither client retries.
 */
describe('OpenAI-compatible POST /v1/images/edits', () => {
  const fake = createOpenaiFake({ apiKey: 'openai-test-key' });
  const red = png(64, 64, [255, 0, 0]);
  const blue = png(64, 64, [0, 0, 255]);
  const mask = png(64, 64, [0, 0, 0], 0);
  // The sandbox draws 1:1 images at 512x512: a mask of that size, made up front (encoding blocks).
  const ownMask = png(512, 512, [0, 0, 0], 0);
  const bigMask = noisePng(1050, 1050);
  let easel: TestEasel;
  let key: string;
  let client: OpenAI;
  let referenceServer: Server;
  let referenceUrl: string;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-edits-'));

  const balance = async (token: string): Promise<Balance> =>
    (await easel.call<{ balance: Balance }>('GET', '/v1/account', { token })).body.balance;
  const jobsOf = async (token: string): Promise<JobView[]> =>
    (await easel.call<{ data: JobView[] }>('GET', '/v1/jobs', { token })).body.data;
  const lastEdit = () => fake.submissions.filter((s) => s.operation === 'edits').at(-1)!;

  beforeAll(async () => {
    await fake.start();
    // A reference image on some other host, for the JSON form's URLs.
    referenceServer = createServer((_req, res) => {
      res.setHeader('content-type', 'image/png');
      res.end(blue);
    });
    await new Promise<void>((resolve) => referenceServer.listen(0, '127.0.0.1', resolve));
    referenceUrl = `http://127.0.0.1:${(referenceServer.address() as AddressInfo).port}/blue.png`;
    const sandboxModels = (models: string[]) =>
      Object.fromEntries(models.map((m) => [m, { upstream_model: m, cost_usd_micros: 0 }]));
    const config = writeConfig({
      providers: {
        default_strategy: 'priority',
        deployments: [
          {
            id: 'openai',
            type: 'openai',
            base_url: fake.url,
            api_key_env: 'TEST_EDITS_OPENAI_KEY',
            // The fake and the reference host listen on loopback.
            allow_private_network: true,
            timeout_ms: 30_000,
            breaker: { volume_threshold: 100 },
            models: { 'gpt-image-1': { upstream_model: 'gpt-image-1', cost_usd_micros: 42_240 } },
          },
          {
            id: 'sandbox',
            type: 'sandbox',
            timeout_ms: 60_000,
            models: sandboxModels(['flux-2-dev', 'flux-schnell']),
            options: { latency_ms: 50 },
          },
          {
            // Slower than every wait below: its jobs outlast the synchronous answer.
            id: 'slow',
            type: 'sandbox',
            timeout_ms: 120_000,
            models: sandboxModels(['flux-2-max']),
            options: { latency_ms: 25_000 },
          },
        ],
      },
    });
    easel = await startTestEasel({ env: { EASEL_CONFIG: config, EASEL_SYNC_WAIT_SECONDS: '4' } });
    ({ key } = await easel.newAccount('pro'));
    client = new OpenAI({ apiKey: key, baseURL: `${easel.baseUrl}/v1`, maxRetries: 0 });
    fs.writeFileSync(path.join(dir, 'red.png'), red);
    fs.writeFileSync(path.join(dir, 'blue.png'), blue);
    fs.writeFileSync(path.join(dir, 'mask.png'), mask);
    fs.writeFileSync(path.join(dir, 'notes.png'), 'not an image at all, whatever the name says');
  }, 120_000);
  afterAll(async () => {
    await easel?.stop();
    await fake.close();
    referenceServer?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('passes two uploaded images and a mask from the Node client to the upstream byte for byte, charging once', async () => {
    const before = await balance(key);
    const result = await client.images.edit({
      model: 'gpt-image-1',
      image: [await toFile(red, 'red.png', { type: 'image/png' }), await toFile(blue, 'blue.png')],
      mask: await toFile(mask, 'mask.png', { type: 'image/png' }),
      prompt: 'paint the red square blue',
    });
    expect(Buffer.from(result.data![0]!.b64_json!, 'base64').subarray(1, 4).toString()).toBe('PNG');

    const received = lastEdit();
    expect(received.fields).toMatchObject({ model: 'gpt-image-1', prompt: 'paint the red square blue' });
    expect(received.files.map((f) => [f.field, f.sha256])).toEqual([
      ['image[]', sha256(red)],
      ['image[]', sha256(blue)],
      ['mask', sha256(mask)],
    ]);

    const jobId = (result as unknown as { easel: { job_id: string } }).easel.job_id;
    const job = (await easel.call<JobView>('GET', `/v1/jobs/${jobId}`, { token: key })).body;
    // The uploads are inputs: neither charged nor listed as the job's images.
    expect(job).toMatchObject({ status: 'succeeded', credits_charged: 2, provider: 'openai' });
    expect(job.images).toHaveLength(1);
    expect(await balance(key)).toMatchObject({ captured: before.captured + 2, held: 0 });
  });

  it('takes the JSON form: an image URL elsewhere, one of Easel’s own and a data: URL mask', async () => {
    // An earlier output of this account, at its signed Easel URL: the worker reads it from the store.
    const earlier = await client.images.generate({
      model: 'flux-2-dev',
      prompt: 'a square',
      size: '1024x1024',
      response_format: 'url',
    });
    const ownUrl = earlier.data![0]!.url!;
    const ownBytes = Buffer.from(await (await fetch(ownUrl)).arrayBuffer());
    expect(imageDimensions(ownBytes)).toEqual({ width: 512, height: 512 });

    const edited = await easel.call<{ data: Array<{ b64_json: string }>; easel: { job_id: string } }>(
      'POST',
      '/v1/images/edits',
      {
        token: key,
        body: {
          model: 'gpt-image-1',
          prompt: 'merge them',
          images: [{ image_url: ownUrl }, { image_url: referenceUrl }],
          mask: { image_url: `data:image/png;base64,${ownMask.toString('base64')}` },
        },
      },
    );
    expect(edited.status).toBe(200);
    expect(lastEdit().files.map((f) => [f.field, f.sha256])).toEqual([
      ['image[]', sha256(ownBytes)],
      ['image[]', sha256(blue)],
      ['mask', sha256(ownMask)],
    ]);

    const refused = await easel.call<{ error: Record<string, unknown> }>('POST', '/v1/images/edits', {
      token: key,
      body: { prompt: 'x', images: [{ file_id: 'file-abc' }] },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      type: 'invalid_request_error',
      param: 'images[0].file_id',
      code: 'unsupported_parameter',
    });
  });

  it('passes /v1/imagine’s mask_url to the provider with the image it masks', async () => {
    const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: {
        model: 'gpt-image-1',
        prompt: 'masked by URL',
        image_urls: [referenceUrl],
        mask_url: `${referenceUrl}?mask`,
      },
    });
    expect(submitted.status).toBe(202);
    const done = await easel.call<JobView>('GET', `/v1/jobs/${submitted.body.id}?wait=30`, { token: key });
    expect(done.body.status).toBe('succeeded');
    expect(lastEdit().files.map((f) => [f.field, f.sha256])).toEqual([
      ['image[]', sha256(blue)],
      ['mask', sha256(blue)],
    ]);
    const alone = await easel.call<{ error: { details: { fields: Record<string, string> } } }>(
      'POST',
      '/v1/imagine',
      { token: key, body: { model: 'gpt-image-1', prompt: 'mask of nothing', mask_url: referenceUrl } },
    );
    expect(alone.status).toBe(400);
    expect(Object.keys(alone.body.error.details.fields)).toEqual(['mask_url']);
  });

  it('refuses bad inputs in OpenAI’s shape before anything is reserved', async () => {
    const poor = await easel.newAccount('growth');
    const before = await balance(poor.key);
    const poorClient = new OpenAI({ apiKey: poor.key, baseURL: `${easel.baseUrl}/v1`, maxRetries: 0 });
    const form = (parts: Array<[string, Buffer | string, string?]>, fields: Record<string, string> = {}) => {
      const body = new FormData();
      body.append('prompt', 'edit it');
      body.append('model', 'gpt-image-1');
      for (const [name, value] of Object.entries(fields)) body.append(name, value);
      for (const [name, bytes, filename] of parts) {
        body.append(name, new Blob([bytes], { type: 'image/png' }), filename ?? 'x.png');
      }
      return fetch(`${easel.baseUrl}/v1/images/edits`, {
        method: 'POST',
        headers: { authorization: `Bearer ${poor.key}` },
        body,
      });
    };
    // One after another: the plan's request rate counts refused requests too.
    const cases: Array<[string, () => Promise<Response>, Record<string, unknown>]> = [
      ['no image', () => form([]), { param: 'image', code: 'missing_required_parameter' }],
      [
        'a text file named .png',
        () => form([['image', 'not an image at all', 'notes.png']]),
        { param: 'image', code: 'unsupported_file_mimetype' },
      ],
      [
        'a mask without an image',
        () => form([['mask', mask]]),
        { param: 'image', code: 'missing_required_parameter' },
      ],
      [
        'nine images',
        () => form(Array.from({ length: 9 }, () => ['image[]', red] as [string, Buffer])),
        { param: 'image', code: 'array_above_max_length' },
      ],
      [
        'a mask of another size',
        () =>
          form([
            ['image', red],
            ['mask', png(32, 32, [0, 0, 0], 0)],
          ]),
        { param: 'mask', code: 'invalid_image_dimensions' },
      ],
      [
        'a JPEG mask',
        async () =>
          form([
            ['image', red],
            ['mask', await sharp(mask).jpeg().toBuffer()],
          ]),
        { param: 'mask', code: 'unsupported_file_mimetype' },
      ],
      [
        'a mask of 4 MB or more',
        () =>
          form([
            ['image', red],
            ['mask', bigMask],
          ]),
        { param: 'mask', code: 'image_file_too_large' },
      ],
      [
        'high input fidelity',
        () => form([['image', red]], { input_fidelity: 'high' }),
        { param: 'input_fidelity' },
      ],
      [
        'an unknown field',
        () => form([['image', red]], { colour: 'red' }),
        { type: 'invalid_request_error' },
      ],
    ];
    for (const [what, send, error] of cases) {
      const res = await send();
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect([what, res.status]).toEqual([what, 400]);
      expect(body.error).toMatchObject({ type: 'invalid_request_error', ...error });
      expect(typeof body.error.message).toBe('string');
    }
    // The official client reads them as its own error type.
    const fromClient = await poorClient.images
      .edit({
        model: 'gpt-image-1',
        image: fs.createReadStream(path.join(dir, 'notes.png')),
        prompt: 'edit it',
      })
      .catch((e: unknown) => e);
    expect(fromClient).toBeInstanceOf(OpenAI.BadRequestError);
    expect(fromClient).toMatchObject({ param: 'image', code: 'unsupported_file_mimetype' });

    expect(await balance(poor.key)).toMatchObject({ captured: before.captured, held: 0 });
    expect(await jobsOf(poor.key)).toEqual([]);
  });

  it('is refused by the OpenAI fake, as by OpenAI, a mask that is not a PNG or is 4 MB or more', async () => {
    const upstream = new OpenAI({ apiKey: 'openai-test-key', baseURL: `${fake.url}/v1`, maxRetries: 0 });
    const edit = async (maskBytes: Buffer, type: string) =>
      upstream.images
        .edit({
          model: 'gpt-image-1',
          prompt: 'edit it',
          image: await toFile(red, 'red.png', { type: 'image/png' }),
          mask: await toFile(maskBytes, type === 'image/png' ? 'mask.png' : 'mask.jpg', { type }),
        })
        .catch((e: unknown) => e);
    const jpeg = await edit(await sharp(mask).jpeg().toBuffer(), 'image/jpeg');
    expect(jpeg).toBeInstanceOf(OpenAI.BadRequestError);
    expect(jpeg).toMatchObject({
      error: {
        type: 'invalid_request_error',
        param: 'mask',
        code: 'unsupported_file_mimetype',
        message:
          "Invalid file 'mask': unsupported mimetype ('image/jpeg'). Supported file formats are 'image/png'.",
      },
    });
    const big = await edit(bigMask, 'image/png');
    expect(big).toBeInstanceOf(OpenAI.BadRequestError);
    expect(big).toMatchObject({
      error: { type: 'invalid_request_error', param: 'mask', code: 'image_file_too_large' },
    });
    // The same edit with a mask within the rules is taken.
    expect(await edit(mask, 'image/png')).toMatchObject({ data: [expect.anything()] });
  });

  it('runs an edit with a mask from the official Python client', async () => {
    const python = await pythonWithOpenai();
    fs.writeFileSync(
      path.join(dir, 'edit.py'),
      `import json
from openai import OpenAI

client = OpenAI(max_retries=0)
with open("red.png", "rb") as red, open("blue.png", "rb") as blue, open("mask.png", "rb") as mask:
    result = client.images.edit(model="gpt-image-1", image=[red, blue], mask=mask, prompt="python edit")
print(json.dumps({"b64": len(result.data[0].b64_json), "easel": result.to_dict().get("easel")}))
`,
    );
    const { stdout } = await execFileAsync(python, ['edit.py'], {
      cwd: dir,
      env: { ...process.env, OPENAI_BASE_URL: `${easel.baseUrl}/v1`, OPENAI_API_KEY: key },
      timeout: 120_000,
    });
    const out = JSON.parse(stdout) as { b64: number; easel: { job_id: string; credits_charged: number } };
    expect(out.b64).toBeGreaterThan(100);
    expect(out.easel.credits_charged).toBe(2);
    const received = lastEdit();
    expect(received.fields.prompt).toBe('python edit');
    expect(received.files.map((f) => [f.field, f.sha256])).toEqual([
      ['image[]', sha256(red)],
      ['image[]', sha256(blue)],
      ['mask', sha256(mask)],
    ]);
  }, 360_000);

  it('answers a retry with the same Idempotency-Key with the same job, charged once', async () => {
    const account = await easel.newAccount('pro');
    const keyed = new OpenAI({ apiKey: account.key, baseURL: `${easel.baseUrl}/v1`, maxRetries: 0 });
    const jobIdOf = (r: unknown) => (r as { easel: { job_id: string } }).easel.job_id;
    const edit = async () =>
      keyed.images.edit(
        { model: 'gpt-image-1', image: await toFile(red, 'red.png'), prompt: 'keyed edit' },
        // The OpenAI clients send no Idempotency-Key of their own; a caller adds the header.
        { headers: { 'Idempotency-Key': 'edit-1' } },
      );
    const first = await edit();
    const second = await edit();
    expect(jobIdOf(second)).toBe(jobIdOf(first));

    const generate = () =>
      keyed.images.generate(
        { model: 'flux-2-dev', prompt: 'keyed' },
        { headers: { 'Idempotency-Key': 'gen-1' } },
      );
    expect(jobIdOf(await generate())).toBe(jobIdOf(await generate()));

    expect(await balance(account.key)).toMatchObject({ captured: 2 + 1, held: 0 });
    expect(await jobsOf(account.key)).toHaveLength(2);
  });

  it('waits EASEL_SYNC_WAIT_SECONDS, then answers 504 with the job id, which the Node client does not retry', async () => {
    const account = await easel.newAccount('pro');
    // Retries allowed: the 504's x-should-retry: false is what stops them.
    const retrying = new OpenAI({ apiKey: account.key, baseURL: `${easel.baseUrl}/v1`, maxRetries: 2 });
    for (const call of [
      () => retrying.images.generate({ model: 'flux-2-max', prompt: 'slow node' }),
      async () =>
        retrying.images.edit({
          model: 'flux-2-max',
          image: await toFile(red, 'red.png'),
          prompt: 'slow edit',
        }),
    ]) {
      const started = Date.now();
      const err = await call().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      expect(err).toMatchObject({ status: 504, code: 'timeout' });
      expect((err as { error: { job_id: string } }).error.job_id).toMatch(/^job_/);
      // EASEL_SYNC_WAIT_SECONDS=4, far below the client's own 10-minute timeout.
      expect(Date.now() - started).toBeLessThan(15_000);
    }
    const jobs = await jobsOf(account.key);
    expect(jobs).toHaveLength(2);
    expect(await balance(account.key)).toMatchObject({ held: 2 * 4 });
  }, 60_000);

  it('reads the 504 and every error class through the Python client’s own exception types', async () => {
    const python = await pythonWithOpenai();
    const slow = await easel.newAccount('pro');
    const poor = await easel.newAccount('trial');
    const suspended = await easel.newAccount('pro');
    expect((await easel.admin('PATCH', `/accounts/${suspended.id}`, { status: 'suspended' })).status).toBe(
      200,
    );
    fs.writeFileSync(
      path.join(dir, 'errors.py'),
      `import json, sys, time
import openai
from openai import OpenAI

base = sys.argv[1]
slow_key, poor_key, suspended_key = sys.argv[2:5]
out = {}

def caught(name, call):
    try:
        call()
        out[name] = {"raised": None}
    except openai.APIStatusError as e:
        out[name] = {"raised": type(e).__name__, "status": e.status_code, "body": e.body}

# Retries allowed: the 504 (sent before the client's own 8 s timeout) must not be retried.
slow = OpenAI(api_key=slow_key, base_url=base, max_retries=2, timeout=8)
started = time.monotonic()
caught("timeout", lambda: slow.images.generate(model="flux-2-max", prompt="slow python"))
out["timeout"]["seconds"] = time.monotonic() - started
caught("bad_request", lambda: slow.images.generate(model="gpt-image-1", prompt="x", size="256x256"))
caught("authentication", lambda: OpenAI(api_key="ek_wrong", base_url=base, max_retries=0).images.generate(model="flux-2-dev", prompt="x"))
caught("permission", lambda: OpenAI(api_key=suspended_key, base_url=base, max_retries=0).images.generate(model="flux-2-dev", prompt="x"))
caught("not_found", lambda: slow.models.retrieve("dall-e-9"))
# 16 of the 25 trial credits held by a slow job (its answer is a 504), then 16 more than are left.
poor = OpenAI(api_key=poor_key, base_url=base, max_retries=2, timeout=8)
caught("spend", lambda: poor.images.generate(model="flux-2-max", prompt="dear", n=4))
time.sleep(1.1)
caught("quota", lambda: poor.images.generate(model="flux-2-max", prompt="too dear", n=4))
print(json.dumps(out))
`,
    );
    const { stdout } = await execFileAsync(
      python,
      ['errors.py', `${easel.baseUrl}/v1`, slow.key, poor.key, suspended.key],
      { cwd: dir, timeout: 180_000 },
    );
    const out = JSON.parse(stdout) as Record<
      string,
      { raised: string; status: number; body: Record<string, unknown>; seconds?: number }
    >;
    expect(out.timeout).toMatchObject({
      raised: 'InternalServerError',
      status: 504,
      body: { code: 'timeout' },
    });
    expect(out.timeout!.body.job_id).toMatch(/^job_/);
    expect(out.timeout!.seconds).toBeLessThan(15);
    expect(out.bad_request).toMatchObject({
      raised: 'BadRequestError',
      status: 400,
      body: { param: 'size' },
    });
    expect(out.authentication).toMatchObject({ raised: 'AuthenticationError', status: 401 });
    expect(out.permission).toMatchObject({ raised: 'PermissionDeniedError', status: 403 });
    expect(out.not_found).toMatchObject({ raised: 'NotFoundError', status: 404 });
    expect(out.quota).toMatchObject({
      raised: 'RateLimitError',
      status: 429,
      body: { code: 'insufficient_quota' },
    });
    // One job, one reservation: the 504 was not retried.
    expect(await jobsOf(slow.key)).toHaveLength(1);
    expect(await balance(slow.key)).toMatchObject({ held: 4 });
  }, 360_000);

  it('honours the timeout a client announces, answering 504 before the client gives up and retries', async () => {
    const account = await easel.newAccount('pro');
    // Below EASEL_SYNC_WAIT_SECONDS: without the 504 first, the client would time out and retry.
    const impatient = new OpenAI({ apiKey: account.key, baseURL: `${easel.baseUrl}/v1`, maxRetries: 2 });
    // The Node client announces a per-request timeout (X-Stainless-Timeout), not its default one.
    const err = await impatient.images
      .generate({ model: 'flux-2-max', prompt: 'impatient' }, { timeout: 5_000 })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect(err).toMatchObject({ status: 504, code: 'timeout' });
    expect(await jobsOf(account.key)).toHaveLength(1);
  }, 60_000);
});

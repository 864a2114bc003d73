import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import { startTestEasel, type TestEasel } from '../support/easel';
import { sandboxProviders, waitFor, writeConfig } from '../support/config';
import type { JobView } from '../../core/jobs/view';

interface ErrorBody {
  error: { code: string; message: string; details?: { fields?: Record<string, string> } };
}
interface Account {
  plan: string;
  balance: { available: number; held: number };
}

/** Names that a plain-object lookup finds on Object.prototype. */
const PROTOTYPE_NAMES = ['constructor', '__proto__', 'toString', 'hasOwnProperty'];

/** One request with full control of the headers and the bytes sent (fetch normalises both). */
function rawRequest(
  baseUrl: string,
  options: { method?: string; path: string; headers?: Record<string, string>; body?: Buffer | string },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  const url = new URL(options.path, baseUrl);
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'POST', headers: { connection: 'close', ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(chunks).toString(),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Bytes written straight to the socket; the whole answer as text once the server closes. */
function rawSocket(baseUrl: string, bytes: string): Promise<string> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(url.port), url.hostname, () => socket.write(bytes));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject);
  });
}

const envelope = (text: string): ErrorBody => JSON.parse(text) as ErrorBody;

describe('input hardening: client strings, metadata keys and unreadable requests', () => {
  let easel: TestEasel;
  let key: string;
  beforeAll(async () => {
    easel = await startTestEasel({
      env: { EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 50 }) }) },
    });
    // scale-2: 40 requests per second, so that the refusals below are not rate limited.
    ({ key } = await easel.newAccount('scale-2'));
  });
  afterAll(() => easel.stop());

  const imagine = (body: unknown): Promise<{ status: number; body: ErrorBody & JobView }> =>
    easel.call<ErrorBody & JobView>('POST', '/v1/imagine', { token: key, body });
  const account = async (token: string): Promise<Account> =>
    (await easel.call<Account>('GET', '/v1/account', { token })).body;

  describe.each(PROTOTYPE_NAMES)('a table lookup by "%s"', (name) => {
    it('is an unknown model on POST /v1/imagine, naming the catalog models', async () => {
      const res = await imagine({ model: name, prompt: 'a fox' });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
      expect(res.body.error.details?.fields?.model).toContain('nano-banana');
    });

    it('is an unknown task for model "auto", naming the tasks', async () => {
      const res = await imagine({ model: 'auto', task: name, prompt: 'a fox' });
      expect(res.status).toBe(400);
      expect(res.body.error.details?.fields?.task).toContain('photorealism');
    });

    it('is an unknown fallback model', async () => {
      const res = await imagine({ model: 'nano-banana', prompt: 'a fox', fallback_models: [name] });
      expect(res.status).toBe(400);
      expect(res.body.error.details?.fields?.fallback_models).toContain(name);
    });

    it('is an unknown model on the OpenAI-compatible route', async () => {
      const res = await easel.call<ErrorBody>('POST', '/v1/images/generations', {
        token: key,
        body: { model: name, prompt: 'a fox' },
      });
      expect(res.status).toBe(400);
      // OpenAI's error shape on its route: the field as `param`, what is allowed in the message.
      const error = res.body.error as unknown as { param: string; message: string; type: string };
      expect(error).toMatchObject({ param: 'model', type: 'invalid_request_error' });
      expect(error.message).toContain('gpt-image-1');
    });

    it('is an unknown model or task on the unauthenticated POST /v1/estimate', async () => {
      const byModel = await easel.call<ErrorBody>('POST', '/v1/estimate', { body: { model: name } });
      expect(byModel.status).toBe(400);
      expect(byModel.body.error.details?.fields?.model).toContain('flux-2-dev');
      const byTask = await easel.call<ErrorBody>('POST', '/v1/estimate', { body: { task: name } });
      expect(byTask.status).toBe(400);
      expect(byTask.body.error.details?.fields?.task).toContain('general');
    });

    it('is an unknown plan for a new account or a plan change, and the account keeps working', async () => {
      const created = await easel.admin<ErrorBody>('POST', '/accounts', { name: 'proto', plan: name });
      expect(created.status).toBe(400);
      expect(created.body.error.details?.fields?.plan).toContain('hobby');

      const { id, key: otherKey } = await easel.newAccount('hobby');
      const patched = await easel.admin<ErrorBody>('PATCH', `/accounts/${id}`, { plan: name });
      expect(patched.status).toBe(400);
      expect(patched.body.error.details?.fields?.plan).toContain('hobby');
      expect((await account(otherKey)).plan).toBe('hobby');
      const after = await easel.call<ErrorBody>('POST', '/v1/estimate', { body: { model: 'nano-banana' } });
      expect(after.status).toBe(200);
    });
  });

  it('reserves nothing for any of those refusals', async () => {
    expect((await account(key)).balance.held).toBe(0);
  });

  describe('a task sent with an explicit model', () => {
    it('is refused when the catalog does not know it', async () => {
      const res = await imagine({ model: 'nano-banana', task: 'no-such-task', prompt: 'a fox' });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain('no-such-task');
      expect(res.body.error.details?.fields?.task).toContain('photorealism');
      const estimate = await easel.call<ErrorBody>('POST', '/v1/estimate', {
        body: { model: 'nano-banana', task: 'no-such-task' },
      });
      expect(estimate.status).toBe(400);
    });

    it('is accepted when known, and the usage report compares it with auto', async () => {
      const { key: own } = await easel.newAccount('hobby');
      const res = await easel.call<JobView>('POST', '/v1/imagine', {
        token: own,
        body: { model: 'ideogram-v3', task: 'prototyping', prompt: 'a fox' },
      });
      expect(res.status).toBe(202);
      expect(res.body).toMatchObject({ model: 'ideogram-v3', task: 'prototyping' });
      await waitFor(
        () =>
          easel.call<JobView>('GET', `/v1/jobs/${res.body.id}?wait=5`, { token: own }).then((r) => r.body),
        (j) => j.status === 'succeeded',
        20_000,
      );
      const usage = await easel.call<{ total: { auto: Record<string, number> } }>('GET', '/v1/usage', {
        token: own,
      });
      // ideogram-v3 costs 5 credits, flux-2-dev (auto's model for prototyping) 1.
      expect(usage.body.total.auto).toEqual({
        jobs_with_task: 1,
        credits_charged: 5,
        credits_with_auto: 1,
        credits_saved: 4,
      });
    });
  });

  describe('metadata keys', () => {
    it.each(['$x', 'a.b', 'with space', 'nul\u0000', ':leading-colon', 'k'.repeat(65), ''])(
      'refuses %j with a 400 naming the key',
      async (metadataKey) => {
        const res = await imagine({ model: 'flux-2-dev', prompt: 'a fox', metadata: { [metadataKey]: '1' } });
        expect(res.status).toBe(400);
        expect(res.body.error.code).toBe('invalid_request');
        expect(res.body.error.details?.fields?.[`metadata.${metadataKey}`]).toContain(
          JSON.stringify(metadataKey),
        );
      },
    );

    it('refuses a "__proto__" key instead of dropping it', async () => {
      // The raw text: an object literal's `__proto__` would set the prototype, not a key.
      const res = await imagine(
        '{"model":"flux-2-dev","prompt":"a fox","metadata":{"__proto__":"1","ok":"2"}}',
      );
      expect(res.status).toBe(400);
      expect(res.body.error.details?.fields?.metadata).toContain('"__proto__" refused');
    });

    it('accepts letters, digits, "_", "-" and ":" and returns them as sent', async () => {
      const metadata = {
        order_id: '42',
        'team:web': 'yes',
        'a-b': '$not.a.key',
        _private: 'x',
        '7': 'seven',
      };
      const res = await imagine({ model: 'flux-2-dev', prompt: 'a fox', metadata });
      expect(res.status).toBe(202);
      expect(res.body.metadata).toEqual(metadata);
      const read = await easel.call<JobView>('GET', `/v1/jobs/${res.body.id}`, { token: key });
      expect(read.body.metadata).toEqual(metadata);
    });

    it('keeps an OpenAI `user` whatever its characters (it is a value, not a key)', async () => {
      const res = await easel.call<{ easel: { job_id: string } }>('POST', '/v1/images/generations', {
        token: key,
        body: { model: 'flux-2-dev', prompt: 'a fox', user: '$user.name with spaces' },
      });
      expect(res.status).toBe(200);
      const job = await easel.call<JobView>('GET', `/v1/jobs/${res.body.easel.job_id}`, { token: key });
      expect(job.body.metadata).toEqual({ user: '$user.name with spaces' });
    });
  });

  describe('a body that cannot be read', () => {
    const estimateJson = JSON.stringify({ model: 'nano-banana', count: 2 });

    it('is 415 unsupported_content_encoding for Content-Encoding: compress', async () => {
      const res = await rawRequest(easel.baseUrl, {
        path: '/v1/estimate',
        headers: { 'content-type': 'application/json', 'content-encoding': 'compress' },
        body: estimateJson,
      });
      expect(res.status).toBe(415);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(envelope(res.text).error).toMatchObject({ code: 'unsupported_content_encoding' });
      expect(envelope(res.text).error.message).toContain('"compress"');
    });

    it('is read when gzip-compressed (the control for the corrupt case)', async () => {
      const res = await rawRequest(easel.baseUrl, {
        path: '/v1/estimate',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        body: zlib.gzipSync(estimateJson),
      });
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ model: 'nano-banana', credits: 4 });
    });

    it.each([
      ['gzip', Buffer.from('this is not gzip at all')],
      ['gzip', zlib.gzipSync(estimateJson).subarray(0, 20)],
      ['deflate', Buffer.from('nor is this deflate')],
      ['br', Buffer.from('nor brotli')],
    ])('is 400 for a corrupt %s body', async (encoding, body) => {
      const res = await rawRequest(easel.baseUrl, {
        path: '/v1/estimate',
        headers: { 'content-type': 'application/json', 'content-encoding': encoding },
        body,
      });
      expect(res.status).toBe(400);
      expect(envelope(res.text).error.code).toBe('invalid_body_encoding');
    });

    it.each(['latin1', 'utf-nonsense'])('is 415 unsupported_charset for charset=%s', async (charset) => {
      const res = await rawRequest(easel.baseUrl, {
        path: '/v1/estimate',
        headers: { 'content-type': `application/json; charset=${charset}` },
        body: estimateJson,
      });
      expect(res.status).toBe(415);
      expect(envelope(res.text).error).toMatchObject({ code: 'unsupported_charset' });
      expect(envelope(res.text).error.message).toContain(charset);
    });

    it('is 400 invalid_json for a body that is not JSON, and 413 for one over the limit', async () => {
      const bad = await rawRequest(easel.baseUrl, {
        path: '/v1/estimate',
        headers: { 'content-type': 'application/json' },
        body: '{"model":',
      });
      expect(bad.status).toBe(400);
      expect(envelope(bad.text).error.code).toBe('invalid_json');
      const large = await rawRequest(easel.baseUrl, {
        path: '/v1/estimate',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'x'.repeat(2 * 1024 * 1024) }),
      });
      expect(large.status).toBe(413);
      expect(envelope(large.text).error.code).toBe('body_too_large');
    });

    it('is 400 for a path parameter that does not decode', async () => {
      const res = await rawRequest(easel.baseUrl, {
        method: 'GET',
        path: '/v1/jobs/%E0%A4%A',
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status).toBe(400);
      expect(envelope(res.text).error.code).toBe('invalid_request');
    });
  });

  describe('a request the HTTP parser refuses', () => {
    it('is 431 headers_too_large in the JSON envelope for 20 KB of headers', async () => {
      const res = await rawRequest(easel.baseUrl, {
        method: 'GET',
        path: '/healthz',
        headers: { 'x-padding': 'p'.repeat(20 * 1024) },
      });
      expect(res.status).toBe(431);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers.connection).toBe('close');
      expect(envelope(res.text).error).toMatchObject({ code: 'headers_too_large' });
    });

    it('is 400 malformed_request in the JSON envelope for a request that is not HTTP', async () => {
      const answer = await rawSocket(easel.baseUrl, 'NOT HTTP AT ALL\r\n\r\n');
      const [head, body] = answer.split('\r\n\r\n');
      expect(head).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(envelope(body ?? '').error.code).toBe('malformed_request');
    });

    it('still serves the next connection', async () => {
      expect((await easel.call('GET', '/healthz')).status).toBe(200);
    });
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { errorHandler } from '../../api/errors';
import { codecRoutes } from '../../api/routes/codec';
import { EncryptionCodec, parsePayloadKeys } from '../../platform/payload-codec';
import { TEST_PAYLOAD_KEYS } from '../support/secrets';

const TOKEN = 'codec-test-admin-token';
const UI = 'http://localhost:8233';

describe('codec endpoint (Temporal remote codec protocol)', () => {
  let server: http.Server;
  let base = '';
  beforeAll(async () => {
    const app = express();
    app.use(express.json());
    app.use(
      '/codec',
      codecRoutes({
        codec: new EncryptionCodec(parsePayloadKeys(TEST_PAYLOAD_KEYS)),
        adminToken: TOKEN,
        allowedOrigins: [UI],
      }),
    );
    app.use(errorHandler);
    server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/codec`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (path: string, body: unknown, token?: string): Promise<Response> =>
    fetch(`${base}${path}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        origin: UI,
        ...(token && { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
  const b64 = (s: string): string => Buffer.from(s).toString('base64');
  const plain = { metadata: { encoding: b64('json/plain') }, data: b64('{"prompt":"a fox"}') };

  it('encodes and decodes back, keeping every metadata entry', async () => {
    const encoded = (await (await post('/encode', { payloads: [plain] }, TOKEN)).json()) as {
      payloads: Array<{ metadata: Record<string, string>; data: string }>;
    };
    expect(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(
      'binary/encrypted',
    );
    expect(Buffer.from(encoded.payloads[0]!.data, 'base64').includes('a fox')).toBe(false);
    const decoded = await post('/my-namespace/decode', encoded, TOKEN);
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(UI);
    expect(await decoded.json()).toEqual({ payloads: [plain] });
  });

  it('refuses a call without the admin token, with CORS headers the UI can read', async () => {
    const res = await post('/decode', { payloads: [plain] });
    expect(res.status).toBe(401);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
    expect((await post('/decode', { payloads: [plain] }, 'wrong-token')).status).toBe(401);
  });

  it('answers 400 to a body that is not payloads', async () => {
    expect((await post('/decode', { payloads: [{ data: 'not base64!' }] }, TOKEN)).status).toBe(400);
    expect((await post('/decode', {}, TOKEN)).status).toBe(400);
  });

  it('answers the preflight without a token, allowing only the configured origin', async () => {
    const preflight = (origin: string): Promise<Response> =>
      fetch(`${base}/decode`, {
        method: 'OPTIONS',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
    const ok = await preflight(UI);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ok.headers.get('access-control-allow-headers')).toBe('Authorization, Content-Type, X-Namespace');
    expect(
      (await preflight('https://elsewhere.example')).headers.get('access-control-allow-origin'),
    ).toBeNull();
  });
});

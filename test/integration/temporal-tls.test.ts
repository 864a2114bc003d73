import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { requireDevStack, startTestEasel, type TestEasel } from '../support/easel';

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, made by openssl. */
function makeCertificates(
  dir: string,
): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=Easel test CA',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
  );
  for (const [name, subject, extensions] of [
    ['server', '/CN=localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth'],
    ['client', '/CN=easel-worker', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    fs.writeFileSync(file(`${name}.ext`), `${extensions}\n`);
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      file(`${name}.key`),
      '-out',
      file(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.pem'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.pem`),
    );
  }
  return {
    ca: file('ca.pem'),
    serverCert: file('server.pem'),
    serverKey: file('server.key'),
    clientCert: file('client.pem'),
    clientKey: file('client.key'),
  };
}

/**
 * The dev server behind TLS, as a secured cluster or Temporal Cloud stands: an HTTP/2 server
 * that terminates TLS (requiring a client certificate signed by the CA) and checks the API key
 * of every gRPC call before passing it on to the dev server in the clear.
 */
async function tlsFront(options: {
  upstream: string;
  certs: ReturnType<typeof makeCertificates>;
  apiKey: string;
}) {
  const seen = { calls: 0, refusedKeys: 0, clients: new Set<string>() };
  const upstream = http2.connect(`http://${options.upstream}`);
  const server = http2.createSecureServer({
    key: fs.readFileSync(options.certs.serverKey),
    cert: fs.readFileSync(options.certs.serverCert),
    ca: fs.readFileSync(options.certs.ca),
    requestCert: true,
    rejectUnauthorized: true,
  });
  server.on('stream', (stream, headers) => {
    const peer = (stream.session?.socket as TLSSocket | undefined)?.getPeerCertificate();
    if (peer?.subject?.CN) seen.clients.add(String(peer.subject.CN));
    seen.calls++;
    if (headers.authorization !== `Bearer ${options.apiKey}`) {
      seen.refusedKeys++;
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '16',
          'grpc-message': 'bad API key',
        },
        { endStream: true },
      );
      return;
    }
    const forwarded: http2.OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name !== ':authority' && name !== ':scheme' && name !== 'authorization') forwarded[name] = value;
    }
    const call = upstream.request(forwarded);
    let trailers: http2.OutgoingHttpHeaders = {};
    call.on('response', (answer) => {
      const { ':status': status, ...rest } = answer;
      // A trailers-only answer (an error) carries grpc-status in its headers and ends there.
      const trailersOnly = 'grpc-status' in rest;
      if (!stream.destroyed)
        stream.respond(
          { ':status': status, ...rest },
          trailersOnly ? { endStream: true } : { waitForTrailers: true },
        );
    });
    call.on('trailers', (t) => {
      trailers = t;
    });
    stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    call.on('data', (chunk: Buffer) => stream.write(chunk));
    call.on('end', () => (stream.writableEnded || stream.destroyed ? undefined : stream.end()));
    call.on('error', () => stream.destroy());
    stream.on('data', (chunk: Buffer) => call.write(chunk));
    stream.on('end', () => call.end());
    stream.on('close', () => call.close());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      upstream.close();
    },
  };
}

describe('Temporal over TLS with a client certificate and an API key', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-tls-'));
  const certs = makeCertificates(dir);
  const apiKey = 'test-temporal-api-key';
  let front: Awaited<ReturnType<typeof tlsFront>>;
  let easel: TestEasel | undefined;

  beforeAll(async () => {
    front = await tlsFront({ upstream: requireDevStack().temporalAddress, certs, apiKey });
  });
  afterAll(async () => {
    await easel?.stop();
    await front?.close();
  });

  it('runs jobs through the API client and the worker on the secured connection', async () => {
    easel = await startTestEasel({
      temporalAddress: front.address,
      env: {
        TEMPORAL_API_KEY: apiKey,
        TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
        TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert,
        TEMPORAL_TLS_CLIENT_KEY_PATH: certs.clientKey,
        TEMPORAL_TLS_SERVER_NAME: 'localhost',
      },
    });
    const { key } = await easel.newAccount('pro');
    const submitted = await easel.call<{ id: string }>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: 'over TLS' },
    });
    expect(submitted.status).toBe(202);
    const done = await easel.call<{ status: string }>('GET', `/v1/jobs/${submitted.body.id}?wait=30`, {
      token: key,
    });
    expect(done.body.status).toBe('succeeded');
    // Every call came with the client certificate and the key: the client's and the worker's.
    expect(front.seen.calls).toBeGreaterThan(10);
    expect(front.seen.refusedKeys).toBe(0);
    expect([...front.seen.clients]).toEqual(['easel-worker']);
  });

  it('refuses to start without the client certificate the cluster requires, saying so', async () => {
    await expect(
      startTestEasel({
        temporalAddress: front.address,
        env: {
          TEMPORAL_API_KEY: apiKey,
          TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca,
          TEMPORAL_TLS_SERVER_NAME: 'localhost',
        },
      }),
    ).rejects.toThrow(/tls|certificate|handshake|connect/i);
  });

  it('refuses a client certificate without its key at start-up, naming the variable', async () => {
    await expect(
      startTestEasel({
        temporalAddress: front.address,
        env: { TEMPORAL_TLS_CLIENT_CERT_PATH: certs.clientCert },
      }),
    ).rejects.toThrow(/TEMPORAL_TLS_CLIENT_KEY_PATH: mTLS needs both/);
  });
});

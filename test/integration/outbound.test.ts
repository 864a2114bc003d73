import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BflFake } from '../fakes/bfl-fake';
import { startTestEasel, type TestEasel } from '../support/easel';
import { bflDeployment, waitFor, writeConfig } from '../support/config';
import type { JobView } from '../../core/jobs/view';

const BFL_KEY = 'bfl-outbound-key';
process.env.TEST_BFL_KEY = BFL_KEY;

describe('downloads under the outbound policy', () => {
  const fake = new BflFake({ apiKey: BFL_KEY });
  let easel: TestEasel;

  beforeAll(async () => {
    await fake.start();
    easel = await startTestEasel({
      env: {
        // Smaller than any image the fake renders: every download is past the cap.
        EASEL_MAX_IMAGE_BYTES: '1024',
        EASEL_CONFIG: writeConfig({
          providers: {
            deployments: [bflDeployment('bfl-lan', fake, { timeout_ms: 10_000 })],
          },
        }),
      },
    });
  });
  afterAll(async () => {
    await easel?.stop();
    await fake.close();
  });

  it('fails the job when the result image is larger than the cap, releasing its credits', async () => {
    const { key } = await easel.newAccount('pro');
    const { job, before, after } = await runToTheEnd(easel, key, 'a result too large to copy');
    expect(job.status).toBe('failed');
    expect(job.credits_charged).toBe(0);
    expect(job.attempts[0]).toMatchObject({ provider: 'bfl-lan', outcome: 'error' });
    expect(job.attempts[0]?.error).toMatch(/image download refused: the download is larger than 1024 bytes/);
    expect(fake.requestCount('GET', '/delivery/')).toBeGreaterThan(0);
    expect(after).toEqual({ ...before, held: 0 });
  });
});

interface Balance {
  available: number;
  held: number;
}

/** Submits one job and waits for its end; the account's balance before and after. */
async function runToTheEnd(
  easel: TestEasel,
  key: string,
  prompt: string,
): Promise<{ job: JobView; before: Balance; after: Balance }> {
  const balance = async (): Promise<Balance> =>
    (await easel.call<{ balance: Balance }>('GET', '/v1/account', { token: key })).body.balance;
  const before = await balance();
  const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
    token: key,
    body: { model: 'flux-2-dev', prompt },
  });
  expect(submitted.status).toBe(202);
  const job = await waitFor(
    () =>
      easel.call<JobView>('GET', `/v1/jobs/${submitted.body.id}?wait=10`, { token: key }).then((r) => r.body),
    (j) => j.status === 'succeeded' || j.status === 'failed' || j.status === 'canceled',
    60_000,
    0,
  );
  return { job, before, after: await balance() };
}

/** A server on a loopback address that records its connections and requests' headers. */
async function listen(
  host: string,
  handler: (req: IncomingMessage, res: ServerResponse, body: string) => void,
): Promise<{
  url: string;
  connections: () => number;
  headers: IncomingMessage['headers'][];
  close: () => Promise<void>;
}> {
  let connections = 0;
  const headers: IncomingMessage['headers'][] = [];
  const server: Server = createServer((req, res) => {
    headers.push(req.headers);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => handler(req, res, body));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    url: `http://${host}:${(server.address() as AddressInfo).port}`,
    connections: () => connections,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('an upstream that redirects (standing in for the internet: 127.0.0.2 and 127.0.0.3)', () => {
  const internalServer = listen('127.0.0.1', (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end('internal');
  });
  // Another origin speaking BFL's API: without its key it answers 403, as BFL does.
  const otherOrigin = listen('127.0.0.3', (req, res) => {
    res.writeHead(req.headers['x-key'] === BFL_KEY ? 200 : 403, { 'content-type': 'application/json' });
    res.end(JSON.stringify(req.headers['x-key'] ? { status: 'Pending' } : { detail: 'Not authenticated' }));
  });
  let upstreamUrl = '';
  const prompts = new Map<string, string>();
  const upstream = Promise.all([internalServer, otherOrigin]).then(([internal, other]) =>
    listen('127.0.0.2', (req, res, body) => {
      const url = new URL(req.url ?? '/', upstreamUrl);
      const json = (status: number, value: unknown, extra: Record<string, string> = {}): void => {
        res.writeHead(status, { 'content-type': 'application/json', ...extra });
        res.end(JSON.stringify(value));
      };
      if (req.headers['x-key'] !== BFL_KEY && !url.pathname.startsWith('/delivery/'))
        return json(403, { detail: 'Not authenticated' });
      if (req.method === 'POST') {
        const id = `task-${prompts.size + 1}`;
        prompts.set(id, (JSON.parse(body) as { prompt: string }).prompt);
        return json(200, { id, polling_url: `${upstreamUrl}/v1/get_result?id=${id}` });
      }
      if (url.pathname === '/v1/get_result') {
        const id = url.searchParams.get('id') ?? '';
        if (prompts.get(id) === 'redirect to another origin')
          return json(307, {}, { location: `${other.url}/v1/get_result?id=${id}` });
        return json(200, { id, status: 'Ready', result: { sample: `${upstreamUrl}/delivery/${id}.png` } });
      }
      res.writeHead(302, { location: `${internal.url}/latest/meta-data` });
      res.end();
    }),
  );
  let easel: TestEasel;
  let key: string;

  beforeAll(async () => {
    const server = await upstream;
    upstreamUrl = server.url;
    easel = await startTestEasel({
      env: {
        EASEL_OUTBOUND_TEST_PUBLIC_ADDRESSES: '127.0.0.2,127.0.0.3',
        EASEL_CONFIG: writeConfig({
          providers: {
            deployments: [
              // A public upstream, as far as the policy knows: private addresses stay refused.
              bflDeployment('bfl-public', server, { allow_private_network: false, timeout_ms: 10_000 }),
            ],
          },
        }),
      },
    });
    key = (await easel.newAccount('pro')).key;
  });
  afterAll(async () => {
    await easel?.stop();
    await Promise.all([upstream, internalServer, otherOrigin].map(async (s) => (await s).close()));
  });

  const runAndCheckRelease = async (prompt: string): Promise<{ job: JobView; released: boolean }> => {
    const { job, before, after } = await runToTheEnd(easel, key, prompt);
    return { job, released: after.available === before.available && after.held === 0 };
  };

  it('fails the job when the result image redirects to a private address, never connecting to it', async () => {
    const { job, released } = await runAndCheckRelease('redirect to a private address');
    expect(job.status).toBe('failed');
    expect(job.attempts[0]?.error).toMatch(/image download refused: 127\.0\.0\.1 is not a public address/);
    expect(released).toBe(true);
    expect((await internalServer).connections()).toBe(0);
  });

  it('never carries the provider key to the origin a poll is redirected to; the job fails cleanly', async () => {
    const { job, released } = await runAndCheckRelease('redirect to another origin');
    expect(job.status).toBe('failed');
    expect(job.attempts[0]?.error).toMatch(/HTTP 403/);
    expect(released).toBe(true);
    const other = await otherOrigin;
    expect(other.headers.length).toBeGreaterThan(0);
    expect(other.headers.every((h) => h['x-key'] === undefined && h.authorization === undefined)).toBe(true);
  });
});

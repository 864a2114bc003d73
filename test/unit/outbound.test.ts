import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createWebhookActivities } from '../../activities/webhooks';
import type { AccountService } from '../../core/accounts/accounts';
import type { JobRecord, JobStore, WebhookAttempt } from '../../core/jobs/store';
import { checkWebhookTarget, WebhookTargetRefused } from '../../core/webhooks/targets';
import type { ImageStore } from '../../platform/image-store';
import {
  checkOutboundUrl,
  createOutboundPolicy,
  nonPublicRange,
  OutboundRefused,
  type OutboundPolicy,
  type Resolver,
} from '../../platform/outbound';
import { createBflProvider } from '../../providers/bfl';
import { ProviderError } from '../../providers/types';
import { materialiseImages } from '../../routing/materialise';

/** A local HTTP server that records every connection and request it gets. */
interface TestServer {
  server: Server;
  port: number;
  url: string;
  connections: number;
  requests: Array<{ method: string; path: string; headers: IncomingMessage['headers'] }>;
}

const servers: TestServer[] = [];
const policies: OutboundPolicy[] = [];

async function listen(
  host: string,
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(200, { 'content-type': 'image/png' });
    res.end('png');
  },
  port = 0,
): Promise<TestServer> {
  const server = createServer();
  const record: TestServer = { server, port: 0, url: '', connections: 0, requests: [] };
  server.on('connection', () => record.connections++);
  server.on('request', (req, res) => {
    record.requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  record.port = (server.address() as AddressInfo).port;
  record.url = `http://${host}:${record.port}`;
  servers.push(record);
  return record;
}

function policy(options: Parameters<typeof createOutboundPolicy>[0] = {}): OutboundPolicy {
  const created = createOutboundPolicy(options);
  policies.push(created);
  return created;
}

afterEach(async () => {
  await Promise.all(policies.splice(0).map((p) => p.close()));
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.server.closeAllConnections();
          s.server.close(() => resolve());
        }),
    ),
  );
});

/** Names the injected resolver answers, standing in for DNS records pointing inside. */
const RECORDS: Record<string, string[]> = {
  localhost: ['127.0.0.1', '::1'],
  'internal.test': ['10.1.2.3'],
  'metadata.test': ['169.254.169.254'],
  'aws6.test': ['fd00:ec2::254'],
  'mapped.test': ['::ffff:127.0.0.1'],
  'nat64.test': ['64:ff9b::a00:1'],
  'cgnat.test': ['100.64.1.1'],
  'mixed.test': ['93.184.215.14', '127.0.0.1'],
};
const resolver: Resolver = async (hostname) => {
  const answers = RECORDS[hostname];
  if (!answers) throw new Error(`ENOTFOUND ${hostname}`);
  return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

/** Hosts as a tenant would write them in a URL; every one reaches a non-public address. */
const REFUSED_HOSTS: Array<[string, string]> = [
  ['127.0.0.1', 'loopback'],
  ['127.1', 'loopback, short form'],
  ['2130706433', 'loopback, decimal'],
  ['0x7f000001', 'loopback, hex'],
  ['0x7f.0.0.1', 'loopback, hex octet'],
  ['0177.0.0.1', 'loopback, octal octet'],
  ['017700000001', 'loopback, octal'],
  ['127.255.255.254', 'loopback, end of 127/8'],
  ['0.0.0.0', 'unspecified'],
  ['0', 'unspecified, decimal'],
  ['0.1.2.3', '0.0.0.0/8'],
  ['10.0.0.1', 'RFC 1918 10/8'],
  ['172.16.5.4', 'RFC 1918 172.16/12'],
  ['192.168.1.1', 'RFC 1918 192.168/16'],
  ['0xc0.0xa8.1.1', 'RFC 1918, hex'],
  ['169.254.169.254', 'cloud metadata'],
  ['2852039166', 'cloud metadata, decimal'],
  ['0251.0376.0251.0376', 'cloud metadata, octal'],
  ['100.64.0.1', 'CGNAT'],
  ['100.100.100.200', 'CGNAT (Alibaba metadata)'],
  ['224.0.0.1', 'multicast'],
  ['255.255.255.255', 'broadcast'],
  ['240.0.0.1', 'reserved 240/4'],
  ['198.18.0.1', 'benchmarking'],
  ['192.0.0.170', 'IETF protocol assignments'],
  ['[::1]', 'IPv6 loopback'],
  ['[::]', 'IPv6 unspecified'],
  ['[::ffff:127.0.0.1]', 'IPv4-mapped loopback'],
  ['[::ffff:7f00:1]', 'IPv4-mapped loopback, hex'],
  ['[::ffff:169.254.169.254]', 'IPv4-mapped metadata'],
  ['[::ffff:10.0.0.1]', 'IPv4-mapped private'],
  ['[::127.0.0.1]', 'IPv4-compatible loopback'],
  ['[::808:808]', 'IPv4-compatible, even of a public address'],
  ['[::ffff:0:7f00:1]', 'SIIT (RFC 6145)'],
  ['[64:ff9b::127.0.0.1]', 'NAT64 of loopback'],
  ['[64:ff9b::a9fe:a9fe]', 'NAT64 of metadata'],
  ['[64:ff9b:1::7f00:1]', 'local-use NAT64 of loopback (/96 layout)'],
  ['[64:ff9b:1:7f00:0:100:808:808]', 'local-use NAT64 of loopback (/48 layout)'],
  ['[2002:7f00:1::]', '6to4 of loopback'],
  ['[2002:a9fe:a9fe::1]', '6to4 of metadata'],
  ['[fec0::1]', 'site-local'],
  ['[fe80::1]', 'link-local'],
  ['[fc00::1]', 'unique-local'],
  ['[fd00:ec2::254]', 'AWS metadata (IPv6)'],
  ['[ff02::1]', 'multicast'],
  ['[2001::1]', 'Teredo'],
  ['[2001:db8::1]', 'documentation'],
  ['localhost', 'name: loopback'],
  ['internal.test', 'name: private'],
  ['metadata.test', 'name: metadata'],
  ['aws6.test', 'name: AWS IPv6 metadata'],
  ['mapped.test', 'name: IPv4-mapped loopback'],
  ['nat64.test', 'name: NAT64 of private'],
  ['cgnat.test', 'name: CGNAT'],
  ['mixed.test', 'name: one public and one loopback answer'],
];

describe('the outbound policy', () => {
  it(`covers at least 40 address forms (${REFUSED_HOSTS.length})`, () => {
    expect(REFUSED_HOSTS.length).toBeGreaterThanOrEqual(40);
  });

  it('judges addresses by ipaddr.js ranges, and embedded IPv4 by the address it embeds', () => {
    for (const address of [
      '8.8.8.8',
      '93.184.215.14',
      '2606:4700:4700::1111',
      '::ffff:8.8.8.8',
      '64:ff9b::808:808',
      '2002:808:808::1',
    ]) {
      expect([address, nonPublicRange(address)]).toEqual([address, undefined]);
    }
    expect(nonPublicRange('169.254.169.254')).toBe('linkLocal');
    expect(nonPublicRange('::ffff:a9fe:a9fe')).toBe('IPv4-mapped linkLocal');
    expect(nonPublicRange('64:ff9b::7f00:1')).toBe('NAT64 loopback');
    expect(nonPublicRange('2002:a00:1::')).toBe('6to4 private');
    expect(nonPublicRange('fec0::1')).toBe('deprecatedSiteLocal');
  });

  it('refuses every form for webhooks (at submit and at delivery) and for downloads, connecting to nothing', async () => {
    const trap = await listen('127.0.0.1');
    const outbound = policy({ resolve: resolver });
    const delivery = webhookDelivery(outbound);
    for (const [host, form] of REFUSED_HOSTS) {
      const url = `http://${host}:${trap.port}/hook`;
      const submit = await checkWebhookTarget(url, false, resolver).then(
        () => 'accepted',
        (err: unknown) => (err instanceof WebhookTargetRefused ? 'refused' : String(err)),
      );
      const delivered = await delivery.deliver(url);
      const download = await materialiseImages([{ kind: 'url', url }], {
        store: nullStore,
        outbound,
        maxBytes: 1024,
        aspectRatio: '1:1',
        signal: new AbortController().signal,
      }).then(
        () => 'downloaded',
        (err: unknown) =>
          err instanceof ProviderError && err.details.upstreamCode === 'download_refused'
            ? 'refused'
            : String(err),
      );
      expect({ form, submit, delivered, download }).toEqual({
        form,
        submit: 'refused',
        delivered: expect.objectContaining({
          outcome: 'refused',
          state: 'failed',
          status: null,
          error: expect.stringMatching(/^refused: /),
        }),
        download: 'refused',
      });
    }
    expect(trap.connections).toBe(0);
  });

  it('connects when the address is public (here: a loopback address the test treats as public)', async () => {
    const server = await listen('127.0.0.2');
    const outbound = policy({ treatAsPublic: (a) => a === '127.0.0.2' });
    const res = await outbound.fetch(`${server.url}/ok`);
    expect(res.status).toBe(200);
    await res.text();
    expect(server.requests.map((r) => r.path)).toEqual(['/ok']);
  });

  it('never connects to the private answer of a name that answered public to the check (DNS rebinding)', async () => {
    const publicServer = await listen('127.0.0.2');
    const privateServer = await listen('127.0.0.1', undefined, publicServer.port);
    let lookups = 0;
    const rebinding: Resolver = async () => {
      lookups += 1;
      return [{ address: lookups === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
    };
    const options = { resolve: rebinding, treatAsPublic: (a: string) => a === '127.0.0.2' };
    const url = `http://rebind.test:${publicServer.port}/hook`;

    await expect(checkOutboundUrl(url, options)).resolves.toBeUndefined();
    await expect(policy(options).fetch(url, { method: 'POST', body: '{}' })).rejects.toThrow(
      /^refused: rebind\.test resolves to a non-public address \(loopback\)$/,
    );
    expect(lookups).toBe(2);
    expect(privateServer.connections).toBe(0);
    expect(publicServer.connections).toBe(0);
  });

  it('connects to exactly the address it resolved and checked', async () => {
    const publicServer = await listen('127.0.0.2');
    const privateServer = await listen('127.0.0.1', undefined, publicServer.port);
    let lookups = 0;
    const rebinding: Resolver = async () => {
      lookups += 1;
      return [{ address: lookups === 1 ? '127.0.0.2' : '127.0.0.1', family: 4 }];
    };
    const outbound = policy({ resolve: rebinding, treatAsPublic: (a) => a === '127.0.0.2' });
    const res = await outbound.fetch(`http://rebind.test:${publicServer.port}/x`);
    expect(res.status).toBe(200);
    await res.text();
    expect(lookups).toBe(1);
    expect(publicServer.requests).toHaveLength(1);
    expect(publicServer.requests[0]?.headers.host).toBe(`rebind.test:${publicServer.port}`);
    expect(privateServer.connections).toBe(0);
  });

  it('refuses a redirect to a private address without connecting to it', async () => {
    const internal = await listen('127.0.0.1');
    const upstream = await listen('127.0.0.2', (_req, res) => {
      res.writeHead(302, { location: `${internal.url}/latest/meta-data` });
      res.end();
    });
    const outbound = policy({ treatAsPublic: (a) => a === '127.0.0.2' });
    await expect(outbound.fetch(`${upstream.url}/result.png`)).rejects.toThrow(
      /^refused: 127\.0\.0\.1 is not a public address \(loopback\)$/,
    );
    expect(upstream.requests).toHaveLength(1);
    expect(internal.connections).toBe(0);
  });

  it('follows a redirect to another origin without the caller’s credentials', async () => {
    const other = await listen('127.0.0.3');
    const first = await listen('127.0.0.2', (_req, res) => {
      res.writeHead(307, { location: `${other.url}/elsewhere` });
      res.end();
    });
    const outbound = policy({ treatAsPublic: (a) => a === '127.0.0.2' || a === '127.0.0.3' });
    const res = await outbound.fetch(`${first.url}/start`, {
      headers: { 'x-key': 'bfl-secret', authorization: 'Bearer secret', accept: 'application/json' },
    });
    expect(res.status).toBe(200);
    await res.text();
    expect(first.requests[0]?.headers).toMatchObject({
      'x-key': 'bfl-secret',
      authorization: 'Bearer secret',
    });
    const received = other.requests[0]?.headers ?? {};
    expect(other.requests.map((r) => r.path)).toEqual(['/elsewhere']);
    expect(received['x-key']).toBeUndefined();
    expect(received.authorization).toBeUndefined();
    expect(received.accept).toBe('application/json');
  });

  it('keeps headers on a redirect within the origin, and stops after a few redirects', async () => {
    let hops = 0;
    const looping = await listen('127.0.0.2', (_req, res) => {
      hops += 1;
      res.writeHead(302, { location: `/hop${hops}` });
      res.end();
    });
    const outbound = policy({ treatAsPublic: (a) => a === '127.0.0.2', maxRedirects: 3 });
    await expect(outbound.fetch(`${looping.url}/start`, { headers: { 'x-key': 'k' } })).rejects.toThrow(
      /^refused: more than 3 redirects$/,
    );
    expect(looping.requests).toHaveLength(4);
    expect(looping.requests.every((r) => r.headers['x-key'] === 'k')).toBe(true);
  });

  it('aborts a download past the cap as it streams, and refuses one that declares too much', async () => {
    let streamed = 0;
    let aborted = false;
    const endless = await listen('127.0.0.2', (req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      const chunk = Buffer.alloc(64 * 1024);
      const pump = (): void => {
        while (!res.destroyed && streamed < 64 * 1024 * 1024) {
          streamed += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      res.on('close', () => (aborted = !res.writableFinished));
      if (req.url === '/declared') {
        res.removeHeader('transfer-encoding');
        res.end();
        return;
      }
      pump();
    });
    const outbound = policy({ treatAsPublic: (a) => a === '127.0.0.2' });
    await expect(outbound.downloadImage(`${endless.url}/endless`, { maxBytes: 1024 * 1024 })).rejects.toThrow(
      /^refused: the download is larger than 1048576 bytes$/,
    );
    await new Promise((r) => setTimeout(r, 50));
    expect(aborted).toBe(true);
    expect(streamed).toBeLessThan(16 * 1024 * 1024);

    const declared = await listen('127.0.0.2', (_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': String(10 * 1024 * 1024) });
      res.flushHeaders();
    });
    await expect(outbound.downloadImage(`${declared.url}/big.png`, { maxBytes: 1024 })).rejects.toThrow(
      /larger than 1024 bytes/,
    );
  });

  it('refuses a download that is not an image, and reports an HTTP failure by its status', async () => {
    const server = await listen('127.0.0.2', (req, res) => {
      if (req.url === '/missing') {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('no');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html>');
    });
    const outbound = policy({ treatAsPublic: (a) => a === '127.0.0.2' });
    await expect(outbound.downloadImage(`${server.url}/page`, { maxBytes: 1024 })).rejects.toThrow(
      /^refused: the download is not an image \(content type "text\/html"\)$/,
    );
    await expect(outbound.downloadImage(`${server.url}/missing`, { maxBytes: 1024 })).rejects.toThrow(
      'download failed with HTTP 404',
    );
  });

  it('turns each refused download into a failed attempt the router can fall back from', async () => {
    const internal = await listen('127.0.0.1');
    const upstream = await listen('127.0.0.2', (req, res) => {
      if (req.url === '/redirect') {
        res.writeHead(302, { location: `${internal.url}/x.png` });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(Buffer.alloc(4096));
    });
    const outbound = policy({ treatAsPublic: (a) => a === '127.0.0.2' });
    for (const [path, message] of [
      ['/big.png', /^image download refused: the download is larger than 1024 bytes$/],
      ['/redirect', /^image download refused: 127\.0\.0\.1 is not a public address \(loopback\)$/],
    ] as const) {
      const failure = await materialiseImages([{ kind: 'url', url: `${upstream.url}${path}` }], {
        store: nullStore,
        outbound,
        maxBytes: 1024,
        aspectRatio: '1:1',
        signal: new AbortController().signal,
      }).catch((err: unknown) => err);
      expect(failure).toBeInstanceOf(ProviderError);
      expect(failure).toMatchObject({ outcome: 'error', details: { upstreamCode: 'download_refused' } });
      expect((failure as Error).message).toMatch(message);
    }
    expect(internal.connections).toBe(0);
  });

  it('does not follow a webhook receiver’s redirect', async () => {
    const internal = await listen('127.0.0.1');
    const receiver = await listen('127.0.0.2', (_req, res) => {
      res.writeHead(307, { location: `${internal.url}/admin` });
      res.end();
    });
    const outbound = policy({ treatAsPublic: (a) => a === '127.0.0.2' });
    const result = await webhookDelivery(outbound).deliver(`${receiver.url}/hook`);
    expect(result).toMatchObject({ outcome: 'failed', status: 307, state: 'pending' });
    expect(internal.connections).toBe(0);
  });

  it('lets a deployment private on purpose reach loopback, still under the other rules', async () => {
    const lan = await listen('127.0.0.1');
    const outbound = policy({ allowPrivate: true });
    const { bytes, contentType } = await outbound.downloadImage(`${lan.url}/a.png`, { maxBytes: 1024 });
    expect([Buffer.from(bytes).toString(), contentType]).toEqual(['png', 'image/png']);
    await expect(outbound.fetch('file:///etc/passwd')).rejects.toThrow(OutboundRefused);
    await expect(outbound.fetch(`http://user:pw@127.0.0.1:${lan.port}/`)).rejects.toThrow(
      /credentials in the URL/,
    );
  });
});

describe('BFL under the outbound policy', () => {
  it('never sends its x-key to the origin a submission is redirected to', async () => {
    const other = await listen('127.0.0.3', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'task-1', polling_url: 'http://127.0.0.3/v1/get_result?id=task-1' }));
    });
    const api = await listen('127.0.0.2', (_req, res) => {
      res.writeHead(307, { location: `${other.url}/v1/flux-dev` });
      res.end();
    });
    const outbound = policy({ treatAsPublic: (a) => a === '127.0.0.2' || a === '127.0.0.3' });
    const bfl = createBflProvider({
      deploymentId: 'bfl',
      baseUrl: api.url,
      apiKey: 'bfl-secret-key',
      options: {},
      fetch: outbound.fetch,
    });
    await bfl.submit(
      { upstreamModel: 'flux-dev', model: 'flux-2-dev', prompt: 'p', n: 1, aspectRatio: '1:1' },
      { signal: new AbortController().signal },
    );
    expect(api.requests[0]?.headers['x-key']).toBe('bfl-secret-key');
    expect(other.requests).toHaveLength(1);
    expect(other.requests[0]?.headers['x-key']).toBeUndefined();
  });

  it('fails the poll of a polling_url that points inside, without connecting', async () => {
    const internal = await listen('127.0.0.1');
    const api = await listen('127.0.0.2', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'task-1', polling_url: `${internal.url}/v1/get_result?id=task-1` }));
    });
    const outbound = policy({ treatAsPublic: (a) => a === '127.0.0.2' });
    const bfl = createBflProvider({
      deploymentId: 'bfl',
      baseUrl: api.url,
      apiKey: 'bfl-secret-key',
      options: {},
      fetch: outbound.fetch,
    });
    const context = { signal: new AbortController().signal };
    const submitted = await bfl.submit(
      { upstreamModel: 'flux-dev', model: 'flux-2-dev', prompt: 'p', n: 1, aspectRatio: '1:1' },
      context,
    );
    if (submitted.status !== 'pending') throw new Error('expected an asynchronous submission');
    await expect(bfl.poll(submitted.upstreamJobId, context)).rejects.toThrow(
      /network error \(refused: 127\.0\.0\.1 is not a public address \(loopback\)\)/,
    );
    expect(internal.connections).toBe(0);
  });
});

const nullStore: Pick<ImageStore, 'put'> = { put: async () => 'key' };

/** The webhook activity over stub stores: one delivery of a succeeded job to `url`. */
function webhookDelivery(outbound: OutboundPolicy): {
  deliver(url: string): Promise<WebhookAttempt & { state: string }>;
} {
  return {
    async deliver(url) {
      const recorded: Array<WebhookAttempt & { state: string }> = [];
      const job = {
        _id: 'job_1',
        status: 'succeeded',
        model: 'flux-2-dev',
        request: { requested_model: 'flux-2-dev', prompt: 'p', n: 1, aspect_ratio: '1:1', webhook_url: url },
        credits_reserved: 1,
        credits_charged: 1,
        images: [],
        attempts: [],
        created_at: new Date(),
      } as unknown as JobRecord;
      const jobs = {
        get: async () => job,
        addWebhookAttempt: async (_id: string, attempt: WebhookAttempt, state: string) => {
          recorded.push({ ...attempt, state });
        },
      } as unknown as JobStore;
      const accounts = {
        get: async () => ({}),
        activeWebhookSecrets: () => [{ secret: `whsec_${Buffer.from('k'.repeat(32)).toString('base64')}` }],
      } as unknown as AccountService;
      const activities = createWebhookActivities({
        accounts,
        jobs,
        imageLinks: { url: (key: string) => `http://easel.test/images/${key}` },
        allowPrivateTargets: false,
        outbound,
        timeoutMs: 2_000,
      });
      const failure: unknown = await activities
        .deliverWebhook({ jobId: 'job_1', accountId: 'acc_1' })
        .catch((e: unknown) => e);
      if (recorded.length !== 1) throw failure instanceof Error ? failure : new Error('no attempt recorded');
      return recorded[0]!;
    },
  };
}

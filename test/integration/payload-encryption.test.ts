import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import type { JobView } from '../../core/jobs/view';
import { BIN_DIR } from '../../infra/devstack/devstack';
import { ENCRYPTED_ENCODING } from '../../platform/payload-codec';
import { sandboxProviders, waitFor, writeConfig } from '../support/config';
import { ADMIN_TOKEN, requireDevStack, startTestEasel, type TestEasel } from '../support/easel';
import { encryptingDataConverter } from '../../platform/temporal';
import { testPayloadCodec } from '../support/secrets';
import { WebhookReceiver } from '../support/webhook-receiver';

type History = temporal.api.history.v1.IHistory;
interface JsonPayload {
  metadata: Record<string, string>;
  data: string;
}

describe('Temporal payload encryption', () => {
  let easel: TestEasel;
  let receiver: WebhookReceiver;
  let connection: Connection;
  /** A client without the codec: what anyone reading Temporal's store sees. */
  let raw: Client;
  const marker = randomBytes(6).toString('hex');
  const prompt = `a secret lighthouse ${marker}`;
  const metadata = { customer_ref: `acme-${marker}`, order: `po-${marker}` };
  let jobId = '';
  let histories: Record<'job' | 'delivery' | 'failed', History>;

  beforeAll(async () => {
    easel = await startTestEasel({
      env: { EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 100 }) }) },
    });
    receiver = new WebhookReceiver();
    await receiver.start();
    connection = await Connection.connect({ address: requireDevStack().temporalAddress });
    raw = new Client({ connection });

    const { key } = await easel.newAccount('pro');
    const submitted = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt, metadata, webhook_url: receiver.url },
    });
    expect(submitted.status).toBe(202);
    jobId = submitted.body.id;
    const done = await waitFor(
      async () => (await easel.call<JobView>('GET', `/v1/jobs/${jobId}?wait=5`, { token: key })).body,
      (j) => j.status === 'succeeded' && j.webhook?.state === 'delivered',
      30_000,
    );
    expect(done).toMatchObject({ status: 'succeeded', prompt, metadata });
    expect(receiver.deliveries[0]!.body).toContain(prompt);
    const finished = async (id: string): Promise<History> => {
      await waitFor(
        () => raw.workflow.getHandle(id).describe(),
        (d) => d.status.name !== 'RUNNING',
        20_000,
      );
      return raw.workflow.getHandle(id).fetchHistory();
    };
    const failing = await easel.call<JobView>('POST', '/v1/imagine', {
      token: key,
      body: { model: 'flux-2-dev', prompt: `${prompt} [fail]`, metadata },
    });
    const failed = (await easel.call<JobView>('GET', `/v1/jobs/${failing.body.id}?wait=20`, { token: key }))
      .body;
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'all_providers_failed' } });
    histories = {
      job: await finished(jobId),
      delivery: await finished(`webhook-${jobId}`),
      failed: await finished(failing.body.id),
    };
  });
  afterAll(async () => {
    await connection?.close();
    await receiver?.close();
    await easel?.stop();
  });

  const bytesOf = (history: History): Buffer =>
    Buffer.from(temporal.api.history.v1.History.encode(history).finish());
  /** Where a payload whose encoding is not the codec's sits in a history. */
  const unencryptedPayloads = (history: History): string[] => {
    const found: string[] = [];
    const walk = (value: unknown, at: string): void => {
      if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
      if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${at}[${i}]`));
      const fields = value as Record<string, unknown>;
      const encoding = (fields.metadata as Record<string, unknown> | undefined)?.encoding;
      if (encoding instanceof Uint8Array && Buffer.from(encoding).toString() !== ENCRYPTED_ENCODING)
        found.push(at);
      for (const [key, v] of Object.entries(fields)) walk(v, `${at}.${key}`);
    };
    walk(history.events, 'events');
    return found;
  };
  const startInput = (history: History): temporal.api.common.v1.IPayload =>
    history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!;
  const toJson = (p: temporal.api.common.v1.IPayload): JsonPayload => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  });

  it('stores neither the prompt nor the metadata in plain text in the job, delivery and failed-job histories', () => {
    const indexed = {
      job: ['EaselAccountId', 'EaselModel', 'EaselJobStatus', 'EaselProvider'],
      failed: ['EaselAccountId', 'EaselModel', 'EaselJobStatus'],
      delivery: [],
    };
    for (const [name, history] of Object.entries(histories) as Array<[keyof typeof indexed, History]>) {
      const bytes = bytesOf(history);
      expect(bytes.length).toBeGreaterThan(1_000);
      for (const secret of [marker, prompt, metadata.customer_ref, metadata.order]) {
        expect(bytes.includes(secret)).toBe(false);
      }
      expect(Buffer.from(startInput(history).metadata!.encoding!).toString()).toBe(ENCRYPTED_ENCODING);
      // Only the SDK's own bookkeeping of local activities (sequence, type, times) and the search
      // attributes (which Temporal indexes, so they cannot be sealed: ids, model, status and
      // provider, never the prompt) are written outside the codec; every other payload is encrypted.
      const plain = unencryptedPayloads(history).filter(
        (p) => !/\.markerRecordedEventAttributes\.details\.data\./.test(p),
      );
      const searchAttributes = plain.filter((p) => /\.searchAttributes\.indexedFields\./.test(p));
      expect(plain.filter((p) => !searchAttributes.includes(p))).toEqual([]);
      expect(new Set(searchAttributes.map((p) => p.split('.').pop()))).toEqual(new Set(indexed[name]));
    }
    // Failure messages are encoded too: the upstream's error text is not in the failed job's history.
    expect(bytesOf(histories.failed).includes('Every provider failed')).toBe(false);
    expect(bytesOf(histories.failed).includes('Encoded failure')).toBe(true);
  });

  it('replays the encrypted history with the codec', async () => {
    await expect(
      Worker.runReplayHistory(
        {
          workflowsPath: require.resolve('../../workflows'),
          replayName: 'encrypted',
          dataConverter: encryptingDataConverter(testPayloadCodec()),
        },
        histories.job,
      ),
    ).resolves.toBeUndefined();
  });

  describe('the codec endpoint', () => {
    const codecCall = (path: string, body: unknown, token?: string): Promise<Response> =>
      fetch(`${easel.baseUrl}/codec${path}`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-namespace': 'default',
          ...(token && { authorization: `Bearer ${token}` }),
        },
        body: JSON.stringify(body),
      });

    it('decodes a payload from the stored history back to the job input, prompt and metadata', async () => {
      const res = await codecCall('/decode', { payloads: [toJson(startInput(histories.job))] }, ADMIN_TOKEN);
      expect(res.status).toBe(200);
      const { payloads } = (await res.json()) as { payloads: JsonPayload[] };
      expect(payloads).toHaveLength(1);
      expect(Buffer.from(payloads[0]!.metadata.encoding!, 'base64').toString()).toBe('json/plain');
      const input = JSON.parse(Buffer.from(payloads[0]!.data, 'base64').toString()) as {
        jobId: string;
        request: { prompt: string; metadata: Record<string, string> };
      };
      expect(input).toMatchObject({ jobId, request: { prompt, metadata } });
    });

    it('encodes what it decodes, under the namespace path the CLI templates too', async () => {
      const plain = { metadata: { encoding: Buffer.from('json/plain').toString('base64') }, data: '' };
      plain.data = Buffer.from(JSON.stringify({ prompt })).toString('base64');
      const encoded = (await (
        await codecCall('/default/encode', { payloads: [plain] }, ADMIN_TOKEN)
      ).json()) as { payloads: JsonPayload[] };
      expect(Buffer.from(encoded.payloads[0]!.data, 'base64').includes(prompt)).toBe(false);
      const decoded = (await (await codecCall('/decode', encoded, ADMIN_TOKEN)).json()) as {
        payloads: JsonPayload[];
      };
      expect(decoded.payloads).toEqual([plain]);
    });

    it('refuses a call without the admin token (401), and a payload it cannot decrypt (400)', async () => {
      const payloads = [toJson(startInput(histories.job))];
      const anonymous = await codecCall('/decode', { payloads });
      expect(anonymous.status).toBe(401);
      expect(await anonymous.text()).not.toContain(marker);
      expect((await codecCall('/decode', { payloads }, 'not-the-admin-token-at-all')).status).toBe(401);

      const data = Buffer.from(payloads[0]!.data, 'base64');
      data[30] = data[30]! ^ 1;
      const tampered = await codecCall(
        '/decode',
        { payloads: [{ ...payloads[0], data: data.toString('base64') }] },
        ADMIN_TOKEN,
      );
      expect(tampered.status).toBe(400);
      expect(((await tampered.json()) as { error: { message: string } }).error.message).toMatch(
        /failed authentication/,
      );
      expect((await codecCall('/decode', { payloads: 'nope' }, ADMIN_TOKEN)).status).toBe(400);
    });

    it('serves the Temporal CLI, which shows the history decoded through it', async () => {
      const show = (...codec: string[]): Promise<{ stdout: string }> =>
        promisify(execFile)(path.join(BIN_DIR, 'temporal'), [
          'workflow',
          'show',
          '--address',
          requireDevStack().temporalAddress,
          '-w',
          jobId,
          '-o',
          'json',
          ...codec,
        ]);
      // Every payload's data, as the CLI printed it (base64 in its JSON output).
      const shownData = (stdout: string): string => {
        const data: string[] = [];
        JSON.parse(stdout, (key, value: unknown) => {
          if (key === 'data' && typeof value === 'string') data.push(Buffer.from(value, 'base64').toString());
          return value;
        });
        return data.join('\n');
      };
      const endpoint = ['--codec-endpoint', `${easel.baseUrl}/codec`];
      const decoded = await show(...endpoint, '--codec-auth', `Bearer ${ADMIN_TOKEN}`);
      expect(shownData(decoded.stdout)).toContain(prompt);
      expect(shownData(decoded.stdout)).toContain(metadata.customer_ref);
      const encrypted = await show();
      expect(shownData(encrypted.stdout)).not.toContain(marker);
      expect(encrypted.stdout).not.toContain(marker);
    });

    it("answers the Temporal UI's preflight for its origin only", async () => {
      const preflight = (origin: string): Promise<Response> =>
        fetch(`${easel.baseUrl}/codec/decode`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'authorization,content-type,x-namespace',
          },
        });
      const ui = await preflight('http://localhost:8233');
      expect(ui.status).toBe(204);
      expect(ui.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
      expect(ui.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
      const other = await preflight('https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
    });
  });
});

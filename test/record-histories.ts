/**
 * Records the Temporal histories that the replay test (test/unit/workflow-replay.test.ts) runs
 * against the current workflow code: a succeeded, a failed, a cancelled job, a job with a webhook
 * and its delivery workflow.
 *
 *   npx tsx test/record-histories.ts <label>
 *
 * writes `imagine-<case>-<label>.json` and `webhook-delivered-<label>.json` next to the earlier
 * recordings and never overwrites one: record a new set after each workflow change (the label
 * names the change), and keep the old sets, which stand for jobs still running older code.
 * Payloads are encrypted with the tests' key (`support/payload-keys.ts`), which the replay test
 * decodes with.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { format } from 'prettier';
import { BIN_DIR, startDevStack } from '../infra/devstack/devstack';
import { startEasel } from '../bin/runtime';
import { parseEnvironment } from '../platform/config';
import { createLogger } from '../platform/logger';
import { sandboxProviders, waitFor, writeConfig } from './support/config';
import { TEST_PAYLOAD_KEYS } from './support/secrets';
import { WebhookReceiver } from './support/webhook-receiver';

const HISTORIES_DIR = path.join(__dirname, 'histories');

function historyFile(name: string): string {
  const file = path.join(HISTORIES_DIR, `${name}.json`);
  if (fs.existsSync(file)) throw new Error(`${file} exists: recorded histories are never replaced`);
  return file;
}

async function main(): Promise<void> {
  const label = process.argv[2];
  if (!label || !/^[a-z0-9-]+$/.test(label)) {
    throw new Error('usage: npx tsx test/record-histories.ts <label> (lowercase letters, digits, dashes)');
  }
  const files: Record<string, string> & { delivery: string } = {
    ...Object.fromEntries(
      ['succeeded', 'failed', 'canceled', 'with-webhook'].map((c) => [
        c,
        historyFile(`imagine-${c}-${label}`),
      ]),
    ),
    delivery: historyFile(`webhook-delivered-${label}`),
  };
  const stack = await startDevStack({
    dataDir: fs.mkdtempSync(path.join(os.tmpdir(), 'easel-record-')),
    ephemeral: true,
    mongoPort: 0,
    temporalPort: 0,
    temporalUiPort: 0,
  });
  const env = parseEnvironment({
    NODE_ENV: 'test',
    PORT: '0',
    LOG_LEVEL: 'warn',
    EASEL_ADMIN_TOKEN: 'record-histories-admin',
    EASEL_PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
    EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 300 }) }),
    EASEL_WEBHOOK_ALLOW_PRIVATE: 'true',
  });
  const receiver = new WebhookReceiver();
  await receiver.start();
  const easel = await startEasel({
    env,
    role: 'all',
    logger: createLogger('warn'),
    mongoUri: `${stack.mongoUri}record`,
    temporalAddress: stack.temporalAddress!,
  });
  try {
    const account = await easel.accounts.create({ name: 'recorder', plan: 'pro' });
    const { key } = await easel.accounts.issueKey(account._id);
    const submit = async (prompt: string, extra: Record<string, unknown> = {}): Promise<string> => {
      const res = await fetch(`${easel.baseUrl}/v1/imagine`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'flux-2-dev', prompt, ...extra }),
      });
      return ((await res.json()) as { id: string }).id;
    };
    const cases: Record<string, string> = {
      succeeded: await submit('a quiet harbour'),
      failed: await submit('a broken upstream [fail]'),
      canceled: await submit('never finishes [timeout]'),
      'with-webhook': await submit('tell me when done', { webhook_url: receiver.url }),
    };
    await new Promise((r) => setTimeout(r, 1_000));
    await easel.temporal.workflow.getHandle(cases.canceled!).cancel();
    for (const [name, id] of Object.entries(cases)) {
      const handle = easel.temporal.workflow.getHandle(id);
      await waitFor(
        () => handle.describe(),
        (d) => d.status.name !== 'RUNNING',
        30_000,
      );
      // The CLI writes the canonical proto-JSON form that historyFromJSON reads back.
      const json = execFileSync(path.join(BIN_DIR, 'temporal'), [
        'workflow',
        'show',
        '--address',
        stack.temporalAddress!,
        '-w',
        id,
        '-o',
        'json',
      ]);
      const file = files[name]!;
      fs.writeFileSync(file, await format(json.toString(), { parser: 'json' }));
      console.log(`recorded ${name} job ${id} → ${path.relative(process.cwd(), file)}`);
    }
    await waitFor(
      async () => receiver.deliveries.length,
      (n) => n === 1,
      30_000,
    );
    const delivery = `webhook-${cases['with-webhook']!}`;
    await waitFor(
      () => easel.temporal.workflow.getHandle(delivery).describe(),
      (d) => d.status.name !== 'RUNNING',
      30_000,
    );
    const json = execFileSync(path.join(BIN_DIR, 'temporal'), [
      'workflow',
      'show',
      '--address',
      stack.temporalAddress!,
      '-w',
      delivery,
      '-o',
      'json',
    ]);
    fs.writeFileSync(files.delivery, await format(json.toString(), { parser: 'json' }));
    console.log(`recorded webhook delivery → ${path.relative(process.cwd(), files.delivery)}`);
  } finally {
    await receiver.close();
    await easel.stop();
    await stack.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

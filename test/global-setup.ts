import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevStack, type DevStack } from '../infra/devstack/devstack';

declare global {
  var __EASEL_DEV_STACK__: DevStack | undefined;
}

/** One real dev stack per test run: free ports, a throw-away data folder, removed at teardown. */
export default async function globalSetup(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'easel-test-'));
  const stack = await startDevStack({
    dataDir,
    ephemeral: true,
    log: (m) => process.stderr.write(`[dev stack] ${m}\n`),
  });
  globalThis.__EASEL_DEV_STACK__ = stack;
  // Jest workers are spawned after global setup and inherit these.
  process.env.TEST_MONGODB_URI = stack.mongoUri;
  process.env.TEST_TEMPORAL_ADDRESS = stack.temporalAddress;
}

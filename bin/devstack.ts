/**
 * Runs the embedded dev stack (FerretDB + Temporal dev server) in the foreground until Ctrl-C,
 * for working against it from other tools: `npm run devstack`. With `--build-only` it just builds
 * the binaries (CI does this before the tests, so the build is not timed as a test).
 */
import path from 'node:path';
import { parseEnvironment } from '../platform/config';
import { ensureDevStackBinaries, startDevStack } from '../infra/devstack/devstack';

async function main(): Promise<void> {
  if (process.argv.includes('--build-only')) {
    const built = await ensureDevStackBinaries((m) => console.log(m));
    console.log(`dev stack binaries ready: ${built.temporal}, ${built.ferretdb}`);
    return;
  }
  const env = parseEnvironment();
  const stack = await startDevStack({
    dataDir: path.join(path.resolve(env.EASEL_DATA_DIR), 'devstack'),
    mongoPort: env.DEVSTACK_MONGO_PORT,
    temporalPort: env.DEVSTACK_TEMPORAL_PORT,
    temporalUiPort: env.DEVSTACK_TEMPORAL_UI_PORT,
    log: (m) => console.log(m),
  });
  console.log(`MONGODB_URI=${stack.mongoUri ?? ''}easel`);
  console.log(`TEMPORAL_ADDRESS=${stack.temporalAddress ?? ''}`);
  console.log(`Temporal web UI: ${stack.temporalUiUrl ?? ''}`);
  const shutdown = (): void => {
    console.log('stopping dev stack…');
    void stack.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

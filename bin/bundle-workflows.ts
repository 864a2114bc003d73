import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { WORKFLOW_BUNDLE } from './workflow-bundle';

/**
 * `npm run build`'s last step: the workflow code bundled once, next to the compiled worker, so
 * that a production worker starts without bundling it (seconds of CPU on every start).
 */
async function main(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows') });
  fs.mkdirSync(path.dirname(WORKFLOW_BUNDLE), { recursive: true });
  fs.writeFileSync(WORKFLOW_BUNDLE, code);
  console.log(
    `workflow bundle: ${path.relative(process.cwd(), WORKFLOW_BUNDLE)} (${Math.round(code.length / 1024)} KiB)`,
  );
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});

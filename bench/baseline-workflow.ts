/**
 * The bare-Temporal baseline: Easel's job workflow (workflows/imagine.ts) with Easel taken out.
 * The same activity calls in the same order, with the same options — one regular activity
 * (generate) and then one local activity (settle) — each returning at once. (Easel's API
 * reserves the credits before it starts the workflow: that is Easel's work, so it has no
 * counterpart here.)
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { BaselineActivities, BaselineInput } from './baseline-activities';

const { settle } = proxyLocalActivities<BaselineActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '10 seconds' },
});

const { generate } = proxyActivities<BaselineActivities>({
  startToCloseTimeout: '15 minutes',
  heartbeatTimeout: '10 seconds',
  retry: { initialInterval: '1 second', maximumInterval: '30 seconds', maximumAttempts: 5 },
});

export async function baselineJobWorkflow(input: BaselineInput): Promise<string> {
  await generate(input);
  await settle(input);
  return 'succeeded';
}

import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';

/**
 * Runs recorded histories against the current workflow code: a change that would make a running
 * job's workflow take a different path fails here (DeterminismViolationError) instead of in
 * production. Histories are recorded by `npx tsx test/record-histories.ts`; the job histories
 * without a webhook date from before webhooks existed and must keep replaying.
 */
const dir = path.join(__dirname, '..', 'histories');
const HISTORIES = [
  'imagine-succeeded',
  'imagine-failed',
  'imagine-canceled',
  'imagine-with-webhook',
  'webhook-delivered',
];

describe('workflow replay', () => {
  for (const name of HISTORIES) {
    it(`replays the recorded ${name} history`, async () => {
      const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')));
      await expect(
        Worker.runReplayHistory(
          { workflowsPath: require.resolve('../../workflows'), replayName: name },
          history,
        ),
      ).resolves.toBeUndefined();
    });
  }
});

import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';

/**
 * Runs recorded job histories against the current workflow code: a change that would make a
 * running job's workflow take a different path fails here (DeterminismViolationError) instead of
 * in production. Histories are recorded by `npx tsx test/record-histories.ts`.
 */
const dir = path.join(__dirname, '..', 'histories');

describe('imagine job workflow replay', () => {
  for (const name of ['succeeded', 'failed', 'canceled']) {
    it(`replays the recorded ${name} job`, async () => {
      const history = historyFromJSON(
        JSON.parse(fs.readFileSync(path.join(dir, `imagine-${name}.json`), 'utf8')),
      );
      await expect(
        Worker.runReplayHistory(
          { workflowsPath: require.resolve('../../workflows'), replayName: `imagine-${name}` },
          history,
        ),
      ).resolves.toBeUndefined();
    });
  }
});

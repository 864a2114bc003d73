import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';

/**
 * Runs recorded histories against the current workflow code: a change that would make a running
 * job's workflow take a different path fails here (DeterminismViolationError) instead of in
 * production. Histories are recorded by `npx tsx test/record-histories.ts <label>`, one set per
 * workflow change; every set ever recorded must keep replaying (the first jobs' histories date
 * from before webhooks existed).
 */
const dir = path.join(__dirname, '..', 'histories');
const HISTORIES = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => f.replace(/\.json$/, ''))
  .sort();

describe('workflow replay', () => {
  it('has histories to replay', () => {
    expect(HISTORIES.length).toBeGreaterThanOrEqual(5);
  });
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

import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, makeTelemetryFilterString, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { encryptingDataConverter } from '../../platform/temporal';
import { testPayloadCodec } from '../support/secrets';

/**
 * Runs recorded histories against the current workflow code: a change that would make a running
 * job's workflow take a different path fails here (DeterminismViolationError) instead of in
 * production. Histories are recorded by `npx tsx test/record-histories.ts <label>`. Before a
 * release, a workflow change re-records them; once workflows run in production, every recorded
 * set must keep replaying, and a change records a new set beside the old ones (with `patched()`
 * in the workflow for the jobs still running the old code). Histories carry their payloads encrypted
 * under the tests' key, which the replay decodes with.
 */
// Each replay bundles the workflows and runs a worker, whose bundle statistics and state changes
// the SDK logs at INFO, and the deliberately changed workflow makes the core warn of the
// nondeterminism the test expects. Only warnings of the SDK and errors of the core are shown; a
// replay that fails unexpectedly still fails its test with the error.
Runtime.install({
  logger: new DefaultLogger('WARN'),
  telemetryOptions: {
    logging: { filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }), forward: {} },
  },
});

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

  it('fails on a workflow that takes a step the recorded history did not', async () => {
    const name = HISTORIES.find((h) => h.startsWith('imagine-succeeded'))!;
    const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')));
    await expect(
      Worker.runReplayHistory(
        {
          workflowsPath: require.resolve('./fixtures/changed-workflow'),
          replayName: name,
          dataConverter: encryptingDataConverter(testPayloadCodec()),
        },
        history,
      ),
    ).rejects.toThrow(DeterminismViolationError);
  });
  for (const name of HISTORIES) {
    it(`replays the recorded ${name} history`, async () => {
      const history = historyFromJSON(JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')));
      await expect(
        Worker.runReplayHistory(
          {
            workflowsPath: require.resolve('../../workflows'),
            replayName: name,
            dataConverter: encryptingDataConverter(testPayloadCodec()),
          },
          history,
        ),
      ).resolves.toBeUndefined();
    });
  }
});

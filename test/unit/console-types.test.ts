import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const GENERATOR = path.resolve(__dirname, '../../infra/console/api-types.ts');

describe("the console's API types", () => {
  // In a child process: the generator's dependencies are ES modules, which Jest cannot require.
  it('are the ones the OpenAPI document gives today (run `npm run console:types` after changing it)', async () => {
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', GENERATOR, '--check'], {
      cwd: path.resolve(__dirname, '../..'),
    });
    await expect(run).resolves.toMatchObject({ stderr: '' });
  }, 60_000);
});

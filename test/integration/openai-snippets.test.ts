import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { PNG } from 'pngjs';
import { pythonWithOpenai } from '../support/python-openai';
import { startTestEasel, type TestEasel } from '../support/easel';
import { sandboxProviders, writeConfig } from '../support/config';

const execFileAsync = promisify(execFile);
const REPO = path.resolve(__dirname, '..', '..');

/** The code block that follows `<!-- snippet: NAME … -->` in the README. */
function readmeSnippet(name: string): string {
  const readme = fs.readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const match = new RegExp(`<!-- snippet: ${name}\\b[^>]*-->\\s*\`\`\`\\w+\\n([\\s\\S]*?)\`\`\``).exec(
    readme,
  );
  if (!match) throw new Error(`README has no snippet "${name}"`);
  return match[1]!;
}

/**
 * The README's OpenAI-client snippets, run as they are printed with the official Python and Node
 * clients against Easel: each writes lighthouse.png, a real landscape image.
 */
describe('the README’s OpenAI-compatible snippets', () => {
  let easel: TestEasel;
  let env: NodeJS.ProcessEnv;
  // Inside the repo, so that the Node snippet's `import 'openai'` finds node_modules.
  const dir = fs.mkdtempSync(path.join(REPO, '.cache', 'snippets-'));

  beforeAll(async () => {
    easel = await startTestEasel({
      env: { EASEL_CONFIG: writeConfig({ providers: sandboxProviders({ latency_ms: 50 }) }) },
    });
    const { key } = await easel.newAccount('pro');
    env = { ...process.env, OPENAI_BASE_URL: `${easel.baseUrl}/v1`, OPENAI_API_KEY: key };
  }, 360_000);
  afterAll(async () => {
    await easel?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const landscape = (): void => {
    const png = PNG.sync.read(fs.readFileSync(path.join(dir, 'lighthouse.png')));
    expect(png.width).toBeGreaterThan(png.height);
    fs.rmSync(path.join(dir, 'lighthouse.png'));
  };

  it('runs the Python snippet with the official openai package', async () => {
    const python = await pythonWithOpenai();
    fs.writeFileSync(path.join(dir, 'snippet.py'), readmeSnippet('openai-python'));
    await execFileAsync(python, ['snippet.py'], { cwd: dir, env, timeout: 60_000 });
    landscape();
  }, 360_000);

  it('runs the Node snippet with the official openai package', async () => {
    fs.writeFileSync(path.join(dir, 'snippet.mjs'), readmeSnippet('openai-node'));
    await execFileAsync(process.execPath, ['snippet.mjs'], { cwd: dir, env, timeout: 60_000 });
    landscape();
  });
});

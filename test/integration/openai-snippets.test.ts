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
    const { id, key } = await easel.newAccount('pro');
    // The Python client test sends a dozen requests back to back, faster than pro's 5 a second.
    await easel.admin('PATCH', `/accounts/${id}`, { rate_limits: { requests_per_second: 100 } });
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

  it('generates (default, url, n=2, each gpt-image-1 size), streams and lists models with the Python client', async () => {
    const python = await pythonWithOpenai();
    fs.writeFileSync(
      path.join(dir, 'client.py'),
      `import base64, json, struct
from openai import OpenAI

client = OpenAI(max_retries=0)
out = {}
r = client.images.generate(model="gpt-image-1", prompt="default")
out["default"] = {"b64": r.data[0].b64_json is not None, "url": r.data[0].url}
out["url"] = client.images.generate(model="gpt-image-1", prompt="url", response_format="url").data[0].url
out["n2"] = len(client.images.generate(model="gpt-image-1", prompt="two", n=2).data)
out["sizes"] = {}
for size in ["1024x1024", "1536x1024", "1024x1536", "auto"]:
    png = base64.b64decode(client.images.generate(model="gpt-image-1", prompt=size, size=size).data[0].b64_json)
    out["sizes"][size] = list(struct.unpack(">II", png[16:24]))
out["stream"] = [e.type for e in client.images.generate(model="gpt-image-1", prompt="stream", stream=True)]
out["models"] = [m.id for m in client.models.list()]
out["owned_by"] = client.models.retrieve("gpt-image-1").owned_by
print(json.dumps(out))
`,
    );
    const { stdout } = await execFileAsync(python, ['client.py'], { cwd: dir, env, timeout: 120_000 });
    const out = JSON.parse(stdout) as {
      default: { b64: boolean; url: string | null };
      url: string;
      n2: number;
      sizes: Record<string, [number, number]>;
      stream: string[];
      models: string[];
      owned_by: string;
    };
    expect(out.default).toEqual({ b64: true, url: null });
    expect(out.url).toMatch(/\/images\/.+signature=/);
    expect(out.n2).toBe(2);
    const shape = ([w, h]: [number, number]): number => Math.sign(w - h);
    expect(Object.fromEntries(Object.entries(out.sizes).map(([size, wh]) => [size, shape(wh)]))).toEqual({
      '1024x1024': 0,
      '1536x1024': 1,
      '1024x1536': -1,
      auto: 0,
    });
    expect(out.stream).toEqual(['image_generation.completed']);
    expect(out.models).toContain('gpt-image-1');
    expect(out.owned_by).toBe('easel');
  }, 360_000);

  it('runs the Node snippet with the official openai package', async () => {
    fs.writeFileSync(path.join(dir, 'snippet.mjs'), readmeSnippet('openai-node'));
    await execFileAsync(process.execPath, ['snippet.mjs'], { cwd: dir, env, timeout: 60_000 });
    landscape();
  });
});

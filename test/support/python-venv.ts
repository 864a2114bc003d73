import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

const CACHE = path.resolve(__dirname, '..', '..', '.cache');

/**
 * A Python virtualenv under .cache with pinned packages from PyPI, made on first use and kept
 * (a stamp file names what it holds): the path of its `bin` folder.
 */
export async function pythonVenv(name: string, packages: readonly string[]): Promise<string> {
  const venv = path.join(CACHE, name);
  const bin = path.join(venv, 'bin');
  const stamp = path.join(venv, `installed-${packages.join('+').replace(/[^\w.=+-]/g, '_')}`);
  if (fs.existsSync(stamp)) return bin;
  await execFileAsync('python3', ['-m', 'venv', '--clear', venv]);
  await execFileAsync(
    path.join(bin, 'python'),
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...packages],
    { timeout: 600_000 },
  );
  fs.writeFileSync(stamp, '');
  return bin;
}

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** The official Python client the OpenAI-compatibility tests run, pinned. */
export const PYTHON_OPENAI_VERSION = '3.57.0';

const VENV = path.resolve(__dirname, '..', '..', '.cache', 'python-openai');

/**
 * A Python with the official `openai` package (a virtualenv under .cache, made from PyPI on first
 * use and kept): the path of its interpreter.
 */
export async function pythonWithOpenai(): Promise<string> {
  const python = path.join(VENV, 'bin', 'python');
  const stamp = path.join(VENV, `openai-${PYTHON_OPENAI_VERSION}`);
  if (fs.existsSync(stamp)) return python;
  await execFileAsync('python3', ['-m', 'venv', '--clear', VENV]);
  await execFileAsync(
    python,
    ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', `openai==${PYTHON_OPENAI_VERSION}`],
    {
      timeout: 300_000,
    },
  );
  fs.writeFileSync(stamp, '');
  return python;
}

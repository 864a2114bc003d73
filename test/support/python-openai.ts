import path from 'node:path';
import { pythonVenv } from './python-venv';

/** The official Python client the OpenAI-compatibility tests run, pinned. */
export const PYTHON_OPENAI_VERSION = '3.57.0';

/** A Python with the official `openai` package: the path of its interpreter. */
export async function pythonWithOpenai(): Promise<string> {
  return path.join(await pythonVenv('python-openai', [`openai==${PYTHON_OPENAI_VERSION}`]), 'python');
}

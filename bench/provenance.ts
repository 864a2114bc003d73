/** What a result was measured on: the machine and the commit. */
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { REPO_ROOT } from '../infra/devstack/devstack';
import { round } from './stats';

export interface Machine {
  cpus: number;
  cpu_model: string;
  total_mem_gb: number;
  node: string;
  platform: string;
}

export function describeMachine(): Machine {
  return {
    cpus: os.cpus().length,
    cpu_model: os.cpus()[0]?.model.trim() ?? 'unknown',
    total_mem_gb: round(os.totalmem() / 1024 ** 3),
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  };
}

/** The code measured: the commit, and whether tracked files (outside bench/ and docs/) differed from it. */
export interface CodeVersion {
  commit: string | null;
  dirty: boolean | null;
  /** Set when HEAD moved while the run went on (processes started later ran newer code). */
  commit_at_end?: string | null;
}

export function describeCode(): CodeVersion {
  const git = (...args: string[]): string | null => {
    try {
      return execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    } catch {
      return null;
    }
  };
  // The benchmark and its notes change with the figures; the code measured is everything else.
  const status = git('status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench', ':!docs');
  return { commit: git('rev-parse', '--short', 'HEAD'), dirty: status === null ? null : status !== '' };
}
